#include "lib/base/unique_fd.h"

#include <fcntl.h>
#include <unistd.h>

namespace supd {

void UniqueFd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

Result<Pipe> OpenPipe(const std::string& what) {
  int fds[2] = {-1, -1};
  if (::pipe2(fds, O_CLOEXEC) < 0) return ErrnoError("pipe2 for " + what);
  return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

}  // namespace supd
