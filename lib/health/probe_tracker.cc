#include "lib/health/probe_tracker.h"

#include <algorithm>

namespace supd {

const char* ProbeStateName(ProbeState s) {
  switch (s) {
    case ProbeState::kPending:
      return "pending";
    case ProbeState::kPassing:
      return "passing";
    case ProbeState::kFailing:
      return "failing";
  }
  return "?";
}

bool ProbeTracker::Record(const CheckResult& r, int64_t now_realtime) {
  ++status_.checks;
  status_.last_latency = r.latency;
  status_.last_check_realtime = now_realtime;
  const ProbeState before = status_.state;
  // A threshold of 0 (refused by the unit parser) counts as 1: one result decides.
  if (r.ok) {
    ++status_.consecutive_successes;
    status_.consecutive_failures = 0;
    if (status_.consecutive_successes >= std::max(1u, spec_.success_threshold))
      status_.state = ProbeState::kPassing;
  } else {
    ++status_.failures;
    ++status_.consecutive_failures;
    status_.consecutive_successes = 0;
    status_.last_failure = ProbeStatus::Failure{r.message, r.output, now_realtime};
    if (status_.consecutive_failures >= std::max(1u, spec_.failure_threshold))
      status_.state = ProbeState::kFailing;
  }
  if (status_.state == before) return false;
  status_.since_realtime = now_realtime;
  return true;
}

}  // namespace supd
