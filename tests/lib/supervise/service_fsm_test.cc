#include "lib/supervise/service_fsm.h"

#include <signal.h>

#include <gtest/gtest.h>

namespace supd {
namespace {

using K = Action::Kind;
using namespace std::chrono_literals;

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
    a = fsm.OnConditionsChecked(true, false, "", now);
    ASSERT_TRUE(Has(a, K::kSpawnMain));
    a = fsm.OnMainSpawned();
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

TEST_F(FsmTest, SimpleStartIsRunningOnceSpawned) {
  StartToRunning();
  EXPECT_TRUE(fsm.ready());
  EXPECT_TRUE(fsm.main_alive());
}

TEST_F(FsmTest, ExecIsReadyOnlyAfterExecve) {
  spec.type = ServiceType::kExec;
  fsm.Start(now);
  fsm.OnConditionsChecked(true, false, "", now);
  fsm.OnMainSpawned();
  EXPECT_EQ(fsm.state(), State::kStarting);
  fsm.OnMainExecOk();
  EXPECT_EQ(fsm.state(), State::kRunning);
}

TEST_F(FsmTest, ExecFailureBeforeReadyGoesThroughRestartPolicy) {
  spec.type = ServiceType::kExec;
  spec.restart = RestartPolicy::kNo;
  fsm.Start(now);
  fsm.OnConditionsChecked(true, false, "", now);
  fsm.OnMainSpawned();
  Actions a = fsm.OnMainExited(ExitStatus::Code(203), "exec /x: No such file or directory", now);
  EXPECT_TRUE(fsm.waiting_for_empty());
  a = fsm.OnAllGone(now);
  EXPECT_EQ(fsm.state(), State::kFailed);
  EXPECT_EQ(fsm.result(), ServiceResult::kExitCode);
  EXPECT_EQ(fsm.cause(), "exec /x: No such file or directory");
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
  a = fsm.OnConditionsChecked(true, false, "", now);
  EXPECT_TRUE(Has(a, K::kSpawnMain));
  fsm.OnMainSpawned();
  EXPECT_EQ(fsm.state(), State::kRunning);
  EXPECT_EQ(fsm.restarts(), 1u);
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
