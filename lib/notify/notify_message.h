// NotifyMessage / ParseNotifyMessage: one sd_notify(3) datagram, as systemd reads it.
//
// Pure and thread-safe: no I/O, no knowledge of services. The parser follows systemd's manager
// (manager_dispatch_notify_fd) and service_notify_message() in src/core/service.c:
//   - the datagram is split at '\n' (and '\r', as strv_split_newlines does); empty lines are
//     skipped, so a trailing newline is fine; backslashes are kept as sent;
//   - flags are exact assignments: "READY=1", "RELOADING=1", "STOPPING=1", "BARRIER=1",
//     "FDSTORE=1", "FDSTOREREMOVE=1" ("READY=0" or "READY=yes" sets nothing);
//   - for a key with a value (STATUS=, MAINPID=, ...) the first assignment counts, as with
//     systemd's strv_find_startswith(); later ones are listed in `ignored`;
//   - an unknown assignment, or an invalid value of a known one, is listed in `ignored` and
//     changes nothing else: the rest of the datagram still applies.
// What the fields mean for a service (which pid may send what, precedence of STOPPING= over
// READY= over RELOADING=) is the caller's business; see the field comments.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/result.h"
#include "lib/unit/service_spec.h"

namespace supd {

struct NotifyMessage {
  // READY=1 / RELOADING=1 / STOPPING=1, as sent. systemd's precedence when several are set:
  // STOPPING wins over READY, READY over RELOADING; READY=1 with RELOADING=1 and MONOTONIC_USEC
  // means "started and finished a reload at once".
  bool ready = false, reloading = false, stopping = false;
  // STATUS=: the new status text; "" clears it (STATUS= with nothing after it). Valid UTF-8, at
  // most kMaxStatusBytes; otherwise ignored.
  std::optional<std::string> status;
  // ERRNO=: 0..4095, as a number or an errno name ("ENOENT").
  std::optional<int> errno_value;
  // MAINPID=: a decimal pid > 0. Whether to believe it (sender is the main pid, or root, and the
  // pid belongs to the service) is the caller's check.
  std::optional<pid_t> mainpid;
  bool watchdog_ping = false;     // WATCHDOG=1
  bool watchdog_trigger = false;  // WATCHDOG=trigger: act as if the watchdog timed out now
  // WATCHDOG_USEC=: the new watchdog interval; 0 disables the watchdog, as in systemd. A value
  // above what Usec holds (e.g. systemd's USEC_INFINITY, 2^64-1) is kInfinity.
  std::optional<Usec> watchdog_usec;
  // EXTEND_TIMEOUT_USEC=: the running start/stop/runtime timeout is moved to at least now + this
  // (kInfinity for values too large for Usec).
  std::optional<Usec> extend_timeout;
  // MONOTONIC_USEC=: CLOCK_MONOTONIC in µs when the program began a reload (sent with
  // RELOADING=1); systemd accepts RELOADING=1 as the answer to its ReloadSignal= only when this is
  // present and not earlier than the signal.
  std::optional<uint64_t> monotonic_usec;
  // BARRIER=1 (sd_notify_barrier): the sender waits until the fd it passed is closed. As in
  // systemd, a datagram with BARRIER=1 is only a barrier: every other assignment in it is
  // ignored (listed in `ignored`), and the caller just closes the fds.
  bool barrier = false;
  // FDSTORE=1: keep the fds passed with this datagram under `fdname` (systemd's default name is
  // "stored"). FDSTOREREMOVE=1 with FDNAME=: close the stored fds of that name; when both are
  // sent, FDSTOREREMOVE=1 wins and fdstore stays false (the passed fds are to be closed).
  bool fdstore = false, fdstore_remove = false;
  // FDNAME=: at most 255 printable ASCII characters, no ':'; otherwise ignored.
  std::optional<std::string> fdname;
  // One line per assignment not understood or not applied: "NAME=VALUE (reason)". For debug
  // logs only; the wording is not an interface.
  std::vector<std::string> ignored;
};

// systemd's STATUS_TEXT_MAX.
inline constexpr size_t kMaxStatusBytes = 4096;

// Parses one datagram. Errors (the whole datagram is to be dropped), verbatim:
//   "empty notify message"
//   "notify message contains a NUL byte"
[[nodiscard]] Result<NotifyMessage> ParseNotifyMessage(std::string_view datagram);

}  // namespace supd
