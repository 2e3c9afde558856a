#include "lib/control/log_output.h"

#include <gtest/gtest.h>

#include "tests/lib/control/time_zone.h"

namespace supd::control {
namespace {

class LogOutputTest : public ::testing::Test {
 protected:
  testing::ScopedTimeZone zone_{"UTC"};
  const nlohmann::json record_ = {{"service", "web.service"},
                                  {"time", "2026-12-03T21:05:09.012345Z"},
                                  {"pid", 1234},
                                  {"stream", "err"},
                                  {"continued", false},
                                  {"text", "listening on :8080"}};
};

TEST_F(LogOutputTest, ParsesJournalctlsModeNames) {
  EXPECT_EQ(LogOutput::kShort, ParseLogOutput("short"));
  EXPECT_EQ(LogOutput::kShortIso, ParseLogOutput("short-iso"));
  EXPECT_EQ(LogOutput::kShortPrecise, ParseLogOutput("short-precise"));
  EXPECT_EQ(LogOutput::kCat, ParseLogOutput("cat"));
  EXPECT_EQ(LogOutput::kJson, ParseLogOutput("json"));
  EXPECT_EQ(LogOutput::kJsonPretty, ParseLogOutput("json-pretty"));
  EXPECT_EQ(std::nullopt, ParseLogOutput("verbose"));
  EXPECT_EQ(std::nullopt, ParseLogOutput(""));
  EXPECT_EQ("short, short-iso, short-precise, cat, json, json-pretty", LogOutputNames());
}

TEST_F(LogOutputTest, ShortModesAreJournalctlsLines) {
  EXPECT_EQ("Dec 03 21:05:09 host1 web[1234]: listening on :8080",
            FormatLogRecord(record_, LogOutput::kShort, "host1"));
  EXPECT_EQ("Dec 03 21:05:09.012345 host1 web[1234]: listening on :8080",
            FormatLogRecord(record_, LogOutput::kShortPrecise, "host1"));
  EXPECT_EQ("2026-12-03T21:05:09+00:00 host1 web[1234]: listening on :8080",
            FormatLogRecord(record_, LogOutput::kShortIso, "host1"));
  EXPECT_EQ("listening on :8080", FormatLogRecord(record_, LogOutput::kCat, "host1"));
}

TEST_F(LogOutputTest, TimesAreLocal) {
  zone_.Set("CET-1CEST,M3.5.0,M10.5.0/3");
  EXPECT_EQ("Dec 03 22:05:09 h web[1234]: listening on :8080",
            FormatLogRecord(record_, LogOutput::kShort, "h"));
  EXPECT_EQ("2026-12-03T22:05:09+01:00 h web[1234]: listening on :8080",
            FormatLogRecord(record_, LogOutput::kShortIso, "h"));
}

TEST_F(LogOutputTest, JsonHasJournalFieldNamesAndStringValues) {
  const auto j = nlohmann::json::parse(FormatLogRecord(record_, LogOutput::kJson, "host1"));
  EXPECT_EQ(j, (nlohmann::json{{"__REALTIME_TIMESTAMP", "1796331909012345"},
                               {"_HOSTNAME", "host1"},
                               {"_PID", "1234"},
                               {"_SYSTEMD_UNIT", "web.service"},
                               {"SYSLOG_IDENTIFIER", "web"},
                               {"_TRANSPORT", "stdout"},
                               {"PRIORITY", "6"},
                               {"MESSAGE", "listening on :8080"},
                               {"SUPD_STREAM", "err"}}));
  EXPECT_EQ(std::string::npos, FormatLogRecord(record_, LogOutput::kJson, "h").find('\n'));
  auto continued = record_;
  continued["continued"] = true;
  EXPECT_EQ("1", nlohmann::json::parse(FormatLogRecord(continued, LogOutput::kJsonPretty, "h"))
                     .value("SUPD_CONTINUED", ""));
}

TEST_F(LogOutputTest, OddRecordsPrintWhatCame) {
  const nlohmann::json odd = {{"service", "x.service"}, {"time", "yesterday"}, {"pid", "no"}};
  EXPECT_EQ("yesterday h x[0]: ", FormatLogRecord(odd, LogOutput::kShort, "h"));
  EXPECT_EQ("", FormatLogRecord(odd, LogOutput::kCat, "h"));
  const auto j = nlohmann::json::parse(FormatLogRecord(odd, LogOutput::kJson, "h"));
  EXPECT_EQ("yesterday", j.value("__REALTIME_TIMESTAMP", ""));
}

}  // namespace
}  // namespace supd::control
