#include "lib/log/output_reader.h"

#include <errno.h>
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

class Reader : public std::enable_shared_from_this<Reader> {
 public:
  Reader(asio::io_context& io, int fd, std::shared_ptr<ServiceLog> log, pid_t pid,
         std::string stream)
      : sd_(io, fd), log_(std::move(log)), pid_(pid), stream_(std::move(stream)) {
    boost::system::error_code ignored;
    sd_.non_blocking(true, ignored);
    ++g_live_readers;
  }
  ~Reader() { --g_live_readers; }

  void Wait() {
    sd_.async_wait(asio::posix::stream_descriptor::wait_read,
                   [self = shared_from_this()](const boost::system::error_code& ec) {
                     if (ec) return;  // cancelled: supd is shutting down
                     self->Drain();
                   });
  }

 private:
  // Reads what is there now (bounded, so one chatty service cannot starve the loop).
  void Drain() {
    for (int round = 0; round < 16; ++round) {
      const ssize_t n = ::read(sd_.native_handle(), g_read_buf.data(), g_read_buf.size());
      if (n > 0) {
        Consume(std::string_view(g_read_buf.data(), static_cast<size_t>(n)));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      // EOF (or a read error, which ends the stream the same way): flush the partial line.
      if (!pending_.empty()) Emit(pending_);
      pending_.clear();
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
    while (pending_.size() >= kMaxLine) {
      Emit(std::string_view(pending_).substr(0, kMaxLine));
      pending_.erase(0, kMaxLine);
    }
    if (pending_.capacity() > 4096 && pending_.size() < 1024) pending_.shrink_to_fit();
  }

  void Emit(std::string_view line) {
    while (line.size() > kMaxLine) {
      log_->Write(pid_, stream_, line.substr(0, kMaxLine));
      line.remove_prefix(kMaxLine);
    }
    log_->Write(pid_, stream_, line);
  }

  asio::posix::stream_descriptor sd_;  // owns the read end
  std::shared_ptr<ServiceLog> log_;
  pid_t pid_;
  std::string stream_;
  std::string pending_;  // a line without its newline yet
};

}  // namespace

size_t LiveOutputReaders() { return g_live_readers; }

void StartOutputReader(asio::io_context& io, UniqueFd read_end, std::shared_ptr<ServiceLog> log,
                       pid_t pid, std::string stream) {
  auto r = std::make_shared<Reader>(io, read_end.release(), std::move(log), pid, std::move(stream));
  r->Wait();
}

}  // namespace supd
