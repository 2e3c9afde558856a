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

// 2026-12-03T04:05:06Z and 2026-12-03T04:05:00Z in CLOCK_REALTIME µs.
constexpr int64_t kAt = 1796270706'000000;
constexpr int64_t kEarlier = 1796270700'000000;

ProbeInfo ReadinessProbe(bool running) {
  ProbeInfo p;
  p.spec.role = ProbeRole::kReadiness;
  p.spec.kind = ProbeSpec::Kind::kHttp;
  p.spec.target = "http://127.0.0.1:8080/healthz";
  p.spec.source = "web.service:9";
  p.spec.interval = std::chrono::milliseconds(500);
  p.spec.timeout = std::chrono::seconds(2);
  p.running = running;
  return p;
}

TEST(StatusJsonTest, APassingProbe) {
  ServiceSnapshot s = Loaded();
  s.state = State::kRunning;
  s.ready = true;
  ProbeInfo p = ReadinessProbe(true);
  p.status.state = ProbeState::kPassing;
  p.status.consecutive_successes = 3;
  p.status.checks = 4;
  p.status.failures = 1;
  p.status.last_latency = std::chrono::microseconds(1234);
  p.status.last_check_realtime = kAt;
  p.status.since_realtime = kEarlier;
  p.status.last_failure = ProbeStatus::Failure{"HTTP 503 Service Unavailable", "", kEarlier - 1};
  s.probes = {p};
  nlohmann::json j = ServiceJson(s, true);
  EXPECT_EQ(j["ready"], true);
  EXPECT_EQ(j["probes"], nlohmann::json::parse(R"([{
    "role": "readiness", "directive": "ReadinessProbe",
    "target": "http://127.0.0.1:8080/healthz", "source": "web.service:9",
    "state": "passing", "running": true, "interval_usec": 500000, "timeout_usec": 2000000,
    "consecutive_successes": 3, "consecutive_failures": 0, "checks": 4, "failures": 1,
    "last_latency_ms": 1.234,
    "last_check": "2026-12-03T04:05:06.000000Z", "since": "2026-12-03T04:05:00.000000Z",
    "last_failure": {"message": "HTTP 503 Service Unavailable", "output": "",
                     "at": "2026-12-03T04:04:59.999999Z"}}])"));
}

TEST(StatusJsonTest, AFailingReadinessProbeOfARunningServiceIsNotReady) {
  ServiceSnapshot s = Loaded();
  s.state = State::kRunning;
  s.ready = false;
  ProbeInfo p = ReadinessProbe(true);
  p.spec.kind = ProbeSpec::Kind::kExec;
  p.spec.target = "exec:/bin/check";
  p.status.state = ProbeState::kFailing;
  p.status.consecutive_failures = 3;
  p.status.checks = 3;
  p.status.failures = 3;
  p.status.last_latency = std::chrono::milliseconds(40);
  p.status.last_check_realtime = kAt;
  p.status.since_realtime = kAt;
  p.status.last_failure = ProbeStatus::Failure{"exited with status 1", "db down\n", kAt};
  s.probes = {p};
  nlohmann::json j = ServiceJson(s, true);
  EXPECT_EQ(j["state"], "running");
  EXPECT_EQ(j["ready"], false);
  ASSERT_EQ(j["probes"].size(), 1u);
  const nlohmann::json& probe = j["probes"][0];
  EXPECT_EQ(probe["state"], "failing");
  EXPECT_EQ(probe["consecutive_failures"], 3);
  EXPECT_EQ(probe["consecutive_successes"], 0);
  EXPECT_EQ(probe["last_latency_ms"], 40.0);
  EXPECT_EQ(probe["since"], "2026-12-03T04:05:06.000000Z");
  EXPECT_EQ(probe["last_failure"], nlohmann::json::parse(R"({"message": "exited with status 1",
    "output": "db down\n", "at": "2026-12-03T04:05:06.000000Z"})"));
}

TEST(StatusJsonTest, ProbeOutputOnlyForPrivilegedPeers) {
  // An exec: probe's output is the service's output, as private as its log.
  ServiceSnapshot s = Loaded();
  ProbeInfo p = ReadinessProbe(true);
  p.status.state = ProbeState::kFailing;
  p.status.checks = 1;
  p.status.failures = 1;
  p.status.last_failure = ProbeStatus::Failure{"exited with status 1", "secret\n", kAt};
  s.probes = {p};
  EXPECT_EQ(ServiceJson(s, true)["probes"][0]["last_failure"]["output"], "secret\n");
  nlohmann::json unprivileged = ServiceJson(s, false)["probes"][0]["last_failure"];
  EXPECT_TRUE(unprivileged["output"].is_null());
  EXPECT_EQ(unprivileged["message"], "exited with status 1") << "the message is no output";
  EXPECT_EQ(unprivileged["at"], "2026-12-03T04:05:06.000000Z");
}

TEST(StatusJsonTest, AProbeWithoutResultsYetHasNulls) {
  ServiceSnapshot s = Loaded();
  ProbeInfo p = ReadinessProbe(false);
  p.spec.role = ProbeRole::kLiveness;
  s.probes = {p};
  nlohmann::json probe = ServiceJson(s, false)["probes"][0];
  EXPECT_EQ(probe["role"], "liveness");
  EXPECT_EQ(probe["directive"], "LivenessProbe");
  EXPECT_EQ(probe["state"], "pending");
  EXPECT_EQ(probe["running"], false);
  EXPECT_EQ(probe["checks"], 0);
  EXPECT_TRUE(probe["last_latency_ms"].is_null());
  EXPECT_TRUE(probe["last_check"].is_null());
  EXPECT_TRUE(probe["since"].is_null());
  EXPECT_TRUE(probe["last_failure"].is_null());
}

TEST(StatusJsonTest, NoProbesIsAnEmptyArray) {
  EXPECT_EQ(ServiceJson(Loaded(), true)["probes"], nlohmann::json::array());
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

TEST(StatusJsonTest, ServiceEnablementAndDependencies) {
  ServiceSnapshot s = Loaded();
  nlohmann::json j = ServiceJson(s, true);
  EXPECT_TRUE(j["enable_state"].is_null());
  EXPECT_TRUE(j["dependency_error"].is_null());
  EXPECT_TRUE(j["job"].is_null());
  EXPECT_EQ(j["waiting_for"], nlohmann::json::array());
  s.enable_state = "static";
  s.dependency_error = "ordering cycle: a.service -> b.service -> a.service (After=)";
  s.job = "start";
  s.waiting_for = {"db.service"};
  j = ServiceJson(s, true);
  EXPECT_EQ(j["enable_state"], "static");
  EXPECT_EQ(j["dependency_error"], "ordering cycle: a.service -> b.service -> a.service (After=)");
  EXPECT_EQ(j["job"], "start");
  EXPECT_EQ(j["waiting_for"], nlohmann::json::array({"db.service"}));
  // A service that never loaded tells them too.
  ServiceSnapshot never;
  never.name = "x.service";
  never.enable_state = "disabled";
  never.dependency_error = "ordering cycle: x.service -> x.service (After=)";
  j = ServiceJson(never, true);
  EXPECT_EQ(j["enable_state"], "disabled");
  EXPECT_EQ(j["dependency_error"], "ordering cycle: x.service -> x.service (After=)");
  EXPECT_TRUE(j["job"].is_null());
}

TEST(StatusJsonTest, SocketEnableState) {
  SocketSnapshot s;
  s.name = "web.socket";
  s.enable_state = "enabled";
  EXPECT_EQ(SocketJson(s)["enable_state"], "enabled");
  EXPECT_EQ(UnitJson(UnitSnapshot(s), true)["unit_type"], "socket");
}

TEST(StatusJsonTest, Target) {
  TargetSnapshot t;
  t.name = "myapp.target";
  t.unit_path = "/u/myapp.target";
  auto spec = std::make_shared<TargetSpec>();
  spec->name = "myapp.target";
  spec->description = "My app";
  t.spec = spec;
  t.active = true;
  t.enable_state = "enabled";
  t.since_realtime = kAt;
  t.job = "stop";
  t.waiting_for = {"api.service"};
  t.members = {{"api.service", "running"}, {"db.service", "stopped"}};
  EXPECT_EQ(UnitJson(UnitSnapshot(t), true), nlohmann::json::parse(R"({
    "name": "myapp.target", "unit_type": "target", "loaded": true, "standard": false,
    "unit_path": "/u/myapp.target", "description": "My app", "load_error": null,
    "enabled": true, "enable_state": "enabled", "state": "active", "sub_state": "active",
    "since": "2026-12-03T04:05:06.000000Z", "dependency_error": null, "job": "stop",
    "waiting_for": ["api.service"],
    "members": [{"unit": "api.service", "state": "running"},
                {"unit": "db.service", "state": "stopped"}],
    "warnings": []})"));
}

TEST(StatusJsonTest, TargetNotLoadedOrStandard) {
  TargetSnapshot t;
  t.name = "broken.target";
  t.unit_path = "/u/broken.target";
  t.load_error = "/u/broken.target:2: unknown section [Service]";
  nlohmann::json j = TargetJson(t);
  EXPECT_EQ(j["loaded"], false);
  EXPECT_EQ(j["state"], "inactive");
  EXPECT_EQ(j["sub_state"], "dead");
  EXPECT_TRUE(j["since"].is_null());
  EXPECT_EQ(j["load_error"], "/u/broken.target:2: unknown section [Service]");
  EXPECT_EQ(j["enabled"], false);
  // A standard target supd has no file for is loaded as systemd's is.
  TargetSnapshot m;
  m.name = "multi-user.target";
  m.standard = true;
  m.enable_state = "static";
  j = TargetJson(m);
  EXPECT_EQ(j["loaded"], true);
  EXPECT_EQ(j["standard"], true);
  EXPECT_EQ(j["unit_path"], "");
  EXPECT_EQ(j["description"], "");
}

TEST(StatusJsonTest, EnableChanges) {
  EXPECT_EQ(ChangesJson({}), nlohmann::json::array());
  EXPECT_EQ(ChangesJson({{true, "/u/multi-user.target.wants/web.service", "/u/web.service"},
                         {false, "/u/app.target.wants/old.service", ""}}),
            nlohmann::json::parse(R"([
    {"created": true, "path": "/u/multi-user.target.wants/web.service",
     "target": "/u/web.service"},
    {"created": false, "path": "/u/app.target.wants/old.service", "target": null}])"));
}

TEST(StatusJsonTest, IsEnabled) {
  EXPECT_EQ(IsEnabledJson({{"web.service", EnableState::kEnabled},
                           {"tool.service", EnableState::kStatic},
                           {"www.service", EnableState::kAlias}}),
            nlohmann::json::parse(R"({"units": [
    {"unit": "web.service", "state": "enabled"}, {"unit": "tool.service", "state": "static"},
    {"unit": "www.service", "state": "alias"}]})"));
}

TEST(StatusJsonTest, DependencyTreeNests) {
  Manager::DependencyNode root{
      "myapp.target",
      "active",
      {{"api.service", "running", {}}, {"db.target", "inactive", {{"db.service", "failed", {}}}}}};
  EXPECT_EQ(DependencyJson(root), nlohmann::json::parse(R"({
    "unit": "myapp.target", "state": "active", "children": [
      {"unit": "api.service", "state": "running", "children": []},
      {"unit": "db.target", "state": "inactive", "children": [
        {"unit": "db.service", "state": "failed", "children": []}]}]})"));
}

}  // namespace
}  // namespace supd::control
