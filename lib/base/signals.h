// Signals: sending one to a process by pid, for the parts below lib/proc that must (a cgroup's
// members, one by one, where the kernel has no cgroup.kill for that signal).
#pragma once

#include <sys/types.h>

#include "lib/base/result.h"

namespace supd {

// kill(pid, sig). A process that is gone (ESRCH) is success. Errors: "send signal 15 to pid 42:
// Operation not permitted". Refuses pid <= 0 (a group or everyone).
[[nodiscard]] Result<void> SendSignal(pid_t pid, int sig);

}  // namespace supd
