#include "lib/metrics/collect.h"

namespace supd::metrics {

ExpositionInput Collect(Manager& manager, bool with_process) {
  ExpositionInput in;
  in.version = SUPD_VERSION;
  in.daemon = manager.Daemon();
  // Every unit: an empty list names no unit, so it cannot fail.
  if (auto units = manager.Snapshot({}); units.ok()) in.units = std::move(*units);
  if (with_process) in.process = ReadSelfProcessStats();
  return in;
}

}  // namespace supd::metrics
