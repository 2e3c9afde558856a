// Parsers for the scalar value syntaxes of unit files that are not part of the public loader API:
// exit statuses, unsigned integers, and the helpers ParseTimeSpan/ParseBoolean/ParseSignal
// (declared in lib/unit/unit_loader.h) build on.
//
// All functions are pure and thread-safe; failures are returned as Error values whose message is
// a short reason without file:line (the caller adds the location).
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "lib/base/result.h"
#include "lib/unit/service_spec.h"

namespace supd {

// "0".."4294967295" (digits only) → value.
[[nodiscard]] Result<unsigned> ParseUnsigned(std::string_view text);

// A user or group ID written as a number, as systemd's parse_uid() reads it (gids alike): decimal
// digits only (no sign, no spaces), no leading zero but for "0" itself, at most 4294967294, and
// neither 4294967295 nor 65535, which libc and old 16-bit tools use for "no ID". The Error's
// message is the reason, verbatim:
//   "'<text>' is not a number"
//   "'<text>': a numeric ID must not have leading zeros"
//   "'<text>' is out of range (numeric user and group IDs are 0..4294967294)"
//   "'<text>' is reserved (4294967295 and 65535 mean \"no ID\")"
[[nodiscard]] Result<uid_t> ParseUid(std::string_view text);

// One word of SuccessExitStatus= and friends: an exit code 0..255, one of the LSB names
// ("SUCCESS", "FAILURE", "INVALIDARGUMENT", ... "NOTRUNNING"), or a signal name ("SIGKILL",
// "KILL"). Numbers are always exit codes, as in systemd.
[[nodiscard]] Result<void> AddExitStatusWord(std::string_view word, ExitStatusSet* set);

// The signal's name without "SIG" ("TERM"), or its number as text if it has no name.
std::string SignalName(int signo);

}  // namespace supd
