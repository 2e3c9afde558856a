#include "lib/control/job_text.h"

#include <fmt/format.h>

#include "lib/control/cause_text.h"

namespace supd::control {
namespace {

std::string Span(Usec d) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  if (ms % 1000 == 0) return fmt::format("{}s", ms / 1000);
  return fmt::format("{}ms", ms);
}

std::string ReloadVerdictText(const JobResult& r) {
  switch (r.reload_verdict) {
    case ReloadVerdict::kOk: return "";
    case ReloadVerdict::kInProgress: return "a reload is already in progress";
    case ReloadVerdict::kNotRunning: return std::string("the service is ") + StateName(r.state);
    case ReloadVerdict::kNoMechanism:
      return "the unit has no ExecReload= (and is not Type=notify-reload)";
    case ReloadVerdict::kNoMainProcess: return "the service has no main process";
  }
  return "";
}

// What a waiting client is told when it gives up: where the operation is.
std::string Progress(const JobResult& r) {
  return fmt::format("still {} ({})", StateName(r.state), PhaseName(r.phase));
}

}  // namespace

std::string JobErrorText(const JobResult& r) {
  const std::string& u = r.unit;
  switch (r.kind) {
    case JobResult::Kind::kOk:
    case JobResult::Kind::kSkipped:
    case JobResult::Kind::kQueued: return "";
    case JobResult::Kind::kNotFound: return r.text;
    case JobResult::Kind::kNotLoaded: return u + " failed to load: " + r.text;
    case JobResult::Kind::kShuttingDown: return "supd is shutting down";
    case JobResult::Kind::kFailed:
      return u + " failed: " +
             (r.cause.empty() ? std::string(ResultName(r.result)) : FormatCause(r.cause));
    case JobResult::Kind::kWillRestart:
      return u + " failed to start and will be restarted: " + FormatCause(r.cause);
    case JobResult::Kind::kCancelledByStop: return u + ": the start was cancelled by a stop";
    case JobResult::Kind::kOverlapFailed: return u + ": " + FormatCause(r.cause);
    case JobResult::Kind::kRestartInProgress:
      return "a restart of " + u + " is already in progress";
    case JobResult::Kind::kReloadFailed: return u + ": reload failed: " + FormatCause(r.cause);
    case JobResult::Kind::kReloadInterrupted:
      return u + ": reload interrupted: the service is " + StateName(r.state);
    case JobResult::Kind::kCannotReload: return u + " cannot be reloaded: " + ReloadVerdictText(r);
    case JobResult::Kind::kNotApplicable:
      return u + ": " + r.text + " does not apply to socket units";
    case JobResult::Kind::kUnitRemoved: return u + ": unit file was removed";
    case JobResult::Kind::kNoProcess: return u + " has no running process";
    case JobResult::Kind::kTimedOut:
      return fmt::format("timed out after {} waiting for {}: {}; the operation goes on in supd",
                         Span(r.waited), u, Progress(r));
    case JobResult::Kind::kSocketFailed: return r.text;
    case JobResult::Kind::kDependencyFailed: return u + ": " + r.text;
    case JobResult::Kind::kReplaced: return u + ": " + r.text;
    case JobResult::Kind::kInternalError:
      return fmt::format("internal error: {}: {} ({}); the operation goes on in supd", u, r.text,
                         Progress(r));
  }
  return u + ": failed";
}

std::optional<std::string> JobNoteText(const JobResult& r) {
  if (r.kind == JobResult::Kind::kSkipped && !r.cause.empty()) return FormatCause(r.cause);
  if (!r.service_still_running.empty())
    return fmt::format("{} stopped, but {}, which it passes its sockets to, is still running (it "
                       "keeps the sockets it inherited)",
                       r.unit, r.service_still_running);
  return std::nullopt;
}

}  // namespace supd::control
