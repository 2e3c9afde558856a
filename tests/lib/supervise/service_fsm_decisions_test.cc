// The decisions the machine makes for the Manager (notify access, MAINPID=, activation, overlap
// eligibility, reload, job outcomes) and the instance-preparation step.
#include <signal.h>

#include <gtest/gtest.h>

#include "lib/supervise/service_fsm.h"
#include "tests/lib/supervise/actions_text.h"

namespace supd {
namespace {

using namespace std::chrono_literals;
using testing_text::Describe;
using O = JobOutcome::Kind;

ExecCommand Cmd(const std::string& path) {
  ExecCommand c;
  c.path = path;
  c.argv = {path};
  c.source = "t.service:1";
  return c;
}

class DecisionsTest : public ::testing::Test {
 protected:
  DecisionsTest() {
    spec.name = "t.service";
    spec.exec_start = {Cmd("/bin/main")};
    spec.restart_sec = 0us;
    spec.start_limit_interval = 0s;
  }
  // Start → conditions hold → instance prepared: the actions of the last step.
  Actions Begin() {
    fsm.Start(now);
    Actions a = fsm.OnConditionsChecked(true, false, "", now);
    return fsm.OnInstancePrepared(a.back().attempt, "", now);
  }
  void ToRunning() {
    Begin();
    fsm.OnMainSpawned(now);
    if (spec.type == ServiceType::kNotify) fsm.OnReady(now);
    ASSERT_EQ(fsm.state(), State::kRunning);
  }
  ServiceSpec spec;
  ServiceFsm fsm{&spec};
  Usec now{1'000'000'000};
};

// ---- AcceptsNotify

TEST_F(DecisionsTest, APreviousInstanceIsRefusedWhateverNotifyAccessSays) {
  for (NotifyAccess a : {NotifyAccess::kNone, NotifyAccess::kMain, NotifyAccess::kExec,
                         NotifyAccess::kAll}) {
    spec.notify_access = a;
    EXPECT_EQ(fsm.AcceptsNotify(SenderRole::kPreviousInstance), NotifyVerdict::kPreviousInstance);
  }
}

TEST_F(DecisionsTest, NotifyAccessDecidesForTheCurrentInstance) {
  using R = SenderRole;
  using V = NotifyVerdict;
  spec.notify_access = NotifyAccess::kNone;
  for (R r : {R::kMain, R::kControl, R::kOtherInCurrentInstance})
    EXPECT_EQ(fsm.AcceptsNotify(r), V::kAccessNone);
  spec.notify_access = NotifyAccess::kMain;
  EXPECT_EQ(fsm.AcceptsNotify(R::kMain), V::kAccept);
  EXPECT_EQ(fsm.AcceptsNotify(R::kControl), V::kNotMain);
  EXPECT_EQ(fsm.AcceptsNotify(R::kOtherInCurrentInstance), V::kNotMain);
  spec.notify_access = NotifyAccess::kExec;
  EXPECT_EQ(fsm.AcceptsNotify(R::kMain), V::kAccept);
  EXPECT_EQ(fsm.AcceptsNotify(R::kControl), V::kAccept);
  EXPECT_EQ(fsm.AcceptsNotify(R::kOtherInCurrentInstance), V::kNotMainOrControl);
  spec.notify_access = NotifyAccess::kAll;
  for (R r : {R::kMain, R::kControl, R::kOtherInCurrentInstance})
    EXPECT_EQ(fsm.AcceptsNotify(r), V::kAccept);
}

// ---- AcceptsMainPid

TEST_F(DecisionsTest, MainPidFromAnUntrustedSenderIsRefusedFirst) {
  EXPECT_EQ(fsm.AcceptsMainPid(false, false), MainPidVerdict::kUntrustedSender);
  ToRunning();
  EXPECT_EQ(fsm.AcceptsMainPid(false, false), MainPidVerdict::kUntrustedSender);
}

TEST_F(DecisionsTest, MainPidNeedsAMainProcessToReplace) {
  EXPECT_EQ(fsm.AcceptsMainPid(true, false), MainPidVerdict::kNoMainToReplace) << "stopped";
  spec.exec_start_pre = {Cmd("/bin/pre")};
  Begin();
  ASSERT_EQ(fsm.phase(), Phase::kStartPre);
  EXPECT_EQ(fsm.AcceptsMainPid(true, false), MainPidVerdict::kNoMainToReplace)
      << "starting, no main yet";
  fsm.OnControlExited(ExitStatus::Code(0), "", now);
  ASSERT_EQ(fsm.phase(), Phase::kStart);
  EXPECT_EQ(fsm.AcceptsMainPid(true, false), MainPidVerdict::kAccept) << "starting";
  fsm.OnMainSpawned(now);
  ASSERT_EQ(fsm.state(), State::kRunning);
  EXPECT_EQ(fsm.AcceptsMainPid(true, false), MainPidVerdict::kAccept) << "running";
  fsm.Stop(now);
  ASSERT_TRUE(fsm.main_alive());
  EXPECT_EQ(fsm.AcceptsMainPid(true, false), MainPidVerdict::kNoMainToReplace) << "stopping";
}

TEST_F(DecisionsTest, MainPidWhileReloadingAndOfTheControlProcess) {
  spec.exec_reload = {Cmd("/bin/reload")};
  ToRunning();
  fsm.Reload(now);
  ASSERT_EQ(fsm.state(), State::kReloading);
  EXPECT_EQ(fsm.AcceptsMainPid(true, false), MainPidVerdict::kAccept);
  EXPECT_EQ(fsm.AcceptsMainPid(true, true), MainPidVerdict::kIsControl);
}

TEST_F(DecisionsTest, AOneshotThatRemainsHasNoMainToReplace) {
  spec.type = ServiceType::kOneshot;
  spec.remain_after_exit = true;
  Begin();
  fsm.OnMainExited(ExitStatus::Code(0), "", now);
  ASSERT_EQ(fsm.state(), State::kRunning);
  EXPECT_EQ(fsm.AcceptsMainPid(true, false), MainPidVerdict::kNoMainToReplace);
}

TEST_F(DecisionsTest, AnAdoptedMainProcessChangesNothingElse) {
  ToRunning();
  EXPECT_EQ(Describe(fsm.OnMainPidChanged(now)), "");
  EXPECT_TRUE(fsm.main_alive());
  EXPECT_EQ(fsm.state(), State::kRunning);
}

// ---- WantsActivation

TEST_F(DecisionsTest, ActivationStartsOnlyAStoppedOrFailedService) {
  EXPECT_TRUE(fsm.WantsActivation()) << "stopped";
  fsm.Start(now);
  EXPECT_FALSE(fsm.WantsActivation()) << "starting";
  fsm.OnConditionsChecked(false, true, "AssertPathExists=/x failed", now);
  ASSERT_EQ(fsm.state(), State::kFailed);
  EXPECT_TRUE(fsm.WantsActivation()) << "failed";
  spec.restart = RestartPolicy::kAlways;
  ToRunning();
  EXPECT_FALSE(fsm.WantsActivation()) << "running";
  fsm.OnMainExited(ExitStatus::Code(1), "", now);
  EXPECT_FALSE(fsm.WantsActivation()) << "stopping";
  fsm.OnAllGone(now);
  ASSERT_EQ(fsm.state(), State::kBackoff);
  EXPECT_FALSE(fsm.WantsActivation()) << "backoff: the restart comes anyway";
}

// ---- CanOverlapRestart, CanReload

TEST_F(DecisionsTest, OverlapInProgressIsCheckedFirstThenTheHeldFds) {
  EXPECT_EQ(fsm.CanOverlapRestart(false, /*instance_set_aside=*/true), OverlapVerdict::kInProgress);
  EXPECT_EQ(fsm.CanOverlapRestart(false), OverlapVerdict::kNoHeldFds) << "before the type";
  EXPECT_EQ(fsm.CanOverlapRestart(true), OverlapVerdict::kNotNotifyType);
  spec.type = ServiceType::kNotify;
  ToRunning();
  EXPECT_EQ(fsm.CanOverlapRestart(true), OverlapVerdict::kOk);
  fsm.OverlapRestart(now);
  ASSERT_TRUE(fsm.overlap_pending());
  EXPECT_EQ(fsm.CanOverlapRestart(false), OverlapVerdict::kInProgress);
}

TEST_F(DecisionsTest, OverlapNeedsAKillModeThatStopsAndARunningServiceWithoutControl) {
  spec.type = ServiceType::kNotify;
  spec.kill_mode = KillMode::kNone;
  EXPECT_EQ(fsm.CanOverlapRestart(true), OverlapVerdict::kKillModeNone);
  spec.kill_mode = KillMode::kControlGroup;
  EXPECT_EQ(fsm.CanOverlapRestart(true), OverlapVerdict::kNotRunning);
  spec.exec_reload = {Cmd("/bin/reload")};
  ToRunning();
  fsm.Reload(now);
  EXPECT_EQ(fsm.CanOverlapRestart(true), OverlapVerdict::kNotRunning) << "reloading";
  fsm.OnTimer(now);  // the reload times out; its ExecReload= is killed but not gone yet
  ASSERT_EQ(fsm.state(), State::kRunning);
  ASSERT_TRUE(fsm.control_alive());
  EXPECT_EQ(fsm.CanOverlapRestart(true), OverlapVerdict::kControlRunning);
}

TEST_F(DecisionsTest, ReloadVerdicts) {
  EXPECT_EQ(fsm.CanReload(), ReloadVerdict::kNotRunning);
  ToRunning();
  EXPECT_EQ(fsm.CanReload(), ReloadVerdict::kNoMechanism);
  spec.exec_reload = {Cmd("/bin/reload")};
  EXPECT_EQ(fsm.CanReload(), ReloadVerdict::kOk);
  fsm.Reload(now);
  EXPECT_EQ(fsm.CanReload(), ReloadVerdict::kInProgress);
  EXPECT_TRUE(fsm.Reload(now).empty());
}

// ---- Jobs: ResolveWaiters' decisions, case by case

TEST_F(DecisionsTest, AStopIsDoneOnceDeadAndNoProcessIsLeft) {
  ToRunning();
  const Job job = fsm.NewJob(Job::Kind::kStop);
  fsm.Stop(now);
  EXPECT_EQ(fsm.Outcome(job, true).kind, O::kPending);
  fsm.OnMainExited(ExitStatus::Signal(SIGTERM), "", now);
  fsm.OnAllGone(now);
  ASSERT_EQ(fsm.state(), State::kStopped);
  EXPECT_EQ(fsm.Outcome(job, /*processes_left=*/true).kind, O::kPending)
      << "an old instance still drains";
  const JobOutcome o = fsm.Outcome(job, false);
  EXPECT_EQ(o.kind, O::kDone);
  EXPECT_TRUE(o.cause.empty());
}

TEST_F(DecisionsTest, AStopOfAFailedServiceIsDone) {
  fsm.Start(now);
  fsm.OnConditionsChecked(false, true, "AssertPathExists=/x failed", now);
  EXPECT_EQ(fsm.Outcome(fsm.NewJob(Job::Kind::kStop), false).kind, O::kDone);
}

TEST_F(DecisionsTest, AStartIsPendingUntilItsAttemptThenDoneWhenRunning) {
  const Job job = fsm.NewJob(Job::Kind::kStart);
  EXPECT_EQ(fsm.Outcome(job, false).kind, O::kPending) << "not started yet";
  Begin();
  EXPECT_EQ(fsm.Outcome(job, true).kind, O::kPending) << "starting";
  fsm.OnMainSpawned(now);
  const JobOutcome o = fsm.Outcome(job, true);
  EXPECT_EQ(o.kind, O::kDone);
  EXPECT_TRUE(o.cause.empty());
}

TEST_F(DecisionsTest, AStartOfAStartingServiceWaitsForTheAttemptUnderWay) {
  spec.type = ServiceType::kNotify;
  Begin();
  const Job job = fsm.NewJob(Job::Kind::kStart);
  EXPECT_EQ(job.attempts_before, fsm.start_attempts() - 1);
  EXPECT_EQ(fsm.Outcome(job, true).kind, O::kPending);
  fsm.OnMainSpawned(now);
  fsm.OnReady(now);
  EXPECT_EQ(fsm.Outcome(job, true).kind, O::kDone);
  // A restart waits for a new attempt instead.
  EXPECT_EQ(fsm.NewJob(Job::Kind::kRestart).attempts_before, fsm.start_attempts());
}

TEST_F(DecisionsTest, AStartOfARunningServiceIsDoneAtOnce) {
  ToRunning();
  const Job job = fsm.NewJob(Job::Kind::kStart);
  EXPECT_EQ(Describe(fsm.Start(now)), "");
  EXPECT_EQ(fsm.Outcome(job, true).kind, O::kDone);
}

TEST_F(DecisionsTest, ARestartIsDoneWhenTheNewStartRuns) {
  ToRunning();
  const Job job = fsm.NewJob(Job::Kind::kRestart);
  EXPECT_EQ(fsm.Outcome(job, true).kind, O::kPending) << "still the old start";
  fsm.Restart(now);
  fsm.OnMainExited(ExitStatus::Signal(SIGTERM), "", now);
  fsm.OnAllGone(now);
  EXPECT_EQ(fsm.Outcome(job, false).kind, O::kPending) << "starting again";
  Actions a = fsm.OnConditionsChecked(true, false, "", now);
  fsm.OnInstancePrepared(a.back().attempt, "", now);
  fsm.OnMainSpawned(now);
  EXPECT_EQ(fsm.Outcome(job, true).kind, O::kDone);
}

TEST_F(DecisionsTest, ASkippedStartSucceedsWithItsCause) {
  const Job job = fsm.NewJob(Job::Kind::kStart);
  fsm.Start(now);
  fsm.OnConditionsChecked(false, false, "ConditionPathExists=/x was not met", now);
  const JobOutcome o = fsm.Outcome(job, false);
  EXPECT_EQ(o.kind, O::kSkipped);
  EXPECT_EQ(o.cause.kind, Cause::Kind::kConditionNotMet);
  EXPECT_EQ(o.cause.text, "ConditionPathExists=/x was not met");
}

TEST_F(DecisionsTest, AnExecConditionSkipSucceedsWithItsCause) {
  spec.exec_condition = {Cmd("/bin/check")};
  const Job job = fsm.NewJob(Job::Kind::kStart);
  Begin();
  fsm.OnControlExited(ExitStatus::Code(1), "", now);
  fsm.OnAllGone(now);
  ASSERT_EQ(fsm.state(), State::kStopped);
  const JobOutcome o = fsm.Outcome(job, false);
  EXPECT_EQ(o.kind, O::kSkipped);
  EXPECT_EQ(o.cause.kind, Cause::Kind::kExecConditionSkip);
}

TEST_F(DecisionsTest, AFinishedOneshotIsDone) {
  spec.type = ServiceType::kOneshot;
  const Job job = fsm.NewJob(Job::Kind::kStart);
  Begin();
  fsm.OnMainExited(ExitStatus::Code(0), "", now);
  fsm.OnAllGone(now);
  ASSERT_EQ(fsm.state(), State::kStopped);
  const JobOutcome o = fsm.Outcome(job, false);
  EXPECT_EQ(o.kind, O::kDone);
  EXPECT_TRUE(o.cause.empty());
}

TEST_F(DecisionsTest, AStopBeforeTheStartIsDoneCancelsIt) {
  spec.type = ServiceType::kNotify;
  const Job job = fsm.NewJob(Job::Kind::kStart);
  Begin();
  fsm.Stop(now);
  fsm.OnMainExited(ExitStatus::Signal(SIGTERM), "", now);
  fsm.OnAllGone(now);
  ASSERT_EQ(fsm.state(), State::kStopped);
  EXPECT_EQ(fsm.Outcome(job, false).kind, O::kCancelledByStop);
}

TEST_F(DecisionsTest, AFailedStartCarriesItsCauseAndResult) {
  const Job job = fsm.NewJob(Job::Kind::kStart);
  fsm.Start(now);
  Actions a = fsm.OnConditionsChecked(true, false, "", now);
  fsm.OnInstancePrepared(a.back().attempt, "", now);
  fsm.OnSpawnFailed("fork for /bin/main: Resource temporarily unavailable", now);
  fsm.OnAllGone(now);
  ASSERT_EQ(fsm.state(), State::kFailed);
  const JobOutcome o = fsm.Outcome(job, false);
  EXPECT_EQ(o.kind, O::kFailed);
  EXPECT_EQ(o.result, ServiceResult::kResources);
  EXPECT_EQ(o.cause.kind, Cause::Kind::kSpawnFailed);
}

TEST_F(DecisionsTest, AStartThatWillBeRestartedSaysSo) {
  spec.restart = RestartPolicy::kOnFailure;
  const Job job = fsm.NewJob(Job::Kind::kStart);
  ToRunning();
  fsm.OnMainExited(ExitStatus::Code(2), "", now);
  fsm.OnAllGone(now);
  ASSERT_EQ(fsm.state(), State::kBackoff);
  const JobOutcome o = fsm.Outcome(job, false);
  EXPECT_EQ(o.kind, O::kWillRestart);
  EXPECT_EQ(o.cause.kind, Cause::Kind::kMainExited);
}

TEST_F(DecisionsTest, AReloadIsDoneOrFailedWhenItEnds) {
  spec.exec_reload = {Cmd("/bin/reload")};
  ToRunning();
  Job job = fsm.NewJob(Job::Kind::kReload);
  fsm.Reload(now);
  EXPECT_EQ(fsm.Outcome(job, true).kind, O::kPending);
  fsm.OnControlExited(ExitStatus::Code(0), "", now);
  EXPECT_EQ(fsm.Outcome(job, true).kind, O::kDone);

  job = fsm.NewJob(Job::Kind::kReload);
  fsm.Reload(now);
  fsm.OnTimer(now);
  const JobOutcome o = fsm.Outcome(job, true);
  EXPECT_EQ(o.kind, O::kReloadFailed);
  EXPECT_EQ(o.cause.kind, Cause::Kind::kReloadTimeout);
}

TEST_F(DecisionsTest, AReloadInterruptedByAStopSaysTheState) {
  spec.exec_reload = {Cmd("/bin/reload")};
  ToRunning();
  const Job job = fsm.NewJob(Job::Kind::kReload);
  fsm.Reload(now);
  fsm.Stop(now);
  const JobOutcome o = fsm.Outcome(job, true);
  EXPECT_EQ(o.kind, O::kReloadInterrupted);
  EXPECT_EQ(o.state, State::kStopping);
}

class OverlapJobTest : public DecisionsTest {
 protected:
  OverlapJobTest() { spec.type = ServiceType::kNotify; }
};

TEST_F(OverlapJobTest, DoneOnceTheNewInstanceIsReady) {
  ToRunning();
  const Job job = fsm.NewJob(Job::Kind::kOverlapRestart);
  fsm.OverlapRestart(now);
  EXPECT_EQ(fsm.Outcome(job, true).kind, O::kPending);
  Begin();  // the Manager's answers; Start() itself is a no-op while starting
  fsm.OnMainSpawned(now);
  EXPECT_EQ(fsm.Outcome(job, true).kind, O::kPending) << "not ready yet";
  fsm.OnReady(now);
  EXPECT_EQ(fsm.Outcome(job, true).kind, O::kDone);
}

TEST_F(OverlapJobTest, FailedWhenTheNewInstanceFailsAndTheOldOneServesOn) {
  ToRunning();
  const Job job = fsm.NewJob(Job::Kind::kOverlapRestart);
  const Job plain = fsm.NewJob(Job::Kind::kRestart);
  fsm.OverlapRestart(now);
  Actions a = fsm.OnConditionsChecked(true, false, "", now);
  fsm.OnInstancePrepared(a.back().attempt, "", now);
  fsm.OnMainSpawned(now);
  fsm.OnMainExited(ExitStatus::Code(3), "", now);
  fsm.OnAllGone(now);
  ASSERT_EQ(fsm.state(), State::kRunning);
  const JobOutcome o = fsm.Outcome(job, true);
  EXPECT_EQ(o.kind, O::kOverlapFailed);
  EXPECT_EQ(o.cause.overlap, Cause::Overlap::kOldKeepsServing);
  EXPECT_EQ(fsm.Outcome(plain, true).kind, O::kDone)
      << "only an overlap job looks at failed overlaps";
}

TEST_F(OverlapJobTest, RefusedByTheStartLimit) {
  spec.start_limit_interval = 10s;
  spec.start_limit_burst = 1;
  ToRunning();
  const Job job = fsm.NewJob(Job::Kind::kOverlapRestart);
  EXPECT_EQ(Describe(fsm.OverlapRestart(now)), "");
  const JobOutcome o = fsm.Outcome(job, true);
  EXPECT_EQ(o.kind, O::kOverlapFailed);
  EXPECT_EQ(o.cause.overlap, Cause::Overlap::kRefusedStartLimit);
  EXPECT_EQ(o.cause.count, 1u);
  EXPECT_EQ(o.cause.span, 10s);
}

// ---- The instance-preparation step

TEST_F(DecisionsTest, PreparationFollowsTheConditionsAndCarriesTheAttempt) {
  spec.timeout_start = 5s;
  fsm.Start(now);
  EXPECT_EQ(Describe(fsm.OnConditionsChecked(true, false, "", now)), "timer:5s prepare:1");
  EXPECT_TRUE(fsm.preparing());
  EXPECT_EQ(fsm.state(), State::kStarting);
  EXPECT_EQ(Describe(fsm.OnConditionsChecked(true, false, "", now)), "")
      << "a second answer to one check";
  EXPECT_EQ(Describe(fsm.OnInstancePrepared(1, "", now)), "timer:5s spawn-main[0]");
  EXPECT_FALSE(fsm.preparing());
}

TEST_F(DecisionsTest, AFailedPreparationFailsTheStartAsAFailedSpawn) {
  fsm.Start(now);
  fsm.OnConditionsChecked(true, false, "", now);
  fsm.OnInstancePrepared(1, "User=ghost: no such user", now);
  EXPECT_EQ(fsm.state(), State::kStopping);
  fsm.OnAllGone(now);
  EXPECT_EQ(fsm.state(), State::kFailed);
  EXPECT_EQ(fsm.result(), ServiceResult::kResources);
  EXPECT_EQ(fsm.cause().kind, Cause::Kind::kSpawnFailed);
  EXPECT_EQ(fsm.cause().text, "User=ghost: no such user");
}

TEST_F(DecisionsTest, APreparationOfAnEarlierAttemptIsIgnored) {
  spec.kill_mode = KillMode::kProcess;
  fsm.Start(now);
  fsm.OnConditionsChecked(true, false, "", now);  // prepare:1 on its way
  // A stop while preparing: nothing of ours runs, so it ends at once.
  EXPECT_EQ(Describe(fsm.Stop(now)), "disarm-watchdog timer:90s disarm");
  EXPECT_EQ(fsm.state(), State::kStopped);
  EXPECT_EQ(Describe(fsm.OnInstancePrepared(1, "", now)), "") << "dead";
  fsm.Start(now);
  EXPECT_EQ(Describe(fsm.OnConditionsChecked(true, false, "", now)), "timer:90s prepare:2");
  EXPECT_EQ(Describe(fsm.OnInstancePrepared(1, "", now)), "") << "stale";
  EXPECT_TRUE(fsm.preparing());
  EXPECT_EQ(Describe(fsm.OnInstancePrepared(2, "", now)), "timer:90s spawn-main[0]");
}

}  // namespace
}  // namespace supd
