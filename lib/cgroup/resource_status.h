// The JSON of resource control for the status reply: supd's host block and each service's
// limits, usage and Go runtime settings. Formatting only; the human text is in lib/control/.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "lib/cgroup/resource_control.h"

namespace supd {

// {"mode": "hybrid", "summary": "...", "controllers": {"memory": {"where": "v1", "path": ...},
//  "io": {"where": "none", "reason": ...}}}
nlohmann::json ResourceHostJson(const ResourceControl& rc);

// What supd set for GoRuntime= at the current start.
struct GoRuntimeStatus {
  GoRuntimeMode mode = GoRuntimeMode::kAuto;
  std::vector<std::pair<std::string, std::string>> set_by_supd;  // derived from the limits
  std::vector<std::pair<std::string, std::string>> from_unit;     // the service's own values
};

// {"mode": ..., "limits": [{"directive", "value", "enforced", "detail"}], "stats": {...},
//  "go_runtime": {...}}. `v2_dir` is the current instance's cgroup ("" if none).
nlohmann::json ServiceResourcesJson(const ResourceControl& rc, const std::string& v2_dir,
                                    const std::vector<LimitReport>& limits,
                                    bool require_limits, const GoRuntimeStatus& go);

}  // namespace supd
