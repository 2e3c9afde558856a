#include "lib/proc/limit_plan.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>

#include "lib/base/unique_fd.h"

namespace supd {
namespace {

ResourceLimit AsLimit(const struct rlimit& rl) { return ResourceLimit{rl.rlim_cur, rl.rlim_max}; }

bool operator==(const struct rlimit& a, const struct rlimit& b) {
  return a.rlim_cur == b.rlim_cur && a.rlim_max == b.rlim_max;
}

}  // namespace

Result<uint64_t> ReadNrOpen() {
  const char* path = "/proc/sys/fs/nr_open";
  UniqueFd fd(::open(path, O_RDONLY | O_CLOEXEC));
  if (!fd) return ErrnoError(std::string("open ") + path);
  char buf[32];
  const ssize_t n = ::read(fd.get(), buf, sizeof(buf));
  if (n < 0) return ErrnoError(std::string("read ") + path);
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(buf, buf + n, v);
  if (ec != std::errc() || p == buf || v == 0)
    return Error{std::string("read ") + path + ": not a number"};
  return v;
}

bool HasCapSysResource() {
  struct __user_cap_header_struct header {};
  header.version = _LINUX_CAPABILITY_VERSION_3;
  struct __user_cap_data_struct data[2]{};
  if (syscall(SYS_capget, &header, data) < 0) return false;
  return (data[CAP_SYS_RESOURCE / 32].effective & (1u << (CAP_SYS_RESOURCE % 32))) != 0;
}

RlimitHost ReadRlimitHost() {
  RlimitHost host;
  for (int resource = 0; resource < RLIMIT_NLIMITS; ++resource) {
    // Cannot fail for a resource the kernel defines; all of 0..RLIMIT_NLIMITS-1 are.
    (void)getrlimit(resource, &host.current[static_cast<size_t>(resource)]);
  }
  host.can_raise_hard = HasCapSysResource();
  auto nr_open = ReadNrOpen();
  if (nr_open.ok()) {
    host.nr_open = *nr_open;
  } else {
    host.nr_open_error = nr_open.error().message;
  }
  return host;
}

std::string DescribeRlimitRefusal(uint32_t refusal, uint64_t nr_open) {
  std::string why;
  if ((refusal & kRefusedNoCapSysResource) != 0) why = "no CAP_SYS_RESOURCE";
  if ((refusal & kRefusedAboveNrOpen) != 0)
    why += (why.empty() ? "" : "; ") + std::string("above fs.nr_open=") + std::to_string(nr_open);
  return why.empty() ? "refused by the kernel" : why;
}

RlimitOutcome PredictRlimit(int resource, const struct rlimit& wanted, const RlimitHost& host,
                            bool require_limits) {
  RlimitOutcome out;
  if (wanted.rlim_cur > wanted.rlim_max) {
    out.kind = RlimitOutcome::Kind::kFails;
    out.error = EINVAL;
    return out;
  }
  const struct rlimit& current = host.current[static_cast<size_t>(resource)];
  out.refusal = RlimitRefusalOf(resource, wanted.rlim_max, current.rlim_max, host.can_raise_hard,
                                host.nr_open);
  if (out.refusal == 0) {
    out.applied = wanted;
    return out;
  }
  // EPERM. setrlimit_closest() gives up when the hard limit is unlimited already (the EPERM then
  // had another cause), and RequireLimits=yes never clamps.
  if (require_limits || current.rlim_max == RLIM_INFINITY) {
    out.kind = RlimitOutcome::Kind::kFails;
    out.error = EPERM;
    return out;
  }
  const struct rlimit fixed = {std::min(wanted.rlim_cur, current.rlim_max),
                               std::min(wanted.rlim_max, current.rlim_max)};
  // Unless that is what the process has already (then it is not set again), it is set: the hard
  // limit is not raised, so only fs.nr_open (lowered since the process got its limit) can
  // refuse it.
  if (!(fixed == current) && RlimitRefusalOf(resource, fixed.rlim_max, current.rlim_max,
                                             host.can_raise_hard, host.nr_open) != 0) {
    out.kind = RlimitOutcome::Kind::kFails;
    out.error = EPERM;
    return out;
  }
  out.kind = RlimitOutcome::Kind::kClamped;
  out.applied = fixed;
  return out;
}

struct rlimit ResolveRlimitInfinity(int resource, const ResourceLimit& limit,
                                    const RlimitHost& host) {
  struct rlimit rl = {limit.soft, limit.hard};
  if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_max != RLIM_INFINITY) return rl;
  uint64_t most = RLIM_INFINITY;
  if (resource == RLIMIT_NOFILE) most = host.nr_open;
  if (!host.can_raise_hard)
    most = std::min<uint64_t>(most, host.current[static_cast<size_t>(resource)].rlim_max);
  if (rl.rlim_cur == RLIM_INFINITY) rl.rlim_cur = most;
  if (rl.rlim_max == RLIM_INFINITY) rl.rlim_max = most;
  return rl;
}

std::string DescribeRlimitClamp(int resource, const struct rlimit& wanted,
                                const struct rlimit& applied, uint32_t refusal, uint64_t nr_open) {
  return std::string(ResourceLimitDirective(resource)) + "=" +
         FormatResourceLimit(AsLimit(wanted)) + " clamped to " +
         FormatResourceLimit(AsLimit(applied)) + " (" + DescribeRlimitRefusal(refusal, nr_open) +
         ")";
}

std::vector<std::string> PredictLimitNotes(const ExecSettings& exec, bool require_limits,
                                           const RlimitHost& host) {
  std::vector<std::string> notes;
  for (int resource = 0; resource < kResourceLimitCount; ++resource) {
    const auto& limit = exec.limits[static_cast<size_t>(resource)];
    if (!limit) continue;
    const std::string directive(ResourceLimitDirective(resource));
    if (resource == RLIMIT_NOFILE && host.nr_open == 0 &&
        (limit->soft == RLIM_INFINITY || limit->hard == RLIM_INFINITY)) {
      notes.push_back(directive + "=" + FormatResourceLimit(*limit) +
                      " will fail the start: " + host.nr_open_error);
      continue;
    }
    const struct rlimit wanted = ResolveRlimitInfinity(resource, *limit, host);
    const RlimitOutcome out = PredictRlimit(resource, wanted, host, require_limits);
    switch (out.kind) {
      case RlimitOutcome::Kind::kSet:
        break;
      case RlimitOutcome::Kind::kClamped:
        notes.push_back(directive + "=" + FormatResourceLimit(AsLimit(wanted)) +
                        " will be clamped to " + FormatResourceLimit(AsLimit(out.applied)) + " (" +
                        DescribeRlimitRefusal(out.refusal, host.nr_open) + ")");
        break;
      case RlimitOutcome::Kind::kFails: {
        std::string why;
        if (out.error == EPERM) why = DescribeRlimitRefusal(out.refusal, host.nr_open);
        if (require_limits && out.error == EPERM) why += "; RequireLimits=yes";
        notes.push_back(directive + "=" + FormatResourceLimit(AsLimit(wanted)) +
                        " will fail the start: " + strerror(out.error) +
                        (why.empty() ? "" : " (" + why + ")"));
        break;
      }
    }
  }
  return notes;
}

}  // namespace supd
