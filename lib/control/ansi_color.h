// systemd's terminal colours (its ansi_highlight_*() and ansi_normal()), for supctl's text that
// imitates systemctl's: status, list-units, list-unit-files, list-dependencies.
#pragma once

#include <string_view>

namespace supd::control::ansi {

inline constexpr std::string_view kHighlightGreen = "\x1B[0;1;32m";
inline constexpr std::string_view kHighlightRed = "\x1B[0;1;31m";
inline constexpr std::string_view kHighlightYellow = "\x1B[0;1;38;5;185m";
inline constexpr std::string_view kHighlight = "\x1B[0;1;39m";
inline constexpr std::string_view kNormal = "\x1B[0m";

}  // namespace supd::control::ansi
