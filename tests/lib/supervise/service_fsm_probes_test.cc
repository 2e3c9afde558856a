// The probes' part of the state machine: the probe gate in a start, a startup probe that fails
// the start, a start timeout that names the probe, liveness as a watchdog, readiness while
// running, and which probes may gate an overlap restart.
#include <signal.h>

#include <gtest/gtest.h>

#include "lib/supervise/service_fsm.h"

namespace supd {
namespace {

using K = Action::Kind;
using CK = Cause::Kind;
using namespace std::chrono_literals;

ExecCommand Cmd(const std::string& path) {
  ExecCommand c;
  c.path = path;
  c.argv = {path};
  c.source = "p.service:1";
  return c;
}

ProbeSpec Probe(ProbeRole role, ProbeSpec::Kind kind, const std::string& target) {
  ProbeSpec p;
  p.role = role;
  p.kind = kind;
  p.target = target;
  p.host = "127.0.0.1";
  p.port = 8080;
  p.path = "/healthz";
  if (kind == ProbeSpec::Kind::kExec) p.command = Cmd("/bin/check");
  p.source = "p.service:9";
  return p;
}

bool Has(const Actions& acts, K kind) {
  for (const auto& a : acts)
    if (a.kind == kind) return true;
  return false;
}

const Action* Find(const Actions& acts, K kind) {
  for (const auto& a : acts)
    if (a.kind == kind) return &a;
  return nullptr;
}

class FsmProbesTest : public ::testing::Test {
 protected:
  FsmProbesTest() {
    spec.name = "p.service";
    spec.exec_start = {Cmd("/bin/main")};
    spec.restart_sec = 0us;
    spec.start_limit_interval = 0s;
    spec.readiness_probe =
        Probe(ProbeRole::kReadiness, ProbeSpec::Kind::kHttp, "http://127.0.0.1:8080/healthz");
  }
  // Start → conditions hold → instance prepared → main spawned: the last step's actions.
  Actions Spawned() {
    fsm.Start(now);
    Actions a = fsm.OnConditionsChecked(true, false, "", now);
    fsm.OnInstancePrepared(a.back().attempt, "", now);
    return fsm.OnMainSpawned(now);
  }
  ServiceSpec spec;
  ServiceFsm fsm{&spec};
  Usec now{1'000'000'000};
};

TEST_F(FsmProbesTest, ASimpleServiceWithAReadinessProbeStartsOnlyOnceTheGatePasses) {
  EXPECT_FALSE(fsm.wants_probes()) << "nothing to probe before the main process";
  Actions a = Spawned();
  EXPECT_TRUE(a.empty()) << "spawned is not ready while a probe gates the start";
  EXPECT_EQ(fsm.state(), State::kStarting);
  EXPECT_TRUE(fsm.wants_probes());
  EXPECT_TRUE(fsm.waits_for_probe_gate());
  a = fsm.OnProbeGatePassed(now);
  EXPECT_EQ(fsm.state(), State::kRunning);
  EXPECT_TRUE(Has(a, K::kDisarmTimer));
  EXPECT_TRUE(fsm.ready());
  EXPECT_TRUE(fsm.probe_ready());
}

TEST_F(FsmProbesTest, WithoutAProbeSpawnedIsReadyAsBefore) {
  spec.readiness_probe.reset();
  Spawned();
  EXPECT_EQ(fsm.state(), State::kRunning);
  EXPECT_FALSE(fsm.wants_probes());
}

TEST_F(FsmProbesTest, ALivenessProbeAloneGatesNothingButIsRun) {
  spec.readiness_probe.reset();
  spec.liveness_probe = Probe(ProbeRole::kLiveness, ProbeSpec::Kind::kTcp, "tcp://127.0.0.1:8080");
  Spawned();
  EXPECT_EQ(fsm.state(), State::kRunning);
  EXPECT_TRUE(fsm.wants_probes());
}

TEST_F(FsmProbesTest, ANotifyServiceNeedsBothReadyAndTheGateInEitherOrder) {
  spec.type = ServiceType::kNotify;
  Spawned();
  fsm.OnProbeGatePassed(now);
  EXPECT_EQ(fsm.state(), State::kStarting) << "the probe passed, READY=1 not yet";
  fsm.OnReady(now);
  EXPECT_EQ(fsm.state(), State::kRunning);

  ServiceFsm other{&spec};
  other.Start(now);
  Actions a = other.OnConditionsChecked(true, false, "", now);
  other.OnInstancePrepared(a.back().attempt, "", now);
  other.OnMainSpawned(now);
  other.OnReady(now);
  EXPECT_EQ(other.state(), State::kStarting) << "READY=1, the probe not yet";
  other.OnProbeGatePassed(now);
  EXPECT_EQ(other.state(), State::kRunning);
}

TEST_F(FsmProbesTest, AStartupProbeThatFailsFailsTheStartWithResultTimeout) {
  spec.startup_probe =
      Probe(ProbeRole::kStartup, ProbeSpec::Kind::kTcp, "tcp://127.0.0.1:8080");
  Spawned();
  Actions a = fsm.OnStartupProbeFailed(
      "StartupProbe=tcp://127.0.0.1:8080 failed 3 times: connect to 127.0.0.1:8080: "
      "Connection refused",
      now);
  const Action* sig = Find(a, K::kSignal);
  ASSERT_NE(sig, nullptr);
  EXPECT_EQ(sig->signal, SIGTERM);
  EXPECT_EQ(fsm.state(), State::kStopping);
  EXPECT_EQ(fsm.result(), ServiceResult::kTimeout);
  EXPECT_EQ(fsm.cause().kind, CK::kStartupProbeFailed);
  EXPECT_EQ(fsm.cause().text,
            "StartupProbe=tcp://127.0.0.1:8080 failed 3 times: connect to 127.0.0.1:8080: "
            "Connection refused");
  EXPECT_FALSE(fsm.wants_probes()) << "a stopping instance is not probed";
}

TEST_F(FsmProbesTest, AStartTimeoutWhileTheGateHoldsNamesTheProbe) {
  spec.timeout_start = 5s;
  Spawned();
  fsm.OnTimer(now, "ReadinessProbe=http://127.0.0.1:8080/healthz failing: HTTP 503");
  EXPECT_EQ(fsm.result(), ServiceResult::kTimeout);
  EXPECT_EQ(fsm.cause().kind, CK::kProbeStartTimeout);
  EXPECT_EQ(fsm.cause().span, 5s);
  EXPECT_EQ(fsm.cause().text, "ReadinessProbe=http://127.0.0.1:8080/healthz failing: HTTP 503");
}

TEST_F(FsmProbesTest, AStartTimeoutBeforeReadyIsTheUsualOne) {
  spec.type = ServiceType::kNotify;
  Spawned();
  fsm.OnTimer(now, "ReadinessProbe=http://127.0.0.1:8080/healthz pending: no result yet");
  EXPECT_EQ(fsm.cause().kind, CK::kStartTimeout) << "READY=1 never came: that is the news";
  EXPECT_TRUE(fsm.cause().notify_type);
}

TEST_F(FsmProbesTest, ALivenessFailureStopsWithTheWatchdogSignalAndRestartDecides) {
  spec.restart = RestartPolicy::kOnFailure;
  spec.watchdog_signal = SIGABRT;
  spec.liveness_probe =
      Probe(ProbeRole::kLiveness, ProbeSpec::Kind::kHttp, "http://127.0.0.1:8080/healthz");
  Spawned();
  fsm.OnProbeGatePassed(now);
  ASSERT_EQ(fsm.state(), State::kRunning);
  Actions a = fsm.OnLivenessProbeFailed(
      "LivenessProbe=http://127.0.0.1:8080/healthz failed 3 times: timed out after 1s", now);
  const Action* sig = Find(a, K::kSignal);
  ASSERT_NE(sig, nullptr);
  EXPECT_EQ(sig->signal, SIGABRT);
  EXPECT_EQ(fsm.result(), ServiceResult::kWatchdog);
  EXPECT_EQ(fsm.cause().kind, CK::kLivenessProbeFailed);
  EXPECT_EQ(fsm.cause().signal, SIGABRT);
  fsm.OnMainExited(ExitStatus::Code(2), "", now);
  fsm.OnAllGone(now);
  EXPECT_EQ(fsm.state(), State::kBackoff) << "Restart=on-failure restarts after a watchdog";
  EXPECT_EQ(fsm.cause().kind, CK::kLivenessProbeFailed) << "the stop's cause stays";
}

TEST_F(FsmProbesTest, ALivenessFailureWhileStillStartingStopsToo) {
  spec.liveness_probe =
      Probe(ProbeRole::kLiveness, ProbeSpec::Kind::kHttp, "http://127.0.0.1:8080/healthz");
  Spawned();
  fsm.OnLivenessProbeFailed("LivenessProbe=… failed 3 times: HTTP 500", now);
  EXPECT_EQ(fsm.state(), State::kStopping);
  EXPECT_EQ(fsm.result(), ServiceResult::kWatchdog);
}

TEST_F(FsmProbesTest, ReadinessWhileRunningMarksNotReadyWithoutAnAction) {
  Spawned();
  fsm.OnProbeGatePassed(now);
  Actions a = fsm.OnReadinessChanged(false, now);
  EXPECT_TRUE(a.empty()) << "not ready is no reason to restart";
  EXPECT_EQ(fsm.state(), State::kRunning);
  EXPECT_FALSE(fsm.probe_ready());
  fsm.OnReadinessChanged(true, now);
  EXPECT_TRUE(fsm.probe_ready());
  // A new start begins ready as far as probes go: the gate decides its start.
  fsm.OnReadinessChanged(false, now);
  fsm.Restart(now);
  fsm.OnMainExited(ExitStatus::Signal(SIGTERM), "", now);
  Actions a2 = fsm.OnAllGone(now);
  ASSERT_TRUE(Has(a2, K::kCheckConditions));
  a2 = fsm.OnConditionsChecked(true, false, "", now);
  fsm.OnInstancePrepared(a2.back().attempt, "", now);
  fsm.OnMainSpawned(now);
  EXPECT_TRUE(fsm.probe_ready());
  EXPECT_TRUE(fsm.waits_for_probe_gate());
}

TEST_F(FsmProbesTest, AStaleGateAfterTheStartIsIgnored) {
  Spawned();
  fsm.OnProbeGatePassed(now);
  Actions a = fsm.OnProbeGatePassed(now);
  EXPECT_TRUE(a.empty());
  EXPECT_EQ(fsm.state(), State::kRunning);
}

// ---- Overlap restarts: which probe can tell the new instance from the old one

TEST_F(FsmProbesTest, OnlyAnExecProbeTellsInstancesApart) {
  EXPECT_FALSE(ProbeGateTellsInstances(spec)) << "http of a shared address";
  spec.readiness_probe = Probe(ProbeRole::kReadiness, ProbeSpec::Kind::kExec, "exec:/bin/check");
  EXPECT_TRUE(ProbeGateTellsInstances(spec));
  spec.readiness_probe.reset();
  EXPECT_FALSE(ProbeGateTellsInstances(spec)) << "no probe";
  spec.startup_probe = Probe(ProbeRole::kStartup, ProbeSpec::Kind::kExec, "exec:/bin/check");
  EXPECT_TRUE(ProbeGateTellsInstances(spec)) << "the startup probe is the gate without readiness";
}

TEST_F(FsmProbesTest, ANotifyOverlapWithAnHttpProbeWaitsForReadyOnly) {
  spec.type = ServiceType::kNotify;
  Spawned();
  fsm.OnReady(now);
  fsm.OnProbeGatePassed(now);
  ASSERT_EQ(fsm.state(), State::kRunning);
  ASSERT_EQ(fsm.CanOverlapRestart(true), OverlapVerdict::kOk);
  fsm.OverlapRestart(now);
  Actions a = fsm.OnConditionsChecked(true, false, "", now);
  fsm.OnInstancePrepared(a.back().attempt, "", now);
  fsm.OnMainSpawned(now);
  a = fsm.OnReady(now);
  EXPECT_TRUE(Has(a, K::kStopOldInstance)) << "the old instance may answer the http probe";
  EXPECT_EQ(fsm.state(), State::kRunning);
}

TEST_F(FsmProbesTest, ANotifyOverlapWithAnExecProbeWaitsForBoth) {
  spec.type = ServiceType::kNotify;
  spec.readiness_probe = Probe(ProbeRole::kReadiness, ProbeSpec::Kind::kExec, "exec:/bin/check");
  Spawned();
  fsm.OnReady(now);
  fsm.OnProbeGatePassed(now);
  fsm.OverlapRestart(now);
  Actions a = fsm.OnConditionsChecked(true, false, "", now);
  fsm.OnInstancePrepared(a.back().attempt, "", now);
  fsm.OnMainSpawned(now);
  a = fsm.OnReady(now);
  EXPECT_FALSE(Has(a, K::kStopOldInstance));
  EXPECT_TRUE(fsm.overlap_pending());
  a = fsm.OnProbeGatePassed(now);
  EXPECT_TRUE(Has(a, K::kStopOldInstance));
  EXPECT_FALSE(fsm.overlap_pending());
}

TEST_F(FsmProbesTest, ASimpleServiceOverlapsWithAnExecProbeAndRollsBackWhenItNeverPasses) {
  spec.readiness_probe = Probe(ProbeRole::kReadiness, ProbeSpec::Kind::kExec, "exec:/bin/check");
  spec.timeout_start = 3s;
  EXPECT_EQ(fsm.CanOverlapRestart(true), OverlapVerdict::kNotRunning);
  Spawned();
  fsm.OnProbeGatePassed(now);
  ASSERT_EQ(fsm.CanOverlapRestart(true), OverlapVerdict::kOk);
  fsm.OverlapRestart(now);
  Actions a = fsm.OnConditionsChecked(true, false, "", now);
  fsm.OnInstancePrepared(a.back().attempt, "", now);
  a = fsm.OnMainSpawned(now);
  EXPECT_FALSE(Has(a, K::kStopOldInstance)) << "forked is not ready";
  a = fsm.OnTimer(now, "ReadinessProbe=exec:/bin/check failing: exited with status 1");
  EXPECT_TRUE(Has(a, K::kSignal)) << "the new instance is stopped";
  EXPECT_FALSE(Has(a, K::kStopOldInstance));
  fsm.OnMainExited(ExitStatus::Signal(SIGTERM), "", now);
  a = fsm.OnAllGone(now);
  EXPECT_TRUE(Has(a, K::kReattachOldInstance));
  EXPECT_EQ(fsm.state(), State::kRunning);
  EXPECT_EQ(fsm.cause().overlap, Cause::Overlap::kOldKeepsServing);
  EXPECT_EQ(fsm.cause().kind, CK::kProbeStartTimeout);
}

TEST_F(FsmProbesTest, ASimpleServiceWithAnHttpProbeDoesNotOverlap) {
  Spawned();
  fsm.OnProbeGatePassed(now);
  EXPECT_EQ(fsm.CanOverlapRestart(true), OverlapVerdict::kNotNotifyType);
}

}  // namespace
}  // namespace supd
