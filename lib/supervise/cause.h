// Cause: why a service is failed, stopped or restarting, as plain data.
//
// The state machine (service_fsm.h) records a Cause wherever it used to build a sentence; it
// never words one. lib/control/cause_text.h turns a Cause into the sentence a human reads, and
// those sentences are an interface (supctl prints them, the README and integration tests quote
// them): FormatCause() must give exactly the words listed here. <span> is a time span written
// "90s", "1500ms" or "infinity"; <SIG> a signal name ("SIGTERM"); <exit> DescribeExit()'s
// "exited with status 3" / "killed by signal SIGSEGV (core dumped)".
//
//   kNone                      "" (nothing to say)
//   kStartLimitHit             "start limit hit: <count> starts within <span=interval>
//                               (StartLimitBurst=<burst>, StartLimitIntervalSec=<span=interval>)"
//   kConditionNotMet           <text> (the condition check's message, verbatim)
//   kAssertFailed              <text> (the assertion's message, verbatim)
//   kSpawnFailed               <text> (the spawn's or the instance preparation's error, verbatim)
//   kExecFailed                <text> (the process never reached execve(): the spawner's step and
//                               errno, "exec /usr/bin/x: No such file or directory"; main or
//                               control process)
//   kMainExited                "main process <exit>", or "main process <text>" when `text` (the
//                               OOM killer's reason) is set
//   kControlFailed             "<list>=<path> (<source>) <exit>"; "<list>= <exit>" when the
//                               command is not known (path and source empty)
//   kExecConditionSkip         "<list>=<path> (<source>) <exit>: start skipped"
//   kStartTimeout              notify_type: "start timeout: no READY=1 within <span>
//                               (TimeoutStartSec=)"; else "start timeout: not ready within
//                               TimeoutStartSec=<span>"
//   kStartPostTimeout          "start timeout: ExecStartPost= did not finish within
//                               TimeoutStartSec=<span>"
//   kReloadTimeout             "reload timeout: not done within <span>"
//   kExecStopTimeout           "stop timeout: ExecStop= did not finish within
//                               TimeoutStopSec=<span>"
//   kStopTimeout               "stop timeout: processes still running <span> after <SIG=signal>"
//                               then ", sent <SIG=final_signal>" (send_sigkill) or
//                               " (SendSIGKILL=no: left running)"
//   kSurvivedFinalKill         "processes survived <SIG=final_signal>; giving up"
//   kExecStopPostTimeout       "stop timeout: ExecStopPost= did not finish within
//                               TimeoutStopSec=<span>"
//   kLeftRunningAfterStopPost  "processes still running after ExecStopPost= (SendSIGKILL=no);
//                               left running"
//   kWatchdogTimeout           "watchdog timeout: no WATCHDOG=1 within <span>, sent <SIG=signal>"
//   kWatchdogTriggered         "watchdog triggered by the program (WATCHDOG=trigger), sent
//                               <SIG=signal>"
//   kStartupProbeFailed        "startup probe failed: <text>" (text: "StartupProbe=<target>
//                               failed <n> times: <last result>")
//   kLivenessProbeFailed       "liveness probe failed: <text>, sent <SIG=signal>"
//   kProbeStartTimeout         "start timeout: not ready within TimeoutStartSec=<span>: <text>"
//                               (text: ProbeSet::GateBlocker(), the probe that held the gate)
//   kStoppedWhileWaitingToRestart  "stopped while waiting to restart"
//   kResult                    ResultName(result): a restart is due and nothing else explains it
//                               ("success", "exit-code", ...)
//
// An overlap restart (a new instance started beside the running one) wraps the cause of its
// failure; <inner> is the sentence of `kind` above, or ResultName(result) when kind is kNone:
//   kOldKeepsServing    "restart failed, the previous instance keeps serving: <inner>"
//   kOldGone            "restart failed and the previous instance had exited: <inner>"
//   kRefusedStartLimit  (kind is kStartLimitHit) "restart refused, the running instance goes
//                        on: start limit hit (<count> starts within <span=interval>)"
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "lib/proc/exit_status.h"
#include "lib/unit/service_spec.h"

namespace supd {

// Why the service last stopped or failed, with systemd's names ("success", "exit-code", ...).
enum class ServiceResult {
  kSuccess, kResources, kTimeout, kExitCode, kSignal, kCoreDump, kWatchdog, kStartLimitHit,
  kExecCondition, kAssert, kOomKill,
};

// systemd's name of a result: an identifier ("exit-code"), not a sentence.
inline const char* ResultName(ServiceResult r) {
  switch (r) {
    case ServiceResult::kSuccess: return "success";
    case ServiceResult::kResources: return "resources";
    case ServiceResult::kTimeout: return "timeout";
    case ServiceResult::kExitCode: return "exit-code";
    case ServiceResult::kSignal: return "signal";
    case ServiceResult::kCoreDump: return "core-dump";
    case ServiceResult::kWatchdog: return "watchdog";
    case ServiceResult::kStartLimitHit: return "start-limit-hit";
    case ServiceResult::kExecCondition: return "exec-condition";
    case ServiceResult::kAssert: return "assert";
    case ServiceResult::kOomKill: return "oom-kill";
  }
  return "?";
}

// Which command list a control process runs.
enum class CommandList { kCondition, kStartPre, kStart, kStartPost, kReload, kStop, kStopPost };

// The unit file's name of the list: "ExecStartPre" ...
inline const char* CommandListName(CommandList l) {
  switch (l) {
    case CommandList::kCondition: return "ExecCondition";
    case CommandList::kStartPre: return "ExecStartPre";
    case CommandList::kStart: return "ExecStart";
    case CommandList::kStartPost: return "ExecStartPost";
    case CommandList::kReload: return "ExecReload";
    case CommandList::kStop: return "ExecStop";
    case CommandList::kStopPost: return "ExecStopPost";
  }
  return "?";
}

struct Cause {
  enum class Kind {
    kNone,
    kStartLimitHit,
    kConditionNotMet,
    kAssertFailed,
    kSpawnFailed,
    kExecFailed,
    kMainExited,
    kControlFailed,
    kExecConditionSkip,
    kStartTimeout,
    kStartPostTimeout,
    kReloadTimeout,
    kExecStopTimeout,
    kStopTimeout,
    kSurvivedFinalKill,
    kExecStopPostTimeout,
    kLeftRunningAfterStopPost,
    kWatchdogTimeout,
    kWatchdogTriggered,
    kStartupProbeFailed,
    kLivenessProbeFailed,
    kProbeStartTimeout,
    kStoppedWhileWaitingToRestart,
    kResult,
  };
  enum class Overlap { kNone, kOldKeepsServing, kOldGone, kRefusedStartLimit };

  Kind kind = Kind::kNone;
  Overlap overlap = Overlap::kNone;
  // The values the sentences print; which ones a Kind uses is listed above, the rest keep
  // their defaults.
  ExitStatus exit{};   // kMainExited, kControlFailed, kExecConditionSkip
  std::string text{};  // condition message, spawn or exec error, OOM reason
  CommandList list = CommandList::kStart;  // kControlFailed, kExecConditionSkip
  size_t index = 0;                        // ... and which command of the list
  std::string path{};                      // ... its path and "file:line"
  std::string source{};
  Usec span{0};      // a timeout, a watchdog interval, a start-limit interval
  uint64_t count = 0;    // starts inside the start-limit interval
  unsigned burst = 0;    // StartLimitBurst=
  int signal = 0;        // KillSignal= / WatchdogSignal=
  int final_signal = 0;  // FinalKillSignal=
  bool notify_type = false;   // kStartTimeout: the service is Type=notify/notify-reload
  bool send_sigkill = true;   // kStopTimeout: SendSIGKILL=
  ServiceResult result = ServiceResult::kSuccess;  // kResult, and an overlap's inner kNone

  bool empty() const { return kind == Kind::kNone && overlap == Overlap::kNone; }

  static Cause Of(Kind k) { return Cause{k}; }
  static Cause WithText(Kind k, const std::string& text) {
    Cause c{k};
    c.text = text;
    return c;
  }
  static Cause WithSpan(Kind k, Usec span) {
    Cause c{k};
    c.span = span;
    return c;
  }
};

}  // namespace supd
