// The control protocol: one JSON object per line each way, over a unix stream socket.
//
//   → {"id":1,"cmd":"status","args":{"services":["web"]}}
//   ← {"id":1,"ok":true,"result":…}
//   ← {"id":1,"ok":false,"error":{"code":"not-found","message":"Unit web.service not found."}}
//
// Parsing and formatting only: no I/O here, so every bad input is a unit test on a string.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

#include "lib/base/result.h"

namespace supd::control {

inline constexpr size_t kMaxRequestBytes = 64 * 1024;
inline constexpr int kMaxNesting = 32;  // of arrays/objects in one request

struct Request {
  nlohmann::json id;    // echoed back; null when the client sent none
  std::string cmd;
  nlohmann::json args;  // always an object
};

// Error codes (the "code" field): stable strings a script may test.
inline constexpr const char* kBadRequest = "bad-request";
inline constexpr const char* kTooLarge = "too-large";
inline constexpr const char* kUnknownCommand = "unknown-command";
inline constexpr const char* kPermissionDenied = "permission-denied";
inline constexpr const char* kNotFound = "not-found";
inline constexpr const char* kFailed = "failed";
inline constexpr const char* kBusy = "busy";
inline constexpr const char* kTooSlow = "too-slow";  // a follower that could not keep up

struct ProtocolError {
  std::string code;
  std::string message;
  nlohmann::json id;  // the request's id when it could be read
};

// Parses one line (without its newline). On failure the error says what was wrong. A request
// whose command is known and whose arguments have the types that command takes (CheckArgs() in
// lib/control/request_args.h) is the only kind returned.
[[nodiscard]] std::variant<Request, ProtocolError> ParseRequest(std::string_view line);

// The answer to one request, before formatting.
struct Reply {
  bool ok = true;
  nlohmann::json result;  // when ok
  std::string code;       // when !ok
  std::string message;    // when !ok
  // A streaming command (`logs --follow`) answers with any number of replies with more=true
  // ("more":true on the wire) and may end with one without; the client hangs up to stop it.
  bool more = false;
  static Reply Ok(nlohmann::json r = nullptr) { return Reply{true, std::move(r), "", "", false}; }
  static Reply Fail(std::string code, std::string message) {
    return Reply{false, nullptr, std::move(code), std::move(message), false};
  }
  static Reply More(nlohmann::json r) { return Reply{true, std::move(r), "", "", true}; }
};
// Called exactly once per request, or, for a streaming command, any number of times with
// more=true (see Reply::more).
using ReplyFn = std::function<void(Reply)>;

// One line, newline included. Invalid UTF-8 in strings is replaced, never thrown on.
std::string FormatReply(const nlohmann::json& id, const Reply& reply);
std::string FormatRequest(const nlohmann::json& id, const std::string& cmd,
                          const nlohmann::json& args);

// Commands every local user may run; all others need privilege (root, supd's own uid, or the
// `supd` group).
bool IsReadOnlyCommand(std::string_view cmd);
bool IsKnownCommand(std::string_view cmd);

// Normalises a unit name from a client: adds ".service" when there is no suffix, and refuses
// names that could escape the units directory or are not units supd manages ("/", "..",
// control bytes, a suffix other than .service, .socket or .target).
[[nodiscard]] Result<std::string> NormalizeUnitName(const std::string& name);

}  // namespace supd::control
