#include "lib/unit/log_settings.h"

#include <charconv>
#include <string>

namespace supd {

Result<uint64_t> ParseByteSize(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  uint64_t value = 0;
  auto r = std::from_chars(text.data(), text.data() + text.size(), value);
  if (r.ec != std::errc() || r.ptr == text.data())
    return Error{"'" + std::string(text) + "' is not a size (bytes, or with K, M, G, T)"};
  std::string_view unit = text.substr(static_cast<size_t>(r.ptr - text.data()));
  while (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
  unsigned shift = 0;
  if (unit.empty() || unit == "B") shift = 0;
  else if (unit == "K") shift = 10;
  else if (unit == "M") shift = 20;
  else if (unit == "G") shift = 30;
  else if (unit == "T") shift = 40;
  else return Error{"'" + std::string(text) + "' is not a size (bytes, or with K, M, G, T)"};
  if (shift > 0 && value > (UINT64_MAX >> shift)) return Error{"size '" + std::string(text) + "' is too large"};
  value <<= shift;
  if (value == 0) return Error{"size must be at least 1 byte"};
  return value;
}

Result<ServiceSpec::Output> ParseOutputSetting(std::string_view v) {
  using Kind = ServiceSpec::Output::Kind;
  ServiceSpec::Output o;
  o.as_written = std::string(v);
  o.set = true;
  if (v == "journal" || v == "journal+console" || v == "kmsg" || v == "kmsg+console" ||
      v == "syslog" || v == "syslog+console") {
    o.kind = Kind::kJournal;
    return o;
  }
  if (v == "inherit") {
    o.kind = Kind::kInherit;
    return o;
  }
  if (v == "null") {
    o.kind = Kind::kNull;
    return o;
  }
  for (auto [prefix, kind] : {std::pair{std::string_view("file:"), Kind::kFile},
                              std::pair{std::string_view("append:"), Kind::kAppend},
                              std::pair{std::string_view("truncate:"), Kind::kTruncate}}) {
    if (!v.starts_with(prefix)) continue;
    o.kind = kind;
    o.path = std::string(v.substr(prefix.size()));
    if (o.path.empty() || o.path[0] != '/')
      return Error{"'" + std::string(v) + "': the path must be absolute"};
    return o;
  }
  if (v == "tty" || v == "socket" || v.starts_with("fd:"))
    return Error{"'" + std::string(v) +
                 "' is not supported by supd (use journal, file:, append:, truncate:, null or "
                 "inherit)"};
  return Error{"unknown value '" + std::string(v) + "'"};
}

Result<int> ParseSyslogLevel(std::string_view v) {
  static constexpr std::string_view kNames[] = {"emerg",   "alert",  "crit", "err",
                                                "warning", "notice", "info", "debug"};
  for (int i = 0; i < 8; ++i)
    if (v == kNames[i]) return i;
  return Error{"unknown level '" + std::string(v) +
               "' (emerg, alert, crit, err, warning, notice, info, debug)"};
}

}  // namespace supd
