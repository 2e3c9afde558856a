// The human form of `supctl list-dependencies`, laid out as systemctl's
// (src/systemctl/systemctl-list-dependencies.c):
//   myapp.target
//   ● ├─api.service
//   ○ ├─worker.service
//   ● └─db.target
//   ●   └─db.service
// The root alone on the first line; each other unit with its state glyph first (● active or on
// its way, ↻ reloading, ○ inactive, × failed), then "│ " or "  " for each level above it (a
// bar where that level has more units below), then "├─" or "└─" (the last of its level).
// Siblings are sorted as systemctl sorts them: targets last, then by name, case ignored.
// With colour, the glyph is green for active, starting and reloading units, red for failed
// ones, plain otherwise, in systemctl's escape sequences.
//
// Reads the "list-dependencies" reply ({"unit","state","children":[…]}); never throws on a
// missing or mistyped field. Pure.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace supd::control {

// Newline-terminated lines.
std::string FormatDependencyTree(const nlohmann::json& root, bool color);

// Whether supctl colours its output, as systemd decides: not when $NO_COLOR is set (to
// anything but ""), not when $TERM is "dumb", else when standard output is a terminal.
// The environment values are null when unset.
bool UseColor(bool stdout_is_tty, const char* no_color, const char* term);

}  // namespace supd::control
