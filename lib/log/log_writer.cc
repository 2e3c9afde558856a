#include "lib/log/log_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <cstring>

#include "lib/log/service_log.h"

namespace supd {
namespace asio = boost::asio;

struct LogSink::Core {
  explicit Core(asio::io_context& io) : io(io) {}
  asio::io_context& io;
  std::mutex mu;
  std::condition_variable cv;
  // Guarded by mu:
  struct Job {
    std::vector<std::pair<std::shared_ptr<LogSink>, std::string>> stolen;
    std::function<std::function<void()>()> fn;
  };
  std::deque<std::shared_ptr<LogSink>> dirty;  // sinks with pending data, oldest first
  std::deque<Job> jobs;
  bool stop = false;
  bool thread_gone = false;  // Append writes synchronously from then on

  // REQUIRES: mu held. Tells the loop that `s` takes records again.
  void MaybeResume(const std::shared_ptr<LogSink>& s) {
    if (!s->waiting_ || s->pending_.size() + s->in_flight_ >= kQueueLimit / 2) return;
    s->waiting_ = false;
    asio::post(io, [s] {
      auto cbs = std::move(s->writable_callbacks_);
      s->writable_callbacks_.clear();
      for (auto& cb : cbs) cb();
    });
  }

  void Run() {
    std::unique_lock lk(mu);
    for (;;) {
      cv.wait(lk, [&] { return stop || !jobs.empty() || !dirty.empty(); });
      if (!jobs.empty()) {
        Job job = std::move(jobs.front());
        jobs.pop_front();
        lk.unlock();
        for (auto& [s, data] : job.stolen) s->WriteBatch(data);
        std::function<void()> done = job.fn ? job.fn() : nullptr;
        if (done) asio::post(io, std::move(done));
        lk.lock();
        for (auto& [s, data] : job.stolen) {
          s->in_flight_ -= data.size();
          MaybeResume(s);
        }
        continue;
      }
      if (!dirty.empty()) {
        std::shared_ptr<LogSink> s = std::move(dirty.front());
        dirty.pop_front();
        s->dirty_ = false;
        std::string data;
        data.swap(s->pending_);
        s->in_flight_ += data.size();
        lk.unlock();
        s->WriteBatch(data);
        lk.lock();
        s->in_flight_ -= data.size();
        MaybeResume(s);
        continue;
      }
      if (stop) break;
    }
    thread_gone = true;
  }
};

LogSink::LogSink(std::shared_ptr<Core> core, std::string path, UniqueFd fd, uint64_t size)
    : core_(std::move(core)), path_(std::move(path)), fd_(std::move(fd)), size_(size) {}

LogSink::~LogSink() = default;

bool LogSink::Append(std::string_view records) {
  std::unique_lock lk(core_->mu);
  if (core_->thread_gone) {
    lk.unlock();
    WriteBatch(std::string(records));
    return true;
  }
  pending_.append(records);
  const bool under = pending_.size() + in_flight_ < kQueueLimit;
  if (!dirty_) {
    dirty_ = true;
    core_->dirty.push_back(shared_from_this());
    lk.unlock();
    core_->cv.notify_one();
  }
  return under;
}

void LogSink::WhenWritable(std::function<void()> cb) {
  std::unique_lock lk(core_->mu);
  if (core_->thread_gone || pending_.size() + in_flight_ < kQueueLimit) {
    lk.unlock();
    asio::post(core_->io, std::move(cb));
    return;
  }
  waiting_ = true;
  writable_callbacks_.push_back(std::move(cb));
}

void LogSink::SetLimits(LogFileLimits limits) {
  std::lock_guard lk(core_->mu);
  limits_ = limits;
}

LogWriteStats LogSink::stats() const {
  std::lock_guard lk(core_->mu);
  return stats_;
}

std::vector<std::string> LogSink::Files() const {
  std::vector<std::string> out;
  struct stat st;
  if (::stat(path_.c_str(), &st) == 0) out.push_back(path_);
  // Rotated files are numbered without gaps; stop at the first missing one.
  for (int i = 1; i < 1000; ++i) {
    std::string p = path_ + "." + std::to_string(i);
    if (::stat(p.c_str(), &st) != 0) break;
    out.push_back(std::move(p));
  }
  return out;
}

namespace {
size_t CountLines(std::string_view s) { return static_cast<size_t>(std::count(s.begin(), s.end(), '\n')); }
}  // namespace

void LogSink::WriteBatch(const std::string& data) {
  LogFileLimits limits;
  {
    std::lock_guard lk(core_->mu);
    limits = limits_;
  }
  if (limits.max_files == 0) limits.max_files = 1;
  if (limits.max_bytes == 0) limits.max_bytes = 1;
  std::string_view rest = data;
  std::string error;
  size_t dropped = 0;
  uint64_t rotations = 0;
  auto write_all = [&](std::string_view chunk) -> bool {
    size_t off = 0;
    while (off < chunk.size()) {
      const ssize_t n = ::write(fd_.get(), chunk.data() + off, chunk.size() - off);
      if (n < 0) {
        if (errno == EINTR) continue;
        error = "write " + path_ + ": " + std::strerror(errno);
        size_ += off;
        // A record cut short: the next successful write starts on a new line.
        if (off > 0 && chunk[off - 1] != '\n') mid_line_ = true;
        return false;
      }
      off += static_cast<size_t>(n);
    }
    size_ += chunk.size();
    return true;
  };
  if (mid_line_ && !rest.empty()) {
    if (write_all("\n")) {
      mid_line_ = false;
    } else {
      dropped = CountLines(rest);
      rest = {};
    }
  }
  while (!rest.empty()) {
    std::string_view chunk = rest;
    if (size_ + rest.size() > limits.max_bytes) {
      const uint64_t room = limits.max_bytes > size_ ? limits.max_bytes - size_ : 0;
      size_t cut = room > 0 ? rest.substr(0, room).rfind('\n') : std::string_view::npos;
      if (cut == std::string_view::npos && size_ > 0) {
        // Not even the next record fits: start a new file.
        if (Rotate(limits.max_files, &error)) {
          ++rotations;
          continue;
        }
        cut = rest.size() - 1;  // rotation failed: keep writing to the current file
      } else if (cut == std::string_view::npos) {
        // An empty file and one record longer than the limit: it goes in whole.
        cut = rest.find('\n');
        if (cut == std::string_view::npos) cut = rest.size() - 1;
      }
      chunk = rest.substr(0, cut + 1);
    }
    if (!write_all(chunk)) {
      // The rest of this batch is dropped (counted); the next batch tries again.
      dropped += CountLines(rest);
      break;
    }
    rest.remove_prefix(chunk.size());
  }
  std::lock_guard lk(core_->mu);
  stats_.rotations += rotations;
  if (!error.empty()) {
    stats_.last_error = error;
    stats_.last_error_at = RealtimeUsec();
    stats_.failing = dropped > 0;
    stats_.dropped_lines += dropped;
  } else if (!data.empty()) {
    stats_.failing = false;
  }
}

bool LogSink::Rotate(unsigned max_files, std::string* error) {
  if (max_files <= 1) {
    if (::ftruncate(fd_.get(), 0) < 0) {
      *error = "truncate " + path_ + " for rotation: " + std::strerror(errno);
      return false;
    }
    size_ = 0;
    return true;
  }
  auto name = [&](unsigned i) { return path_ + "." + std::to_string(i); };
  // The oldest kept file goes, and so do any beyond it (LogMaxFiles= was lowered).
  for (unsigned i = max_files - 1; i < max_files + 1000; ++i) {
    if (::unlink(name(i).c_str()) < 0 && errno == ENOENT && i > max_files - 1) break;
  }
  for (unsigned i = max_files - 2; i >= 1; --i) {
    if (::rename(name(i).c_str(), name(i + 1).c_str()) < 0 && errno != ENOENT) {
      *error = "rename " + name(i) + " to " + name(i + 1) + ": " + std::strerror(errno);
      return false;
    }
  }
  const int fd = ::open((path_ + ".new").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC,
                        0640);
  if (fd < 0) {
    *error = "create " + path_ + ".new for rotation: " + std::strerror(errno);
    return false;
  }
  UniqueFd fresh(fd);
  if (::rename(path_.c_str(), name(1).c_str()) < 0) {
    *error = "rename " + path_ + " to " + name(1) + ": " + std::strerror(errno);
    ::unlink((path_ + ".new").c_str());
    return false;
  }
  if (::rename((path_ + ".new").c_str(), path_.c_str()) < 0) {
    // The old file is already .1: keep writing to the new one under its temporary name is
    // worse than under the old one; put the old one back.
    *error = "rename " + path_ + ".new to " + path_ + ": " + std::strerror(errno);
    (void)::rename(name(1).c_str(), path_.c_str());  // best effort; the error is reported
    return false;
  }
  fd_ = std::move(fresh);
  size_ = 0;
  return true;
}

LogWriter::LogWriter(asio::io_context& io)
    : io_(io), core_(std::make_shared<LogSink::Core>(io)) {
  // The one extra thread of supd: it only writes files (see the header).
  thread_ = std::thread([core = core_] { core->Run(); });
}

LogWriter::~LogWriter() {
  *alive_ = false;
  {
    std::lock_guard lk(core_->mu);
    core_->stop = true;
  }
  core_->cv.notify_one();
  thread_.join();
}

Result<std::shared_ptr<LogSink>> LogWriter::Open(const std::string& path, LogFileLimits limits) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0) return ErrnoError("open log file " + path);
  UniqueFd owned(fd);
  struct stat st;
  if (::fstat(fd, &st) < 0) return ErrnoError("stat log file " + path);
  std::shared_ptr<LogSink> sink(
      new LogSink(core_, path, std::move(owned), static_cast<uint64_t>(st.st_size)));
  sink->limits_ = limits;
  return sink;
}

void LogWriter::RunAfterFlush(const std::vector<std::shared_ptr<LogSink>>& sinks,
                              std::function<std::function<void()>()> job) {
  LogSink::Core::Job j;
  j.fn = std::move(job);
  {
    std::lock_guard lk(core_->mu);
    for (const auto& s : sinks) {
      std::string data;
      data.swap(s->pending_);
      s->in_flight_ += data.size();
      j.stolen.emplace_back(s, std::move(data));
    }
    core_->jobs.push_back(std::move(j));
  }
  core_->cv.notify_one();
}

void LogWriter::WhenFlushed(const std::vector<std::shared_ptr<LogSink>>& sinks,
                            std::function<void()> fn,
                            std::optional<std::chrono::milliseconds> max_wait) {
  if (sinks.empty()) {
    fn();
    return;
  }
  const uint64_t id = next_flush_wait_++;
  flush_waits_.emplace(id, std::move(fn));
  // Whichever of the flush and the timeout comes first runs it; the other finds it gone.
  auto run = [this, id, alive = alive_] {
    if (!*alive) return;
    auto it = flush_waits_.find(id);
    if (it == flush_waits_.end()) return;
    auto f = std::move(it->second);
    flush_waits_.erase(it);
    f();
  };
  if (max_wait) {
    auto timer = std::make_shared<asio::steady_timer>(io_, *max_wait);
    timer->async_wait([run, timer](const boost::system::error_code& ec) {
      if (!ec) run();
    });
  }
  RunAfterFlush(sinks, [run]() -> std::function<void()> { return run; });
}

}  // namespace supd
