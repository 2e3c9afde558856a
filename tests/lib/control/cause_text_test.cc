#include "lib/control/cause_text.h"

#include <gtest/gtest.h>
#include <signal.h>

#include "lib/supervise/service_fsm.h"

namespace supd::control {
namespace {

using CK = Cause::Kind;
using namespace std::chrono_literals;

Cause Of(CK kind) { return Cause::Of(kind); }

TEST(FormatSpanTest, SecondsMillisecondsAndInfinity) {
  EXPECT_EQ(FormatSpan(90s), "90s");
  EXPECT_EQ(FormatSpan(1500ms), "1500ms");
  EXPECT_EQ(FormatSpan(0us), "0s");
  EXPECT_EQ(FormatSpan(1234us), "1ms");  // whole milliseconds
  EXPECT_EQ(FormatSpan(kInfinity), "infinity");
}

// ---- One sentence per Cause::Kind, as lib/supervise/cause.h lists them.

TEST(FormatCauseTest, None) { EXPECT_EQ(FormatCause(Cause{}), ""); }

TEST(FormatCauseTest, StartLimitHit) {
  Cause c = Of(CK::kStartLimitHit);
  c.count = 5;
  c.span = 10s;
  c.burst = 5;
  EXPECT_EQ(FormatCause(c),
            "start limit hit: 5 starts within 10s (StartLimitBurst=5, StartLimitIntervalSec=10s)");
}

TEST(FormatCauseTest, ConditionAssertSpawnAndExecAreTheirTextVerbatim) {
  EXPECT_EQ(
      FormatCause(Cause::WithText(CK::kConditionNotMet, "ConditionPathExists=/x was not met")),
      "ConditionPathExists=/x was not met");
  EXPECT_EQ(FormatCause(Cause::WithText(CK::kAssertFailed, "AssertPathExists=/x failed")),
            "AssertPathExists=/x failed");
  EXPECT_EQ(FormatCause(Cause::WithText(CK::kSpawnFailed,
                                        "fork for /bin/main: Resource temporarily unavailable")),
            "fork for /bin/main: Resource temporarily unavailable");
  EXPECT_EQ(FormatCause(Cause::WithText(CK::kExecFailed, "exec /x: No such file or directory")),
            "exec /x: No such file or directory");
}

TEST(FormatCauseTest, MainExited) {
  Cause c = Of(CK::kMainExited);
  c.exit = ExitStatus::Code(3);
  EXPECT_EQ(FormatCause(c), "main process exited with status 3");
  c.exit = ExitStatus::Signal(SIGSEGV, /*core=*/true);
  EXPECT_EQ(FormatCause(c), "main process killed by signal SIGSEGV (core dumped)");
}

TEST(FormatCauseTest, MainExitedByTheOomKillerSaysSo) {
  Cause c = Cause::WithText(CK::kMainExited, "killed by the OOM killer (MemoryMax=64M)");
  c.exit = ExitStatus::Signal(SIGKILL);
  EXPECT_EQ(FormatCause(c), "main process killed by the OOM killer (MemoryMax=64M)");
}

TEST(FormatCauseTest, ControlFailed) {
  Cause c = Of(CK::kControlFailed);
  c.list = CommandList::kStartPre;
  c.path = "/bin/false";
  c.source = "test.service:1";
  c.exit = ExitStatus::Code(1);
  EXPECT_EQ(FormatCause(c), "ExecStartPre=/bin/false (test.service:1) exited with status 1");
  c.list = CommandList::kStop;
  c.exit = ExitStatus::Signal(SIGTERM);
  EXPECT_EQ(FormatCause(c), "ExecStop=/bin/false (test.service:1) killed by signal SIGTERM");
}

TEST(FormatCauseTest, ControlFailedOfAnUnknownCommandNamesTheList) {
  Cause c = Of(CK::kControlFailed);
  c.list = CommandList::kReload;
  c.index = 4;
  c.exit = ExitStatus::Code(2);
  EXPECT_EQ(FormatCause(c), "ExecReload= exited with status 2");
}

TEST(FormatCauseTest, ExecConditionSkip) {
  Cause c = Of(CK::kExecConditionSkip);
  c.list = CommandList::kCondition;
  c.path = "/bin/check";
  c.source = "web.service:7";
  c.exit = ExitStatus::Code(1);
  EXPECT_EQ(FormatCause(c),
            "ExecCondition=/bin/check (web.service:7) exited with status 1: start skipped");
}

TEST(FormatCauseTest, StartTimeoutNotifyAndOther) {
  Cause c = Cause::WithSpan(CK::kStartTimeout, 2s);
  c.notify_type = true;
  EXPECT_EQ(FormatCause(c), "start timeout: no READY=1 within 2s (TimeoutStartSec=)");
  c.notify_type = false;
  EXPECT_EQ(FormatCause(c), "start timeout: not ready within TimeoutStartSec=2s");
}

TEST(FormatCauseTest, StartPostTimeout) {
  EXPECT_EQ(FormatCause(Cause::WithSpan(CK::kStartPostTimeout, 1500ms)),
            "start timeout: ExecStartPost= did not finish within TimeoutStartSec=1500ms");
}

TEST(FormatCauseTest, ReloadTimeout) {
  EXPECT_EQ(FormatCause(Cause::WithSpan(CK::kReloadTimeout, 90s)),
            "reload timeout: not done within 90s");
}

TEST(FormatCauseTest, ExecStopTimeout) {
  EXPECT_EQ(FormatCause(Cause::WithSpan(CK::kExecStopTimeout, 5s)),
            "stop timeout: ExecStop= did not finish within TimeoutStopSec=5s");
}

TEST(FormatCauseTest, StopTimeoutWithAndWithoutSendSigkill) {
  Cause c = Cause::WithSpan(CK::kStopTimeout, 2s);
  c.signal = SIGTERM;
  c.final_signal = SIGKILL;
  c.send_sigkill = true;
  EXPECT_EQ(FormatCause(c), "stop timeout: processes still running 2s after SIGTERM, sent SIGKILL");
  c.signal = SIGINT;
  c.send_sigkill = false;
  EXPECT_EQ(FormatCause(c),
            "stop timeout: processes still running 2s after SIGINT (SendSIGKILL=no: left running)");
}

TEST(FormatCauseTest, SurvivedFinalKill) {
  Cause c = Of(CK::kSurvivedFinalKill);
  c.final_signal = SIGKILL;
  EXPECT_EQ(FormatCause(c), "processes survived SIGKILL; giving up");
}

TEST(FormatCauseTest, ExecStopPostTimeout) {
  EXPECT_EQ(FormatCause(Cause::WithSpan(CK::kExecStopPostTimeout, 3s)),
            "stop timeout: ExecStopPost= did not finish within TimeoutStopSec=3s");
}

TEST(FormatCauseTest, LeftRunningAfterStopPost) {
  EXPECT_EQ(FormatCause(Of(CK::kLeftRunningAfterStopPost)),
            "processes still running after ExecStopPost= (SendSIGKILL=no); left running");
}

TEST(FormatCauseTest, WatchdogTimeoutAndTrigger) {
  Cause c = Cause::WithSpan(CK::kWatchdogTimeout, 1s);
  c.signal = SIGABRT;
  EXPECT_EQ(FormatCause(c), "watchdog timeout: no WATCHDOG=1 within 1s, sent SIGABRT");
  Cause t = Of(CK::kWatchdogTriggered);
  t.signal = SIGABRT;
  EXPECT_EQ(FormatCause(t), "watchdog triggered by the program (WATCHDOG=trigger), sent SIGABRT");
}

TEST(FormatCauseTest, StartupProbeFailed) {
  EXPECT_EQ(FormatCause(Cause::WithText(
                CK::kStartupProbeFailed,
                "StartupProbe=tcp://127.0.0.1:8080 failed 3 times: connect: Connection refused")),
            "startup probe failed: StartupProbe=tcp://127.0.0.1:8080 failed 3 times: connect: "
            "Connection refused");
}

TEST(FormatCauseTest, LivenessProbeFailedSaysTheSignalSent) {
  Cause c = Cause::WithText(CK::kLivenessProbeFailed,
                            "LivenessProbe=http://127.0.0.1:8080/healthz failed 3 times: HTTP 500 "
                            "Internal Server Error");
  c.signal = SIGTERM;
  EXPECT_EQ(FormatCause(c),
            "liveness probe failed: LivenessProbe=http://127.0.0.1:8080/healthz failed 3 times: "
            "HTTP 500 Internal Server Error, sent SIGTERM");
}

TEST(FormatCauseTest, ProbeStartTimeoutNamesTheProbeThatHeldTheGate) {
  Cause c = Cause::WithSpan(CK::kProbeStartTimeout, 1500ms);
  c.text = "ReadinessProbe=http://127.0.0.1:8080/healthz failing: HTTP 503 Service Unavailable";
  EXPECT_EQ(FormatCause(c),
            "start timeout: not ready within TimeoutStartSec=1500ms: "
            "ReadinessProbe=http://127.0.0.1:8080/healthz failing: HTTP 503 Service Unavailable");
  c.span = 90s;
  c.text = "StartupProbe=tcp://127.0.0.1:9 pending: no result yet";
  EXPECT_EQ(FormatCause(c),
            "start timeout: not ready within TimeoutStartSec=90s: StartupProbe=tcp://127.0.0.1:9 "
            "pending: no result yet");
}

TEST(FormatCauseTest, StoppedWhileWaitingToRestart) {
  EXPECT_EQ(FormatCause(Of(CK::kStoppedWhileWaitingToRestart)), "stopped while waiting to restart");
}

TEST(FormatCauseTest, ResultIsItsName) {
  Cause c = Of(CK::kResult);
  c.result = ServiceResult::kExitCode;
  EXPECT_EQ(FormatCause(c), "exit-code");
  c.result = ServiceResult::kSuccess;
  EXPECT_EQ(FormatCause(c), "success");
}

// ---- An overlap restart's wrapping

TEST(FormatCauseTest, OverlapOldKeepsServingWrapsTheCause) {
  Cause c = Of(CK::kMainExited);
  c.exit = ExitStatus::Code(3);
  c.overlap = Cause::Overlap::kOldKeepsServing;
  EXPECT_EQ(FormatCause(c),
            "restart failed, the previous instance keeps serving: main process exited with "
            "status 3");
}

TEST(FormatCauseTest, OverlapOldKeepsServingWrapsAProbeCause) {
  Cause c = Cause::WithSpan(CK::kProbeStartTimeout, 5s);
  c.text = "ReadinessProbe=exec:/bin/check pending: passed 1 of SuccessThreshold=2";
  c.overlap = Cause::Overlap::kOldKeepsServing;
  EXPECT_EQ(FormatCause(c),
            "restart failed, the previous instance keeps serving: start timeout: not ready within "
            "TimeoutStartSec=5s: ReadinessProbe=exec:/bin/check pending: passed 1 of "
            "SuccessThreshold=2");
}

TEST(FormatCauseTest, OverlapWithoutAnInnerCauseSaysTheResult) {
  Cause c;
  c.overlap = Cause::Overlap::kOldKeepsServing;
  c.result = ServiceResult::kExitCode;
  EXPECT_FALSE(c.empty());
  EXPECT_EQ(FormatCause(c), "restart failed, the previous instance keeps serving: exit-code");
  c.overlap = Cause::Overlap::kOldGone;
  c.result = ServiceResult::kTimeout;
  EXPECT_EQ(FormatCause(c), "restart failed and the previous instance had exited: timeout");
}

TEST(FormatCauseTest, OverlapOldGoneWrapsTheCause) {
  Cause c = Cause::WithSpan(CK::kStartTimeout, 1s);
  c.notify_type = true;
  c.overlap = Cause::Overlap::kOldGone;
  EXPECT_EQ(FormatCause(c),
            "restart failed and the previous instance had exited: start timeout: no READY=1 "
            "within 1s (TimeoutStartSec=)");
}

TEST(FormatCauseTest, OverlapRefusedByTheStartLimit) {
  Cause c = Of(CK::kStartLimitHit);
  c.overlap = Cause::Overlap::kRefusedStartLimit;
  c.count = 1;
  c.span = 10s;
  c.burst = 1;
  EXPECT_EQ(FormatCause(c),
            "restart refused, the running instance goes on: start limit hit (1 starts within 10s)");
}

// ---- Causes as the machine records them (these sentences were asserted on the FSM before).

ExecCommand Cmd(const std::string& path) {
  ExecCommand c;
  c.path = path;
  c.argv = {path};
  c.source = "test.service:1";
  return c;
}

class FromTheMachineTest : public ::testing::Test {
 protected:
  FromTheMachineTest() {
    spec.name = "test.service";
    spec.exec_start = {Cmd("/bin/main")};
    spec.restart_sec = 0us;
  }
  void Begin() {
    fsm.Start(now);
    Actions a = fsm.OnConditionsChecked(true, false, "", now);
    fsm.OnInstancePrepared(a.back().attempt, "", now);
  }
  ServiceSpec spec;
  ServiceFsm fsm{&spec};
  Usec now{1'000'000'000};
};

TEST_F(FromTheMachineTest, ExecStartPreFailure) {
  spec.exec_start_pre = {Cmd("/bin/false")};
  Begin();
  fsm.OnControlExited(ExitStatus::Code(1), "", now);
  EXPECT_EQ(FormatCause(fsm.cause()),
            "ExecStartPre=/bin/false (test.service:1) exited with status 1");
}

TEST_F(FromTheMachineTest, NoReadyWithinTheStartTimeout) {
  spec.type = ServiceType::kNotify;
  spec.timeout_start = 2s;
  Begin();
  fsm.OnMainSpawned(now);
  fsm.OnTimer(now);
  EXPECT_EQ(FormatCause(fsm.cause()), "start timeout: no READY=1 within 2s (TimeoutStartSec=)");
}

TEST_F(FromTheMachineTest, StopTimeoutThenSigkill) {
  spec.timeout_stop = 2s;
  Begin();
  fsm.OnMainSpawned(now);
  fsm.Stop(now);
  fsm.OnTimer(now);
  EXPECT_EQ(FormatCause(fsm.cause()),
            "stop timeout: processes still running 2s after SIGTERM, sent SIGKILL");
}

TEST_F(FromTheMachineTest, WatchdogIntervalInWholeMilliseconds) {
  spec.type = ServiceType::kNotify;
  spec.watchdog_sec = 1500500us;
  Begin();
  fsm.OnMainSpawned(now);
  fsm.OnReady(now);
  fsm.OnWatchdogTimeout(now);
  EXPECT_EQ(FormatCause(fsm.cause()),
            "watchdog timeout: no WATCHDOG=1 within 1500ms, sent SIGABRT");
}

TEST_F(FromTheMachineTest, ExecConditionSkip) {
  spec.exec_condition = {Cmd("/bin/check")};
  Begin();
  fsm.OnControlExited(ExitStatus::Code(1), "", now);
  EXPECT_EQ(FormatCause(fsm.cause()),
            "ExecCondition=/bin/check (test.service:1) exited with status 1: start skipped");
}

TEST_F(FromTheMachineTest, ARestartAfterACleanExitSaysSuccess) {
  spec.restart = RestartPolicy::kAlways;
  Begin();
  fsm.OnMainSpawned(now);
  fsm.OnMainExited(ExitStatus::Code(0), "", now);
  fsm.OnAllGone(now);
  ASSERT_EQ(fsm.state(), State::kBackoff);
  EXPECT_EQ(FormatCause(fsm.cause()), "success");
}

// ---- Refusals and job answers

TEST(FormatReloadVerdictTest, EachVerdict) {
  EXPECT_EQ(FormatReloadVerdict(ReloadVerdict::kOk, State::kRunning), "");
  EXPECT_EQ(FormatReloadVerdict(ReloadVerdict::kInProgress, State::kReloading),
            "a reload is already in progress");
  EXPECT_EQ(FormatReloadVerdict(ReloadVerdict::kNotRunning, State::kStopped),
            "the service is stopped");
  EXPECT_EQ(FormatReloadVerdict(ReloadVerdict::kNoMechanism, State::kRunning),
            "the unit has no ExecReload= (and is not Type=notify-reload)");
  EXPECT_EQ(FormatReloadVerdict(ReloadVerdict::kNoMainProcess, State::kRunning),
            "the service has no main process");
}

TEST(FormatOverlapVerdictTest, EachVerdict) {
  EXPECT_EQ(FormatOverlapVerdict(OverlapVerdict::kOk, State::kRunning), "");
  EXPECT_EQ(FormatOverlapVerdict(OverlapVerdict::kNoHeldFds, State::kRunning),
            "supd holds no sockets or stored fds for it");
  EXPECT_EQ(FormatOverlapVerdict(OverlapVerdict::kInProgress, State::kStarting),
            "a restart is already in progress");
  EXPECT_EQ(FormatOverlapVerdict(OverlapVerdict::kNotNotifyType, State::kRunning),
            "overlap restarts need Type=notify (READY=1 tells when to switch) or an exec: "
            "readiness probe (it can tell the new instance by its $MAINPID)");
  EXPECT_EQ(FormatOverlapVerdict(OverlapVerdict::kKillModeNone, State::kRunning),
            "KillMode=none could not stop the old instance");
  EXPECT_EQ(FormatOverlapVerdict(OverlapVerdict::kNotRunning, State::kBackoff),
            "the service is backoff");
  EXPECT_EQ(FormatOverlapVerdict(OverlapVerdict::kNoMainProcess, State::kRunning),
            "the service has no main process");
  EXPECT_EQ(FormatOverlapVerdict(OverlapVerdict::kControlRunning, State::kRunning),
            "a control process is running");
}

JobOutcome Outcome(JobOutcome::Kind kind, Cause cause = {}) {
  JobOutcome o;
  o.kind = kind;
  o.cause = std::move(cause);
  return o;
}

TEST(FormatJobOutcomeTest, SuccessCarriesTheCauseAsANote) {
  const JobAnswer done = FormatJobOutcome("web.service", Outcome(JobOutcome::Kind::kDone));
  EXPECT_TRUE(done.ok);
  EXPECT_EQ(done.message, "");
  const JobAnswer skipped = FormatJobOutcome(
      "web.service",
      Outcome(JobOutcome::Kind::kSkipped, Cause::WithText(Cause::Kind::kConditionNotMet,
                                                          "ConditionPathExists=/x was not met")));
  EXPECT_TRUE(skipped.ok);
  EXPECT_EQ(skipped.message, "ConditionPathExists=/x was not met");
}

TEST(FormatJobOutcomeTest, FailedSaysTheCauseOrTheResult) {
  JobOutcome o = Outcome(JobOutcome::Kind::kFailed, Cause::WithText(CK::kExecFailed, "exec /x: x"));
  JobAnswer a = FormatJobOutcome("web.service", o);
  EXPECT_FALSE(a.ok);
  EXPECT_EQ(a.message, "web.service failed: exec /x: x");
  o.cause = {};
  o.result = ServiceResult::kTimeout;
  EXPECT_EQ(FormatJobOutcome("web.service", o).message, "web.service failed: timeout");
}

TEST(FormatJobOutcomeTest, TheOtherFailures) {
  Cause exited = Of(CK::kMainExited);
  exited.exit = ExitStatus::Code(1);
  EXPECT_EQ(
      FormatJobOutcome("web.service", Outcome(JobOutcome::Kind::kWillRestart, exited)).message,
      "web.service failed to start and will be restarted: main process exited with status 1");
  EXPECT_EQ(FormatJobOutcome("web.service", Outcome(JobOutcome::Kind::kCancelledByStop)).message,
            "web.service: the start was cancelled by a stop");
  Cause wrapped = exited;
  wrapped.overlap = Cause::Overlap::kOldKeepsServing;
  EXPECT_EQ(
      FormatJobOutcome("web.service", Outcome(JobOutcome::Kind::kOverlapFailed, wrapped)).message,
      "web.service: restart failed, the previous instance keeps serving: main process exited "
      "with status 1");
  EXPECT_EQ(FormatJobOutcome("web.service", Outcome(JobOutcome::Kind::kReloadFailed,
                                                    Cause::WithSpan(CK::kReloadTimeout, 5s)))
                .message,
            "web.service: reload failed: reload timeout: not done within 5s");
  JobOutcome interrupted = Outcome(JobOutcome::Kind::kReloadInterrupted);
  interrupted.state = State::kStopping;
  EXPECT_EQ(FormatJobOutcome("web.service", interrupted).message,
            "web.service: reload interrupted: the service is stopping");
  for (JobOutcome::Kind k : {JobOutcome::Kind::kWillRestart, JobOutcome::Kind::kCancelledByStop,
                             JobOutcome::Kind::kOverlapFailed, JobOutcome::Kind::kReloadFailed,
                             JobOutcome::Kind::kReloadInterrupted})
    EXPECT_FALSE(FormatJobOutcome("web.service", Outcome(k)).ok);
}

}  // namespace
}  // namespace supd::control
