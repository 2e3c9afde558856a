// OutputReader: reads one process's stdout or stderr pipe on the io_context and writes each
// line to the service's ServiceLog.
//
// Line framing: a line longer than kMaxLine bytes (systemd's LineMax= default) is split into
// records of at most kMaxLine bytes (cut at a UTF-8 character boundary), all but the last marked
// "continued"; nothing is dropped. A last line without newline is written at EOF, or when the
// process exits (DrainNow).
//
// Back-pressure: when the ServiceLog's writer queue is full, the reader stops reading until the
// writer has caught up; the service then blocks in write(2) on a full pipe.
//
// It keeps itself alive until EOF (a daemonized grandchild may hold the pipe longer than the
// service runs) and keeps the ServiceLog alive with it. For stderr it remembers the last
// kExcerptLines lines: the crash excerpt of the instance.
#pragma once

#include <sys/types.h>

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "lib/base/unique_fd.h"
#include "lib/log/service_log.h"

namespace boost::asio {
class io_context;
}

namespace supd {

inline constexpr size_t kMaxLine = 48 * 1024;  // systemd's LineMax= default
inline constexpr size_t kExcerptLines = 40;

// Where an OutputReader stopped (daemon-reexec): see OutputReader::Export().
struct OutputReaderExport {
  int fd = -1;
  std::string stream;                // "out" or "err"
  std::string pending;               // bytes of a line not complete yet
  std::vector<std::string> excerpt;
};

class OutputReader {
 public:
  virtual ~OutputReader() = default;
  // Starts reading `read_end` (ownership taken) until EOF.
  static std::shared_ptr<OutputReader> Start(boost::asio::io_context& io, UniqueFd read_end,
                                             std::shared_ptr<ServiceLog> log, pid_t pid,
                                             std::string stream);
  // The process exited: reads what its pipe holds now, without waiting (and even when paused
  // by back-pressure: a pipe holds at most 1 MiB), and writes a partial last line, so that the
  // exit is recorded after its last words.
  virtual void DrainNow() = 0;
  // The last lines read (escaped, each at most 1 KiB), oldest first.
  virtual std::vector<std::string> Excerpt() const = 0;

  // daemon-reexec. Pause() stops reading (what the process writes meanwhile stays in the pipe)
  // until Resume(); Export() then says where the next supd goes on: the read end (still owned
  // by this reader, -1 after EOF), the bytes of a line not complete yet, the excerpt.
  using Exported = OutputReaderExport;
  virtual void Pause() = 0;
  virtual void Resume() = 0;
  virtual Exported Export() const = 0;
  // Goes on reading a pipe that a previous supd read, from where Export() left it.
  static std::shared_ptr<OutputReader> Adopt(boost::asio::io_context& io, UniqueFd read_end,
                                             std::shared_ptr<ServiceLog> log, pid_t pid,
                                             const Exported& from);
};

// Readers that have not reached EOF yet (supd's shutdown waits for them, briefly, so that a
// service's last lines reach its log).
size_t LiveOutputReaders();

// Where to cut `pending` (size > max) so that no UTF-8 sequence is split: max, or up to 3 bytes
// less.
size_t LineCut(std::string_view pending, size_t max);

}  // namespace supd
