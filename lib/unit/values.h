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
#include "lib/base/signals.h"  // SignalName(), ParseSignal()'s inverse
#include "lib/unit/service_spec.h"

namespace supd {

// "0".."4294967295" (digits only) → value.
[[nodiscard]] Result<unsigned> ParseUnsigned(std::string_view text);

// One word of SuccessExitStatus= and friends: an exit code 0..255, one of the LSB names
// ("SUCCESS", "FAILURE", "INVALIDARGUMENT", ... "NOTRUNNING"), or a signal name ("SIGKILL",
// "KILL"). Numbers are always exit codes, as in systemd.
[[nodiscard]] Result<void> AddExitStatusWord(std::string_view word, ExitStatusSet* set);

}  // namespace supd
