#include "lib/supervise/jobs.h"

#include <algorithm>

namespace supd {
namespace {

// Beyond the unit's own timeouts: the loop's own latency and the log flush before an answer.
constexpr Usec kMargin = std::chrono::seconds(30);

// n × span, or kInfinity when span is infinite (or the product would overflow).
Usec Times(size_t n, Usec span) {
  if (n == 0) return Usec(0);
  if (span == kInfinity || span.count() > kInfinity.count() / static_cast<int64_t>(n + 1))
    return kInfinity;
  return span * static_cast<int64_t>(n);
}

Usec Sum(std::initializer_list<Usec> parts) {
  Usec total{0};
  for (Usec p : parts) {
    if (p == kInfinity || total.count() > kInfinity.count() - p.count()) return kInfinity;
    total += p;
  }
  return total;
}

// A stop: ExecStop= each, KillSignal=, FinalKillSignal=, ExecStopPost= each, the final kill.
Usec StopSpan(const ServiceSpec& s) {
  return Times(s.exec_stop.size() + 2 + s.exec_stop_post.size() + 2, s.timeout_stop);
}

// A start: every ExecCondition=/ExecStartPre=/ExecStart=/ExecStartPost= and the preparation,
// then a stop if it fails.
Usec StartSpan(const ServiceSpec& s) {
  const size_t steps = 1 + s.exec_condition.size() + s.exec_start_pre.size() +
                       std::max<size_t>(1, s.exec_start.size()) + s.exec_start_post.size();
  return Sum({Times(steps, s.timeout_start), StopSpan(s)});
}

}  // namespace

Usec SafetyDeadline(const ServiceSpec& spec, Job::Kind kind) {
  Usec span{0};
  switch (kind) {
    case Job::Kind::kStart: span = StartSpan(spec); break;
    case Job::Kind::kRestart:
    case Job::Kind::kOverlapRestart:
      // The old instance's stop (or drain), then a start.
      span = Sum({StopSpan(spec), StartSpan(spec)});
      break;
    case Job::Kind::kStop: span = StopSpan(spec); break;
    case Job::Kind::kReload:
      span = Sum({Times(std::max<size_t>(1, spec.exec_reload.size()), spec.timeout_start),
                  StopSpan(spec)});
      break;
  }
  return Sum({span, kMargin});
}

JobResult ResultOfOutcome(const std::string& unit, const JobOutcome& o) {
  JobResult r;
  r.unit = unit;
  r.cause = o.cause;
  r.result = o.result;
  r.state = o.state;
  switch (o.kind) {
    case JobOutcome::Kind::kPending:
    case JobOutcome::Kind::kDone: r.kind = JobResult::Kind::kOk; break;
    case JobOutcome::Kind::kSkipped: r.kind = JobResult::Kind::kSkipped; break;
    case JobOutcome::Kind::kFailed: r.kind = JobResult::Kind::kFailed; break;
    case JobOutcome::Kind::kWillRestart: r.kind = JobResult::Kind::kWillRestart; break;
    case JobOutcome::Kind::kCancelledByStop: r.kind = JobResult::Kind::kCancelledByStop; break;
    case JobOutcome::Kind::kOverlapFailed: r.kind = JobResult::Kind::kOverlapFailed; break;
    case JobOutcome::Kind::kReloadFailed: r.kind = JobResult::Kind::kReloadFailed; break;
    case JobOutcome::Kind::kReloadInterrupted:
      r.kind = JobResult::Kind::kReloadInterrupted;
      break;
  }
  return r;
}

}  // namespace supd
