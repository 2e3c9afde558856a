#include "lib/control/request_args.h"

#include <csignal>
#include <limits>

#include "lib/unit/unit_loader.h"

namespace supd::control {
namespace {

using nlohmann::json;

// The argument, or nullptr when it is absent or null (both mean "not given").
const json* Find(const json& args, std::string_view key) {
  if (!args.is_object()) return nullptr;
  auto it = args.find(std::string(key));
  if (it == args.end() || it->is_null()) return nullptr;
  return &*it;
}

Error MustBe(std::string_view key, std::string_view what) {
  return Error{"\"" + std::string(key) + "\" must be " + std::string(what)};
}

// A value from the client for a message: JSON text, at most 64 bytes of it (a request may be
// 64 KiB), never throwing on what the parser let through.
std::string Shown(const json& j) {
  std::string s = j.dump(-1, ' ', false, json::error_handler_t::replace);
  if (s.size() > 64) s = s.substr(0, 61) + "...";
  return s;
}

// The integer JSON holds, if it holds one in [lo, hi]; any other number or type is nullopt.
// Signed and unsigned are compared as they are: no narrowing before the range check.
std::optional<int64_t> IntegerIn(const json& j, int64_t lo, int64_t hi) {
  if (j.is_number_unsigned()) {
    const uint64_t v = j.get<uint64_t>();
    if (hi < 0 || v > static_cast<uint64_t>(hi)) return std::nullopt;
    const auto s = static_cast<int64_t>(v);
    return s < lo ? std::nullopt : std::optional<int64_t>(s);
  }
  if (j.is_number_integer()) {
    const int64_t v = j.get<int64_t>();
    return v < lo || v > hi ? std::nullopt : std::optional<int64_t>(v);
  }
  return std::nullopt;
}

// A string from a fixed list; `what` says which ("\"out\" or \"err\"").
Result<void> OneOf(const json& args, std::string_view key,
                   std::initializer_list<std::string_view> allowed, std::string_view what) {
  const json* j = Find(args, key);
  if (j == nullptr) return Ok();
  if (j->is_string()) {
    for (std::string_view a : allowed) {
      if (j->get_ref<const std::string&>() == a) return Ok();
    }
  }
  return MustBe(key, what);
}

}  // namespace

Result<bool> BoolArg(const json& args, std::string_view key, bool fallback) {
  const json* j = Find(args, key);
  if (j == nullptr) return fallback;
  if (!j->is_boolean()) return MustBe(key, "a boolean");
  return j->get<bool>();
}

Result<std::optional<std::string>> StringArg(const json& args, std::string_view key) {
  const json* j = Find(args, key);
  if (j == nullptr) return std::optional<std::string>();
  if (!j->is_string()) return MustBe(key, "a string");
  return std::optional<std::string>(j->get<std::string>());
}

Result<std::vector<std::string>> StringListArg(const json& args, std::string_view key) {
  std::vector<std::string> out;
  const json* j = Find(args, key);
  if (j == nullptr) return out;
  if (j->is_string()) {
    out.push_back(j->get<std::string>());
    return out;
  }
  // "units" also names targets and sockets: the message says what the key says.
  const std::string_view what =
      key == "services" ? "a service name or a list of names" : "a unit name or a list of names";
  if (!j->is_array()) return MustBe(key, what);
  for (const json& e : *j) {
    if (!e.is_string()) return MustBe(key, what);
    out.push_back(e.get<std::string>());
  }
  return out;
}

Result<std::optional<uint64_t>> UnsignedArg(const json& args, std::string_view key,
                                            uint64_t max) {
  const json* j = Find(args, key);
  if (j == nullptr) return std::optional<uint64_t>();
  const bool in_range = (j->is_number_unsigned() && j->get<uint64_t>() <= max) ||
                        (!j->is_number_unsigned() && j->is_number_integer() &&
                         j->get<int64_t>() >= 0 && static_cast<uint64_t>(j->get<int64_t>()) <= max);
  if (!in_range) {
    return MustBe(key, max == std::numeric_limits<uint64_t>::max()
                           ? std::string("a non-negative integer")
                           : "an integer from 0 to " + std::to_string(max));
  }
  return std::optional<uint64_t>(j->is_number_unsigned()
                                     ? j->get<uint64_t>()
                                     : static_cast<uint64_t>(j->get<int64_t>()));
}

Result<int> SignalArg(const json& args, std::string_view key, int fallback) {
  const json* j = Find(args, key);
  if (j == nullptr) return fallback;
  if (j->is_number_integer()) {
    auto v = IntegerIn(*j, 1, NSIG - 1);
    if (!v) return Error{"unknown signal " + Shown(*j)};
    return static_cast<int>(*v);
  }
  if (!j->is_string()) return MustBe(key, "a signal name or number");
  auto sig = ParseSignal(j->get<std::string>());
  if (!sig.ok()) return Error{"unknown signal " + Shown(*j)};
  return *sig;
}

Result<void> CheckArgs(std::string_view cmd, const json& args) {
  // Commands that take no argument: nothing to read.
  if (cmd == "version" || cmd == "ping" || cmd == "check" || cmd == "daemon-reload") return Ok();
  if (cmd == "events") {  // units of both kinds, so not "services"
    SUPD_TRY(StringListArg(args, "units"));
    return Ok();
  }
  if (cmd == "enable" || cmd == "disable" || cmd == "is-enabled") {
    SUPD_TRY(StringListArg(args, "units"));
    if (cmd != "is-enabled") SUPD_TRY(BoolArg(args, "now", false));
    return Ok();
  }
  if (cmd == "daemon-reexec") {  // how long to wait for a moment of rest
    SUPD_TRY(UnsignedArg(args, "timeout_ms", UINT32_MAX));
    return Ok();
  }
  if (cmd == "list-dependencies") {  // one unit, not a list: the tree has one root
    SUPD_TRY(StringArg(args, "unit"));
    SUPD_TRY(BoolArg(args, "reverse", false));
    SUPD_TRY(BoolArg(args, "all", false));
    return Ok();
  }
  // Every other command names services.
  SUPD_TRY(StringListArg(args, "services"));
  if (cmd == "restart") SUPD_TRY(BoolArg(args, "hard", false));
  if (cmd == "kill") {
    SUPD_TRY(SignalArg(args, "signal", SIGTERM));
    SUPD_TRY(OneOf(args, "whom", {"all", "main"}, "\"all\" or \"main\""));
  }
  if (cmd == "logs") {
    SUPD_TRY(UnsignedArg(args, "lines", std::numeric_limits<uint64_t>::max()));
    SUPD_TRY(StringArg(args, "since"));
    SUPD_TRY(OneOf(args, "stream", {"out", "err"}, "\"out\" or \"err\""));
    SUPD_TRY(BoolArg(args, "follow", false));
  }
  return Ok();
}

}  // namespace supd::control
