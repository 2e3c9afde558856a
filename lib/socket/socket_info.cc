#include "lib/socket/socket_info.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

namespace supd {

std::optional<ListenQueue> ListenQueueOf(int fd) {
  int type = 0;
  socklen_t len = sizeof(type);
  if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_STREAM)
    return std::nullopt;
  int listening = 0;
  len = sizeof(listening);
  if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0 || !listening)
    return std::nullopt;
  struct tcp_info info {};
  len = sizeof(info);
  // Unix stream sockets have no TCP_INFO: EOPNOTSUPP, and nothing is shown.
  if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) < 0) return std::nullopt;
  if (info.tcpi_state != TCP_LISTEN) return std::nullopt;
  return ListenQueue{info.tcpi_unacked, info.tcpi_sacked};
}

}  // namespace supd
