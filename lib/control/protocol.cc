#include "lib/control/protocol.h"

#include <array>

#include "lib/control/request_args.h"

namespace supd::control {
namespace {

constexpr std::array<std::string_view, 14> kCommands = {
    "status", "version", "check", "start", "stop", "restart", "reload", "kill",
    "reset-failed", "daemon-reload", "list", "cat", "ping", "logs"};
constexpr std::array<std::string_view, 6> kReadOnly = {"status", "version", "check",
                                                       "list",   "cat",     "ping"};

}  // namespace

std::variant<Request, ProtocolError> ParseRequest(std::string_view line) {
  if (line.size() > kMaxRequestBytes)
    return ProtocolError{kTooLarge, "request over " + std::to_string(kMaxRequestBytes) + " bytes",
                         nullptr};
  // nlohmann parses, copies and prints recursively: bound the nesting before it sees the line,
  // or 64 KiB of '[' would be a stack overflow that any local user could send.
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : line) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxNesting)
        return ProtocolError{kBadRequest,
                             "request nested deeper than " + std::to_string(kMaxNesting) +
                                 " levels",
                             nullptr};
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
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
  if (reply.ok && !reply.raw_result.empty()) {
    // {"id":…,"more":…,"ok":true,"result":<raw>}: the keys in the order dump() gives them.
    j["result"] = nullptr;
    std::string s = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    s.resize(s.size() - std::string_view("null}").size());
    s += reply.raw_result;
    s += "}\n";
    return s;
  }
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
  } else if (n.substr(dot) != ".service" && n.substr(dot) != ".socket") {
    return Error{"invalid unit name \"" + name + "\": only .service and .socket units are managed"};
  }
  if (n.front() == '.' || n.front() == '@') return Error{"invalid unit name \"" + name + "\""};
  return n;
}

}  // namespace supd::control
