#include "lib/control/cause_text.h"

#include <fmt/format.h>

#include <chrono>

#include "lib/proc/exit_status.h"

namespace supd::control {
namespace {

// "ExecStartPre=/bin/false (web.service:4)", or "ExecStartPre=" when the command is not known.
std::string Command(const Cause& c) {
  std::string what = std::string(CommandListName(c.list)) + "=";
  if (!c.path.empty() || !c.source.empty()) what += c.path + " (" + c.source + ")";
  return what;
}

// The sentence of the cause's kind alone, without an overlap restart's wrapping.
std::string Inner(const Cause& c) {
  using K = Cause::Kind;
  switch (c.kind) {
    case K::kNone: return "";
    case K::kStartLimitHit:
      return fmt::format(
          "start limit hit: {} starts within {} (StartLimitBurst={}, StartLimitIntervalSec={})",
          c.count, FormatSpan(c.span), c.burst, FormatSpan(c.span));
    case K::kConditionNotMet:
    case K::kAssertFailed:
    case K::kSpawnFailed:
    case K::kExecFailed: return c.text;
    case K::kMainExited: return "main process " + (c.text.empty() ? DescribeExit(c.exit) : c.text);
    case K::kControlFailed: return Command(c) + " " + DescribeExit(c.exit);
    case K::kExecConditionSkip: return Command(c) + " " + DescribeExit(c.exit) + ": start skipped";
    case K::kStartTimeout:
      if (c.notify_type)
        return "start timeout: no READY=1 within " + FormatSpan(c.span) + " (TimeoutStartSec=)";
      return "start timeout: not ready within TimeoutStartSec=" + FormatSpan(c.span);
    case K::kStartPostTimeout:
      return "start timeout: ExecStartPost= did not finish within TimeoutStartSec=" +
             FormatSpan(c.span);
    case K::kReloadTimeout: return "reload timeout: not done within " + FormatSpan(c.span);
    case K::kExecStopTimeout:
      return "stop timeout: ExecStop= did not finish within TimeoutStopSec=" + FormatSpan(c.span);
    case K::kStopTimeout:
      return "stop timeout: processes still running " + FormatSpan(c.span) + " after " +
             SigName(c.signal) +
             (c.send_sigkill ? ", sent " + SigName(c.final_signal)
                             : std::string(" (SendSIGKILL=no: left running)"));
    case K::kSurvivedFinalKill:
      return "processes survived " + SigName(c.final_signal) + "; giving up";
    case K::kExecStopPostTimeout:
      return "stop timeout: ExecStopPost= did not finish within TimeoutStopSec=" +
             FormatSpan(c.span);
    case K::kLeftRunningAfterStopPost:
      return "processes still running after ExecStopPost= (SendSIGKILL=no); left running";
    case K::kWatchdogTimeout:
      return "watchdog timeout: no WATCHDOG=1 within " + FormatSpan(c.span) + ", sent " +
             SigName(c.signal);
    case K::kWatchdogTriggered:
      return "watchdog triggered by the program (WATCHDOG=trigger), sent " + SigName(c.signal);
    case K::kStartupProbeFailed: return "startup probe failed: " + c.text;
    case K::kLivenessProbeFailed:
      return "liveness probe failed: " + c.text + ", sent " + SigName(c.signal);
    case K::kProbeStartTimeout:
      return "start timeout: not ready within TimeoutStartSec=" + FormatSpan(c.span) + ": " +
             c.text;
    case K::kStoppedWhileWaitingToRestart: return "stopped while waiting to restart";
    case K::kResult: return ResultName(c.result);
  }
  return "";
}

}  // namespace

std::string FormatSpan(Usec span) {
  if (span == kInfinity) return "infinity";
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(span).count();
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

std::string FormatCause(const Cause& cause) {
  // An overlap restart's failure with nothing more to say is said by its result.
  const bool bare = cause.kind == Cause::Kind::kNone && cause.overlap != Cause::Overlap::kNone;
  std::string inner = bare ? std::string(ResultName(cause.result)) : Inner(cause);
  switch (cause.overlap) {
    case Cause::Overlap::kNone: return inner;
    case Cause::Overlap::kOldKeepsServing:
      return "restart failed, the previous instance keeps serving: " + inner;
    case Cause::Overlap::kOldGone:
      return "restart failed and the previous instance had exited: " + inner;
    case Cause::Overlap::kRefusedStartLimit:
      return "restart refused, the running instance goes on: start limit hit (" +
             std::to_string(cause.count) + " starts within " + FormatSpan(cause.span) + ")";
  }
  return inner;
}

std::string FormatReloadVerdict(ReloadVerdict verdict, State state) {
  switch (verdict) {
    case ReloadVerdict::kOk: return "";
    case ReloadVerdict::kInProgress: return "a reload is already in progress";
    case ReloadVerdict::kNotRunning: return std::string("the service is ") + StateName(state);
    case ReloadVerdict::kNoMechanism:
      return "the unit has no ExecReload= (and is not Type=notify-reload)";
    case ReloadVerdict::kNoMainProcess: return "the service has no main process";
  }
  return "";
}

std::string FormatOverlapVerdict(OverlapVerdict verdict, State state) {
  switch (verdict) {
    case OverlapVerdict::kOk: return "";
    case OverlapVerdict::kNoHeldFds: return "supd holds no sockets or stored fds for it";
    case OverlapVerdict::kInProgress: return "a restart is already in progress";
    case OverlapVerdict::kNotNotifyType:
      return "overlap restarts need Type=notify (READY=1 tells when to switch) or an exec: "
             "readiness probe (it can tell the new instance by its $MAINPID)";
    case OverlapVerdict::kKillModeNone: return "KillMode=none could not stop the old instance";
    case OverlapVerdict::kNotRunning: return std::string("the service is ") + StateName(state);
    case OverlapVerdict::kNoMainProcess: return "the service has no main process";
    case OverlapVerdict::kControlRunning: return "a control process is running";
  }
  return "";
}

JobAnswer FormatJobOutcome(const std::string& unit, const JobOutcome& outcome) {
  using O = JobOutcome::Kind;
  const std::string cause = FormatCause(outcome.cause);
  switch (outcome.kind) {
    case O::kPending: return {false, unit + ": not done yet"};
    case O::kDone:
    case O::kSkipped: return {true, cause};
    case O::kFailed:
      return {false, unit + " failed: " +
                         (outcome.cause.empty() ? std::string(ResultName(outcome.result)) : cause)};
    case O::kWillRestart: return {false, unit + " failed to start and will be restarted: " + cause};
    case O::kCancelledByStop: return {false, unit + ": the start was cancelled by a stop"};
    case O::kOverlapFailed: return {false, unit + ": " + cause};
    case O::kReloadFailed: return {false, unit + ": reload failed: " + cause};
    case O::kReloadInterrupted:
      return {false, unit + ": reload interrupted: the service is " + StateName(outcome.state)};
  }
  return {false, unit + ": not done yet"};
}

}  // namespace supd::control
