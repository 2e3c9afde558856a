#include "lib/control/target_status_format.h"

#include "lib/control/json_field.h"
#include "lib/control/status_format.h"

namespace supd::control {

std::string FormatTargetStatus(const nlohmann::json& t) {
  const std::string state = Str(t, "state");
  const bool active = state == "active";
  std::string out = std::string(active ? "●" : "○") + " " + Str(t, "name");
  if (!Str(t, "description").empty()) out += " - " + Str(t, "description");
  out += "\n";
  // systemctl: "loaded (PATH; enabled)"; a standard target supd has no file for says so.
  const bool loaded = t.value("loaded", false);
  std::string where = Str(t, "unit_path");
  if (where.empty() && t.value("standard", false)) where = "standard target, no unit file";
  if (!Str(t, "enable_state").empty())
    where += (where.empty() ? "" : "; ") + Str(t, "enable_state");
  out += std::string("     Loaded: ") + (loaded ? "loaded" : "error");
  if (!where.empty()) out += " (" + where + ")";
  out += "\n";
  if (!Str(t, "load_error").empty()) out += "      Error: " + Str(t, "load_error") + "\n";
  out += "     Active: " + state;
  const std::string sub = Str(t, "sub_state");
  if (!sub.empty() && sub != state) out += " (" + sub + ")";
  if (!Str(t, "since").empty()) out += " since " + Str(t, "since");
  out += "\n";
  out += FormatDependencyLines(t);
  if (auto m = t.find("members"); m != t.end() && m->is_array()) {
    const char* lead = "    Members: ";
    for (const auto& one : *m) {
      if (!one.is_object()) continue;
      out += lead + Str(one, "unit") + " (" + Str(one, "state") + ")\n";
      lead = "             ";
    }
  }
  if (auto w = t.find("warnings"); w != t.end() && w->is_array())
    for (const auto& line : *w)
      if (line.is_string()) out += "    Warning: " + line.get<std::string>() + "\n";
  return out;
}

}  // namespace supd::control
