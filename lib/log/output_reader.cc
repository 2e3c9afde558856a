#include "lib/log/output_reader.h"

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

namespace supd {
namespace asio = boost::asio;
namespace {

class Reader : public std::enable_shared_from_this<Reader> {
 public:
  Reader(asio::io_context& io, int fd, std::shared_ptr<ServiceLog> log, pid_t pid,
         std::string stream)
      : sd_(io, fd), log_(std::move(log)), pid_(pid), stream_(std::move(stream)) {}

  void Read() {
    sd_.async_read_some(asio::buffer(buf_),
                        [self = shared_from_this()](const boost::system::error_code& ec, size_t n) {
                          self->OnRead(ec, n);
                        });
  }

 private:
  void OnRead(const boost::system::error_code& ec, size_t n) {
    pending_.append(buf_.data(), n);
    size_t start = 0;
    for (;;) {
      const size_t nl = pending_.find('\n', start);
      if (nl == std::string::npos) break;
      Emit(std::string_view(pending_).substr(start, nl - start));
      start = nl + 1;
    }
    pending_.erase(0, start);
    while (pending_.size() >= kMaxLine) {
      Emit(std::string_view(pending_).substr(0, kMaxLine));
      pending_.erase(0, kMaxLine);
    }
    if (ec) {  // EOF or error: flush the partial last line and stop
      if (!pending_.empty()) Emit(pending_);
      return;
    }
    Read();
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
  std::array<char, 16384> buf_;
  std::string pending_;
};

}  // namespace

void StartOutputReader(asio::io_context& io, UniqueFd read_end, std::shared_ptr<ServiceLog> log,
                       pid_t pid, std::string stream) {
  auto r = std::make_shared<Reader>(io, read_end.release(), std::move(log), pid, std::move(stream));
  r->Read();
}

}  // namespace supd
