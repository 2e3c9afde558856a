// Prober: one probe of one instance, on the io_context: waits InitialDelaySec=, then starts a
// check every IntervalSec= (measured from the start of the previous check; never two at once:
// a check that outlasts the interval delays the next one), feeds the results to a ProbeTracker
// and reports each change of state.
//
// Not responsible for: starting a check (the StartCheck it is given), what a state means
// (ProbeSet, the service's state machine).
#pragma once

#include <functional>
#include <memory>

#include "lib/health/probe_check.h"
#include "lib/health/probe_tracker.h"

namespace boost::asio {
class io_context;
}

namespace supd {

class Prober {
 public:
  using StartCheck = std::function<std::unique_ptr<Check>(CheckDone)>;
  // `on_change` is called after each change of state, on the io_context; it may destroy the
  // Prober (which then touches nothing of itself).
  Prober(boost::asio::io_context& io, const ProbeSpec& spec, StartCheck start,
         std::function<void(const ProbeStatus&)> on_change);
  ~Prober();
  Prober(const Prober&) = delete;
  Prober& operator=(const Prober&) = delete;

  // Begins: the first check after InitialDelaySec= from now. Once only.
  void Start();
  // Stops checking; a check under way is cancelled.
  void Stop();
  const ProbeStatus& status() const;
  const ProbeSpec& spec() const;
  // Called with every result, before `on_change` (for counters); it must not destroy the Prober.
  void OnEveryResult(std::function<void(const CheckResult&)> cb);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

// The StartCheck of a probe: HTTP and TCP on `io`, exec through `exec` (null: an exec probe
// fails every check with "exec probes are not available here").
Prober::StartCheck CheckStarterFor(boost::asio::io_context& io, const ProbeSpec& spec,
                                   const ExecCheckStarter& exec);

}  // namespace supd
