// Jobs: operations a client waits for (start, stop, restart, reload), and how each one ends.
//
// A job is queued on its service with the state machine's counters at that moment; after every
// change of the service the machine says whether the job is done and how (ServiceFsm::Outcome).
// Every job ends: by that outcome, by the client's own timeout (`supctl --timeout`), or at the
// latest by a safety deadline derived from the unit's own timeouts (a job still pending then is
// a bug of supd's, logged as one, and answered). `--no-block` jobs are answered at once.
//
// Touched only on the io_context thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "lib/supervise/cause.h"
#include "lib/supervise/host.h"
#include "lib/supervise/service_fsm.h"

namespace supd {

// How an operation on a unit ended, as data; lib/control/ words it.
struct JobResult {
  enum class Kind {
    kOk,                  // done as asked
    kSkipped,             // ok: the start was skipped (Condition*=, ExecCondition=) — cause says
    kQueued,              // ok: --no-block, the operation goes on
    kNotFound,            // no such unit (text: the reason, with the units directory)
    kNotLoaded,           // the unit failed to load (text: the load error)
    kShuttingDown,        // supd is stopping everything
    kFailed,              // the service failed (cause, result)
    kWillRestart,         // it failed to start and will be restarted (cause)
    kCancelledByStop,     // a stop cancelled the start
    kOverlapFailed,       // an overlap restart's new instance failed; the old one serves on
    kRestartInProgress,   // a restart of it is already in progress
    kReloadFailed,        // cause
    kReloadInterrupted,   // state
    kCannotReload,        // reload_verdict
    kNotApplicable,       // the operation (text) does not apply to this kind of unit
    kUnitRemoved,         // its unit file was removed meanwhile
    kNoProcess,           // kill: nothing runs
    kTimedOut,            // the client's timeout passed first (state, phase: where it is)
    kSocketFailed,        // a socket unit could not bind (text: the error)
    kInternalError,       // the safety deadline passed (a bug; text says so)
    kDependencyFailed,    // a unit it requires failed, is missing, or it is on an ordering
                          // cycle (text says which and why)
    kReplaced,            // a later operation on the unit replaced this one (text: which)
  };
  Kind kind = Kind::kOk;
  std::string unit;
  Cause cause;
  ServiceResult result = ServiceResult::kSuccess;
  State state = State::kStopped;
  Phase phase = Phase::kDead;
  ReloadVerdict reload_verdict = ReloadVerdict::kOk;
  Usec waited{0};      // kTimedOut: how long the client waited
  std::string text;    // kNotFound, kNotLoaded, kSocketFailed, kInternalError
  // Stopping a socket unit whose service still runs: that service (it keeps the sockets it
  // inherited; systemctl warns about this too).
  std::string service_still_running;
  bool ok() const { return kind == Kind::kOk || kind == Kind::kSkipped || kind == Kind::kQueued; }
};
using JobDone = std::function<void(JobResult)>;

struct JobOptions {
  bool no_block = false;             // answer once queued (systemctl --no-block)
  std::optional<Usec> timeout;       // the client gives up after this long
};

struct PendingJob {
  Job job;
  JobDone done;
  std::unique_ptr<Timer> deadline;  // the client's timeout or the safety deadline
  bool client_deadline = false;     // which of the two `deadline` is
  Usec started{0};
};

// The safety deadline of a job on a service with `spec`: what the unit's own timeouts allow for
// every step the job may pass through, plus a margin; kInfinity when a step has no timeout.
Usec SafetyDeadline(const ServiceSpec& spec, Job::Kind kind);

// The JobResult for a machine's outcome (not kPending).
JobResult ResultOfOutcome(const std::string& unit, const JobOutcome& o);

}  // namespace supd
