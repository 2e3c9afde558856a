#include "lib/base/signals.h"

#include <signal.h>
#include <string.h>

#include <charconv>
#include <cstdint>

namespace supd {
namespace {

// The classic signals' names come from glibc's own table (sigabbrev_np: "TERM" for 15, nullptr
// for the real-time ones and for numbers it does not know).
const char* ClassicName(int signo) { return sigabbrev_np(signo); }

// "RTMIN"/"RTMIN+n" from `origin` upwards, or "RTMAX"/"RTMAX-n" downwards: the signal, or 0.
int RealTimeSignal(std::string_view name, std::string_view base, int origin, char sign) {
  if (!name.starts_with(base)) return 0;
  std::string_view rest = name.substr(base.size());
  if (rest.empty()) return origin;
  if (rest[0] != sign) return 0;
  rest.remove_prefix(1);
  // 1 to 10 digits, as ParseUnsigned reads them (from_chars takes no sign for an unsigned type).
  if (rest.empty() || rest.size() > 10) return 0;
  uint32_t offset = 0;
  auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), offset);
  if (ec != std::errc() || end != rest.data() + rest.size()) return 0;
  const int64_t v =
      sign == '+' ? origin + static_cast<int64_t>(offset) : origin - static_cast<int64_t>(offset);
  if (v < SIGRTMIN || v > SIGRTMAX) return 0;
  return static_cast<int>(v);
}

}  // namespace

std::string SignalName(int signo) {
  if (signo >= SIGRTMIN && signo <= SIGRTMAX) {
    return signo == SIGRTMIN ? "RTMIN" : "RTMIN+" + std::to_string(signo - SIGRTMIN);
  }
  const char* abbrev = ClassicName(signo);
  if (abbrev != nullptr) return abbrev;
  return std::to_string(signo);
}

std::string SigName(int sig) {
  const char* abbrev = ClassicName(sig);
  if (abbrev == nullptr) return "signal " + std::to_string(sig);
  return std::string("SIG") + abbrev;
}

std::optional<int> SignalFromName(std::string_view name) {
  if (name.starts_with("SIG")) name.remove_prefix(3);
  for (int s = 1; s < SIGRTMIN; ++s) {
    const char* abbrev = ClassicName(s);
    if (abbrev != nullptr && name == abbrev) return s;
  }
  if (int s = RealTimeSignal(name, "RTMIN", SIGRTMIN, '+'); s > 0) return s;
  if (int s = RealTimeSignal(name, "RTMAX", SIGRTMAX, '-'); s > 0) return s;
  return std::nullopt;
}

Result<void> SendSignal(pid_t pid, int sig) {
  if (pid <= 0) return Error{"refusing to signal pid " + std::to_string(pid)};
  if (::kill(pid, sig) < 0 && errno != ESRCH)
    return ErrnoError("send signal " + std::to_string(sig) + " to pid " + std::to_string(pid));
  return Ok();
}

}  // namespace supd
