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
