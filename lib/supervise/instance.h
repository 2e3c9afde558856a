// Instance: one run of a service, from its start to the exit of its last process — its main
// and control processes, its cgroup (or process groups), the unit it was started with and its
// environment.
//
// The same type serves the service's current instance and the previous one of an overlap
// restart: setting an instance aside and taking it back are moves of a unique_ptr, and an
// instance being stopped on its own (InstanceStop) carries everything that stop needs — its own
// spec, so that a daemon-reload in between changes nothing of how it ends.
//
// Plain data with small helpers; the ActionRunner and the Manager act on it. Touched only on the
// io_context thread.
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lib/cgroup/resource_control.h"
#include "lib/supervise/host.h"
#include "lib/supervise/instance_stop.h"
#include "lib/supervise/launch.h"
#include "lib/supervise/snapshot.h"

namespace supd {

struct Instance {
  // Constant once the instance began.
  std::shared_ptr<const ServiceSpec> spec;  // the unit it was started with
  std::string invocation_id;
  int64_t started_monotonic = 0;  // CLOCK_MONOTONIC µs of its start
  uint64_t attempt = 0;           // the FSM's start_attempts() when it began

  // Filled once prepared (before its first process).
  bool prepared = false;
  PreparedInstance prep;
  EnvList env;                    // BuildEnvironment's, plus GOMAXPROCS/GOMEMLIMIT
  std::string setup_error;        // why none of its processes can start ("" if fine)
  std::vector<LimitReport> limits;  // its cgroup limits as applied
  GoRuntimeStatus go_runtime;
  std::vector<std::string> output_warnings;
  // What its processes got otherwise than the unit says (a clamped Limit*=, a skipped
  // OOMScoreAdjust=), each once, as their children reported it.
  std::vector<ExecAdjustment> adjustments;

  // Where its processes are.
  std::string cgroup;            // its own cgroup, "" without tracking (or not created)
  std::vector<pid_t> pgids;      // process groups of its processes (without cgroups)
  std::unique_ptr<Proc> main;
  std::unique_ptr<Proc> control;
  // Its probes, while it is the service's current instance and its main process runs.
  std::unique_ptr<ProbeSet> probes;

  // Set while this instance is stopped on its own (an overlap restart's old instance).
  std::optional<InstanceStop> stop;
  std::unique_ptr<Timer> stop_timer;
  uint64_t id = 0;  // unique per Manager, for callbacks (an address can be reused)

  bool Has(pid_t pid) const {
    return (main && main->pid() == pid) || (control && control->pid() == pid);
  }
  bool has_processes() const { return main || control; }
};

}  // namespace supd
