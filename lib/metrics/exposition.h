// The Prometheus exposition of supd's units and of supd itself, from snapshots.
//
// Two formats, as the scraper's Accept header chooses (NegotiateFormat):
//   Prometheus text 0.0.4   "text/plain; version=0.0.4; charset=utf-8"
//   OpenMetrics 1.0.0       "application/openmetrics-text; version=1.0.0; charset=utf-8":
//                           counters with _created, supd_unit_state as a stateset,
//                           supd_unit_info and supd_build_info as info, "# UNIT" on the
//                           families named _seconds and _bytes, "# EOF" at the end.
// HELP and TYPE on every family; labels only with bounded values (unit names, states, reasons,
// probe roles, CPU modes: never a pid). The same text serves GET /metrics, `supctl metrics` and
// the textfile collector's file.
//
// What is exposed (label `unit` = the service's name, "web.service"):
//   - Every service gets supd_unit_state (one series per state, 1 for the one it is in; the
//     state's label is `state` in the text format, and in OpenMetrics, where it is a stateset,
//     named after the family, `supd_unit_state`: Prometheus asks for OpenMetrics, so queries
//     of a Prometheus server use that name). A service that never loaded (its file is broken;
//     ServiceSnapshot::loaded false) gets only that, as "stopped": it has no type,
//     description or history to tell, and `supctl check` says what is wrong with it.
//   - A loaded service also gets supd_unit_info, supd_unit_ready, and its lifetime counters:
//     supd_unit_restarts_total (every reason, 0 included, so that rate() works from the first
//     scrape), supd_unit_oom_kills_total, supd_unit_log_lines_dropped_total, and per probe it
//     has supd_unit_probe_up and supd_unit_probe_failures_total.
//   - The rest only when known: supd_unit_start_time_seconds while a main process runs;
//     supd_unit_last_exit_code when the last main process exited (not when it was killed, nor
//     when it was not supd's child and how it ended is unknown), supd_unit_last_exit_signal
//     when it was killed by a signal; the cgroup's CPU, memory, memory.max (absent when
//     unlimited) and tasks while there is an instance with stats.
//   - _created (OpenMetrics) on the lifetime counters of a unit (restarts, OOM kills, probe
//     failures: when supd first loaded the unit) and on process_cpu_seconds (supd's start).
//     The other counters (CPU of the current instance's cgroup, dropped log lines) have none:
//     their start is not recorded.
//   - supd_units{state}: services per state, all states, only once the units are loaded
//     (daemon.units_loaded: zeros before would read as "nothing runs"). Socket units are not
//     exposed.
//   - supd_build_info{version}, and the process_* metrics of supd itself from `process`.
// Families that have no sample are left out, header and all. Order is fixed: families in the
// order above, units by name, states, reasons and probes in their enum's order.
// Label values are escaped (\\, \", \n) and invalid UTF-8 in them becomes U+FFFD (a unit's
// Description= may hold any bytes; one bad byte would fail the whole scrape).
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

// OpenMetrics when the Accept header lists application/openmetrics-text (no version, or 1.0.0
// or 0.0.1, which Prometheus parses alike) with a q above 0 and at least as high as the q that
// text/plain version 0.0.4 gets from its most specific range (text/plain, text/*, */*);
// Prometheus text otherwise (also for "", "*/*", and a header that accepts neither: the caller
// serves text rather than 406). Media types and parameter names are case-insensitive; a range
// with a malformed q is ignored.
Format NegotiateFormat(std::string_view accept);
const char* ContentType(Format f);

// The standard process_* metrics of supd itself (what client libraries export).
struct ProcessStats {
  double cpu_seconds = 0;  // user + system
  uint64_t resident_bytes = 0;
  uint64_t virtual_bytes = 0;
  double start_time_seconds = 0;  // since the epoch; 0: unknown (btime not found), left out
  // Unset when /proc/self/fd cannot be opened: when supd has no fd left, exactly when this
  // matters, so the others are still reported.
  std::optional<uint64_t> open_fds;
  uint64_t max_fds = 0;  // the soft RLIMIT_NOFILE
};
// Reads /proc/self/stat, /proc/self/fd and, once per process, btime from /proc/stat; unset when
// /proc/self/stat cannot be read or parsed (no procfs). Bounded reads; no allocation beyond a
// few KiB. Thread-safe.
std::optional<ProcessStats> ReadSelfProcessStats();

struct ExpositionInput {
  std::string version;              // SUPD_VERSION, for supd_build_info
  DaemonSnapshot daemon;            // units_loaded decides whether supd_units is exposed
  // The services are exposed; socket units and targets are skipped.
  std::vector<UnitSnapshot> units;
  std::optional<ProcessStats> process;
};

// The whole exposition, ending in "\n" (text) or "# EOF\n" (OpenMetrics). 100 services take
// well under a millisecond (exposition_test.cc measures it).
std::string Render(const ExpositionInput& in, Format f);

}  // namespace supd::metrics
