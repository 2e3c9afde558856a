// Value syntaxes of systemd.time(7), systemd.syntax(7) booleans, signals and exit statuses.

#include "lib/unit/values.h"

#include <charconv>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <limits>

#include "lib/unit/unit_loader.h"

namespace supd {
namespace {

constexpr std::string_view kWhitespace = " \t\n\r";

bool IsSpace(char c) { return kWhitespace.find(c) != std::string_view::npos; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

std::string_view SkipSpace(std::string_view s) {
  size_t n = 0;
  while (n < s.size() && IsSpace(s[n])) ++n;
  return s.substr(n);
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

constexpr uint64_t kUsecPerSec = 1000000;
constexpr uint64_t kUsecPerMinute = 60 * kUsecPerSec;
constexpr uint64_t kUsecPerHour = 60 * kUsecPerMinute;
constexpr uint64_t kUsecPerDay = 24 * kUsecPerHour;
// systemd's month and year are averages: 30.44 days and 365.25 days.
constexpr uint64_t kUsecPerMonth = 2629800 * kUsecPerSec;
constexpr uint64_t kUsecPerYear = 31557600 * kUsecPerSec;
// Everything at or above this is infinity (systemd's USEC_INFINITY is UINT64_MAX; ours is the
// largest value std::chrono::microseconds holds).
constexpr uint64_t kUsecLimit = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());

struct TimeUnit {
  std::string_view suffix;
  uint64_t usec;
};

// Order matters: the first suffix that the text starts with wins, so longer spellings come
// before their prefixes ("msec" before "m", "months" before "m").
constexpr TimeUnit kTimeUnits[] = {
    {"seconds", kUsecPerSec},
    {"second", kUsecPerSec},
    {"sec", kUsecPerSec},
    {"s", kUsecPerSec},
    {"minutes", kUsecPerMinute},
    {"minute", kUsecPerMinute},
    {"min", kUsecPerMinute},
    {"months", kUsecPerMonth},
    {"month", kUsecPerMonth},
    {"M", kUsecPerMonth},
    {"msec", 1000},
    {"ms", 1000},
    {"m", kUsecPerMinute},
    {"hours", kUsecPerHour},
    {"hour", kUsecPerHour},
    {"hr", kUsecPerHour},
    {"h", kUsecPerHour},
    {"days", kUsecPerDay},
    {"day", kUsecPerDay},
    {"d", kUsecPerDay},
    {"weeks", 7 * kUsecPerDay},
    {"week", 7 * kUsecPerDay},
    {"w", 7 * kUsecPerDay},
    {"years", kUsecPerYear},
    {"year", kUsecPerYear},
    {"y", kUsecPerYear},
    {"usec", 1},
    {"us", 1},
    {"\xce\xbcs", 1} /* U+03BC */,
    {"\xc2\xb5s", 1} /* U+00B5 */,
};

// Returns the text after a unit suffix at the start of `s` and sets *usec; `s` itself if none.
std::string_view ExtractMultiplier(std::string_view s, uint64_t* usec) {
  for (const TimeUnit& u : kTimeUnits) {
    if (s.starts_with(u.suffix)) {
      *usec = u.usec;
      return s.substr(u.suffix.size());
    }
  }
  return s;
}

Error BadTime(const std::string& text) { return Error{"invalid time span '" + text + "'"}; }

}  // namespace

Result<Usec> ParseTimeSpan(const std::string& text) {
  std::string_view p = SkipSpace(text);
  if (p.starts_with("infinity")) {
    if (!SkipSpace(p.substr(8)).empty()) return BadTime(text);
    return kInfinity;
  }
  uint64_t total = 0;
  bool something = false;
  for (;;) {
    p = SkipSpace(p);
    if (p.empty()) {
      if (!something) return BadTime(text);
      break;
    }
    // Integer part (may be empty when a fraction follows: ".5s").
    size_t n = 0;
    uint64_t whole = 0;
    while (n < p.size() && IsDigit(p[n])) {
      if (whole > (kUsecLimit - 9) / 10) return Error{"time span '" + text + "' is too large"};
      whole = whole * 10 + static_cast<uint64_t>(p[n] - '0');
      ++n;
    }
    bool has_fraction = n < p.size() && p[n] == '.';
    if (n == 0 && !has_fraction) return BadTime(text);
    std::string_view fraction;
    if (has_fraction) {
      size_t f = n + 1;
      while (f < p.size() && IsDigit(p[f])) ++f;
      fraction = p.substr(n + 1, f - n - 1);
      // "3." "3.s": a dot must be followed by digits.
      if (fraction.empty()) return BadTime(text);
      n = f;
    }
    std::string_view rest = p.substr(n);
    std::string_view after_space = SkipSpace(rest);
    uint64_t multiplier = kUsecPerSec;
    std::string_view after_unit = ExtractMultiplier(after_space, &multiplier);
    // A number must be followed by a unit, whitespace or the end ("12.34.56" is refused).
    if (after_unit.data() == rest.data() && !rest.empty()) return BadTime(text);
    if (whole != 0 && whole >= kUsecLimit / multiplier) {
      return Error{"time span '" + text + "' is too large"};
    }
    uint64_t k = whole * multiplier;
    if (k >= kUsecLimit - total) return Error{"time span '" + text + "' is too large"};
    total += k;
    uint64_t m = multiplier / 10;
    for (char c : fraction) {
      uint64_t part = static_cast<uint64_t>(c - '0') * m;
      if (part >= kUsecLimit - total) return Error{"time span '" + text + "' is too large"};
      total += part;
      m /= 10;
    }
    something = true;
    p = after_unit;
  }
  return Usec(static_cast<int64_t>(total));
}

Result<bool> ParseBoolean(const std::string& text) {
  for (std::string_view t : {"1", "yes", "y", "true", "t", "on"}) {
    if (EqualsIgnoreCase(text, t)) return true;
  }
  for (std::string_view f : {"0", "no", "n", "false", "f", "off"}) {
    if (EqualsIgnoreCase(text, f)) return false;
  }
  return Error{"invalid boolean '" + text + "'"};
}

Result<unsigned> ParseUnsigned(std::string_view text) {
  if (text.empty() || text.size() > 10) return Error{"invalid number '" + std::string(text) + "'"};
  uint64_t v = 0;
  for (char c : text) {
    if (!IsDigit(c)) return Error{"invalid number '" + std::string(text) + "'"};
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v > std::numeric_limits<unsigned>::max()) {
    return Error{"number '" + std::string(text) + "' is out of range"};
  }
  return static_cast<unsigned>(v);
}

Result<int> ParseSignal(const std::string& text) {
  auto bad = [&] { return Error{"invalid signal '" + text + "'"}; };
  if (text.empty()) return bad();
  if (IsDigit(text[0])) {
    auto n = ParseUnsigned(text);
    // Compared as unsigned: narrowed to int first, 4294967295 was signal -1.
    if (!n.ok() || *n == 0 || *n >= static_cast<unsigned>(NSIG)) return bad();
    return static_cast<int>(*n);
  }
  if (auto signo = SignalFromName(text)) return *signo;
  return bad();
}

Result<void> AddExitStatusWord(std::string_view word, ExitStatusSet* set) {
  // LSB exit codes, as systemd's exit_status_from_string() knows them.
  static constexpr std::pair<std::string_view, int> kNames[] = {
      {"SUCCESS", 0},      {"FAILURE", 1},      {"INVALIDARGUMENT", 2}, {"NOTIMPLEMENTED", 3},
      {"NOPERMISSION", 4}, {"NOTINSTALLED", 5}, {"NOTCONFIGURED", 6},   {"NOTRUNNING", 7},
  };
  if (!word.empty() && IsDigit(word[0])) {
    auto n = ParseUnsigned(word);
    if (!n.ok() || *n > 255) return Error{"invalid exit status '" + std::string(word) + "'"};
    set->codes.insert(static_cast<int>(*n));
    return Ok();
  }
  for (const auto& [name, code] : kNames) {
    if (word == name) {
      set->codes.insert(code);
      return Ok();
    }
  }
  auto sig = ParseSignal(std::string(word));
  if (!sig.ok()) return Error{"invalid exit status '" + std::string(word) + "'"};
  set->signals.insert(*sig);
  return Ok();
}

}  // namespace supd
