// Snapshots: what the Manager tells about its units, as plain data.
//
// The Manager fills these on request (Manager::Snapshot, Manager::Daemon, Manager::Check);
// lib/control/ turns them into the protocol's JSON and supctl's text. Nothing here refers back
// into the Manager: a snapshot stays valid after the services change (the specs it holds are
// shared, immutable ServiceSpec/SocketSpec objects).
#pragma once

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "lib/cgroup/resource_control.h"
#include "lib/health/probe_set.h"
#include "lib/log/log_writer.h"
#include "lib/proc/exit_status.h"
#include "lib/proc/spawn.h"
#include "lib/supervise/cause.h"
#include "lib/supervise/service_fsm.h"
#include "lib/unit/service_spec.h"
#include "lib/unit/socket_spec.h"
#include "lib/unit/target_spec.h"

namespace supd {

// What supd set for GoRuntime= at the current start.
struct GoRuntimeStatus {
  GoRuntimeMode mode = GoRuntimeMode::kAuto;
  std::vector<std::pair<std::string, std::string>> set_by_supd;  // derived from the limits
  std::vector<std::pair<std::string, std::string>> from_unit;     // the service's own values
};

// Why a service restarted, for metrics and events: a bounded set, one counter each.
//   exit      the main process exited (any code; Restart= chose to restart)
//   signal    it was killed by a signal (or dumped core)
//   watchdog  it missed its watchdog (WatchdogSec=)
//   oom       the OOM killer killed it
//   liveness  its liveness probe failed
//   timeout   its start or stop timed out, or its startup probe failed
//   manual    `supctl restart` stopped it and started it again
//   overlap   `supctl restart` replaced it by a new instance that took over when ready
enum class RestartReason { kExit, kSignal, kWatchdog, kOom, kLiveness, kTimeout, kManual, kOverlap };
inline constexpr size_t kRestartReasonCount = 8;
const char* RestartReasonName(RestartReason r);  // "exit", "signal", …, "overlap"

// Counters of a service kept for supd's lifetime: reset-failed, a daemon-reload that changes
// the unit, and manual restarts never lower them (systemd's NRestarts is reset by all three).
// They go when the unit is removed from the units directory.
struct UnitCounters {
  std::array<uint64_t, kRestartReasonCount> restarts{};  // indexed by RestartReason
  uint64_t oom_kills = 0;                     // exits of a main process judged OOM kills
  std::array<uint64_t, 3> probe_failures{};   // failed checks, indexed by ProbeRole
  int64_t created_realtime = 0;  // CLOCK_REALTIME µs when supd first loaded the unit
};

// How the main process of the last instance ended.
struct LastExit {
  ExitStatus status;
  // How it ended, worded by lib/proc (DescribeExit), the spawner ("exec /x: No such file or
  // directory"), or the OOM check ("killed by the OOM killer (MemoryMax=64M)"), plus the stop's
  // cause for a process killed by the stop's own SIGKILL or by the WatchdogSignal= of a missed
  // watchdog or a failed liveness probe (ServiceFsm::stop_explains_exit).
  std::string reason;
  Cause stop_cause;  // set when the exit came during a stop that had a cause (a timeout)
  pid_t pid = 0;
  std::vector<std::string> excerpt;  // the instance's last stderr lines
  bool oom = false;                  // the OOM killer killed it (reason says how it is known)
  int64_t at_realtime = 0;           // CLOCK_REALTIME µs
  int64_t at_monotonic = 0;          // CLOCK_MONOTONIC µs
};

// One socket a socket unit holds.
struct HeldSocketInfo {
  std::string identity;  // "tcp:127.0.0.1:8080" (lib/socket/listener.h)
  std::string fd_name;   // for LISTEN_FDNAMES
  // Connections waiting in the backlog and the backlog's size, where the kernel tells
  // (TCP_INFO on listening TCP sockets); unset for other sockets.
  std::optional<uint32_t> queued;
  std::optional<uint32_t> backlog;
};

enum class SocketState { kListening, kStopped, kFailed };
const char* SocketStateName(SocketState s);  // "listening", "stopped", "failed"

struct SocketSnapshot {
  std::string name;       // "web.socket"
  std::string unit_path;  // the file it was loaded from
  std::shared_ptr<const SocketSpec> spec;  // null if it never loaded
  std::string load_error;  // the last load failed ("" if not); spec may be an older one
  bool enabled = false;    // linked (enable): a connection starts its service
  std::string enable_state;  // EnableStateName()
  SocketState state = SocketState::kStopped;
  std::string error;       // why it is failed (a bind error), "" otherwise
  std::string service;     // the service it passes its sockets to
  std::optional<State> service_state;  // unset when that service is not loaded
  std::vector<HeldSocketInfo> listening;
  uint64_t activations = 0;  // starts of the service by a waiting connection
  std::vector<std::string> notes;  // what a reload could not apply to the open sockets
  int64_t since_realtime = 0;
};

// An instance set aside by an overlap restart, serving or being stopped.
struct PreviousInstance {
  std::optional<pid_t> main_pid;
  bool draining = false;  // false: still serving until the new instance is ready
};

struct ServiceSnapshot {
  std::string name;
  std::string unit_path;
  std::shared_ptr<const ServiceSpec> spec;  // the spec in force (null: never loaded)
  std::string load_error;  // the last load failed ("" if not)
  bool changed_on_disk = false;  // a reloaded spec waits for the next start
  bool enabled = false;
  std::string enable_state;  // EnableStateName(): "enabled", "disabled", "static", …
  // Why it cannot start because of its dependencies: the ordering cycle it is on
  // ("ordering cycle: a.service -> b.service -> a.service (…)"); "" when none.
  std::string dependency_error;
  // A start or stop of it waiting for other units (After=/Before=): "start", "stop", "" none;
  // `waiting_for` names the units it waits on.
  std::string job;
  std::vector<std::string> waiting_for;
  bool loaded = false;  // false: never loaded (spec is null); the fields below are defaults

  State state = State::kStopped;
  Phase phase = Phase::kDead;
  ServiceResult result = ServiceResult::kSuccess;
  Cause cause;
  std::optional<pid_t> main_pid;
  std::optional<pid_t> control_pid;
  // Running and ready: the state is running and the readiness probe (if any) passes.
  bool ready = false;
  // Its probes: the current instance's as they run, else the unit's, not running.
  std::vector<ProbeInfo> probes;
  unsigned restarts = 0;   // automatic restarts since load or reset-failed (systemd's NRestarts)
  UnitCounters counters;   // for supd's lifetime (metrics)
  // CLOCK_REALTIME µs when the current instance's main process started (0: none runs).
  int64_t main_start_realtime = 0;
  std::string status_text;  // STATUS=
  int status_errno = 0;     // ERRNO=
  int64_t since_realtime = 0;
  int64_t since_monotonic = 0;
  Usec watchdog{0};
  std::string invocation_id;
  std::optional<LastExit> last_exit;

  // Output.
  std::string log_path;                   // "" when no log file is open
  std::optional<LogWriteStats> log_stats;
  std::string log_error;                  // the log file could not be opened
  std::vector<std::string> output_warnings;
  std::vector<std::string> log_tail;      // the last lines (see ServiceLog::Tail)

  // Where its processes are.
  std::string cgroup;          // the current instance's, "" without one
  bool cgroup_tracking = false;
  std::string tracking_error;  // why there is no cgroup tracking
  std::vector<PreviousInstance> previous_instances;

  // Resources of the current instance.
  CgroupMode cgroup_mode = CgroupMode::kNone;  // the host's
  std::vector<LimitReport> limits;
  std::optional<InstanceStats> stats;
  GoRuntimeStatus go_runtime;
  // Limit*=/OOMScoreAdjust= the host did not give as asked (clamped, skipped) to the processes
  // of the current instance, each once.
  std::vector<ExecAdjustment> process_adjustments;

  std::vector<SocketSnapshot> sockets;  // the socket units that pass it their sockets
  std::vector<std::string> fdstore;     // names of the fds it parked (FDSTORE=1)
};

// A target: a group of units, active once started (its members started, in order) until
// stopped.
struct TargetSnapshot {
  std::string name;       // "myapp.target"
  std::string unit_path;  // "" for a standard target supd has no file for
  std::shared_ptr<const TargetSpec> spec;  // null: a standard target without a file, or never
                                           // loaded (then load_error says why)
  std::string load_error;
  bool standard = false;  // one of systemd's standard targets (IsStandardTarget)
  bool active = false;
  std::string enable_state;
  std::string dependency_error;  // as ServiceSnapshot's
  std::string job;               // as ServiceSnapshot's
  std::vector<std::string> waiting_for;
  // Its members (what it Wants=/Requires=/BindsTo=, links included) and each one's state
  // word ("running", "stopped", "failed", "listening", "active", "inactive", "not-found").
  std::vector<std::pair<std::string, std::string>> members;
  int64_t since_realtime = 0;
};

// supd itself.
// systemctl is-system-running's words, for what supd has: kInitializing until the units are
// loaded (a killed predecessor's services are stopped first), kStarting until the boot's start
// jobs are done, then kRunning, or kDegraded while a unit is failed; kStopping once supd stops.
enum class SystemState { kInitializing, kStarting, kRunning, kDegraded, kStopping };
const char* SystemStateName(SystemState s);

struct DaemonSnapshot {
  pid_t pid = 0;
  int64_t start_realtime = 0;  // CLOCK_REALTIME µs when this supd started
  CgroupMode cgroup_mode = CgroupMode::kNone;
  std::string cgroup_summary;
  std::map<std::string, ControllerPlace> controllers;
  bool units_loaded = false;
  SystemState system_state = SystemState::kInitializing;
  size_t services = 0;
  size_t sockets = 0;
  size_t targets = 0;  // targets with a unit file
};

// `check`: every unit as loaded, with its warnings, and what this host will not give it.
struct UnitCheck {
  std::string name;
  std::string path;
  std::string error;  // "" when it loaded
  std::vector<std::string> warnings;
  // Limit*= that this host will not set as written ("LimitNOFILE=1048576 will be clamped to
  // 20000 (no CAP_SYS_RESOURCE)"), judged against supd's own limits.
  std::vector<std::string> limit_notes;
  // What else supd will do otherwise than the unit may expect: a readiness probe that cannot
  // tell a new instance from the old one in an overlap restart.
  std::vector<std::string> notes;
};

}  // namespace supd
