// Linux capability names and numbers (capabilities(7)), for CapabilityBoundingSet= and
// AmbientCapabilities=. A table of the names <linux/capability.h> defines; nothing
// supd-specific, no system calls. Thread-safe.
//
// supd keeps its own table instead of linking libcap: the names are a fixed kernel ABI, and the
// child between fork and exec must use raw prctl/capget/capset anyway (lib/proc/spawn.cc).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace supd {

// A set of capabilities as a bit mask: bit N is capability N.
using CapabilitySet = uint64_t;
inline constexpr CapabilitySet kAllCapabilities = ~CapabilitySet{0};
// systemd's CAP_LIMIT: numbers at or above it cannot be a capability.
inline constexpr int kCapabilityLimit = 62;

// "CAP_NET_BIND_SERVICE" (any case) or a number below kCapabilityLimit → the capability number;
// nullopt for anything else (also for "NET_BIND_SERVICE": the prefix is required, as in systemd).
std::optional<int> CapabilityFromName(std::string_view name);

// "CAP_NET_BIND_SERVICE" for 10; the number as text for one without a name in the table.
std::string CapabilityName(int cap);

// The names of the capabilities in `set`, space separated, in number order ("" for none).
std::string FormatCapabilitySet(CapabilitySet set);

}  // namespace supd
