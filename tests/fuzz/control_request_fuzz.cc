// libFuzzer target: one control-protocol line from a client, as the control server gets it
// (any bytes, any length up to the server's limit), through ParseRequest (its argument type
// checks, lib/control/request_args.h, included), service-name normalisation of what it
// carries, and the reply formatting that echoes its id back.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "lib/control/protocol.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  auto parsed = supd::control::ParseRequest(line);
  if (auto* err = std::get_if<supd::control::ProtocolError>(&parsed)) {
    (void)supd::control::FormatReply(err->id, supd::control::Reply::Fail(err->code, err->message));
    return 0;
  }
  const auto& req = std::get<supd::control::Request>(parsed);
  (void)supd::control::IsKnownCommand(req.cmd);
  (void)supd::control::IsReadOnlyCommand(req.cmd);
  // What the Manager does with names: every string in args.services.
  if (auto it = req.args.find("services"); it != req.args.end() && it->is_array()) {
    for (const auto& name : *it) {
      if (name.is_string()) (void)supd::control::NormalizeUnitName(name.get<std::string>());
    }
  }
  // The reply echoes the id and may carry client-provided text (invalid UTF-8 included).
  (void)supd::control::FormatReply(req.id, supd::control::Reply::Ok(req.args));
  (void)supd::control::FormatReply(req.id, supd::control::Reply::Fail("not-found", req.cmd));
  return 0;
}
