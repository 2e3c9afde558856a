#include "lib/base/sd_notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "lib/base/unique_fd.h"

namespace supd {

namespace {

template <typename T>
bool ParseWhole(std::string_view text, T* out) {
  const auto r = std::from_chars(text.data(), text.data() + text.size(), *out);
  return !text.empty() && r.ec == std::errc() && r.ptr == text.data() + text.size();
}

}  // namespace

int NotifySupervisor(const std::string& state) {
  const char* env = std::getenv("NOTIFY_SOCKET");
  if (env == nullptr) return 0;
  const std::string_view path(env);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  // As libsystemd 252: a path or an abstract name, nothing else (no vsock: yet).
  if (path.size() < 2 || (path[0] != '/' && path[0] != '@')) return -EINVAL;
  if (path.size() > sizeof(addr.sun_path) ||
      (path[0] == '/' && path.size() == sizeof(addr.sun_path)))
    return -EINVAL;
  std::memcpy(addr.sun_path, path.data(), path.size());
  socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size());
  if (path[0] == '@') {
    addr.sun_path[0] = '\0';  // abstract namespace: no trailing NUL in the length
  } else {
    len += 1;
  }
  UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd) return -errno;
  const ssize_t n = ::sendto(fd.get(), state.data(), state.size(), MSG_NOSIGNAL,
                             reinterpret_cast<const sockaddr*>(&addr), len);
  if (n < 0) return -errno;
  return 1;
}

int SupervisorWatchdog(uint64_t* usec) {
  const char* text = std::getenv("WATCHDOG_USEC");
  if (text == nullptr) return 0;
  uint64_t value = 0;
  // As libsystemd: 0 and "infinity" (UINT64_MAX) are not intervals.
  if (!ParseWhole(text, &value) || value == 0 || value == UINT64_MAX) return -EINVAL;
  if (const char* pid_text = std::getenv("WATCHDOG_PID")) {
    pid_t pid = 0;
    if (!ParseWhole(pid_text, &pid) || pid <= 0) return -EINVAL;
    if (pid != ::getpid()) return 0;
  }
  *usec = value;
  return 1;
}

}  // namespace supd
