// The Manager across daemon-reexec: what one Manager saves at rest, a second one (a new host,
// the same processes) takes back and goes on with — crash loops where they were, running
// services with their pids and invocation ids, timers with the time they had left.
#include <gtest/gtest.h>

#include "lib/supervise/saved_state.h"
#include "tests/lib/supervise/manager_fixture.h"

namespace supd {
namespace {

class ManagerReexecTest : public ManagerTest {
 protected:
  // Saves the running Manager's state (it must be at rest), then replaces it by a new one on a
  // new fake host that has the same processes and cgroups and a clock that went on.
  void Reexec(Usec exec_takes = 5ms) {
    SavedState state;
    auto saved = manager_->SaveState(&state);
    ASSERT_TRUE(saved.ok()) << saved.error().message;
    const std::set<pid_t> alive = procs_->alive;
    const auto members = cgroups_->members;
    const Usec now = loop_->Now();
    manager_.reset();

    testing::FakeHost fake(io_);
    fake.procs->alive = alive;
    fake.cgroups->members = members;
    fake.loop->Advance(now - fake.loop->Now() + exec_takes);
    fake.launcher->next_pid = launcher_->next_pid;
    loop_ = fake.loop;
    procs_ = fake.procs;
    cgroups_ = fake.cgroups;
    launcher_ = fake.launcher;
    ManagerConfig cfg;
    cfg.units_dir = dir_ + "/units";
    cfg.log_dir = dir_ + "/logs";
    cfg.state_dir = dir_;
    manager_ = std::make_unique<Manager>(io_, cfg, std::move(fake.parts));
    bool loaded = false;
    manager_->RestoreUnits(std::move(state), [&] { loaded = true; });
    Poll();
    ASSERT_TRUE(loaded);
  }
};

TEST_F(ManagerReexecTest, RunningServicesKeepTheirPidsInvocationAndCounters) {
  Unit("web.service", "[Service]\nExecStart=/bin/web\nRestart=always\nRestartSec=1s\n");
  ASSERT_NO_FATAL_FAILURE(Start());
  ASSERT_TRUE(StartUnit("web"));
  Exit(*Snap("web.service").main_pid, ExitStatus::Code(3));
  loop_->Advance(1s);
  Poll();
  const ServiceSnapshot before = Snap("web.service");
  ASSERT_EQ(before.state, State::kRunning);
  ASSERT_EQ(before.restarts, 1u);

  ASSERT_NO_FATAL_FAILURE(Reexec());
  const ServiceSnapshot after = Snap("web.service");
  EXPECT_EQ(after.state, State::kRunning);
  EXPECT_EQ(after.main_pid, before.main_pid);
  EXPECT_EQ(after.invocation_id, before.invocation_id);
  EXPECT_EQ(after.restarts, 1u);
  EXPECT_EQ(after.counters.restarts, before.counters.restarts);
  ASSERT_TRUE(after.last_exit);
  EXPECT_EQ(after.last_exit->status.code, 3);
  EXPECT_TRUE(launcher_->launched.empty()) << "the restore started a process";

  // Its exit is the new Manager's to see: Restart= goes on as before.
  Exit(*after.main_pid, ExitStatus::Code(1));
  EXPECT_EQ(Snap("web.service").state, State::kBackoff);
  loop_->Advance(1s);
  Poll();
  EXPECT_EQ(Snap("web.service").state, State::kRunning);
  EXPECT_EQ(Snap("web.service").restarts, 2u);
}

TEST_F(ManagerReexecTest, BackoffGoesOnWithTheTimeItHadLeft) {
  Unit("loop.service", "[Service]\nExecStart=/bin/loop\nRestart=always\nRestartSec=2s\n");
  ASSERT_NO_FATAL_FAILURE(Start());
  ASSERT_TRUE(StartUnit("loop"));
  Exit(*Snap("loop.service").main_pid, ExitStatus::Code(1));
  loop_->Advance(500ms);
  ASSERT_EQ(Snap("loop.service").state, State::kBackoff);

  ASSERT_NO_FATAL_FAILURE(Reexec(100ms));
  EXPECT_EQ(Snap("loop.service").state, State::kBackoff);
  // 1.5 s were left at the save: the restart comes then, not 2 s after the exec.
  loop_->Advance(1499ms);
  Poll();
  EXPECT_TRUE(launcher_->launched.empty()) << "restarted early";
  loop_->Advance(1ms);
  Poll();
  ASSERT_EQ(launcher_->launched.size(), 1u);
  EXPECT_EQ(Snap("loop.service").state, State::kRunning);
  EXPECT_EQ(Snap("loop.service").restarts, 1u);
}

TEST_F(ManagerReexecTest, AProcessThatExitedDuringTheExecIsSeenAtOnce) {
  Unit("web.service", "[Service]\nExecStart=/bin/web\n");
  ASSERT_NO_FATAL_FAILURE(Start());
  ASSERT_TRUE(StartUnit("web"));
  const pid_t pid = *Snap("web.service").main_pid;
  ASSERT_NO_FATAL_FAILURE(Reexec());
  Exit(pid, ExitStatus::Code(0));
  EXPECT_EQ(Snap("web.service").state, State::kStopped);
  ASSERT_TRUE(Snap("web.service").last_exit);
  EXPECT_EQ(Snap("web.service").last_exit->pid, pid);
}

TEST_F(ManagerReexecTest, FailedAndStoppedServicesStayAsTheyWereAndNothingStarts) {
  Unit("bad.service", "[Service]\nExecStart=/bin/bad\n");
  Unit("off.service", "[Service]\nExecStart=/bin/off\n[Install]\nWantedBy=multi-user.target\n");
  ASSERT_NO_FATAL_FAILURE(Start());
  ASSERT_TRUE(StartUnit("bad"));
  Exit(*Snap("bad.service").main_pid, ExitStatus::Code(2));
  ASSERT_EQ(Snap("bad.service").state, State::kFailed);
  ASSERT_EQ(Snap("off.service").state, State::kRunning);  // the preset enabled it
  ASSERT_TRUE(OpStopping("off.service", [&](JobDone d) { manager_->Stop("off", {}, d); }));

  ASSERT_NO_FATAL_FAILURE(Reexec());
  EXPECT_EQ(Snap("bad.service").state, State::kFailed);
  EXPECT_EQ(Snap("bad.service").result, ServiceResult::kExitCode);
  EXPECT_EQ(Snap("off.service").state, State::kStopped);
  EXPECT_TRUE(launcher_->launched.empty()) << "a restore starts nothing";
  EXPECT_EQ(manager_->system_state(), SystemState::kDegraded);
}

TEST_F(ManagerReexecTest, NotAtRestWhileAStartRunsItsExecStartPre) {
  Unit("slow.service", "[Service]\nExecStartPre=/bin/prep\nExecStart=/bin/slow\n");
  ASSERT_NO_FATAL_FAILURE(Start());
  bool done = false;
  manager_->Start("slow", {}, [&](const JobResult&) { done = true; });
  Poll();
  ASSERT_FALSE(done);
  const std::string why = manager_->NotAtRest();
  EXPECT_NE(why.find("slow.service"), std::string::npos) << why;
  SavedState state;
  auto r = manager_->SaveState(&state);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("not at rest"), std::string::npos) << r.error().message;
  // ExecStartPre= ends: at rest again.
  Exit(launcher_->Last("ExecStartPre=/bin/prep")->pid, ExitStatus::Code(0));
  ASSERT_TRUE(PollUntil([&] { return done; }));
  EXPECT_EQ(manager_->NotAtRest(), "");
}

TEST_F(ManagerReexecTest, AServiceWhoseUnitFileWentIsLeftAloneNotKilled) {
  Unit("gone.service", "[Service]\nExecStart=/bin/gone\n");
  ASSERT_NO_FATAL_FAILURE(Start());
  ASSERT_TRUE(StartUnit("gone"));
  std::filesystem::remove(dir_ + "/units/gone.service");
  ASSERT_NO_FATAL_FAILURE(Reexec());
  EXPECT_FALSE(manager_->Resolve("gone", false).ok());
  EXPECT_TRUE(procs_->signals.empty());
  EXPECT_TRUE(cgroups_->signals.empty());
}

}  // namespace
}  // namespace supd
