// LogWriter: the one thread that writes service log files, so that a slow or full disk never
// blocks the io_context thread.
//
// The io_context thread formats records and queues them on a LogSink (one per service log
// file); the writer thread takes whole batches, appends them to the file with write(2), and
// rotates the file by size (svc.log → svc.log.1 → … → svc.log.<LogMaxFiles-1>, the oldest
// deleted), always at a record boundary, so no line is ever split across two files or lost at
// a rotation. Each sink's queue is bounded (kQueueLimit bytes): Append() says when it is over
// the limit, and the caller (OutputReader) then stops reading the service's pipe until the
// writer has caught up, so a flooding service blocks in write(2) instead of supd dropping lines
// or growing without bound. The writer tells the loop through boost::asio::post (no second
// io_context, no handlers run on the writer thread).
//
// A write that fails (ENOSPC on a full disk, EIO) drops the rest of that batch, counts the lines
// dropped and keeps the error for status; the service keeps running and writing resumes by
// itself once the disk has room again.
//
// Threading: one std::mutex (Core::mu) guards every field marked "guarded by mu"; everything
// else is touched only on the io_context thread or only on the writer thread, as marked.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "lib/base/result.h"
#include "lib/base/unique_fd.h"

namespace boost::asio {
class io_context;
}

namespace supd {

struct LogFileLimits {
  static constexpr uint64_t kDefaultMaxBytes = 10 * 1024 * 1024;
  static constexpr unsigned kDefaultMaxFiles = 5;
  uint64_t max_bytes = kDefaultMaxBytes;  // rotate before the file would grow past this
  unsigned max_files = kDefaultMaxFiles;  // svc.log plus up to max_files-1 rotated files
};

// What status shows about a log file's writes.
struct LogWriteStats {
  std::string last_error;      // "" if no write ever failed
  int64_t last_error_at = 0;   // CLOCK_REALTIME µs of the last failure
  bool failing = false;        // the last write attempt failed (not recovered yet)
  uint64_t dropped_lines = 0;  // lines lost to write errors, ever
  uint64_t rotations = 0;
};

class LogWriter;

// One log file. Created by LogWriter::Open; shared by the service and its output readers.
class LogSink : public std::enable_shared_from_this<LogSink> {
 public:
  static constexpr size_t kQueueLimit = 1 << 20;  // bytes queued before back-pressure

  // io_context thread. Queues complete records ("…\n"). Returns false when the queue is now
  // over kQueueLimit: the caller should stop producing and wait for WhenWritable.
  bool Append(std::string_view records);
  // io_context thread. Runs `cb` on the io_context once the queue is under the limit again
  // (posted at once if it already is).
  void WhenWritable(std::function<void()> cb);
  // Any thread. Takes effect at the next write.
  void SetLimits(LogFileLimits limits);
  LogWriteStats stats() const;
  const std::string& path() const { return path_; }
  // The files holding this sink's records, newest first (svc.log, svc.log.1, …) that exist.
  std::vector<std::string> Files() const;

  ~LogSink();

 private:
  friend class LogWriter;
  struct Core;
  LogSink(std::shared_ptr<Core> core, std::string path, UniqueFd fd, uint64_t size);

  // Writer thread (or the caller of Append once the writer has stopped): writes `data`, rotating
  // as needed. Updates the stats under mu.
  void WriteBatch(const std::string& data);
  bool Rotate(unsigned max_files, std::string* error);

  std::shared_ptr<Core> core_;
  const std::string path_;  // constant after construction
  // Writer thread only:
  UniqueFd fd_;
  uint64_t size_ = 0;
  bool mid_line_ = false;  // a failed write left a partial record at the end of the file
  // Guarded by core_->mu:
  std::string pending_;
  size_t in_flight_ = 0;  // bytes taken by the writer, not written yet
  bool dirty_ = false;    // listed in Core::dirty
  bool waiting_ = false;  // the loop waits for WhenWritable
  LogFileLimits limits_;
  LogWriteStats stats_;
  // io_context thread only:
  std::vector<std::function<void()>> writable_callbacks_;
};

class LogWriter {
 public:
  // Starts the writer thread. `io` must outlive this object.
  explicit LogWriter(boost::asio::io_context& io);
  // Writes everything queued, then joins the thread. Later Append calls write synchronously.
  ~LogWriter();
  LogWriter(const LogWriter&) = delete;
  LogWriter& operator=(const LogWriter&) = delete;

  // io_context thread. Opens (creates, 0640) `path` for appending.
  [[nodiscard]] Result<std::shared_ptr<LogSink>> Open(const std::string& path,
                                                      LogFileLimits limits);

  // io_context thread. Runs `job` on the writer thread once every record queued on `sinks`
  // before this call is in their files (and none queued after it), then posts the function it
  // returns to the io_context. For reading the files consistently.
  void RunAfterFlush(const std::vector<std::shared_ptr<LogSink>>& sinks,
                     std::function<std::function<void()>()> job);

  // io_context thread. Runs `fn` on the loop once every record queued so far on `sinks` is in
  // their files, or once `max_wait` passed if given (a hung disk must not hang an answer),
  // whichever comes first. `fn` never leaves the loop thread. Not run if the writer is
  // destroyed first.
  void WhenFlushed(const std::vector<std::shared_ptr<LogSink>>& sinks, std::function<void()> fn,
                   std::optional<std::chrono::milliseconds> max_wait = std::nullopt);

 private:
  boost::asio::io_context& io_;
  std::shared_ptr<LogSink::Core> core_;
  std::thread thread_;
  // io_context thread only: WhenFlushed's callbacks, by id.
  std::map<uint64_t, std::function<void()>> flush_waits_;
  uint64_t next_flush_wait_ = 1;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace supd
