#include "lib/control/status_json.h"

#include <gtest/gtest.h>

namespace supd::control {
namespace {

ResourceControl HostWithoutCgroups() {
  CgroupHostFiles files;
  files.mountinfo = "/nonexistent/mountinfo";
  files.self_cgroup = "/nonexistent/cgroup";
  files.physical_memory = 1 << 30;
  files.tasks_total = 1000;
  return ResourceControl::Setup("supd-x", "", "no cgroup2 mount", files);
}

TEST(StatusJsonTest, HostWithoutTrackingSaysWhyPerController) {
  ResourceControl rc = HostWithoutCgroups();
  DaemonSnapshot d;
  d.pid = 42;
  d.cgroup_mode = rc.mode();
  d.cgroup_summary = rc.Summary();
  d.controllers = rc.controllers();
  nlohmann::json j = DaemonJson(d)["cgroups"];
  EXPECT_EQ(j["mode"], "none");
  EXPECT_EQ(j["summary"], "none: limits are not enforced: no cgroup tracking (no cgroup2 mount)");
  for (const char* c : {"memory", "cpu", "pids", "io"}) {
    EXPECT_EQ(j["controllers"][c]["where"], "none") << c;
    EXPECT_EQ(j["controllers"][c]["reason"], "no cgroup tracking (no cgroup2 mount)") << c;
  }
  EXPECT_EQ(DaemonJson(d)["pid"], 42);
}

ServiceSnapshot Loaded() {
  ServiceSnapshot s;
  auto spec = std::make_shared<ServiceSpec>();
  spec->name = "web.service";
  spec->description = "the web";
  spec->resources.require_limits = true;
  s.spec = spec;
  s.name = "web.service";
  s.loaded = true;
  return s;
}

TEST(StatusJsonTest, ServiceResourcesBlock) {
  ServiceSnapshot s = Loaded();
  s.go_runtime.set_by_supd = {{"GOMAXPROCS", "1"}};
  s.go_runtime.from_unit = {{"GOMEMLIMIT", "1GiB"}};
  s.limits = {{"MemoryMax", "64M", false, "no memory controller"}};
  nlohmann::json j = ServiceJson(s, true)["resources"];
  EXPECT_EQ(j, nlohmann::json::parse(R"({
    "mode": "none", "require_limits": true,
    "limits": [{"directive": "MemoryMax", "value": "64M", "enforced": false,
                "detail": "no memory controller"}],
    "stats": {"memory_current_bytes": null, "memory_peak_bytes": null, "cpu_usec": null,
              "tasks": null},
    "go_runtime": {"mode": "auto", "set_by_supd": {"GOMAXPROCS": "1"},
                   "from_unit": {"GOMEMLIMIT": "1GiB"}}})"));
}

TEST(StatusJsonTest, LogContentOnlyForPrivilegedPeers) {
  ServiceSnapshot s = Loaded();
  s.log_tail = {"line"};
  LastExit le;
  le.status = ExitStatus::Code(3);
  le.reason = "exited with status 3";
  le.excerpt = {"panic: x"};
  s.last_exit = le;
  EXPECT_EQ(ServiceJson(s, true)["log_tail"], nlohmann::json::array({"line"}));
  EXPECT_EQ(ServiceJson(s, false)["log_tail"], nlohmann::json::array());
  EXPECT_EQ(ServiceJson(s, true)["last_exit"]["stderr_excerpt"],
            nlohmann::json::array({"panic: x"}));
  EXPECT_TRUE(ServiceJson(s, false)["last_exit"]["stderr_excerpt"].is_null());
  EXPECT_EQ(ServiceJson(s, true)["last_exit"]["code"], 3);
}

TEST(StatusJsonTest, ANeverLoadedServiceSaysWhy) {
  ServiceSnapshot s;
  s.name = "bad.service";
  s.load_error = "units/bad.service:3: Invalid Restart= value 'sometimes'";
  nlohmann::json j = ServiceJson(s, true);
  EXPECT_EQ(j["state"], "failed");
  EXPECT_EQ(j["sub_state"], "not-loaded");
  EXPECT_EQ(j["cause"], s.load_error);
  EXPECT_EQ(j["load_error"], s.load_error);
}

TEST(StatusJsonTest, SocketUnit) {
  SocketSnapshot s;
  s.name = "web.socket";
  s.unit_path = "units/web.socket";
  s.state = SocketState::kListening;
  s.service = "web.service";
  s.service_state = State::kRunning;
  s.listening.push_back({"tcp:127.0.0.1:8080", "http", 1u, 128u});
  s.activations = 2;
  nlohmann::json j = SocketJson(s);
  EXPECT_EQ(j["unit_type"], "socket");
  EXPECT_EQ(j["state"], "listening");
  EXPECT_EQ(j["sub_state"], "running");
  EXPECT_EQ(j["service_state"], "running");
  EXPECT_EQ(j["listening"], nlohmann::json::parse(
                                R"([{"listen":"tcp:127.0.0.1:8080","name":"http","queued":1,
                                     "backlog":128}])"));
  EXPECT_EQ(j["activations"], 2);
  EXPECT_TRUE(j["error"].is_null());
}

}  // namespace
}  // namespace supd::control
