// SavedState: what one supd hands to the supd it execs (`supctl daemon-reexec`), as plain data.
//
// The Manager fills it at a moment of rest (no job queued, every service stopped, failed,
// running without a control process, or waiting to restart: see Manager::SaveState) and the
// new supd's Manager takes it back (Manager::RestoreState). Processes stay supd's children
// across exec (the pid does not change); every fd named here is kept open across exec, by
// number (its close-on-exec flag cleared right before the exec).
//
// On the wire (EncodeSavedState/DecodeSavedState, saved_state.cc) it is a versioned binary
// format of length-prefixed fields, never lines of text: a service's STATUS= or log line cannot
// inject a field (systemd's CVE-2018-15686). A state of a newer format than this supd reads is
// refused with a message saying both versions.
#pragma once

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "lib/base/result.h"
#include "lib/base/user_db.h"
#include "lib/proc/exit_status.h"
#include "lib/proc/spawn.h"
#include "lib/cgroup/resource_control.h"
#include "lib/supervise/cause.h"
#include "lib/supervise/snapshot.h"

namespace supd {

// The format this supd writes, and the newest it reads. Bump it when a field changes meaning;
// fields added at the end of a record are skipped by an older reader of the same format.
inline constexpr uint32_t kSavedStateFormat = 1;
// Refused above this size (a corrupt length must not make supd allocate gigabytes).
inline constexpr size_t kMaxSavedStateBytes = 64u << 20;

// The machine's own state (ServiceFsm::Save/Restore), for the phases a state is saved in:
// Phase::kDead, kRunning and kBackoff only (others are refused on decode and on restore).
struct SavedFsm {
  int phase = 0;  // Phase as an int
  bool failed = false;
  int result = 0;  // ServiceResult
  bool main_alive = false;
  size_t main_index = 0;
  bool stop_requested = false;
  unsigned restarts = 0;
  unsigned restart_streak = 0;
  uint64_t start_attempts = 0;
  bool spawned_main_confirmed = false;
  bool condition_skipped = false;
  std::optional<Usec> watchdog_override;
  uint64_t reloads_done = 0;
  bool last_reload_failed = false;
  uint64_t overlaps_failed = 0;
  bool probe_ready = true;
  std::optional<ExitStatus> last_main_exit;
  std::vector<Usec> start_times;  // CLOCK_MONOTONIC, which exec does not reset
  Cause cause;
};

// One stdout/stderr pipe of a process, as its OutputReader left it.
struct SavedOutput {
  int fd = -1;                        // the read end, kept across exec
  std::string stream;                 // "out" or "err" (the log's stream tags)
  std::string pending;                // bytes of a line not complete yet
  std::vector<std::string> excerpt;   // the last lines (stderr: the crash excerpt)
};

struct SavedProc {
  pid_t pid = 0;
  std::string path;
  std::string working_directory;
  int64_t started_realtime = 0;
  ExecStatus exec;  // its outcome is known (kExecuted or kFailed) when saved
  size_t adjustments_taken = 0;
  std::vector<SavedOutput> outputs;
};

struct SavedInstance {
  std::string invocation_id;
  int64_t started_monotonic = 0;
  uint64_t attempt = 0;
  // PreparedInstance without the conditions (they were checked at its start).
  std::optional<UserInfo> user;
  std::optional<gid_t> group;
  std::optional<std::vector<gid_t>> groups;
  EnvList unit_env;
  EnvList env;
  std::string setup_error;
  std::vector<LimitReport> limits;
  GoRuntimeStatus go_runtime;
  std::vector<std::string> output_warnings;
  std::vector<ExecAdjustment> adjustments;
  std::string cgroup;
  std::vector<pid_t> pgids;
  std::optional<SavedProc> main;
};

struct SavedService {
  std::string name;
  SavedFsm fsm;
  std::optional<SavedInstance> current;
  std::vector<std::string> stale_cgroups;
  std::optional<Usec> timer_remaining;     // the FSM's timer, if armed
  std::optional<Usec> watchdog_remaining;  // the watchdog, if armed
  std::vector<std::pair<std::string, int>> fdstore;  // FDSTORE=1 fds, by name (kept)
  std::string status_text;
  int status_errno = 0;
  std::optional<LastExit> last_exit;
  int last_state = 0;  // State
  bool last_ready = false;
  UnitCounters counters;
  std::optional<int> backoff_reason;  // RestartReason
  unsigned seen_restarts = 0;
  EnvList monitor_env;
  std::string monitor_from;
  int64_t since_realtime = 0;
  int64_t since_monotonic = 0;
};

struct SavedSocket {
  std::string identity;  // lib/socket's identity ("tcp:127.0.0.1:8080")
  int fd = -1;           // kept
};

struct SavedSocketUnit {
  std::string name;
  int state = 0;  // SocketState
  std::string error;
  bool stopped_by_request = false;
  uint64_t activations = 0;
  int64_t since_realtime = 0;
  std::vector<SavedSocket> sockets;  // while listening, in the unit's Listen*= order
};

struct SavedTarget {
  std::string name;
  bool active = false;
  int64_t since_realtime = 0;
};

// The daemon's own part: what daemon/ keeps across exec besides the Manager.
struct SavedDaemon {
  uint64_t reexecs = 0;       // how many daemon-reexecs this supd's line has been through
  int control_fd = -1;        // the control socket's listening fd
  int notify_fd = -1;         // the notify socket (-1: none)
  int metrics_fd = -1;        // the metrics listener (-1: none)
  int64_t started_realtime = 0;  // when the first supd of the line started
  uint64_t notify_refused = 0;
};

struct SavedState {
  uint32_t format = kSavedStateFormat;
  std::string writer_version;  // SUPD_VERSION of the supd that wrote it
  SavedDaemon daemon;
  bool boot_finished = false;
  std::vector<SavedService> services;
  std::vector<SavedSocketUnit> sockets;
  std::vector<SavedTarget> targets;
};

// Every fd the state names (services' pipes and fd stores, sockets, the daemon's), in order:
// the fds to keep open across exec.
std::vector<int> FdsOf(const SavedState& state);

// The wire format. Encode never fails; Decode checks every length, count and enum against the
// bytes and the types' ranges and refuses (with what and where) instead of guessing:
// "saved state: format 2 is newer than this supd reads (1)", "saved state: service 3: field
// fsm.phase: 9 is not a phase a state is saved in".
std::string EncodeSavedState(const SavedState& state);
[[nodiscard]] Result<SavedState> DecodeSavedState(std::string_view bytes);

}  // namespace supd
