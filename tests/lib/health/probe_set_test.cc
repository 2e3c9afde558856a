#include "lib/health/probe_set.h"

#include <gtest/gtest.h>

#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <string>
#include <vector>

#include "tests/lib/health/health_test_util.h"

namespace supd {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using testing_health::ExecSpec;
using testing_health::FakeChecks;
using testing_health::RunUntil;
using namespace std::chrono_literals;

constexpr ProbeRole kStartup = ProbeRole::kStartup;
constexpr ProbeRole kReadiness = ProbeRole::kReadiness;
constexpr ProbeRole kLiveness = ProbeRole::kLiveness;

// What the callbacks reported, in order: "gate", "startup_failed", "ready", "not ready",
// "liveness_failed"; transitions apart.
struct Reports {
  std::vector<std::string> events;
  std::vector<std::string> transitions;  // "ReadinessProbe passing"
  int Count(const std::string& e) const {
    int n = 0;
    for (const auto& x : events) n += x == e;
    return n;
  }
};

class ProbeSetTest : public testing::Test {
 protected:
  ProbeSetTest() : fake_(io_) {}

  ServiceSpec Spec(bool startup, bool readiness, bool liveness) {
    ServiceSpec s;
    s.name = "web.service";
    if (startup) s.startup_probe = ExecSpec(kStartup, "exec:/bin/started");
    if (readiness) s.readiness_probe = ExecSpec(kReadiness, "exec:/bin/ready");
    if (liveness) s.liveness_probe = ExecSpec(kLiveness, "exec:/bin/alive");
    return s;
  }

  ProbeSet::Callbacks Recording() {
    ProbeSet::Callbacks cb;
    cb.gate_passed = [this] { reports_.events.push_back("gate"); };
    cb.startup_failed = [this](const ProbeInfo& i) {
      EXPECT_EQ(ProbeState::kFailing, i.status.state);
      reports_.events.push_back("startup_failed");
    };
    cb.readiness_changed = [this](bool ready, const ProbeInfo&) {
      reports_.events.push_back(ready ? "ready" : "not ready");
    };
    cb.liveness_failed = [this](const ProbeInfo&) { reports_.events.push_back("liveness_failed"); };
    cb.transition = [this](const ProbeInfo& i) {
      reports_.transitions.push_back(std::string(ProbeRoleNameForTest(i.spec.role)) + " " +
                                     ProbeStateName(i.status.state));
    };
    return cb;
  }

  static const char* ProbeRoleNameForTest(ProbeRole r) {
    return r == kStartup ? "StartupProbe" : r == kReadiness ? "ReadinessProbe" : "LivenessProbe";
  }

  void Make(const ServiceSpec& spec) {
    set_ = std::make_unique<ProbeSet>(io_, spec, fake_.Starter(), Recording());
  }

  // Waits for a check of `role` to be under way and completes it; then lets its result land.
  void Answer(ProbeRole role, bool ok, const std::string& message = "") {
    ASSERT_TRUE(RunUntil(io_, [&] { return fake_.Pending(role) > 0; }))
        << "no check of " << ProbeRoleNameForTest(role) << " under way";
    const size_t before = Checks(role);
    ASSERT_TRUE(fake_.Complete(
        role, ok,
        message.empty() ? (ok ? "exited with status 0" : "exited with status 1") : message));
    ASSERT_TRUE(RunUntil(io_, [&] { return !set_ || Checks(role) > before; }));
  }

  // Results the set recorded for `role`.
  size_t Checks(ProbeRole role) const {
    if (!set_) return 0;
    for (const ProbeInfo& i : set_->Snapshot())
      if (i.spec.role == role) return i.status.checks;
    return 0;
  }
  const ProbeInfo* Find(const std::vector<ProbeInfo>& infos, ProbeRole role) {
    for (const ProbeInfo& i : infos)
      if (i.spec.role == role) return &i;
    return nullptr;
  }

  // Runs the loop for `span` with nothing expected to happen (to show that something does not).
  void Idle(std::chrono::milliseconds span) {
    asio::steady_timer t(io_, span);
    bool fired = false;
    t.async_wait([&](const boost::system::error_code&) { fired = true; });
    ASSERT_TRUE(RunUntil(io_, [&] { return fired; }));
  }

  asio::io_context io_;
  FakeChecks fake_;
  Reports reports_;
  std::unique_ptr<ProbeSet> set_;
};

TEST_F(ProbeSetTest, NoProbesNoGateNoReports) {
  const ServiceSpec spec = Spec(false, false, false);
  EXPECT_FALSE(ProbeSet::HasGate(spec));
  Make(spec);
  set_->Start();
  EXPECT_TRUE(set_->Snapshot().empty());
  EXPECT_EQ("", set_->GateBlocker());
  EXPECT_FALSE(set_->gate_passed());
  io_.poll();
  EXPECT_TRUE(reports_.events.empty());
}

TEST_F(ProbeSetTest, HasGate) {
  EXPECT_TRUE(ProbeSet::HasGate(Spec(true, false, false)));
  EXPECT_TRUE(ProbeSet::HasGate(Spec(false, true, false)));
  EXPECT_FALSE(ProbeSet::HasGate(Spec(false, false, true)));
}

TEST_F(ProbeSetTest, SnapshotInOrderOnlyTheSetOnes) {
  Make(Spec(true, false, true));
  const auto infos = set_->Snapshot();
  ASSERT_EQ(2u, infos.size());
  EXPECT_EQ(kStartup, infos[0].spec.role);
  EXPECT_EQ("exec:/bin/started", infos[0].spec.target);
  EXPECT_EQ(kLiveness, infos[1].spec.role);
  EXPECT_FALSE(infos[0].running);  // not started yet
  EXPECT_EQ(ProbeState::kPending, infos[0].status.state);
}

TEST_F(ProbeSetTest, StartupHoldsTheOthersBackUntilItPasses) {
  ServiceSpec spec = Spec(true, true, true);
  spec.startup_probe->failure_threshold = 3;
  Make(spec);
  EXPECT_EQ("StartupProbe=exec:/bin/started pending: no result yet", set_->GateBlocker());
  set_->Start();
  auto infos = set_->Snapshot();
  ASSERT_EQ(3u, infos.size());
  EXPECT_EQ(kStartup, infos[0].spec.role);
  EXPECT_EQ(kReadiness, infos[1].spec.role);
  EXPECT_EQ(kLiveness, infos[2].spec.role);
  EXPECT_TRUE(infos[0].running);
  EXPECT_FALSE(infos[1].running);
  EXPECT_FALSE(infos[2].running);

  Answer(kStartup, false, "exited with status 3");
  EXPECT_EQ("StartupProbe=exec:/bin/started pending: exited with status 3", set_->GateBlocker());
  Answer(kStartup, false);
  EXPECT_EQ(0, fake_.Started(kReadiness));
  EXPECT_EQ(0, fake_.Started(kLiveness));

  Answer(kStartup, true);
  infos = set_->Snapshot();
  EXPECT_FALSE(infos[0].running);  // Kubernetes stops it once it passed
  EXPECT_EQ(ProbeState::kPassing, infos[0].status.state);
  EXPECT_TRUE(infos[1].running);
  EXPECT_TRUE(infos[2].running);
  EXPECT_FALSE(set_->gate_passed());
  EXPECT_EQ("ReadinessProbe=exec:/bin/ready pending: no result yet", set_->GateBlocker());

  Answer(kReadiness, true);
  EXPECT_TRUE(set_->gate_passed());
  EXPECT_EQ("", set_->GateBlocker());
  EXPECT_EQ(std::vector<std::string>{"gate"}, reports_.events);
  EXPECT_EQ((std::vector<std::string>{"StartupProbe passing", "ReadinessProbe passing"}),
            reports_.transitions);

  // The startup probe checks no more.
  const int startup_checks = fake_.Started(kStartup);
  Answer(kReadiness, true);
  Answer(kReadiness, true);
  EXPECT_EQ(startup_checks, fake_.Started(kStartup));
  EXPECT_EQ(1, reports_.Count("gate"));
}

TEST_F(ProbeSetTest, InitialDelayCountsFromTheStartupProbesPass) {
  ServiceSpec spec = Spec(true, true, false);
  spec.readiness_probe->initial_delay = 150ms;
  Make(spec);
  set_->Start();
  Answer(kStartup, true);
  const auto passed = Clock::now();
  ASSERT_TRUE(RunUntil(io_, [&] { return fake_.Started(kReadiness) == 1; }));
  EXPECT_GE(fake_.entries().back().started - passed, 150ms);
}

TEST_F(ProbeSetTest, StartupFailureStopsEverything) {
  ServiceSpec spec = Spec(true, true, true);
  spec.startup_probe->failure_threshold = 2;
  Make(spec);
  set_->Start();
  Answer(kStartup, false, "exited with status 2");
  EXPECT_TRUE(reports_.events.empty());
  Answer(kStartup, false, "killed by signal SIGKILL");
  EXPECT_EQ(std::vector<std::string>{"startup_failed"}, reports_.events);
  EXPECT_EQ("StartupProbe=exec:/bin/started failing: killed by signal SIGKILL",
            set_->GateBlocker());
  for (const ProbeInfo& i : set_->Snapshot()) EXPECT_FALSE(i.running) << i.spec.target;
  Idle(100ms);  // ten intervals: nothing starts again
  EXPECT_EQ(0, fake_.PendingAll());
  EXPECT_EQ(2, fake_.Started(kStartup));
  EXPECT_EQ(0, fake_.Started(kReadiness));
  EXPECT_EQ(1, reports_.Count("startup_failed"));
  EXPECT_FALSE(set_->gate_passed());
}

TEST_F(ProbeSetTest, StartupAloneIsTheGate) {
  Make(Spec(true, false, true));
  set_->Start();
  Answer(kStartup, true);
  EXPECT_TRUE(set_->gate_passed());
  EXPECT_EQ(std::vector<std::string>{"gate"}, reports_.events);
  ASSERT_TRUE(RunUntil(io_, [&] { return fake_.Pending(kLiveness) == 1; }));
}

TEST_F(ProbeSetTest, ReadinessGateThenChangesReported) {
  Make(Spec(false, true, true));
  set_->Start();
  // Without a startup probe, readiness and liveness begin together.
  ASSERT_TRUE(RunUntil(
      io_, [&] { return fake_.Pending(kReadiness) == 1 && fake_.Pending(kLiveness) == 1; }));
  Answer(kReadiness, false, "HTTP 503 Service Unavailable");
  EXPECT_EQ("ReadinessProbe=exec:/bin/ready failing: HTTP 503 Service Unavailable",
            set_->GateBlocker());
  // Failing is said before the gate too (an instance may run without waiting for it).
  EXPECT_EQ((std::vector<std::string>{"not ready"}), reports_.events);
  Answer(kReadiness, true);
  Answer(kReadiness, true);
  Answer(kReadiness, false);
  Answer(kReadiness, false);
  Answer(kReadiness, true);
  EXPECT_EQ((std::vector<std::string>{"not ready", "gate", "not ready", "ready"}),
            reports_.events);
  EXPECT_EQ((std::vector<std::string>{"ReadinessProbe failing", "ReadinessProbe passing",
                                      "ReadinessProbe failing", "ReadinessProbe passing"}),
            reports_.transitions);
  EXPECT_EQ("", set_->GateBlocker());
}

TEST_F(ProbeSetTest, PendingWithSuccessesBelowTheThreshold) {
  ServiceSpec spec = Spec(false, true, false);
  spec.readiness_probe->success_threshold = 2;
  Make(spec);
  set_->Start();
  Answer(kReadiness, true);
  EXPECT_EQ("ReadinessProbe=exec:/bin/ready pending: passed 1 of SuccessThreshold=2",
            set_->GateBlocker());
  Answer(kReadiness, true);
  EXPECT_TRUE(set_->gate_passed());
}

TEST_F(ProbeSetTest, MinReadySecHoldsTheGate) {
  ServiceSpec spec = Spec(false, true, false);
  spec.min_ready = 300ms;
  Make(spec);
  set_->Start();
  Answer(kReadiness, true);
  const auto passed = Clock::now();
  EXPECT_FALSE(set_->gate_passed());
  const std::string blocker = set_->GateBlocker();
  EXPECT_EQ(0u, blocker.find("ReadinessProbe=exec:/bin/ready passing for ")) << blocker;
  const std::string tail = " of MinReadySec=300ms";
  EXPECT_EQ(blocker.size() - tail.size(), blocker.find(tail)) << blocker;
  // Checks under way stay so: readiness stays passing until the gate opens.
  ASSERT_TRUE(RunUntil(io_, [&] { return set_->gate_passed(); }));
  EXPECT_GE(Clock::now() - passed, 300ms);
  EXPECT_EQ(std::vector<std::string>{"gate"}, reports_.events);
}

TEST_F(ProbeSetTest, MinReadySecCountsAgainAfterAFailure) {
  ServiceSpec spec = Spec(false, true, false);
  spec.min_ready = 200ms;
  Make(spec);
  set_->Start();
  Answer(kReadiness, true);
  Answer(kReadiness, false, "HTTP 500 Internal Server Error");
  EXPECT_EQ("ReadinessProbe=exec:/bin/ready failing: HTTP 500 Internal Server Error",
            set_->GateBlocker());
  Idle(400ms);  // twice MinReadySec=, readiness failing all along (its next check is held)
  EXPECT_FALSE(set_->gate_passed());
  Answer(kReadiness, true);
  const auto passed = Clock::now();
  ASSERT_TRUE(RunUntil(io_, [&] { return set_->gate_passed(); }));
  EXPECT_GE(Clock::now() - passed, 200ms);
  EXPECT_EQ(1, reports_.Count("gate"));
  EXPECT_EQ(1, reports_.Count("not ready"));  // the failure in between, said once
}

TEST_F(ProbeSetTest, MinReadySecAsAWholeSpan) {
  ServiceSpec spec = Spec(false, true, false);
  spec.min_ready = 1500ms;
  Make(spec);
  set_->Start();
  Answer(kReadiness, true);
  const std::string blocker = set_->GateBlocker();
  EXPECT_NE(std::string::npos, blocker.find(" of MinReadySec=1.5s")) << blocker;
}

TEST_F(ProbeSetTest, LivenessFailedOncePerStreak) {
  ServiceSpec spec = Spec(false, false, true);
  spec.liveness_probe->failure_threshold = 2;
  Make(spec);
  set_->Start();
  Answer(kLiveness, false);
  EXPECT_EQ(0, reports_.Count("liveness_failed"));
  Answer(kLiveness, false);
  EXPECT_EQ(1, reports_.Count("liveness_failed"));
  Answer(kLiveness, false);
  Answer(kLiveness, false);
  EXPECT_EQ(1, reports_.Count("liveness_failed"));
  Answer(kLiveness, true);
  Answer(kLiveness, false);
  Answer(kLiveness, false);
  EXPECT_EQ(2, reports_.Count("liveness_failed"));
  EXPECT_EQ((std::vector<std::string>{"LivenessProbe failing", "LivenessProbe passing",
                                      "LivenessProbe failing"}),
            reports_.transitions);
  EXPECT_EQ(0, reports_.Count("gate"));
}

// Each callback may destroy the set: it touches nothing of itself afterwards, and every check
// under way is cancelled with it.
class ProbeSetDestroyTest : public ProbeSetTest {
 protected:
  void ExpectAllGone() {
    EXPECT_EQ(nullptr, set_);
    Idle(100ms);
    EXPECT_EQ(0, fake_.PendingAll());
  }
};

TEST_F(ProbeSetDestroyTest, InGatePassed) {
  ProbeSet::Callbacks cb = Recording();
  cb.gate_passed = [this] { set_.reset(); };
  set_ = std::make_unique<ProbeSet>(io_, Spec(true, false, true), fake_.Starter(), cb);
  set_->Start();
  Answer(kStartup, true);
  ExpectAllGone();
}

TEST_F(ProbeSetDestroyTest, InStartupFailed) {
  ProbeSet::Callbacks cb = Recording();
  cb.startup_failed = [this](const ProbeInfo&) { set_.reset(); };
  set_ = std::make_unique<ProbeSet>(io_, Spec(true, true, true), fake_.Starter(), cb);
  set_->Start();
  Answer(kStartup, false);
  ExpectAllGone();
}

TEST_F(ProbeSetDestroyTest, InReadinessChanged) {
  ProbeSet::Callbacks cb = Recording();
  cb.readiness_changed = [this](bool, const ProbeInfo&) { set_.reset(); };
  set_ = std::make_unique<ProbeSet>(io_, Spec(false, true, true), fake_.Starter(), cb);
  set_->Start();
  Answer(kReadiness, true);
  Answer(kReadiness, false);
  ExpectAllGone();
}

TEST_F(ProbeSetDestroyTest, InLivenessFailed) {
  ProbeSet::Callbacks cb = Recording();
  cb.liveness_failed = [this](const ProbeInfo&) { set_.reset(); };
  set_ = std::make_unique<ProbeSet>(io_, Spec(false, true, true), fake_.Starter(), cb);
  set_->Start();
  ASSERT_TRUE(RunUntil(io_, [&] { return fake_.Pending(kReadiness) == 1; }));
  Answer(kLiveness, false);
  ExpectAllGone();
}

TEST_F(ProbeSetDestroyTest, InTransition) {
  ProbeSet::Callbacks cb = Recording();
  int gates = 0;
  cb.gate_passed = [&] { ++gates; };
  cb.transition = [this](const ProbeInfo&) { set_.reset(); };
  set_ = std::make_unique<ProbeSet>(io_, Spec(true, false, true), fake_.Starter(), cb);
  set_->Start();
  Answer(kStartup, true);
  ExpectAllGone();
  EXPECT_EQ(0, gates);  // destroyed in the transition: the gate is not reported after it
}

TEST_F(ProbeSetDestroyTest, WhileMinReadySecRuns) {
  ServiceSpec spec = Spec(false, true, false);
  spec.min_ready = 50ms;
  int gates = 0;
  ProbeSet::Callbacks cb = Recording();
  cb.gate_passed = [&] { ++gates; };
  set_ = std::make_unique<ProbeSet>(io_, spec, fake_.Starter(), cb);
  set_->Start();
  Answer(kReadiness, true);
  set_.reset();
  ExpectAllGone();
  EXPECT_EQ(0, gates);
}

}  // namespace
}  // namespace supd
