#include "lib/control/resources_format.h"

#include <gtest/gtest.h>

namespace supd::control {
namespace {

TEST(ResourcesFormatTest, LimitsUsageAndGoRuntime) {
  const auto s = nlohmann::json::parse(R"({"resources": {
    "mode": "hybrid", "require_limits": false,
    "limits": [
      {"directive": "MemoryMax", "value": "64M", "enforced": true,
       "detail": "cgroup v1 memory.limit_in_bytes=67108864"},
      {"directive": "MemoryHigh", "value": "50M", "enforced": false,
       "detail": "cgroup v1 has no equivalent of memory.high"}],
    "stats": {"memory_current_bytes": 12897484, "memory_peak_bytes": 42048307,
              "cpu_usec": 1234000, "tasks": 7},
    "go_runtime": {"mode": "auto", "set_by_supd": {"GOMAXPROCS": "1"},
                   "from_unit": {"GOMEMLIMIT": "100MiB"}}}})");
  EXPECT_EQ(FormatResourceLines(s),
            "     Limits: MemoryMax=64M: enforced (cgroup v1 memory.limit_in_bytes=67108864)\n"
            "             MemoryHigh=50M: NOT enforced: cgroup v1 has no equivalent of "
            "memory.high\n"
            "     Memory: 12.3M (peak 40.1M)\n"
            "        CPU: 1.234s\n"
            "      Tasks: 7\n"
            " Go runtime: GOMAXPROCS=1 (set by supd, GoRuntime=auto); GOMEMLIMIT=100MiB (from "
            "the unit)\n");
}

TEST(ResourcesFormatTest, NothingToSay) {
  EXPECT_EQ(FormatResourceLines(nlohmann::json::object()), "");
  const auto s = nlohmann::json::parse(R"({"resources": {"limits": [],
    "stats": {"memory_current_bytes": null, "memory_peak_bytes": null, "cpu_usec": null,
              "tasks": null},
    "go_runtime": {"mode": "auto", "set_by_supd": {}, "from_unit": {}}}})");
  EXPECT_EQ(FormatResourceLines(s), "");
}

TEST(ResourcesFormatTest, DaemonBlock) {
  const auto v = nlohmann::json::parse(
      R"j({"version": "0.1.0", "pid": 42, "cgroups": {"mode": "none",
          "summary": "none: limits are not enforced: no cgroup tracking (x)"}})j");
  EXPECT_EQ(FormatDaemonStatus(v),
            "● supd 0.1.0 (pid 42)\n"
            "    Cgroups: none: limits are not enforced: no cgroup tracking (x)\n");
}

TEST(ResourcesFormatTest, ProcessSettingsOnlyWhatDiffersFromTheDefaults) {
  const auto s = nlohmann::json::parse(R"({"process": {
    "user": "nobody", "group": null, "supplementary_groups": ["adm", "4242"],
    "limits": {"LimitCORE": "0:infinity", "LimitNOFILE": "2048:4096"},
    "umask": "0027", "nice": -3, "oom_score_adjust": 345,
    "capability_bounding_set": "cap_net_bind_service",
    "ambient_capabilities": "cap_net_bind_service", "no_new_privileges": true}})");
  EXPECT_EQ(FormatProcessLines(s),
            "   Identity: User=nobody SupplementaryGroups=adm 4242 UMask=0027 Nice=-3 "
            "OOMScoreAdjust=345\n"
            "    Rlimits: LimitCORE=0:infinity LimitNOFILE=2048:4096\n"
            "       Caps: AmbientCapabilities=cap_net_bind_service "
            "CapabilityBoundingSet=cap_net_bind_service NoNewPrivileges=yes\n");
  const auto defaults = nlohmann::json::parse(R"({"process": {
    "user": null, "group": null, "supplementary_groups": [], "limits": {}, "umask": "0022",
    "nice": null, "oom_score_adjust": null, "capability_bounding_set": null,
    "ambient_capabilities": "", "no_new_privileges": false}})");
  EXPECT_EQ(FormatProcessLines(defaults), "");
  const auto empty_set = nlohmann::json::parse(
      R"({"process": {"capability_bounding_set": "", "umask": "0022"}})");
  EXPECT_EQ(FormatProcessLines(empty_set), "       Caps: CapabilityBoundingSet=(none)\n");
}

TEST(ResourcesFormatTest, AdjustmentsReplaceTheDirectiveTheyConcern) {
  const auto s = nlohmann::json::parse(R"j({"process": {
    "limits": {"LimitCORE": "0", "LimitNOFILE": "1048576"}, "umask": "0022",
    "oom_score_adjust": -999,
    "adjustments": [
      {"directive": "LimitNOFILE", "wanted": "1048576", "applied": "20000",
       "reason": "no CAP_SYS_RESOURCE",
       "message": "LimitNOFILE=1048576 clamped to 20000 (no CAP_SYS_RESOURCE)"},
      {"directive": "OOMScoreAdjust", "wanted": "-999", "applied": null,
       "reason": "Permission denied (no CAP_SYS_RESOURCE; as systemd, assuming a container)",
       "message": "OOMScoreAdjust=-999 not applied: Permission denied (no CAP_SYS_RESOURCE; as systemd, assuming a container)"},
      {"directive": "LimitNPROC", "wanted": "5000", "applied": "4000",
       "reason": "no CAP_SYS_RESOURCE",
       "message": "LimitNPROC=5000 clamped to 4000 (no CAP_SYS_RESOURCE)"},
      {"message": "no directive: ignored"}, "not an object"]}})j");
  EXPECT_EQ(FormatProcessLines(s),
            "   Identity: OOMScoreAdjust=-999 not applied: Permission denied (no "
            "CAP_SYS_RESOURCE; as systemd, assuming a container)\n"
            "    Rlimits: LimitCORE=0 LimitNOFILE=1048576 clamped to 20000 (no CAP_SYS_RESOURCE) "
            "LimitNPROC=5000 clamped to 4000 (no CAP_SYS_RESOURCE)\n");
}

}  // namespace
}  // namespace supd::control
