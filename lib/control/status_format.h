// The human form of `supctl status`, modelled on `systemctl status`.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace supd::control {

// The head of a unit's status, shared by services and sockets: name and description, Loaded:,
// Error: (a load error), and the Active: line up to "since …", without its newline. `active`:
// the state that gets the filled dot (running, listening).
std::string FormatStatusHead(const nlohmann::json& s, bool active);

// One service object of the status reply → several lines of text (newline-terminated).
std::string FormatServiceStatus(const nlohmann::json& s);

}  // namespace supd::control
