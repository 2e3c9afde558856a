#include "lib/control/reexec_wait.h"

#include <fmt/format.h>

namespace supd::control {

ReexecVerdict WaitForReexec(uint64_t before, std::chrono::milliseconds timeout,
                            std::chrono::milliseconds interval, const PingFn& ping,
                            const SleepFn& sleep, const NowFn& now) {
  using std::chrono::milliseconds;
  const auto deadline = now() + timeout;
  std::string last_error = "no ping sent";
  for (;;) {
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - now());
    if (left.count() <= 0) break;
    auto r = ping(left);
    if (r.ok()) {
      const auto it = r->find("reexecs");
      if (!r->is_object() || it == r->end() || !it->is_number_integer() || *it < 0) {
        return {1, "daemon-reexec: supd answered without a reexec count (an older supd?)"};
      }
      const auto after = it->get<uint64_t>();
      if (after > before) return {0, ""};
      return {1, "daemon-reexec failed: supd is still running the old binary (see its log)"};
    }
    last_error = r.error().message;
    sleep(std::min(interval, std::chrono::duration_cast<milliseconds>(deadline - now())));
  }
  return {1, fmt::format("daemon-reexec: no answer from supd within {}: {}",
                         timeout.count() % 1000 == 0 ? fmt::format("{}s", timeout.count() / 1000)
                                                     : fmt::format("{}ms", timeout.count()),
                         last_error)};
}

}  // namespace supd::control
