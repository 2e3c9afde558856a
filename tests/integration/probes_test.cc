// Health probes (issue 14) against the real supd and tests/go/healthserver, whose /healthz answers
// what a file says (pass, fail, hang), read again on every request: StartupProbe=,
// ReadinessProbe= and LivenessProbe= over http://, tcp:// and exec:, what a result does to a
// start, a restart and a running service, and what status shows.
//
// Every wait has a deadline (WaitFor); an outcome is held back on purpose (the health file, an
// exec probe's file, TimeoutStartSec=infinity) rather than hoped for within a time window.

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <filesystem>
#include <functional>
#include <iostream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tests/integration/harness.h"

namespace supd::integration {
namespace {

using nlohmann::json;

// A supctl command on its own thread: a start or restart that the test holds open. `release` is
// what lets it finish (opens its gate); the destructor calls it and then joins, also when an
// assertion returned early, so that no joinable thread is destroyed and no test waits for
// supctl's own 60 s timeout.
class Background {
 public:
  Background(std::function<CommandResult()> run, std::function<void()> release = nullptr)
      : release_(std::move(release)), thread_([this, run = std::move(run)] {
          result_ = run();
          done_ = true;
        }) {}
  Background(const Background&) = delete;
  Background& operator=(const Background&) = delete;
  ~Background() {
    if (release_ && !done_) release_();
    if (thread_.joinable()) thread_.join();
  }
  bool done() const { return done_; }
  // Joins (the caller has released it) and returns what the command did.
  const CommandResult& Wait() {
    if (thread_.joinable()) thread_.join();
    return result_;
  }

 private:
  std::function<void()> release_;
  CommandResult result_;
  std::atomic<bool> done_{false};
  std::thread thread_;  // last: it starts running once the members above exist
};

// A process as /proc shows it.
struct Proc {
  pid_t pid = 0;
  char state = '?';
  pid_t ppid = 0;
  pid_t pgid = 0;
  bool dying = false;  // SIGKILL is pending: killed, not yet gone
  std::string cmdline;
};

// Whether SIGKILL is pending for `pid` (its own or its thread group's pending set), from the
// hexadecimal masks in /proc/PID/status: a process that was killed but has not exited yet.
bool SigkillPending(pid_t pid) {
  for (const char* field : {"SigPnd", "ShdPnd"}) {
    const std::string mask = ProcStatusField(pid, field);
    // SIGKILL is signal 9: bit 8 of the mask, the lowest bit of its third hex digit from the
    // right.
    if (mask.size() >= 3) {
      const int digit = std::stoi(mask.substr(mask.size() - 3, 1), nullptr, 16);
      if (digit & 1) return true;
    }
  }
  return false;
}

// Every live process (not a zombie: its cmdline is gone) whose command line contains `marker`.
std::vector<Proc> ProcessesWith(const std::string& marker) {
  std::vector<Proc> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename();
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    Proc p;
    p.pid = std::stoi(name);
    p.cmdline = ProcCmdline(p.pid);
    if (p.cmdline.find(marker) == std::string::npos) continue;
    // "pid (comm) S ppid pgrp ...": comm may hold anything; the rest follows the last ')'.
    const std::string stat = ReadFile("/proc/" + name + "/stat");
    const size_t paren = stat.rfind(')');
    if (paren == std::string::npos) continue;  // gone meanwhile
    std::istringstream rest(stat.substr(paren + 2));
    rest >> p.state >> p.ppid >> p.pgid;
    if (p.state == 'Z' || p.state == 'X') continue;
    p.dying = SigkillPending(p.pid);
    out.push_back(p);
  }
  return out;
}

// The pids in the cgroup directory `dir` (an absolute path under /sys/fs/cgroup) and below.
std::set<pid_t> PidsInCgroupTree(const std::string& dir) {
  std::set<pid_t> pids;
  for (pid_t pid : ReadPids(dir + "/cgroup.procs")) pids.insert(pid);
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_directory(ec))
      for (pid_t pid : ReadPids(it->path().string() + "/cgroup.procs")) pids.insert(pid);
  }
  return pids;
}

std::string Describe(const std::vector<Proc>& procs) {
  std::ostringstream os;
  for (const auto& p : procs)
    os << "  pid " << p.pid << " pgid " << p.pgid << " ppid " << p.ppid << " state " << p.state
       << (p.dying ? " (SIGKILL pending)" : "") << ": " << p.cmdline << "\n";
  return os.str();
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

class ProbesTest : public SupdTest {
 protected:
  // The entry of status["probes"] with this role ("startup", "readiness", "liveness"), or null.
  // (Probe entries are handled as non-const json: a const operator[] of a missing key is
  // undefined, a non-const one yields null, which the assertions then report.)
  static json ProbeOf(const json& status, const std::string& role) {
    if (!status.contains("probes") || !status["probes"].is_array()) return nullptr;
    for (const auto& p : status["probes"])
      if (p.is_object() && p.value("role", "") == role) return p;
    return nullptr;
  }
  json Probe(const std::string& service, const std::string& role) {
    auto st = Status(service);
    return st ? ProbeOf(*st, role) : json(nullptr);
  }
  std::string ProbeState(const std::string& service, const std::string& role) {
    const json p = Probe(service, role);
    return p.is_object() ? p.value("state", "") : "";
  }
  // status["ready"]; nullopt when unknown.
  std::optional<bool> Ready(const std::string& service) {
    auto st = Status(service);
    if (!st || !(*st)["ready"].is_boolean()) return std::nullopt;
    return (*st)["ready"].get<bool>();
  }
  std::string StatusDump(const std::string& service) {
    return Status(service).value_or(json()).dump(1);
  }
  // last_exit.stderr_excerpt as one text (the contract says lines; a string is accepted too).
  static std::string Excerpt(json status) {
    json le = status["last_exit"];
    if (!le.is_object()) return "";
    json ex = le["stderr_excerpt"];
    if (ex.is_string()) return ex.get<std::string>();
    std::string text;
    if (ex.is_array())
      for (const auto& line : ex)
        if (line.is_string()) text += line.get<std::string>() + "\n";
    return text;
  }
  // Zombies whose parent is supd: what it failed to reap.
  std::vector<pid_t> ZombieChildrenOfSupd() {
    std::vector<pid_t> out;
    for (pid_t pid : ChildrenOf(supd_pid_))
      if (GetProcState(pid) == ProcState::kZombie) out.push_back(pid);
    return out;
  }
  // The shape the contract gives each entry of status["probes"].
  static void ExpectProbeShape(json p) {
    SCOPED_TRACE(p.dump());
    ASSERT_TRUE(p.is_object());
    EXPECT_TRUE(p["role"].is_string());
    EXPECT_TRUE(p["target"].is_string());
    ASSERT_TRUE(p["state"].is_string());
    const std::set<std::string> states = {"pending", "passing", "failing"};
    EXPECT_EQ(1u, states.count(p["state"].get<std::string>()));
    EXPECT_TRUE(p["running"].is_boolean());
    for (const char* counter :
         {"consecutive_successes", "consecutive_failures", "checks", "failures"})
      EXPECT_TRUE(p[counter].is_number_integer()) << counter;
    EXPECT_TRUE(p["last_latency_ms"].is_null() || p["last_latency_ms"].is_number());
    json lf = p["last_failure"];
    EXPECT_TRUE(lf.is_null() || lf.is_object());
    if (lf.is_object()) {
      EXPECT_TRUE(lf["message"].is_string());
      EXPECT_TRUE(lf["output"].is_string());
      EXPECT_TRUE(lf["at"].is_string());
    }
  }
};

// A service with a readiness probe is `starting` until the probe passes: `supctl start` waits,
// however long /healthz keeps failing (TimeoutStartSec=infinity), and returns once it passes.
TEST_F(ProbesTest, ReadinessProbeGatesStart) {
  const int port = FreeTcpPort();
  const std::string target = "http://127.0.0.1:" + std::to_string(port) + "/healthz";
  WriteUnit("web.service", Subst(R"([Service]
ExecStart={go}/healthserver -addr 127.0.0.1:{port} -health-file {dir}/health
TimeoutStartSec=infinity
[X-Supd]
ReadinessProbe={target}
ReadinessProbeIntervalSec=100ms
ReadinessProbeFailureThreshold=2
)",
                                 {{"port", std::to_string(port)}, {"target", target}}));
  const std::string health = dir_ + "/health";
  WriteFile(health, "fail");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  Background start([&] { return Supctl({"start", "web"}); }, [&] { WriteFile(health, "pass"); });
  // The program answers 503 and the probe has seen it fail, twice in a row: the start waits.
  ASSERT_TRUE(WaitFor([&] { return ProbeState("web.service", "readiness") == "failing"; }))
      << StatusDump("web.service") << ServiceLog("web.service") << SupdContext();
  EXPECT_TRUE(Contains(ServiceLog("web.service"), "health: fail")) << ServiceLog("web.service");
  auto waiting = Status("web.service");
  ASSERT_TRUE(waiting);
  EXPECT_FALSE(start.done()) << "start returned while the readiness probe fails: "
                             << start.Wait().Describe();
  EXPECT_EQ("starting", waiting->value("state", "")) << waiting->dump(1);
  EXPECT_EQ(json(false), (*waiting)["ready"]) << waiting->dump(1);
  json failing = ProbeOf(*waiting, "readiness");
  ASSERT_TRUE(failing.is_object()) << waiting->dump(1);
  ExpectProbeShape(failing);
  EXPECT_EQ(target, failing.value("target", "")) << failing.dump();
  EXPECT_TRUE(failing.value("running", false)) << failing.dump();
  EXPECT_GE(failing.value("consecutive_failures", 0), 2) << failing.dump();
  EXPECT_EQ(0, failing.value("consecutive_successes", -1)) << failing.dump();
  ASSERT_TRUE(failing["last_failure"].is_object()) << failing.dump();
  EXPECT_TRUE(Contains(failing["last_failure"].value("message", ""), "503")) << failing.dump();
  // The text status has a block for the probes (its format is not part of the contract).
  CommandResult text = Supctl({"status", "web"});
  EXPECT_TRUE(Contains(text.out, "Probes:")) << text.Describe();
  EXPECT_TRUE(Contains(text.out, target)) << text.Describe();

  WriteFile(health, "pass");
  const CommandResult& r = start.Wait();
  ASSERT_EQ(0, r.exit_code) << r.Describe() << SupdContext();
  auto st = Status("web.service");
  ASSERT_TRUE(st);
  EXPECT_EQ("running", st->value("state", "")) << st->dump(1);
  EXPECT_EQ(json(true), (*st)["ready"]) << st->dump(1);
  json passing = ProbeOf(*st, "readiness");
  ASSERT_TRUE(passing.is_object()) << st->dump(1);
  ExpectProbeShape(passing);
  EXPECT_EQ("passing", passing.value("state", "")) << passing.dump();
  EXPECT_GE(passing.value("consecutive_successes", 0), 1) << passing.dump();
  EXPECT_EQ(0, passing.value("consecutive_failures", -1)) << passing.dump();
  EXPECT_GE(passing.value("checks", 0), 3) << passing.dump();
  EXPECT_GE(passing.value("failures", 0), 2) << passing.dump();
  EXPECT_TRUE(passing["last_latency_ms"].is_number()) << passing.dump();
  EXPECT_TRUE(passing["last_failure"].is_object())
      << "the last failure is kept: " << passing.dump();
  auto body = HttpGet(port);
  ASSERT_TRUE(body);
  EXPECT_EQ("hello from " + std::to_string(MainPid("web.service")) + "\n", *body);
}

// While running, a failing readiness probe marks the service not ready, and nothing else: the
// same process keeps running, no restart. Passing again marks it ready again.
TEST_F(ProbesTest, FailingReadinessWhileRunningMarksNotReadyWithoutRestart) {
  const int port = FreeTcpPort();
  WriteUnit("web.service", Subst(R"([Service]
ExecStart={go}/healthserver -addr 127.0.0.1:{port} -health-file {dir}/health
Restart=always
RestartSec=0
[X-Supd]
ReadinessProbe=http://127.0.0.1:{port}/healthz
ReadinessProbeIntervalSec=100ms
ReadinessProbeFailureThreshold=2
)",
                                 {{"port", std::to_string(port)}}));
  const std::string health = dir_ + "/health";
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  ASSERT_EQ(0, Supctl({"start", "web"}).exit_code) << SupdContext();
  const pid_t pid = MainPid("web.service");
  ASSERT_GT(pid, 0);
  EXPECT_EQ(std::optional<bool>(true), Ready("web.service")) << StatusDump("web.service");

  WriteFile(health, "fail");
  ASSERT_TRUE(WaitFor([&] { return Ready("web.service") == std::optional<bool>(false); }))
      << StatusDump("web.service") << SupdContext();
  auto st = Status("web.service");
  ASSERT_TRUE(st);
  EXPECT_EQ("running", st->value("state", "")) << st->dump(1);
  EXPECT_EQ(json(pid), (*st)["main_pid"]) << st->dump(1);
  EXPECT_EQ(0, st->value("restarts", -1)) << st->dump(1);
  EXPECT_EQ(json("failing"), ProbeOf(*st, "readiness")["state"]) << st->dump(1);
  EXPECT_EQ(ProcState::kAlive, GetProcState(pid));
  // It still serves: not ready is a signal to others, supd does not take it down.
  auto body = HttpGet(port);
  ASSERT_TRUE(body);
  EXPECT_EQ("hello from " + std::to_string(pid) + "\n", *body);

  WriteFile(health, "pass");
  ASSERT_TRUE(WaitFor([&] { return Ready("web.service") == std::optional<bool>(true); }))
      << StatusDump("web.service") << SupdContext();
  st = Status("web.service");
  ASSERT_TRUE(st);
  EXPECT_EQ("running", st->value("state", "")) << st->dump(1);
  EXPECT_EQ(json(pid), (*st)["main_pid"]) << st->dump(1);
  EXPECT_EQ(0, st->value("restarts", -1)) << st->dump(1);
  EXPECT_EQ(json("passing"), ProbeOf(*st, "readiness")["state"]) << st->dump(1);
}

// A hung service (its process alive, /healthz never answering) is stopped the way a missed
// watchdog stops it: SIGABRT, on which Go prints every goroutine's stack and exits 2; the result
// is `watchdog`. Restart=on-watchdog restarts only for that result, so the restart itself shows
// the result. Each instance reads its own health file (health.<pid>): the first one hangs, the
// next one, whose file does not exist, passes and stays.
TEST_F(ProbesTest, LivenessProbeRestartsHungServiceWithGoroutineDump) {
  const int port = FreeTcpPort();
  WriteUnit("web.service", Subst(R"([Service]
ExecStart={go}/healthserver -addr 127.0.0.1:{port} -health-file {dir}/health.{pid}
Restart=on-watchdog
RestartSec=0
[X-Supd]
LivenessProbe=http://127.0.0.1:{port}/healthz
LivenessProbeIntervalSec=200ms
LivenessProbeTimeoutSec=200ms
LivenessProbeFailureThreshold=2
)",
                                 {{"port", std::to_string(port)}}));
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  ASSERT_EQ(0, Supctl({"start", "web"}).exit_code) << SupdContext();
  const pid_t first = MainPid("web.service");
  ASSERT_GT(first, 0);
  ASSERT_TRUE(WaitFor([&] { return ProbeState("web.service", "liveness") == "passing"; }))
      << StatusDump("web.service") << SupdContext();
  EXPECT_EQ(0, Restarts("web.service"));

  WriteFile(dir_ + "/health." + std::to_string(first), "hang");
  pid_t second = 0;
  ASSERT_TRUE(WaitFor([&] {
    auto st = Status("web.service");
    if (!st || st->value("restarts", -1) != 1 || st->value("state", "") != "running" ||
        !(*st)["main_pid"].is_number_integer())
      return false;
    second = (*st)["main_pid"].get<pid_t>();
    return second > 0 && second != first;
  })) << StatusDump("web.service")
      << ServiceLog("web.service") << SupdContext();
  EXPECT_TRUE(WaitFor([&] { return GetProcState(first) == ProcState::kGone; }))
      << "the hung instance was not reaped";

  auto st = Status("web.service");
  ASSERT_TRUE(st);
  json last = (*st)["last_exit"];
  ASSERT_TRUE(last.is_object()) << st->dump(1);
  EXPECT_EQ(json(first), last["pid"]) << st->dump(1);
  // Go's answer to SIGABRT: the dump, then exit status 2.
  EXPECT_EQ(json(2), last["code"]) << st->dump(1);
  EXPECT_TRUE(Contains(last.value("reason", ""), "LivenessProbe=")) << st->dump(1);
  // The crash excerpt is the tail of the dump. Go ends the dump with ~20 lines of registers,
  // so the header of the last goroutine ("goroutine 7 [IO wait]:") may fall just before a
  // 40-line excerpt; its frames do not: every goroutine's stack in a signal's dump ends in
  // runtime.goexit().
  const std::string excerpt = Excerpt(*st);
  EXPECT_TRUE(Contains(excerpt, "goroutine ") || Contains(excerpt, "runtime.goexit()"))
      << "no goroutine dump in the crash excerpt:\n"
      << excerpt;
  // The whole dump is in the log.
  const std::string log = ServiceLog("web.service");
  EXPECT_TRUE(Contains(log, "SIGABRT: abort")) << log;
  EXPECT_TRUE(Contains(log, "goroutine 1 [")) << log;
  EXPECT_TRUE(Contains(SupdStderr(), "LivenessProbe=")) << SupdContext();

  // The new instance passes and stays.
  ASSERT_TRUE(WaitFor([&] {
    const json p = Probe("web.service", "liveness");
    return p.is_object() && p.value("state", "") == "passing" && p.value("checks", 0) >= 3;
  })) << StatusDump("web.service");
  EXPECT_EQ(1, Restarts("web.service"));
  EXPECT_EQ(second, MainPid("web.service"));
}

// A startup probe that fails FailureThreshold= times before it ever passed fails the start:
// result `timeout`, the cause names the probe. Nothing listens on the probed port.
TEST_F(ProbesTest, StartupProbeFailureFailsStart) {
  const int port = FreeTcpPort();
  const int dead_port = FreeTcpPort();
  WriteUnit("web.service",
            Subst(R"([Service]
ExecStart={go}/healthserver -addr 127.0.0.1:{port}
[X-Supd]
StartupProbe=tcp://127.0.0.1:{dead}
StartupProbeIntervalSec=100ms
StartupProbeFailureThreshold=3
ReadinessProbe=http://127.0.0.1:{port}/healthz
ReadinessProbeIntervalSec=100ms
)",
                  {{"port", std::to_string(port)}, {"dead", std::to_string(dead_port)}}));
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  CommandResult r = Supctl({"start", "web"});
  EXPECT_EQ(1, r.exit_code) << r.Describe();
  EXPECT_TRUE(Contains(r.err, "StartupProbe=")) << r.Describe();
  auto st = Status("web.service");
  ASSERT_TRUE(st);
  EXPECT_EQ("failed", st->value("state", "")) << st->dump(1);
  EXPECT_EQ("timeout", st->value("result", "")) << st->dump(1);
  EXPECT_TRUE(Contains(st->value("cause", ""), "StartupProbe=")) << st->dump(1);
  EXPECT_TRUE(Contains(st->value("cause", ""), "127.0.0.1:" + std::to_string(dead_port)))
      << st->dump(1);
  // The startup probe held the readiness probe back: it never checked (the server answers, it
  // would have passed). Asserted where status still shows the probes of the failed instance.
  const json readiness = ProbeOf(*st, "readiness");
  if (readiness.is_object()) {
    EXPECT_EQ(0, readiness.value("checks", -1)) << st->dump(1);
  }
  ASSERT_TRUE((*st)["last_exit"].is_object()) << st->dump(1);
  const pid_t pid = (*st)["last_exit"].value("pid", 0);
  EXPECT_TRUE(WaitFor([&] { return GetProcState(pid) == ProcState::kGone; }))
      << "pid " << pid << " is " << ToString(GetProcState(pid));
}

// A readiness probe that never passes within TimeoutStartSec= fails the start, and the message
// says which probe and what it last saw.
TEST_F(ProbesTest, ReadinessTimeoutNamesProbe) {
  const int port = FreeTcpPort();
  WriteUnit("web.service", Subst(R"([Service]
ExecStart={go}/healthserver -addr 127.0.0.1:{port} -health-file {dir}/health
TimeoutStartSec=2s
[X-Supd]
ReadinessProbe=http://127.0.0.1:{port}/healthz
ReadinessProbeIntervalSec=100ms
)",
                                 {{"port", std::to_string(port)}}));
  WriteFile(dir_ + "/health", "fail");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  CommandResult r = Supctl({"start", "web"});
  EXPECT_EQ(1, r.exit_code) << r.Describe();
  EXPECT_TRUE(Contains(r.err, "ReadinessProbe=")) << r.Describe();
  EXPECT_TRUE(Contains(r.err, "HTTP 503")) << r.Describe();
  auto st = Status("web.service");
  ASSERT_TRUE(st);
  EXPECT_EQ("failed", st->value("state", "")) << st->dump(1);
  EXPECT_EQ("timeout", st->value("result", "")) << st->dump(1);
  EXPECT_TRUE(Contains(st->value("cause", ""), "ReadinessProbe=")) << st->dump(1);
  EXPECT_TRUE(Contains(ServiceLog("web.service"), "health: fail")) << ServiceLog("web.service");
}

// An exec probe that hangs, and whose shell left a child behind, is killed with its whole
// process group at its timeout: at no moment do two probes' processes exist, and after a stop
// none is left, not even a zombie. The sleeps' durations are the markers (unique to the run: the
// port is in them).
TEST_F(ProbesTest, HangingExecProbeIsKilledWithItsChildren) {
  const int port = FreeTcpPort();
  const std::string marker1 = "sleep 1" + std::to_string(port) + "1";
  const std::string marker2 = "sleep 1" + std::to_string(port) + "2";
  const std::string marker = "sleep 1" + std::to_string(port);
  WriteUnit("web.service",
            Subst(R"([Service]
ExecStart={go}/healthserver -addr 127.0.0.1:{port}
TimeoutStartSec=infinity
[X-Supd]
ReadinessProbe=exec:/bin/sh -c '{m1} & {m2}'
ReadinessProbeTimeoutSec=300ms
ReadinessProbeIntervalSec=200ms
)",
                  {{"port", std::to_string(port)}, {"m1", marker1}, {"m2", marker2}}));
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  // The start never completes (the probe never passes); the stop below ends it.
  Background start([&] { return Supctl({"start", "web"}); }, [&] { Supctl({"stop", "web"}); });
  std::set<pid_t> groups_seen;
  bool sampled_both = false;  // a sample held the shell's child and its last command
  std::string overlap;
  ASSERT_TRUE(WaitFor(
      [&] {
        const auto procs = ProcessesWith(marker);
        // A killed process may take a moment to die: it is not counted as a probe's (its
        // group was killed), only as seen.
        std::set<pid_t> live_groups;
        for (const auto& p : procs) {
          groups_seen.insert(p.pgid);
          if (!p.dying) live_groups.insert(p.pgid);
        }
        if (live_groups.size() > 1 && overlap.empty()) overlap = Describe(procs);
        const bool has1 = std::any_of(procs.begin(), procs.end(), [&](const Proc& p) {
          return p.cmdline.rfind(marker1, 0) == 0;
        });
        if (has1 && procs.size() >= 2) sampled_both = true;
        const json p = Probe("web.service", "readiness");
        return p.is_object() && p.value("failures", 0) >= 4 && groups_seen.size() >= 3;
      },
      60s, 20ms))
      << StatusDump("web.service") << SupdContext();
  EXPECT_TRUE(overlap.empty()) << "processes of two probes at once:\n" << overlap;
  EXPECT_TRUE(sampled_both) << "never saw the probe's background child: the test saw nothing";
  EXPECT_FALSE(start.done()) << start.Wait().Describe();
  auto st = Status("web.service");
  ASSERT_TRUE(st);
  EXPECT_EQ("starting", st->value("state", "")) << st->dump(1);
  const pid_t main_pid = MainPid("web.service");
  ASSERT_GT(main_pid, 0);
  json probe = ProbeOf(*st, "readiness");
  ASSERT_TRUE(probe.is_object()) << st->dump(1);
  ExpectProbeShape(probe);
  ASSERT_TRUE(probe["last_failure"].is_object()) << probe.dump();
  EXPECT_FALSE(probe["last_failure"].value("message", "").empty()) << probe.dump();
  // A probe runs in its own process group (so that its group can be killed), not supd's, not
  // the service's; and in the service's cgroup where supd tracks by cgroup.
  const auto now = ProcessesWith(marker);
  const std::string cgroup =
      (*st)["cgroup"].is_string() ? (*st)["cgroup"].get<std::string>() : std::string();
  for (const auto& p : now) {
    if (p.dying) continue;
    EXPECT_NE(getpgid(supd_pid_), p.pgid) << Describe(now);
    EXPECT_NE(getpgid(main_pid), p.pgid) << Describe(now);
    if (st->value("tracking", "") == "cgroup" && !cgroup.empty()) {
      const auto in_cgroup = PidsInCgroupTree(cgroup);
      EXPECT_TRUE(in_cgroup.count(p.pid) == 1 || GetProcState(p.pid) == ProcState::kGone)
          << "pid " << p.pid << " is not in the service's cgroup " << cgroup << ":\n"
          << Describe(now);
    }
  }

  CommandResult stop = Supctl({"stop", "web"});
  EXPECT_EQ(0, stop.exit_code) << stop.Describe();
  const CommandResult& cancelled = start.Wait();
  EXPECT_NE(0, cancelled.exit_code) << cancelled.Describe();
  // Once the stop returned, no probe is running (any process left is at least killed), and
  // soon none is there at all.
  auto left = ProcessesWith(marker);
  EXPECT_TRUE(std::all_of(left.begin(), left.end(), [](const Proc& p) { return p.dying; }))
      << "left running after the stop:\n"
      << Describe(left);
  EXPECT_TRUE(WaitFor([&] {
    left = ProcessesWith(marker);
    return left.empty();
  })) << "left after the stop:\n"
      << Describe(left);
  std::vector<pid_t> zombies;
  EXPECT_TRUE(WaitFor([&] {
    zombies = ZombieChildrenOfSupd();
    return zombies.empty();
  })) << zombies.size()
      << " zombie children of supd";
}

// The issue's acceptance test for stop-then-start restarts: a socket-activated Type=simple
// server with a 1 s warm-up and an http readiness probe of the held socket. That probe cannot
// tell the instances apart (both would accept on the shared socket), so there is no overlap:
// each restart stops the old one, and requests wait in the backlog while the new one warms up;
// `supctl restart` returns only once the new instance answers. hey sees no failure.
TEST_F(ProbesTest, RestartsUnderLoadWithReadinessProbeFailNoRequest) {
  if (!HeyInstalled()) GTEST_SKIP() << "hey is not installed";
  const int port = FreeTcpPort();
  WriteUnit("web.socket", Subst(R"([Socket]
ListenStream=127.0.0.1:{port}
)",
                                {{"port", std::to_string(port)}}));
  // Six starts within seconds: more than the default start limit allows.
  WriteUnit("web.service", Subst(R"([Unit]
StartLimitIntervalSec=0
[Service]
ExecStart={go}/healthserver -warmup 1s
TimeoutStartSec=30
[X-Supd]
ReadinessProbe=http://127.0.0.1:{port}/healthz
ReadinessProbeIntervalSec=100ms
)",
                                 {{"port", std::to_string(port)}}));
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  ASSERT_EQ(0, Supctl({"start", "web"}).exit_code) << SupdContext();
  int restarts_ok = 0;
  std::vector<long> took_ms;
  HeyReport hey = RunHeyDuring("http://127.0.0.1:" + std::to_string(port) + "/", 10s, 32, [&] {
    for (int i = 0; i < 5; ++i) {
      SCOPED_TRACE("restart " + std::to_string(i + 1));
      const pid_t old_pid = MainPid("web.service");
      const auto t0 = Clock::now();
      CommandResult r = Supctl({"restart", "web"});
      took_ms.push_back(std::chrono::duration_cast<Ms>(Clock::now() - t0).count());
      EXPECT_EQ(0, r.exit_code) << r.Describe() << SupdContext();
      if (r.exit_code != 0) continue;
      ++restarts_ok;
      // Not before the new instance's warm-up was over: it is what the probe waited for.
      EXPECT_GE(took_ms.back(), 1000) << "the restart did not wait for the new instance";
      const pid_t new_pid = MainPid("web.service");
      EXPECT_NE(old_pid, new_pid);
      EXPECT_EQ(ProcState::kGone, GetProcState(old_pid)) << "stop-then-start: the old one is gone";
      EXPECT_EQ(std::optional<bool>(true), Ready("web.service")) << StatusDump("web.service");
      auto body = HttpGet(port, 30s);
      EXPECT_TRUE(body) << "no answer right after the restart returned";
      if (body) {
        EXPECT_EQ("hello from " + std::to_string(new_pid) + "\n", *body);
      }
    }
  });
  std::ostringstream took;
  for (long ms : took_ms) took << " " << ms;
  std::cout << "[measure] 5 probe-gated restarts under hey -c 32: " << hey.ok << " ok, "
            << hey.failed << " failed; restarts took (ms)" << took.str() << "\n";
  ASSERT_TRUE(hey.summarized) << hey.output;
  EXPECT_EQ(0, hey.failed) << hey.output;
  EXPECT_GT(hey.ok, 0) << hey.output;
  EXPECT_EQ(5, restarts_ok);
}

// The pid of the first "out: ready" line in a service log written by a process other than
// `other` (log lines are "<time> <pid> out: <text>"), or 0.
pid_t ReadyPidOtherThan(const std::string& log, pid_t other) {
  std::istringstream in(log);
  std::string time, pid_text, stream, text;
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    if (!(fields >> time >> pid_text >> stream) || stream != "out:") continue;
    std::getline(fields >> std::ws, text);
    pid_t pid = 0;
    auto [end, ec] = std::from_chars(pid_text.data(), pid_text.data() + pid_text.size(), pid);
    if (ec == std::errc() && end == pid_text.data() + pid_text.size() && pid > 0 && pid != other &&
        text == "ready")
      return pid;
  }
  return 0;
}

// An overlap restart of a notify service on a held socket, gated by an exec probe that checks
// the new instance's $MAINPID: the test decides, per instance, whether it passes (ok.<pid>). A
// new instance that never passes within TimeoutStartSec= is rolled back and the old one serves
// on; the next one, given its file, replaces the old one. hey sees no failure throughout.
TEST_F(ProbesTest, OverlapRestartGatedByExecProbeRollsBackNeverReadyInstance) {
  if (!HeyInstalled()) GTEST_SKIP() << "hey is not installed";
  const int port = FreeTcpPort();
  WriteUnit("web.socket", Subst(R"([Socket]
ListenStream=127.0.0.1:{port}
)",
                                {{"port", std::to_string(port)}}));
  // The first start has no limit, so that finding the first pid in status (to create its file)
  // is not a race against a clock; the restarts then get TimeoutStartSec=3s.
  const std::string unit = R"([Unit]
StartLimitIntervalSec=0
[Service]
Type=notify
ExecStart={go}/healthserver -notify
TimeoutStartSec={timeout}
[X-Supd]
ReadinessProbe=exec:/bin/sh -c 'test -e {dir}/ok.$MAINPID'
ReadinessProbeIntervalSec=100ms
)";
  WriteUnit("web.service", Subst(unit, {{"timeout", "infinity"}}));
  auto ok_file = [&](pid_t pid) { return dir_ + "/ok." + std::to_string(pid); };
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  pid_t first = 0;
  {
    Background start(
        [&] {
          return Supctl({"start", "web"});
        },
        [&] { WriteFile(ok_file(MainPid("web.service")), ""); });
    ASSERT_TRUE(WaitFor([&] { return (first = MainPid("web.service")) > 0; }))
        << StatusDump("web.service") << SupdContext();
    EXPECT_EQ("starting", State("web.service")) << "READY=1 alone must not be enough";
    WriteFile(ok_file(first), "");
    const CommandResult& r = start.Wait();
    ASSERT_EQ(0, r.exit_code) << r.Describe() << SupdContext();
  }
  EXPECT_EQ(first, MainPid("web.service"));
  EXPECT_EQ(std::optional<bool>(true), Ready("web.service")) << StatusDump("web.service");
  WriteUnit("web.service", Subst(unit, {{"timeout", "3s"}}));
  ASSERT_EQ(0, Supctl({"daemon-reload"}).exit_code);

  pid_t rolled_back = 0, third = 0;
  HeyReport hey = RunHeyDuring("http://127.0.0.1:" + std::to_string(port) + "/", 8s, 32, [&] {
    {
      SCOPED_TRACE("restart 1: the new instance never passes");
      // The new instance lives for TimeoutStartSec=3s only; sampling status for it could miss
      // that window on a loaded machine, so its pid is read from its "ready" line afterwards.
      const CommandResult& r = Supctl({"restart", "web"});
      EXPECT_EQ(1, r.exit_code) << r.Describe();
      EXPECT_TRUE(WaitFor([&] {
        return (rolled_back = ReadyPidOtherThan(ServiceLog("web.service"), first)) > 0;
      }));
      ASSERT_GT(rolled_back, 0) << "no second instance in the log:\n"
                                << ServiceLog("web.service") << StatusDump("web.service");
      EXPECT_TRUE(Contains(r.err, "the previous instance keeps serving")) << r.Describe();
      EXPECT_TRUE(Contains(r.err, "ReadinessProbe=")) << r.Describe();
      EXPECT_EQ(first, MainPid("web.service"));
      EXPECT_EQ("running", State("web.service"));
      EXPECT_EQ(ProcState::kAlive, GetProcState(first));
      EXPECT_TRUE(WaitFor([&] { return GetProcState(rolled_back) == ProcState::kGone; }))
          << "the rolled-back instance " << rolled_back << " is "
          << ToString(GetProcState(rolled_back));
    }
    {
      SCOPED_TRACE("restart 2: the new instance passes once given its file");
      Background restart(
          [&] {
            return Supctl({"restart", "web"});
          },
          [&] { WriteFile(ok_file(MainPid("web.service")), ""); });
      EXPECT_TRUE(WaitFor([&] {
        auto st = Status("web.service");
        if (!st || (*st)["previous_instances"].empty() || !(*st)["main_pid"].is_number_integer())
          return false;
        third = (*st)["main_pid"].get<pid_t>();
        return third > 0 && third != first && third != rolled_back;
      })) << StatusDump("web.service");
      EXPECT_FALSE(restart.done()) << "the restart ended before its probe could pass";
      EXPECT_EQ(ProcState::kAlive, GetProcState(first)) << "the old one serves until then";
      WriteFile(ok_file(third), "");
      const CommandResult& r = restart.Wait();
      EXPECT_EQ(0, r.exit_code) << r.Describe() << SupdContext();
      EXPECT_EQ(third, MainPid("web.service"));
      EXPECT_TRUE(WaitFor([&] { return GetProcState(first) == ProcState::kGone; }))
          << "the old instance was not stopped";
    }
  });
  std::cout << "[measure] exec-gated overlap restarts (one rolled back) under hey -c 32: " << hey.ok
            << " ok, " << hey.failed << " failed\n";
  ASSERT_TRUE(hey.summarized) << hey.output;
  EXPECT_EQ(0, hey.failed) << hey.output;
  EXPECT_GT(hey.ok, 0) << hey.output;
  auto body = HttpGet(port);
  ASSERT_TRUE(body);
  EXPECT_EQ("hello from " + std::to_string(third) + "\n", *body);
  EXPECT_TRUE(WaitFor([&] {
    auto st = Status("web.service");
    return st && (*st)["previous_instances"].empty();
  })) << StatusDump("web.service");
}

}  // namespace
}  // namespace supd::integration
