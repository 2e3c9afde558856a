// Signals: their names (the one table supd reads and writes signal names with), and sending one
// to a process by pid, for the parts below lib/proc that must (a cgroup's members, one by one,
// where the kernel has no cgroup.kill for that signal).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>

#include "lib/base/result.h"

namespace supd {

// The name of a signal as unit files write it, without "SIG": "TERM", "RTMIN", "RTMIN+3"; the
// number as text ("99") for one without a name. SignalFromName() reads every name back.
std::string SignalName(int signo);

// How status and cause texts name a signal: "SIGTERM" for 15; "signal 99" for a number without a
// classic name (the real-time signals among them: "signal 37", not "SIGRTMIN+3").
std::string SigName(int sig);

// The signal `name` names, with or without "SIG" ("TERM", "SIGTERM", "RTMIN", "SIGRTMIN+2",
// "RTMAX-1"), case-sensitive as in systemd; nullopt for anything else (numbers among it).
std::optional<int> SignalFromName(std::string_view name);

// kill(pid, sig). A process that is gone (ESRCH) is success. Errors: "send signal 15 to pid 42:
// Operation not permitted". Refuses pid <= 0 (a group or everyone).
[[nodiscard]] Result<void> SendSignal(pid_t pid, int sig);

}  // namespace supd
