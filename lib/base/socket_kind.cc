#include "lib/base/socket_kind.h"

#include <sys/socket.h>

namespace supd {

Result<SocketKind> SocketKindOf(int fd, const std::string& what) {
  SocketKind k;
  int listening = 0;
  for (auto [opt, out] : {std::pair{SO_DOMAIN, &k.domain}, std::pair{SO_TYPE, &k.type},
                          std::pair{SO_ACCEPTCONN, &listening}}) {
    socklen_t len = sizeof(int);
    if (::getsockopt(fd, SOL_SOCKET, opt, out, &len) < 0) return ErrnoError(what);
  }
  k.listening = listening != 0;
  return k;
}

}  // namespace supd
