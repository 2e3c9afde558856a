// ControlServer: accepts connections on the control socket and turns each request line into a
// call of the handler, answering one line per request, in order.
//
// It checks the peer (SO_PEERCRED) before running anything that changes state, bounds every
// request to kMaxRequestBytes, caps the number of clients, and never lets one client's bad input
// or slowness stop the others. What a command means is the handler's business.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "lib/base/result.h"
#include "lib/control/protocol.h"

namespace boost::asio {
class io_context;
}

namespace supd::control {

// The end of a connection, for handlers that stream replies (Reply::more): OnClose runs once
// the client hung up or was dropped for not reading (once ControlServer::kMaxStreamBacklog
// bytes or more wait unsent, a further reply is not queued: the server sends a "too-slow"
// error line and closes). Touched only on the io_context thread.
class ConnectionEnd {
 public:
  bool closed() const { return closed_; }
  void OnClose(std::function<void()> cb) {
    if (closed_) cb();
    else callbacks_.push_back(std::move(cb));
  }
  // Bytes of replies queued for the client and not yet written to its socket: a stream's
  // producer uses it to skip what a slow reader cannot take.
  size_t unsent() const { return unsent_; }
  // Runs `cb` once (posted by the caller's choice: it is called from inside the server's write
  // completion) when unsent() drops below `limit`; replaces an earlier wish.
  void OnUnsentBelow(size_t limit, std::function<void()> cb) {
    drained_below_ = limit;
    drained_ = std::move(cb);
  }
  void set_unsent(size_t n) {
    unsent_ = n;
    if (drained_ && n < drained_below_) {
      auto cb = std::move(drained_);
      drained_ = nullptr;
      cb();
    }
  }
  void Close() {
    if (closed_) return;
    closed_ = true;
    auto cbs = std::move(callbacks_);
    callbacks_.clear();
    for (auto& cb : cbs) cb();
  }

 private:
  bool closed_ = false;
  size_t unsent_ = 0;
  size_t drained_below_ = 0;
  std::function<void()> drained_;
  std::vector<std::function<void()>> callbacks_;
};

struct Peer {
  pid_t pid = 0;
  uid_t uid = 0;
  gid_t gid = 0;
  bool privileged = false;  // may change things
  std::shared_ptr<ConnectionEnd> end;  // never null for requests from the server
};

using Handler = std::function<void(const Request&, const Peer&, ReplyFn)>;

class ControlServer {
 public:
  static constexpr size_t kMaxClients = 256;
  static constexpr size_t kReservedForPrivileged = 16;  // of kMaxClients: root and supd's uid
  // A connection with no request for this long is closed.
  static constexpr std::chrono::seconds kIdleTimeout{60};
  // Unsent streamed replies kept for a slow client before it is dropped (a backstop: `logs -f`
  // skips lines for a slow reader long before, see ConnectionEnd::unsent). One reply is always
  // queued when less than this is, however large (a follower's history).
  static constexpr size_t kMaxStreamBacklog = 4 << 20;

  // Binds `path` (a stale socket file is replaced), mode 0666: every local user may connect and
  // read; privilege is checked per request. Privileged: uid 0, supd's own uid, members of
  // `admin_group` (a group name; ignored if it does not exist).
  [[nodiscard]] static Result<std::unique_ptr<ControlServer>> Listen(
      boost::asio::io_context& io, const std::string& path, const std::string& admin_group,
      Handler handler);
  // The same on a listening socket that is already bound (a supd that execs itself hands its
  // control socket to the next: `path` is only named in the log). Takes ownership of `fd` on
  // success (on failure it stays open, for a fallback) and leaves its close-on-exec flag. Errors: "adopt control socket fd 5 (PATH): not a
  // listening unix stream socket".
  [[nodiscard]] static Result<std::unique_ptr<ControlServer>> Adopt(
      boost::asio::io_context& io, int fd, const std::string& path,
      const std::string& admin_group, Handler handler);
  ~ControlServer();

  // Stops accepting; open connections finish their current request.
  void Close();
  // While supd decides to exec itself: new connections wait in the listen backlog (for the
  // next supd, or for this one if the exec fails and it resumes). Open connections go on.
  void PauseAccepting();
  void ResumeAccepting();
  // The listening socket (kept across a daemon-reexec).
  int native_handle() const;
  size_t clients() const;

 private:
  struct Impl;
  explicit ControlServer(std::unique_ptr<Impl> impl);
  static std::unique_ptr<ControlServer> Start(std::unique_ptr<Impl> impl,
                                              const std::string& admin_group, Handler handler);
  std::unique_ptr<Impl> impl_;
};

}  // namespace supd::control
