// What `supctl daemon-reexec` makes of supd's answers after its request: supd replied with its
// reexec count K and then execs itself; the first supd to answer a ping afterwards says
// whether the exec took (K+1: the new binary runs) or not (K: the old supd resumed, or the
// old binary was exec'd back with its state).
//
// No I/O of its own: the ping and the sleep are the caller's (supctl's real ones, a test's
// fakes), so every outcome is a unit test.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "lib/base/result.h"

namespace supd::control {

struct ReexecVerdict {
  int exit_code = 0;    // supctl's: 0 the new binary answers, 1 otherwise
  std::string message;  // for stderr; "" when all went well
};

// One ping: its "result" object, or an error when no supd answered (not running yet, the
// connection refused or closed). Called with the time left until the deadline.
using PingFn = std::function<Result<nlohmann::json>(std::chrono::milliseconds left)>;
using SleepFn = std::function<void(std::chrono::milliseconds)>;
using NowFn = std::function<std::chrono::steady_clock::time_point()>;

// Pings every `interval` until an answer, at most `timeout`:
//   reexecs K+1 (or more: another reexec came in between) -> exit 0, no message
//   reexecs K -> 1, "daemon-reexec failed: supd is still running the old binary (see its log)"
//   no answer  -> 1, "daemon-reexec: no answer from supd within 30s: <last error>"
//   an answer without a reexec count -> 1, "daemon-reexec: supd answered without a reexec
//   count (an older supd?)"
ReexecVerdict WaitForReexec(uint64_t before, std::chrono::milliseconds timeout,
                            std::chrono::milliseconds interval, const PingFn& ping,
                            const SleepFn& sleep, const NowFn& now);

}  // namespace supd::control
