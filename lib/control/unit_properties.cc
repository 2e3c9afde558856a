#include "lib/control/unit_properties.h"

#include <fmt/format.h>

#include <ctime>
#include <limits>
#include <optional>
#include <string_view>

#include "lib/base/signals.h"
#include "lib/control/json_field.h"
#include "lib/control/unit_query.h"
#include "lib/log/service_log.h"

namespace supd::control {
namespace {

using nlohmann::json;

// CLD_* codes as systemd's ExecMainCode= gives them (siginfo_t.si_code of the exit).
constexpr int kCldExited = 1;
constexpr int kCldKilled = 2;
constexpr int kCldDumped = 3;

// j[key] as a number's text, or `fallback` when it is not a number.
std::string Num(const json& j, const char* key, const char* fallback = "0") {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return fallback;
  return it->dump();
}

std::optional<uint64_t> U64(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_unsigned()) return std::nullopt;
  return it->get<uint64_t>();
}

const json& Obj(const json& j, const char* key) {
  static const json kEmpty = json::object();
  auto it = j.find(key);
  return it != j.end() && it->is_object() ? *it : kEmpty;
}

// An RFC 3339 field of the reply as systemd prints a timestamp; "" when absent.
std::string Timestamp(const json& j, const char* key) {
  const std::string text = Str(j, key);
  if (text.empty()) return "";
  const auto usec = ParseRfc3339(text);
  return usec ? FormatSystemdTimestamp(*usec) : "";
}

// A signal named as status_json names it ("SIGSEGV", "signal 37") → its number; 0 if unknown.
int SignalNumber(const std::string& name) {
  if (auto n = SignalFromName(name)) return *n;
  constexpr std::string_view kPrefix = "signal ";
  if (name.rfind(kPrefix, 0) == 0) {
    int n = 0;
    for (char c : name.substr(kPrefix.size())) {
      if (c < '0' || c > '9' || n > 1000) return 0;
      n = n * 10 + (c - '0');
    }
    return n;
  }
  return 0;
}

// The Unit interface's properties, common to every type. `view` holds the state words.
void AddUnitProperties(const json& u, const UnitView& view, const std::string& relation,
                       const std::string& related, std::vector<Property>* out) {
  out->push_back({"Id", view.id});
  out->push_back({"Names", view.id});
  if (!relation.empty()) out->push_back({relation, related});
  out->push_back({"Description", view.description});
  out->push_back({"LoadState", view.load});
  out->push_back({"ActiveState", view.active});
  out->push_back({"SubState", view.sub});
  out->push_back({"FragmentPath", Str(u, "unit_path")});
  out->push_back({"UnitFileState", Str(u, "enable_state")});
  out->push_back({"StateChangeTimestamp", Timestamp(u, "since")});
  if (Str(u, "unit_type") == "service")
    out->push_back({"StateChangeTimestampMonotonic", Num(u, "since_monotonic_usec")});
  out->push_back(
      {"ActiveEnterTimestamp", view.active == "active" ? Timestamp(u, "since") : std::string()});
  std::string load_error;
  if (view.load == "masked") {
    load_error = "org.freedesktop.systemd1.UnitMasked \"Unit " + view.id + " is masked.\"";
  } else if (view.load == "not-found") {
    load_error = "org.freedesktop.systemd1.NoSuchUnit \"Unit " + view.id + " not found.\"";
  } else if (view.load == "bad-setting") {
    load_error = "org.freedesktop.systemd1.BadUnitSetting \"" + Str(u, "load_error") + "\"";
  }
  out->push_back({"LoadError", load_error});
}

// ExecMainPID/Code/Status and the exit's timestamps: the main process running now, or the
// last one's exit.
void AddExecMain(const json& u, std::vector<Property>* out) {
  std::string pid = "0", code = "0", status = "0", exit_at, exit_mono = "0";
  const auto main = U64(u, "main_pid");
  const json& last = Obj(u, "last_exit");
  if (main) {
    pid = std::to_string(*main);
  } else if (!last.empty()) {
    pid = Num(last, "pid");
    if (last.contains("code") && last["code"].is_number()) {
      code = std::to_string(kCldExited);
      status = last["code"].dump();
    } else {
      const bool dumped = Str(u, "result") == "core-dump" ||
                          Str(last, "reason").find("core dumped") != std::string::npos;
      code = std::to_string(dumped ? kCldDumped : kCldKilled);
      status = std::to_string(SignalNumber(Str(last, "signal")));
    }
    exit_at = Timestamp(last, "at");
    exit_mono = Num(last, "at_monotonic_usec");
  }
  out->push_back({"ExecMainExitTimestamp", exit_at});
  out->push_back({"ExecMainExitTimestampMonotonic", exit_mono});
  out->push_back({"ExecMainPID", pid});
  out->push_back({"ExecMainCode", code});
  out->push_back({"ExecMainStatus", status});
}

std::string OrNotSet(std::optional<uint64_t> v, uint64_t factor = 1) {
  return v ? std::to_string(*v * factor) : "[not set]";
}

std::vector<Property> ServiceProperties(const json& u, const UnitView& view) {
  std::vector<Property> out;
  out.push_back({"Type", Str(u, "type")});
  out.push_back({"WatchdogUSec", FormatSystemdTimespan(U64(u, "watchdog_usec").value_or(0))});
  out.push_back({"MainPID", Num(u, "main_pid")});
  out.push_back({"ControlPID", Num(u, "control_pid")});
  out.push_back({"StatusText", Str(u, "status_text")});
  out.push_back({"StatusErrno", Num(u, "status_errno")});
  // A unit that never loaded never ran: systemd's Result is then "success".
  out.push_back({"Result", view.load == "loaded" ? Str(u, "result") : "success"});
  out.push_back({"NRestarts", Num(u, "restarts")});
  AddExecMain(u, &out);
  const json& stats = Obj(Obj(u, "resources"), "stats");
  out.push_back({"MemoryCurrent", OrNotSet(U64(stats, "memory_current_bytes"))});
  out.push_back({"CPUUsageNSec", OrNotSet(U64(stats, "cpu_usec"), 1000)});
  out.push_back({"TasksCurrent", OrNotSet(U64(stats, "tasks"))});
  std::string sockets;
  if (auto it = u.find("sockets"); it != u.end() && it->is_array())
    for (const auto& s : *it) {
      const std::string name = Str(s, "unit");
      if (name.empty()) continue;
      if (!sockets.empty()) sockets += ' ';
      sockets += name;
    }
  AddUnitProperties(u, view, "TriggeredBy", sockets, &out);
  out.push_back({"InvocationID", Str(u, "invocation_id")});
  return out;
}

// "tcp:127.0.0.1:8080" → "127.0.0.1:8080 (Stream)", as systemd's Listen= reads.
std::string ListenText(const std::string& identity) {
  const auto colon = identity.find(':');
  if (colon == std::string::npos) return identity;
  const std::string kind = identity.substr(0, colon);
  const bool datagram = kind == "udp" || kind == "udp6" || kind == "unix-dgram";
  return identity.substr(colon + 1) + (datagram ? " (Datagram)" : " (Stream)");
}

std::vector<Property> SocketProperties(const json& u, const UnitView& view) {
  std::vector<Property> out;
  if (auto it = u.find("listening"); it != u.end() && it->is_array())
    for (const auto& l : *it) out.push_back({"Listen", ListenText(Str(l, "listen"))});
  // A socket fails when it cannot bind: systemd's "resources".
  out.push_back({"Result", view.active == "failed" ? "resources" : "success"});
  AddUnitProperties(u, view, "Triggers", Str(u, "service"), &out);
  return out;
}

// A unit's properties by its type, with its states as `view` says.
std::vector<Property> PropertiesOf(const json& unit, const UnitView& view) {
  const std::string type = Str(unit, "unit_type");
  if (type == "socket") return SocketProperties(unit, view);
  if (type == "target") {
    std::vector<Property> out;
    AddUnitProperties(unit, view, "", "", &out);
    return out;
  }
  return ServiceProperties(unit, view);
}

}  // namespace

std::vector<Property> UnitProperties(const json& unit) { return PropertiesOf(unit, ViewOf(unit)); }

std::vector<Property> NotFoundProperties(const std::string& name) {
  const auto dot = name.rfind('.');
  const std::string type = dot == std::string::npos ? "service" : name.substr(dot + 1);
  const json unit = {{"name", name}, {"unit_type", type}, {"result", "success"}};
  UnitView view = ViewOf(unit);
  view.load = "not-found";
  view.active = "inactive";
  view.sub = "dead";
  return PropertiesOf(unit, view);
}

std::string FormatProperties(const std::vector<Property>& props, const ShowOptions& o) {
  const bool show_empty = o.all || !o.properties.empty();
  std::string out;
  for (const Property& p : props) {
    const std::string value = p.value.find('\n') == std::string::npos ? p.value : "[unprintable]";
    if (!o.properties.empty()) {
      bool wanted = false;
      for (const std::string& f : o.properties) {
        if (f == p.name) wanted = true;
        // "Name=value": only when the value is that one.
        if (f.size() > p.name.size() && f.compare(0, p.name.size(), p.name) == 0 &&
            f[p.name.size()] == '=' && f.substr(p.name.size() + 1) == value)
          wanted = true;
      }
      if (!wanted) continue;
    }
    if (!show_empty && value.empty()) continue;
    out += o.value_only ? value + "\n" : p.name + "=" + value + "\n";
  }
  return out;
}

std::string FormatSystemdTimestamp(int64_t realtime_usec) {
  if (realtime_usec <= 0) return "";
  const time_t secs = static_cast<time_t>(realtime_usec / 1000000);
  struct tm tm {};
  if (!localtime_r(&secs, &tm)) return "";
  char buf[64];
  if (strftime(buf, sizeof(buf), "%a %Y-%m-%d %H:%M:%S %Z", &tm) == 0) return "";
  return buf;
}

std::string FormatSystemdTimespan(uint64_t usec) {
  struct Unit {
    const char* suffix;
    uint64_t usec;
  };
  static constexpr Unit kUnits[] = {
      {"y", 31557600000000ULL},
      {"month", 2629800000000ULL},
      {"w", 604800000000ULL},
      {"d", 86400000000ULL},
      {"h", 3600000000ULL},
      {"min", 60000000ULL},
      {"s", 1000000ULL},
      {"ms", 1000ULL},
      {"us", 1ULL},
  };
  if (usec == std::numeric_limits<uint64_t>::max()) return "infinity";
  if (usec == 0) return "0";
  std::string out;
  uint64_t t = usec;
  for (const Unit& u : kUnits) {
    if (t == 0) break;
    if (t < u.usec) continue;
    const uint64_t a = t / u.usec, b = t % u.usec;
    if (!out.empty()) out += ' ';
    // Under a minute, a remainder is written as a fraction of this unit ("1.500000s").
    if (t < 60000000ULL && b > 0) {
      int digits = 0;
      for (uint64_t c = u.usec; c > 1; c /= 10) ++digits;
      if (digits > 0) {
        out += fmt::format("{}.{:0{}}{}", a, b, digits, u.suffix);
        break;
      }
    }
    out += std::to_string(a) + u.suffix;
    t = b;
  }
  return out;
}

}  // namespace supd::control
