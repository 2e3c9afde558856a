// Dependencies and ordering in the Manager (manager_deps.cc), through the fake host: each
// directive's start, stop, restart and failure propagation, ordered and not, after systemd's
// systemd.unit(5); targets; boot and shutdown order; enablement.
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/lib/supervise/manager_fixture.h"

namespace supd {
namespace {

class DepJobsTest : public ManagerTest {
 protected:
  // A Type=notify service: up only once it sends READY=1.
  static std::string Notify(const std::string& prog, const std::string& unit_extra = "") {
    return "[Unit]\n" + unit_extra + "[Service]\nType=notify\nExecStart=/bin/" + prog + "\n";
  }
  static std::string Simple(const std::string& prog, const std::string& unit_extra = "",
                            const std::string& service_extra = "") {
    return "[Unit]\n" + unit_extra + "[Service]\nExecStart=/bin/" + prog + "\n" + service_extra;
  }
  bool Launched(const std::string& prog) {
    return launcher_->Last("ExecStart=/bin/" + prog).has_value();
  }
  // The order in which the programs were launched.
  std::vector<std::string> LaunchOrder() {
    std::vector<std::string> out;
    for (const auto& l : launcher_->launched)
      out.push_back(l.what.substr(std::string("ExecStart=/bin/").size()));
    return out;
  }
  void Ready(const std::string& unit) {
    NotifyMessage ready;
    ready.ready = true;
    manager_->HandleNotify(ready, NotifyCredentials{*Snap(unit).main_pid, 0, 0}, {});
    Poll();
  }
  // Starts `unit` without waiting for the answer; the answer lands in the returned slot.
  std::shared_ptr<std::optional<JobResult>> StartAsync(const std::string& unit) {
    auto out = std::make_shared<std::optional<JobResult>>();
    manager_->Start(unit, {}, [out](JobResult r) { *out = std::move(r); });
    Poll();
    return out;
  }
  std::shared_ptr<std::optional<JobResult>> StopAsync(const std::string& unit) {
    auto out = std::make_shared<std::optional<JobResult>>();
    manager_->Stop(unit, {}, [out](JobResult r) { *out = std::move(r); });
    Poll();
    return out;
  }
  State StateOf(const std::string& unit) { return Snap(unit).state; }
  TargetSnapshot Target(const std::string& name) {
    auto s = manager_->Snapshot({name});
    EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
    return std::get<TargetSnapshot>(s->at(0));
  }
  void Link(const std::string& target, const std::string& unit) {
    std::filesystem::create_directories(dir_ + "/units/" + target + ".wants");
    std::filesystem::create_symlink("../" + unit, dir_ + "/units/" + target + ".wants/" + unit);
  }
};

TEST_F(DepJobsTest, AStartWaitsUntilWhatItIsAfterIsReadyNotJustSpawned) {
  Unit("db.service", Notify("db"));
  Unit("api.service", Simple("api", "Requires=db.service\nAfter=db.service\n"));
  ASSERT_NO_FATAL_FAILURE(Start(/*notify=*/true));
  auto out = StartAsync("api");
  EXPECT_TRUE(Launched("db"));
  EXPECT_FALSE(Launched("api")) << "api started before db was ready";
  EXPECT_EQ(Snap("api.service").job, "start");
  EXPECT_EQ(Snap("api.service").waiting_for, std::vector<std::string>{"db.service"});
  EXPECT_FALSE(out->has_value());
  Ready("db.service");
  EXPECT_TRUE(Launched("api"));
  ASSERT_TRUE(PollUntil([&] { return out->has_value(); }));
  EXPECT_EQ((*out)->kind, JobResult::Kind::kOk);
  EXPECT_EQ(StateOf("api.service"), State::kRunning);
  EXPECT_EQ(Snap("api.service").job, "");
}

TEST_F(DepJobsTest, WithoutAfterRequiredUnitsStartInParallel) {
  Unit("db.service", Notify("db"));
  Unit("api.service", Simple("api", "Requires=db.service\n"));
  ASSERT_NO_FATAL_FAILURE(Start(true));
  auto out = StartAsync("api");
  EXPECT_TRUE(Launched("db"));
  EXPECT_TRUE(Launched("api"));
}

TEST_F(DepJobsTest, ARequiredUnitThatFailsFailsTheWaitingStartAndItNeverRuns) {
  Unit("db.service", Notify("db"));
  Unit("api.service", Simple("api", "Requires=db.service\nAfter=db.service\n"));
  ASSERT_NO_FATAL_FAILURE(Start(true));
  auto out = StartAsync("api");
  Exit(*Snap("db.service").main_pid, ExitStatus::Code(1));
  ASSERT_TRUE(PollUntil([&] { return out->has_value(); }));
  EXPECT_EQ((*out)->kind, JobResult::Kind::kDependencyFailed);
  EXPECT_EQ((*out)->text.rfind("dependency failed: db.service", 0), 0u) << (*out)->text;
  EXPECT_FALSE(Launched("api"));
  EXPECT_EQ(StateOf("db.service"), State::kFailed);
}

TEST_F(DepJobsTest, AWantedUnitThatFailsDoesNotStopTheStart) {
  Unit("db.service", Notify("db"));
  Unit("api.service", Simple("api", "Wants=db.service\nAfter=db.service\n"));
  ASSERT_NO_FATAL_FAILURE(Start(true));
  auto out = StartAsync("api");
  EXPECT_FALSE(Launched("api"));
  Exit(*Snap("db.service").main_pid, ExitStatus::Code(1));
  ASSERT_TRUE(PollUntil([&] { return out->has_value(); }));
  EXPECT_EQ((*out)->kind, JobResult::Kind::kOk);
  EXPECT_TRUE(Launched("api"));
}

TEST_F(DepJobsTest, AMissingRequiredUnitRefusesTheStartAMissingWantedOneDoesNot) {
  Unit("api.service", Simple("api", "Requires=nope.service\n"));
  Unit("web.service", Simple("web",
                             "Wants=nope.service\nAfter=network-online.target\n"
                             "Requires=network-online.target\n"));
  ASSERT_NO_FATAL_FAILURE(Start());
  auto r = StartUnit("api");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->kind, JobResult::Kind::kDependencyFailed);
  EXPECT_EQ(r->text, "api.service Requires=nope.service: Unit nope.service not found.");
  EXPECT_FALSE(Launched("api"));
  r = StartUnit("web");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->kind, JobResult::Kind::kOk) << "a standard target is satisfied";
  EXPECT_TRUE(Launched("web"));
}

TEST_F(DepJobsTest, AnOrderingCycleIsRefusedWithItsChainAndShownByCheck) {
  Unit("a.service", Simple("a", "After=b.service\n"));
  Unit("b.service", Simple("b", "After=a.service\n"));
  Unit("c.service", Simple("c", "Wants=a.service\n"));
  ASSERT_NO_FATAL_FAILURE(Start());
  auto r = StartUnit("a");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->kind, JobResult::Kind::kDependencyFailed);
  EXPECT_EQ(r->text.rfind("ordering cycle: a.service -> b.service -> a.service", 0), 0u) << r->text;
  EXPECT_FALSE(Launched("a"));
  EXPECT_EQ(Snap("b.service").dependency_error.rfind("ordering cycle: a.service", 0), 0u);
  // A unit that only wants one on the cycle starts without it.
  r = StartUnit("c");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->kind, JobResult::Kind::kOk);
  EXPECT_FALSE(Launched("a"));
  bool found = false;
  for (const auto& c : manager_->Check())
    if (c.name == "a.service") found = c.error.rfind("ordering cycle:", 0) == 0;
  EXPECT_TRUE(found);
}

TEST_F(DepJobsTest, StoppingARequiredUnitStopsItsDependentsFirst) {
  Unit("db.service", Simple("db"));
  Unit("api.service", Simple("api", "Requires=db.service\nAfter=db.service\n"));
  Unit("side.service", Simple("side", "Wants=db.service\nAfter=db.service\n"));
  ASSERT_NO_FATAL_FAILURE(Start());
  ASSERT_TRUE(StartUnit("api"));
  ASSERT_TRUE(StartUnit("side"));
  const pid_t db = *Snap("db.service").main_pid, api = *Snap("api.service").main_pid;
  const size_t before = cgroups_->signals.size();
  auto out = StopAsync("db");
  // api (after db) stops first: db gets no signal until api is gone.
  ASSERT_GT(cgroups_->signals.size(), before);
  EXPECT_EQ(cgroups_->signals.back().first, Snap("api.service").cgroup);
  EXPECT_EQ(StateOf("db.service"), State::kRunning);
  EXPECT_EQ(Snap("db.service").job, "stop");
  Exit(api, ExitStatus::Signal(SIGTERM));
  EXPECT_EQ(StateOf("api.service"), State::kStopped);
  EXPECT_EQ(cgroups_->signals.back().first, Snap("db.service").cgroup);
  Exit(db, ExitStatus::Signal(SIGTERM));
  ASSERT_TRUE(PollUntil([&] { return out->has_value(); }));
  EXPECT_EQ((*out)->kind, JobResult::Kind::kOk);
  EXPECT_EQ(StateOf("db.service"), State::kStopped);
  EXPECT_EQ(StateOf("side.service"), State::kRunning) << "Wants= does not propagate a stop";
}

TEST_F(DepJobsTest, BindsToStopsTheUnitWhenItsPeerExitsOnItsOwn) {
  Unit("y.service", Simple("y"));
  Unit("x.service", Simple("x", "BindsTo=y.service\nAfter=y.service\n"));
  Unit("w.service", Simple("w", "Requires=y.service\nAfter=y.service\n"));
  ASSERT_NO_FATAL_FAILURE(Start());
  ASSERT_TRUE(StartUnit("x"));
  ASSERT_TRUE(StartUnit("w"));
  const pid_t x = *Snap("x.service").main_pid;
  Exit(*Snap("y.service").main_pid, ExitStatus::Code(1));
  EXPECT_EQ(StateOf("y.service"), State::kFailed);
  ASSERT_TRUE(PollUntil([&] { return StateOf("x.service") == State::kStopping; }));
  Exit(x, ExitStatus::Signal(SIGTERM));
  EXPECT_EQ(StateOf("x.service"), State::kStopped);
  EXPECT_EQ(StateOf("w.service"), State::kRunning) << "Requires= does not stop on an exit";
}

TEST_F(DepJobsTest, ATargetStartsItsMembersInOrderAndIsActiveOnceTheyAreUp) {
  Unit("myapp.target", "[Unit]\nDescription=My app\nWants=db.service api.service\n");
  Unit("db.service", Notify("db"));
  Unit("api.service", Simple("api", "After=db.service\n"));
  Unit("cache.service",
       Simple("cache", "PartOf=myapp.target\n", "[Install]\nWantedBy=myapp.target\n"));
  ASSERT_NO_FATAL_FAILURE(Start(true));
  // cache was enabled by the first start's presets: linked into myapp.target.wants/.
  EXPECT_TRUE(std::filesystem::is_symlink(dir_ + "/units/myapp.target.wants/cache.service"));
  auto out = StartAsync("myapp.target");
  EXPECT_TRUE(Launched("db"));
  EXPECT_TRUE(Launched("cache"));
  EXPECT_FALSE(Launched("api"));
  EXPECT_FALSE(Target("myapp.target").active);
  EXPECT_EQ(Target("myapp.target").job, "start");
  Ready("db.service");
  ASSERT_TRUE(PollUntil([&] { return out->has_value(); }));
  EXPECT_EQ((*out)->kind, JobResult::Kind::kOk);
  const TargetSnapshot t = Target("myapp.target");
  EXPECT_TRUE(t.active);
  EXPECT_EQ(t.spec->description, "My app");
  EXPECT_EQ(t.members.size(), 3u);
  // Stopping the target stops what is PartOf= it, not what it only wants.
  const pid_t cache = *Snap("cache.service").main_pid;
  auto stop = StopAsync("myapp.target");
  Exit(cache, ExitStatus::Signal(SIGTERM));
  ASSERT_TRUE(PollUntil([&] { return stop->has_value(); }));
  EXPECT_FALSE(Target("myapp.target").active);
  EXPECT_EQ(StateOf("cache.service"), State::kStopped);
  EXPECT_EQ(StateOf("api.service"), State::kRunning);
}

TEST_F(DepJobsTest, AtStartEnabledUnitsStartInDependencyOrderAndStopInReverse) {
  Unit("db.service", Notify("db"));
  Unit("api.service", Notify("api", "Requires=db.service\nAfter=db.service\n"));
  Unit("web.service", Simple("web", "Requires=api.service\nAfter=api.service\n"));
  Link("multi-user.target", "web.service");
  Link("multi-user.target", "db.service");
  ASSERT_NO_FATAL_FAILURE(Start(true));
  EXPECT_EQ(LaunchOrder(), std::vector<std::string>{"db"});
  Ready("db.service");
  EXPECT_EQ(LaunchOrder(), (std::vector<std::string>{"db", "api"}));
  Ready("api.service");
  EXPECT_EQ(LaunchOrder(), (std::vector<std::string>{"db", "api", "web"}));
  EXPECT_TRUE(Target("multi-user.target").active);
  // Shutdown: web first, then api, then db.
  bool stopped = false;
  const pid_t db = *Snap("db.service").main_pid, api = *Snap("api.service").main_pid,
              web = *Snap("web.service").main_pid;
  manager_->StopAll([&] { stopped = true; });
  Poll();
  EXPECT_EQ(StateOf("web.service"), State::kStopping);
  EXPECT_EQ(StateOf("api.service"), State::kRunning);
  Exit(web, ExitStatus::Signal(SIGTERM));
  EXPECT_EQ(StateOf("api.service"), State::kStopping);
  EXPECT_EQ(StateOf("db.service"), State::kRunning);
  Exit(api, ExitStatus::Signal(SIGTERM));
  EXPECT_EQ(StateOf("db.service"), State::kStopping);
  Exit(db, ExitStatus::Signal(SIGTERM));
  ASSERT_TRUE(PollUntil([&] { return stopped; }));
}

TEST_F(DepJobsTest, ConflictsStopsTheOtherUnit) {
  Unit("a.service", Simple("a", "Conflicts=b.service\n"));
  Unit("b.service", Simple("b"));
  ASSERT_NO_FATAL_FAILURE(Start());
  ASSERT_TRUE(StartUnit("b"));
  const pid_t b = *Snap("b.service").main_pid;
  auto out = StartAsync("a");
  EXPECT_EQ(StateOf("b.service"), State::kStopping);
  Exit(b, ExitStatus::Signal(SIGTERM));
  ASSERT_TRUE(PollUntil([&] { return out->has_value(); }));
  EXPECT_EQ(StateOf("a.service"), State::kRunning);
  EXPECT_EQ(StateOf("b.service"), State::kStopped);
  // ConflictedBy: starting b stops a.
  const pid_t a = *Snap("a.service").main_pid;
  auto again = StartAsync("b");
  EXPECT_EQ(StateOf("a.service"), State::kStopping);
  Exit(a, ExitStatus::Signal(SIGTERM));
  ASSERT_TRUE(PollUntil([&] { return again->has_value(); }));
  EXPECT_EQ(StateOf("b.service"), State::kRunning);
}

TEST_F(DepJobsTest, RequisiteNeedsTheUnitAlreadyActive) {
  Unit("a.service", Simple("a", "Requisite=b.service\nAfter=b.service\n"));
  Unit("b.service", Simple("b"));
  ASSERT_NO_FATAL_FAILURE(Start());
  auto r = StartUnit("a");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->kind, JobResult::Kind::kDependencyFailed);
  EXPECT_EQ(r->text, "Requisite=b.service is not active (stopped)");
  EXPECT_FALSE(Launched("b")) << "Requisite= does not pull the unit in";
  ASSERT_TRUE(StartUnit("b"));
  r = StartUnit("a");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->kind, JobResult::Kind::kOk);
}

TEST_F(DepJobsTest, ARestartOfARequiredUnitRestartsItsDependentsAroundIt) {
  Unit("db.service", Simple("db"));
  Unit("api.service", Simple("api", "Requires=db.service\nAfter=db.service\n"));
  ASSERT_NO_FATAL_FAILURE(Start());
  ASSERT_TRUE(StartUnit("api"));
  const pid_t db = *Snap("db.service").main_pid, api = *Snap("api.service").main_pid;
  auto out = std::make_shared<std::optional<JobResult>>();
  manager_->Restart("db", false, {}, [out](JobResult r) { *out = std::move(r); });
  Poll();
  EXPECT_EQ(StateOf("api.service"), State::kStopping) << "api stops first";
  EXPECT_EQ(StateOf("db.service"), State::kRunning);
  Exit(api, ExitStatus::Signal(SIGTERM));
  EXPECT_EQ(StateOf("db.service"), State::kStopping);
  const size_t launched = launcher_->launched.size();
  Exit(db, ExitStatus::Signal(SIGTERM));
  ASSERT_TRUE(PollUntil([&] { return out->has_value(); }));
  EXPECT_EQ((*out)->kind, JobResult::Kind::kOk);
  EXPECT_EQ(launcher_->launched.size(), launched + 2);
  EXPECT_EQ(LaunchOrder().back(), "api") << "api starts again after db";
  EXPECT_EQ(StateOf("api.service"), State::kRunning);
  EXPECT_EQ(Snap("db.service").counters.restarts.at(static_cast<size_t>(RestartReason::kManual)),
            1u);
}

TEST_F(DepJobsTest, UpholdsStartsTheUpheldUnitWheneverItIsDown) {
  Unit("keeper.service", Simple("keeper", "Upholds=kept.service\n"));
  Unit("kept.service", Simple("kept"));
  ASSERT_NO_FATAL_FAILURE(Start());
  ASSERT_TRUE(StartUnit("keeper"));
  ASSERT_TRUE(PollUntil([&] { return StateOf("kept.service") == State::kRunning; }));
  Exit(*Snap("kept.service").main_pid, ExitStatus::Code(0));
  ASSERT_TRUE(PollUntil([&] { return launcher_->launched.size() == 3; }));
  EXPECT_EQ(StateOf("kept.service"), State::kRunning);
}

TEST_F(DepJobsTest, StopWhenUnneededStopsOnceNothingActiveWantsIt) {
  Unit("helper.service", Simple("helper", "StopWhenUnneeded=yes\n"));
  Unit("user.service", Simple("user", "Wants=helper.service\n"));
  ASSERT_NO_FATAL_FAILURE(Start());
  ASSERT_TRUE(StartUnit("user"));
  ASSERT_EQ(StateOf("helper.service"), State::kRunning);
  const pid_t user = *Snap("user.service").main_pid;
  auto out = StopAsync("user");
  Exit(user, ExitStatus::Signal(SIGTERM));
  ASSERT_TRUE(PollUntil([&] { return StateOf("helper.service") == State::kStopping; }));
}

TEST_F(DepJobsTest, EnableAndDisableWriteSystemdsLinksAndChangeWhatBootStarts) {
  Unit("web.service", Simple("web", "", "[Install]\nWantedBy=multi-user.target\n"));
  Unit("lib.service", Simple("lib"));
  // Presets were applied by an earlier start: nothing is enabled by this one.
  std::ofstream(dir_ + "/presets-applied") << "x\n";
  ASSERT_NO_FATAL_FAILURE(Start());
  EXPECT_FALSE(Launched("web"));
  auto st = manager_->IsEnabled({"web", "lib"});
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->at(0).second, EnableState::kDisabled);
  EXPECT_EQ(st->at(1).second, EnableState::kStatic);
  auto changes = manager_->Enable({"web"});
  ASSERT_TRUE(changes.ok()) << changes.error().message;
  ASSERT_EQ(changes->size(), 1u);
  EXPECT_EQ(changes->at(0).path, dir_ + "/units/multi-user.target.wants/web.service");
  EXPECT_EQ(manager_->IsEnabled({"web"})->at(0).second, EnableState::kEnabled);
  EXPECT_TRUE(Snap("web.service").enabled);
  // A start of the target now pulls it in.
  ASSERT_TRUE(StartUnit("multi-user.target"));
  EXPECT_TRUE(Launched("web"));
  changes = manager_->Disable({"web"});
  ASSERT_TRUE(changes.ok());
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/units/multi-user.target.wants/web.service"));
  EXPECT_EQ(manager_->IsEnabled({"web"})->at(0).second, EnableState::kDisabled);
  auto missing = manager_->IsEnabled({"nope"});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message, "Unit nope.service not found.");
}

TEST_F(DepJobsTest, ListDependenciesShowsTheTreeWithStates) {
  Unit("myapp.target", "[Unit]\nWants=db.service api.service\n");
  Unit("db.service", Simple("db"));
  Unit("api.service", Simple("api", "Requires=db.service\n"));
  ASSERT_NO_FATAL_FAILURE(Start());
  ASSERT_TRUE(StartUnit("db"));
  auto tree = manager_->ListDependencies("myapp.target", false, true);
  ASSERT_TRUE(tree.ok()) << tree.error().message;
  EXPECT_EQ(tree->name, "myapp.target");
  EXPECT_EQ(tree->state, "inactive");
  ASSERT_EQ(tree->children.size(), 2u);
  std::set<std::string> names;
  for (const auto& c : tree->children) names.insert(c.name + "=" + c.state);
  EXPECT_EQ(names, (std::set<std::string>{"api.service=stopped", "db.service=running"}));
  auto rev = manager_->ListDependencies("db", true, false);
  ASSERT_TRUE(rev.ok());
  std::set<std::string> up;
  for (const auto& c : rev->children) up.insert(c.name);
  EXPECT_TRUE(up.count("api.service"));
  EXPECT_TRUE(up.count("myapp.target"));
}

}  // namespace
}  // namespace supd
