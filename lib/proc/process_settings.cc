#include "lib/proc/process_settings.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <optional>

#include "lib/base/unique_fd.h"

namespace supd {
namespace {

// fs.nr_open: the highest RLIMIT_NOFILE the kernel accepts.
Result<uint64_t> ReadNrOpen() {
  const char* path = "/proc/sys/fs/nr_open";
  UniqueFd fd(::open(path, O_RDONLY | O_CLOEXEC));
  if (!fd) return ErrnoError(std::string("open ") + path);
  char buf[32];
  const ssize_t n = ::read(fd.get(), buf, sizeof(buf));
  if (n < 0) return ErrnoError(std::string("read ") + path);
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(buf, buf + n, v);
  if (ec != std::errc() || p == buf) return Error{std::string("read ") + path + ": not a number"};
  return v;
}

// Whether supd may raise hard limits (CAP_SYS_RESOURCE in its effective set). Root in a
// container often may not.
bool CanRaiseHardLimits() {
  struct __user_cap_header_struct header {};
  header.version = _LINUX_CAPABILITY_VERSION_3;
  struct __user_cap_data_struct data[2]{};
  if (syscall(SYS_capget, &header, data) < 0) return false;
  return (data[CAP_SYS_RESOURCE / 32].effective & (1u << (CAP_SYS_RESOURCE % 32))) != 0;
}

}  // namespace

Result<void> PlanExecSettings(const ExecSettings& exec, bool full_privileges, SpawnPlan* plan) {
  std::optional<bool> can_raise;  // asked once, and only when "infinity" needs it
  for (int resource = 0; resource < kResourceLimitCount; ++resource) {
    const auto& limit = exec.limits[resource];
    if (!limit) continue;
    struct rlimit rl {};
    rl.rlim_cur = limit->soft;
    rl.rlim_max = limit->hard;
    if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_max == RLIM_INFINITY) {
      // "infinity" is the most this service can be given: for RLIMIT_NOFILE the kernel's
      // fs.nr_open (it refuses RLIM_INFINITY there), and without CAP_SYS_RESOURCE no more than
      // supd's own hard limit. A finite value above what is possible is not clamped (systemd
      // does, in setrlimit_closest()): it fails the start, naming the limit.
      uint64_t most = RLIM_INFINITY;
      if (resource == RLIMIT_NOFILE) {
        auto nr_open = ReadNrOpen();
        if (!nr_open.ok()) {
          return Error{"LimitNOFILE=infinity: " + nr_open.error().message,
                       nr_open.error().sys_errno};
        }
        most = *nr_open;
      }
      if (!can_raise) can_raise = CanRaiseHardLimits();
      struct rlimit own {};
      if (!*can_raise && getrlimit(resource, &own) == 0)
        most = std::min<uint64_t>(most, own.rlim_max);
      if (rl.rlim_cur == RLIM_INFINITY) rl.rlim_cur = most;
      if (rl.rlim_max == RLIM_INFINITY) rl.rlim_max = most;
    }
    plan->rlimits[resource] = rl;
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
