// How a unit's Limit*= come out on this host. supd sets them as systemd's setrlimit_closest()
// does: setrlimit() as asked; only when the kernel says EPERM, lower soft and hard to the
// process's current hard maximum and set that (a hard limit that is already unlimited keeps the
// EPERM). So root without CAP_SYS_RESOURCE (a container) starts LimitNOFILE=1048576 with its
// own hard limit, as under systemd; `[X-Supd] RequireLimits=yes` turns that clamp into a
// failed start.
//
// This file holds the facts that decide the outcome (ReadRlimitHost), a pure prediction from
// those facts (PredictRlimit, for `supctl check`), and the text of a clamp, shared by the
// prediction and by what the child reports after clamping (lib/proc/spawn.cc). The child itself
// does the setrlimit calls; nothing here runs between fork and exec except RlimitRefusal(),
// which is async-signal-safe.
#pragma once

#include <sys/resource.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "lib/base/result.h"
#include "lib/unit/exec_settings.h"

namespace supd {

// What decides how setrlimit() treats a process: its own limits (its children start with
// them), whether it may raise a hard limit, and the kernel's ceiling for RLIMIT_NOFILE.
struct RlimitHost {
  std::array<struct rlimit, RLIMIT_NLIMITS> current{};
  bool can_raise_hard = false;  // CAP_SYS_RESOURCE in the effective set
  uint64_t nr_open = 0;         // fs.nr_open; 0: unknown (nr_open_error says why)
  std::string nr_open_error;
};

// The facts of the calling process. Never fails: an unreadable fs.nr_open leaves nr_open 0.
RlimitHost ReadRlimitHost();

// fs.nr_open, the highest RLIMIT_NOFILE the kernel accepts. Errors: "read /proc/sys/fs/nr_open:
// No such file or directory".
[[nodiscard]] Result<uint64_t> ReadNrOpen();

// Whether the calling process has CAP_SYS_RESOURCE in its effective set (false if capget fails).
bool HasCapSysResource();

// Why the kernel refuses a limit with EPERM (bits; see do_prlimit() in kernel/sys.c).
enum RlimitRefusal : uint32_t {
  kRefusedNoCapSysResource = 1,  // raising the hard limit needs CAP_SYS_RESOURCE
  kRefusedAboveNrOpen = 2,       // RLIMIT_NOFILE above fs.nr_open
};

// The refusal bits for a hard limit of `wanted_hard` in a process whose hard limit is
// `current_hard`; 0 if the kernel takes it. nr_open 0 (unknown) is not checked.
// Async-signal-safe: the child calls it after a clamp.
constexpr uint32_t RlimitRefusalOf(int resource, uint64_t wanted_hard, uint64_t current_hard,
                                   bool can_raise_hard, uint64_t nr_open) {
  uint32_t why = 0;
  if (wanted_hard > current_hard && !can_raise_hard) why |= kRefusedNoCapSysResource;
  if (resource == RLIMIT_NOFILE && nr_open != 0 && wanted_hard > nr_open)
    why |= kRefusedAboveNrOpen;
  return why;
}

// "no CAP_SYS_RESOURCE", "above fs.nr_open=1048576", both joined by "; ", or "refused by the
// kernel" for none of them (a security module).
std::string DescribeRlimitRefusal(uint32_t refusal, uint64_t nr_open);

// What setrlimit_closest() does with one limit.
struct RlimitOutcome {
  enum class Kind {
    kSet,      // as asked
    kClamped,  // lowered to the process's hard maximum (applied)
    kFails,    // the start fails with `error` (exit status 205)
  } kind = Kind::kSet;
  struct rlimit applied {};  // kSet: as asked; kClamped: what the process ends up with
  int error = 0;             // kFails: errno
  uint32_t refusal = 0;      // kClamped, and kFails with EPERM: RlimitRefusal bits
};

// Predicts setrlimit_closest(resource, wanted) in a process with the facts `host`, following the
// kernel's checks: soft above hard is EINVAL; a hard limit above the current one without
// CAP_SYS_RESOURCE, and RLIMIT_NOFILE above fs.nr_open, are EPERM. `require_limits`: an EPERM
// fails instead of clamping (RequireLimits=yes). A pure function of its arguments.
RlimitOutcome PredictRlimit(int resource, const struct rlimit& wanted, const RlimitHost& host,
                            bool require_limits);

// "infinity" in a Limit*= as the most a process with the facts `host` can give: fs.nr_open for
// RLIMIT_NOFILE (the kernel refuses RLIM_INFINITY there), and without CAP_SYS_RESOURCE no more
// than its own hard limit. Finite values are returned as they are.
// REQUIRES: host.nr_open != 0 when resource is RLIMIT_NOFILE and a value is infinity.
struct rlimit ResolveRlimitInfinity(int resource, const ResourceLimit& limit,
                                    const RlimitHost& host);

// "LimitNOFILE=1048576 clamped to 20000 (no CAP_SYS_RESOURCE)": what a clamp did, for the log,
// status and the child's report.
std::string DescribeRlimitClamp(int resource, const struct rlimit& wanted,
                                const struct rlimit& applied, uint32_t refusal, uint64_t nr_open);

// For `supctl check`: one line per Limit*= of `exec` that will not be set as written in a
// process with the facts `host` (infinity resolved as at start):
//   "LimitNOFILE=1048576 will be clamped to 20000 (no CAP_SYS_RESOURCE)"
//   "LimitNOFILE=1048576 will fail the start: Operation not permitted (no CAP_SYS_RESOURCE;
//    RequireLimits=yes)"
// Empty when every limit will be set as written.
std::vector<std::string> PredictLimitNotes(const ExecSettings& exec, bool require_limits,
                                           const RlimitHost& host);

}  // namespace supd
