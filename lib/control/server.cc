#include "lib/control/server.h"

#include <malloc.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <array>
#include <deque>
#include <fstream>
#include <optional>
#include <spdlog/spdlog.h>
#include <sstream>

#include "lib/base/socket_kind.h"
#include "lib/base/user_db.h"

namespace supd::control {
namespace asio = boost::asio;
using stream_protocol = asio::local::stream_protocol;

namespace {

// Whether the peer had `gid` among its supplementary groups when it connected (SO_PEERGROUPS,
// Linux 4.13+: taken at connect(), so a reused pid cannot lend its groups).
bool PeerInGroup(int fd, gid_t gid) {
  std::vector<gid_t> groups(64);
  for (int attempt = 0; attempt < 3; ++attempt) {
    socklen_t len = static_cast<socklen_t>(groups.size() * sizeof(gid_t));
    if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &len) == 0) {
      groups.resize(len / sizeof(gid_t));
      for (gid_t g : groups)
        if (g == gid) return true;
      return false;
    }
    if (errno != ERANGE) return false;
    groups.resize(len / sizeof(gid_t) + 1);
  }
  return false;
}

}  // namespace

struct ControlServer::Impl {
  class Connection : public std::enable_shared_from_this<Connection> {
   public:
    Connection(Impl* server, stream_protocol::socket sock)
        : server_(server), count_(server->client_count), sock_(std::move(sock)),
          idle_(sock_.get_executor()) {}

    void Start() {
      ++*count_;
      peer_.end = std::make_shared<ConnectionEnd>();
      ReadPeer();
      Read();
    }
    // May run after the server is gone (pending handlers destroyed with the io_context): touch
    // only what the connection co-owns.
    ~Connection() {
      --*count_;
      // A stream (`logs -f`) may have queued megabytes of small lines: once they are freed
      // (with the members, after this body), give the pages back, so that RSS returns.
      if (streaming_) asio::post(sock_.get_executor(), [] { malloc_trim(0); });
    }

   private:
    void ReadPeer() {
      struct ucred cred {};
      socklen_t len = sizeof(cred);
      if (getsockopt(sock_.native_handle(), SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
        peer_.pid = cred.pid;
        peer_.uid = cred.uid;
        peer_.gid = cred.gid;
        peer_.privileged = cred.uid == 0 || cred.uid == geteuid() ||
                           (server_->admin_gid &&
                            (cred.gid == *server_->admin_gid ||
                             PeerInGroup(sock_.native_handle(), *server_->admin_gid)));
      }
    }

    // Hangs up on the client if the timer runs out before the next read or write completes.
    void ArmIdleTimer() {
      idle_.expires_after(kIdleTimeout);
      idle_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
        if (ec) return;
        if (auto self = weak.lock()) {
          boost::system::error_code ignored;
          self->sock_.shutdown(stream_protocol::socket::shutdown_both, ignored);
          self->sock_.close(ignored);
        }
      });
    }

    void Read() {
      // A client that says nothing for kIdleTimeout is hung up on, so that idle connections
      // cannot pile up. Not armed while a request runs (a start may take its TimeoutStartSec=).
      ArmIdleTimer();
      asio::async_read_until(
          sock_, asio::dynamic_buffer(buf_, kMaxRequestBytes + 1), '\n',
          [self = shared_from_this()](const boost::system::error_code& ec, size_t n) {
            self->OnLine(ec, n);
          });
    }

    void OnLine(const boost::system::error_code& ec, size_t n) {
      idle_.cancel();
      if (ec == asio::error::not_found) {
        // No newline within the limit: answer once and hang up, the rest of the line is junk.
        Send(FormatReply(nullptr, Reply::Fail(kTooLarge, "request over " +
                                                             std::to_string(kMaxRequestBytes) +
                                                             " bytes")),
             After::kClose);
        return;
      }
      if (ec) return;  // EOF or error: the client is gone
      std::string line = buf_.substr(0, n - 1);
      buf_.erase(0, n);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty()) {
        Read();
        return;
      }
      auto parsed = ParseRequest(line);
      if (auto* perr = std::get_if<ProtocolError>(&parsed)) {
        Send(FormatReply(perr->id, Reply::Fail(perr->code, perr->message)), After::kRead);
        return;
      }
      Request req = std::get<Request>(std::move(parsed));
      if (!IsReadOnlyCommand(req.cmd) && !peer_.privileged) {
        Send(FormatReply(req.id,
                         Reply::Fail(kPermissionDenied,
                                     "permission denied: '" + req.cmd +
                                         "' needs root, supd's own user or the supd group (you "
                                         "are uid " +
                                         std::to_string(peer_.uid) + ")")),
             After::kRead);
        return;
      }
      auto self = shared_from_this();
      nlohmann::json id = req.id;
      try {
        server_->handler(req, peer_, [self, id](const Reply& reply) {
          if (reply.more) {
            self->SendMore(FormatReply(id, reply));
          } else {
            self->Send(FormatReply(id, reply), After::kRead);
          }
        });
      } catch (const std::exception& e) {
        // A bug, not the client's fault; but no control message may take supd down.
        spdlog::error("control: '{}' from uid {} failed: {}", req.cmd, peer_.uid, e.what());
        Send(FormatReply(id, Reply::Fail(kFailed, std::string("internal error: ") + e.what())),
             After::kRead);
      }
    }

    enum class After { kNothing, kRead, kClose };

    // Writes one answer, then reads the next request (or closes).
    void Send(std::string line, After after) {
      if (line.size() > 16 * 1024) {
        // Building a big answer (status of many services) scattered thousands of small JSON
        // nodes over the heap; once they are freed (after this handler), give the pages back so
        // that RSS stays flat.
        asio::post(sock_.get_executor(), [] { malloc_trim(0); });
      }
      SetQueued(queued_bytes_ + line.size());
      out_.push_back({std::move(line), after});
      if (!writing_) WriteNext();
    }

    // One line of a streamed answer. The client is not expected to send anything meanwhile:
    // a read notices when it hangs up. A client that does not read is dropped, not buffered
    // for without bound.
    void SendMore(std::string line) {
      if (dropped_ || peer_.end->closed()) return;
      if (!streaming_) {
        streaming_ = true;
        WatchHangup();
      }
      if (queued_bytes_ >= kMaxStreamBacklog) {
        dropped_ = true;
        // What is being written stays (it may be half sent); the rest goes.
        while (out_.size() > (writing_ ? 1u : 0u)) {
          SetQueued(queued_bytes_ - out_.back().line.size());
          out_.pop_back();
        }
        Send(FormatReply(nullptr, Reply::Fail(kTooSlow,
                                              "client did not read its stream (over " +
                                                  std::to_string(kMaxStreamBacklog) +
                                                  " bytes unsent); dropped")),
             After::kClose);
        peer_.end->Close();
        return;
      }
      Send(std::move(line), After::kNothing);
    }

    void WatchHangup() {
      sock_.async_read_some(
          asio::buffer(hangup_buf_),
          [self = shared_from_this()](const boost::system::error_code& ec, size_t) {
            if (ec) {
              self->peer_.end->Close();
              return;
            }
            self->WatchHangup();  // ignore what a streaming client sends
          });
    }

    void WriteNext() {
      if (out_.empty()) return;
      writing_ = true;
      // A client that never reads its answers fills its socket buffer and this write waits:
      // supd reads nothing more from it meanwhile (its queue is bounded, see SendMore), and
      // hangs up after kIdleTimeout so that it cannot hold its slot for ever.
      ArmIdleTimer();
      asio::async_write(sock_, asio::buffer(out_.front().line),
                        [self = shared_from_this()](const boost::system::error_code& ec, size_t) {
                          self->writing_ = false;
                          const After after = self->out_.front().after;
                          self->SetQueued(self->queued_bytes_ - self->out_.front().line.size());
                          self->out_.pop_front();
                          if (ec || after == After::kClose) {
                            boost::system::error_code ignored;
                            self->sock_.shutdown(stream_protocol::socket::shutdown_both, ignored);
                            self->out_.clear();
                            self->SetQueued(0);
                            self->peer_.end->Close();
                            return;
                          }
                          if (after == After::kRead) {
                            self->Read();  // re-arms the idle timer for the next request
                          } else if (self->out_.empty()) {
                            // A stream waiting for its next line is not idle.
                            self->idle_.cancel();
                          }
                          self->WriteNext();
                        });
    }

    void SetQueued(size_t n) {
      queued_bytes_ = n;
      peer_.end->set_unsent(n);
    }

    struct Out {
      std::string line;
      After after;
    };

    Impl* server_;
    std::shared_ptr<size_t> count_;
    stream_protocol::socket sock_;
    asio::steady_timer idle_;
    std::string buf_;
    std::deque<Out> out_;  // written in order, one at a time
    size_t queued_bytes_ = 0;
    bool writing_ = false;
    bool streaming_ = false;  // a streamed answer began: hang-ups are watched
    bool dropped_ = false;    // too slow: the rest of the stream is discarded
    std::array<char, 256> hangup_buf_;
    Peer peer_;
  };

  Impl(asio::io_context& io, stream_protocol::acceptor acc, std::string path)
      : io(io), acceptor(std::move(acc)), retry(io), path(std::move(path)) {}

  // One accept is pending at a time, unless paused or closed.
  void Accept() {
    if (paused || accepting) return;
    accepting = true;
    acceptor.async_accept([this](const boost::system::error_code& ec,
                                 stream_protocol::socket sock) {
      accepting = false;
      if (ec == asio::error::operation_aborted) {
        // Paused (then perhaps resumed before this ran: accept again), or closed.
        if (acceptor.is_open()) Accept();
        return;
      }
      if (ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space ||
          ec == asio::error::no_memory || ec.value() == ENFILE) {
        // Out of fds: the connection stays in the backlog and accept would fail again at
        // once. Wait a little instead of spinning.
        if (!accept_error_logged)
          spdlog::warn("control socket {}: accept: {}; retrying every 100 ms", path, ec.message());
        accept_error_logged = true;
        retry.expires_after(std::chrono::milliseconds(100));
        retry.async_wait([this](const boost::system::error_code& e) {
          if (!e) Accept();
        });
        return;
      }
      accept_error_logged = false;
      if (!ec) {
        // The last few slots are kept for privileged peers, so that idle unprivileged clients
        // cannot lock root out.
        struct ucred cred {};
        socklen_t len = sizeof(cred);
        const bool root_like =
            getsockopt(sock.native_handle(), SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 &&
            (cred.uid == 0 || cred.uid == geteuid());
        const size_t limit = root_like ? kMaxClients : kMaxClients - kReservedForPrivileged;
        if (*client_count >= limit) {
          // Refuse politely: a line, then close. Never blocks: the kernel buffer takes it.
          std::string line = FormatReply(nullptr, Reply::Fail(kBusy, "too many clients"));
          boost::system::error_code ignored;
          sock.non_blocking(true, ignored);
          asio::write(sock, asio::buffer(line), ignored);
        } else {
          std::make_shared<Connection>(this, std::move(sock))->Start();
        }
      } else {
        spdlog::warn("control socket {}: accept: {}", path, ec.message());
      }
      Accept();
    });
  }

  asio::io_context& io;
  stream_protocol::acceptor acceptor;
  asio::steady_timer retry;  // re-arms accept after EMFILE
  std::string path;
  bool accept_error_logged = false;
  bool paused = false;     // PauseAccepting: no new accept is started
  bool accepting = false;  // an async_accept is pending
  Handler handler;
  std::optional<gid_t> admin_gid;
  std::shared_ptr<size_t> client_count = std::make_shared<size_t>(0);
};

ControlServer::ControlServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ControlServer::~ControlServer() { Close(); }

Result<std::unique_ptr<ControlServer>> ControlServer::Listen(asio::io_context& io,
                                                             const std::string& path,
                                                             const std::string& admin_group,
                                                             Handler handler) {
  if (path.size() >= sizeof(sockaddr_un{}.sun_path))
    return Error{"control socket path too long (max 107 bytes): " + path};
  // A leftover socket from a previous run: the runtime-dir lock says no other supd uses it.
  if (::unlink(path.c_str()) < 0 && errno != ENOENT)
    return ErrnoError("remove stale control socket " + path);
  stream_protocol::acceptor acc(io);
  boost::system::error_code ec;
  acc.open(stream_protocol(), ec);
  if (!ec) {
    // umask-independent: create it closed, then open it to everyone explicitly.
    const mode_t old = ::umask(0177);
    acc.bind(stream_protocol::endpoint(path), ec);
    ::umask(old);
  }
  if (!ec) acc.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Error{"listen on control socket " + path + ": " + ec.message(), ec.value()};
  if (::chmod(path.c_str(), 0666) < 0) return ErrnoError("chmod 0666 " + path);
  return Start(std::make_unique<Impl>(io, std::move(acc), path), admin_group, std::move(handler));
}

Result<std::unique_ptr<ControlServer>> ControlServer::Adopt(asio::io_context& io, int fd,
                                                            const std::string& path,
                                                            const std::string& admin_group,
                                                            Handler handler) {
  const std::string what = "adopt control socket fd " + std::to_string(fd) + " (" + path + ")";
  auto kind = SocketKindOf(fd, what);
  if (!kind.ok()) return kind.take_error();
  const int domain = kind->domain, type = kind->type;
  const bool listening = kind->listening;
  if (domain != AF_UNIX || type != SOCK_STREAM || !listening)
    return Error{what + ": not a listening unix stream socket"};
  stream_protocol::acceptor acc(io);
  boost::system::error_code ec;
  acc.assign(stream_protocol(), fd, ec);
  if (ec) return Error{what + ": " + ec.message(), ec.value()};
  return Start(std::make_unique<Impl>(io, std::move(acc), path), admin_group, std::move(handler));
}

std::unique_ptr<ControlServer> ControlServer::Start(std::unique_ptr<Impl> impl,
                                                    const std::string& admin_group,
                                                    Handler handler) {
  impl->handler = std::move(handler);
  if (!admin_group.empty()) {
    // A group that is not there (or a failed lookup) grants nothing.
    if (auto group = GroupByName(admin_group, "look up group '" + admin_group + "'"); group.ok())
      impl->admin_gid = group->gid;
  }
  impl->Accept();
  return std::unique_ptr<ControlServer>(new ControlServer(std::move(impl)));
}

void ControlServer::Close() {
  boost::system::error_code ignored;
  impl_->acceptor.close(ignored);
}

void ControlServer::PauseAccepting() {
  if (impl_->paused) return;
  impl_->paused = true;
  boost::system::error_code ignored;
  impl_->acceptor.cancel(ignored);
  impl_->retry.cancel();
}

void ControlServer::ResumeAccepting() {
  if (!impl_->paused) return;
  impl_->paused = false;
  impl_->Accept();
}

int ControlServer::native_handle() const {
  return const_cast<stream_protocol::acceptor&>(impl_->acceptor).native_handle();
}

size_t ControlServer::clients() const { return *impl_->client_count; }

}  // namespace supd::control
