// NotifyServer: the NOTIFY_SOCKET of supd, a unix datagram socket that services send sd_notify
// messages to.
//
// It owns the socket, reads datagrams on the io_context, and hands each valid one to the
// handler with the sender's credentials (SCM_CREDENTIALS, filled in by the kernel) and the fds
// it carried (SCM_RIGHTS). It drops, counts and logs at debug level (at most one line per
// second) every datagram that is over kMaxDatagramBytes, carries more than kMaxFds fds, has no
// credentials, or does not parse (ParseNotifyMessage). Every fd received is owned by a UniqueFd
// from the moment it is read, so nothing a client sends can leak an fd into supd.
//
// It knows nothing of services: which service a pid belongs to, whether NotifyAccess= lets it
// send, and what a message means are the handler's business.
//
// Not thread-safe: create, use and destroy it on the io_context's thread. The handler runs on
// that thread.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "lib/base/result.h"
#include "lib/base/unique_fd.h"
#include "lib/notify/notify_message.h"

namespace boost::asio {
class io_context;
}

namespace supd {

// The sender of a datagram, as the kernel saw it. pid is in supd's pid namespace.
struct NotifyCredentials {
  pid_t pid = 0;
  uid_t uid = 0;
  gid_t gid = 0;
};

// Called once per valid datagram. `fds` is the handler's: it moves out what it keeps; what it
// leaves in the vector is closed when the vector goes. An exception escaping the handler is a
// bug: it is caught and logged at error level, and the server goes on.
using NotifyHandler = std::function<void(const NotifyMessage& message,
                                         const NotifyCredentials& cred, std::vector<UniqueFd> fds)>;

class NotifyServer {
 public:
  using Handler = NotifyHandler;

  // systemd's NOTIFY_BUFFER_MAX: a bigger datagram is dropped, not cut.
  static constexpr size_t kMaxDatagramBytes = 4096;
  // fds per datagram; a datagram with more is dropped and all of its fds closed.
  static constexpr size_t kMaxFds = 16;
  // Datagrams read per readiness wakeup before going back to the io_context, so that one busy
  // sender cannot starve the other handlers on the loop.
  static constexpr int kMaxDatagramsPerWakeup = 64;

  // Binds `path` and starts reading. A stale socket file at `path` is replaced (the runtime-dir
  // lock says no other supd uses it); any other kind of file there is an error. The socket file
  // gets mode 0666: services running as other users must be able to send; what they may do is
  // decided per datagram from their credentials. A path starting with '@' is an abstract
  // socket (no file). Errors name the path and errno, e.g.
  //   "bind notify socket /run/supd/notify: Address already in use".
  // The caller owns the returned server; destroying it closes the socket (the file stays).
  [[nodiscard]] static Result<std::unique_ptr<NotifyServer>> Bind(boost::asio::io_context& io,
                                                                  const std::string& path,
                                                                  Handler handler);
  // daemon-reexec: goes on reading a notify socket a previous supd bound at `path` (the
  // datagrams queued meanwhile are read as usual). Takes `fd`; it is checked to be a datagram
  // socket: "adopt notify socket fd 7 (/run/supd/supd.notify): not a datagram socket".
  [[nodiscard]] static Result<std::unique_ptr<NotifyServer>> Adopt(boost::asio::io_context& io,
                                                                   UniqueFd fd,
                                                                   const std::string& path,
                                                                   Handler handler);
  ~NotifyServer();
  NotifyServer(const NotifyServer&) = delete;
  NotifyServer& operator=(const NotifyServer&) = delete;

  // As given to Bind(): the value for NOTIFY_SOCKET.
  const std::string& path() const;
  // The socket (owned by the server), for daemon-reexec to keep across exec.
  int fd() const;
  // Datagrams read from the socket, and those of them not handed to the handler.
  // Handles the datagrams queued right now (at most kMaxDatagramsPerWakeup). The manager calls
  // it before acting on a main process's exit: "READY=1\nMAINPID=<child>" sent just before the
  // exit must count, as systemd gives its notify fd priority over SIGCHLD.
  void Drain();
  uint64_t received() const;
  uint64_t dropped() const;

 private:
  struct Impl;
  explicit NotifyServer(std::shared_ptr<Impl> impl);
  // Shared with the pending handlers (as weak_ptr), so that a completion queued before the
  // server is destroyed finds it gone instead of touching freed memory.
  std::shared_ptr<Impl> impl_;
};

}  // namespace supd
