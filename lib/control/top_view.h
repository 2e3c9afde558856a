// The frame of `supctl top`: supd's own figures, then one row per unit, from the status and
// version replies. Pure: the client samples supd (and reads /proc/<supd's pid>/stat), keeps the
// previous sample, and draws the lines this returns; nothing here reads a file or the clock.
//
//   supd 0.1.0  pid 123  up 2h03m  state running  reexecs 0  cpu 0.4%  rss 11.8M
//   6 units: 2 running, 1 listening, 1 backoff, 1 failed, 1 stopped
//
//   UNIT               STATE      PID     UPTIME  RESTARTS  CPU%▼    MEM  READY  LAST-LOG-LINE
//   web.service        running    4242    1h02m          0   12.5  11.8M  yes    GET / 200
//
// CPU% is the unit's cgroup CPU time (resources.stats.cpu_usec) over the wall time between the
// previous sample and this one ("-" without a previous sample, or when the instance changed:
// its CPU time went down). UPTIME is the time since the unit entered its state, shown for the
// states that are up (running, reloading, listening, active). LAST-LOG-LINE is the text of the
// last line of log_tail (empty for a peer that may not read logs). The sort column's heading
// carries ▼ (largest first) or ▲ (names A to Z). Lines are cut to the width, counting code
// points (a wide character counts as one) and not escape sequences. Never throws on a missing
// or mistyped field: it shows "-".
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace supd::control {

enum class TopSort { kCpu, kMemory, kRestarts, kName };

// "cpu", "memory", "restarts", "name"; nullopt for another word.
std::optional<TopSort> ParseTopSort(std::string_view word);
const char* TopSortName(TopSort sort);

// supd's own process as /proc/<pid>/stat tells it.
struct ProcFigures {
  std::string comm;       // the command name, without its parentheses
  uint64_t cpu_usec = 0;  // utime + stime
  uint64_t rss_bytes = 0;
};
// Parses the text of /proc/<pid>/stat (fields after the command name, which may hold spaces
// and parentheses); nullopt when it is not that. REQUIRES: ticks_per_second, page_size > 0.
std::optional<ProcFigures> ParseProcStat(std::string_view text, uint64_t ticks_per_second,
                                         uint64_t page_size);

// One look at supd.
struct TopSample {
  nlohmann::json units;             // the status reply's result: one object per unit
  nlohmann::json version;           // the version reply's result
  std::optional<ProcFigures> supd;  // supd's process, when /proc could tell
  int64_t monotonic_usec = 0;       // when the sample was taken (CLOCK_MONOTONIC)
  int64_t realtime_usec = 0;        // the same moment (CLOCK_REALTIME), for uptimes
};

struct TopOptions {
  TopSort sort = TopSort::kCpu;
  size_t width = 80;   // 0: lines are not cut
  size_t height = 0;   // 0: every unit; else at most this many lines (the last says how many
                       // units did not fit)
  bool color = false;  // state words in green, yellow or red
  std::string hint;    // a line under supd's figures (the keys), or "" for none
};

// The frame's lines, without newlines. `previous`: the sample before (null for the first).
std::vector<std::string> TopFrame(const TopSample& now, const TopSample* previous,
                                  const TopOptions& options);

// `line` cut to `width` code points (0: not cut), escape sequences kept whole and not counted;
// a colour cut off is reset at the end.
std::string CutToWidth(std::string_view line, size_t width);

}  // namespace supd::control
