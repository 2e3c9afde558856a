// ServiceLog: where the output of one service goes: its LogSink (<log-dir>/<service>.log,
// written and rotated by the LogWriter thread), plus the recent records in memory for
// `supctl status` and `supctl logs`, and a hook for live followers (`supctl logs -f`).
//
// Each record is one line: "<RFC 3339 UTC time with µs> <pid> <out|err>[+]: <text>". A "+" after
// the stream says that the line was longer than LineMax and continues in the next record of the
// same stream. The text is escaped so that any bytes keep the file's line structure: a
// backslash becomes "\\", control bytes (except tab) and bytes that are not valid UTF-8 become
// "\xNN".
//
// Touched only on the io_context thread (the sink does its own locking).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/log/log_writer.h"

namespace supd {

struct LogRecord {
  int64_t time_usec = 0;  // CLOCK_REALTIME
  std::string time;       // RFC 3339, as in the file
  pid_t pid = 0;
  std::string stream;     // "out" or "err"
  bool continued = false; // the line goes on in the next record of this stream
  std::string text;       // escaped
  // The line as stored in the file, without its newline.
  std::string Format() const;
};

class ServiceLog {
 public:
  static constexpr size_t kTailLines = 20;       // in status
  static constexpr size_t kRecentLines = 1000;   // kept in memory for `logs`
  static constexpr size_t kRecentBytes = 256 * 1024;

  explicit ServiceLog(std::shared_ptr<LogSink> sink) : sink_(std::move(sink)) {}

  // Adds one record (`text` raw, escaped here) to the batch. `stream` is "out" or "err".
  // Always returns true; Flush() says whether the writer is behind.
  bool Write(pid_t pid, std::string_view stream, std::string_view text, bool continued = false);
  // Queues the batch on the sink (one lock and one wake-up of the writer per batch, not per
  // line). Returns false when the writer is behind: the caller should stop reading and wait
  // for WhenWritable. REQUIRES: called before control returns to the io_context after Write
  // (so that a `logs` request always finds every record queued).
  bool Flush();
  void WhenWritable(std::function<void()> cb) { sink_->WhenWritable(std::move(cb)); }

  // The last `n` records, formatted and shortened for status.
  std::vector<std::string> Tail(size_t n = kTailLines) const;
  const std::deque<LogRecord>& recent() const { return recent_; }
  const std::string& path() const { return sink_->path(); }
  const std::shared_ptr<LogSink>& sink() const { return sink_; }
  LogWriteStats stats() const { return sink_->stats(); }

  // Called for every record, after it is queued (live followers).
  std::function<void(const LogRecord&)> on_record;

 private:
  std::shared_ptr<LogSink> sink_;
  std::string batch_;       // formatted records not yet queued on the sink
  bool congested_ = false;  // the last Flush found the sink over its limit
  std::deque<LogRecord> recent_;
  size_t recent_bytes_ = 0;
};

// Escapes raw output bytes for one record (see the file comment).
std::string EscapeLogText(std::string_view raw);
// Parses one line of a log file; nullopt if it is not a record.
std::optional<LogRecord> ParseLogLine(std::string_view line);

// RFC 3339 UTC timestamp with microseconds for a CLOCK_REALTIME reading in µs.
std::string FormatRfc3339(int64_t realtime_usec);
// The inverse, for "…Z" timestamps as FormatRfc3339 writes them; also accepts a date alone,
// "YYYY-MM-DD HH:MM:SS" and a "+HH:MM" offset. nullopt if unparsable.
std::optional<int64_t> ParseRfc3339(std::string_view text);
int64_t RealtimeUsec();
int64_t MonotonicUsec();

}  // namespace supd
