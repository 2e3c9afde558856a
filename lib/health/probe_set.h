// ProbeSet: the probes of one instance of a service, with Kubernetes' order: the startup probe
// runs first and holds the others back; once it passes, the readiness and liveness probes run.
//
// It tells its owner (the ActionRunner, which turns each report into an event of the service's
// state machine) what the probes found; it decides nothing about the service.
//   gate_passed       the instance is ready as far as probes go: the startup probe passed (if
//                     any) and the readiness probe has passed (if any) and kept passing for
//                     MinReadySec=. Once per instance. Without startup and readiness probe it
//                     is never called (there is no gate: see has_gate()).
//   startup_failed    the startup probe reached FailureThreshold= before it ever passed. Once;
//                     the probes stop.
//   readiness_changed the readiness probe went failing (false; before the gate passed too),
//                     or, after the gate passed, passing again (true); gate_passed also
//                     means "passing".
//   liveness_failed   the liveness probe went failing (once per failing streak).
//   transition        every change of state of any probe (for the log).
//   checked           every result of any probe (for counters); must not destroy the ProbeSet.
// Every callback runs on the io_context and may destroy the ProbeSet (which then touches
// nothing of itself).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "lib/health/probe_check.h"
#include "lib/health/probe_tracker.h"
#include "lib/unit/service_spec.h"

namespace boost::asio {
class io_context;
}

namespace supd {

// One probe as status shows it.
struct ProbeInfo {
  ProbeSpec spec;
  bool running = false;  // checking now (false: held back by the startup probe, or stopped)
  ProbeStatus status;
};

class ProbeSet {
 public:
  struct Callbacks {
    std::function<void()> gate_passed;
    std::function<void(const ProbeInfo&)> startup_failed;
    std::function<void(bool ready, const ProbeInfo&)> readiness_changed;
    std::function<void(const ProbeInfo&)> liveness_failed;
    std::function<void(const ProbeInfo&)> transition;
    std::function<void(ProbeRole role, bool ok)> checked;
  };

  // The probes `spec` names (none: an empty set that reports nothing). `exec` starts exec
  // checks for this instance.
  ProbeSet(boost::asio::io_context& io, const ServiceSpec& spec, ExecCheckStarter exec,
           Callbacks callbacks);
  ~ProbeSet();
  ProbeSet(const ProbeSet&) = delete;
  ProbeSet& operator=(const ProbeSet&) = delete;

  // The instance's main process started: the probes begin (their InitialDelaySec= counts from
  // now). Once only.
  void Start();
  // Whether the spec has a startup or readiness probe: without, there is no gate to wait for.
  static bool HasGate(const ServiceSpec& spec);
  bool gate_passed() const;
  // Why the gate has not passed, for a start timeout's message: "ReadinessProbe=http://…/healthz
  // failing: HTTP 503 Service Unavailable", "StartupProbe=tcp://127.0.0.1:9 pending: no result
  // yet", "… pending: <last failure>" (failed, fewer times than FailureThreshold=), "… pending:
  // passed 1 of SuccessThreshold=2", "ReadinessProbe=… passing for 120ms of MinReadySec=1s".
  // "" once passed, and without a gate.
  std::string GateBlocker() const;
  // Every probe, startup, readiness, liveness order.
  std::vector<ProbeInfo> Snapshot() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace supd
