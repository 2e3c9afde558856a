#include "lib/socket/listener.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <set>
#include <utility>

#include "lib/base/user_db.h"
#include "lib/unit/loader_base.h"
#include "lib/unit/socket_loader.h"
#include "lib/unit/values.h"

namespace supd {
namespace {

// Where to bind, resolved from a ListenAddress.
struct Target {
  int family = AF_UNSPEC;
  sockaddr_storage addr{};
  socklen_t len = 0;
  std::string identity;
  std::string unix_path;  // the socket file for kUnixPath, else ""
};

// Whether the host can do IPv6 at all: systemd's socket_ipv6_is_enabled() also looks at this
// sysctl, because with it set socket(AF_INET6) still works but nothing can be reached.
bool Ipv6DisabledBySysctl() {
  UniqueFd fd(open("/proc/sys/net/ipv6/conf/all/disable_ipv6", O_RDONLY | O_CLOEXEC));
  if (!fd) return false;  // no such file: no sysctl to say so; socket() will tell
  char c = 0;
  return read(fd.get(), &c, 1) == 1 && c == '1';
}

Target InetTarget(int family, const std::string& host, uint16_t port, bool stream) {
  Target t;
  t.family = family;
  char text[INET6_ADDRSTRLEN] = {};
  if (family == AF_INET) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&t.addr);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    // REQUIRES: host was checked by ParseListenAddress ("" = any address).
    if (!host.empty()) inet_pton(AF_INET, host.c_str(), &sin->sin_addr);
    inet_ntop(AF_INET, &sin->sin_addr, text, sizeof(text));
    t.len = sizeof(sockaddr_in);
    t.identity = std::string(stream ? "tcp:" : "udp:") + text + ":" + std::to_string(port);
  } else {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&t.addr);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(port);
    if (!host.empty()) inet_pton(AF_INET6, host.c_str(), &sin6->sin6_addr);
    inet_ntop(AF_INET6, &sin6->sin6_addr, text, sizeof(text));
    t.len = sizeof(sockaddr_in6);
    t.identity = std::string(stream ? "tcp6:[" : "udp6:[") + text + "]:" + std::to_string(port);
  }
  return t;
}

Target UnixTarget(const ListenAddress& a, bool stream) {
  Target t;
  t.family = AF_UNIX;
  auto* sun = reinterpret_cast<sockaddr_un*>(&t.addr);
  sun->sun_family = AF_UNIX;
  const bool abstract = a.family == ListenAddress::Family::kUnixAbstract;
  // REQUIRES: the length was checked by ParseListenAddress.
  std::memcpy(sun->sun_path + (abstract ? 1 : 0), a.path.data(), a.path.size());
  // Abstract names are not NUL-terminated: the length says where they end.
  t.len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + (abstract ? 1 : 0) +
                                 a.path.size() + (abstract ? 0 : 1));
  t.identity = std::string(stream ? "unix:" : "unix-dgram:") + (abstract ? "@" : "") + a.path;
  if (!abstract) t.unix_path = a.path;
  return t;
}

// Creates the missing parent directories of `path` with `mode` (exactly: chmod() after mkdir()
// so that the umask does not narrow it). Existing directories are left as they are.
Result<void> MakeParents(const std::string& unit, const std::string& path, mode_t mode) {
  for (size_t slash = path.find('/', 1); slash != std::string::npos;
       slash = path.find('/', slash + 1)) {
    std::string dir = path.substr(0, slash);
    if (mkdir(dir.c_str(), mode) == 0) {
      if (chmod(dir.c_str(), mode) < 0) return ErrnoError(unit + ": chmod " + dir);
    } else if (errno != EEXIST) {
      return ErrnoError(unit + ": mkdir " + dir);
    }
  }
  return Ok();
}

// Removes the socket file bound by this call if a later step fails.
class UnlinkOnFailure {
 public:
  UnlinkOnFailure() = default;
  UnlinkOnFailure(const UnlinkOnFailure&) = delete;
  UnlinkOnFailure& operator=(const UnlinkOnFailure&) = delete;
  ~UnlinkOnFailure() {
    // Best effort: the bind failed anyway, and a leftover socket file is replaced at next bind.
    if (!path_.empty()) unlink(path_.c_str());
  }
  void Arm(std::string path) { path_ = std::move(path); }
  void Disarm() { path_.clear(); }

 private:
  std::string path_;  // "" when disarmed
};

// The socket options of `spec` that apply to a socket of `family`, before bind.
Result<void> SetSocketOptions(const SocketSpec& spec, int fd, int family, bool stream,
                              const std::string& where) {
  auto set = [&](int level, int opt, int value, const char* name) -> Result<void> {
    if (setsockopt(fd, level, opt, &value, sizeof(value)) < 0) {
      return ErrnoError(spec.name + ": setsockopt " + name + " " + where);
    }
    return Ok();
  };
  const bool inet = family == AF_INET || family == AF_INET6;
  if (inet) {
    if (stream) SUPD_TRY(set(SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR"));
    if (spec.reuse_port) SUPD_TRY(set(SOL_SOCKET, SO_REUSEPORT, 1, "SO_REUSEPORT"));
    // IP_FREEBIND at SOL_IP also applies to AF_INET6 sockets on Linux.
    if (spec.free_bind) SUPD_TRY(set(IPPROTO_IP, IP_FREEBIND, 1, "IP_FREEBIND"));
    if (stream && spec.no_delay) SUPD_TRY(set(IPPROTO_TCP, TCP_NODELAY, 1, "TCP_NODELAY"));
  }
  if (family == AF_INET6 && spec.bind_ipv6_only != "default") {
    SUPD_TRY(
        set(IPPROTO_IPV6, IPV6_V6ONLY, spec.bind_ipv6_only == "ipv6-only" ? 1 : 0, "IPV6_V6ONLY"));
  }
  if (stream && spec.keep_alive) SUPD_TRY(set(SOL_SOCKET, SO_KEEPALIVE, 1, "SO_KEEPALIVE"));
  return Ok();
}

}  // namespace

Result<SocketOwner> ResolveSocketOwner(const SocketSpec& spec) {
  // The loader refused these already; a spec built elsewhere gets the same check here.
  for (const auto& [key, value] :
       {std::pair{"SocketUser", &spec.socket_user}, std::pair{"SocketGroup", &spec.socket_group}}) {
    if (value->empty()) continue;
    if (auto valid = CheckUserGroupName(*value); !valid.ok()) {
      return Error{spec.name + ": " + key + "= '" + *value + "': " + valid.error().message};
    }
  }
  uid_t uid = static_cast<uid_t>(-1);
  gid_t gid = static_cast<gid_t>(-1);
  if (!spec.socket_user.empty()) {
    const std::string what = spec.name + ": SocketUser= '" + spec.socket_user + "'";
    // A valid numeric ID (systemd's parse_uid()) is an ID; anything else a name.
    if (auto numeric = ParseUid(spec.socket_user); numeric.ok()) {
      uid = *numeric;
      // The primary group of a numeric user, if it has an entry (a failed lookup: no group).
      if (auto found = FindUserById(uid, what); found.ok() && *found) gid = (*found)->gid;
    } else {
      auto user = UserByName(spec.socket_user, what);
      if (!user.ok()) return user.take_error();
      uid = user->uid;
      gid = user->gid;
    }
  }
  if (!spec.socket_group.empty()) {
    if (auto numeric = ParseUid(spec.socket_group); numeric.ok()) {
      gid = *numeric;
    } else {
      auto group =
          GroupByName(spec.socket_group, spec.name + ": SocketGroup= '" + spec.socket_group + "'");
      if (!group.ok()) return group.take_error();
      gid = group->gid;
    }
  }
  return SocketOwner{uid, gid, true};
}

Result<BoundSocket> BindListen(const SocketSpec& spec, const ListenSpec& listen,
                               const SocketOwner& given) {
  const std::string& unit = spec.name;
  const std::string& where = listen.address;
  auto parsed = ParseListenAddress(where);
  if (!parsed.ok()) {
    return Error{unit + ": invalid address '" + where + "': " + parsed.error().message};
  }
  const ListenAddress& a = *parsed;
  const bool stream = listen.kind == ListenSpec::Kind::kStream;
  const int type = (stream ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC;

  Target t;
  UniqueFd fd;
  switch (a.family) {
    case ListenAddress::Family::kAnyPort:
      if (!Ipv6DisabledBySysctl()) {
        fd.reset(socket(AF_INET6, type, 0));
        if (!fd && errno != EAFNOSUPPORT) return ErrnoError(unit + ": socket " + where);
      }
      t = InetTarget(fd ? AF_INET6 : AF_INET, "", a.port, stream);
      break;
    case ListenAddress::Family::kIPv4:
      t = InetTarget(AF_INET, a.host, a.port, stream);
      break;
    case ListenAddress::Family::kIPv6:
      t = InetTarget(AF_INET6, a.host, a.port, stream);
      break;
    case ListenAddress::Family::kUnixPath:
    case ListenAddress::Family::kUnixAbstract:
      t = UnixTarget(a, stream);
      break;
  }
  if (!fd) {
    fd.reset(socket(t.family, type, 0));
    if (!fd) return ErrnoError(unit + ": socket " + where);
  }

  SUPD_TRY(SetSocketOptions(spec, fd.get(), t.family, stream, where));

  UnlinkOnFailure cleanup;
  if (!t.unix_path.empty()) {
    SUPD_TRY(MakeParents(unit, t.unix_path, spec.directory_mode));
    struct stat st;
    if (lstat(t.unix_path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode) &&
        unlink(t.unix_path.c_str()) < 0 && errno != ENOENT) {
      return ErrnoError(unit + ": unlink stale socket " + t.unix_path);
    }
  }
  if (bind(fd.get(), reinterpret_cast<const sockaddr*>(&t.addr), t.len) < 0) {
    return ErrnoError(unit + ": bind " + where);
  }
  if (!t.unix_path.empty()) {
    cleanup.Arm(t.unix_path);
    if (chmod(t.unix_path.c_str(), spec.socket_mode) < 0) {
      return ErrnoError(unit + ": chmod " + t.unix_path);
    }
    if (!spec.socket_user.empty() || !spec.socket_group.empty()) {
      auto owner = given.resolved ? Result<SocketOwner>(given) : ResolveSocketOwner(spec);
      if (!owner.ok()) return owner.take_error();
      if (chown(t.unix_path.c_str(), owner->uid, owner->gid) < 0) {
        return ErrnoError(unit + ": chown " + t.unix_path);
      }
    }
  }
  if (stream && ::listen(fd.get(), spec.backlog) < 0) return ErrnoError(unit + ": listen " + where);
  cleanup.Disarm();
  return BoundSocket{std::move(t.identity), spec.fd_name, std::move(fd)};
}

Result<std::vector<BoundSocket>> BindAll(const SocketSpec& spec, const SocketOwner& owner) {
  // The same socket file twice would make the second bind unlink the first as stale.
  std::set<std::string> paths;
  for (const ListenSpec& l : spec.listen) {
    auto a = ParseListenAddress(l.address);
    if (a.ok() && a->family == ListenAddress::Family::kUnixPath && !paths.insert(a->path).second) {
      return Error{spec.name + ": " + a->path + " is listed twice"};
    }
  }
  std::vector<BoundSocket> out;
  for (const ListenSpec& l : spec.listen) {
    auto b = BindListen(spec, l, owner);
    if (!b.ok()) {
      for (const BoundSocket& s : out) {
        for (std::string_view prefix : {"unix:/", "unix-dgram:/"}) {
          if (s.identity.starts_with(prefix)) {
            // Best effort, as in UnlinkOnFailure: the error to report is the bind's.
            unlink(s.identity.substr(prefix.size() - 1).c_str());
          }
        }
      }
      return b.take_error();  // `out` closes the fds bound so far
    }
    out.push_back(std::move(*b));
  }
  return out;
}

Result<void> ReapplyListenOptions(const SocketSpec& spec, const ListenSpec& listen,
                                  const SocketOwner& owner, const BoundSocket& bound) {
  const std::string& unit = spec.name;
  const std::string& where = listen.address;
  const int fd = bound.fd.get();
  const bool stream = listen.kind == ListenSpec::Kind::kStream;
  auto set = [&](int level, int opt, int value, const char* name) -> Result<void> {
    if (setsockopt(fd, level, opt, &value, sizeof(value)) < 0)
      return ErrnoError(unit + ": setsockopt " + name + " " + where);
    return Ok();
  };
  const bool tcp = bound.identity.starts_with("tcp");
  if (tcp) SUPD_TRY(set(IPPROTO_TCP, TCP_NODELAY, spec.no_delay ? 1 : 0, "TCP_NODELAY"));
  if (stream) SUPD_TRY(set(SOL_SOCKET, SO_KEEPALIVE, spec.keep_alive ? 1 : 0, "SO_KEEPALIVE"));
  // listen() again on a listening socket sets its backlog anew; nothing waiting is lost.
  if (stream && ::listen(fd, spec.backlog) < 0) return ErrnoError(unit + ": listen " + where);
  for (std::string_view prefix : {"unix:/", "unix-dgram:/"}) {
    if (!bound.identity.starts_with(prefix)) continue;
    const std::string path = bound.identity.substr(prefix.size() - 1);
    if (chmod(path.c_str(), spec.socket_mode) < 0) return ErrnoError(unit + ": chmod " + path);
    if (owner.uid != static_cast<uid_t>(-1) || owner.gid != static_cast<gid_t>(-1)) {
      if (chown(path.c_str(), owner.uid, owner.gid) < 0)
        return ErrnoError(unit + ": chown " + path);
    }
  }
  return Ok();
}

}  // namespace supd
