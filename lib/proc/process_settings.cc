#include "lib/proc/process_settings.h"

#include <algorithm>
#include <optional>

#include "lib/proc/limit_plan.h"

namespace supd {

Result<void> PlanExecSettings(const ExecSettings& exec, bool full_privileges, SpawnPlan* plan) {
  std::optional<RlimitHost> host;  // read once, and only when "infinity" needs it
  for (int resource = 0; resource < kResourceLimitCount; ++resource) {
    const auto& limit = exec.limits[resource];
    if (!limit) continue;
    if (limit->soft == RLIM_INFINITY || limit->hard == RLIM_INFINITY) {
      // "infinity" is the most this service can be given (ResolveRlimitInfinity). A finite
      // value above what is possible is clamped in the child, as systemd's
      // setrlimit_closest() does, and reported (or fails the start with RequireLimits=yes).
      if (!host) host = ReadRlimitHost();
      if (resource == RLIMIT_NOFILE && host->nr_open == 0)
        return Error{"LimitNOFILE=infinity: " + host->nr_open_error};
      plan->rlimits[resource] = ResolveRlimitInfinity(resource, *limit, *host);
    } else {
      plan->rlimits[resource] = rlimit{limit->soft, limit->hard};
    }
  }
  plan->umask = exec.umask;
  plan->nice = exec.nice;
  plan->oom_score_adjust = exec.oom_score_adjust;
  if (!full_privileges) {
    if (exec.capability_bounding_set != kAllCapabilities)
      plan->capability_bounding_set = exec.capability_bounding_set;
    plan->ambient_capabilities = exec.ambient_capabilities;
    plan->no_new_privileges = exec.no_new_privileges;
  }
  return Ok();
}

Result<std::vector<gid_t>> PlanSupplementaryGroups(const UserInfo* user,
                                                   const std::vector<std::string>& names) {
  std::vector<gid_t> groups;
  if (user != nullptr) {
    auto of_user = SupplementaryGroupsOf(*user);
    if (!of_user.ok()) return of_user.take_error();
    groups = std::move(*of_user);
  }
  for (const std::string& name : names) {
    auto gid = LookupGroup(name);
    if (!gid.ok()) return Error{"SupplementaryGroups=: " + gid.error().message};
    if (std::find(groups.begin(), groups.end(), *gid) == groups.end()) groups.push_back(*gid);
  }
  return groups;
}

}  // namespace supd
