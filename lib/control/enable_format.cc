#include "lib/control/enable_format.h"

#include "lib/control/json_field.h"

namespace supd::control {

std::vector<std::string> EnableChangeLines(const nlohmann::json& result) {
  std::vector<std::string> lines;
  auto changes = result.find("changes");
  if (changes == result.end() || !changes->is_array()) return lines;
  for (const auto& c : *changes) {
    if (!c.is_object()) continue;
    EnableChange change;
    change.created = c.value("created", false);
    change.path = Str(c, "path");
    change.target = Str(c, "target");
    lines.push_back(change.Text());
  }
  return lines;
}

std::optional<EnableState> ParseEnableState(std::string_view word) {
  for (EnableState s : {EnableState::kEnabled, EnableState::kStatic, EnableState::kDisabled,
                        EnableState::kAlias, EnableState::kIndirect, EnableState::kMasked})
    if (word == EnableStateName(s)) return s;
  return std::nullopt;
}

bool AnyEnableStateOk(const std::vector<std::string>& words) {
  for (const auto& w : words)
    if (auto s = ParseEnableState(w); s && EnableStateIsOk(*s)) return true;
  return false;
}

std::string UnitFileStateNotFound(const std::string& unit) {
  // systemctl's %m of ENOENT, spelled out: the text must not depend on the locale.
  return "Failed to get unit file state for " + unit + ": No such file or directory";
}

}  // namespace supd::control
