#include "lib/supervise/service_fsm.h"

#include <signal.h>

#include <gtest/gtest.h>

#include <limits>

namespace supd {
namespace {

using K = Action::Kind;
using namespace std::chrono_literals;

using CK = Cause::Kind;

// The conditions hold and the instance is prepared: what the Manager answers to
// kCheckConditions and kPrepareInstance when all is well. Returns the second answer's actions.
Actions PassConditions(ServiceFsm& f, Usec now) {
  Actions a = f.OnConditionsChecked(true, false, "", now);
  EXPECT_EQ(a.back().kind, K::kPrepareInstance);
  return f.OnInstancePrepared(a.back().attempt, "", now);
}

ExecCommand Cmd(const std::string& path) {
  ExecCommand c;
  c.path = path;
  c.argv = {path};
  c.source = "test.service:1";
  return c;
}

class FsmTest : public ::testing::Test {
 protected:
  FsmTest() {
    spec.name = "test.service";
    spec.exec_start = {Cmd("/bin/main")};
    spec.restart_sec = 0us;
  }

  // Starts a simple service to running, answering the condition check with "ok".
  void StartToRunning() {
    Actions a = fsm.Start(now);
    ASSERT_TRUE(Has(a, K::kCheckConditions));
    a = PassConditions(fsm, now);
    ASSERT_TRUE(Has(a, K::kSpawnMain));
    a = fsm.OnMainSpawned(now);
    ASSERT_EQ(fsm.state(), State::kRunning);
  }

  static bool Has(const Actions& acts, K kind) {
    for (const auto& a : acts)
      if (a.kind == kind) return true;
    return false;
  }
  static const Action* Find(const Actions& acts, K kind) {
    for (const auto& a : acts)
      if (a.kind == kind) return &a;
    return nullptr;
  }

  ServiceSpec spec;
  ServiceFsm fsm{&spec};
  Usec now{1'000'000'000};
};

TEST_F(FsmTest, AnOomKillExplainsTheCauseAndIsSystemdsOomKillResult) {
  StartToRunning();
  fsm.OnMainExited(ExitStatus::Signal(SIGKILL), "", now,
                   "killed by the OOM killer (MemoryMax=64M)");
  EXPECT_EQ(fsm.cause().kind, CK::kMainExited);
  EXPECT_EQ(fsm.cause().text, "killed by the OOM killer (MemoryMax=64M)");
  EXPECT_EQ(fsm.result(), ServiceResult::kOomKill);
  EXPECT_STREQ("oom-kill", ResultName(fsm.result()));
}

// systemd: Restart=on-abnormal restarts after an OOM kill, Restart=on-abort (unclean signal or
// core dump only) does not.
TEST_F(FsmTest, AnOomKillRestartsOnAbnormalButNotOnAbort) {
  for (RestartPolicy policy : {RestartPolicy::kOnAbnormal, RestartPolicy::kOnAbort}) {
    ServiceSpec sp = spec;
    sp.restart = policy;
    ServiceFsm f{&sp};
    f.Start(now);
    PassConditions(f, now);
    f.OnMainSpawned(now);
    ASSERT_EQ(f.state(), State::kRunning);
    f.OnMainExited(ExitStatus::Signal(SIGKILL), "", now, "killed by the OOM killer");
    f.OnAllGone(now);
    EXPECT_EQ(f.state(), policy == RestartPolicy::kOnAbnormal ? State::kBackoff : State::kFailed)
        << (policy == RestartPolicy::kOnAbnormal ? "on-abnormal" : "on-abort");
  }
}

TEST_F(FsmTest, SimpleStartIsRunningOnceSpawned) {
  StartToRunning();
  EXPECT_TRUE(fsm.ready());
  EXPECT_TRUE(fsm.main_alive());
}

TEST_F(FsmTest, ExecIsReadyOnlyAfterExecve) {
  spec.type = ServiceType::kExec;
  fsm.Start(now);
  PassConditions(fsm, now);
  fsm.OnMainSpawned(now);
  EXPECT_EQ(fsm.state(), State::kStarting);
  fsm.OnMainExecOk(now);
  EXPECT_EQ(fsm.state(), State::kRunning);
}

TEST_F(FsmTest, ExecFailureBeforeReadyGoesThroughRestartPolicy) {
  spec.type = ServiceType::kExec;
  spec.restart = RestartPolicy::kNo;
  fsm.Start(now);
  PassConditions(fsm, now);
  fsm.OnMainSpawned(now);
  Actions a = fsm.OnMainExited(ExitStatus::Code(203), "exec /x: No such file or directory", now);
  EXPECT_TRUE(fsm.waiting_for_empty());
  a = fsm.OnAllGone(now);
  EXPECT_EQ(fsm.state(), State::kFailed);
  EXPECT_EQ(fsm.result(), ServiceResult::kExitCode);
  EXPECT_EQ(fsm.cause().kind, CK::kExecFailed);
  EXPECT_EQ(fsm.cause().text, "exec /x: No such file or directory");
}

TEST_F(FsmTest, CrashWithRestartAlwaysBacksOffThenRestarts) {
  spec.restart = RestartPolicy::kAlways;
  StartToRunning();
  fsm.OnMainExited(ExitStatus::Signal(SIGSEGV), "", now);
  Actions a = fsm.OnAllGone(now);
  EXPECT_EQ(fsm.state(), State::kBackoff);
  const Action* t = Find(a, K::kArmTimer);
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->delay, 0us);
  a = fsm.OnTimer(now);
  EXPECT_TRUE(Has(a, K::kCheckConditions));
  a = PassConditions(fsm, now);
  EXPECT_TRUE(Has(a, K::kSpawnMain));
  fsm.OnMainSpawned(now);
  EXPECT_EQ(fsm.state(), State::kRunning);
  EXPECT_EQ(fsm.restarts(), 1u);
}


TEST_F(FsmTest, StopSendsKillSignalThenSigkillAfterTimeout) {
  spec.timeout_stop = 2s;
  StartToRunning();
  Actions a = fsm.Stop(now);
  EXPECT_EQ(fsm.state(), State::kStopping);
  ASSERT_NE(Find(a, K::kSignal), nullptr);
  EXPECT_EQ(Find(a, K::kSignal)->signal, SIGTERM);
  EXPECT_EQ(Find(a, K::kSignal)->target, KillTarget::kAll);
  EXPECT_EQ(Find(a, K::kArmTimer)->delay, 2s);
  a = fsm.OnTimer(now);
  ASSERT_NE(Find(a, K::kSignal), nullptr);
  EXPECT_EQ(Find(a, K::kSignal)->signal, SIGKILL);
  EXPECT_EQ(fsm.phase(), Phase::kStopSigkill);
  fsm.OnMainExited(ExitStatus::Signal(SIGKILL), "", now);
  fsm.OnAllGone(now);
  // A stop that needed SIGKILL is a failure (systemd: result "timeout").
  EXPECT_EQ(fsm.state(), State::kFailed);
  EXPECT_EQ(fsm.result(), ServiceResult::kTimeout);
  EXPECT_EQ(fsm.cause().kind, CK::kStopTimeout);
  EXPECT_EQ(fsm.cause().span, 2s);
  EXPECT_EQ(fsm.cause().signal, SIGTERM);
  EXPECT_EQ(fsm.cause().final_signal, SIGKILL);
  EXPECT_TRUE(fsm.cause().send_sigkill);
}

TEST_F(FsmTest, GracefulStopIsStoppedNotFailed) {
  spec.restart = RestartPolicy::kAlways;
  StartToRunning();
  fsm.Stop(now);
  fsm.OnMainExited(ExitStatus::Signal(SIGTERM), "", now);
  fsm.OnAllGone(now);
  EXPECT_EQ(fsm.state(), State::kStopped);  // Restart=always does not undo a stop
}

TEST_F(FsmTest, StopWaitsForTheWholeGroup) {
  StartToRunning();
  fsm.Stop(now);
  fsm.OnMainExited(ExitStatus::Code(0), "", now);
  EXPECT_EQ(fsm.state(), State::kStopping);
  EXPECT_TRUE(fsm.waiting_for_empty());
  fsm.OnAllGone(now);
  EXPECT_EQ(fsm.state(), State::kStopped);
}

TEST_F(FsmTest, KillModeProcessDoesNotWaitForTheRest) {
  spec.kill_mode = KillMode::kProcess;
  StartToRunning();
  Actions a = fsm.Stop(now);
  EXPECT_EQ(Find(a, K::kSignal)->target, KillTarget::kMain);
  fsm.OnMainExited(ExitStatus::Signal(SIGTERM), "", now);
  EXPECT_EQ(fsm.state(), State::kStopped);
}

TEST_F(FsmTest, KillModeMixedTermsMainAndKillsAll) {
  spec.kill_mode = KillMode::kMixed;
  StartToRunning();
  Actions a = fsm.Stop(now);
  EXPECT_EQ(Find(a, K::kSignal)->target, KillTarget::kMain);
  a = fsm.OnTimer(now);
  EXPECT_EQ(Find(a, K::kSignal)->target, KillTarget::kAll);
  EXPECT_EQ(Find(a, K::kSignal)->signal, SIGKILL);
}

TEST_F(FsmTest, KillModeMixedKillsTheRestAsSoonAsMainIsGone) {
  spec.kill_mode = KillMode::kMixed;
  spec.timeout_stop = 90s;
  StartToRunning();
  fsm.Stop(now);
  Actions a = fsm.OnMainExited(ExitStatus::Signal(SIGTERM), "", now);
  // No waiting TimeoutStopSec= for the leftovers: SIGKILL to the whole cgroup now.
  const Action* kill = Find(a, K::kSignal);
  ASSERT_NE(kill, nullptr);
  EXPECT_EQ(kill->signal, SIGKILL);
  EXPECT_EQ(kill->target, KillTarget::kAll);
  EXPECT_EQ(fsm.phase(), Phase::kFinalSigkill);
  fsm.OnAllGone(now);
  EXPECT_EQ(fsm.state(), State::kStopped);
}

TEST_F(FsmTest, ExecStopRunsFirstWithMainStillAlive) {
  spec.exec_stop = {Cmd("/bin/kill")};
  StartToRunning();
  Actions a = fsm.Stop(now);
  ASSERT_NE(Find(a, K::kSpawnControl), nullptr);
  EXPECT_EQ(Find(a, K::kSpawnControl)->list, CommandList::kStop);
  EXPECT_EQ(Find(a, K::kSignal), nullptr);
  // ExecStop=kill -s SIGINT $MAINPID: the main process goes first, then the control process.
  fsm.OnMainExited(ExitStatus::Signal(SIGINT), "", now);
  a = fsm.OnControlExited(ExitStatus::Code(0), "", now);
  fsm.OnAllGone(now);
  EXPECT_EQ(fsm.state(), State::kStopped);
  EXPECT_EQ(fsm.result(), ServiceResult::kSuccess);
}

TEST_F(FsmTest, ExecStopPostRunsAfterEverythingIsGone) {
  spec.exec_stop_post = {Cmd("/bin/cleanup")};
  StartToRunning();
  fsm.Stop(now);
  fsm.OnMainExited(ExitStatus::Signal(SIGTERM), "", now);
  Actions a = fsm.OnAllGone(now);
  ASSERT_NE(Find(a, K::kSpawnControl), nullptr);
  EXPECT_EQ(Find(a, K::kSpawnControl)->list, CommandList::kStopPost);
  fsm.OnControlExited(ExitStatus::Code(0), "", now);
  fsm.OnAllGone(now);
  EXPECT_EQ(fsm.state(), State::kStopped);
}

TEST_F(FsmTest, StopDuringBackoffCancelsTheRestart) {
  spec.restart = RestartPolicy::kAlways;
  spec.restart_sec = 5s;
  StartToRunning();
  fsm.OnMainExited(ExitStatus::Code(1), "", now);
  fsm.OnAllGone(now);
  ASSERT_EQ(fsm.state(), State::kBackoff);
  Actions a = fsm.Stop(now);
  EXPECT_TRUE(Has(a, K::kDisarmTimer));
  EXPECT_EQ(fsm.state(), State::kStopped);
  EXPECT_TRUE(fsm.OnTimer(now).empty());  // a stale expiry changes nothing
  EXPECT_EQ(fsm.state(), State::kStopped);
}

TEST_F(FsmTest, StartWhileStoppingIsQueued) {
  StartToRunning();
  fsm.Stop(now);
  EXPECT_TRUE(fsm.Start(now).empty());
  EXPECT_TRUE(fsm.start_queued());
  fsm.OnMainExited(ExitStatus::Signal(SIGTERM), "", now);
  Actions a = fsm.OnAllGone(now);
  EXPECT_TRUE(Has(a, K::kCheckConditions));
  EXPECT_EQ(fsm.state(), State::kStarting);
}

TEST_F(FsmTest, SecondStopIsHarmless) {
  StartToRunning();
  fsm.Stop(now);
  EXPECT_TRUE(fsm.Stop(now).empty());
  EXPECT_EQ(fsm.state(), State::kStopping);
  EXPECT_TRUE(fsm.Stop(now).empty());
}

TEST_F(FsmTest, StopDuringStartPostSignalsInsteadOfRunningExecStop) {
  spec.exec_start_post = {Cmd("/bin/post")};
  spec.exec_stop = {Cmd("/bin/stop")};
  fsm.Start(now);
  PassConditions(fsm, now);
  Actions a = fsm.OnMainSpawned(now);
  ASSERT_EQ(Find(a, K::kSpawnControl)->list, CommandList::kStartPost);
  a = fsm.Stop(now);
  EXPECT_FALSE(Has(a, K::kSpawnControl)) << "ExecStop= while ExecStartPost= still runs";
  EXPECT_TRUE(Has(a, K::kSignal));
}

TEST_F(FsmTest, KillModeNoneStopFinishesWithoutWaiting) {
  spec.kill_mode = KillMode::kNone;
  StartToRunning();
  Actions a = fsm.Stop(now);
  EXPECT_FALSE(Has(a, K::kSignal));
  EXPECT_TRUE(Has(a, K::kAbandonProcesses));
  EXPECT_EQ(fsm.state(), State::kStopped);
}

// Issue 11, bug 1: with KillMode=none and no ExecStop= the stop ends inside Restart() itself;
// the start it queued must still happen (it used to be queued after the stop had ended).
TEST_F(FsmTest, RestartOfKillModeNoneWithoutExecStopStartsAgain) {
  spec.kill_mode = KillMode::kNone;
  StartToRunning();
  const uint64_t before = fsm.start_attempts();
  Actions a = fsm.Restart(now);
  EXPECT_TRUE(Has(a, K::kAbandonProcesses));
  EXPECT_TRUE(Has(a, K::kResetInstance)) << "no new instance after the stop";
  EXPECT_TRUE(Has(a, K::kCheckConditions));
  EXPECT_EQ(fsm.start_attempts(), before + 1);
  EXPECT_EQ(fsm.state(), State::kStarting);
  PassConditions(fsm, now);
  fsm.OnMainSpawned(now);
  EXPECT_EQ(fsm.state(), State::kRunning);
}

// KillMode=process counts only the main and control processes: when the main process died
// on its own during the start, nothing is left to signal or wait for (a leftover in the cgroup
// is not waited for), so the stop goes on at once instead of waiting for TimeoutStopSec=.
TEST_F(FsmTest, KillModeProcessDoesNotWaitWhenMainAndControlAreGone) {
  spec.kill_mode = KillMode::kProcess;
  spec.type = ServiceType::kNotify;
  fsm.Start(now);
  PassConditions(fsm, now);
  fsm.OnMainSpawned(now);
  ASSERT_EQ(fsm.state(), State::kStarting);
  fsm.OnMainExited(ExitStatus::Code(3), "", now);
  EXPECT_EQ(fsm.state(), State::kFailed);
  EXPECT_EQ(fsm.result(), ServiceResult::kExitCode);
}

TEST_F(FsmTest, ControlCommandKilledBySigtermIsAFailure) {
  spec.exec_start_pre = {Cmd("/bin/pre")};
  fsm.Start(now);
  PassConditions(fsm, now);
  Actions a = fsm.OnControlExited(ExitStatus::Signal(SIGTERM), "", now);
  EXPECT_FALSE(Has(a, K::kSpawnMain));
  fsm.OnAllGone(now);
  EXPECT_EQ(fsm.state(), State::kFailed);
  EXPECT_EQ(fsm.result(), ServiceResult::kSignal);
}

TEST_F(FsmTest, StopWhenStoppedDoesNothing) {
  EXPECT_TRUE(fsm.Stop(now).empty());
  EXPECT_EQ(fsm.state(), State::kStopped);
}

TEST_F(FsmTest, ExitDuringStopIsNotRestarted) {
  spec.restart = RestartPolicy::kAlways;
  StartToRunning();
  fsm.Stop(now);
  fsm.OnMainExited(ExitStatus::Code(1), "", now);
  fsm.OnAllGone(now);
  EXPECT_EQ(fsm.state(), State::kFailed);  // exit 1 is a failure, but never a restart
}

TEST_F(FsmTest, RestartStopsThenStarts) {
  StartToRunning();
  const uint64_t before = fsm.start_attempts();
  fsm.Restart(now);
  EXPECT_EQ(fsm.state(), State::kStopping);
  fsm.OnMainExited(ExitStatus::Signal(SIGTERM), "", now);
  fsm.OnAllGone(now);
  EXPECT_EQ(fsm.start_attempts(), before + 1);
  EXPECT_EQ(fsm.state(), State::kStarting);
}

TEST_F(FsmTest, StartLimitFailsTheService) {
  spec.restart = RestartPolicy::kAlways;
  spec.start_limit_burst = 3;
  spec.start_limit_interval = 10s;
  StartToRunning();
  for (int i = 0; i < 2; ++i) {
    fsm.OnMainExited(ExitStatus::Code(1), "", now);
    fsm.OnAllGone(now);
    ASSERT_EQ(fsm.state(), State::kBackoff);
    fsm.OnTimer(now);
    PassConditions(fsm, now);
    fsm.OnMainSpawned(now);
  }
  fsm.OnMainExited(ExitStatus::Code(1), "", now);
  fsm.OnAllGone(now);
  fsm.OnTimer(now);
  EXPECT_EQ(fsm.state(), State::kFailed);
  EXPECT_EQ(fsm.result(), ServiceResult::kStartLimitHit);
  // A manual start within the interval is refused too, as systemd does.
  fsm.Start(now);
  EXPECT_EQ(fsm.state(), State::kFailed);
  // After the interval, or after reset-failed, it may start again.
  fsm.ResetFailed(now);
  EXPECT_EQ(fsm.state(), State::kStopped);
  EXPECT_TRUE(Has(fsm.Start(now), K::kCheckConditions));
}

TEST_F(FsmTest, StartLimitWindowSlides) {
  spec.start_limit_burst = 2;
  spec.start_limit_interval = 10s;
  for (int i = 0; i < 5; ++i) {
    fsm.Start(now);
    PassConditions(fsm, now);
    fsm.OnMainSpawned(now);
    fsm.Stop(now);
    fsm.OnMainExited(ExitStatus::Signal(SIGTERM), "", now);
    fsm.OnAllGone(now);
    ASSERT_EQ(fsm.state(), State::kStopped) << i;
    now += 6s;  // at most two starts in any 10 s
  }
}

TEST_F(FsmTest, FalseConditionSkipsWithoutFailing) {
  Actions a = fsm.Start(now);
  a = fsm.OnConditionsChecked(false, false, "ConditionPathExists=/x was not met", now);
  EXPECT_EQ(fsm.state(), State::kStopped);
  EXPECT_EQ(fsm.result(), ServiceResult::kSuccess);
  EXPECT_TRUE(fsm.condition_skipped());
  EXPECT_EQ(fsm.cause().kind, CK::kConditionNotMet);
  EXPECT_EQ(fsm.cause().text, "ConditionPathExists=/x was not met");
}

TEST_F(FsmTest, FalseConditionIsNeverRestarted) {
  spec.restart = RestartPolicy::kAlways;
  fsm.Start(now);
  fsm.OnConditionsChecked(false, false, "ConditionPathExists=/x was not met", now);
  EXPECT_EQ(fsm.state(), State::kStopped);
}

TEST_F(FsmTest, FailedAssertFails) {
  fsm.Start(now);
  fsm.OnConditionsChecked(false, true, "AssertPathExists=/x failed", now);
  EXPECT_EQ(fsm.state(), State::kFailed);
  EXPECT_EQ(fsm.result(), ServiceResult::kAssert);
}

TEST_F(FsmTest, ExecConditionExit1SkipsAndExit255Fails) {
  spec.exec_condition = {Cmd("/bin/check")};
  fsm.Start(now);
  Actions a = PassConditions(fsm, now);
  ASSERT_EQ(Find(a, K::kSpawnControl)->list, CommandList::kCondition);
  fsm.OnControlExited(ExitStatus::Code(1), "", now);
  fsm.OnAllGone(now);
  EXPECT_EQ(fsm.state(), State::kStopped);

  fsm.Start(now);
  PassConditions(fsm, now);
  fsm.OnControlExited(ExitStatus::Code(255), "", now);
  fsm.OnAllGone(now);
  EXPECT_EQ(fsm.state(), State::kFailed);
}

TEST_F(FsmTest, ExecStartPreFailureFailsWithoutRunningMain) {
  spec.exec_start_pre = {Cmd("/bin/false")};
  fsm.Start(now);
  Actions a = PassConditions(fsm, now);
  ASSERT_EQ(Find(a, K::kSpawnControl)->list, CommandList::kStartPre);
  a = fsm.OnControlExited(ExitStatus::Code(1), "", now);
  EXPECT_FALSE(Has(a, K::kSpawnMain));
  fsm.OnAllGone(now);
  EXPECT_EQ(fsm.state(), State::kFailed);
  EXPECT_EQ(fsm.cause().kind, CK::kControlFailed);
  EXPECT_EQ(fsm.cause().list, CommandList::kStartPre);
  EXPECT_EQ(fsm.cause().index, 0u);
  EXPECT_EQ(fsm.cause().path, "/bin/false");
  EXPECT_EQ(fsm.cause().source, "test.service:1");
  EXPECT_TRUE(fsm.cause().exit.exited);
  EXPECT_EQ(fsm.cause().exit.code, 1);
}

TEST_F(FsmTest, IgnoredExecStartPreFailureContinues) {
  spec.exec_start_pre = {Cmd("/bin/false")};
  spec.exec_start_pre[0].ignore_failure = true;
  fsm.Start(now);
  PassConditions(fsm, now);
  Actions a = fsm.OnControlExited(ExitStatus::Code(1), "", now);
  EXPECT_TRUE(Has(a, K::kSpawnMain));
}

TEST_F(FsmTest, StartTimeoutKillsAndFails) {
  spec.type = ServiceType::kExec;
  spec.timeout_start = 1s;
  fsm.Start(now);
  PassConditions(fsm, now);
  fsm.OnMainSpawned(now);
  Actions a = fsm.OnTimer(now);
  EXPECT_EQ(Find(a, K::kSignal)->signal, SIGTERM);
  fsm.OnMainExited(ExitStatus::Signal(SIGTERM), "", now);
  fsm.OnAllGone(now);
  EXPECT_EQ(fsm.state(), State::kFailed);
  EXPECT_EQ(fsm.result(), ServiceResult::kTimeout);
}

TEST_F(FsmTest, OneshotRunsCommandsInOrderAndRemains) {
  spec.type = ServiceType::kOneshot;
  spec.remain_after_exit = true;
  spec.exec_start = {Cmd("/bin/a"), Cmd("/bin/b")};
  fsm.Start(now);
  Actions a = PassConditions(fsm, now);
  EXPECT_EQ(Find(a, K::kSpawnMain)->index, 0u);
  fsm.OnMainSpawned(now);
  EXPECT_EQ(fsm.state(), State::kStarting);
  a = fsm.OnMainExited(ExitStatus::Code(0), "", now);
  EXPECT_EQ(Find(a, K::kSpawnMain)->index, 1u);
  fsm.OnMainSpawned(now);
  fsm.OnMainExited(ExitStatus::Code(0), "", now);
  EXPECT_EQ(fsm.state(), State::kRunning);
  EXPECT_FALSE(fsm.main_alive());
  fsm.Stop(now);
  fsm.OnAllGone(now);
  EXPECT_EQ(fsm.state(), State::kStopped);
}

TEST_F(FsmTest, OneshotWithoutRemainEndsStopped) {
  spec.type = ServiceType::kOneshot;
  fsm.Start(now);
  PassConditions(fsm, now);
  fsm.OnMainSpawned(now);
  fsm.OnMainExited(ExitStatus::Code(0), "", now);
  fsm.OnAllGone(now);
  EXPECT_EQ(fsm.state(), State::kStopped);
  EXPECT_EQ(fsm.result(), ServiceResult::kSuccess);
}

TEST_F(FsmTest, SpawnFailureIsAFailureWithItsReason) {
  fsm.Start(now);
  PassConditions(fsm, now);
  fsm.OnSpawnFailed("fork for /bin/main: Resource temporarily unavailable", now);
  fsm.OnAllGone(now);
  EXPECT_EQ(fsm.state(), State::kFailed);
  EXPECT_EQ(fsm.result(), ServiceResult::kResources);
  EXPECT_EQ(fsm.cause().kind, CK::kSpawnFailed);
  EXPECT_EQ(fsm.cause().text, "fork for /bin/main: Resource temporarily unavailable");
}

TEST_F(FsmTest, RestartPreventExitStatusWins) {
  spec.restart = RestartPolicy::kAlways;
  spec.restart_prevent_exit_status.codes = {42};
  StartToRunning();
  fsm.OnMainExited(ExitStatus::Code(42), "", now);
  fsm.OnAllGone(now);
  EXPECT_EQ(fsm.state(), State::kFailed);
}

TEST_F(FsmTest, SuccessExitStatusMakesACodeClean) {
  spec.restart = RestartPolicy::kOnFailure;
  spec.success_exit_status.codes = {3};
  StartToRunning();
  fsm.OnMainExited(ExitStatus::Code(3), "", now);
  fsm.OnAllGone(now);
  EXPECT_EQ(fsm.state(), State::kStopped);
}

TEST_F(FsmTest, RestartStepsGrowTheDelay) {
  spec.restart = RestartPolicy::kAlways;
  spec.restart_sec = 100ms;
  spec.restart_steps = 2;
  spec.restart_max_delay = 400ms;
  spec.start_limit_interval = 0s;
  StartToRunning();
  std::vector<Usec> delays;
  for (int i = 0; i < 4; ++i) {
    fsm.OnMainExited(ExitStatus::Code(1), "", now);
    Actions a = fsm.OnAllGone(now);
    delays.push_back(Find(a, K::kArmTimer)->delay);
    fsm.OnTimer(now);
    PassConditions(fsm, now);
    fsm.OnMainSpawned(now);
  }
  EXPECT_EQ(delays[0], 100ms);
  EXPECT_EQ(delays[1], 200ms);
  EXPECT_EQ(delays[2], 400ms);
  EXPECT_EQ(delays[3], 400ms);
}

// RestartMaxDelaySec= just below the largest time span: as a double it rounds up to 2^63 µs,
// whose conversion back to int64 was undefined (a negative delay on x86: restart at once).
TEST_F(FsmTest, RestartStepsAtTheLargestMaxDelayStayInRange) {
  spec.restart = RestartPolicy::kAlways;
  spec.restart_sec = 100ms;
  spec.restart_steps = 1;
  spec.restart_max_delay = Usec(std::numeric_limits<int64_t>::max() - 2);
  spec.start_limit_interval = 0s;
  StartToRunning();
  std::vector<Usec> delays;
  for (int i = 0; i < 2; ++i) {
    fsm.OnMainExited(ExitStatus::Code(1), "", now);
    Actions a = fsm.OnAllGone(now);
    ASSERT_NE(nullptr, Find(a, K::kArmTimer));
    delays.push_back(Find(a, K::kArmTimer)->delay);
    fsm.OnTimer(now);
    PassConditions(fsm, now);
    fsm.OnMainSpawned(now);
  }
  EXPECT_EQ(100ms, delays[0]);
  EXPECT_EQ(spec.restart_max_delay, delays[1]);
}

TEST_F(FsmTest, StaleEventsInStoppedStateAreIgnored) {
  EXPECT_TRUE(fsm.OnMainExited(ExitStatus::Code(1), "", now).empty());
  EXPECT_TRUE(fsm.OnControlExited(ExitStatus::Code(1), "", now).empty());
  EXPECT_TRUE(fsm.OnTimer(now).empty());
  EXPECT_TRUE(fsm.OnAllGone(now).empty());
  EXPECT_TRUE(fsm.OnMainExecOk(now).empty());
  EXPECT_EQ(fsm.state(), State::kStopped);
}

// ---- sd_notify: readiness, watchdog, reload, STOPPING=1

class NotifyFsmTest : public FsmTest {
 protected:
  NotifyFsmTest() { spec.type = ServiceType::kNotify; }
  void StartToReady() {
    fsm.Start(now);
    PassConditions(fsm, now);
    fsm.OnMainSpawned(now);
    fsm.OnMainExecOk(now);
    ASSERT_EQ(fsm.state(), State::kStarting) << "Type=notify is not ready before READY=1";
    fsm.OnReady(now);
    ASSERT_EQ(fsm.state(), State::kRunning);
  }
};

TEST_F(NotifyFsmTest, StartsOnlyOnReady) { StartToReady(); }

TEST_F(NotifyFsmTest, NoReadyWithinTimeoutFailsWithReason) {
  spec.timeout_start = 2s;
  fsm.Start(now);
  PassConditions(fsm, now);
  fsm.OnMainSpawned(now);
  Actions a = fsm.OnTimer(now);
  EXPECT_EQ(Find(a, K::kSignal)->signal, SIGTERM);
  fsm.OnMainExited(ExitStatus::Signal(SIGTERM), "", now);
  fsm.OnAllGone(now);
  EXPECT_EQ(fsm.state(), State::kFailed);
  EXPECT_EQ(fsm.cause().kind, CK::kStartTimeout);
  EXPECT_EQ(fsm.cause().span, 2s);
  EXPECT_TRUE(fsm.cause().notify_type);
}

TEST_F(NotifyFsmTest, WatchdogArmsOnReadyAndFiresWithItsSignal) {
  spec.watchdog_sec = 1s;
  spec.restart = RestartPolicy::kOnWatchdog;
  fsm.Start(now);
  PassConditions(fsm, now);
  fsm.OnMainSpawned(now);
  Actions a = fsm.OnReady(now);
  ASSERT_NE(Find(a, K::kArmWatchdog), nullptr);
  EXPECT_EQ(Find(a, K::kArmWatchdog)->delay, 1s);
  EXPECT_EQ(Find(fsm.OnWatchdogPing(now), K::kArmWatchdog)->delay, 1s);
  a = fsm.OnWatchdogTimeout(now);
  EXPECT_EQ(Find(a, K::kSignal)->signal, SIGABRT);
  EXPECT_EQ(fsm.state(), State::kStopping);
  fsm.OnMainExited(ExitStatus::Signal(SIGABRT, true), "", now);
  fsm.OnAllGone(now);
  EXPECT_EQ(fsm.result(), ServiceResult::kWatchdog);
  EXPECT_EQ(fsm.state(), State::kBackoff) << "Restart=on-watchdog";
  EXPECT_EQ(fsm.cause().kind, CK::kWatchdogTimeout);
  EXPECT_EQ(fsm.cause().span, 1s);
  EXPECT_EQ(fsm.cause().signal, SIGABRT);
}

TEST_F(NotifyFsmTest, WatchdogUsecFromTheProgramOverrides) {
  spec.watchdog_sec = 10s;
  StartToReady();
  Actions a = fsm.OnWatchdogUsec(500ms, now);
  EXPECT_EQ(Find(a, K::kArmWatchdog)->delay, 500ms);
  EXPECT_EQ(fsm.watchdog_interval(), 500ms);
  EXPECT_TRUE(Has(fsm.OnWatchdogUsec(0us, now), K::kDisarmWatchdog));
}

TEST_F(NotifyFsmTest, StoppingMovesToStoppingWithoutASignal) {
  StartToReady();
  Actions a = fsm.OnStopping(now);
  EXPECT_EQ(fsm.state(), State::kStopping);
  EXPECT_FALSE(Has(a, K::kSignal));
  fsm.OnMainExited(ExitStatus::Code(0), "", now);
  fsm.OnAllGone(now);
  EXPECT_EQ(fsm.state(), State::kStopped);
}

TEST_F(NotifyFsmTest, ReloadWithExecReloadRunsTheCommand) {
  spec.exec_reload = {Cmd("/bin/kill")};
  StartToReady();
  EXPECT_EQ(fsm.CanReload(), ReloadVerdict::kOk);
  Actions a = fsm.Reload(now);
  EXPECT_EQ(Find(a, K::kSpawnControl)->list, CommandList::kReload);
  EXPECT_EQ(fsm.state(), State::kReloading);
  fsm.OnControlExited(ExitStatus::Code(0), "", now);
  EXPECT_EQ(fsm.state(), State::kRunning);
  EXPECT_EQ(fsm.reloads_done(), 1u);
  EXPECT_FALSE(fsm.last_reload_failed());
}

TEST_F(NotifyFsmTest, NotifyReloadSignalsAndWaitsForReady) {
  spec.type = ServiceType::kNotifyReload;
  StartToReady();
  Actions a = fsm.Reload(now);
  EXPECT_EQ(Find(a, K::kSignal)->signal, SIGHUP);
  EXPECT_EQ(Find(a, K::kSignal)->target, KillTarget::kMain);
  EXPECT_EQ(fsm.state(), State::kReloading);
  // A READY=1 re-sent with a STATUS= update is not the answer to the signal...
  fsm.OnReady(now);
  EXPECT_EQ(fsm.state(), State::kReloading);
  // ...RELOADING=1 then READY=1 is.
  fsm.OnReloading(now);
  fsm.OnReady(now);
  EXPECT_EQ(fsm.state(), State::kRunning);
  EXPECT_EQ(fsm.reloads_done(), 1u);
}

TEST_F(NotifyFsmTest, WatchdogUsecInfinityTurnsItOff) {
  spec.watchdog_sec = 1s;
  StartToReady();
  EXPECT_TRUE(Has(fsm.OnWatchdogUsec(kInfinity, now), K::kDisarmWatchdog));
  EXPECT_EQ(fsm.watchdog_interval(), 0us);
}

TEST_F(NotifyFsmTest, FailedExecReloadSpawnEndsTheReload) {
  spec.exec_reload = {Cmd("/bin/reload")};
  StartToReady();
  fsm.Reload(now);
  fsm.OnSpawnFailed("fork for /bin/reload: Resource temporarily unavailable", now);
  EXPECT_EQ(fsm.state(), State::kRunning);
  EXPECT_TRUE(fsm.last_reload_failed());
}

TEST_F(NotifyFsmTest, CannotReloadWithoutAMechanism) {
  StartToReady();
  EXPECT_EQ(fsm.CanReload(), ReloadVerdict::kNoMechanism);
  EXPECT_TRUE(fsm.Reload(now).empty());
}

TEST_F(NotifyFsmTest, ReloadingFromTheProgramEndsOnReady) {
  StartToReady();
  fsm.OnReloading(now);
  EXPECT_EQ(fsm.state(), State::kReloading);
  fsm.OnReady(now);
  EXPECT_EQ(fsm.state(), State::kRunning);
}

TEST_F(NotifyFsmTest, ExtendTimeoutOnlyWhileStartingOrStopping) {
  fsm.Start(now);
  PassConditions(fsm, now);
  fsm.OnMainSpawned(now);
  Actions a = fsm.OnExtendTimeout(30s, now);
  EXPECT_EQ(Find(a, K::kExtendTimer)->delay, 30s);
  fsm.OnReady(now);
  EXPECT_TRUE(fsm.OnExtendTimeout(30s, now).empty());
}

// ---- Overlap restart (sockets held by supd)

TEST_F(NotifyFsmTest, OverlapRestartStopsTheOldInstanceOnlyOnceTheNewOneIsReady) {
  StartToReady();
  EXPECT_EQ(fsm.CanOverlapRestart(true), OverlapVerdict::kOk);
  Actions a = fsm.OverlapRestart(now);
  EXPECT_TRUE(Has(a, K::kDetachInstance));
  EXPECT_FALSE(Has(a, K::kSignal)) << "the old instance keeps serving";
  EXPECT_TRUE(fsm.overlap_pending());
  EXPECT_EQ(fsm.CanOverlapRestart(true), OverlapVerdict::kInProgress);
  PassConditions(fsm, now);
  fsm.OnMainSpawned(now);
  EXPECT_EQ(fsm.state(), State::kStarting);
  a = fsm.OnReady(now);
  EXPECT_TRUE(Has(a, K::kStopOldInstance));
  EXPECT_EQ(fsm.state(), State::kRunning);
  EXPECT_FALSE(fsm.overlap_pending());
  EXPECT_EQ(fsm.overlaps_failed(), 0u);
}

TEST_F(NotifyFsmTest, OverlapRestartThatFailsReattachesTheOldInstance) {
  spec.restart = RestartPolicy::kAlways;
  StartToReady();
  fsm.OverlapRestart(now);
  PassConditions(fsm, now);
  fsm.OnMainSpawned(now);
  fsm.OnMainExited(ExitStatus::Code(3), "", now);
  Actions a = fsm.OnAllGone(now);
  EXPECT_TRUE(Has(a, K::kReattachOldInstance));
  EXPECT_FALSE(Has(a, K::kStopOldInstance));
  EXPECT_EQ(fsm.state(), State::kRunning) << "no backoff: the old instance is the service";
  EXPECT_TRUE(fsm.main_alive());
  EXPECT_EQ(fsm.overlaps_failed(), 1u);
  EXPECT_EQ(fsm.cause().overlap, Cause::Overlap::kOldKeepsServing);
  EXPECT_EQ(fsm.cause().kind, CK::kMainExited);
  EXPECT_EQ(fsm.cause().exit.code, 3);
}

TEST_F(NotifyFsmTest, StopDuringAnOverlapStopsBothInstances) {
  StartToReady();
  fsm.OverlapRestart(now);
  PassConditions(fsm, now);
  fsm.OnMainSpawned(now);
  Actions a = fsm.Stop(now);
  EXPECT_TRUE(Has(a, K::kStopOldInstance)) << "both stop at once, not one after the other";
  EXPECT_TRUE(Has(a, K::kSignal));
  fsm.OnMainExited(ExitStatus::Signal(SIGTERM), "", now);
  a = fsm.OnAllGone(now);
  EXPECT_FALSE(Has(a, K::kReattachOldInstance));
  EXPECT_EQ(fsm.state(), State::kStopped);
}

TEST_F(NotifyFsmTest, OverlapRestartWhenTheOldMainAlsoDiedFollowsRestartPolicy) {
  spec.restart = RestartPolicy::kOnFailure;
  StartToReady();
  fsm.OverlapRestart(now);
  fsm.OnDetachedMainExited(now);
  PassConditions(fsm, now);
  fsm.OnMainSpawned(now);
  fsm.OnMainExited(ExitStatus::Code(3), "", now);
  Actions a = fsm.OnAllGone(now);
  EXPECT_FALSE(Has(a, K::kReattachOldInstance)) << "nothing left to go back to";
  EXPECT_TRUE(Has(a, K::kStopOldInstance));
  EXPECT_EQ(fsm.state(), State::kBackoff);
  EXPECT_FALSE(fsm.main_alive());
}

TEST_F(NotifyFsmTest, OverlapRestartRefusedByTheStartLimitLeavesTheInstanceAlone) {
  spec.start_limit_burst = 1;
  spec.start_limit_interval = 10s;
  spec.watchdog_sec = 1s;
  StartToReady();
  Actions a = fsm.OverlapRestart(now);
  EXPECT_TRUE(a.empty()) << "nothing detached, watchdog untouched";
  EXPECT_EQ(fsm.state(), State::kRunning);
  EXPECT_EQ(fsm.result(), ServiceResult::kSuccess);
  EXPECT_EQ(fsm.overlaps_failed(), 1u);
  EXPECT_TRUE(fsm.main_alive());
}

TEST_F(FsmTest, SimpleServicesRestartStopThenStart) {
  StartToRunning();
  EXPECT_EQ(fsm.CanOverlapRestart(true), OverlapVerdict::kNotNotifyType);
}

struct RestartCase {
  RestartPolicy policy;
  ExitStatus exit;
  bool restarts;
};

class RestartTableTest : public FsmTest, public ::testing::WithParamInterface<RestartCase> {};

TEST_P(RestartTableTest, FollowsSystemdTable) {
  spec.restart = GetParam().policy;
  StartToRunning();
  fsm.OnMainExited(GetParam().exit, "", now);
  fsm.OnAllGone(now);
  EXPECT_EQ(fsm.state() == State::kBackoff, GetParam().restarts)
      << "state " << StateName(fsm.state());
}

// systemd.service(5), table "Exit causes and the effect of the Restart= settings".
INSTANTIATE_TEST_SUITE_P(
    Table, RestartTableTest,
    ::testing::Values(
        RestartCase{RestartPolicy::kNo, ExitStatus::Code(1), false},
        RestartCase{RestartPolicy::kAlways, ExitStatus::Code(0), true},
        RestartCase{RestartPolicy::kAlways, ExitStatus::Code(1), true},
        RestartCase{RestartPolicy::kOnSuccess, ExitStatus::Code(0), true},
        RestartCase{RestartPolicy::kOnSuccess, ExitStatus::Signal(SIGTERM), true},
        RestartCase{RestartPolicy::kOnSuccess, ExitStatus::Code(1), false},
        RestartCase{RestartPolicy::kOnFailure, ExitStatus::Code(0), false},
        RestartCase{RestartPolicy::kOnFailure, ExitStatus::Code(1), true},
        RestartCase{RestartPolicy::kOnFailure, ExitStatus::Signal(SIGKILL), true},
        RestartCase{RestartPolicy::kOnAbnormal, ExitStatus::Code(1), false},
        RestartCase{RestartPolicy::kOnAbnormal, ExitStatus::Signal(SIGKILL), true},
        RestartCase{RestartPolicy::kOnAbnormal, ExitStatus::Code(0), false},
        RestartCase{RestartPolicy::kOnAbort, ExitStatus::Signal(SIGABRT, true), true},
        RestartCase{RestartPolicy::kOnAbort, ExitStatus::Code(1), false},
        RestartCase{RestartPolicy::kOnAbort, ExitStatus::Signal(SIGHUP), false},
        RestartCase{RestartPolicy::kOnWatchdog, ExitStatus::Signal(SIGKILL), false}));

}  // namespace
}  // namespace supd
