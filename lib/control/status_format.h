// The human form of `supctl status`, modelled on `systemctl status`.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace supd::control {

// One service object of the status reply → several lines of text (newline-terminated).
std::string FormatServiceStatus(const nlohmann::json& s);

}  // namespace supd::control
