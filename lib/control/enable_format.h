// The human form of `supctl enable`, `disable` and `is-enabled`, as systemctl words them.
// Reads the replies' JSON (ChangesJson, IsEnabledJson); never throws on a missing field. Pure.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "lib/supervise/enablement.h"

namespace supd::control {

// The "changes" of an enable or disable reply, one line each (EnableChange::Text):
//   Created symlink /u/multi-user.target.wants/web.service → /u/web.service.
//   Removed "/u/multi-user.target.wants/web.service".
// None when nothing changed (already enabled, or a unit without [Install]).
std::vector<std::string> EnableChangeLines(const nlohmann::json& result);

// The state an is-enabled word names (EnableStateName's words); nullopt for any other.
std::optional<EnableState> ParseEnableState(std::string_view word);

// systemctl is-enabled's exit rule: success when any unit's state is one EnableStateIsOk()
// accepts ("enabled", "static", "alias", "indirect"); a word supctl does not know is not.
bool AnyEnableStateOk(const std::vector<std::string>& words);

// systemctl's words for a unit that has no file: "Failed to get unit file state for
// x.service: No such file or directory".
std::string UnitFileStateNotFound(const std::string& unit);

}  // namespace supd::control
