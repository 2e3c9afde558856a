// The value syntaxes of systemd.exec(5) for limits, groups, capabilities and scheduling, after
// systemd's rlimit-util.c (rlimit_parse), format-util/parse-util.c (parse_size, parse_nice),
// cap-list.c and load-fragment.c (config_parse_capability_set).
//
// Where systemd logs a bad value and ignores the line, supd refuses the unit (as the rest of
// lib/unit/ does): a limit that looks set but is not would be worse than a unit that does not
// load.

#include "lib/unit/exec_settings.h"

#include <charconv>
#include <cmath>
#include <limits>

#include "lib/unit/exec_command.h"
#include "lib/unit/loader_base.h"
#include "lib/unit/unit_loader.h"
#include "lib/unit/unit_syntax.h"

namespace supd {
namespace {

constexpr uint64_t kRlimInfinity = RLIM_INFINITY;
static_assert(sizeof(rlim_t) == sizeof(uint64_t), "rlim_t is 64-bit on Linux");

// How a Limit*= value is written.
enum class LimitKind {
  kCount,    // a plain number
  kSize,     // bytes, with K/M/G/... suffixes
  kSeconds,  // a time span, bare numbers in seconds, stored in seconds (LimitCPU=)
  kUsec,     // a time span, bare numbers in microseconds, stored in µs (LimitRTTIME=)
  kNice,     // LimitNICE=: "+N"/"-N" nice level or a raw 0..40
};

struct LimitEntry {
  std::string_view directive;
  int resource;
  LimitKind kind;
};

constexpr LimitEntry kLimits[] = {
    {"LimitCPU", RLIMIT_CPU, LimitKind::kSeconds},
    {"LimitFSIZE", RLIMIT_FSIZE, LimitKind::kSize},
    {"LimitDATA", RLIMIT_DATA, LimitKind::kSize},
    {"LimitSTACK", RLIMIT_STACK, LimitKind::kSize},
    {"LimitCORE", RLIMIT_CORE, LimitKind::kSize},
    {"LimitRSS", RLIMIT_RSS, LimitKind::kSize},
    {"LimitNOFILE", RLIMIT_NOFILE, LimitKind::kCount},
    {"LimitAS", RLIMIT_AS, LimitKind::kSize},
    {"LimitNPROC", RLIMIT_NPROC, LimitKind::kCount},
    {"LimitMEMLOCK", RLIMIT_MEMLOCK, LimitKind::kSize},
    {"LimitLOCKS", RLIMIT_LOCKS, LimitKind::kCount},
    {"LimitSIGPENDING", RLIMIT_SIGPENDING, LimitKind::kCount},
    {"LimitMSGQUEUE", RLIMIT_MSGQUEUE, LimitKind::kSize},
    {"LimitNICE", RLIMIT_NICE, LimitKind::kNice},
    {"LimitRTPRIO", RLIMIT_RTPRIO, LimitKind::kCount},
    {"LimitRTTIME", RLIMIT_RTTIME, LimitKind::kUsec},
};
static_assert(std::size(kLimits) == kResourceLimitCount, "one Limit*= per RLIMIT_*");

const LimitEntry* FindLimit(std::string_view directive) {
  for (const LimitEntry& e : kLimits) {
    if (e.directive == directive) return &e;
  }
  return nullptr;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

Result<uint64_t> ParseU64(std::string_view text) {
  if (text.empty() || !IsDigit(text[0])) return Error{"not a number"};
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec == std::errc::result_out_of_range) return Error{"value too large"};
  if (ec != std::errc() || p != text.data() + text.size()) return Error{"not a number"};
  return v;
}

// An optionally signed decimal int ("+5", "-20", "7").
Result<int> ParseInt(std::string_view text) {
  bool negative = false;
  if (!text.empty() && (text[0] == '+' || text[0] == '-')) {
    negative = text[0] == '-';
    text.remove_prefix(1);
  }
  auto v = ParseU64(text);
  if (!v.ok()) return v.take_error();
  if (*v > static_cast<uint64_t>(std::numeric_limits<int>::max())) return Error{"out of range"};
  return negative ? -static_cast<int>(*v) : static_cast<int>(*v);
}

// parse_time(text, default_unit = µs): systemd.time(7) spans where a component without a unit
// is in microseconds. ParseTimeSpan's bare unit is seconds, so "us" is written after each
// number that has none ("500" → "500us", "1s 500" → "1s 500us").
std::string WithMicrosecondDefault(std::string_view text) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    if (!IsDigit(text[i]) && text[i] != '.') {
      out += text[i++];
      continue;
    }
    size_t j = i;
    while (j < text.size() && (IsDigit(text[j]) || text[j] == '.')) ++j;
    out.append(text.substr(i, j - i));
    size_t k = j;
    while (k < text.size() && IsBlank(text[k])) ++k;
    // A unit starts with a letter or the UTF-8 lead byte of 'µ'.
    const bool has_unit = k < text.size() && !IsDigit(text[k]) && text[k] != '.' && text[k] != '-';
    if (!has_unit) out += "us";
    i = j;
  }
  return out;
}

Result<uint64_t> ParseLimitValue(LimitKind kind, std::string_view text) {
  if (text == "infinity") return kRlimInfinity;
  switch (kind) {
    case LimitKind::kCount: {
      auto v = ParseU64(text);
      if (!v.ok()) return v.take_error();
      if (*v >= kRlimInfinity) return Error{"value too large"};
      return *v;
    }
    case LimitKind::kSize: {
      auto v = ParseSize1024(text);
      if (!v.ok()) return v.take_error();
      if (*v >= kRlimInfinity) return Error{"value too large"};
      return *v;
    }
    case LimitKind::kSeconds:
    case LimitKind::kUsec: {
      auto t = ParseTimeSpan(kind == LimitKind::kUsec ? WithMicrosecondDefault(text)
                                                      : std::string(text));
      if (!t.ok()) return Error{"not a time span"};
      if (*t == kInfinity) return kRlimInfinity;
      const uint64_t usec = static_cast<uint64_t>(t->count());
      // systemd rounds LimitCPU= up to whole seconds (DIV_ROUND_UP).
      return kind == LimitKind::kUsec ? usec : (usec + 999999) / 1000000;
    }
    case LimitKind::kNice: {
      // Linux maps RLIMIT_NICE 1..40 to nice levels 19..-20 (limit = 20 - nice); 0 is the
      // kernel's default and accepted raw, as systemd does.
      if (!text.empty() && (text[0] == '+' || text[0] == '-')) {
        auto v = ParseU64(text.substr(1));
        if (!v.ok()) return v.take_error();
        if (text[0] == '+') {
          if (*v > 19) return Error{"nice level out of range (-20..19)"};
          return 20 - *v;
        }
        if (*v > 20) return Error{"nice level out of range (-20..19)"};
        return 20 + *v;
      }
      auto v = ParseU64(text);
      if (!v.ok()) return v.take_error();
      if (*v > 40) return Error{"raw value out of range (0..40)"};
      return *v;
    }
  }
  return Error{"unknown limit"};
}

std::string FormatLimitValue(uint64_t v) {
  return v == kRlimInfinity ? std::string("infinity") : std::to_string(v);
}

// config_parse_capability_set(): "~" inverts; an empty list (also "~" alone) replaces what was
// there; otherwise a list merges into an earlier assignment (OR, or AND NOT when inverted),
// unless the set still has its initial value, which it replaces.
Result<void> ApplyCapabilities(const UnitAssignment& a, CapabilitySet initial, CapabilitySet* set) {
  std::string_view v = a.value;
  bool invert = false;
  if (!v.empty() && v[0] == '~') {
    invert = true;
    v.remove_prefix(1);
  }
  auto words = SplitWords(v, kExtractUnquote);
  if (!words.ok()) return Error{a.Location() + ": Invalid " + a.key + "= value '" + a.value + "'"};
  CapabilitySet sum = 0;
  for (const std::string& w : *words) {
    auto cap = CapabilityFromName(w);
    if (!cap) return Error{a.Location() + ": Unknown capability '" + w + "' in " + a.key + "="};
    sum |= CapabilitySet{1} << *cap;
  }
  if (sum == 0 || *set == initial) {
    *set = invert ? ~sum : sum;
  } else if (invert) {
    *set &= ~sum;
  } else {
    *set |= sum;
  }
  return Ok();
}

}  // namespace

std::string_view ResourceLimitDirective(int resource) {
  for (const LimitEntry& e : kLimits) {
    if (e.resource == resource) return e.directive;
  }
  return "";
}

Result<uint64_t> ParseSize1024(std::string_view text) {
  struct Suffix {
    std::string_view text;
    uint64_t factor;
  };
  static constexpr Suffix kSuffixes[] = {
      {"E", 1ULL << 60}, {"P", 1ULL << 50}, {"T", 1ULL << 40}, {"G", 1ULL << 30},
      {"M", 1ULL << 20}, {"K", 1ULL << 10}, {"B", 1},          {"", 1},
  };
  const Error bad{"not a size"};
  const Error range{"value too large"};
  size_t p = 0;
  while (p < text.size() && IsBlank(text[p])) ++p;
  if (p == text.size()) return bad;
  uint64_t total = 0;
  size_t start = 0;  // each suffix at most once, larger before smaller
  do {
    while (p < text.size() && IsBlank(text[p])) ++p;
    if (p == text.size() || !IsDigit(text[p])) return bad;
    uint64_t whole = 0;
    auto [end, ec] = std::from_chars(text.data() + p, text.data() + text.size(), whole);
    if (ec == std::errc::result_out_of_range) return range;
    size_t e = static_cast<size_t>(end - text.data());
    double frac = 0;
    if (e < text.size() && text[e] == '.') {
      ++e;
      // Digits after the point are optional ("10.M" is valid, as in systemd).
      double scale = 0.1;
      while (e < text.size() && IsDigit(text[e])) {
        frac += (text[e] - '0') * scale;
        scale /= 10;
        ++e;
      }
    }
    while (e < text.size() && IsBlank(text[e])) ++e;
    size_t i = start;
    for (; i < std::size(kSuffixes); ++i) {
      if (text.substr(e, kSuffixes[i].text.size()) == kSuffixes[i].text) break;
    }
    if (i == std::size(kSuffixes)) return bad;
    const uint64_t factor = kSuffixes[i].factor;
    if (whole + (frac > 0 ? 1 : 0) > std::numeric_limits<uint64_t>::max() / factor) return range;
    const uint64_t part =
        whole * factor + static_cast<uint64_t>(std::floor(frac * static_cast<double>(factor)));
    if (part > std::numeric_limits<uint64_t>::max() - total) return range;
    total += part;
    p = e + kSuffixes[i].text.size();
    start = i + 1;
    // The empty suffix matched: only a number with nothing after it may end the text.
    if (kSuffixes[i].text.empty() && p < text.size()) return bad;
  } while (p < text.size());
  return total;
}

Result<ResourceLimit> ParseResourceLimit(int resource, std::string_view text) {
  const LimitEntry* entry = nullptr;
  for (const LimitEntry& e : kLimits) {
    if (e.resource == resource) entry = &e;
  }
  if (entry == nullptr) return Error{"unknown resource " + std::to_string(resource)};
  const size_t colon = text.find(':');
  std::string_view soft_text = text.substr(0, colon);
  auto soft = ParseLimitValue(entry->kind, soft_text);
  if (!soft.ok()) return soft.take_error();
  ResourceLimit limit{*soft, *soft};
  if (colon != std::string_view::npos) {
    std::string_view hard_text = text.substr(colon + 1);
    if (hard_text.find(':') != std::string_view::npos) return Error{"more than one ':'"};
    auto hard = ParseLimitValue(entry->kind, hard_text);
    if (!hard.ok()) return hard.take_error();
    if (*soft > *hard) return Error{"soft limit above hard limit"};
    limit.hard = *hard;
  }
  return limit;
}

std::string FormatResourceLimit(const ResourceLimit& limit) {
  if (limit.soft == limit.hard) return FormatLimitValue(limit.soft);
  return FormatLimitValue(limit.soft) + ":" + FormatLimitValue(limit.hard);
}

const std::vector<std::string_view>& ExecSettingKeys() {
  static const std::vector<std::string_view> kKeys = [] {
    std::vector<std::string_view> keys;
    for (const LimitEntry& e : kLimits) keys.push_back(e.directive);
    for (std::string_view k : {"SupplementaryGroups", "UMask", "Nice", "OOMScoreAdjust",
                               "CapabilityBoundingSet", "AmbientCapabilities", "NoNewPrivileges"})
      keys.push_back(k);
    return keys;
  }();
  return kKeys;
}

Result<void> ApplyExecSetting(const UnitAssignment& a, const SpecifierResolver& resolve,
                              ExecSettings* settings) {
  auto invalid = [&](const std::string& why) {
    return Error{a.Location() + ": Invalid " + a.key + "= value '" + a.value + "'" +
                 (why.empty() ? "" : ": " + why)};
  };
  if (const LimitEntry* e = FindLimit(a.key)) {
    auto limit = ParseResourceLimit(e->resource, a.value);
    if (!limit.ok()) return invalid(limit.error().message);
    settings->limits[e->resource] = *limit;
    return Ok();
  }
  if (a.key == "SupplementaryGroups") {
    if (a.value.empty()) {
      settings->supplementary_groups.clear();
      return Ok();
    }
    auto words = SplitWords(a.value, kExtractUnquote);
    if (!words.ok()) return invalid("");
    std::vector<std::string> groups;
    for (const std::string& w : *words) {
      auto name = resolve(w);
      if (!name.ok()) {
        return Error{a.Location() + ": Failed to resolve specifiers in " + a.key +
                     "=: " + name.error().message};
      }
      if (auto valid = CheckUserGroupName(*name); !valid.ok()) {
        return Error{a.Location() + ": Invalid group name '" + *name + "' in " + a.key +
                     "=: " + valid.error().message};
      }
      groups.push_back(std::move(*name));
    }
    for (std::string& g : groups) settings->supplementary_groups.push_back(std::move(g));
    return Ok();
  }
  if (a.key == "UMask") {
    // parse_mode(): octal, at most 07777.
    unsigned mode = 0;
    auto [p, ec] = std::from_chars(a.value.data(), a.value.data() + a.value.size(), mode, 8);
    if (a.value.empty() || ec != std::errc() || p != a.value.data() + a.value.size() ||
        mode > 07777)
      return invalid("");
    settings->umask = static_cast<mode_t>(mode);
    return Ok();
  }
  if (a.key == "Nice" || a.key == "OOMScoreAdjust") {
    const bool nice = a.key == "Nice";
    std::optional<int>& out = nice ? settings->nice : settings->oom_score_adjust;
    if (a.value.empty()) {  // systemd: back to unset (the manager's own value)
      out.reset();
      return Ok();
    }
    const int lo = nice ? -20 : -1000, hi = nice ? 19 : 1000;
    auto v = ParseInt(a.value);
    if (!v.ok() || *v < lo || *v > hi)
      return invalid("must be between " + std::to_string(lo) + " and " + std::to_string(hi));
    out = *v;
    return Ok();
  }
  if (a.key == "CapabilityBoundingSet")
    return ApplyCapabilities(a, kAllCapabilities, &settings->capability_bounding_set);
  if (a.key == "AmbientCapabilities")
    return ApplyCapabilities(a, 0, &settings->ambient_capabilities);
  if (a.key == "NoNewPrivileges") {
    auto b = ParseBoolean(a.value);
    if (!b.ok()) return invalid("");
    settings->no_new_privileges = *b;
    return Ok();
  }
  return Error{a.Location() + ": internal error: " + a.key + "= is not an exec setting"};
}

}  // namespace supd
