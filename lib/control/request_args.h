// Reading the arguments of a control request (its "args" object) as typed values.
//
// nlohmann's value() and get<>() throw on a wrong type: {"hard":"yes"} became an "internal
// error" from the server's catch-all, after the handler may have done part of its work. These
// readers never throw. Each returns the argument's value, its fallback when the argument is
// absent or null, or an Error whose message names the argument and what it must be, verbatim:
//   "\"hard\" must be a boolean"
//   "\"whom\" must be a string"
//   "\"services\" must be a service name or a list of names" ("\"units\" … a unit name …")
//   "\"lines\" must be a non-negative integer", "\"n\" must be an integer from 0 to 10"
//   "\"signal\" must be a signal name or number", "unknown signal \"SIGFOO\"", "unknown signal 99"
// Numbers are read as the integer JSON holds (signed or unsigned, up to 64 bits) and compared
// with the range before any narrowing: 4294967311 is not signal 15.
//
// CheckArgs() reads every argument a command takes; ParseRequest() calls it, so a handler only
// sees requests whose arguments have the right types and values in range. Pure; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "lib/base/result.h"

namespace supd::control {

[[nodiscard]] Result<bool> BoolArg(const nlohmann::json& args, std::string_view key,
                                   bool fallback);

// nullopt when absent.
[[nodiscard]] Result<std::optional<std::string>> StringArg(const nlohmann::json& args,
                                                           std::string_view key);

// A string (one name) or an array of strings; empty when absent.
[[nodiscard]] Result<std::vector<std::string>> StringListArg(const nlohmann::json& args,
                                                             std::string_view key);

// An integer from 0 to `max`; nullopt when absent.
[[nodiscard]] Result<std::optional<uint64_t>> UnsignedArg(const nlohmann::json& args,
                                                          std::string_view key, uint64_t max);

// A signal: its number (1..NSIG-1) or its name as ParseSignal() reads it ("TERM", "SIGTERM",
// "RTMIN+3"); `fallback` when absent.
[[nodiscard]] Result<int> SignalArg(const nlohmann::json& args, std::string_view key,
                                    int fallback);

// Reads every argument `cmd` takes ("services" for all that name services, "hard" for restart,
// "signal"/"whom" for kill, "lines"/"since"/"stream"/"follow" for logs, "units" for events,
// "units"/"now" for enable and disable, "units" for is-enabled, "unit"/"reverse"/"all" for
// list-dependencies), with the readers above.
// Arguments a command does not take are ignored, as systemctl ignores options that do not
// apply. The first bad argument is the error.
[[nodiscard]] Result<void> CheckArgs(std::string_view cmd, const nlohmann::json& args);

}  // namespace supd::control
