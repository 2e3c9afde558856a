// ServiceSpec: a validated .service unit, as lib/unit/ read it from systemd's syntax.
//
// This is plain data: it knows nothing of processes or file descriptors. Values are already
// checked (a ServiceSpec that exists is one supd can run); what supd does not implement is listed
// in `warnings` with file:line instead of being dropped silently.
#pragma once

#include <chrono>
#include <csignal>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "lib/unit/exec_settings.h"
#include "lib/unit/resource_spec.h"
#include "lib/unit/unit_deps.h"

namespace supd {

using Usec = std::chrono::microseconds;
// A time span of "infinity" (systemd's USEC_INFINITY): no timeout.
inline constexpr Usec kInfinity = Usec::max();

// A warning about a unit file: unknown directive, directive not enforced yet, and so on.
struct Diagnostic {
  std::string file;
  int line = 0;  // 0 when it concerns the whole file
  std::string message;
  // "file:line: message" (or "file: message" when line is 0).
  std::string ToString() const;
};

// One command line of ExecStart= and friends, as written in the unit, quotes and C escapes
// already removed and specifiers resolved, but $VAR / ${VAR} not yet expanded: that needs the
// environment of the start (EnvironmentFile= is read at start time), see ExpandCommand().
struct ExecCommand {
  std::string path;               // the program to execute: absolute after load (PATH resolved
                                  // like systemd does for bare names, see exec_command.h)
  std::vector<std::string> argv;  // argv[0] included; with '@' it differs from path
  bool ignore_failure = false;    // '-' prefix: a failing exit counts as success
  bool no_env_expand = false;     // ':' prefix: no $VAR expansion
  bool full_privileges = false;   // '+' prefix: run as root, ignoring User=/Group=
  bool no_setuid = false;         // '!' prefix: (only meaningful with User=)
  std::string source;             // "file:line", for messages
};

// kNotifyReload: systemd >= 253's Type=notify-reload: as kNotify, and a reload is ReloadSignal=
// to the main process, answered with RELOADING=1 (+ MONOTONIC_USEC=) and then READY=1.
enum class ServiceType { kSimple, kExec, kOneshot, kNotify, kNotifyReload };
// Type= as a unit file writes it: "simple", "exec", "oneshot", "notify", "notify-reload".
const char* ServiceTypeName(ServiceType t);
enum class RestartPolicy { kNo, kAlways, kOnSuccess, kOnFailure, kOnAbnormal, kOnAbort, kOnWatchdog };
enum class KillMode { kControlGroup, kMixed, kProcess, kNone };
// FailureAction=/SuccessAction= (systemd.unit(5)): what supd as a whole does when the unit
// fails or succeeds. kExit: the orderly stop of every unit, then supd exits; kExitForce: every
// process is killed at once, then supd exits. supd does not reboot or power off hosts: the
// other values of systemd are warned at load and leave kNone.
enum class UnitAction { kNone, kExit, kExitForce };
const char* UnitActionName(UnitAction a);  // "none", "exit", "exit-force"
// NotifyAccess=: whose sd_notify datagrams are accepted. kMain: the main pid; kExec: the main
// pid and the pid of a running Exec*= command (ExecStartPre=, ExecReload=, ...); kAll: any
// process of the service (its cgroup, or process group without one).
enum class NotifyAccess { kNone, kMain, kExec, kAll };

// SuccessExitStatus= / RestartPreventExitStatus= / RestartForceExitStatus=: exit codes and
// signals, e.g. "1 2 8 SIGKILL".
struct ExitStatusSet {
  std::set<int> codes;
  std::set<int> signals;
  bool empty() const { return codes.empty() && signals.empty(); }
};

struct EnvironmentFileRef {
  std::string path;
  bool optional = false;  // '-' prefix: a missing file is not an error
};

// Condition*= and Assert*=. A failed Condition skips the start (not a failure); a failed Assert
// fails it.
struct Condition {
  std::string name;       // "ConditionPathExists", "AssertPathIsDirectory", ...
  bool is_assert = false;
  bool trigger = false;   // '|' prefix: at least one trigger condition must hold
  bool negate = false;    // '!' prefix
  std::string value;      // after the prefixes, specifiers resolved
  std::string source;     // "file:line"
};

// [X-Supd] StartupProbe=/ReadinessProbe=/LivenessProbe=: how supd asks a service whether it
// has started, is ready to serve, is alive (Kubernetes' probes, run by supd itself; see
// lib/health/). Defaults are Kubernetes' except the interval, which may be below a second.
enum class ProbeRole { kStartup, kReadiness, kLiveness };
// "StartupProbe", "ReadinessProbe", "LivenessProbe": the directive's name, the prefix of its
// settings.
const char* ProbeRoleName(ProbeRole r);

struct ProbeSpec {
  enum class Kind { kHttp, kTcp, kExec };
  ProbeRole role = ProbeRole::kReadiness;
  Kind kind = Kind::kHttp;
  std::string target;  // as written, specifiers resolved: "http://127.0.0.1:8080/healthz"
  // kHttp and kTcp: an IP address (IPv6 without its brackets; "localhost" is 127.0.0.1: supd
  // resolves no names on its loop), the port, and for kHttp the request target ("/healthz?x=1",
  // "/" when the URL has no path) and the Host: header as written.
  std::string host;
  uint16_t port = 0;
  std::string path;
  std::string host_header;
  // kExec: the command, parsed as ExecStart= (quoting, specifiers, PATH lookup); no prefixes.
  ExecCommand command;
  Usec interval = std::chrono::seconds(1);  // …IntervalSec=: between the starts of two checks
  Usec timeout = std::chrono::seconds(1);   // …TimeoutSec=: one check's limit
  Usec initial_delay{0};                    // …InitialDelaySec=: after the main process starts
  unsigned failure_threshold = 3;           // …FailureThreshold=: consecutive failures
  unsigned success_threshold = 1;           // …SuccessThreshold=: readiness only may be > 1
  std::string source;                       // "file:line" of the probe's directive
};

struct ServiceSpec {
  std::string name;         // full unit name: "web.service", "worker@3.service"
  std::string source_path;  // the file it was read from (the template file for instances)
  std::vector<std::string> dropin_paths;  // *.conf drop-ins applied, in order
  std::string description;

  ServiceType type = ServiceType::kSimple;
  bool remain_after_exit = false;

  // StandardOutput= / StandardError=. kLog: supd's log file (where systemd's `journal`, the
  // default, goes when journald is not running). kInherit for stdout is /dev/null (stdin is
  // always /dev/null under supd); for stderr it means "as stdout".
  struct Output {
    enum class Kind { kJournal, kInherit, kNull, kFile, kAppend, kTruncate };
    Kind kind = Kind::kJournal;
    std::string path;        // kFile, kAppend, kTruncate
    std::string as_written;  // "journal+console", "file:/x", for messages
    bool set = false;        // written in the unit (not the default)
  };
  Output standard_output{Output::Kind::kJournal, "", "journal"};
  Output standard_error{Output::Kind::kInherit, "", "inherit"};
  std::string syslog_identifier;  // "" = the unit name without ".service"
  int syslog_level = 6;           // SyslogLevel= (info)
  bool syslog_level_prefix = true;

  // [X-Supd] LogMaxBytes= / LogMaxFiles=: size rotation of <log-dir>/<name>.log (the file plus
  // at most log_max_files-1 rotated ones, svc.log.1 newest).
  uint64_t log_max_bytes = 10 * 1024 * 1024;
  unsigned log_max_files = 5;

  std::vector<ExecCommand> exec_condition;
  std::vector<ExecCommand> exec_start_pre;
  std::vector<ExecCommand> exec_start;  // exactly one, except Type=oneshot (zero or more)
  std::vector<ExecCommand> exec_start_post;
  std::vector<ExecCommand> exec_reload;  // kept for the notify issue
  std::vector<ExecCommand> exec_stop;
  std::vector<ExecCommand> exec_stop_post;

  RestartPolicy restart = RestartPolicy::kNo;
  Usec restart_sec = std::chrono::milliseconds(100);
  // RestartSteps= / RestartMaxDelaySec= (systemd >= 254): growing delay.
  unsigned restart_steps = 0;
  Usec restart_max_delay = kInfinity;
  Usec timeout_start = std::chrono::seconds(90);  // kInfinity: none. oneshot default: infinity
  Usec timeout_stop = std::chrono::seconds(90);
  Usec start_limit_interval = std::chrono::seconds(10);  // 0 disables the limit
  unsigned start_limit_burst = 5;

  // Resolved at load as systemd does: kMain when NotifyAccess= is not set (or set to none) and
  // the service is Type=notify/notify-reload or has WatchdogSec=, kNone otherwise.
  NotifyAccess notify_access = NotifyAccess::kNone;
  bool notify_access_set = false;  // NotifyAccess= appeared in the unit
  Usec watchdog_sec{0};            // WatchdogSec=; 0: no watchdog (also for "infinity")
  int watchdog_signal = SIGABRT;   // WatchdogSignal=
  int reload_signal = SIGHUP;      // ReloadSignal=: sent on reload for Type=notify-reload

  int kill_signal = 15;       // SIGTERM
  int final_kill_signal = 9;  // SIGKILL
  KillMode kill_mode = KillMode::kControlGroup;
  bool send_sigkill = true;
  bool send_sighup = false;

  ExitStatusSet success_exit_status;
  ExitStatusSet restart_prevent_exit_status;
  ExitStatusSet restart_force_exit_status;

  std::string working_directory;  // "" = unset; "~" = home of User=
  bool working_directory_optional = false;  // '-' prefix
  // Environment= in order (later assignments of the same name win at start).
  std::vector<std::pair<std::string, std::string>> environment;
  std::vector<EnvironmentFileRef> environment_files;
  std::string user;   // "" = the user supd runs as
  std::string group;  // "" = the primary group of User=
  // Limits, SupplementaryGroups=, UMask=, Nice=, OOMScoreAdjust=, capabilities,
  // NoNewPrivileges=: applied to every process of the service before exec.
  ExecSettings exec;

  // FileDescriptorStoreMax=: how many fds the program may park with FDSTORE=1 (0: none, as in
  // systemd); they come back to its next instance after the socket fds.
  unsigned file_descriptor_store_max = 0;

  // MemoryMax= and the other cgroup limits, [X-Supd] RequireLimits= and GoRuntime=.
  ResourceLimits resources;

  std::vector<Condition> conditions;  // Condition*= and Assert*= from [Unit], in order

  // [X-Supd] probes (unset: none) and MinReadySec= (how long the readiness probe must keep
  // passing before a start or restart counts as done; needs ReadinessProbe=).
  std::optional<ProbeSpec> startup_probe, readiness_probe, liveness_probe;
  Usec min_ready{0};

  // [Unit] ordering and dependencies (lib/supervise/dependency_graph.h gives them meaning).
  UnitDeps deps;
  // [Unit] OnFailure=/OnSuccess=: units started when this one enters failed, or stops after a
  // successful run (specifiers resolved; .service and .socket names only).
  std::vector<std::string> on_failure, on_success;
  // [Unit] FailureAction=/SuccessAction= and their exit statuses for supd (unset: the main
  // process's exit code when it exited, as systemd).
  UnitAction failure_action = UnitAction::kNone, success_action = UnitAction::kNone;
  std::optional<uint8_t> failure_action_exit_status, success_action_exit_status;
  std::vector<std::string> documentation;

  InstallSection install;  // [Install]

  std::vector<Diagnostic> warnings;
};

}  // namespace supd
