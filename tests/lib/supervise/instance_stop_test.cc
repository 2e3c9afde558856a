#include "lib/supervise/instance_stop.h"

#include <signal.h>

#include <gtest/gtest.h>

#include "tests/lib/supervise/actions_text.h"

namespace supd {
namespace {

using namespace std::chrono_literals;
using testing_text::Describe;
using Step = InstanceStop::Step;

ExecCommand Cmd(const std::string& path, bool ignore_failure = false) {
  ExecCommand c;
  c.path = path;
  c.argv = {path};
  c.source = "old.service:1";
  c.ignore_failure = ignore_failure;
  return c;
}

class InstanceStopTest : public ::testing::Test {
 protected:
  InstanceStopTest() {
    spec.name = "old.service";
    spec.type = ServiceType::kNotify;
    spec.exec_start = {Cmd("/bin/server")};
    spec.timeout_stop = 7s;
  }
  ServiceSpec spec;
  InstanceStop stop{&spec};
  Usec now{5'000'000};
};

TEST_F(InstanceStopTest, ControlGroupSignalsAllAndWaitsUntilAllAreGone) {
  EXPECT_EQ(Describe(stop.Begin(/*main_alive=*/true, now)), "signal:all:SIGTERM timer:7s");
  EXPECT_EQ(stop.step(), Step::kSignal);
  EXPECT_TRUE(stop.waiting_for_empty());
  EXPECT_EQ(Describe(stop.OnAllGone(now)), "") << "stale: its main exit is still on its way";
  EXPECT_EQ(Describe(stop.OnMainExited(now)), "") << "the rest of the cgroup counts too";
  EXPECT_FALSE(stop.done());
  EXPECT_EQ(Describe(stop.OnAllGone(now)), "disarm");
  EXPECT_TRUE(stop.done());
  EXPECT_FALSE(stop.abandoned());
}

TEST_F(InstanceStopTest, ExecStopRunsOneByOneThenTheSignal) {
  spec.exec_stop = {Cmd("/bin/drain"), Cmd("/bin/flush")};
  EXPECT_EQ(Describe(stop.Begin(true, now)), "timer:7s spawn:ExecStop[0]");
  EXPECT_EQ(stop.step(), Step::kExecStop);
  EXPECT_TRUE(stop.control_alive());
  EXPECT_EQ(Describe(stop.OnAllGone(now)), "") << "never while ExecStop= runs";
  EXPECT_EQ(Describe(stop.OnControlExited(ExitStatus::Code(0), "", now)),
            "timer:7s spawn:ExecStop[1]");
  // ExecStop=kill $MAINPID: the main process goes while ExecStop= still runs.
  EXPECT_EQ(Describe(stop.OnMainExited(now)), "");
  EXPECT_EQ(stop.step(), Step::kExecStop);
  EXPECT_EQ(Describe(stop.OnControlExited(ExitStatus::Code(0), "", now)),
            "signal:all:SIGTERM timer:7s");
  EXPECT_EQ(Describe(stop.OnAllGone(now)), "disarm");
  EXPECT_TRUE(stop.done());
}

TEST_F(InstanceStopTest, AFailedExecStopSkipsTheRestAndGoesOnToTheSignal) {
  spec.exec_stop = {Cmd("/bin/drain"), Cmd("/bin/flush")};
  stop.Begin(true, now);
  EXPECT_EQ(Describe(stop.OnControlExited(ExitStatus::Code(1), "", now)),
            "signal:all:SIGTERM timer:7s");
  EXPECT_EQ(stop.step(), Step::kSignal);
}

TEST_F(InstanceStopTest, AnExecStopKilledByASignalIsAFailureToo) {
  spec.exec_stop = {Cmd("/bin/drain"), Cmd("/bin/flush")};
  stop.Begin(true, now);
  EXPECT_EQ(Describe(stop.OnControlExited(ExitStatus::Signal(SIGSEGV), "", now)),
            "signal:all:SIGTERM timer:7s");
}

TEST_F(InstanceStopTest, AnIgnoredExecStopFailureGoesOnToTheNextCommand) {
  spec.exec_stop = {Cmd("/bin/drain", /*ignore_failure=*/true), Cmd("/bin/flush")};
  stop.Begin(true, now);
  EXPECT_EQ(Describe(stop.OnControlExited(ExitStatus::Code(3), "", now)),
            "timer:7s spawn:ExecStop[1]");
}

TEST_F(InstanceStopTest, AnExecErrorIsAFailureEvenWithTheDash) {
  spec.exec_stop = {Cmd("/bin/drain", /*ignore_failure=*/true), Cmd("/bin/flush")};
  stop.Begin(true, now);
  EXPECT_EQ(Describe(stop.OnControlExited(ExitStatus::Code(203),
                                          "exec /bin/drain: No such file or directory", now)),
            "signal:all:SIGTERM timer:7s");
}

TEST_F(InstanceStopTest, AnExecStopThatCannotBeSpawnedGoesOnToTheSignal) {
  spec.exec_stop = {Cmd("/bin/drain"), Cmd("/bin/flush")};
  stop.Begin(true, now);
  EXPECT_EQ(Describe(stop.OnSpawnFailed("fork: Resource temporarily unavailable", now)),
            "signal:all:SIGTERM timer:7s");
  EXPECT_FALSE(stop.control_alive());
  EXPECT_EQ(Describe(stop.OnSpawnFailed("again", now)), "") << "no spawn pending";
}

TEST_F(InstanceStopTest, ExecStopTimeoutSignalsTheCommandWithTheRest) {
  spec.kill_mode = KillMode::kProcess;
  spec.exec_stop = {Cmd("/bin/drain")};
  stop.Begin(true, now);
  EXPECT_EQ(Describe(stop.OnTimer(now)), "signal:main:SIGTERM signal:control:SIGTERM timer:7s");
  EXPECT_EQ(Describe(stop.OnControlExited(ExitStatus::Signal(SIGTERM), "", now)), "");
  EXPECT_EQ(Describe(stop.OnMainExited(now)), "disarm") << "KillMode=process: only ours count";
  EXPECT_TRUE(stop.done());
}

TEST_F(InstanceStopTest, StopTimeoutSendsFinalKillSignalThenGivesUp) {
  EXPECT_EQ(Describe(stop.Begin(true, now)), "signal:all:SIGTERM timer:7s");
  EXPECT_EQ(Describe(stop.OnTimer(now)), "signal:all:SIGKILL timer:7s");
  EXPECT_EQ(stop.step(), Step::kFinalSignal);
  EXPECT_EQ(Describe(stop.OnTimer(now)), "abandon disarm");
  EXPECT_TRUE(stop.done());
  EXPECT_TRUE(stop.abandoned());
  EXPECT_FALSE(stop.main_alive());
}

TEST_F(InstanceStopTest, SendSigkillNoGivesUpAtTheFirstTimeout) {
  spec.send_sigkill = false;
  stop.Begin(true, now);
  EXPECT_EQ(Describe(stop.OnTimer(now)), "abandon disarm");
  EXPECT_TRUE(stop.abandoned());
}

TEST_F(InstanceStopTest, ItsOwnSignalsAndTimeoutFromTheSpecItWasStartedWith) {
  spec.kill_signal = SIGINT;
  spec.final_kill_signal = SIGQUIT;
  spec.send_sighup = true;
  spec.timeout_stop = 1500ms;
  EXPECT_EQ(Describe(stop.Begin(true, now)), "signal:all:SIGINT signal:all:SIGHUP timer:1500ms");
  EXPECT_EQ(Describe(stop.OnTimer(now)), "signal:all:SIGQUIT timer:1500ms");
}

TEST_F(InstanceStopTest, KillModeProcessSignalsTheMainProcessAndDoesNotWaitForTheRest) {
  spec.kill_mode = KillMode::kProcess;
  EXPECT_EQ(Describe(stop.Begin(true, now)), "signal:main:SIGTERM timer:7s");
  EXPECT_FALSE(stop.done());
  EXPECT_EQ(Describe(stop.OnMainExited(now)), "disarm");
  EXPECT_TRUE(stop.done());
}

TEST_F(InstanceStopTest, KillModeProcessFinalKillIsForTheMainProcessOnly) {
  spec.kill_mode = KillMode::kProcess;
  stop.Begin(true, now);
  EXPECT_EQ(Describe(stop.OnTimer(now)), "signal:main:SIGKILL timer:7s");
  EXPECT_EQ(Describe(stop.OnMainExited(now)), "disarm");
}

TEST_F(InstanceStopTest, KillModeMixedKillsTheRestOnceTheMainProcessIsGone) {
  spec.kill_mode = KillMode::kMixed;
  EXPECT_EQ(Describe(stop.Begin(true, now)), "signal:main:SIGTERM timer:7s");
  EXPECT_EQ(Describe(stop.OnMainExited(now)), "signal:all:SIGKILL timer:7s");
  EXPECT_EQ(stop.step(), Step::kFinalSignal);
  EXPECT_EQ(Describe(stop.OnAllGone(now)), "disarm");
  EXPECT_TRUE(stop.done());
}

TEST_F(InstanceStopTest, KillModeMixedTimeoutKillsAll) {
  spec.kill_mode = KillMode::kMixed;
  stop.Begin(true, now);
  EXPECT_EQ(Describe(stop.OnTimer(now)), "signal:all:SIGKILL timer:7s");
}

TEST_F(InstanceStopTest, KillModeNoneAbandonsAfterExecStop) {
  spec.kill_mode = KillMode::kNone;
  spec.exec_stop = {Cmd("/bin/drain")};
  EXPECT_EQ(Describe(stop.Begin(true, now)), "timer:7s spawn:ExecStop[0]");
  EXPECT_EQ(Describe(stop.OnControlExited(ExitStatus::Code(0), "", now)), "abandon disarm");
  EXPECT_TRUE(stop.done());
  EXPECT_TRUE(stop.abandoned());
}

TEST_F(InstanceStopTest, AMainProcessAlreadyGoneWithKillModeProcessIsDoneAtOnce) {
  spec.kill_mode = KillMode::kProcess;
  EXPECT_EQ(Describe(stop.Begin(/*main_alive=*/false, now)), "timer:7s disarm");
  EXPECT_TRUE(stop.done());
}

TEST_F(InstanceStopTest, AMainProcessAlreadyGoneStillHasItsCgroupSignalled) {
  EXPECT_EQ(Describe(stop.Begin(/*main_alive=*/false, now)), "signal:all:SIGTERM timer:7s");
  EXPECT_TRUE(stop.waiting_for_empty());
  EXPECT_EQ(Describe(stop.OnAllGone(now)), "disarm");
}

TEST_F(InstanceStopTest, ExecStopPostIsNeverRun) {
  spec.exec_stop = {Cmd("/bin/drain")};
  spec.exec_stop_post = {Cmd("/bin/cleanup")};
  std::string all = Describe(stop.Begin(true, now));
  all += " " + Describe(stop.OnControlExited(ExitStatus::Code(0), "", now));
  all += " " + Describe(stop.OnMainExited(now));
  all += " " + Describe(stop.OnAllGone(now));
  EXPECT_EQ(all, "timer:7s spawn:ExecStop[0] signal:all:SIGTERM timer:7s  disarm");
  EXPECT_TRUE(stop.done());
}

TEST_F(InstanceStopTest, NothingBeforeBeginNothingAfterDoneAndBeginOnlyOnce) {
  EXPECT_EQ(Describe(stop.OnTimer(now)), "");
  EXPECT_EQ(Describe(stop.OnMainExited(now)), "");
  EXPECT_EQ(Describe(stop.OnAllGone(now)), "");
  EXPECT_EQ(stop.step(), Step::kNotBegun);
  stop.Begin(true, now);
  EXPECT_EQ(Describe(stop.Begin(true, now)), "");
  stop.OnMainExited(now);
  stop.OnAllGone(now);
  ASSERT_TRUE(stop.done());
  EXPECT_EQ(Describe(stop.OnTimer(now)), "");
  EXPECT_EQ(Describe(stop.OnControlExited(ExitStatus::Code(1), "", now)), "");
  EXPECT_EQ(Describe(stop.OnAllGone(now)), "");
}

TEST_F(InstanceStopTest, EventsOfOtherKindsAreNotItsBusiness) {
  stop.Begin(true, now);
  for (Event::Kind k : {Event::Kind::kStart, Event::Kind::kStop, Event::Kind::kReady,
                        Event::Kind::kWatchdogTimeout, Event::Kind::kMainSpawned}) {
    EXPECT_EQ(Describe(stop.Handle(Event::At(k, now))), "");
  }
  EXPECT_EQ(stop.step(), Step::kSignal);
}

}  // namespace
}  // namespace supd
