#include "lib/control/protocol.h"

#include <array>

#include "lib/control/request_args.h"

namespace supd::control {
namespace {

constexpr std::array<std::string_view, 22> kCommands = {
    "status",  "version", "check",   "start",        "stop",
    "restart", "reload",  "kill",    "reset-failed", "daemon-reload",
    "list",    "cat",     "ping",    "logs",         "metrics",
    "events",  "enable",  "disable", "is-enabled",   "list-dependencies",
    "is-system-running", "daemon-reexec"};
constexpr std::array<std::string_view, 11> kReadOnly = {
    "status", "version", "check",  "list",       "cat",
    "ping",   "metrics", "events", "is-enabled", "list-dependencies",
    "is-system-running"};

}  // namespace

std::variant<Request, ProtocolError> ParseRequest(std::string_view line) {
  if (line.size() > kMaxRequestBytes)
    return ProtocolError{kTooLarge, "request over " + std::to_string(kMaxRequestBytes) + " bytes",
                         nullptr};
  // nlohmann parses without recursion but copies and prints recursively: a container deeper
  // than kMaxNesting is dropped as the parser meets it (the callback's depth counts the
  // containers around it), so 64 KiB of '[' is one refusal, never a stack overflow that any
  // local user could send. A line that is bad JSON before it gets that deep is bad JSON.
  bool too_deep = false;
  auto refuse_deep = [&too_deep](int depth, nlohmann::json::parse_event_t event, nlohmann::json&) {
    using Event = nlohmann::json::parse_event_t;
    if ((event == Event::object_start || event == Event::array_start) && depth >= kMaxNesting) {
      too_deep = true;
      return false;  // the container is not built, nor anything in it
    }
    return true;
  };
  nlohmann::json j = nlohmann::json::parse(line, refuse_deep, /*allow_exceptions=*/false);
  if (too_deep) {
    return ProtocolError{kBadRequest,
                         "request nested deeper than " + std::to_string(kMaxNesting) + " levels",
                         nullptr};
  }
  if (j.is_discarded()) return ProtocolError{kBadRequest, "request is not valid JSON", nullptr};
  if (!j.is_object()) return ProtocolError{kBadRequest, "request must be a JSON object", nullptr};
  Request r;
  if (auto it = j.find("id"); it != j.end()) {
    if (!it->is_null() && !it->is_number() && !it->is_string())
      return ProtocolError{kBadRequest, "\"id\" must be a number or a string", nullptr};
    r.id = *it;
  }
  auto cmd = j.find("cmd");
  if (cmd == j.end() || !cmd->is_string())
    return ProtocolError{kBadRequest, "request has no \"cmd\" string", r.id};
  r.cmd = cmd->get<std::string>();
  auto args = j.find("args");
  if (args == j.end() || args->is_null()) {
    r.args = nlohmann::json::object();
  } else if (args->is_object()) {
    r.args = *args;
  } else {
    return ProtocolError{kBadRequest, "\"args\" must be an object", r.id};
  }
  if (!IsKnownCommand(r.cmd)) {
    std::string shown = r.cmd.substr(0, 64);
    return ProtocolError{kUnknownCommand,
                         "unknown command " + nlohmann::json(shown).dump(
                                                  -1, ' ', false,
                                                  nlohmann::json::error_handler_t::replace),
                         r.id};
  }
  // Arguments of the wrong type are refused here, before any handler acts on the request.
  if (auto checked = CheckArgs(r.cmd, r.args); !checked.ok())
    return ProtocolError{kBadRequest, checked.error().message, r.id};
  return r;
}

std::string FormatReply(const nlohmann::json& id, const Reply& reply) {
  nlohmann::json j;
  j["id"] = id;
  j["ok"] = reply.ok;
  if (reply.more) j["more"] = true;
  if (reply.ok) {
    j["result"] = reply.result;
  } else {
    j["error"] = {{"code", reply.code}, {"message", reply.message}};
  }
  std::string s = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  s += '\n';
  return s;
}

std::string FormatRequest(const nlohmann::json& id, const std::string& cmd,
                          const nlohmann::json& args) {
  nlohmann::json j{{"id", id}, {"cmd", cmd}, {"args", args}};
  std::string s = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  s += '\n';
  return s;
}

bool IsReadOnlyCommand(std::string_view cmd) {
  for (auto c : kReadOnly)
    if (c == cmd) return true;
  return false;
}

bool IsKnownCommand(std::string_view cmd) {
  for (auto c : kCommands)
    if (c == cmd) return true;
  return false;
}

Result<std::string> NormalizeUnitName(const std::string& name) {
  if (name.empty()) return Error{"empty unit name"};
  if (name.size() > 255) return Error{"unit name too long"};
  for (unsigned char c : name) {
    if (c < 0x21 || c == 0x7f || c == '/')
      return Error{"invalid unit name " + nlohmann::json(name).dump(-1, ' ', false,
                       nlohmann::json::error_handler_t::replace) +
                   ": it must not contain '/', spaces or control characters"};
  }
  if (name.find("..") != std::string::npos)
    return Error{"invalid unit name \"" + name + "\": it must not contain \"..\""};
  std::string n = name;
  const auto dot = n.rfind('.');
  if (dot == std::string::npos) {
    n += ".service";
  } else if (n.substr(dot) != ".service" && n.substr(dot) != ".socket" &&
             n.substr(dot) != ".target") {
    return Error{"invalid unit name \"" + name +
                 "\": only .service, .socket and .target units are managed"};
  }
  if (n.front() == '.' || n.front() == '@') return Error{"invalid unit name \"" + name + "\""};
  return n;
}

}  // namespace supd::control
