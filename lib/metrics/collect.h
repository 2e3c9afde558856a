// What an exposition shows, gathered from the Manager at the moment of a scrape: supd itself,
// every service (Manager::Snapshot reads each instance's cgroup files, a few small reads per
// service), and supd's process figures.
#pragma once

#include "lib/metrics/exposition.h"

namespace supd::metrics {

// `with_process`: include the process_* figures of supd itself. The textfile for node_exporter
// leaves them out: node_exporter exports process_* of its own, and a second set would clash.
ExpositionInput Collect(Manager& manager, bool with_process);

}  // namespace supd::metrics
