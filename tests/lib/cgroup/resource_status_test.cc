#include "lib/cgroup/resource_status.h"

#include <gtest/gtest.h>

namespace supd {
namespace {

TEST(ResourceStatusTest, HostWithoutTrackingSaysWhyPerController) {
  CgroupHostFiles files;
  files.mountinfo = "/nonexistent/mountinfo";
  files.self_cgroup = "/nonexistent/cgroup";
  files.physical_memory = 1 << 30;
  files.tasks_total = 1000;
  ResourceControl rc = ResourceControl::Setup("supd-x", "", "no cgroup2 mount", files);
  nlohmann::json j = ResourceHostJson(rc);
  EXPECT_EQ(j["mode"], "none");
  EXPECT_EQ(j["summary"], "none: limits are not enforced: no cgroup tracking (no cgroup2 mount)");
  for (const char* c : {"memory", "cpu", "pids", "io"}) {
    EXPECT_EQ(j["controllers"][c]["where"], "none") << c;
    EXPECT_EQ(j["controllers"][c]["reason"], "no cgroup tracking (no cgroup2 mount)") << c;
  }
}

TEST(ResourceStatusTest, ServiceBlock) {
  CgroupHostFiles files;
  files.mountinfo = "/nonexistent/mountinfo";
  files.self_cgroup = "/nonexistent/cgroup";
  ResourceControl rc = ResourceControl::Setup("supd-x", "", "no cgroup2 mount", files);
  GoRuntimeStatus go;
  go.set_by_supd = {{"GOMAXPROCS", "1"}};
  go.from_unit = {{"GOMEMLIMIT", "1GiB"}};
  const std::vector<LimitReport> limits = {{"MemoryMax", "64M", false, "no memory controller"}};
  nlohmann::json j = ServiceResourcesJson(rc, "", limits, true, go);
  EXPECT_EQ(j, nlohmann::json::parse(R"({
    "mode": "none", "require_limits": true,
    "limits": [{"directive": "MemoryMax", "value": "64M", "enforced": false,
                "detail": "no memory controller"}],
    "stats": {"memory_current_bytes": null, "memory_peak_bytes": null, "cpu_usec": null,
              "tasks": null},
    "go_runtime": {"mode": "auto", "set_by_supd": {"GOMAXPROCS": "1"},
                   "from_unit": {"GOMEMLIMIT": "1GiB"}}})"));
}

}  // namespace
}  // namespace supd
