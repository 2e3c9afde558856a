#include "lib/unit/log_settings.h"

#include <gtest/gtest.h>

#include "lib/unit/unit_loader.h"

namespace supd {
namespace {

TEST(ParseByteSize, UnitsAndErrors) {
  EXPECT_EQ(1024u, *ParseByteSize("1024"));
  EXPECT_EQ(512u * 1024, *ParseByteSize("512K"));
  EXPECT_EQ(10u * 1024 * 1024, *ParseByteSize("10M"));
  EXPECT_EQ(1ull << 30, *ParseByteSize(" 1G "));
  EXPECT_EQ("'10X' is not a size (bytes, or with K, M, G, T)", ParseByteSize("10X").error().message);
  EXPECT_EQ("size must be at least 1 byte", ParseByteSize("0").error().message);
  EXPECT_FALSE(ParseByteSize("99999999999999T").ok());
}

TEST(LogSettings, XSupdSectionSetsRotationAndDefaultsAreDocumented) {
  SpecifierContext ctx;
  auto def = ParseServiceText("[Service]\nExecStart=/bin/true\n", "units/a.service", "a.service", ctx);
  ASSERT_TRUE(def.ok());
  EXPECT_EQ(10u * 1024 * 1024, def->log_max_bytes);
  EXPECT_EQ(5u, def->log_max_files);
  EXPECT_TRUE(def->warnings.empty());
  auto s = ParseServiceText("[Service]\nExecStart=/bin/true\n[X-Supd]\nLogMaxBytes=64K\nLogMaxFiles=3\n",
                            "units/a.service", "a.service", ctx);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(64u * 1024, s->log_max_bytes);
  EXPECT_EQ(3u, s->log_max_files);
  EXPECT_TRUE(s->warnings.empty());
  auto bad = ParseServiceText("[Service]\nExecStart=/bin/true\n[X-Supd]\nLogMaxFiles=0\n",
                              "units/a.service", "a.service", ctx);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ("units/a.service:4: LogMaxFiles=: '0' is not a number from 1 to 1000",
            bad.error().message);
}

}  // namespace
}  // namespace supd

namespace supd {
namespace {

TEST(OutputSettings, ValuesAndRefusals) {
  using Kind = ServiceSpec::Output::Kind;
  EXPECT_EQ(Kind::kJournal, ParseOutputSetting("journal+console")->kind);
  EXPECT_EQ(Kind::kJournal, ParseOutputSetting("kmsg")->kind);
  EXPECT_EQ(Kind::kNull, ParseOutputSetting("null")->kind);
  EXPECT_EQ(Kind::kInherit, ParseOutputSetting("inherit")->kind);
  auto a = ParseOutputSetting("append:/var/log/x.log");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(Kind::kAppend, a->kind);
  EXPECT_EQ("/var/log/x.log", a->path);
  EXPECT_TRUE(a->set);
  EXPECT_EQ("'file:x.log': the path must be absolute", ParseOutputSetting("file:x.log").error().message);
  EXPECT_EQ("'socket' is not supported by supd (use journal, file:, append:, truncate:, null or "
            "inherit)",
            ParseOutputSetting("socket").error().message);
  EXPECT_FALSE(ParseOutputSetting("fd:foo").ok());
  EXPECT_FALSE(ParseOutputSetting("tty").ok());
  EXPECT_EQ(3, *ParseSyslogLevel("err"));
  EXPECT_FALSE(ParseSyslogLevel("loud").ok());

  SpecifierContext ctx;
  auto s = ParseServiceText(
      "[Service]\nExecStart=/bin/true\nStandardOutput=truncate:/tmp/%n.out\nStandardError=null\n"
      "SyslogIdentifier=web\nSyslogLevel=warning\nSyslogLevelPrefix=no\n",
      "units/a.service", "a.service", ctx);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_TRUE(s->warnings.empty());
  EXPECT_EQ("/tmp/a.service.out", s->standard_output.path);
  EXPECT_EQ(Kind::kNull, s->standard_error.kind);
  auto bad = ParseServiceText("[Service]\nExecStart=/bin/true\nStandardError=socket\n",
                              "units/a.service", "a.service", ctx);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ("units/a.service:3: StandardError=: 'socket' is not supported by supd (use journal, "
            "file:, append:, truncate:, null or inherit)",
            bad.error().message);
}

}  // namespace
}  // namespace supd
