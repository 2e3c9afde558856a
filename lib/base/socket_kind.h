// What kind of socket an inherited fd is (daemon-reexec takes listeners over by fd and checks
// each before use).
#pragma once

#include "lib/base/result.h"

namespace supd {

struct SocketKind {
  int domain = 0;          // AF_UNIX, AF_INET, ...
  int type = 0;            // SOCK_STREAM, SOCK_DGRAM, ...
  bool listening = false;  // SO_ACCEPTCONN
};

// getsockopt(SO_DOMAIN, SO_TYPE, SO_ACCEPTCONN) on `fd`; errors "<what>: <errno text>".
[[nodiscard]] Result<SocketKind> SocketKindOf(int fd, const std::string& what);

}  // namespace supd
