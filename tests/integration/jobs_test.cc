// Requests that wait for a service (start, stop, restart): each one ends, and ends right.
// Regression tests of issue 11's bugs: a restart of a KillMode=none service that never started
// again, a failed overlap restart that forgot its new instance's cgroup, a control socket that
// answered before the units were loaded, waits without a deadline, and the old instance of an
// overlap restart stopped with the reloaded unit's settings.

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sstream>
#include <string>

#include "tests/integration/harness.h"

namespace supd::integration {
namespace {

using nlohmann::json;

class JobsTest : public SupdTest {
 protected:
  // A process that is our child now (supd's orphans are reparented to the test): reaped once
  // it dies, so that "gone" can be seen.
  static bool Gone(pid_t pid) {
    waitpid(pid, nullptr, WNOHANG);
    return GetProcState(pid) == ProcState::kGone;
  }
};

// Bug 1: with KillMode=none and no ExecStop= the stop of a restart ends at once; the restart
// used to stop the service and never start it, and supctl waited for ever.
TEST_F(JobsTest, RestartOfKillModeNoneWithoutExecStopStartsANewInstance) {
  WriteUnit("keep.service", R"([Service]
ExecStart=/bin/sleep 1000
KillMode=none
)");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  ASSERT_EQ(0, Supctl({"start", "keep"}).exit_code) << SupdContext();
  const pid_t first = WaitForRunning("keep.service");
  ASSERT_GT(first, 0) << SupdContext();
  TrackPid(first);
  CommandResult r = RunCommand({SUPCTL_BIN, "--socket", socket_, "restart", "keep"}, 20s);
  EXPECT_FALSE(r.timed_out) << "restart never answered: " << SupdContext();
  EXPECT_EQ(0, r.exit_code) << r.Describe() << SupdContext();
  const pid_t second = WaitForRunning("keep.service");
  EXPECT_GT(second, 0) << SupdContext();
  EXPECT_NE(first, second);
  // KillMode=none leaves the old process running, as systemd does.
  EXPECT_EQ(ProcState::kAlive, GetProcState(first));
  kill(first, SIGKILL);
  ASSERT_EQ(0, Supctl({"stop", "keep"}).exit_code) << SupdContext();
  if (second > 0) kill(second, SIGKILL);  // KillMode=none: the stop leaves it too
}

// Bug 2: a new instance that fails during an overlap restart may leave processes behind
// (KillMode=process signals only the main process). Its cgroup must stay tracked as stale, so
// that a kill of the whole service still reaches what it left.
TEST_F(JobsTest, FailedOverlapRestartKeepsTheNewInstancesLeftoversTracked) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root (cgroups)";
  const int port = FreeTcpPort();
  WriteUnit("web.socket", Subst("[Socket]\nListenStream=127.0.0.1:{port}\n",
                                {{"port", std::to_string(port)}}));
  // The second instance starts a background process, then dies before READY=1.
  WriteUnit("web.service", R"([Service]
Type=notify
NotifyAccess=all
KillMode=process
ExecStart=/bin/sh -c 'if [ -e {dir}/fail ]; then sleep 1000 & echo $$! > {dir}/leftover; exit 3; fi; exec {go}/activated'
)");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  ASSERT_EQ(0, Supctl({"start", "web"}).exit_code) << SupdContext();
  auto st = Status("web.service");
  ASSERT_TRUE(st);
  if (st->value("tracking", "") != "cgroup") GTEST_SKIP() << "no cgroup tracking here";
  const pid_t first = MainPid("web.service");
  WriteFile(dir_ + "/fail", "");
  TrackPidFile(dir_ + "/leftover");
  CommandResult r = Supctl({"restart", "web"});
  EXPECT_NE(0, r.exit_code) << "the new instance failed, the restart must say so";
  EXPECT_NE(std::string::npos, r.err.find("previous instance keeps serving")) << r.Describe();
  ASSERT_TRUE(WaitFor([&] { return !ReadPids(dir_ + "/leftover").empty(); })) << SupdContext();
  const pid_t leftover = ReadPids(dir_ + "/leftover").front();
  EXPECT_EQ(first, MainPid("web.service")) << "the old instance is the service again";
  EXPECT_EQ(ProcState::kAlive, GetProcState(leftover));
  // A kill of the whole service reaches the failed instance's leftover too.
  ASSERT_EQ(0, Supctl({"kill", "-s", "SIGKILL", "--kill-whom", "all", "web"}).exit_code)
      << SupdContext();
  EXPECT_TRUE(WaitFor([&] { return GetProcState(leftover) != ProcState::kAlive; }))
      << "the failed instance's process was no longer tracked: " << SupdContext();
}

// Bug 4: before its units are loaded (while a killed predecessor's services are still being
// stopped), supd answers nothing: a start in that window could have run a service twice.
// The leftover ignores SIGTERM, so supd must wait for its SIGKILL (5 s) before loading.
TEST_F(JobsTest, RequestsWaitUntilTheUnitsAreLoaded) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root (cgroups)";
  WriteUnit("stubborn.service", R"([Service]
ExecStart=/bin/sh -c 'trap "" TERM; echo $$$$ > {dir}/pid; exec sleep 1000'
TimeoutStopSec=1
[Install]
WantedBy=multi-user.target
)");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  const pid_t old = WaitForRunning("stubborn.service");
  ASSERT_GT(old, 0) << SupdContext();
  auto st = Status("stubborn.service");
  ASSERT_TRUE(st);
  if (st->value("tracking", "") != "cgroup") GTEST_SKIP() << "no cgroup tracking here";
  ASSERT_NO_FATAL_FAILURE(KillSupd());
  ASSERT_EQ(ProcState::kAlive, GetProcState(old));

  SupdOptions options;
  options.ready_timeout = 30s;
  ASSERT_NO_FATAL_FAILURE(StartSupd(options));  // waits for `supctl version` to answer
  // The answer came only once the predecessor's service was gone and the units loaded.
  EXPECT_NE(ProcState::kAlive, GetProcState(old)) << "supd answered before its units loaded";
  CommandResult r = Supctl({"start", "stubborn"});
  EXPECT_EQ(0, r.exit_code) << r.Describe();
  const pid_t now = MainPid("stubborn.service");
  EXPECT_GT(now, 0);
  EXPECT_NE(old, now);
  EXPECT_TRUE(WaitFor([&] { return Gone(old); }, 15s));
  for (pid_t pid : ChildrenOf(getpid()))
    if (pid != supd_pid_ && GetProcState(pid) == ProcState::kZombie) waitpid(pid, nullptr, 0);
}

// Bug 5: `--no-block` queues the operation and returns at once, as systemctl's; `--timeout`
// bounds the wait of supctl, and supd says that the operation goes on.
TEST_F(JobsTest, NoBlockReturnsAtOnceAndTimeoutBoundsTheWait) {
  WriteUnit("slow.service", R"([Service]
Type=notify
ExecStart={go}/notifier -never-ready
TimeoutStartSec=infinity
)");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  CommandResult r = RunCommand({SUPCTL_BIN, "--socket", socket_, "--no-block", "start", "slow"},
                               20s);
  EXPECT_FALSE(r.timed_out) << "--no-block waited: " << SupdContext();
  EXPECT_EQ(0, r.exit_code) << r.Describe();
  EXPECT_EQ("starting", State("slow.service"));
  // A second start joins the running one; its wait is bounded by --timeout.
  r = RunCommand({SUPCTL_BIN, "--socket", socket_, "start", "--timeout", "1s", "slow"}, 20s);
  EXPECT_FALSE(r.timed_out) << "--timeout did not bound the wait: " << SupdContext();
  EXPECT_EQ(1, r.exit_code) << r.Describe();
  EXPECT_NE(std::string::npos, r.err.find("timed out")) << r.Describe();
  EXPECT_NE(std::string::npos, r.err.find("still starting")) << r.Describe();
  EXPECT_EQ("starting", State("slow.service")) << "a timed-out wait must not cancel the start";
  ASSERT_EQ(0, Supctl({"stop", "slow"}).exit_code) << SupdContext();
  EXPECT_EQ("stopped", State("slow.service"));
}

// Bug 6: the old instance of an overlap restart is stopped as it was started: with its own
// unit's ExecStop= (and its $MAINPID) and KillSignal=, not those of a unit reloaded meanwhile.
TEST_F(JobsTest, OldInstanceOfAnOverlapRestartStopsWithItsOwnUnit) {
  const int port = FreeTcpPort();
  WriteUnit("web.socket", Subst("[Socket]\nListenStream=127.0.0.1:{port}\n",
                                {{"port", std::to_string(port)}}));
  WriteUnit("web.service", R"([Service]
Type=notify
ExecStart={go}/activated
ExecStop=/bin/sh -c 'echo v1 $MAINPID >> {dir}/execstop'
KillSignal=SIGINT
)");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  ASSERT_EQ(0, Supctl({"start", "web"}).exit_code) << SupdContext();
  const pid_t first = MainPid("web.service");
  ASSERT_GT(first, 0);
  WriteUnit("web.service", R"([Service]
Type=notify
ExecStart={go}/activated
ExecStop=/bin/sh -c 'echo v2 $MAINPID >> {dir}/execstop'
KillSignal=SIGTERM
)");
  ASSERT_EQ(0, Supctl({"daemon-reload"}).exit_code) << SupdContext();
  ASSERT_EQ(0, Supctl({"restart", "web"}).exit_code) << SupdContext();
  const pid_t second = MainPid("web.service");
  EXPECT_NE(first, second);
  ASSERT_TRUE(WaitFor([&] { return GetProcState(first) == ProcState::kGone; }))
      << SupdContext();
  EXPECT_EQ("v1 " + std::to_string(first) + "\n", ReadFile(dir_ + "/execstop"))
      << "the old instance's own ExecStop= with its own $MAINPID";
  EXPECT_TRUE(WaitForLog("web.service", std::to_string(first) + " err: "))
      << ServiceLog("web.service");
  const std::string log = ServiceLog("web.service");
  // activated logs the signal that stopped it: SIGINT is "interrupt".
  bool interrupted = false;
  std::istringstream in(log);
  for (std::string line; std::getline(in, line);)
    if (line.find(" " + std::to_string(first) + " err") != std::string::npos &&
        line.find("interrupt received") != std::string::npos)
      interrupted = true;
  EXPECT_TRUE(interrupted) << "the old instance did not get its own KillSignal=SIGINT:\n" << log;
  ASSERT_EQ(0, Supctl({"stop", "web"}).exit_code) << SupdContext();
  EXPECT_EQ("v1 " + std::to_string(first) + "\nv2 " + std::to_string(second) + "\n",
            ReadFile(dir_ + "/execstop"));
}

}  // namespace
}  // namespace supd::integration
