// The human form of resource control in `supctl status`: a service's limits, usage and Go
// runtime settings, and supd's own block (which cgroup layout the host has).
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace supd::control {

// Lines for the "resources" object of one service in the status reply ("" if it has none):
//      Limits: MemoryMax=64M: enforced (cgroup v1 memory.limit_in_bytes=67108864)
//              IOWeight=200: NOT enforced: the blkio hierarchy has no blkio.weight ...
//      Memory: 12.3M (peak 40.1M)
//         CPU: 1.234s
//       Tasks: 7
//  Go runtime: GOMAXPROCS=1 GOMEMLIMIT=60397977 (set by supd, GoRuntime=auto)
std::string FormatResourceLines(const nlohmann::json& service);

// Lines for the "process" object of one service (identity, rlimits and capabilities as the unit
// sets them; only what differs from the defaults), "" if nothing does. What the instance got
// otherwise ("adjustments") replaces the directive it concerns:
//    Identity: User=nobody SupplementaryGroups=adm 4242 UMask=0027 Nice=-3 OOMScoreAdjust=345
//     Rlimits: LimitNOFILE=2048:4096 LimitCORE=0:infinity
//     Rlimits: LimitNOFILE=1048576 clamped to 20000 (no CAP_SYS_RESOURCE)
//    Identity: OOMScoreAdjust=-999 not applied: Permission denied (no CAP_SYS_RESOURCE; as
//              systemd, assuming a container)
//        Caps: AmbientCapabilities=cap_net_bind_service CapabilityBoundingSet=cap_net_bind_service
//              NoNewPrivileges=yes
std::string FormatProcessLines(const nlohmann::json& service);

// supd's own block from the "version" reply:
//  ● supd 0.1.0 (pid 123)
//      Cgroups: hybrid: tracking in cgroup v2 at ...; controllers on cgroup v1: ...
std::string FormatDaemonStatus(const nlohmann::json& version);

// A byte count as status and top print it: "123B", "11.8M" (base 1024).
std::string FormatBytes(uint64_t bytes);

}  // namespace supd::control
