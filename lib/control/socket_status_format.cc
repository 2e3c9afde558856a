#include "lib/control/socket_status_format.h"

#include "lib/control/json_field.h"
#include "lib/control/status_format.h"

namespace supd::control {

std::string FormatSocketStatus(const nlohmann::json& s) {
  std::string out = FormatStatusHead(s, Str(s, "state") == "listening") + "\n";
  if (auto e = s.find("error"); e != s.end() && e->is_string())
    out += "      Cause: " + e->get<std::string>() + "\n";
  out += "   Triggers: " + Str(s, "service");
  if (auto st = s.find("service_state"); st != s.end() && st->is_string())
    out += " (" + st->get<std::string>() + ")";
  out += "\n";
  if (auto l = s.find("listening"); l != s.end() && l->is_array()) {
    for (const auto& one : *l) {
      if (!one.is_object()) continue;
      out += "     Listen: " + Str(one, "listen") + " (fd name " + Str(one, "name");
      auto q = one.find("queued"), b = one.find("backlog");
      if (q != one.end() && q->is_number() && b != one.end() && b->is_number())
        out += "; " + std::to_string(q->get<uint64_t>()) + " of " +
               std::to_string(b->get<uint64_t>()) + " queued";
      out += ")\n";
    }
  }
  if (const uint64_t n = s.value("activations", uint64_t{0}); n > 0)
    out += "  Activated: " + std::to_string(n) + (n == 1 ? " time" : " times") +
           " by a waiting connection\n";
  if (auto w = s.find("warnings"); w != s.end() && w->is_array())
    for (const auto& line : *w)
      if (line.is_string()) out += "    Warning: " + line.get<std::string>() + "\n";
  return out;
}

}  // namespace supd::control
