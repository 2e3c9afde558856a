#include "lib/unit/values.h"

#include <gtest/gtest.h>

#include <csignal>
#include <string>

#include "lib/unit/unit_loader.h"

namespace supd {
namespace {

using std::chrono::hours;
using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

struct TimeCase {
  std::string text;
  Usec want;
};

class TimeSpanGood : public testing::TestWithParam<TimeCase> {};

TEST_P(TimeSpanGood, Parses) {
  auto r = ParseTimeSpan(GetParam().text);
  ASSERT_TRUE(r.ok()) << GetParam().text << ": " << r.error().message;
  EXPECT_EQ(GetParam().want.count(), r->count()) << GetParam().text;
}

INSTANTIATE_TEST_SUITE_P(
    Values, TimeSpanGood,
    testing::Values(TimeCase{"90", seconds(90)}, TimeCase{"0", Usec(0)},
                    TimeCase{"500ms", milliseconds(500)}, TimeCase{"500 msec", milliseconds(500)},
                    TimeCase{"1min 30s", seconds(90)}, TimeCase{"1min30s", seconds(90)},
                    TimeCase{"1.5s", milliseconds(1500)}, TimeCase{".5s", milliseconds(500)},
                    TimeCase{"2h", hours(2)}, TimeCase{"2 hours", hours(2)},
                    TimeCase{"1hr", hours(1)}, TimeCase{"3d", hours(72)},
                    TimeCase{"1w", hours(24 * 7)}, TimeCase{"1 week", hours(24 * 7)},
                    TimeCase{"10us", microseconds(10)}, TimeCase{"10usec", microseconds(10)},
                    TimeCase{"1M", seconds(2629800)}, TimeCase{"1y", seconds(31557600)},
                    TimeCase{"5 5", seconds(10)}, TimeCase{"  7s  ", seconds(7)},
                    TimeCase{"2m", minutes(2)}, TimeCase{"1minute", minutes(1)},
                    TimeCase{"4seconds", seconds(4)}, TimeCase{"infinity", kInfinity},
                    TimeCase{" infinity ", kInfinity}, TimeCase{"0.25min", seconds(15)}));

class TimeSpanBad : public testing::TestWithParam<std::string> {};

TEST_P(TimeSpanBad, Fails) { EXPECT_FALSE(ParseTimeSpan(GetParam()).ok()) << GetParam(); }

INSTANTIATE_TEST_SUITE_P(Values, TimeSpanBad,
                         testing::Values("", "   ", "-1", "5 parsecs", "3.", "3.s", "1.2.3", "abc",
                                         "5sx", "infinity5", "1s -1s", "99999999999999999999",
                                         "999999999y"));

TEST(TimeSpan, ErrorMessageNamesTheText) {
  EXPECT_EQ("invalid time span '5 parsecs'", ParseTimeSpan("5 parsecs").error().message);
}

TEST(Boolean, AcceptsSystemdSpellings) {
  for (const char* t : {"1", "yes", "y", "true", "t", "on", "YES", "True", "ON"}) {
    auto r = ParseBoolean(t);
    ASSERT_TRUE(r.ok()) << t;
    EXPECT_TRUE(*r) << t;
  }
  for (const char* f : {"0", "no", "n", "false", "f", "off", "No", "OFF"}) {
    auto r = ParseBoolean(f);
    ASSERT_TRUE(r.ok()) << f;
    EXPECT_FALSE(*r) << f;
  }
  EXPECT_FALSE(ParseBoolean("").ok());
  EXPECT_FALSE(ParseBoolean("yess").ok());
  EXPECT_FALSE(ParseBoolean("2").ok());
}

TEST(Signal, NamesAndNumbers) {
  EXPECT_EQ(SIGTERM, *ParseSignal("SIGTERM"));
  EXPECT_EQ(SIGTERM, *ParseSignal("TERM"));
  EXPECT_EQ(SIGTERM, *ParseSignal("15"));
  EXPECT_EQ(SIGKILL, *ParseSignal("SIGKILL"));
  EXPECT_EQ(SIGHUP, *ParseSignal("HUP"));
  EXPECT_EQ(SIGINT, *ParseSignal("SIGINT"));
  EXPECT_EQ(SIGRTMIN + 2, *ParseSignal("SIGRTMIN+2"));
  EXPECT_EQ(SIGRTMAX, *ParseSignal("RTMAX"));
  EXPECT_FALSE(ParseSignal("").ok());
  EXPECT_FALSE(ParseSignal("0").ok());
  EXPECT_FALSE(ParseSignal("999").ok());
  // Narrowed to int before the range check, these were signals -1 and -9.
  EXPECT_EQ("invalid signal '4294967295'", ParseSignal("4294967295").error().message);
  EXPECT_EQ("invalid signal '4294967287'", ParseSignal("4294967287").error().message);
  EXPECT_EQ("invalid signal '2147483648'", ParseSignal("2147483648").error().message);
  EXPECT_FALSE(ParseSignal("SIGFOO").ok());
  EXPECT_FALSE(ParseSignal("sigterm").ok());
  EXPECT_EQ("invalid signal 'SIGFOO'", ParseSignal("SIGFOO").error().message);
  EXPECT_EQ("TERM", SignalName(SIGTERM));
}

TEST(ExitStatus, CodesNamesAndSignals) {
  ExitStatusSet set;
  for (const char* w : {"0", "2", "255", "FAILURE", "SIGKILL", "HUP"}) {
    ASSERT_TRUE(AddExitStatusWord(w, &set).ok()) << w;
  }
  EXPECT_EQ((std::set<int>{0, 1, 2, 255}), set.codes);
  EXPECT_EQ((std::set<int>{SIGKILL, SIGHUP}), set.signals);
  EXPECT_FALSE(AddExitStatusWord("256", &set).ok());
  EXPECT_FALSE(AddExitStatusWord("-1", &set).ok());
  EXPECT_FALSE(AddExitStatusWord("BOGUS", &set).ok());
}

TEST(Unsigned, Range) {
  EXPECT_EQ(5u, *ParseUnsigned("5"));
  EXPECT_EQ(4294967295u, *ParseUnsigned("4294967295"));
  EXPECT_FALSE(ParseUnsigned("4294967296").ok());
  EXPECT_FALSE(ParseUnsigned("").ok());
  EXPECT_FALSE(ParseUnsigned("-1").ok());
  EXPECT_FALSE(ParseUnsigned("1x").ok());
}

}  // namespace
}  // namespace supd
