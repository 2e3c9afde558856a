// ExecSettings: the process settings of systemd.exec(5) that supd applies to each process of a
// service in the child between fork and exec (lib/proc/spawn.cc): resource limits (Limit*=),
// SupplementaryGroups=, UMask=, Nice=, OOMScoreAdjust=, CapabilityBoundingSet=,
// AmbientCapabilities=, NoNewPrivileges=. User= and Group= stay in ServiceSpec.
//
// This file only parses them, with systemd's syntax; it knows nothing of processes. Group names
// are resolved at start (the group database may change), capability names here at load.
// Pure functions; thread-safe.
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/capabilities.h"
#include "lib/base/result.h"

namespace supd {

struct UnitAssignment;

// One Limit*= value: soft and hard limit in the kernel's units (bytes, seconds for LimitCPU=,
// microseconds for LimitRTTIME=, 1..40 for LimitNICE=). RLIM_INFINITY is "infinity".
struct ResourceLimit {
  uint64_t soft = 0;
  uint64_t hard = 0;
  bool operator==(const ResourceLimit&) const = default;
};

inline constexpr int kResourceLimitCount = RLIMIT_NLIMITS;

struct ExecSettings {
  // Limit*=, indexed by RLIMIT_*. Unset: the service inherits supd's limit, except
  // RLIMIT_NOFILE, whose soft limit goes back to 1024 as under systemd (see Spawn).
  std::array<std::optional<ResourceLimit>, kResourceLimitCount> limits;
  // SupplementaryGroups=, names or numbers as written (specifiers resolved): added to the
  // groups of User=, or the only supplementary groups without User=.
  std::vector<std::string> supplementary_groups;
  mode_t umask = 0022;                  // UMask=; systemd's default for services
  std::optional<int> nice;              // Nice=, -20..19; unset: supd's own
  std::optional<int> oom_score_adjust;  // OOMScoreAdjust=, -1000..1000; unset: supd's own
  // CapabilityBoundingSet=: what stays in the bounding set (everything by default).
  CapabilitySet capability_bounding_set = kAllCapabilities;
  CapabilitySet ambient_capabilities = 0;  // AmbientCapabilities=
  bool no_new_privileges = false;          // NoNewPrivileges=
};

// The directive of an RLIMIT_* number ("LimitNOFILE" for RLIMIT_NOFILE); "" if none.
std::string_view ResourceLimitDirective(int resource);

// Parses a Limit*= value for `resource` (an RLIMIT_* number) with systemd's rules: "soft:hard"
// or one value for both; "infinity"; sizes with K/M/G/T/P/E (base 1024) for the byte limits;
// a time span for LimitCPU= (bare number: seconds; rounded up to whole seconds) and LimitRTTIME=
// (bare number: microseconds); for LimitNICE= "+N"/"-N" as a nice level (19..-20) or a raw
// 0..40. The Error's message is the reason, without location: "soft limit above hard limit".
[[nodiscard]] Result<ResourceLimit> ParseResourceLimit(int resource, std::string_view text);

// "1024:4096", "1024" (soft == hard), "infinity", "0:infinity": the raw values, for messages.
std::string FormatResourceLimit(const ResourceLimit& limit);

// systemd's parse_size() with base 1024: "512", "64K", "1.5G", "1G 512M", "8 M"; suffixes
// B K M G T P E, each at most once and in descending order.
[[nodiscard]] Result<uint64_t> ParseSize1024(std::string_view text);

// The [Service] directives ApplyExecSetting handles, without "=".
const std::vector<std::string_view>& ExecSettingKeys();

// Applies one assignment of a key from ExecSettingKeys() to *settings, with systemd's meaning
// (lists accumulate, an empty value resets them). `resolve` expands %-specifiers where systemd
// does (SupplementaryGroups=). Errors carry the location: "units/web.service:4: Invalid
// LimitNOFILE= value 'lots'". Nothing is changed on error.
using SpecifierResolver = std::function<Result<std::string>(const std::string&)>;
[[nodiscard]] Result<void> ApplyExecSetting(const UnitAssignment& a,
                                            const SpecifierResolver& resolve,
                                            ExecSettings* settings);

}  // namespace supd
