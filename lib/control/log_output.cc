#include "lib/control/log_output.h"

#include <time.h>

#include <array>
#include <cstdio>
#include <utility>

#include "lib/log/service_log.h"

namespace supd::control {
namespace {

constexpr std::array<std::pair<const char*, LogOutput>, 6> kModes{{
    {"short", LogOutput::kShort},
    {"short-iso", LogOutput::kShortIso},
    {"short-precise", LogOutput::kShortPrecise},
    {"cat", LogOutput::kCat},
    {"json", LogOutput::kJson},
    {"json-pretty", LogOutput::kJsonPretty},
}};

std::string Field(const nlohmann::json& record, const char* key) {
  auto it = record.find(key);
  return it != record.end() && it->is_string() ? it->get<std::string>() : std::string();
}

int64_t Pid(const nlohmann::json& record) {
  auto it = record.find("pid");
  return it != record.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

// The local time of `usec` in strftime's `format`, then microseconds when `precise`, then
// the offset "+HH:MM" when `offset`.
std::string LocalTime(int64_t usec, const char* format, bool precise, bool offset) {
  const time_t seconds = static_cast<time_t>(usec / 1'000'000);
  struct tm tm {};
  if (!localtime_r(&seconds, &tm)) return std::to_string(usec);
  char buf[64];
  size_t n = strftime(buf, sizeof buf, format, &tm);
  std::string out(buf, n);
  if (precise) {
    std::snprintf(buf, sizeof buf, ".%06lld", static_cast<long long>(usec % 1'000'000));
    out += buf;
  }
  if (offset) {
    const long off = tm.tm_gmtoff;
    const long a = off < 0 ? -off : off;
    std::snprintf(buf, sizeof buf, "%c%02ld:%02ld", off < 0 ? '-' : '+', a / 3600, a / 60 % 60);
    out += buf;
  }
  return out;
}

std::string Identifier(const std::string& unit) {
  const size_t dot = unit.rfind('.');
  return dot == std::string::npos ? unit : unit.substr(0, dot);
}

nlohmann::json JournalFields(const nlohmann::json& record, const std::optional<int64_t>& usec,
                             const std::string& hostname) {
  const std::string service = Field(record, "service");
  const std::string stream = Field(record, "stream");
  nlohmann::json j = nlohmann::json::object();
  j["__REALTIME_TIMESTAMP"] = usec ? std::to_string(*usec) : Field(record, "time");
  j["_HOSTNAME"] = hostname;
  j["_PID"] = std::to_string(Pid(record));
  j["_SYSTEMD_UNIT"] = service;
  j["SYSLOG_IDENTIFIER"] = Identifier(service);
  j["_TRANSPORT"] = "stdout";
  j["PRIORITY"] = "6";
  j["MESSAGE"] = Field(record, "text");
  j["SUPD_STREAM"] = stream;
  if (auto c = record.find("continued"); c != record.end() && c->is_boolean() && c->get<bool>())
    j["SUPD_CONTINUED"] = "1";
  return j;
}

}  // namespace

std::optional<LogOutput> ParseLogOutput(std::string_view name) {
  for (const auto& [n, mode] : kModes)
    if (name == n) return mode;
  return std::nullopt;
}

std::string LogOutputNames() {
  std::string out;
  for (const auto& [n, mode] : kModes) out += (out.empty() ? "" : ", ") + std::string(n);
  return out;
}

std::string FormatLogRecord(const nlohmann::json& record, LogOutput mode,
                            const std::string& hostname) {
  const std::string time = Field(record, "time");
  const std::optional<int64_t> usec = ParseRfc3339(time);
  std::string text = Field(record, "text");
  constexpr auto kReplace = nlohmann::json::error_handler_t::replace;
  switch (mode) {
    case LogOutput::kCat:
      return text;
    case LogOutput::kJson:
      return JournalFields(record, usec, hostname).dump(-1, ' ', false, kReplace);
    case LogOutput::kJsonPretty:
      return JournalFields(record, usec, hostname).dump(8, ' ', false, kReplace);
    case LogOutput::kShort:
    case LogOutput::kShortIso:
    case LogOutput::kShortPrecise:
      break;
  }
  std::string when = time;
  if (usec) {
    when = mode == LogOutput::kShortIso
               ? LocalTime(*usec, "%Y-%m-%dT%H:%M:%S", false, true)
               : LocalTime(*usec, "%b %d %H:%M:%S", mode == LogOutput::kShortPrecise, false);
  }
  return when + " " + hostname + " " + Identifier(Field(record, "service")) + "[" +
         std::to_string(Pid(record)) + "]: " + text;
}

}  // namespace supd::control
