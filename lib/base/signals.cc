#include "lib/base/signals.h"

#include <signal.h>

#include <string>

namespace supd {

Result<void> SendSignal(pid_t pid, int sig) {
  if (pid <= 0) return Error{"refusing to signal pid " + std::to_string(pid)};
  if (::kill(pid, sig) < 0 && errno != ESRCH)
    return ErrnoError("send signal " + std::to_string(sig) + " to pid " + std::to_string(pid));
  return Ok();
}

}  // namespace supd
