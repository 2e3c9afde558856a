// Spawning one process of a service: fork, set up the child, execve.
//
// Everything the child needs is prepared in the parent (argv/envp arrays, uid/gid/groups
// already resolved, limits and capability sets as numbers), so that between fork and exec the
// child makes async-signal-safe system calls only. A failure in the child is reported through a
// close-on-exec pipe as the step that failed plus errno, and the child exits with systemd's
// status for that step (203 for exec, 200 for chdir, 205 for a limit, 216/217 for group/user,
// 218 for capabilities, ...) so the exit alone also tells. A step that fails always ends the
// child: it never runs with fewer restrictions or another identity than asked for.
//
// Two steps give way as systemd's do, unless the plan says require_limits: a limit the kernel
// refuses with EPERM is lowered to the child's hard maximum (setrlimit_closest(), see
// lib/proc/limit_plan.h), and an OOM score it may not set (EPERM, EACCES: no CAP_SYS_RESOURCE,
// "assuming containerized execution") is left as inherited. The child reports each such
// adjustment through the same pipe before it goes on, so the parent knows exactly what the
// service runs with (ExecStatus::adjustments).
//
// The order in the child follows systemd's exec_child(): limits, umask, OOM score and nice
// while still privileged; then the bounding set is dropped and the ambient capabilities are put
// in the inheritable set; then groups, gid, uid (keeping capabilities across the uid change only
// when ambient ones are wanted); then the ambient capabilities are raised and no_new_privs set.
//
// Not responsible for: watching the exit (ProcessWatcher), reading the output (lib/log/).
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "lib/base/result.h"
#include "lib/base/unique_fd.h"

namespace supd {

struct SpawnPlan {
  std::string path;                // executable, absolute
  std::vector<std::string> argv;   // argv[0] included
  std::vector<std::string> env;    // "NAME=value", the complete environment
  // Variables whose value is the child's own pid (WATCHDOG_PID=, later LISTEN_PID=), which only
  // the child knows: filled in between fork and exec.
  std::vector<std::string> own_pid_env;
  std::string working_directory;   // "" = "/" (systemd's default for system services)
  bool working_directory_optional = false;  // a missing directory is not an error ('-' prefix)
  std::optional<uid_t> uid;        // switch to this user (with gid and groups) if set
  std::optional<gid_t> gid;
  std::optional<std::vector<gid_t>> groups;  // supplementary groups (setgroups) if set
  // systemd.exec(5) process settings (see lib/unit/exec_settings.h; PlanExecSettings fills
  // them). Limit*=, indexed by RLIMIT_*: unset ones are inherited from supd, except
  // RLIMIT_NOFILE, whose soft limit goes back to 1024 when supd's own is higher.
  std::array<std::optional<struct rlimit>, RLIMIT_NLIMITS> rlimits;
  std::optional<mode_t> umask;
  std::optional<int> nice;
  std::optional<int> oom_score_adjust;
  // RequireLimits=yes: a limit that cannot be set as asked, or an OOM score that may not be set,
  // fails the start (205, 206) instead of being clamped or skipped.
  bool require_limits = false;
  // The capabilities to keep in the bounding set (bit N = capability N); nullopt: all of them.
  std::optional<uint64_t> capability_bounding_set;
  uint64_t ambient_capabilities = 0;  // bit N = capability N
  bool no_new_privileges = false;
  int stdout_fd = -1;              // becomes fd 1 in the child (not owned); -1: /dev/null
  int stderr_fd = -1;              // becomes fd 2 in the child (not owned); -1: /dev/null
  // fds the child gets as 3, 4, … (socket activation: LISTEN_FDS); not owned. Everything else
  // supd has open is closed at exec.
  std::vector<int> pass_fds;
  int cgroup_dir_fd = -1;          // cgroup directory to start the child in (clone3); not owned
  int cgroup_procs_fd = -1;        // fallback without clone3: the child writes "0" here to
                                   // enter its cgroup (not owned)
  // cgroup.procs of the instance's cgroups in v1 hierarchies (hybrid hosts: memory, cpu, pids
  // controllers on v1): the child writes "0" to each before exec, so its limits hold from the
  // first instruction of the service. Not owned.
  std::vector<int> extra_cgroup_procs_fds;
};

// A forked child. Owns the pidfd (for race-free signals and exit notification) and the read
// end of the exec-status pipe.
struct SpawnedProcess {
  pid_t pid = -1;
  UniqueFd pidfd;        // invalid if the kernel has no pidfd_open (then pid is used)
  UniqueFd exec_status;  // non-blocking; EOF without data = execve succeeded
};

// Forks and execs `plan`; the child is the leader of a new session and process group.
// Errors here are the parent's (pipe, fork); the child's own failures come through
// ReadExecStatus().
[[nodiscard]] Result<SpawnedProcess> Spawn(const SpawnPlan& plan);

// Something the child did otherwise than the plan asked, and went on (see the top of this file).
struct ExecAdjustment {
  std::string directive;  // "LimitNOFILE", "OOMScoreAdjust"
  std::string wanted;     // as asked: "1048576", "-999"
  std::string applied;    // what the process got: "20000"; "" when nothing was applied
  std::string reason;     // "no CAP_SYS_RESOURCE"; "Permission denied (no CAP_SYS_RESOURCE; ...)"
  // The whole of it, for the log and status:
  //   "LimitNOFILE=1048576 clamped to 20000 (no CAP_SYS_RESOURCE)"
  //   "OOMScoreAdjust=-999 not applied: Permission denied (no CAP_SYS_RESOURCE; as systemd,
  //    assuming a container)"
  std::string message;
  bool operator==(const ExecAdjustment&) const = default;
};

// What the exec-status pipe has said so far.
struct ExecStatus {
  enum class Kind { kPending, kExecuted, kFailed } kind = Kind::kPending;
  std::string error;  // for kFailed: "exec /usr/bin/x: No such file or directory"
  std::vector<ExecAdjustment> adjustments;  // in the order the child made them
};
// Reads what the pipe holds without blocking and adds it to *status: adjustments, then the
// outcome. Does nothing once the outcome is known. Once the child has exited the outcome is
// never kPending.
void UpdateExecStatus(int fd, const std::string& path, const std::string& working_directory,
                      ExecStatus* status);
// The same from a fresh ExecStatus.
ExecStatus ReadExecStatus(int fd, const std::string& path, const std::string& working_directory);

// Sends sig through the pidfd (or to pid if there is none). ESRCH is success: it is gone.
[[nodiscard]] Result<void> SignalProcess(const SpawnedProcess& p, int sig);
// Sends sig to every process of the process group pgid. ESRCH is success.
[[nodiscard]] Result<void> SignalProcessGroup(pid_t pgid, int sig);
// True while any process (zombies included) belongs to process group pgid.
bool ProcessGroupExists(pid_t pgid);

}  // namespace supd
