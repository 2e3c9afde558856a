// TextfileWriter: `supd --metrics-textfile DIR`, the exposition as a file for node_exporter's
// textfile collector (--collector.textfile.directory=DIR), rewritten every interval without
// cron.
//
// What it promises:
//   - DIR/supd.prom always holds one complete exposition: each write goes to
//     DIR/.supd.prom.tmp.<supd's pid> (a name the collector skips: it reads *.prom only), is
//     fsynced, then renamed over supd.prom. A failed write removes its temporary file and
//     leaves the previous supd.prom as it was.
//   - The first write happens as soon as the io_context runs, then one every `interval`.
//   - The render function runs on the loop; the file I/O runs on the BlockingWork worker, so a
//     slow or hung disk never blocks the loop. At most one write is in flight: a tick that
//     finds the previous write still running is skipped (counted in skipped_ticks(), logged at
//     debug).
//   - A failing write is logged (error) when it starts failing (and again if the error
//     changes), and once (info) when writes succeed again; not at every tick.
//   - The file is created mode 0644 (less the umask): node_exporter usually runs as its own user.
//
// What it leaves to the caller: the text (render must return Prometheus text format 0.0.4,
// which is what the collector parses; not OpenMetrics).
//
// Threading: Start and the destructor on the io_context thread (or before it runs). The
// destructor stops the timer at once; a write already on the worker finishes there (the file
// stays complete), and its result is dropped.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "lib/base/result.h"

namespace boost::asio {
class io_context;
}

namespace supd {
class BlockingWork;  // lib/supervise/host.h
}

namespace supd::metrics {

class TextfileWriter {
 public:
  // The exposition in Prometheus text format; called on the loop. An exception it throws skips
  // that tick (logged), never crashes.
  using RenderTextFn = std::function<std::string()>;

  // Checks DIR and starts the timer. `dir` may be relative (made absolute now).
  // Errors (verbatim; D is `dir` as given):
  //   "--metrics-textfile D: stat: <strerror>"            (e.g. No such file or directory)
  //   "--metrics-textfile D: not a directory"
  //   "--metrics-textfile D: not writable: <strerror>"    (access W_OK|X_OK)
  //   "--metrics-textfile-interval: must be at least 1 s (got N ms)"
  [[nodiscard]] static Result<std::unique_ptr<TextfileWriter>> Start(
      boost::asio::io_context& io, std::shared_ptr<BlockingWork> worker, const std::string& dir,
      std::chrono::milliseconds interval, RenderTextFn render);

  ~TextfileWriter();
  TextfileWriter(const TextfileWriter&) = delete;
  TextfileWriter& operator=(const TextfileWriter&) = delete;

  // DIR/supd.prom, absolute.
  const std::string& path() const;
  // Writes that completed (renamed into place) so far.
  uint64_t writes() const;
  // Ticks skipped because the previous write was still running.
  uint64_t skipped_ticks() const;
  // Why the last write failed, e.g. "open /var/lib/node_exporter/.supd.prom.tmp.42: Permission
  // denied" or "rename /d/.supd.prom.tmp.42 to /d/supd.prom: Is a directory"; "" once a write
  // succeeds.
  const std::string& last_error() const;

  struct State;  // shared with the timer's and the worker's continuations (weakly)

 private:
  explicit TextfileWriter(std::shared_ptr<State> state);
  std::shared_ptr<State> state_;
};

}  // namespace supd::metrics
