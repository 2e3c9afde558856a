#include "lib/control/client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "lib/control/protocol.h"

namespace supd::control {

Result<Client> Client::Connect(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) return Error{"control socket path too long: " + path};
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return ErrnoError("socket");
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) < 0)
    return ErrnoError("connect to supd at " + path);
  return Client(std::move(fd), path);
}

Result<nlohmann::json> Client::Call(const std::string& cmd, const nlohmann::json& args) {
  const int id = next_id_++;
  const std::string line = FormatRequest(id, cmd, args);
  size_t off = 0;
  while (off < line.size()) {
    const ssize_t n = ::send(fd_.get(), line.data() + off, line.size() - off, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("send to supd at " + path_);
    }
    off += static_cast<size_t>(n);
  }
  return Next();
}

Result<nlohmann::json> Client::Next() {
  const auto deadline =
      timeout_ ? std::chrono::steady_clock::now() + *timeout_ : std::chrono::steady_clock::time_point::max();
  for (;;) {
    const auto nl = buf_.find('\n');
    if (nl != std::string::npos) {
      std::string reply = buf_.substr(0, nl);
      buf_.erase(0, nl + 1);
      auto j = nlohmann::json::parse(reply, nullptr, false);
      if (j.is_discarded() || !j.is_object())
        return Error{"supd at " + path_ + " sent an unreadable answer"};
      return j;
    }
    if (timeout_) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      struct pollfd p {fd_.get(), POLLIN, 0};
      const int r = left.count() > 0 ? ::poll(&p, 1, static_cast<int>(left.count())) : 0;
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) return ErrnoError("wait for supd at " + path_);
      if (r == 0)
        return Error{"no answer from supd at " + path_ + " within " +
                     std::to_string(timeout_->count()) + " ms"};
    }
    char chunk[65536];
    const ssize_t n = ::read(fd_.get(), chunk, sizeof(chunk));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("read from supd at " + path_);
    }
    if (n == 0) return Error{"supd at " + path_ + " closed the connection without answering"};
    buf_.append(chunk, static_cast<size_t>(n));
  }
}

}  // namespace supd::control
