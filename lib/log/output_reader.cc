#include "lib/log/output_reader.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

namespace supd {
namespace asio = boost::asio;
namespace {

// One buffer for every reader: reads happen one at a time on the io_context thread, so a
// reader waits for readability and then reads into this, instead of owning a buffer of its own
// for the whole life of the pipe (that was 32 KiB per running process).
std::array<char, 65536> g_read_buf;
size_t g_live_readers = 0;  // touched only on the io_context thread
constexpr int kPipeSize = 256 * 1024;

class Reader : public OutputReader, public std::enable_shared_from_this<Reader> {
 public:
  Reader(asio::io_context& io, int fd, std::shared_ptr<ServiceLog> log, pid_t pid,
         std::string stream)
      : sd_(io, fd), fd_(fd), log_(std::move(log)), pid_(pid), stream_(std::move(stream)) {
    boost::system::error_code ignored;
    sd_.non_blocking(true, ignored);
    ++g_live_readers;
  }
  ~Reader() override { --g_live_readers; }

  void Wait() {
    if (eof_ || exec_paused_) return;
    sd_.async_wait(asio::posix::stream_descriptor::wait_read,
                   [self = shared_from_this()](const boost::system::error_code& ec) {
                     // Cancelled (supd is shutting down), or paused for an exec after the wait
                     // completed: Resume() waits again.
                     if (ec || self->exec_paused_) return;
                     // At most one pipe's worth per turn: a service that refills its pipe as
                     // fast as supd reads it would otherwise hold the loop for longer (16
                     // reads made every other client wait ~1 s per answer under ASan).
                     self->Drain(kPipeSize / static_cast<int>(g_read_buf.size()));
                   });
  }

  void DrainNow() override {
    if (eof_) return;
    Drain(32, /*rearm=*/false);  // 32 × 64 KiB: more than any pipe buffer
    if (!pending_.empty()) Emit(pending_);
    pending_.clear();
    if (!log_->Flush()) congested_ = true;
  }

  std::vector<std::string> Excerpt() const override {
    return std::vector<std::string>(excerpt_.begin(), excerpt_.end());
  }

  void Pause() override {
    exec_paused_ = true;
    boost::system::error_code ignored;
    sd_.cancel(ignored);  // the wait's handler sees operation_aborted and reads nothing
  }

  void Resume() override {
    if (!exec_paused_) return;  // never paused: its wait is still there
    exec_paused_ = false;
    if (!paused_) Wait();  // a reader held by back-pressure resumes when the log is writable
  }

  Exported Export() const override {
    return Exported{eof_ ? -1 : fd_, stream_, pending_, Excerpt()};
  }

  // Adopt(): where the previous supd's reader stopped.
  void Continue(const Exported& from) {
    pending_ = from.pending;
    for (const auto& line : from.excerpt) excerpt_.push_back(line);
    while (excerpt_.size() > kExcerptLines) excerpt_.pop_front();
  }

 private:
  // Reads what is there now (bounded, so one chatty service cannot starve the loop).
  void Drain(int rounds, bool rearm = true) {
    for (int round = 0; round < rounds; ++round) {
      const ssize_t n = ::read(sd_.native_handle(), g_read_buf.data(), g_read_buf.size());
      if (n > 0) {
        Consume(std::string_view(g_read_buf.data(), static_cast<size_t>(n)));
        if (!log_->Flush()) congested_ = true;
        if (congested_ && rearm) break;
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      // EOF (or a read error, which ends the stream the same way): flush the partial line.
      if (!pending_.empty()) Emit(pending_);
      pending_.clear();
      log_->Flush();
      eof_ = true;
      boost::system::error_code ignored;
      sd_.close(ignored);
      return;
    }
    if (!rearm) return;
    if (congested_) {
      if (!paused_) {
        paused_ = true;
        log_->WhenWritable([self = shared_from_this()] {
          self->paused_ = false;
          self->congested_ = false;
          self->Wait();
        });
      }
      return;
    }
    Wait();
  }

  void Consume(std::string_view data) {
    size_t start = 0;
    for (;;) {
      const size_t nl = data.find('\n', start);
      if (nl == std::string_view::npos) break;
      if (pending_.empty()) {
        Emit(data.substr(start, nl - start));
      } else {
        pending_.append(data.substr(start, nl - start));
        Emit(pending_);
        pending_.clear();
      }
      start = nl + 1;
    }
    pending_.append(data.substr(start));
    while (pending_.size() > kMaxLine) {
      const size_t cut = LineCut(pending_, kMaxLine);
      Record(std::string_view(pending_).substr(0, cut), true);
      pending_.erase(0, cut);
    }
    if (pending_.capacity() > 4096 && pending_.size() < 1024) pending_.shrink_to_fit();
  }

  void Emit(std::string_view line) {
    while (line.size() > kMaxLine) {
      const size_t cut = LineCut(line, kMaxLine);
      Record(line.substr(0, cut), true);
      line.remove_prefix(cut);
    }
    Record(line, false);
  }

  void Record(std::string_view text, bool continued) {
    log_->Write(pid_, stream_, text, continued);
    if (stream_ != "err") return;
    // The crash excerpt keeps whole lines short: a 48K record is not what one reads first.
    constexpr size_t kExcerptLineMax = 1024;
    std::string e = EscapeLogText(text.substr(0, std::min(text.size(), kExcerptLineMax)));
    if (text.size() > kExcerptLineMax || continued) e += "…";
    excerpt_.push_back(std::move(e));
    if (excerpt_.size() > kExcerptLines) excerpt_.pop_front();
  }

  asio::posix::stream_descriptor sd_;  // owns the read end
  const int fd_;                       // sd_'s, for Export()
  std::shared_ptr<ServiceLog> log_;
  pid_t pid_;
  std::string stream_;
  std::string pending_;  // a line without its newline yet
  bool eof_ = false;
  bool congested_ = false;  // the log's queue is over its limit: stop reading
  bool paused_ = false;     // waiting for WhenWritable
  bool exec_paused_ = false;  // Pause(): supd is about to exec itself
  std::deque<std::string> excerpt_;  // stderr only
};

}  // namespace

size_t LiveOutputReaders() { return g_live_readers; }

size_t LineCut(std::string_view pending, size_t max) {
  if (pending.size() <= max) return pending.size();
  // Back off over continuation bytes (10xxxxxx) to the start of the character at `max`.
  size_t cut = max;
  for (int i = 0; i < 3 && cut > 0; ++i) {
    const unsigned char c = static_cast<unsigned char>(pending[cut]);
    if ((c & 0xc0) != 0x80) break;
    --cut;
  }
  const unsigned char c = static_cast<unsigned char>(pending[cut]);
  if ((c & 0xc0) == 0x80 || cut == 0) return max;  // not UTF-8 anyway
  return cut;
}

std::shared_ptr<OutputReader> OutputReader::Start(asio::io_context& io, UniqueFd read_end,
                                                  std::shared_ptr<ServiceLog> log, pid_t pid,
                                                  std::string stream) {
  // A bigger pipe than the default 64 KiB: fewer wake-ups of supd (and of a busy writer) per
  // byte when many services write at once; 256 KiB is within any pipe-max-size. A failure
  // (an unprivileged supd over its pipe-user-pages quota) just keeps the default.
  (void)::fcntl(read_end.get(), F_SETPIPE_SZ, kPipeSize);
  auto r = std::make_shared<Reader>(io, read_end.release(), std::move(log), pid, std::move(stream));
  r->Wait();
  return r;
}

std::shared_ptr<OutputReader> OutputReader::Adopt(asio::io_context& io, UniqueFd read_end,
                                                  std::shared_ptr<ServiceLog> log, pid_t pid,
                                                  const Exported& from) {
  auto r = std::make_shared<Reader>(io, read_end.release(), std::move(log), pid, from.stream);
  r->Continue(from);
  r->Wait();
  return r;
}

}  // namespace supd
