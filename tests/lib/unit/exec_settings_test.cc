#include "lib/unit/exec_settings.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <linux/capability.h>

#include <string>

#include "lib/unit/unit_loader.h"
#include "lib/unit/unit_syntax.h"

namespace supd {
namespace {

using testing::ElementsAre;
using testing::IsEmpty;

constexpr uint64_t kInf = RLIM_INFINITY;

ResourceLimit Limit(int resource, const std::string& text) {
  auto r = ParseResourceLimit(resource, text);
  EXPECT_TRUE(r.ok()) << text << ": " << (r.ok() ? "" : r.error().message);
  return r.ok() ? *r : ResourceLimit{12345, 12345};
}

std::string LimitErr(int resource, const std::string& text) {
  auto r = ParseResourceLimit(resource, text);
  EXPECT_FALSE(r.ok()) << text;
  return r.ok() ? "" : r.error().message;
}

TEST(ResourceLimits, CountsSoftHardAndInfinity) {
  EXPECT_EQ((ResourceLimit{65536, 65536}), Limit(RLIMIT_NOFILE, "65536"));
  EXPECT_EQ((ResourceLimit{1024, 524288}), Limit(RLIMIT_NOFILE, "1024:524288"));
  EXPECT_EQ((ResourceLimit{kInf, kInf}), Limit(RLIMIT_NPROC, "infinity"));
  EXPECT_EQ((ResourceLimit{10, kInf}), Limit(RLIMIT_NPROC, "10:infinity"));
  EXPECT_EQ((ResourceLimit{0, 0}), Limit(RLIMIT_CORE, "0"));
  EXPECT_EQ("soft limit above hard limit", LimitErr(RLIMIT_NOFILE, "100:10"));
  EXPECT_EQ("soft limit above hard limit", LimitErr(RLIMIT_NOFILE, "infinity:10"));
  EXPECT_EQ("not a number", LimitErr(RLIMIT_NOFILE, "lots"));
  EXPECT_EQ("not a number", LimitErr(RLIMIT_NOFILE, ""));
  EXPECT_EQ("not a number", LimitErr(RLIMIT_NOFILE, "-1"));
  EXPECT_EQ("not a number", LimitErr(RLIMIT_NOFILE, ":10"));
  EXPECT_EQ("not a number", LimitErr(RLIMIT_NOFILE, "10:"));
  EXPECT_EQ("not a number", LimitErr(RLIMIT_NOFILE, "1K"));  // no suffixes for counts
  EXPECT_EQ("more than one ':'", LimitErr(RLIMIT_NOFILE, "1:2:3"));
  EXPECT_EQ("value too large", LimitErr(RLIMIT_NOFILE, "18446744073709551615"));
  EXPECT_EQ("value too large", LimitErr(RLIMIT_NOFILE, "99999999999999999999"));
}

TEST(ResourceLimits, Sizes) {
  EXPECT_EQ((ResourceLimit{8u << 20, 8u << 20}), Limit(RLIMIT_STACK, "8M"));
  EXPECT_EQ((ResourceLimit{1ULL << 30, 4ULL << 30}), Limit(RLIMIT_AS, "1G:4G"));
  EXPECT_EQ((ResourceLimit{64 * 1024, kInf}), Limit(RLIMIT_MEMLOCK, "64K:infinity"));
  EXPECT_EQ((ResourceLimit{1536ULL << 20, 1536ULL << 20}), Limit(RLIMIT_DATA, "1.5G"));
  EXPECT_EQ("not a size", LimitErr(RLIMIT_FSIZE, "8X"));
  EXPECT_EQ("not a size", LimitErr(RLIMIT_FSIZE, "8m"));
  EXPECT_EQ("value too large", LimitErr(RLIMIT_FSIZE, "16E"));
}

TEST(ResourceLimits, SizeSyntax) {
  EXPECT_EQ(512u, *ParseSize1024("512"));
  EXPECT_EQ(512u, *ParseSize1024("512B"));
  EXPECT_EQ(1024u, *ParseSize1024("1K"));
  EXPECT_EQ(8u << 20, *ParseSize1024("8 M"));
  EXPECT_EQ((1ULL << 30) + (512ULL << 20), *ParseSize1024("1G 512M"));
  EXPECT_EQ(1ULL << 40, *ParseSize1024("1T"));
  EXPECT_EQ(1ULL << 50, *ParseSize1024("1P"));
  EXPECT_EQ(1ULL << 60, *ParseSize1024("1E"));
  EXPECT_EQ(10u << 20, *ParseSize1024("10.M"));
  EXPECT_EQ(1536u, *ParseSize1024("1.5K"));
  EXPECT_FALSE(ParseSize1024(".5K").ok());  // systemd needs a digit first
  EXPECT_FALSE(ParseSize1024("").ok());
  EXPECT_FALSE(ParseSize1024("1M 1G").ok());  // larger after smaller
  EXPECT_FALSE(ParseSize1024("1K 1K").ok());
  EXPECT_FALSE(ParseSize1024("-1").ok());
  EXPECT_FALSE(ParseSize1024("+1").ok());
  EXPECT_FALSE(ParseSize1024("1 2").ok());
}

TEST(ResourceLimits, CpuSecondsAndRttimeMicroseconds) {
  EXPECT_EQ((ResourceLimit{30, 30}), Limit(RLIMIT_CPU, "30"));
  EXPECT_EQ((ResourceLimit{90, 120}), Limit(RLIMIT_CPU, "1min 30s:2min"));
  EXPECT_EQ((ResourceLimit{1, 1}), Limit(RLIMIT_CPU, "500ms"));  // rounded up
  EXPECT_EQ((ResourceLimit{kInf, kInf}), Limit(RLIMIT_CPU, "infinity"));
  EXPECT_EQ((ResourceLimit{500, 500}), Limit(RLIMIT_RTTIME, "500"));
  EXPECT_EQ((ResourceLimit{200000, 1000000}), Limit(RLIMIT_RTTIME, "200ms:1s"));
  EXPECT_EQ((ResourceLimit{1000500, 1000500}), Limit(RLIMIT_RTTIME, "1s 500"));
  EXPECT_EQ("not a time span", LimitErr(RLIMIT_CPU, "soon"));
  EXPECT_EQ("not a time span", LimitErr(RLIMIT_RTTIME, "-5"));
}

TEST(ResourceLimits, NiceLevelsAndRawValues) {
  EXPECT_EQ((ResourceLimit{20, 20}), Limit(RLIMIT_NICE, "+0"));
  EXPECT_EQ((ResourceLimit{1, 1}), Limit(RLIMIT_NICE, "+19"));
  EXPECT_EQ((ResourceLimit{30, 30}), Limit(RLIMIT_NICE, "-10"));
  EXPECT_EQ((ResourceLimit{40, 40}), Limit(RLIMIT_NICE, "-20"));
  EXPECT_EQ((ResourceLimit{0, 40}), Limit(RLIMIT_NICE, "0:40"));
  EXPECT_EQ((ResourceLimit{kInf, kInf}), Limit(RLIMIT_NICE, "infinity"));
  EXPECT_EQ("nice level out of range (-20..19)", LimitErr(RLIMIT_NICE, "+20"));
  EXPECT_EQ("nice level out of range (-20..19)", LimitErr(RLIMIT_NICE, "-21"));
  EXPECT_EQ("raw value out of range (0..40)", LimitErr(RLIMIT_NICE, "41"));
}

TEST(ResourceLimits, DirectivesAndFormatting) {
  EXPECT_EQ("LimitNOFILE", ResourceLimitDirective(RLIMIT_NOFILE));
  EXPECT_EQ("LimitRTTIME", ResourceLimitDirective(RLIMIT_RTTIME));
  EXPECT_EQ("", ResourceLimitDirective(99));
  EXPECT_EQ("1024", FormatResourceLimit({1024, 1024}));
  EXPECT_EQ("1024:4096", FormatResourceLimit({1024, 4096}));
  EXPECT_EQ("0:infinity", FormatResourceLimit({0, kInf}));
  EXPECT_EQ("infinity", FormatResourceLimit({kInf, kInf}));
}

// The directives as they arrive from a unit file.
class ExecSettingsTest : public testing::Test {
 protected:
  Result<void> Apply(const std::string& key, const std::string& value) {
    UnitAssignment a{"Service", key, value, "u.service", ++line_};
    return ApplyExecSetting(
        a,
        [](const std::string& w) -> Result<std::string> {
          if (w == "%g") return std::string("wheel");
          if (w.find('%') != std::string::npos) return Error{"unknown specifier"};
          return w;
        },
        &s_);
  }
  std::string Err(const std::string& key, const std::string& value) {
    auto r = Apply(key, value);
    EXPECT_FALSE(r.ok()) << key << "=" << value;
    return r.ok() ? "" : r.error().message;
  }
  void Ok(const std::string& key, const std::string& value) {
    auto r = Apply(key, value);
    EXPECT_TRUE(r.ok()) << key << "=" << value << ": " << (r.ok() ? "" : r.error().message);
  }
  static CapabilitySet Caps(std::initializer_list<int> caps) {
    CapabilitySet s = 0;
    for (int c : caps) s |= CapabilitySet{1} << c;
    return s;
  }

  ExecSettings s_;
  int line_ = 0;
};

TEST_F(ExecSettingsTest, Defaults) {
  for (const auto& l : s_.limits) EXPECT_FALSE(l.has_value());
  EXPECT_EQ(0022u, s_.umask);
  EXPECT_FALSE(s_.nice.has_value());
  EXPECT_FALSE(s_.oom_score_adjust.has_value());
  EXPECT_EQ(kAllCapabilities, s_.capability_bounding_set);
  EXPECT_EQ(0u, s_.ambient_capabilities);
  EXPECT_FALSE(s_.no_new_privileges);
  EXPECT_THAT(s_.supplementary_groups, IsEmpty());
}

TEST_F(ExecSettingsTest, EveryKeyIsHandled) {
  EXPECT_EQ(23u, ExecSettingKeys().size());
  for (std::string_view key : ExecSettingKeys()) {
    auto r = Apply(std::string(key), "0");
    // "0" is valid for every one of them (for the capability lists it is CAP_CHOWN's number).
    EXPECT_TRUE(r.ok()) << key << ": " << (r.ok() ? "" : r.error().message);
  }
}

TEST_F(ExecSettingsTest, Limits) {
  Ok("LimitNOFILE", "4096:8192");
  Ok("LimitCORE", "infinity");
  Ok("LimitNOFILE", "2048");  // a later line replaces
  EXPECT_EQ((ResourceLimit{2048, 2048}), s_.limits[RLIMIT_NOFILE]);
  EXPECT_EQ((ResourceLimit{kInf, kInf}), s_.limits[RLIMIT_CORE]);
  EXPECT_EQ("u.service:4: Invalid LimitNOFILE= value '8192:4096': soft limit above hard limit",
            Err("LimitNOFILE", "8192:4096"));
  EXPECT_EQ("u.service:5: Invalid LimitSTACK= value '8Q': not a size", Err("LimitSTACK", "8Q"));
  EXPECT_EQ("u.service:6: Invalid LimitNOFILE= value '': not a number", Err("LimitNOFILE", ""));
  EXPECT_EQ((ResourceLimit{2048, 2048}), s_.limits[RLIMIT_NOFILE]) << "an error changes nothing";
}

TEST_F(ExecSettingsTest, SupplementaryGroupsAccumulateAndReset) {
  Ok("SupplementaryGroups", "adm audio");
  Ok("SupplementaryGroups", "\"video\" 44 %g");
  EXPECT_THAT(s_.supplementary_groups, ElementsAre("adm", "audio", "video", "44", "wheel"));
  Ok("SupplementaryGroups", "");
  EXPECT_THAT(s_.supplementary_groups, IsEmpty());
  Ok("SupplementaryGroups", "adm");
  EXPECT_EQ("u.service:5: Invalid group name 'a:b' in SupplementaryGroups=: contains ':' or '/'",
            Err("SupplementaryGroups", "video a:b"));
  EXPECT_EQ("u.service:6: Failed to resolve specifiers in SupplementaryGroups=: unknown specifier",
            Err("SupplementaryGroups", "%Z"));
  EXPECT_THAT(s_.supplementary_groups, ElementsAre("adm")) << "an error changes nothing";
}

TEST_F(ExecSettingsTest, UMask) {
  Ok("UMask", "0027");
  EXPECT_EQ(0027u, s_.umask);
  Ok("UMask", "77");
  EXPECT_EQ(077u, s_.umask);
  EXPECT_EQ("u.service:3: Invalid UMask= value '0999'", Err("UMask", "0999"));
  EXPECT_EQ("u.service:4: Invalid UMask= value '17777'", Err("UMask", "17777"));
  EXPECT_EQ("u.service:5: Invalid UMask= value ''", Err("UMask", ""));
  EXPECT_EQ("u.service:6: Invalid UMask= value 'u=rwx'", Err("UMask", "u=rwx"));
  EXPECT_EQ(077u, s_.umask);
}

TEST_F(ExecSettingsTest, NiceAndOomScoreAdjust) {
  Ok("Nice", "-5");
  Ok("OOMScoreAdjust", "-1000");
  EXPECT_EQ(-5, s_.nice);
  EXPECT_EQ(-1000, s_.oom_score_adjust);
  Ok("Nice", "+19");
  Ok("OOMScoreAdjust", "1000");
  EXPECT_EQ(19, s_.nice);
  EXPECT_EQ(1000, s_.oom_score_adjust);
  EXPECT_EQ("u.service:5: Invalid Nice= value '20': must be between -20 and 19", Err("Nice", "20"));
  EXPECT_EQ("u.service:6: Invalid Nice= value 'low': must be between -20 and 19",
            Err("Nice", "low"));
  EXPECT_EQ("u.service:7: Invalid OOMScoreAdjust= value '-1001': must be between -1000 and 1000",
            Err("OOMScoreAdjust", "-1001"));
  EXPECT_EQ(19, s_.nice);
  Ok("Nice", "");
  Ok("OOMScoreAdjust", "");
  EXPECT_FALSE(s_.nice.has_value());
  EXPECT_FALSE(s_.oom_score_adjust.has_value());
}

TEST_F(ExecSettingsTest, CapabilityBoundingSetCombinesLikeSystemd) {
  Ok("CapabilityBoundingSet", "CAP_NET_BIND_SERVICE CAP_CHOWN");
  EXPECT_EQ(Caps({CAP_NET_BIND_SERVICE, CAP_CHOWN}), s_.capability_bounding_set);
  Ok("CapabilityBoundingSet", "cap_kill");  // merges
  EXPECT_EQ(Caps({CAP_NET_BIND_SERVICE, CAP_CHOWN, CAP_KILL}), s_.capability_bounding_set);
  Ok("CapabilityBoundingSet", "~CAP_CHOWN");  // removes from what is there
  EXPECT_EQ(Caps({CAP_NET_BIND_SERVICE, CAP_KILL}), s_.capability_bounding_set);
  Ok("CapabilityBoundingSet", "");  // the empty set: drop everything
  EXPECT_EQ(0u, s_.capability_bounding_set);
  Ok("CapabilityBoundingSet", "~");  // everything
  EXPECT_EQ(kAllCapabilities, s_.capability_bounding_set);
  Ok("CapabilityBoundingSet", "~CAP_SYS_ADMIN CAP_SYS_PTRACE");  // from the initial set: replaces
  EXPECT_EQ(~Caps({CAP_SYS_ADMIN, CAP_SYS_PTRACE}), s_.capability_bounding_set);
  Ok("CapabilityBoundingSet", "~CAP_NET_RAW");
  EXPECT_EQ(~Caps({CAP_SYS_ADMIN, CAP_SYS_PTRACE, CAP_NET_RAW}), s_.capability_bounding_set);
  EXPECT_EQ("u.service:8: Unknown capability 'CAP_NOPE' in CapabilityBoundingSet=",
            Err("CapabilityBoundingSet", "CAP_CHOWN CAP_NOPE"));
  EXPECT_EQ(~Caps({CAP_SYS_ADMIN, CAP_SYS_PTRACE, CAP_NET_RAW}), s_.capability_bounding_set);
}

TEST_F(ExecSettingsTest, AmbientCapabilities) {
  Ok("AmbientCapabilities", "CAP_NET_BIND_SERVICE");
  Ok("AmbientCapabilities", "CAP_NET_RAW");
  EXPECT_EQ(Caps({CAP_NET_BIND_SERVICE, CAP_NET_RAW}), s_.ambient_capabilities);
  Ok("AmbientCapabilities", "~CAP_NET_RAW");
  EXPECT_EQ(Caps({CAP_NET_BIND_SERVICE}), s_.ambient_capabilities);
  Ok("AmbientCapabilities", "");
  EXPECT_EQ(0u, s_.ambient_capabilities);
  EXPECT_EQ("u.service:5: Unknown capability 'NET_ADMIN' in AmbientCapabilities=",
            Err("AmbientCapabilities", "NET_ADMIN"));
}

TEST_F(ExecSettingsTest, NoNewPrivileges) {
  Ok("NoNewPrivileges", "yes");
  EXPECT_TRUE(s_.no_new_privileges);
  Ok("NoNewPrivileges", "false");
  EXPECT_FALSE(s_.no_new_privileges);
  EXPECT_EQ("u.service:3: Invalid NoNewPrivileges= value 'perhaps'",
            Err("NoNewPrivileges", "perhaps"));
}

TEST(ExecSettingsInUnit, LoadedIntoServiceSpecWithoutWarnings) {
  SpecifierContext ctx;
  ctx.hostname = "box";
  auto r = ParseServiceText(R"([Service]
ExecStart=/bin/web
User=nobody
LimitNOFILE=65536
LimitCORE=0:infinity
SupplementaryGroups=adm
UMask=0077
Nice=5
OOMScoreAdjust=-100
CapabilityBoundingSet=CAP_NET_BIND_SERVICE
AmbientCapabilities=CAP_NET_BIND_SERVICE
NoNewPrivileges=yes
)",
                            "units/web.service", "web.service", ctx);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_THAT(r->warnings, IsEmpty());
  const ExecSettings& e = r->exec;
  EXPECT_EQ((ResourceLimit{65536, 65536}), e.limits[RLIMIT_NOFILE]);
  EXPECT_EQ((ResourceLimit{0, kInf}), e.limits[RLIMIT_CORE]);
  EXPECT_THAT(e.supplementary_groups, ElementsAre("adm"));
  EXPECT_EQ(0077u, e.umask);
  EXPECT_EQ(5, e.nice);
  EXPECT_EQ(-100, e.oom_score_adjust);
  EXPECT_EQ(CapabilitySet{1} << CAP_NET_BIND_SERVICE, e.capability_bounding_set);
  EXPECT_EQ(CapabilitySet{1} << CAP_NET_BIND_SERVICE, e.ambient_capabilities);
  EXPECT_TRUE(e.no_new_privileges);

  auto bad = ParseServiceText("[Service]\nExecStart=/bin/web\nLimitNOFILE=many\n",
                              "units/web.service", "web.service", ctx);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ("units/web.service:3: Invalid LimitNOFILE= value 'many': not a number",
            bad.error().message);
}

}  // namespace
}  // namespace supd
