// supd as the init of a container (issue 17) against the real supd, supctl and Go programs:
// PID 1 of its own pid namespace (unshare --pid --fork --mount-proc) reaping a double-forking
// service's orphan and stopping everything on SIGTERM with exit status 0; FailureAction= and
// SuccessAction= (exit, exit-force) with their *ExitStatus=; --stop-timeout; `supctl
// is-system-running`; /healthz and /readyz on the metrics listener.
//
// What the tests rely on (util-linux 2.38.1's unshare, read in its source and checked here):
// with --fork, unshare blocks SIGTERM and SIGINT while it waits for its child (a SIGTERM to
// unshare is not passed on: signals go to supd itself, SupdOptions::wrapper_forks), then exits
// with the child's exit status, or kills itself with the child's signal. A signal from the
// parent namespace reaches the namespace's init only when it has a handler (supd has one for
// SIGTERM) or is SIGKILL. Once PID 1 exits the kernel kills the rest of the namespace, so "its
// processes are gone" proves nothing there: how each service ended is read in supd's log
// ("main process N killed by signal SIGTERM") and in the services' own logs instead.
//
// Pids: supd as PID 1 reports its namespace's pids (status, the forker's pidfile); OuterPid()
// finds the same process in the test's /proc.
//
// Every wait has a deadline (WaitFor, WaitSupdExit); starts and stops that must stay in
// progress are held open by a service that goes on only when the test creates a file.

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <filesystem>
#include <future>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "lib/base/unique_fd.h"
#include "tests/integration/harness.h"
#include "tests/integration/http_client.h"

namespace supd::integration {
namespace {

const std::vector<std::string> kAsPid1 = {"/usr/bin/unshare", "--pid", "--fork", "--mount-proc"};

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::string Trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  size_t b = 0;
  while (b < s.size() && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  return s.substr(b);
}

// Why supd cannot run as PID 1 of a new pid namespace here, or nullopt when it can.
std::optional<std::string> Pid1Unavailable() {
  if (geteuid() != 0) return "needs root (unshare --pid)";
  if (access(kAsPid1[0].c_str(), X_OK) != 0) return kAsPid1[0] + " is not installed";
  std::vector<std::string> probe = kAsPid1;
  probe.push_back("/bin/true");
  CommandResult r = RunCommand(probe, 30s);
  if (r.exit_code != 0) return "`unshare --pid --fork --mount-proc true` failed: " + r.Describe();
  return std::nullopt;
}

std::string ReadLink(const std::string& path) {
  std::error_code ec;
  auto target = std::filesystem::read_symlink(path, ec);
  return ec ? "" : target.string();
}

// The last field of /proc/PID/status's NSpid: the pid in the process's own namespace.
pid_t InnermostPid(pid_t pid) {
  std::istringstream in(ProcStatusField(pid, "NSpid"));
  pid_t last = 0;
  for (pid_t p; in >> p;) last = p;
  return last;
}

// The pid, in the test's /proc, of the process that is `ns_pid` in the pid namespace whose
// init is `init` (given by its pid here); 0 when there is none.
pid_t OuterPid(pid_t init, pid_t ns_pid) {
  const std::string ns = ReadLink("/proc/" + std::to_string(init) + "/ns/pid");
  if (ns.empty()) return 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename();
    pid_t pid = 0;
    auto [end, err] = std::from_chars(name.data(), name.data() + name.size(), pid);
    if (err != std::errc() || end != name.data() + name.size()) continue;
    if (ReadLink(entry.path().string() + "/ns/pid") == ns && InnermostPid(pid) == ns_pid)
      return pid;
  }
  return 0;
}

// Zombies whose parent is `pid`: what it has not reaped.
std::vector<pid_t> ZombieChildrenOf(pid_t pid) {
  std::vector<pid_t> out;
  for (pid_t child : ChildrenOf(pid))
    if (GetProcState(child) == ProcState::kZombie) out.push_back(child);
  return out;
}

std::string Join(const std::vector<pid_t>& pids) {
  std::string out;
  for (pid_t p : pids)
    out += (out.empty() ? "" : ", ") + std::to_string(p) + " (" + ProcCmdline(p) + ")";
  return out;
}

// Whether `pid` holds a connected unix socket (read from /proc/net/unix and its fds): a
// supctl that has reached supd's control socket.
bool HasConnectedUnixSocket(pid_t pid) {
  std::set<std::string> connected;  // inodes of sockets in state 03 (SS_CONNECTED)
  std::istringstream net(ReadFile("/proc/net/unix"));
  std::string line;
  std::getline(net, line);  // header
  while (std::getline(net, line)) {
    // Num RefCount Protocol Flags Type St Inode [Path]
    std::istringstream f(line);
    std::string num, ref, proto, flags, type, st, inode;
    if (f >> num >> ref >> proto >> flags >> type >> st >> inode && st == "03")
      connected.insert(inode);
  }
  std::error_code ec;
  for (const auto& fd :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec)) {
    const std::string target = ReadLink(fd.path().string());
    if (target.rfind("socket:[", 0) == 0 &&
        connected.count(target.substr(8, target.size() - 9)) > 0)
      return true;
  }
  return false;
}

// Whether `pid`'s main thread is asleep in nanosleep/clock_nanosleep (/proc/PID/syscall).
bool InSleepSyscall(pid_t pid) {
  const std::string call = ReadFile("/proc/" + std::to_string(pid) + "/syscall");
  int nr = -1;
  std::from_chars(call.data(), call.data() + call.size(), nr);
  return nr == SYS_clock_nanosleep || nr == SYS_nanosleep;
}

// A supctl that is waiting on supd's answer: connected to it, or asleep between two asks
// (`is-system-running --wait` asks again every 50 ms, and sleeps only after an answer that
// says to wait). Either shows that it has reached supd.
bool WaitingOnSupd(pid_t pid) { return HasConnectedUnixSocket(pid) || InSleepSyscall(pid); }

// A child of ours whose command line contains `needle` (a supctl run by a thread); 0 if none.
pid_t ChildWithCmdline(const std::string& needle) {
  for (pid_t child : ChildrenOf(getpid()))
    if (Contains(ProcCmdline(child), needle)) return child;
  return 0;
}


// A service that logs each SIGTERM and ignores it, and ends only when it is killed, or when
// `release` (a path, or "" for never) exists. Its `sleep` dies of a SIGTERM sent to the whole
// cgroup; the loop goes on.
std::string StubbornUnit(const std::string& release, int timeout_stop_sec) {
  const std::string until = release.empty() ? ":" : "[ ! -e " + release + " ]";
  return Subst(R"([Service]
ExecStart=/bin/sh -c 'trap "echo got SIGTERM, ignoring it" TERM; echo up; while {until}; do sleep 0.1; done; echo released'
TimeoutStopSec={timeout}
[Install]
WantedBy=multi-user.target
)",
               {{"until", until}, {"timeout", std::to_string(timeout_stop_sec)}});
}

constexpr const char* kSleeperUnit = R"([Service]
ExecStart={go}/crasher -sleep
[Install]
WantedBy=multi-user.target
)";

class ContainerTest : public SupdTest {
 protected:
  // supd's log line for the end of a service's main process, e.g. "killed by signal SIGTERM".
  bool SupdLogSays(const std::string& needle) { return Contains(SupdStderr(), needle); }
  bool WaitForSupdLog(const std::string& needle, Ms timeout = 30s) {
    return WaitFor([&] { return SupdLogSays(needle); }, timeout);
  }
  // `supctl start name`, for a unit that is not started at boot. Its exit code is not the
  // point (a process that fails at once may fail the start job too).
  void StartUnit(const std::string& name) {
    CommandResult r = Supctl({"start", name});
    std::cerr << "[test] supctl start " << name << ": " << r.Describe() << "\n";
  }
};

// ---- PID 1 -------------------------------------------------------------------------------

TEST_F(ContainerTest, Pid1ReapsADoubleForkedOrphanAndSigtermStopsEverythingWithExitZero) {
  if (auto why = Pid1Unavailable()) GTEST_SKIP() << *why;
  const int port = FreeTcpPort();
  WriteUnit("family.service", R"([Service]
ExecStart={go}/forker -orphan-until {dir}/release -pidfile {dir}/family.pids
[Install]
WantedBy=multi-user.target
)");
  WriteUnit("web.service", Subst(R"([Service]
ExecStart={go}/httpserver -addr 127.0.0.1:{port}
[Install]
WantedBy=multi-user.target
)",
                                 {{"port", std::to_string(port)}}));
  WriteUnit("sleeper.service", kSleeperUnit);
  SupdOptions options;
  options.wrapper = kAsPid1;
  options.wrapper_forks = true;
  ASSERT_NO_FATAL_FAILURE(StartSupd(options));
  const pid_t supd = SupdOwnPid();

  // PID 1 of its namespace: so says the kernel, and so says supd's own log.
  EXPECT_EQ(1, InnermostPid(supd)) << "NSpid: " << ProcStatusField(supd, "NSpid");
  EXPECT_TRUE(SupdLogSays(" supd[1] ")) << SupdContext();

  std::map<std::string, pid_t> inner;  // service → its main process, as supd sees it
  std::map<std::string, pid_t> outer;  // the same, in the test's /proc
  for (const char* name : {"family.service", "web.service", "sleeper.service"}) {
    inner[name] = WaitForRunning(name);
    ASSERT_GT(inner[name], 0) << name << SupdContext();
    outer[name] = OuterPid(supd, inner[name]);
    ASSERT_GT(outer[name], 0) << name << " main pid " << inner[name] << " not found here";
  }
  ASSERT_TRUE(WaitForLog("web.service", "listening on")) << ServiceLog("web.service");
  EXPECT_TRUE(HttpGet(port)) << "web.service does not serve";

  // The middle process has exited: its child is an orphan, and supd adopted it.
  const std::string pidfile = dir_ + "/family.pids";
  ASSERT_TRUE(WaitFor([&] { return ReadPids(pidfile).size() == 3; }))
      << ServiceLog("family.service");
  const pid_t orphan_inner = ReadPids(pidfile)[2];
  const pid_t orphan = OuterPid(supd, orphan_inner);
  ASSERT_GT(orphan, 0) << "orphan " << orphan_inner << " not found" << ServiceLog("family");
  EXPECT_EQ(std::to_string(supd), ProcStatusField(orphan, "PPid"))
      << "the orphan " << orphan << " was not adopted by supd " << supd;

  // It exits when told; supd reaps it: gone, not a zombie, and no zombie of supd's is left.
  WriteFile(dir_ + "/release", "");
  EXPECT_TRUE(WaitFor([&] { return GetProcState(orphan) == ProcState::kGone; }))
      << "orphan " << orphan << " is " << ToString(GetProcState(orphan)) << SupdContext();
  EXPECT_TRUE(WaitForSupdLog("reaped orphan pid " + std::to_string(orphan_inner))) << SupdContext();
  EXPECT_TRUE(WaitFor([&] { return ZombieChildrenOf(supd).empty(); }))
      << "zombies of supd: " << Join(ZombieChildrenOf(supd));
  EXPECT_EQ(ProcState::kAlive, GetProcState(outer["family.service"]))
      << "the service's main process ended with its orphan";

  // SIGTERM to supd (not to unshare, which blocks it): every service stops, supd exits 0 and
  // unshare exits with supd's status.
  const auto t0 = Clock::now();
  const int code = StopSupd(60s);
  std::cerr << "[measure] PID 1 supd: SIGTERM → exit took "
            << std::chrono::duration_cast<Ms>(Clock::now() - t0).count() << " ms\n";
  EXPECT_EQ(0, code) << SupdContext();
  const std::string log = SupdStderr();
  EXPECT_TRUE(Contains(log, "SIGTERM: stopping all services")) << log;
  EXPECT_TRUE(Contains(log, "all services stopped; exiting")) << log;
  // Each ended of the orderly stop, not of the namespace's end.
  EXPECT_TRUE(Contains(ServiceLog("web.service"), "SIGTERM received, draining"))
      << ServiceLog("web.service");
  EXPECT_TRUE(Contains(ServiceLog("web.service"), "drained")) << ServiceLog("web.service");
  for (const char* name : {"sleeper.service", "family.service"}) {
    EXPECT_TRUE(Contains(log, std::string(name) + ": main process " + std::to_string(inner[name]) +
                                  " killed by signal SIGTERM"))
        << log;
  }
  EXPECT_TRUE(Contains(log, "web.service: main process " + std::to_string(inner["web.service"]) +
                                " exited with status 0"))
      << log;
  for (const auto& [name, pid] : outer)
    EXPECT_EQ(ProcState::kGone, GetProcState(pid)) << name << " pid " << pid << " after the exit";
}

// ---- FailureAction= / SuccessAction= -------------------------------------------------------

// essential.service fails (exit 3, no Restart=) once other.service runs: supd stops other with
// SIGTERM, logs why, and exits with `expected`. Under `wrapper` when given (PID 1).
class FailureActionTest : public ContainerTest {
 protected:
  void RunFailureAction(const std::string& exit_status_line, int expected, bool as_pid1) {
    WriteUnit("essential.service", R"([Unit]
FailureAction=exit
)" + exit_status_line + R"(
[Service]
ExecStart={go}/crasher -exit-code 3
)");
    WriteUnit("other.service", kSleeperUnit);
    SupdOptions options;
    if (as_pid1) {
      options.wrapper = kAsPid1;
      options.wrapper_forks = true;
    }
    ASSERT_NO_FATAL_FAILURE(StartSupd(options));
    const pid_t other = WaitForRunning("other.service");
    ASSERT_GT(other, 0) << SupdContext();
    StartUnit("essential.service");
    const int code = WaitSupdExit(60s);
    EXPECT_EQ(expected, code) << SupdContext();
    const std::string log = SupdStderr();
    EXPECT_TRUE(Contains(log,
                         "essential.service: FailureAction=exit: stopping supd with exit "
                         "status " +
                             std::to_string(expected)))
        << log;
    // An orderly stop: other ended of SIGTERM (crasher -sleep keeps its default action), not
    // of a SIGKILL.
    EXPECT_TRUE(Contains(
        log, "other.service: main process " + std::to_string(other) + " killed by signal SIGTERM"))
        << log;
    EXPECT_FALSE(Contains(log, "killed by signal SIGKILL")) << log;
    if (!as_pid1) {
      EXPECT_EQ(ProcState::kGone, GetProcState(other));
    }
  }
};

TEST_F(FailureActionTest, ExitWithFailureActionExitStatusStopsTheOthersAndExitsWithIt) {
  RunFailureAction("FailureActionExitStatus=7", 7, false);
}

TEST_F(FailureActionTest, ExitWithoutExitStatusExitsWithTheMainProcesssExitCode) {
  RunFailureAction("", 3, false);
}

TEST_F(FailureActionTest, ExitAsPid1PassesTheStatusThroughUnshare) {
  if (auto why = Pid1Unavailable()) GTEST_SKIP() << *why;
  RunFailureAction("FailureActionExitStatus=7", 7, true);
}

TEST_F(ContainerTest, SuccessActionExitOnAOneshotExitsZeroAfterStoppingTheRest) {
  WriteUnit("job.service", R"([Unit]
SuccessAction=exit
[Service]
Type=oneshot
ExecStart={go}/crasher -exit-code 0
)");
  WriteUnit("other.service", kSleeperUnit);
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  const pid_t other = WaitForRunning("other.service");
  ASSERT_GT(other, 0) << SupdContext();
  StartUnit("job.service");
  EXPECT_EQ(0, WaitSupdExit(60s)) << SupdContext();
  const std::string log = SupdStderr();
  EXPECT_TRUE(Contains(log, "job.service: SuccessAction=exit: stopping supd with exit status 0"))
      << log;
  // supd exited of the action, not of a signal of ours.
  EXPECT_FALSE(Contains(log, "SIGTERM: stopping all services")) << log;
  EXPECT_TRUE(Contains(
      log, "other.service: main process " + std::to_string(other) + " killed by signal SIGTERM"))
      << log;
  EXPECT_EQ(ProcState::kGone, GetProcState(other));
}

TEST_F(ContainerTest, SuccessActionExitStatusIsSupdsExitCode) {
  WriteUnit("job.service", R"([Unit]
SuccessAction=exit
SuccessActionExitStatus=5
[Service]
Type=oneshot
ExecStart={go}/crasher -exit-code 0
)");
  WriteUnit("other.service", kSleeperUnit);
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  const pid_t other = WaitForRunning("other.service");
  ASSERT_GT(other, 0) << SupdContext();
  StartUnit("job.service");
  EXPECT_EQ(5, WaitSupdExit(60s)) << SupdContext();
  const std::string log = SupdStderr();
  EXPECT_TRUE(Contains(log, "job.service: SuccessAction=exit: stopping supd with exit status 5"))
      << log;
  EXPECT_TRUE(Contains(
      log, "other.service: main process " + std::to_string(other) + " killed by signal SIGTERM"))
      << log;
}

TEST_F(ContainerTest, ExitForceKillsTheOthersAtOnceWithoutTheirStopTimeout) {
  WriteUnit("trigger.service", R"([Unit]
FailureAction=exit-force
FailureActionExitStatus=9
[Service]
ExecStart={go}/crasher -exit-code 3
)");
  // Would hold an orderly stop for 60 s (no --stop-timeout cap either): exit-force must not
  // wait for it, nor send it SIGTERM.
  WriteUnit("stubborn.service", StubbornUnit("", 60));
  SupdOptions options;
  options.extra_args = {"--stop-timeout", "infinity"};
  ASSERT_NO_FATAL_FAILURE(StartSupd(options));
  const pid_t stubborn = WaitForRunning("stubborn.service");
  ASSERT_GT(stubborn, 0) << SupdContext();
  ASSERT_TRUE(WaitForLog("stubborn.service", "up")) << ServiceLog("stubborn.service");
  const auto t0 = Clock::now();
  StartUnit("trigger.service");
  const int code = WaitSupdExit(60s);
  const auto elapsed = std::chrono::duration_cast<Ms>(Clock::now() - t0);
  std::cerr << "[measure] exit-force: failure → supd's exit took " << elapsed.count() << " ms\n";
  EXPECT_EQ(9, code) << SupdContext();
  // Well before stubborn's TimeoutStopSec=60 (the bound is generous for a loaded machine).
  EXPECT_LT(elapsed, 20s);
  const std::string log = SupdStderr();
  EXPECT_TRUE(Contains(log,
                       "trigger.service: FailureAction=exit-force: stopping supd with exit "
                       "status 9"))
      << log;
  EXPECT_TRUE(Contains(log, "stubborn.service: main process " + std::to_string(stubborn) +
                                " killed by signal SIGKILL"))
      << log;
  EXPECT_FALSE(Contains(ServiceLog("stubborn.service"), "got SIGTERM"))
      << ServiceLog("stubborn.service");
  EXPECT_EQ(ProcState::kGone, GetProcState(stubborn));
}

// ---- --stop-timeout ---------------------------------------------------------------------

TEST_F(ContainerTest, StopTimeoutCapsTheWholeStopAndKillsWhatIsLeft) {
  WriteUnit("stubborn.service", StubbornUnit("", 60));
  WriteUnit("sleeper.service", kSleeperUnit);
  SupdOptions options;
  options.extra_args = {"--stop-timeout", "2s"};
  ASSERT_NO_FATAL_FAILURE(StartSupd(options));
  const pid_t stubborn = WaitForRunning("stubborn.service");
  const pid_t sleeper = WaitForRunning("sleeper.service");
  ASSERT_GT(stubborn, 0) << SupdContext();
  ASSERT_GT(sleeper, 0) << SupdContext();
  ASSERT_TRUE(WaitForLog("stubborn.service", "up")) << ServiceLog("stubborn.service");
  const auto t0 = Clock::now();
  const int code = StopSupd(60s);
  const auto elapsed = std::chrono::duration_cast<Ms>(Clock::now() - t0);
  std::cerr << "[measure] --stop-timeout 2s: SIGTERM → exit took " << elapsed.count() << " ms\n";
  EXPECT_EQ(0, code) << SupdContext();
  // ~2 s; far below stubborn's TimeoutStopSec=60, generous for a loaded machine.
  EXPECT_LT(elapsed, 20s);
  const std::string log = SupdStderr();
  // Only stubborn is left when the cap strikes: sleeper ended of its SIGTERM before.
  EXPECT_TRUE(Contains(log, "stop timeout (2s) reached: killing what is left: stubborn.service\n"))
      << log;
  EXPECT_TRUE(Contains(ServiceLog("stubborn.service"), "got SIGTERM, ignoring it"))
      << ServiceLog("stubborn.service");
  EXPECT_TRUE(Contains(log, "stubborn.service: main process " + std::to_string(stubborn) +
                                " killed by signal SIGKILL"))
      << log;
  EXPECT_EQ(ProcState::kGone, GetProcState(stubborn));
  EXPECT_EQ(ProcState::kGone, GetProcState(sleeper));
}

// ---- supctl is-system-running -------------------------------------------------------------

TEST_F(ContainerTest, IsSystemRunningSaysRunningDegradedAndOffline) {
  // No supd on the socket yet.
  CommandResult offline = Supctl({"is-system-running"});
  EXPECT_EQ(1, offline.exit_code) << offline.Describe();
  EXPECT_EQ("offline\n", offline.out) << offline.Describe();
  CommandResult offline_quiet = Supctl({"is-system-running", "--quiet"});
  EXPECT_EQ(1, offline_quiet.exit_code) << offline_quiet.Describe();
  EXPECT_EQ("", offline_quiet.out) << offline_quiet.Describe();

  WriteUnit("a.service", kSleeperUnit);
  WriteUnit("bad.service", R"([Service]
ExecStart={go}/crasher -exit-code 3
)");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  ASSERT_GT(WaitForRunning("a.service"), 0) << SupdContext();
  CommandResult running;
  EXPECT_TRUE(WaitFor([&] {
    running = Supctl({"is-system-running"});
    return running.out != "starting\n";
  })) << running.Describe();
  EXPECT_EQ(0, running.exit_code) << running.Describe();
  EXPECT_EQ("running\n", running.out) << running.Describe();
  CommandResult quiet = Supctl({"is-system-running", "--quiet"});
  EXPECT_EQ(0, quiet.exit_code) << quiet.Describe();
  EXPECT_EQ("", quiet.out) << quiet.Describe();
  EXPECT_EQ("", quiet.err) << quiet.Describe();

  StartUnit("bad.service");
  ASSERT_TRUE(WaitForState("bad.service", "failed")) << SupdContext();
  CommandResult degraded = Supctl({"is-system-running"});
  EXPECT_EQ(1, degraded.exit_code) << degraded.Describe();
  EXPECT_EQ("degraded\n", degraded.out) << degraded.Describe();
  CommandResult degraded_quiet = Supctl({"is-system-running", "--quiet"});
  EXPECT_EQ(1, degraded_quiet.exit_code) << degraded_quiet.Describe();
  EXPECT_EQ("", degraded_quiet.out) << degraded_quiet.Describe();
  // --wait does not wait on degraded: it is not a state that passes.
  CommandResult degraded_wait = Supctl({"is-system-running", "--wait"});
  EXPECT_EQ(1, degraded_wait.exit_code) << degraded_wait.Describe();
  EXPECT_EQ("degraded\n", degraded_wait.out) << degraded_wait.Describe();

  // Back to running once the failure is reset.
  CommandResult reset = Supctl({"reset-failed", "bad.service"});
  EXPECT_EQ(0, reset.exit_code) << reset.Describe();
  CommandResult again = Supctl({"is-system-running"});
  EXPECT_EQ("running\n", again.out) << again.Describe();
  EXPECT_EQ(0, again.exit_code) << again.Describe();
}

TEST_F(ContainerTest, IsSystemRunningSaysStartingWhileAStartIsHeldAndWaitWaitsForIt) {
  // Becomes ready only once the test creates {dir}/ready: the boot's start job stays open.
  WriteUnit("held.service", R"([Service]
Type=notify
ExecStart={go}/notifier -ready-when {dir}/ready
TimeoutStartSec=300
[Install]
WantedBy=multi-user.target
)");
  WriteUnit("a.service", kSleeperUnit);
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  ASSERT_TRUE(WaitForLog("held.service", "waiting for " + dir_ + "/ready"))
      << ServiceLog("held.service") << SupdContext();
  CommandResult starting = Supctl({"is-system-running"});
  EXPECT_EQ(1, starting.exit_code) << starting.Describe();
  EXPECT_EQ("starting\n", starting.out) << starting.Describe();
  CommandResult quiet = Supctl({"is-system-running", "--quiet"});
  EXPECT_EQ(1, quiet.exit_code) << quiet.Describe();
  EXPECT_EQ("", quiet.out) << quiet.Describe();

  // --wait, on another thread: it must have reached supd before the start is released (it is
  // seen connected to it, or asleep between two asks), and answer `running` only after.
  auto waiting = std::async(std::launch::async, [this] {
    return Supctl({"is-system-running", "--wait"});
  });
  pid_t waiter = 0;
  EXPECT_TRUE(WaitFor(
      [&] {
        waiter = ChildWithCmdline("is-system-running --wait");
        return waiter > 0 && WaitingOnSupd(waiter);
      },
      30s, 2ms))
      << "supctl --wait never reached supd";
  EXPECT_NE(std::future_status::ready, waiting.wait_for(0s))
      << "supctl --wait answered while the start was held: " << waiting.get().Describe();
  EXPECT_EQ("starting\n", Supctl({"is-system-running"}).out);
  WriteFile(dir_ + "/ready", "");
  ASSERT_EQ(std::future_status::ready, waiting.wait_for(60s)) << "--wait did not return";
  CommandResult waited = waiting.get();
  EXPECT_EQ(0, waited.exit_code) << waited.Describe();
  EXPECT_EQ("running\n", waited.out) << waited.Describe();
  EXPECT_EQ("running", State("held.service"));
  CommandResult running = Supctl({"is-system-running"});
  EXPECT_EQ(0, running.exit_code) << running.Describe();
  EXPECT_EQ("running\n", running.out) << running.Describe();
}

// `initializing`: the units are not loaded while supd stops what a SIGKILLed predecessor left
// (a service that ignores SIGTERM holds that for the leftover stop's 5 s before its SIGKILL).
// That window is supd's own and bounded; a thread asks all along the start-up and records the
// words in order: offline (no socket yet), initializing, then running.
TEST_F(ContainerTest, IsSystemRunningSaysInitializingBeforeTheUnitsAreLoaded) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root (cgroups: the predecessor's leftovers)";
  // Ignores SIGTERM silently: once supd is killed, an `echo` in a trap would die of SIGPIPE on
  // the log pipe that supd held, and end the hold at once.
  WriteUnit("stubborn.service", R"([Service]
ExecStart=/bin/sh -c 'trap "" TERM; echo up; while :; do sleep 1; done'
TimeoutStopSec=1
[Install]
WantedBy=multi-user.target
)");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  const pid_t stubborn = WaitForRunning("stubborn.service");
  ASSERT_GT(stubborn, 0) << SupdContext();
  auto st = Status("stubborn.service");
  ASSERT_TRUE(st);
  if (st->value("tracking", "") != "cgroup")
    GTEST_SKIP() << "no cgroup tracking here: " << st->dump();
  ASSERT_TRUE(WaitForLog("stubborn.service", "up")) << ServiceLog("stubborn.service");
  ASSERT_NO_FATAL_FAILURE(KillSupd());
  TrackPid(stubborn);  // a child of ours now; supd's successor must stop it

  std::vector<std::pair<std::string, int>> answers;  // distinct answers in order
  std::thread asker([&] {
    const auto deadline = Clock::now() + 120s;
    while (Clock::now() < deadline) {
      CommandResult r = Supctl({"is-system-running"});
      if (answers.empty() || answers.back().first != r.out)
        answers.emplace_back(r.out, r.exit_code);
      if (r.out == "running\n") return;
      // Not a word of is-system-running's (a supctl without the verb): asking again is useless.
      static const std::set<std::string> kWords = {"offline\n", "initializing\n", "starting\n",
                                                   "degraded\n", "stopping\n"};
      if (kWords.count(r.out) == 0) return;
    }
  });
  SupdOptions options;
  options.ready_timeout = 60s;
  StartSupd(options);
  // The predecessor's stubborn process is our child: reap it once it is killed.
  WaitFor([&] {
    waitpid(stubborn, nullptr, WNOHANG);
    return GetProcState(stubborn) == ProcState::kGone;
  });
  asker.join();
  // What the killed predecessor's services left as zombies (sh's sleep) was reparented to us.
  for (pid_t pid : ChildrenOf(getpid())) {
    if (pid != supd_pid_ && GetProcState(pid) == ProcState::kZombie) waitpid(pid, nullptr, 0);
  }
  std::string seen;
  for (const auto& [word, code] : answers)
    seen += "'" + word + "' (exit " + std::to_string(code) + ") ";
  std::vector<std::string> words;
  for (const auto& a : answers) words.push_back(a.first);
  // The first answers may be "offline" (before the socket listens).
  auto it = std::find(words.begin(), words.end(), "initializing\n");
  ASSERT_NE(words.end(), it) << "never saw initializing: " << seen;
  EXPECT_EQ(1, answers[it - words.begin()].second) << seen;
  for (auto before = words.begin(); before != it; ++before) EXPECT_EQ("offline\n", *before) << seen;
  EXPECT_EQ("running\n", words.back()) << seen;
  EXPECT_TRUE(SupdLogSays("left by a previous supd")) << SupdContext();
}

TEST_F(ContainerTest, IsSystemRunningSaysStoppingWhileServicesStop) {
  // Ignores SIGTERM and goes on until {dir}/release exists: the stop is held open.
  WriteUnit("stubborn.service", StubbornUnit(dir_ + "/release", 300));
  SupdOptions options;
  options.extra_args = {"--stop-timeout", "infinity"};
  ASSERT_NO_FATAL_FAILURE(StartSupd(options));
  ASSERT_GT(WaitForRunning("stubborn.service"), 0) << SupdContext();
  ASSERT_TRUE(WaitForLog("stubborn.service", "up")) << ServiceLog("stubborn.service");
  ASSERT_EQ(0, kill(SupdOwnPid(), SIGTERM));
  ASSERT_TRUE(WaitForLog("stubborn.service", "got SIGTERM, ignoring it"))
      << ServiceLog("stubborn.service") << SupdContext();
  CommandResult stopping = Supctl({"is-system-running"});
  EXPECT_EQ(1, stopping.exit_code) << stopping.Describe();
  EXPECT_EQ("stopping\n", stopping.out) << stopping.Describe();
  WriteFile(dir_ + "/release", "");
  EXPECT_EQ(0, WaitSupdExit(60s)) << SupdContext();
  EXPECT_TRUE(Contains(ServiceLog("stubborn.service"), "released"));
}

// ---- /healthz and /readyz -----------------------------------------------------------------

TEST_F(ContainerTest, HealthzAndReadyzFollowTheSystemState) {
  const int port = FreeTcpPort();
  ASSERT_GT(port, 0);
  WriteUnit("held.service", R"([Service]
Type=notify
ExecStart={go}/notifier -ready-when {dir}/ready
TimeoutStartSec=300
[Install]
WantedBy=multi-user.target
)");
  WriteUnit("bad.service", R"([Service]
ExecStart={go}/crasher -exit-code 3
)");
  SupdOptions options;
  options.extra_args = {"--metrics-listen", "127.0.0.1:" + std::to_string(port)};
  ASSERT_NO_FATAL_FAILURE(StartSupd(options));
  ASSERT_TRUE(WaitForLog("held.service", "waiting for " + dir_ + "/ready"))
      << ServiceLog("held.service") << SupdContext();
  const std::string kText = "text/plain; charset=utf-8";

  auto healthz = HttpExchange(port, "GET", "/healthz");
  ASSERT_TRUE(healthz) << SupdContext();
  EXPECT_EQ(200, healthz->status) << healthz->Describe();
  EXPECT_EQ("ok", Trim(healthz->body)) << healthz->Describe();
  EXPECT_EQ(kText, healthz->Header("content-type")) << healthz->Describe();

  auto starting = HttpExchange(port, "GET", "/readyz");
  ASSERT_TRUE(starting);
  EXPECT_EQ(503, starting->status) << starting->Describe();
  EXPECT_EQ("starting", Trim(starting->body)) << starting->Describe();
  EXPECT_EQ(kText, starting->Header("content-type")) << starting->Describe();
  auto head = HttpExchange(port, "HEAD", "/readyz");
  ASSERT_TRUE(head);
  EXPECT_EQ(503, head->status) << head->Describe();
  EXPECT_EQ("", head->body) << head->Describe();

  WriteFile(dir_ + "/ready", "");
  std::optional<HttpResponse> ready;
  EXPECT_TRUE(WaitFor([&] {
    ready = HttpExchange(port, "GET", "/readyz");
    return ready && ready->status == 200;
  })) << (ready ? ready->Describe() : "no answer");
  ASSERT_TRUE(ready);
  EXPECT_EQ("running", Trim(ready->body)) << ready->Describe();
  EXPECT_EQ(kText, ready->Header("content-type")) << ready->Describe();
  auto head_ready = HttpExchange(port, "HEAD", "/readyz");
  ASSERT_TRUE(head_ready);
  EXPECT_EQ(200, head_ready->status) << head_ready->Describe();
  EXPECT_EQ("", head_ready->body) << head_ready->Describe();

  StartUnit("bad.service");
  ASSERT_TRUE(WaitForState("bad.service", "failed")) << SupdContext();
  auto degraded = HttpExchange(port, "GET", "/readyz");
  ASSERT_TRUE(degraded);
  EXPECT_EQ(503, degraded->status) << degraded->Describe();
  EXPECT_EQ("degraded", Trim(degraded->body)) << degraded->Describe();
  // Healthy all the same: supd's loop answers.
  auto healthz_degraded = HttpExchange(port, "GET", "/healthz");
  ASSERT_TRUE(healthz_degraded);
  EXPECT_EQ(200, healthz_degraded->status) << healthz_degraded->Describe();
  EXPECT_EQ("ok", Trim(healthz_degraded->body)) << healthz_degraded->Describe();
  auto head_healthz = HttpExchange(port, "HEAD", "/healthz");
  ASSERT_TRUE(head_healthz);
  EXPECT_EQ(200, head_healthz->status) << head_healthz->Describe();
  EXPECT_EQ("", head_healthz->body) << head_healthz->Describe();
}

}  // namespace
}  // namespace supd::integration
