// systemd's value syntaxes for the resource-control directives (parse_size(), parse_permyriad(),
// config_parse_memory_limit(), config_parse_tasks_max(), config_parse_cpu_quota()).

#include <cstdio>
#include <limits>

#include "lib/unit/resource_spec.h"

namespace supd {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

// "50", "12.5", "12.25" with at most `decimals` digits after the dot → value * 10^decimals.
// Unbounded above only by uint64.
bool ParseFixedPoint(std::string_view s, int decimals, uint64_t* out) {
  uint64_t whole = 0;
  size_t i = 0;
  if (s.empty() || !IsDigit(s[0])) return false;
  for (; i < s.size() && IsDigit(s[i]); ++i) {
    if (whole > (std::numeric_limits<uint64_t>::max() - 9) / 10) return false;
    whole = whole * 10 + static_cast<uint64_t>(s[i] - '0');
  }
  uint64_t frac = 0;
  int digits = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (i == s.size()) return false;
    for (; i < s.size() && IsDigit(s[i]); ++i) {
      if (++digits > decimals) return false;
      frac = frac * 10 + static_cast<uint64_t>(s[i] - '0');
    }
  }
  if (i != s.size()) return false;
  for (; digits < decimals; ++digits) frac *= 10;
  uint64_t scale = 1;
  for (int d = 0; d < decimals; ++d) scale *= 10;
  if (whole > (std::numeric_limits<uint64_t>::max() - frac) / scale) return false;
  *out = whole * scale + frac;
  return true;
}

// "50%" (two decimals), "500‰" (one), "5000‱" → parts per 10000. False if not a percentage
// at all; *bad set when it looks like one but is malformed.
bool ParsePermyriad(std::string_view s, uint64_t* out, bool* bad) {
  struct Form {
    std::string_view suffix;
    int decimals;
    uint64_t factor;  // to permyriad after the fixed point is removed
  };
  static constexpr Form kForms[] = {
      {"%", 2, 1}, {"\xe2\x80\xb0", 1, 1}, {"\xe2\x80\xb1", 0, 1}};  // %, ‰, ‱
  for (const Form& f : kForms) {
    if (!s.ends_with(f.suffix)) continue;
    uint64_t v;
    *bad = !ParseFixedPoint(Trim(s.substr(0, s.size() - f.suffix.size())), f.decimals, &v);
    if (!*bad) *out = v * f.factor;
    return true;
  }
  return false;
}

// parse_size(t, 1024): one or more "<number>[.<fraction>][ ]<suffix>" terms, summed.
bool ParseSize(std::string_view s, uint64_t* out) {
  struct Suffix {
    char c;
    uint64_t factor;
  };
  static constexpr Suffix kSuffixes[] = {
      {'E', 1ULL << 60}, {'P', 1ULL << 50}, {'T', 1ULL << 40}, {'G', 1ULL << 30},
      {'M', 1ULL << 20}, {'K', 1ULL << 10}, {'B', 1}};
  uint64_t total = 0;
  s = Trim(s);
  if (s.empty()) return false;
  while (!s.empty()) {
    size_t i = 0;
    uint64_t whole = 0;
    for (; i < s.size() && IsDigit(s[i]); ++i) {
      if (whole > (std::numeric_limits<uint64_t>::max() - 9) / 10) return false;
      whole = whole * 10 + static_cast<uint64_t>(s[i] - '0');
    }
    if (i == 0) return false;
    uint64_t frac = 0, frac_scale = 1;
    if (i < s.size() && s[i] == '.') {
      ++i;
      size_t start = i;
      for (; i < s.size() && IsDigit(s[i]); ++i) {
        if (frac_scale < 1000000000000000000ULL) {
          frac = frac * 10 + static_cast<uint64_t>(s[i] - '0');
          frac_scale *= 10;
        }
      }
      if (i == start) return false;
    }
    while (i < s.size() && IsSpace(s[i])) ++i;
    uint64_t factor = 1;
    if (i < s.size() && !IsDigit(s[i])) {
      bool found = false;
      for (const Suffix& x : kSuffixes) {
        if (s[i] == x.c) {
          factor = x.factor;
          found = true;
          ++i;
          break;
        }
      }
      if (!found) return false;
    }
    if (whole > std::numeric_limits<uint64_t>::max() / factor) return false;
    uint64_t v = whole * factor;
    // The fraction of the unit, rounded down (systemd does the same).
    const long double f = static_cast<long double>(frac) / frac_scale * factor;
    v += static_cast<uint64_t>(f);
    if (v > std::numeric_limits<uint64_t>::max() - total) return false;
    total += v;
    s = Trim(s.substr(i));
  }
  *out = total;
  return true;
}

}  // namespace

uint64_t LimitValue::Resolve(uint64_t total) const {
  switch (kind) {
    case Kind::kValue: return value;
    case Kind::kPermyriad: {
      // total * value / 10000 without overflow for any realistic total.
      const unsigned __int128 r = static_cast<unsigned __int128>(total) * value / 10000;
      return r > std::numeric_limits<uint64_t>::max() ? std::numeric_limits<uint64_t>::max()
                                                       : static_cast<uint64_t>(r);
    }
    case Kind::kInfinity:
    case Kind::kUnset: break;
  }
  return std::numeric_limits<uint64_t>::max();
}

namespace {

// `text` as written, with its meaning.
LimitValue MakeLimit(std::string_view text, LimitValue::Kind kind, uint64_t value = 0) {
  LimitValue v;
  v.text = std::string(text);
  v.kind = kind;
  v.value = value;
  return v;
}

}  // namespace

Result<LimitValue> ParseMemoryLimit(std::string_view raw, bool allow_zero) {
  const std::string_view text = Trim(raw);
  const std::string quoted = "'" + std::string(text) + "'";
  if (text == "infinity") return MakeLimit(text, LimitValue::Kind::kInfinity);
  bool bad = false;
  uint64_t n = 0;
  if (ParsePermyriad(text, &n, &bad)) {
    if (bad) return Error{"invalid percentage " + quoted};
    if (n > 10000) return Error{"percentage " + quoted + " is over 100%"};
    if (n == 0 && !allow_zero) return Error{"memory limit " + quoted + " is 0"};
    return MakeLimit(text, LimitValue::Kind::kPermyriad, n);
  }
  if (!ParseSize(text, &n)) return Error{"invalid size " + quoted};
  if (n == std::numeric_limits<uint64_t>::max())
    return Error{"memory limit " + quoted + " is out of range"};
  if (n == 0 && !allow_zero) return Error{"memory limit " + quoted + " is 0"};
  return MakeLimit(text, LimitValue::Kind::kValue, n);
}

Result<LimitValue> ParseTasksMax(std::string_view raw) {
  const std::string_view text = Trim(raw);
  if (text == "infinity") return MakeLimit(text, LimitValue::Kind::kInfinity);
  bool bad = false;
  uint64_t n = 0;
  if (ParsePermyriad(text, &n, &bad)) {
    if (bad || n == 0 || n > 10000)
      return Error{"invalid tasks percentage '" + std::string(text) + "'"};
    return MakeLimit(text, LimitValue::Kind::kPermyriad, n);
  }
  if (!ParseFixedPoint(text, 0, &n) || n == 0 || n == std::numeric_limits<uint64_t>::max())
    return Error{"invalid maximum tasks value '" + std::string(text) + "'"};
  return MakeLimit(text, LimitValue::Kind::kValue, n);
}

Result<uint64_t> ParseCpuQuota(std::string_view raw) {
  const std::string_view text = Trim(raw);
  bool bad = false;
  uint64_t permyriad = 0;
  if (!ParsePermyriad(text, &permyriad, &bad) || bad || permyriad == 0)
    return Error{"CPU quota '" + std::string(text) + "' is invalid (a percentage > 0 is needed)"};
  if (permyriad > std::numeric_limits<uint64_t>::max() / 100)
    return Error{"CPU quota '" + std::string(text) + "' is out of range"};
  return permyriad * 100;  // 1% = 100 permyriad = 10000 usec per second
}

Result<uint64_t> ParseCgroupWeight(std::string_view raw, bool* idle) {
  const std::string_view text = Trim(raw);
  if (idle != nullptr) {
    *idle = false;
    if (text == "idle") {
      *idle = true;
      return uint64_t{0};
    }
  }
  uint64_t n = 0;
  if (!ParseFixedPoint(text, 0, &n) || n < 1 || n > 10000)
    return Error{"weight '" + std::string(text) + "' is out of range (1..10000)"};
  return n;
}

Result<GoRuntimeMode> ParseGoRuntime(std::string_view raw) {
  const std::string_view text = Trim(raw);
  if (text == "auto") return GoRuntimeMode::kAuto;
  if (text == "off") return GoRuntimeMode::kOff;
  return Error{"GoRuntime= must be auto or off, not '" + std::string(text) + "'"};
}

std::string FormatBytes(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"K", "M", "G", "T", "P", "E"};
  if (bytes < 1024) return std::to_string(bytes) + "B";
  long double v = static_cast<long double>(bytes);
  int u = -1;
  while (v >= 1024 && u < 5) {
    v /= 1024;
    ++u;
  }
  // snprintf, not fmt: long double keeps every 64-bit count exact, and fmt 9.1 (Debian 12)
  // drops the last digit of a long double that rounds up ("{:.1f}" of 9.96L is "10.").
  char buf[32];
  if (v == static_cast<long double>(static_cast<uint64_t>(v)))
    std::snprintf(buf, sizeof(buf), "%llu%s", static_cast<unsigned long long>(v), kUnits[u]);
  else
    std::snprintf(buf, sizeof(buf), "%.1Lf%s", v, kUnits[u]);
  return buf;
}

}  // namespace supd
