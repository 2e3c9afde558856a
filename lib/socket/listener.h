// Binding the sockets of a .socket unit (SocketSpec) the way systemd does, into fds that supd
// holds and that children receive duplicates of (LISTEN_FDS).
//
// This file only creates sockets; keeping them across restarts and handing them to children is
// the caller's job. Functions are thread-safe except that unix sockets are created with chmod()
// after bind() (no process-wide umask change), see BindListen().
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "lib/base/result.h"
#include "lib/base/unique_fd.h"
#include "lib/unit/socket_spec.h"

namespace supd {

struct BoundSocket {
  // What was bound, canonical (numeric addresses as inet_ntop prints them), usable as a
  // registry key: "tcp:127.0.0.1:8080", "tcp6:[::1]:8080", "udp:0.0.0.0:53", "udp6:[::]:53",
  // "unix:/run/x.sock", "unix:@name" for streams and "unix-dgram:/run/x.sock",
  // "unix-dgram:@name" for datagrams. A bare port is "tcp6:[::]:PORT", or "tcp:0.0.0.0:PORT"
  // where IPv6 is unavailable.
  std::string identity;
  std::string fd_name;  // the SocketSpec's fd_name (for LISTEN_FDNAMES)
  UniqueFd fd;          // SOCK_CLOEXEC, blocking (as systemd passes them)
};

// Who owns a unix socket file: SocketUser=/SocketGroup= looked up, as systemd's
// get_user_creds()/get_group_creds() (-1: leave as created). `resolved` false: not looked up
// yet, BindListen does it (blocking on NSS).
struct SocketOwner {
  uid_t uid = static_cast<uid_t>(-1);
  gid_t gid = static_cast<gid_t>(-1);
  bool resolved = false;
};

// Looks up SocketUser=/SocketGroup= (NSS: may block; supd calls it off its loop). SocketUser=
// alone: the user's primary group. Errors: "web.socket: SocketUser= 'bob': no such user",
// "web.socket: SocketGroup= 'x': no such group".
[[nodiscard]] Result<SocketOwner> ResolveSocketOwner(const SocketSpec& spec);

// Binds one ListenSpec with the SocketSpec's options, like systemd's socket_address_listen():
//  - inet: SO_REUSEADDR (TCP), SO_REUSEPORT (ReusePort=), IP_FREEBIND (FreeBind=),
//    TCP_NODELAY (NoDelay=, TCP), SO_KEEPALIVE (KeepAlive=, streams), IPV6_V6ONLY
//    (BindIPv6Only=both|ipv6-only; "default" leaves the sysctl's choice). A bare port binds
//    [::]:port (dual-stack unless net.ipv6.bindv6only or ipv6-only), or 0.0.0.0:port when the
//    host has no IPv6 (socket() fails with EAFNOSUPPORT, or IPv6 is disabled by sysctl).
//  - unix path: missing parent directories are created with DirectoryMode=; a stale socket
//    file at the path is unlinked (any other kind of file is left, and bind() then fails with
//    "Address already in use"); after bind() the file gets SocketMode= by chmod() and
//    SocketUser=/SocketGroup= by chown() (SocketUser= alone: the user's primary group).
//  - streams: listen(spec.backlog).
// Errors name the socket unit, the operation, the address as written and errno's text:
//   "web.socket: bind 127.0.0.1:80: Permission denied"
//   "web.socket: bind 127.0.0.1:8080: Address already in use"
//   "web.socket: listen 8080: ...", "web.socket: socket [::1]:80: ...",
//   "web.socket: setsockopt SO_REUSEPORT 8080: ...", "web.socket: mkdir /run/web: ...",
//   "web.socket: chmod /run/web/web.sock: ...", "web.socket: chown /run/web/web.sock: ...",
//   "web.socket: SocketUser= 'bob': no such user", "web.socket: SocketGroup= 'x': no such group",
//   "web.socket: invalid address 'x': <reason>" (for a ListenSpec not checked by the loader).
// On failure nothing stays open, and a unix socket file created by this call is removed.
[[nodiscard]] Result<BoundSocket> BindListen(const SocketSpec& spec, const ListenSpec& listen,
                                             const SocketOwner& owner = {});

// Binds all of spec.listen, in order. On any error closes what it bound (and removes the unix
// socket files it created) and returns that error.
[[nodiscard]] Result<std::vector<BoundSocket>> BindAll(const SocketSpec& spec,
                                                       const SocketOwner& owner = {});

// Applies to a socket bound earlier what can change without a new bind, from `spec` (a
// reloaded unit): Backlog= (listen() again), NoDelay=, KeepAlive=, and for a unix socket file
// SocketMode= and the owner. ReusePort=, FreeBind=, BindIPv6Only= need a new socket.
[[nodiscard]] Result<void> ReapplyListenOptions(const SocketSpec& spec, const ListenSpec& listen,
                                                const SocketOwner& owner,
                                                const BoundSocket& bound);

}  // namespace supd
