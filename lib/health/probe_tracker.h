// ProbeTracker: what a run of check results means for one probe — Kubernetes' thresholds.
//
// Pure: results and the time in, the probe's state out. A probe starts `pending`; it becomes
// `passing` after SuccessThreshold= consecutive successes and `failing` after FailureThreshold=
// consecutive failures, from either other state.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "lib/health/probe_check.h"
#include "lib/unit/service_spec.h"

namespace supd {

enum class ProbeState { kPending, kPassing, kFailing };
const char* ProbeStateName(ProbeState s);  // "pending", "passing", "failing"

struct ProbeStatus {
  ProbeState state = ProbeState::kPending;
  unsigned consecutive_successes = 0;
  unsigned consecutive_failures = 0;
  uint64_t checks = 0;    // results recorded
  uint64_t failures = 0;  // of which failed
  std::optional<Usec> last_latency;
  int64_t last_check_realtime = 0;  // CLOCK_REALTIME µs of the last result (0: none yet)
  int64_t since_realtime = 0;       // ... of the result that put it in `state` (0: pending)
  struct Failure {
    std::string message;
    std::string output;
    int64_t at_realtime = 0;  // CLOCK_REALTIME µs
  };
  std::optional<Failure> last_failure;
};

class ProbeTracker {
 public:
  explicit ProbeTracker(const ProbeSpec& spec) : spec_(spec) {}
  // Records one result; true when the state changed.
  bool Record(const CheckResult& r, int64_t now_realtime);
  const ProbeStatus& status() const { return status_; }

 private:
  ProbeSpec spec_;
  ProbeStatus status_;
};

}  // namespace supd
