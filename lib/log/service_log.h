// ServiceLog: where the output of one service goes: <log-dir>/<service>.log, plus the last
// lines in memory for `supctl status`.
//
// Each record is one line: "<RFC 3339 UTC time with µs> <pid> <out|err>: <text>". Writes go
// straight to the file (O_APPEND), so nothing is lost when supd dies. Rotation, journald and
// back-pressure come with the logging issue; this class is the seam where they go.
#pragma once

#include <sys/types.h>

#include <deque>
#include <memory>
#include <string>
#include <string_view>

#include "lib/base/result.h"
#include "lib/base/unique_fd.h"

namespace supd {

class ServiceLog {
 public:
  static constexpr size_t kTailLines = 20;

  // Opens (creates, mode 0640) `path` for appending.
  [[nodiscard]] static Result<std::unique_ptr<ServiceLog>> Open(const std::string& path);

  // Appends one record. `stream` is "out" or "err". Non-printable bytes are escaped as \xNN so
  // that binary output cannot corrupt the file's line structure.
  void Write(pid_t pid, std::string_view stream, std::string_view text);

  const std::deque<std::string>& tail() const { return tail_; }
  const std::string& path() const { return path_; }
  // The last write error ("" if none): shown in status, since output cannot be dropped silently.
  const std::string& write_error() const { return write_error_; }

 private:
  ServiceLog(std::string path, UniqueFd fd) : path_(std::move(path)), fd_(std::move(fd)) {}

  std::string path_;
  UniqueFd fd_;
  std::deque<std::string> tail_;  // at most kTailLines records
  std::string write_error_;
};

// RFC 3339 UTC timestamp with microseconds for a CLOCK_REALTIME reading in µs.
std::string FormatRfc3339(int64_t realtime_usec);
int64_t RealtimeUsec();
int64_t MonotonicUsec();

}  // namespace supd

