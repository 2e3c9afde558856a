// supd's own messages to the service manager that runs it (systemd, or another supd), written
// against the protocol sd_notify(3) documents as stable and meant to be reimplemented: one
// datagram to $NOTIFY_SOCKET, and the watchdog interval in $WATCHDOG_USEC/$WATCHDOG_PID. Not
// through libsystemd, so that supd under systemd does not map it and the six libraries it pulls
// in, and so that a missing libsystemd.so cannot leave a Type=notify start hanging.
#pragma once

#include <cstdint>
#include <string>

namespace supd {

// sd_notify(0, state): 0 when NOTIFY_SOCKET is not set, 1 when sent, -errno when it could not
// be (-EINVAL for an address that is neither a path nor "@abstract", as libsystemd 252).
int NotifySupervisor(const std::string& state);

// sd_watchdog_enabled(0, usec): 1 with *usec set when supd's manager expects WATCHDOG=1 pings,
// 0 when WATCHDOG_USEC is not set or WATCHDOG_PID names another process, -EINVAL when either is
// not a number, or the interval is 0 or UINT64_MAX.
int SupervisorWatchdog(uint64_t* usec);

}  // namespace supd
