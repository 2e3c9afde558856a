#include "lib/metrics/textfile.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <exception>
#include <filesystem>
#include <system_error>
#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>

#include "lib/base/unique_fd.h"
#include "lib/supervise/host.h"

namespace supd::metrics {

namespace asio = boost::asio;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;

struct TextfileWriter::State {
  State(asio::io_context& io, std::shared_ptr<BlockingWork> worker, std::string path,
        std::string tmp, std::chrono::milliseconds interval, RenderTextFn render)
      : worker(std::move(worker)),
        path(std::move(path)),
        tmp(std::move(tmp)),
        interval(interval),
        render(std::move(render)),
        timer(io) {}

  // Constant after construction.
  const std::shared_ptr<BlockingWork> worker;
  const std::string path;  // DIR/supd.prom
  const std::string tmp;   // DIR/.supd.prom.tmp.<pid>
  const std::chrono::milliseconds interval;
  const RenderTextFn render;

  // Touched only on the io_context thread.
  asio::steady_timer timer;
  bool writing = false;  // a write is on the worker
  uint64_t writes = 0;
  uint64_t skipped = 0;
  std::string last_error;  // "" while writes succeed
};

namespace {

using State = TextfileWriter::State;

// Runs on the worker: touches only its arguments. The temporary file is removed on failure so
// that a full disk does not also leave litter.
Result<void> WriteAtomically(const std::string& tmp, const std::string& path,
                             const std::string& text) {
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644));
  if (!fd) return ErrnoError("open " + tmp);
  auto fail = [&](const std::string& what) {
    const int err = errno;
    fd.reset();
    ::unlink(tmp.c_str());  // best effort: the error to report is `what`'s
    return ErrnoError(what, err);
  };
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd.get(), text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail("write " + tmp);
    }
    done += static_cast<size_t>(n);
  }
  // The rename must not publish a file whose data is not on disk yet: after a crash, an empty
  // supd.prom would read as "supd exports nothing". The directory is not fsynced: losing the
  // rename in a crash leaves the previous, complete file, which is fine for metrics.
  if (::fsync(fd.get()) < 0) return fail("fsync " + tmp);
  fd.reset();
  if (::rename(tmp.c_str(), path.c_str()) < 0) return fail("rename " + tmp + " to " + path);
  return Ok();
}

void Finished(State& s, const Result<void>& result) {
  s.writing = false;
  if (result.ok()) {
    ++s.writes;
    if (!s.last_error.empty()) {
      spdlog::info("metrics textfile {}: written again", s.path);
      s.last_error.clear();
    }
    return;
  }
  const std::string& message = result.error().message;
  if (message != s.last_error) {
    spdlog::error("metrics textfile {}: {} (retrying every {} s; logged again when it changes)",
                  s.path, message,
                  std::chrono::duration_cast<std::chrono::seconds>(s.interval).count());
  }
  s.last_error = message;
}

void WriteNow(const std::shared_ptr<State>& s) {
  if (s->writing) {
    ++s->skipped;
    spdlog::debug("metrics textfile {}: the previous write is still running; skipping a tick",
                  s->path);
    return;
  }
  std::string text;
  try {
    text = s->render();
  } catch (const std::exception& e) {
    // A bug in the exposition: this tick writes nothing, the file keeps the last good text.
    spdlog::error("metrics textfile {}: rendering the metrics failed: {}", s->path, e.what());
    return;
  }
  s->writing = true;
  s->worker->Run(
      [tmp = s->tmp, path = s->path, text = std::move(text), weak = std::weak_ptr<State>(s)]() {
        Result<void> result = WriteAtomically(tmp, path, text);
        return std::function<void()>([weak, result = std::move(result)] {
          if (auto s = weak.lock()) Finished(*s, result);
        });
      });
}

void Arm(const std::shared_ptr<State>& s, Clock::time_point at) {
  s->timer.expires_at(at);
  s->timer.async_wait([weak = std::weak_ptr<State>(s)](const error_code& ec) {
    auto s = weak.lock();
    if (ec || !s) return;
    WriteNow(s);
    // On the interval's grid; after a stall (a suspended host), from now rather than a burst.
    Clock::time_point next = s->timer.expiry() + s->interval;
    if (next <= Clock::now()) next = Clock::now() + s->interval;
    Arm(s, next);
  });
}

}  // namespace

TextfileWriter::TextfileWriter(std::shared_ptr<State> state) : state_(std::move(state)) {}

TextfileWriter::~TextfileWriter() { state_->timer.cancel(); }

Result<std::unique_ptr<TextfileWriter>> TextfileWriter::Start(asio::io_context& io,
                                                              std::shared_ptr<BlockingWork> worker,
                                                              const std::string& dir,
                                                              std::chrono::milliseconds interval,
                                                              RenderTextFn render) {
  if (interval < std::chrono::seconds(1))
    return Error{"--metrics-textfile-interval: must be at least 1 s (got " +
                 std::to_string(interval.count()) + " ms)"};
  const std::string where = "--metrics-textfile " + dir;
  struct stat st {};
  if (::stat(dir.c_str(), &st) < 0) return ErrnoError(where + ": stat");
  if (!S_ISDIR(st.st_mode)) return Error{where + ": not a directory"};
  if (::access(dir.c_str(), W_OK | X_OK) < 0) return ErrnoError(where + ": not writable");
  std::error_code ec;
  std::filesystem::path abs = std::filesystem::absolute(dir, ec);
  if (ec) return ErrnoError(where + ": absolute path", ec.value());
  abs = abs.lexically_normal();
  const std::string path = (abs / "supd.prom").string();
  const std::string tmp = (abs / (".supd.prom.tmp." + std::to_string(::getpid()))).string();

  auto state =
      std::make_shared<State>(io, std::move(worker), path, tmp, interval, std::move(render));
  // The first write as soon as the loop runs, so that the caller finishes setting up first.
  Arm(state, Clock::now());
  return std::unique_ptr<TextfileWriter>(new TextfileWriter(std::move(state)));
}

const std::string& TextfileWriter::path() const { return state_->path; }
uint64_t TextfileWriter::writes() const { return state_->writes; }
uint64_t TextfileWriter::skipped_ticks() const { return state_->skipped; }
const std::string& TextfileWriter::last_error() const { return state_->last_error; }

}  // namespace supd::metrics
