// LogQuery: what `supctl logs` asks for, and the pieces that answer it: from the records a
// ServiceLog keeps in memory, from the log files (current and rotated, read backwards, on the
// LogWriter thread), and merged across services by time.
//
// No I/O besides reading the files named by the caller; not thread-bound (the caller decides).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>


#include "lib/base/result.h"
#include "lib/log/service_log.h"

namespace supd {

struct LogQuery {
  static constexpr size_t kDefaultLines = 10;
  static constexpr size_t kMaxLines = 100000;           // per request
  static constexpr size_t kMaxReplyBytes = 16 << 20;    // of text in one reply
  size_t lines = kDefaultLines;
  std::optional<int64_t> since_usec;  // CLOCK_REALTIME µs
  std::string stream;                 // "out", "err" or "" for both
  bool follow = false;

  bool Matches(const LogRecord& r) const {
    return (stream.empty() || r.stream == stream) && (!since_usec || r.time_usec >= *since_usec);
  }
};

// The last q.lines matching records held in memory. *complete is set when they are the whole
// answer (enough of them, or memory reaches back past q.since).
std::vector<LogRecord> RecentFromMemory(const ServiceLog& log, const LogQuery& q, bool* complete);

// The last q.lines matching records of the files, newest file first (svc.log, svc.log.1, …),
// read backwards. A file that cannot be read ends the search; its error goes to *error.
std::vector<LogRecord> ReadLastRecords(const std::vector<std::string>& files, const LogQuery& q,
                                       std::string* error);

// Per-service record lists (each in time order) merged by time: the last `lines`, and at most
// kMaxReplyBytes of text (older ones left out: `truncated`).
struct MergedLog {
  std::vector<std::pair<std::string, LogRecord>> records;  // service, record; oldest first
  bool truncated = false;
};
MergedLog MergeRecords(const std::vector<std::pair<std::string, std::vector<LogRecord>>>& per_service,
                       size_t lines);

}  // namespace supd
