// From a unit's ExecSettings (lib/unit/exec_settings.h) to the SpawnPlan fields that the child
// applies between fork and exec (lib/proc/spawn.cc). Everything that needs a lookup (the group
// database, /proc/sys/fs/nr_open) happens here, in the parent, at each start; the child only
// makes system calls with the numbers.
//
// Not thread-safe only in the sense that getgrnam_r and friends read files: call from the
// supervisor's thread, like the rest of the start.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "lib/base/result.h"
#include "lib/base/user_db.h"
#include "lib/proc/spawn.h"
#include "lib/unit/exec_settings.h"

namespace supd {

// Fills the limits, umask, nice, OOM score, capability sets and no_new_privs of *plan from
// `exec`. With `full_privileges` (the '+' command prefix) the capability settings and
// NoNewPrivileges= are not applied, as in systemd; limits, umask, nice and OOM score are.
// "infinity" is the most the service can get: LimitNOFILE=infinity becomes fs.nr_open (the
// kernel refuses RLIM_INFINITY for RLIMIT_NOFILE), and a supd without CAP_SYS_RESOURCE (root in
// a container) gives at most its own hard limit (ResolveRlimitInfinity). A finite limit above
// what is possible is left as written: the child clamps it (lib/proc/limit_plan.h) unless
// plan->require_limits, which the caller sets. Errors: "LimitNOFILE=infinity: read
// /proc/sys/fs/nr_open: ...".
[[nodiscard]] Result<void> PlanExecSettings(const ExecSettings& exec, bool full_privileges,
                                            SpawnPlan* plan);

// The supplementary groups of a process: the groups of `user` from the group database when
// `user` is given (initgroups' list), followed by the SupplementaryGroups= `names` (names or
// numbers), as systemd does. Errors: "SupplementaryGroups=: look up group 'x': no such group".
[[nodiscard]] Result<std::vector<gid_t>> PlanSupplementaryGroups(
    const UserInfo* user, const std::vector<std::string>& names);

}  // namespace supd
