// Service: everything the Manager keeps about one service — its unit, its state machine, its
// instances (the current one, one set aside by an overlap restart, old ones being stopped),
// what its program told supd (STATUS=, the fd store), its last exit, its log, and the clients
// waiting on it.
//
// A plain record owned by the Manager; the parts (ActionRunner, NotifyRouter, Jobs) act on it.
// Touched only on the io_context thread.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "lib/base/unique_fd.h"
#include "lib/supervise/host.h"
#include "lib/supervise/instance.h"
#include "lib/supervise/jobs.h"
#include "lib/supervise/service_fsm.h"
#include "lib/supervise/snapshot.h"

namespace supd {

class ServiceLog;

struct Service {
  std::string name;
  std::string unit_path;
  bool is_instance = false;  // an instance of a template (name@instance.service)
  std::shared_ptr<const ServiceSpec> spec;       // what the FSM uses
  std::shared_ptr<const ServiceSpec> next_spec;  // from a reload, in force from the next start
  std::string load_error;                        // the last load failed
  std::unique_ptr<ServiceFsm> fsm;               // null until a spec loaded once
  bool removed = false;  // its unit file is gone: forgotten once stopped

  // Instances. `current` is the one the FSM drives; `set_aside` serves during an overlap
  // restart until the new one is ready; `draining` are old ones stopping on their own.
  std::unique_ptr<Instance> current;
  std::unique_ptr<Instance> set_aside;
  std::vector<std::unique_ptr<Instance>> draining;
  // Instance cgroups that still held processes when their instance was done with (KillMode=
  // process leftovers, survivors of SIGKILL): signalled with the service, removed once empty.
  std::vector<std::string> stale_cgroups;
  // Processes the FSM stopped waiting for (KillMode=none, survived SIGKILL, a former main
  // process after MAINPID=): still watched, so that they are reaped, but no longer the service's.
  std::vector<std::unique_ptr<Proc>> abandoned;

  std::unique_ptr<Timer> timer;     // the FSM's one timer
  std::unique_ptr<Timer> watchdog;  // the watchdog

  // What the program said.
  std::vector<std::pair<std::string, UniqueFd>> fdstore;  // FDSTORE=1, by name
  std::string status_text;                                // STATUS=
  int status_errno = 0;                                   // ERRNO=

  std::optional<LastExit> last_exit;
  State last_state = State::kStopped;  // for state-change events
  bool last_ready = false;             // for readiness events
  // Metrics and events: counters for supd's lifetime; how the run that put the service in
  // backoff ended (the reason of the restart that follows); the FSM's restarts() seen so far.
  UnitCounters counters;
  std::optional<RestartReason> backoff_reason;
  unsigned seen_restarts = 0;
  // OnFailure=/OnSuccess=: MONITOR_* variables for this service's next start, set when another
  // unit triggered it (systemd passes them when one unit triggered the start).
  EnvList monitor_env;
  std::string monitor_from;  // the unit that set monitor_env ("*": more than one)
  int64_t since_realtime = 0;
  int64_t since_monotonic = 0;

  std::shared_ptr<ServiceLog> log;
  std::string log_error;

  std::vector<PendingJob> jobs;  // clients waiting for an operation on it

  // Any process of the service still runs (an instance's main or control process, or one
  // set aside or draining): a stop is complete only without any.
  bool has_processes() const {
    return (current && current->has_processes()) || set_aside || !draining.empty();
  }
};

}  // namespace supd
