// The JSON of the status, version and check replies, from the Manager's snapshots.
//
// The protocol's objects are documented in README.md ("status --json prints an array with one
// object per service …"); this is the one place that builds them. Pure: snapshots in, JSON out.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "lib/supervise/enablement.h"
#include "lib/supervise/manager.h"
#include "lib/supervise/snapshot.h"

namespace supd::control {

// One unit of the status reply. `privileged`: the peer may read log content (log_tail, the
// crash excerpt), as it may read the log file (0640) and `logs`.
nlohmann::json ServiceJson(const ServiceSnapshot& s, bool privileged);
nlohmann::json SocketJson(const SocketSnapshot& s);
// "unit_type":"target"; "state" active or inactive (sub_state active or dead, systemd's words),
// "members" [{"unit","state"}] with each member's state word.
nlohmann::json TargetJson(const TargetSnapshot& t);
nlohmann::json UnitJson(const UnitSnapshot& u, bool privileged);

// The "enable" and "disable" replies' "changes": [{"created","path","target"}] (target null for
// a removed link).
nlohmann::json ChangesJson(const std::vector<EnableChange>& changes);
// The "is-enabled" reply: {"units":[{"unit":"web.service","state":"enabled"}]}.
nlohmann::json IsEnabledJson(const std::vector<std::pair<std::string, EnableState>>& states);
// The "list-dependencies" reply: {"unit","state","children":[…]}, nested as the tree is.
nlohmann::json DependencyJson(const Manager::DependencyNode& node);

// The "version" (and "ping") reply: version, pid, and the host's cgroup layout as "cgroups".
nlohmann::json DaemonJson(const DaemonSnapshot& d);

// The "check" reply: one object per unit.
nlohmann::json CheckJson(const std::vector<UnitCheck>& units);

}  // namespace supd::control
