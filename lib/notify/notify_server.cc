#include "lib/notify/notify_server.h"

#include <spdlog/spdlog.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/datagram_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <optional>

namespace supd {
namespace asio = boost::asio;
using datagram_protocol = asio::local::datagram_protocol;

struct NotifyServer::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::io_context& io, std::string path, Handler handler)
      : path(std::move(path)), handler(std::move(handler)), sock(io), retry(io) {}

  void Wait() {
    sock.async_wait(datagram_protocol::socket::wait_read,
                    [weak = weak_from_this()](const boost::system::error_code& ec) {
                      auto self = weak.lock();
                      if (!self || ec == asio::error::operation_aborted) return;
                      if (ec) {
                        self->LogDebug("wait: " + ec.message());
                        self->RetryLater();
                        return;
                      }
                      self->ReadSome();
                    });
  }

  // After an unexpected error: try again in a while instead of spinning on it.
  void RetryLater() {
    retry.expires_after(std::chrono::milliseconds(100));
    retry.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
      auto self = weak.lock();
      if (self && !ec) self->Wait();
    });
  }

  void ReadSome() {
    for (int i = 0; i < kMaxDatagramsPerWakeup; ++i) {
      const int err = ReadOne();
      if (err == 0) continue;
      if (err == EAGAIN || err == EWOULDBLOCK) break;
      LogDebug(std::string("recvmsg: ") + std::strerror(err));
      RetryLater();
      return;
    }
    // Either drained (the wait completes when more arrives) or the round is used up (the wait
    // completes at once, after the other handlers queued meanwhile had their turn).
    Wait();
  }

  // Reads what is queued now, without touching the pending wait.
  void Drain() {
    for (int i = 0; i < kMaxDatagramsPerWakeup; ++i)
      if (ReadOne() != 0) break;
  }

  // One datagram: 0 when one was read (handled or dropped), else the errno of recvmsg.
  int ReadOne() {
    char buf[kMaxDatagramBytes];
    iovec iov{buf, sizeof(buf)};
    // Room for the credentials and kMaxFds fds; a datagram with more fds gets MSG_CTRUNC, and
    // the kernel closes those that did not fit.
    union {
      cmsghdr align;
      char bytes[CMSG_SPACE(sizeof(ucred)) + CMSG_SPACE(sizeof(int) * kMaxFds)];
    } control;
    std::memset(&control, 0, sizeof(control));
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.bytes;
    msg.msg_controllen = sizeof(control.bytes);

    ssize_t n;
    do {
      n = ::recvmsg(sock.native_handle(), &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC | MSG_TRUNC);
    } while (n < 0 && errno == EINTR);
    if (n < 0) return errno;
    ++received;

    // Take ownership of every fd first, so that each early return below closes them.
    std::vector<UniqueFd> fds;
    std::optional<NotifyCredentials> cred;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != SOL_SOCKET) continue;
      if (c->cmsg_type == SCM_RIGHTS) {
        const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        const unsigned char* data = CMSG_DATA(c);
        for (size_t k = 0; k < count; ++k) {
          int fd;
          std::memcpy(&fd, data + k * sizeof(int), sizeof(int));
          fds.emplace_back(fd);
        }
      } else if (c->cmsg_type == SCM_CREDENTIALS && c->cmsg_len >= CMSG_LEN(sizeof(ucred))) {
        ucred u;
        std::memcpy(&u, CMSG_DATA(c), sizeof(u));
        cred = NotifyCredentials{u.pid, u.uid, u.gid};
      }
    }

    if (msg.msg_flags & MSG_TRUNC) {
      return Drop(cred, "datagram of " + std::to_string(n) + " bytes, over " +
                            std::to_string(kMaxDatagramBytes));
    }
    if (msg.msg_flags & MSG_CTRUNC) {
      return Drop(cred,
                  "more than " + std::to_string(kMaxFds) + " fds (or truncated control data)");
    }
    // The kernel always adds credentials with SO_PASSCRED; pid 0 means the sender is in a pid
    // namespace that supd cannot see into, so it cannot be told apart from any other process.
    if (!cred || cred->pid <= 0) return Drop(cred, "no sender credentials");
    auto parsed = ParseNotifyMessage(std::string_view(buf, static_cast<size_t>(n)));
    if (!parsed.ok()) return Drop(cred, parsed.error().message);
    if (!parsed->ignored.empty() && spdlog::should_log(spdlog::level::debug)) {
      std::string list;
      for (const std::string& s : parsed->ignored) list += (list.empty() ? "" : ", ") + s;
      LogDebug("from pid " + std::to_string(cred->pid) + ": ignored " + list);
    }
    try {
      handler(*parsed, *cred, std::move(fds));
    } catch (const std::exception& e) {
      // A bug in the handler; no notify datagram may take supd down.
      spdlog::error("notify socket {}: handler failed on a datagram from pid {}: {}", path,
                    cred->pid, e.what());
    }
    return 0;
  }

  int Drop(const std::optional<NotifyCredentials>& cred, const std::string& why) {
    ++dropped;
    LogDebug("dropped datagram from " +
             (cred ? "pid " + std::to_string(cred->pid) + " uid " + std::to_string(cred->uid)
                   : std::string("unknown sender")) +
             ": " + why);
    return 0;
  }

  // At most one line per second, whatever a client sends; the lines in between are counted.
  void LogDebug(const std::string& line) {
    if (!spdlog::should_log(spdlog::level::debug)) return;
    const auto now = std::chrono::steady_clock::now();
    if (last_log && now - *last_log < std::chrono::seconds(1)) {
      ++suppressed;
      return;
    }
    if (suppressed > 0) {
      spdlog::debug("notify socket {}: {} ({} similar lines suppressed)", path, line, suppressed);
    } else {
      spdlog::debug("notify socket {}: {}", path, line);
    }
    last_log = now;
    suppressed = 0;
  }

  // Constant after construction.
  const std::string path;
  const Handler handler;
  // Touched only on the io_context thread.
  datagram_protocol::socket sock;  // owns the fd; closed in the destructor
  asio::steady_timer retry;
  uint64_t received = 0;
  uint64_t dropped = 0;
  std::optional<std::chrono::steady_clock::time_point> last_log;  // nullopt: nothing logged yet
  uint64_t suppressed = 0;
};

NotifyServer::NotifyServer(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

NotifyServer::~NotifyServer() {
  boost::system::error_code ignored;  // closing cannot fail in a way we could act on
  impl_->retry.cancel();
  impl_->sock.close(ignored);
}

const std::string& NotifyServer::path() const { return impl_->path; }
uint64_t NotifyServer::received() const { return impl_->received; }
uint64_t NotifyServer::dropped() const { return impl_->dropped; }

Result<std::unique_ptr<NotifyServer>> NotifyServer::Bind(asio::io_context& io,
                                                         const std::string& path, Handler handler) {
  const std::string what = "bind notify socket " + path;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(addr.sun_path)) return ErrnoError(what, ENAMETOOLONG);
  const bool abstract = path[0] == '@';
  std::memcpy(addr.sun_path, path.data(), path.size());
  socklen_t addr_len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size());
  if (abstract) {
    addr.sun_path[0] = '\0';
  } else {
    addr_len += 1;  // the terminating NUL, as systemd and most clients count it
    // A leftover socket from a previous run is replaced; anything else is not ours to delete.
    struct stat st;
    if (::lstat(path.c_str(), &st) == 0) {
      if (!S_ISSOCK(st.st_mode)) return ErrnoError(what, EEXIST);
      if (::unlink(path.c_str()) < 0) return ErrnoError("remove stale notify socket " + path);
    } else if (errno != ENOENT) {
      return ErrnoError(what);
    }
  }

  UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) return ErrnoError("create notify socket");
  const int one = 1;
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) < 0)
    return ErrnoError("set SO_PASSCRED on notify socket " + path);
  // Room for bursts (systemd asks for 8 MiB too). The kernel caps it at net.core.rmem_max
  // without failing, and the default buffer still works, so an error is ignored.
  const int rcvbuf = 8 << 20;
  (void)::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));

  if (!abstract) {
    // umask-independent: create the file closed, then open it to everyone explicitly.
    const mode_t old = ::umask(0177);
    const int r = ::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), addr_len);
    const int err = errno;
    ::umask(old);
    if (r < 0) return ErrnoError(what, err);
    if (::chmod(path.c_str(), 0666) < 0) return ErrnoError("chmod 0666 " + path);
  } else if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), addr_len) < 0) {
    return ErrnoError(what);
  }

  auto impl = std::make_shared<Impl>(io, path, std::move(handler));
  boost::system::error_code ec;
  impl->sock.assign(datagram_protocol(), fd.get(), ec);
  if (ec) return Error{"notify socket " + path + ": " + ec.message(), ec.value()};
  (void)fd.release();  // the Asio socket owns it now
  impl->Wait();
  return std::unique_ptr<NotifyServer>(new NotifyServer(std::move(impl)));
}

Result<std::unique_ptr<NotifyServer>> NotifyServer::Adopt(asio::io_context& io, UniqueFd fd,
                                                          const std::string& path,
                                                          Handler handler) {
  const std::string what = "adopt notify socket fd " + std::to_string(fd.get()) + " (" + path + ")";
  int type = 0;
  socklen_t len = sizeof(type);
  if (::getsockopt(fd.get(), SOL_SOCKET, SO_TYPE, &type, &len) < 0) return ErrnoError(what);
  if (type != SOCK_DGRAM) return Error{what + ": not a datagram socket"};
  if (::fcntl(fd.get(), F_SETFD, FD_CLOEXEC) < 0) return ErrnoError(what + ": set FD_CLOEXEC");
  auto impl = std::make_shared<Impl>(io, path, std::move(handler));
  boost::system::error_code ec;
  impl->sock.assign(datagram_protocol(), fd.get(), ec);
  if (ec) return Error{what + ": " + ec.message(), ec.value()};
  (void)fd.release();
  impl->sock.non_blocking(true, ec);
  impl->Wait();
  return std::unique_ptr<NotifyServer>(new NotifyServer(std::move(impl)));
}

int NotifyServer::fd() const { return impl_->sock.native_handle(); }

void NotifyServer::Drain() { impl_->Drain(); }

}  // namespace supd
