// Launching the processes of a service: what each start needs from the host (prepared off the
// loop), the plan for one command (pure), and the Launcher that carries a plan out.
//
//   PrepareInstance   blocking (NSS lookups, EnvironmentFile= reads, Condition*= checks):
//                     runs on the BlockingWork worker at each start, before the first process.
//   BuildEnvironment  pure: systemd's environment of a service from the prepared facts.
//   BuildLaunch       pure: one command of one instance → a LaunchPlan (argv, environment,
//                     identity, process settings, the fds it inherits).
//   Launcher          an interface; RealLauncher (real_host.h) opens the output targets and the
//                     cgroup, spawns through lib/proc, and starts the output readers.
//
// Not responsible for: deciding what to launch (ServiceFsm) or tracking what was launched
// (Instance, ActionRunner).
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "lib/base/result.h"
#include "lib/base/unique_fd.h"
#include "lib/base/user_db.h"
#include "lib/proc/spawn.h"
#include "lib/supervise/host.h"
#include "lib/supervise/service_fsm.h"
#include "lib/unit/conditions.h"
#include "lib/unit/unit_loader.h"

namespace supd {

class OutputReader;
class ServiceLog;
struct OutputReaderExport;  // lib/log/output_reader.h

// What a start learns from the host before its first process, off the loop.
struct PreparedInstance {
  ConditionResult conditions;        // Condition*=/Assert*=
  std::optional<UserInfo> user;      // User=, looked up
  std::optional<gid_t> group;        // Group=, looked up
  // The groups a process of User= gets (the user's groups from the group database, then
  // SupplementaryGroups=); unset when no group change is needed.
  std::optional<std::vector<gid_t>> groups;
  EnvList unit_env;                  // Environment= then EnvironmentFile=, in order
  std::string error;                 // "" when the start can go on: "User=bob: no such user"
};

// Blocking: evaluates the conditions and, when they hold, looks up the identity and reads the
// environment files of `spec`. `euid` is supd's effective uid (a root supd sets the groups of
// User=; an unprivileged one only SupplementaryGroups=, and fails loudly if it cannot).
PreparedInstance PrepareInstance(const ServiceSpec& spec, uid_t euid);

// The environment of every process of an instance, as systemd builds it: PATH, INVOCATION_ID,
// HOME/USER/LOGNAME/SHELL when User= is set, then the unit's variables (later ones win, each
// name keeps its first position).
EnvList BuildEnvironment(const std::string& invocation_id, const PreparedInstance& prepared);

// An fd the process inherits from fd 3 on, with its LISTEN_FDNAMES name. Borrowed.
struct PassedFd {
  int fd = -1;
  std::string name;
};

// The environment ExecStop=/ExecStopPost= get about how the service ended.
struct StopEnvironment {
  std::string service_result;  // SERVICE_RESULT=
  std::string exit_code;       // EXIT_CODE= ("" to leave it out)
  std::string exit_status;     // EXIT_STATUS=
};

struct LaunchInput {
  const ServiceSpec* spec = nullptr;
  CommandList list = CommandList::kStart;
  size_t index = 0;
  // Instead of list[index]: another command of the unit (an exec: probe's), with its name
  // for messages ("ReadinessProbe=exec:/usr/bin/check"). A control process otherwise.
  const ExecCommand* command = nullptr;
  std::string command_what;
  bool is_main = false;
  const EnvList* env = nullptr;               // BuildEnvironment's, plus the Go runtime's
  const PreparedInstance* prepared = nullptr;
  std::string notify_socket;                  // NOTIFY_SOCKET; "" when supd has none
  std::string notify_error;                   // why there is none
  std::vector<PassedFd> fds;                  // main process only: sockets, then the fd store
  Usec watchdog{0};                           // WATCHDOG_USEC= for the main process (0: off)
  std::optional<pid_t> main_pid;              // $MAINPID for control processes
  std::optional<StopEnvironment> stop;        // for ExecStop=/ExecStopPost=
  uid_t euid = 0;                             // supd's identity
  gid_t egid = 0;
  std::string home;                           // supd's $HOME, for WorkingDirectory=~
  bool require_limits = false;                // [X-Supd] RequireLimits=yes
};

struct LaunchPlan {
  SpawnPlan spawn;   // everything but the stdio and cgroup fds (the Launcher opens those)
  std::string what;  // "ExecStart=/usr/bin/web", for messages
  std::string path;  // the program
};

// Errors: "ExecStart=/x (web.service:4): command line is empty after variable expansion",
// "Type=notify needs the notify socket: <why>", and the process settings' errors.
[[nodiscard]] Result<LaunchPlan> BuildLaunch(const LaunchInput& in);

// A process the Launcher started (or the Manager adopted with MAINPID=).
struct Proc {
  ProcessHandle handle;
  UniqueFd exec_status;  // the spawn's exec-status pipe (invalid for an adopted process)
  std::string path;
  std::string working_directory;
  // Its stdout/stderr readers (null when output goes elsewhere): drained at exit; the stderr
  // one gives the crash excerpt.
  std::shared_ptr<OutputReader> out_reader, err_reader;
  std::unique_ptr<WatchHandle> exec_watch;  // readable exec-status pipe, while watched
  UniqueFd capture;  // LaunchTarget::capture_output: the read end of its stdout+stderr
  ExecStatus exec;                          // read once; what it said
  size_t adjustments_taken = 0;  // of exec.adjustments, those its instance has recorded
  // CLOCK_REALTIME µs when supd spawned it (or adopted it: MAINPID=), 0 if unknown.
  int64_t started_realtime = 0;
  pid_t pid() const { return handle.pid; }
  // Reads what the exec-status pipe holds now (see UpdateExecStatus): the adjustments the child
  // made (a clamped limit, a skipped OOM score), then the outcome.
  const ExecStatus& ReadExec();
};

// Where a launched process's output goes and which cgroup it starts in.
struct LaunchTarget {
  const ServiceSpec* spec = nullptr;
  std::shared_ptr<ServiceLog> log;       // null when the log file could not be opened
  std::string cgroup;                    // "" without cgroup tracking
  std::vector<std::string> v1_cgroups;   // cgroup v1 directories to enter (hybrid hosts)
  // stdout and stderr into one pipe whose non-blocking read end is Proc::capture (an exec:
  // probe's output), instead of StandardOutput=/StandardError=.
  bool capture_output = false;
};

class Launcher {
 public:
  virtual ~Launcher() = default;
  // Starts the process; `output_warnings` gets what status should say about its output
  // targets (e.g. journald not running). Errors name the step: "pipe2 for stdout of …".
  [[nodiscard]] virtual Result<std::unique_ptr<Proc>> Launch(
      const LaunchPlan& plan, const LaunchTarget& target,
      std::vector<std::string>* output_warnings) = 0;
  // daemon-reexec: goes on reading the stdout/stderr pipe of process `pid` that a previous supd
  // read (OutputReader::Adopt). Null where output is not read (the tests' fakes).
  virtual std::shared_ptr<OutputReader> AdoptOutput(UniqueFd /*read_end*/,
                                                    const std::shared_ptr<ServiceLog>& /*log*/,
                                                    pid_t /*pid*/,
                                                    const OutputReaderExport& /*from*/) {
    return nullptr;
  }
};

}  // namespace supd
