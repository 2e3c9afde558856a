// FailureAction=/SuccessAction= (the exit handler), KillAll and system_state(), through the
// fake host.
#include <signal.h>

#include <vector>

#include "tests/lib/supervise/manager_fixture.h"

namespace supd {
namespace {

class ManagerExitTest : public ManagerTest {
 protected:
  void StartWithHandler() {
    ASSERT_NO_FATAL_FAILURE(Start());
    manager_->SetExitHandler([this](const ExitRequest& r) { requests_.push_back(r); });
  }
  std::vector<ExitRequest> requests_;
};

TEST_F(ManagerExitTest, FailureActionExitAsksWithTheMainProcessExitCode) {
  Unit("web.service", "[Unit]\nFailureAction=exit\n[Service]\nExecStart=/bin/web\n");
  ASSERT_NO_FATAL_FAILURE(StartWithHandler());
  ASSERT_TRUE(StartUnit("web"));
  Exit(*Snap("web.service").main_pid, ExitStatus::Code(3));
  ASSERT_EQ(Snap("web.service").state, State::kFailed);
  ASSERT_EQ(requests_.size(), 1u);
  EXPECT_EQ(requests_[0].unit, "web.service");
  EXPECT_STREQ(requests_[0].directive, "FailureAction");
  EXPECT_EQ(requests_[0].action, UnitAction::kExit);
  EXPECT_EQ(requests_[0].status, 3);
}

TEST_F(ManagerExitTest, AnExplicitExitStatusWinsAndASignalDeathGivesZero) {
  Unit("a.service",
       "[Unit]\nFailureAction=exit-force\nFailureActionExitStatus=7\n"
       "[Service]\nExecStart=/bin/a\n");
  Unit("b.service", "[Unit]\nFailureAction=exit\n[Service]\nExecStart=/bin/b\n");
  ASSERT_NO_FATAL_FAILURE(StartWithHandler());
  ASSERT_TRUE(StartUnit("a"));
  ASSERT_TRUE(StartUnit("b"));
  Exit(*Snap("a.service").main_pid, ExitStatus::Code(3));
  Exit(*Snap("b.service").main_pid, ExitStatus::Signal(SIGKILL));
  ASSERT_EQ(requests_.size(), 2u);
  EXPECT_EQ(requests_[0].action, UnitAction::kExitForce);
  EXPECT_EQ(requests_[0].status, 7);
  // systemd: no exit code to pass on when a signal ended the main process.
  EXPECT_EQ(requests_[1].unit, "b.service");
  EXPECT_EQ(requests_[1].status, 0);
}

TEST_F(ManagerExitTest, FailureActionWaitsUntilRestartGivesUp) {
  Unit("web.service",
       "[Unit]\nFailureAction=exit\nStartLimitBurst=2\n"
       "[Service]\nExecStart=/bin/web\nRestart=always\nRestartSec=1s\n");
  ASSERT_NO_FATAL_FAILURE(StartWithHandler());
  ASSERT_TRUE(StartUnit("web"));
  Exit(*Snap("web.service").main_pid, ExitStatus::Code(1));
  EXPECT_TRUE(requests_.empty()) << "a crash that is restarted is not a failure of the unit";
  loop_->Advance(1s);
  Poll();
  ASSERT_EQ(Snap("web.service").state, State::kRunning);
  Exit(*Snap("web.service").main_pid, ExitStatus::Code(1));
  loop_->Advance(1s);
  Poll();
  ASSERT_EQ(Snap("web.service").state, State::kFailed);
  ASSERT_EQ(requests_.size(), 1u);
  EXPECT_EQ(requests_[0].status, 1);
}

TEST_F(ManagerExitTest, SuccessActionOnAOneshotThatFinishedAndOnAStop) {
  Unit("job.service",
       "[Unit]\nSuccessAction=exit\nSuccessActionExitStatus=5\n"
       "[Service]\nType=oneshot\nExecStart=/bin/job\n");
  Unit("web.service", "[Unit]\nSuccessAction=exit\n[Service]\nExecStart=/bin/web\n");
  ASSERT_NO_FATAL_FAILURE(StartWithHandler());
  manager_->Start("job", {}, [](JobResult) {});
  Poll();
  Exit(launcher_->Last("ExecStart=/bin/job")->pid, ExitStatus::Code(0));
  ASSERT_EQ(requests_.size(), 1u);
  EXPECT_STREQ(requests_[0].directive, "SuccessAction");
  EXPECT_EQ(requests_[0].status, 5);
  // As systemd: an active unit that becomes inactive with success, also by `supctl stop`.
  ASSERT_TRUE(StartUnit("web"));
  ASSERT_TRUE(OpStopping("web.service", [&](JobDone d) { manager_->Stop("web", {}, d); }));
  ASSERT_EQ(requests_.size(), 2u);
  EXPECT_EQ(requests_[1].unit, "web.service");
}

TEST_F(ManagerExitTest, AFailedOneshotDoesNotTriggerSuccessAction) {
  Unit("job.service", "[Unit]\nSuccessAction=exit\n[Service]\nType=oneshot\nExecStart=/bin/job\n");
  ASSERT_NO_FATAL_FAILURE(StartWithHandler());
  manager_->Start("job", {}, [](JobResult) {});
  Poll();
  Exit(launcher_->Last("ExecStart=/bin/job")->pid, ExitStatus::Code(2));
  EXPECT_TRUE(requests_.empty());
}

TEST_F(ManagerExitTest, NothingIsAskedWhileSupdStops) {
  Unit("web.service",
       "[Unit]\nSuccessAction=exit\nFailureAction=exit\n[Service]\nExecStart=/bin/web\n");
  ASSERT_NO_FATAL_FAILURE(StartWithHandler());
  ASSERT_TRUE(StartUnit("web"));
  const pid_t pid = *Snap("web.service").main_pid;
  bool stopped = false;
  manager_->StopAll([&] { stopped = true; });
  Poll();
  Exit(pid, ExitStatus::Code(0));
  ASSERT_TRUE(PollUntil([&] { return stopped; }));
  EXPECT_TRUE(requests_.empty());
}

TEST_F(ManagerExitTest, KillAllSignalsEveryServiceWithProcesses) {
  Unit("a.service", "[Service]\nExecStart=/bin/a\n");
  Unit("b.service", "[Service]\nExecStart=/bin/b\n");
  Unit("c.service", "[Service]\nExecStart=/bin/c\n");
  ASSERT_NO_FATAL_FAILURE(Start());
  ASSERT_TRUE(StartUnit("a"));
  ASSERT_TRUE(StartUnit("b"));
  const pid_t a = *Snap("a.service").main_pid;
  const pid_t b = *Snap("b.service").main_pid;
  EXPECT_EQ(manager_->KillAll(SIGKILL), (std::vector<std::string>{"a.service", "b.service"}));
  auto killed = [&](pid_t pid) {
    for (const auto& s : procs_->signals)
      if (s.pid == pid && s.sig == SIGKILL) return true;
    return false;
  };
  EXPECT_TRUE(killed(a));
  EXPECT_TRUE(killed(b));
}

TEST_F(ManagerExitTest, SystemStateFollowsTheBootAndFailures) {
  Unit("web.service",
       "[Service]\nType=notify\nExecStart=/bin/web\n[Install]\nWantedBy=multi-user.target\n");
  Unit("job.service", "[Service]\nType=oneshot\nExecStart=/bin/job\n");
  ASSERT_NO_FATAL_FAILURE(Start(/*notify=*/true));
  // web was started at boot and has not said READY=1: the boot's jobs still run.
  EXPECT_EQ(manager_->system_state(), SystemState::kStarting);
  EXPECT_STREQ(SystemStateName(manager_->system_state()), "starting");
  const pid_t web = *Snap("web.service").main_pid;
  NotifyMessage ready;
  ready.ready = true;
  manager_->HandleNotify(ready, NotifyCredentials{web, 0, 0}, {});
  ASSERT_TRUE(PollUntil([&] { return manager_->system_state() == SystemState::kRunning; }));
  manager_->Start("job", {}, [](JobResult) {});
  Poll();
  Exit(launcher_->Last("ExecStart=/bin/job")->pid, ExitStatus::Code(1));
  EXPECT_EQ(manager_->system_state(), SystemState::kDegraded);
  EXPECT_EQ(manager_->Daemon().system_state, SystemState::kDegraded);
  ASSERT_TRUE(Op([&](JobDone d) { manager_->ResetFailed("job", d); }));
  EXPECT_EQ(manager_->system_state(), SystemState::kRunning);
  manager_->StopAll([] {});
  EXPECT_EQ(manager_->system_state(), SystemState::kStopping);
}

}  // namespace
}  // namespace supd
