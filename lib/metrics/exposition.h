// The Prometheus exposition of supd's units and of supd itself, from snapshots.
//
// Two formats, as the scraper's Accept header chooses (NegotiateFormat):
//   Prometheus text 0.0.4   "text/plain; version=0.0.4; charset=utf-8"
//   OpenMetrics 1.0.0       "application/openmetrics-text; version=1.0.0; charset=utf-8":
//                           counters with _created, supd_unit_state as a stateset,
//                           supd_unit_info and supd_build_info as info, "# EOF" at the end.
// HELP and TYPE on every family; labels only with bounded values (unit names, states, reasons,
// probe roles, CPU modes: never a pid). The same text serves GET /metrics, `supctl metrics` and
// the textfile collector's file.
//
// Pure but for ReadSelfProcessStats (procfs reads of supd's own process).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/supervise/manager.h"
#include "lib/supervise/snapshot.h"

namespace supd::metrics {

enum class Format { kPrometheusText, kOpenMetrics };

// OpenMetrics when the Accept header lists application/openmetrics-text with a q above 0 and at
// least as high as any text/plain it lists; Prometheus text otherwise (also for "", "*/*").
Format NegotiateFormat(std::string_view accept);
const char* ContentType(Format f);

// The standard process_* metrics of supd itself (what client libraries export).
struct ProcessStats {
  double cpu_seconds = 0;          // user + system
  uint64_t resident_bytes = 0;
  uint64_t virtual_bytes = 0;
  double start_time_seconds = 0;   // since the epoch
  uint64_t open_fds = 0;
  uint64_t max_fds = 0;            // the soft RLIMIT_NOFILE
};
// Reads /proc/self (stat, statm, fd, limits); unset when procfs is not there.
std::optional<ProcessStats> ReadSelfProcessStats();

struct ExpositionInput {
  std::string version;  // SUPD_VERSION, for supd_build_info
  DaemonSnapshot daemon;
  std::vector<UnitSnapshot> units;  // services are exposed; socket units count in supd_units only if documented
  std::optional<ProcessStats> process;
};

std::string Render(const ExpositionInput& in, Format f);

}  // namespace supd::metrics
