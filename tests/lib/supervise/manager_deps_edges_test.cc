// The job queue's edges (manager_deps.cc, manager_ops.cc), each once a real bug: restarts
// that must plan like starts, shutdown order and cycles, a unit removed under a waiting start,
// a stop replaced by a start.
#include <gtest/gtest.h>

#include "tests/lib/supervise/manager_fixture.h"

namespace supd {
namespace {

class DepJobsEdgeTest : public ManagerTest {
 protected:
  static std::string Notify(const std::string& prog, const std::string& unit_extra = "") {
    return "[Unit]\n" + unit_extra + "[Service]\nType=notify\nExecStart=/bin/" + prog + "\n";
  }
  static std::string Simple(const std::string& prog, const std::string& unit_extra = "") {
    return "[Unit]\n" + unit_extra + "[Service]\nExecStart=/bin/" + prog + "\n";
  }
  bool Launched(const std::string& prog) {
    return launcher_->Last("ExecStart=/bin/" + prog).has_value();
  }
  State StateOf(const std::string& unit) { return Snap(unit).state; }
  void Reload() {
    bool reloaded = false;
    manager_->ReloadUnits([&](const ReloadSummary&) { reloaded = true; });
    ASSERT_TRUE(PollUntil([&] { return reloaded; }));
  }
};

// A restart pulls in and waits for what the unit requires, as systemd's restart job does like
// a start: a restart of a stopped api.service starts db.service first and waits for it.
TEST_F(DepJobsEdgeTest, RestartOfAStoppedUnitPullsInAndWaitsForWhatItRequires) {
  Unit("db.service", Notify("db"));
  Unit("api.service", Simple("api", "Requires=db.service\nAfter=db.service\n"));
  ASSERT_NO_FATAL_FAILURE(Start(/*notify=*/true));
  auto out = std::make_shared<std::optional<JobResult>>();
  manager_->Restart("api", /*hard=*/false, {}, [out](JobResult r) { *out = std::move(r); });
  Poll();
  EXPECT_TRUE(Launched("db")) << "restart did not pull in Requires=db.service";
  EXPECT_FALSE(Launched("api")) << "api started before db was ready (After=db.service)";
}

// A unit on an ordering cycle is refused by `supctl restart` as by `supctl start`.
TEST_F(DepJobsEdgeTest, RestartDoesNotStartAUnitOnAnOrderingCycle) {
  Unit("a.service", Simple("a", "After=b.service\n"));
  Unit("b.service", Simple("b", "After=a.service\n"));
  ASSERT_NO_FATAL_FAILURE(Start());
  auto r = Op([&](JobDone d) { manager_->Restart("a", false, {}, std::move(d)); });
  ASSERT_TRUE(r);
  EXPECT_EQ(r->kind, JobResult::Kind::kDependencyFailed);
  EXPECT_FALSE(Launched("a"));
}

// A running unit that a reload put on an ordering cycle still gets its stop at shutdown (the
// units of a cycle do not wait on each other's stops), and the shutdown ends.
TEST_F(DepJobsEdgeTest, ShutdownEndsWhenARunningUnitIsOnAnOrderingCycle) {
  Unit("a.service", Simple("a", "After=b.service\n"));
  Unit("b.service", Simple("b"));
  ASSERT_NO_FATAL_FAILURE(Start());
  ASSERT_TRUE(StartUnit("a"));
  ASSERT_EQ(StateOf("a.service"), State::kRunning);
  // b (stopped, so its new file applies at once) is now After=a: a -> b -> a.
  Unit("b.service", Simple("b", "After=a.service\n"));
  ASSERT_NO_FATAL_FAILURE(Reload());
  const pid_t a = *Snap("a.service").main_pid;
  bool stopped = false;
  manager_->StopAll([&] { stopped = true; });
  Poll();
  EXPECT_EQ(StateOf("a.service"), State::kStopping) << "a never got its stop (job: "
                                                    << Snap("a.service").job << ")";
  Exit(a, ExitStatus::Signal(SIGTERM));
  EXPECT_TRUE(PollUntil([&] { return stopped; })) << "shutdown hangs";
}

// Shutdown queues every stop before any runs: units ordered only by After= (no Requires=
// taking them along) stop in reverse order too.
TEST_F(DepJobsEdgeTest, ShutdownStopsUnitsOrderedOnlyByAfterInReverse) {
  Unit("a.service", Simple("a"));
  Unit("b.service", Simple("b", "After=a.service\n"));
  ASSERT_NO_FATAL_FAILURE(Start());
  ASSERT_TRUE(StartUnit("a"));
  ASSERT_TRUE(StartUnit("b"));
  const pid_t a = *Snap("a.service").main_pid, b = *Snap("b.service").main_pid;
  bool stopped = false;
  manager_->StopAll([&] { stopped = true; });
  Poll();
  EXPECT_EQ(StateOf("b.service"), State::kStopping);
  EXPECT_EQ(StateOf("a.service"), State::kRunning) << "a stopped before b, which is After= it";
  Exit(b, ExitStatus::Signal(SIGTERM));
  Exit(a, ExitStatus::Signal(SIGTERM));
  EXPECT_TRUE(PollUntil([&] { return stopped; }));
}

// Two running units that a reload put on an ordering cycle (dependencies take effect at the
// reload, as in systemd) whose stops are queued together: neither may wait for the other.
TEST_F(DepJobsEdgeTest, StopOfTwoRunningUnitsOnACycleEnds) {
  Unit("a.service", Simple("a"));
  Unit("b.service", Simple("b", "After=a.service\nRequires=a.service\n"));
  ASSERT_NO_FATAL_FAILURE(Start());
  ASSERT_TRUE(StartUnit("b"));
  ASSERT_EQ(StateOf("a.service"), State::kRunning);
  Unit("a.service", Simple("a", "After=b.service\n"));
  ASSERT_NO_FATAL_FAILURE(Reload());
  ASSERT_FALSE(Snap("a.service").dependency_error.empty());
  const pid_t a = *Snap("a.service").main_pid, b = *Snap("b.service").main_pid;
  auto out = std::make_shared<std::optional<JobResult>>();
  manager_->Stop("a", {}, [out](JobResult r) { *out = std::move(r); });
  Poll();
  EXPECT_EQ(StateOf("a.service"), State::kStopping);
  EXPECT_EQ(StateOf("b.service"), State::kStopping);
  Exit(a, ExitStatus::Signal(SIGTERM));
  Exit(b, ExitStatus::Signal(SIGTERM));
  ASSERT_TRUE(PollUntil([&] { return out->has_value(); })) << "the stop was never answered";
  EXPECT_EQ((*out)->kind, JobResult::Kind::kOk);
}

// A reload that removes a unit whose start is waiting fails the waiting starts of the units
// that Require= it: api.service (Requires=, After= db.service) does not start without it.
TEST_F(DepJobsEdgeTest, RemovingAUnitWithAWaitingStartFailsTheStartsThatRequireIt) {
  Unit("x.service", Notify("x"));
  Unit("db.service", Simple("db", "After=x.service\nRequires=x.service\n"));
  Unit("api.service", Simple("api", "Requires=db.service\nAfter=db.service\n"));
  ASSERT_NO_FATAL_FAILURE(Start(/*notify=*/true));
  auto out = std::make_shared<std::optional<JobResult>>();
  manager_->Start("api", {}, [out](JobResult r) { *out = std::move(r); });
  Poll();
  ASSERT_TRUE(Launched("x"));
  ASSERT_FALSE(Launched("db"));
  std::filesystem::remove(dir_ + "/units/db.service");
  ASSERT_NO_FATAL_FAILURE(Reload());
  NotifyMessage ready;
  ready.ready = true;
  manager_->HandleNotify(ready, NotifyCredentials{*Snap("x.service").main_pid, 0, 0}, {});
  Poll();
  PollUntil([&] { return out->has_value(); });
  EXPECT_FALSE(Launched("api")) << "api started though db.service, which it Requires=, is gone";
  ASSERT_TRUE(out->has_value());
  EXPECT_EQ((*out)->kind, JobResult::Kind::kDependencyFailed);
}

// A start queued while a stop of the same unit is under way: the stop goes on, the start
// follows it, and the stop's client is answered at once that its stop was replaced (systemd
// cancels a stop job that a start replaces).
TEST_F(DepJobsEdgeTest, AStopUnderWayReplacedByAStartAnswersTheStopsClientAtOnce) {
  Unit("db.service", Simple("db"));
  ASSERT_NO_FATAL_FAILURE(Start());
  ASSERT_TRUE(StartUnit("db"));
  const pid_t db = *Snap("db.service").main_pid;
  auto stop = std::make_shared<std::optional<JobResult>>();
  manager_->Stop("db", {}, [stop](JobResult r) { *stop = std::move(r); });
  Poll();
  ASSERT_EQ(StateOf("db.service"), State::kStopping);
  auto start = std::make_shared<std::optional<JobResult>>();
  manager_->Start("db", {}, [start](JobResult r) { *start = std::move(r); });
  Poll();
  Exit(db, ExitStatus::Signal(SIGTERM));
  ASSERT_TRUE(PollUntil([&] { return start->has_value(); }));
  EXPECT_EQ(StateOf("db.service"), State::kRunning);
  ASSERT_TRUE(stop->has_value());
  EXPECT_NE((*stop)->kind, JobResult::Kind::kOk)
      << "the stop's client was told its stop succeeded, yet db is running";
}

}  // namespace
}  // namespace supd
