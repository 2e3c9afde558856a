// The human form of `supctl status`, modelled on `systemctl status`.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace supd::control {

// The head of a unit's status, shared by services and sockets: name and description, Loaded:
// with the unit's enablement word, Error: (a load error), and the Active: line up to
// "since …", without its newline. `active`: the state that gets the filled dot (running,
// listening).
std::string FormatStatusHead(const nlohmann::json& s, bool active);

// The enablement word of a status object: its "enable_state" ("enabled", "static", …), or from
// the "enabled" bool of a supd that does not send one.
std::string EnableWord(const nlohmann::json& s);

// What the unit's dependencies hold it in, for services and targets (newline-terminated, ""
// when nothing):
//   " Dependency: ordering cycle: a.service -> b.service -> a.service (After=)"
//   "        Job: start (waiting for db.service, cache.service)"
std::string FormatDependencyLines(const nlohmann::json& s);

// One service object of the status reply → several lines of text (newline-terminated).
std::string FormatServiceStatus(const nlohmann::json& s);

// systemctl status's colours on text the Format*Status functions made: a block's dot (● green,
// × red) and the first word of its Active: line (running, listening, active green; failed
// red), in systemd's highlight colours. The rest is unchanged.
std::string ColorStatus(std::string_view text);

}  // namespace supd::control
