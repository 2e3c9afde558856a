#include "lib/proc/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/base/capabilities.h"
#include "lib/proc/exec_report.h"
#include "lib/proc/limit_plan.h"
#include "lib/unit/exec_settings.h"

namespace supd {
namespace {

using namespace exec_report;  // NOLINT(google-build-using-namespace): the wire format

// The kernel's struct clone_args (up to the cgroup field, Linux 5.7), declared here because
// <linux/sched.h> clashes with glibc's <sched.h>.
struct CloneArgs {
  uint64_t flags;
  uint64_t pidfd;
  uint64_t child_tid;
  uint64_t parent_tid;
  uint64_t exit_signal;
  uint64_t stack;
  uint64_t stack_size;
  uint64_t tls;
  uint64_t set_tid;
  uint64_t set_tid_size;
  uint64_t cgroup;
};
constexpr uint64_t kClonePidfd = 0x00001000;
constexpr uint64_t kCloneIntoCgroup = 0x200000000ULL;

[[noreturn]] void ChildFail(int fd, int step, int32_t detail = 0, uint64_t value = 0,
                            uint64_t value2 = 0) {
  ChildReport r{step, errno, detail, 0, value, value2, 0, 0, 0};
  // Best effort: if the parent is gone there is nobody to tell.
  ssize_t n = ::write(fd, &r, sizeof(r));
  (void)n;
  ::_exit(step);
}

// Async-signal-safe. Best effort, as ChildFail: a parent that is gone reads nothing anyway.
void ChildTell(int fd, const ChildReport& r) {
  ssize_t n = ::write(fd, &r, sizeof(r));
  (void)n;
}

// Everything the child reads between fork and exec, prepared by the parent (PrepareChild): the
// child only reads it and makes system calls, never allocates. Neither copied nor moved once
// prepared: argv/envp and own_pid_slots point into its own strings.
struct ChildPlan {
  ChildPlan() = default;
  ChildPlan(const ChildPlan&) = delete;
  ChildPlan& operator=(const ChildPlan&) = delete;

  const SpawnPlan* plan = nullptr;
  std::vector<char*> argv;  // null-terminated
  std::vector<char*> envp;  // null-terminated
  // "NAME=" followed by room for the pid, which only the child knows, and where it goes.
  std::vector<std::string> own_pid;
  std::vector<std::pair<char*, size_t>> own_pid_slots;  // buffer, offset of the value
  const char* wd = "/";
  std::array<std::optional<struct rlimit>, RLIMIT_NLIMITS> rlimits;
  std::string oom_text;  // OOMScoreAdjust= as written to /proc/self/oom_score_adj
  // What the child needs to say why a limit or the OOM score was refused.
  bool strict = false;  // RequireLimits=yes
  bool can_raise_hard = false;
  uint64_t nr_open = 0;
  // Capabilities are kept across the uid change only when ambient ones must be raised after it.
  bool keep_caps = false;
};

void PrepareChild(const SpawnPlan& plan, ChildPlan* c) {
  c->plan = &plan;
  for (const auto& a : plan.argv) c->argv.push_back(const_cast<char*>(a.c_str()));
  c->argv.push_back(nullptr);
  c->own_pid.resize(plan.own_pid_env.size());
  for (size_t i = 0; i < c->own_pid.size(); ++i) {
    c->own_pid[i] = plan.own_pid_env[i] + "=" + std::string(24, '\0');
  }
  for (const auto& e : plan.env) c->envp.push_back(const_cast<char*>(e.c_str()));
  for (size_t i = 0; i < c->own_pid.size(); ++i) {
    c->envp.push_back(c->own_pid[i].data());
    c->own_pid_slots.push_back({c->own_pid[i].data(), plan.own_pid_env[i].size() + 1});
  }
  c->envp.push_back(nullptr);
  if (!plan.working_directory.empty()) c->wd = plan.working_directory.c_str();
  c->rlimits = plan.rlimits;
  if (!c->rlimits[RLIMIT_NOFILE]) {
    // supd raises its own soft RLIMIT_NOFILE; without LimitNOFILE= a service gets the
    // conventional 1024 back (programs using select() break above it), as under systemd.
    struct rlimit nofile {};
    if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur > 1024) {
      nofile.rlim_cur = 1024;
      c->rlimits[RLIMIT_NOFILE] = nofile;
    }
  }
  if (plan.oom_score_adjust) c->oom_text = std::to_string(*plan.oom_score_adjust);
  // Read here (the child only makes system calls), and only when the unit asks for something
  // that could be refused.
  c->strict = plan.require_limits;
  bool sets_limits = false;
  for (const auto& limit : plan.rlimits) sets_limits = sets_limits || limit.has_value();
  if (!c->strict && (sets_limits || plan.oom_score_adjust)) c->can_raise_hard = HasCapSysResource();
  if (!c->strict && plan.rlimits[RLIMIT_NOFILE]) {
    auto n = ReadNrOpen();
    c->nr_open = n.ok() ? *n : 0;  // unknown: the clamp's reason just does not name it
  }
  const bool leaves_root = plan.uid && *plan.uid != 0 && geteuid() == 0;
  c->keep_caps = leaves_root && plan.ambient_capabilities != 0;
}

// The child's steps, in the order RunChild() takes them. Async-signal-safe calls only: each
// one either succeeds or ends the child through ChildFail().

void ChildResetSignals(int report) {
  struct sigaction dfl;
  memset(&dfl, 0, sizeof(dfl));
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) sigaction(sig, &dfl, nullptr);  // EINVAL for 9/19: fine
  sigset_t none;
  sigemptyset(&none);
  if (sigprocmask(SIG_SETMASK, &none, nullptr) < 0) ChildFail(report, kStepSignalMask);
}

// Into the service's cgroup first, so that nothing it does escapes tracking; then a session.
void ChildEnterCgroupsAndSession(const SpawnPlan& plan, bool born_in_cgroup, int report) {
  if (!born_in_cgroup && plan.cgroup_procs_fd >= 0 && write(plan.cgroup_procs_fd, "0", 1) != 1)
    ChildFail(report, kStepCgroup);
  for (int fd : plan.extra_cgroup_procs_fds)
    if (write(fd, "0", 1) != 1) ChildFail(report, kStepCgroup);
  if (setsid() < 0) ChildFail(report, kStepSetsid);
}

void ChildStdio(const SpawnPlan& plan, int report) {
  const int devnull = open("/dev/null", O_RDWR);  // not CLOEXEC: closed below or becomes 0
  if (devnull < 0) ChildFail(report, kStepStdio);
  if (dup2(devnull, 0) < 0) ChildFail(report, kStepStdio);
  if (dup2(plan.stdout_fd >= 0 ? plan.stdout_fd : devnull, 1) < 0) ChildFail(report, kStepStdio);
  if (dup2(plan.stderr_fd >= 0 ? plan.stderr_fd : devnull, 2) < 0) ChildFail(report, kStepStdio);
  if (devnull > 2) close(devnull);
}

// Limit*=, while still privileged (raising a hard limit needs CAP_SYS_RESOURCE).
void ChildLimits(const ChildPlan& c, int report) {
  for (int resource = 0; resource < RLIMIT_NLIMITS; ++resource) {
    const auto& limit = c.rlimits[resource];
    if (!limit || setrlimit(resource, &*limit) == 0) continue;
    if (errno != EPERM || c.strict)
      ChildFail(report, kStepLimits, resource, limit->rlim_cur, limit->rlim_max);
    // systemd's setrlimit_closest(): as close as the kernel lets us, i.e. soft and hard
    // lowered to our hard maximum, unless that is unlimited (then the EPERM had another
    // cause), and not set again when it is what we have.
    struct rlimit highest {};
    if (getrlimit(resource, &highest) < 0)
      ChildFail(report, kStepLimits, resource, limit->rlim_cur, limit->rlim_max);
    if (highest.rlim_max == RLIM_INFINITY) {
      errno = EPERM;
      ChildFail(report, kStepLimits, resource, limit->rlim_cur, limit->rlim_max);
    }
    struct rlimit fixed {};
    fixed.rlim_cur = limit->rlim_cur < highest.rlim_max ? limit->rlim_cur : highest.rlim_max;
    fixed.rlim_max = limit->rlim_max < highest.rlim_max ? limit->rlim_max : highest.rlim_max;
    if ((fixed.rlim_cur != highest.rlim_cur || fixed.rlim_max != highest.rlim_max) &&
        setrlimit(resource, &fixed) < 0)
      ChildFail(report, kStepLimits, resource, limit->rlim_cur, limit->rlim_max);
    const uint32_t why =
        RlimitRefusalOf(resource, limit->rlim_max, highest.rlim_max, c.can_raise_hard, c.nr_open);
    ChildTell(report, ChildReport{kNoteLimitClamped, EPERM, resource, why, limit->rlim_cur,
                                  limit->rlim_max, fixed.rlim_cur, fixed.rlim_max, c.nr_open});
  }
}

// UMask=, OOMScoreAdjust= (lowering it needs CAP_SYS_RESOURCE) and Nice= (lowering it needs
// CAP_SYS_NICE), while still privileged.
void ChildUmaskOomScoreNice(const ChildPlan& c, int report) {
  const SpawnPlan& plan = *c.plan;
  if (plan.umask) umask(*plan.umask);
  if (plan.oom_score_adjust) {
    const auto value = static_cast<uint64_t>(*plan.oom_score_adjust);
    const int oom = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
    bool done = false;
    if (oom >= 0) {
      const ssize_t n = write(oom, c.oom_text.data(), c.oom_text.size());
      done = n == static_cast<ssize_t>(c.oom_text.size());
      if (n >= 0 && !done) errno = EIO;  // a short write: never seen from procfs
      const int saved = errno;
      close(oom);
      errno = saved;
    }
    // systemd goes on without the score when it may not set it (lowering it below the
    // inherited minimum needs CAP_SYS_RESOURCE): "assuming containerized execution".
    if (!done && (c.strict || (errno != EPERM && errno != EACCES)))
      ChildFail(report, kStepOomAdjust, 0, value);
    if (!done) {
      ChildTell(report,
                ChildReport{kNoteOomScoreSkipped, errno, 0,
                            c.can_raise_hard ? 0u : kRefusedNoCapSysResource, value, 0, 0, 0, 0});
    }
  }
  if (plan.nice && setpriority(PRIO_PROCESS, 0, *plan.nice) < 0)
    ChildFail(report, kStepNice, 0, static_cast<uint64_t>(*plan.nice));
}

// The capability work that needs root: the bounding set, the inheritable set for the ambient
// capabilities to come, and keep-caps across the uid change.
void ChildCapabilitiesBeforeUserChange(const ChildPlan& c, int report) {
  const SpawnPlan& plan = *c.plan;
  // The bounding set, while supd's CAP_SETPCAP is still there. PR_CAPBSET_READ fails (EINVAL)
  // past the kernel's last capability, which ends the walk.
  if (plan.capability_bounding_set) {
    for (int cap = 0; cap < 64; ++cap) {
      const int present = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
      if (present < 0) break;
      if (present == 1 && (*plan.capability_bounding_set & (uint64_t{1} << cap)) == 0 &&
          prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
        ChildFail(report, kStepCapabilities, kCapDropBounding, static_cast<uint64_t>(cap));
    }
  }
  // An ambient capability must be permitted and inheritable: put the set in the inheritable
  // set now (capset needs it in the bounding set, so a CapabilityBoundingSet= that removed it
  // fails here, as in systemd).
  if (plan.ambient_capabilities != 0) {
    struct __user_cap_header_struct header {};
    header.version = _LINUX_CAPABILITY_VERSION_3;
    struct __user_cap_data_struct data[2] {};
    if (syscall(SYS_capget, &header, data) < 0)
      ChildFail(report, kStepCapabilities, kCapInheritable);
    data[0].inheritable |= static_cast<uint32_t>(plan.ambient_capabilities);
    data[1].inheritable |= static_cast<uint32_t>(plan.ambient_capabilities >> 32);
    if (syscall(SYS_capset, &header, data) < 0)
      ChildFail(report, kStepCapabilities, kCapInheritable);
  }
  // Leaving uid 0 clears the permitted set, and with it the ambient capabilities to come,
  // unless the keep-caps securebit is set (execve clears that bit again).
  if (c.keep_caps && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) ChildFail(report, kStepSecurebits);
}

void ChildUserAndGroups(const SpawnPlan& plan, int report) {
  // A list with nothing in it may have no data(): then the groups stay as they are.
  const gid_t* groups = plan.groups ? plan.groups->data() : nullptr;
  if (groups != nullptr && setgroups(plan.groups->size(), groups) < 0)
    ChildFail(report, kStepGroup, kSetGroups, plan.groups->size());
  if (plan.gid && setresgid(*plan.gid, *plan.gid, *plan.gid) < 0)
    ChildFail(report, kStepGroup, kSetGid, *plan.gid);
  if (plan.uid && setresuid(*plan.uid, *plan.uid, *plan.uid) < 0)
    ChildFail(report, kStepUser, 0, *plan.uid);
}

void ChildCapabilitiesAfterUserChange(const SpawnPlan& plan, int report) {
  // Raised after the uid change, which clears the ambient set in any case. execve then makes
  // them the new program's permitted and effective capabilities.
  for (int cap = 0; cap < 64; ++cap) {
    if ((plan.ambient_capabilities & (uint64_t{1} << cap)) != 0 &&
        prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
      ChildFail(report, kStepCapabilities, kCapRaiseAmbient, static_cast<uint64_t>(cap));
  }
  if (plan.no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    ChildFail(report, kStepNoNewPrivileges);
}

// The working directory, and the child's own pid in the variables that carry it.
void ChildDirectoryAndOwnPid(const ChildPlan& c, int report) {
  if (chdir(c.wd) < 0) {
    if (!c.plan->working_directory_optional || chdir("/") < 0) ChildFail(report, kStepChdir);
  }
  if (c.own_pid_slots.empty()) return;
  char digits[24];
  int n = 0;
  for (pid_t v = getpid(); v > 0; v /= 10) digits[n++] = static_cast<char>('0' + v % 10);
  for (const auto& [buf, off] : c.own_pid_slots) {
    for (int i = 0; i < n; ++i) buf[off + i] = digits[n - 1 - i];
    buf[off + n] = '\0';
  }
}

// Closes (at exec) every fd but 0-2 and the passed ones, which become 3, 4, …. Returns the
// status pipe's fd, which may have moved out of their way.
int ChildPlaceFds(const SpawnPlan& plan, int report) {
  // fds that supd inherited without close-on-exec must not reach the service either.
  syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
  const int npass = static_cast<int>(plan.pass_fds.size());
  if (npass == 0) return report;
  // Socket activation: the passed fds become 3, 4, … First move every one above that
  // range (a source may already sit where another must go), then dup2 into place; dup2
  // clears close-on-exec on the copy, and the fcntl covers an fd already at its place.
  int moved[256];
  // The status pipe must not sit where a passed fd goes: move it above them first.
  const int high = fcntl(report, F_DUPFD_CLOEXEC, 3 + npass);
  if (high < 0) ChildFail(report, kStepFds);
  report = high;
  if (npass > 256) ChildFail(report, kStepFds);
  for (int i = 0; i < npass; ++i) {
    moved[i] = fcntl(plan.pass_fds[i], F_DUPFD_CLOEXEC, 3 + npass);
    if (moved[i] < 0) ChildFail(report, kStepFds);
  }
  for (int i = 0; i < npass; ++i) {
    if (dup2(moved[i], 3 + i) < 0) ChildFail(report, kStepFds);
    if (fcntl(3 + i, F_SETFD, 0) < 0) ChildFail(report, kStepFds);
  }
  return report;
}

// The child, from fork to execve. `report` is the write end of the exec-status pipe.
[[noreturn]] void RunChild(const ChildPlan& c, bool born_in_cgroup, int report) {
  const SpawnPlan& plan = *c.plan;
  ChildResetSignals(report);
  ChildEnterCgroupsAndSession(plan, born_in_cgroup, report);
  ChildStdio(plan, report);
  ChildLimits(c, report);
  ChildUmaskOomScoreNice(c, report);
  ChildCapabilitiesBeforeUserChange(c, report);
  ChildUserAndGroups(plan, report);
  ChildCapabilitiesAfterUserChange(plan, report);
  ChildDirectoryAndOwnPid(c, report);
  report = ChildPlaceFds(plan, report);
  execve(plan.path.c_str(), c.argv.data(), c.envp.data());
  ChildFail(report, kStepExec);
}

// clone3(CLONE_INTO_CGROUP | CLONE_PIDFD) into `cgroup_dir_fd` when there is one and the
// kernel takes it, else fork(): the pid as fork() returns it. *pidfd: the pidfd clone3 gave,
// or -1.
pid_t ForkChild(int cgroup_dir_fd, int* pidfd, bool* born_in_cgroup) {
  *pidfd = -1;
  *born_in_cgroup = false;
  if (cgroup_dir_fd >= 0) {
    // clone3(CLONE_INTO_CGROUP) starts the child in its cgroup: no window outside it, and none
    // of the cost of migrating a running process (a write to cgroup.procs took ~10 ms here).
    // The pidfd comes from the same call, so it can never name a recycled pid.
    CloneArgs args{};
    args.flags = kCloneIntoCgroup | kClonePidfd;
    args.pidfd = reinterpret_cast<uint64_t>(pidfd);
    args.exit_signal = SIGCHLD;
    args.cgroup = static_cast<uint64_t>(cgroup_dir_fd);
    const auto pid = static_cast<pid_t>(syscall(SYS_clone3, &args, sizeof(args)));
    // Older kernels (ENOSYS, E2BIG) or a cgroup that cannot take it (EOPNOTSUPP, EBUSY): fork.
    if (pid >= 0) {
      *born_in_cgroup = true;
      return pid;
    }
  }
  return ::fork();
}

}  // namespace

Result<SpawnedProcess> Spawn(const SpawnPlan& plan) {
  // Everything the child touches is built here, before fork.
  ChildPlan child;
  PrepareChild(plan, &child);

  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) < 0) return ErrnoError("pipe2 for exec status of " + plan.path);
  UniqueFd status_read(pipefd[0]);
  UniqueFd status_write(pipefd[1]);

  // Block every signal across fork: until the child has reset its handlers, a signal sent to
  // it (a stop right after a start) would run supd's handlers in the child, which write to
  // supd's own signal pipe — supd would think it got that signal and the child would not.
  sigset_t all_blocked, parent_mask;
  sigfillset(&all_blocked);
  sigprocmask(SIG_SETMASK, &all_blocked, &parent_mask);
  int clone_pidfd = -1;
  bool born_in_cgroup = false;
  const pid_t pid = ForkChild(plan.cgroup_dir_fd, &clone_pidfd, &born_in_cgroup);
  if (pid == 0) RunChild(child, born_in_cgroup, status_write.get());

  const int fork_errno = errno;
  sigprocmask(SIG_SETMASK, &parent_mask, nullptr);
  if (pid < 0) return ErrnoError("fork for " + plan.path, fork_errno);
  status_write.reset();
  SpawnedProcess p;
  p.pid = pid;
  const int pidfd =
      clone_pidfd >= 0 ? clone_pidfd : static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  // Without pidfd (kernel < 5.3) supd still works: exits come through SIGCHLD, signals by pid.
  if (pidfd >= 0) p.pidfd.reset(pidfd);
  const int flags = fcntl(status_read.get(), F_GETFL);
  if (flags >= 0) fcntl(status_read.get(), F_SETFL, flags | O_NONBLOCK);
  p.exec_status = std::move(status_read);
  return p;
}

namespace {

// A ChildNote as the parent tells it.
ExecAdjustment AdjustmentOf(const ChildReport& r) {
  ExecAdjustment a;
  if (r.step == kNoteLimitClamped) {
    const struct rlimit wanted = {r.value, r.value2};
    const struct rlimit applied = {r.value3, r.value4};
    a.directive = std::string(ResourceLimitDirective(r.detail));
    a.wanted = FormatResourceLimit(ResourceLimit{r.value, r.value2});
    a.applied = FormatResourceLimit(ResourceLimit{r.value3, r.value4});
    a.reason = DescribeRlimitRefusal(r.flags, r.value5);
    a.message = DescribeRlimitClamp(r.detail, wanted, applied, r.flags, r.value5);
    return a;
  }
  a.directive = "OOMScoreAdjust";
  a.wanted = std::to_string(static_cast<int>(r.value));
  a.reason = std::string(strerror(r.err)) + " (" +
             ((r.flags & kRefusedNoCapSysResource) != 0 ? "no CAP_SYS_RESOURCE; " : "") +
             "as systemd, assuming a container)";
  a.message = a.directive + "=" + a.wanted + " not applied: " + a.reason;
  return a;
}

}  // namespace

ExecStatus ReadExecStatus(int fd, const std::string& path, const std::string& working_directory) {
  ExecStatus st;
  UpdateExecStatus(fd, path, working_directory, &st);
  return st;
}

void UpdateExecStatus(int fd, const std::string& path, const std::string& working_directory,
                      ExecStatus* status) {
  if (status->kind != ExecStatus::Kind::kPending) return;
  ChildReport r{};
  ssize_t n;
  for (;;) {
    do {
      n = ::read(fd, &r, sizeof(r));
    } while (n < 0 && errno == EINTR);
    if (n < 0) return;  // EAGAIN: the child has not reached execve yet
    if (n == 0) {
      status->kind = ExecStatus::Kind::kExecuted;
      return;
    }
    const bool note = r.step == kNoteLimitClamped || r.step == kNoteOomScoreSkipped;
    if (static_cast<size_t>(n) != sizeof(r) || !note) break;
    status->adjustments.push_back(AdjustmentOf(r));
  }
  ExecStatus& st = *status;
  st.kind = ExecStatus::Kind::kFailed;
  if (static_cast<size_t>(n) != sizeof(r)) {
    st.error = "spawn " + path + ": child failed before exec (short status report)";
    return;
  }
  std::string what;
  switch (r.step) {
    case kStepExec: what = "exec " + path; break;
    case kStepChdir:
      what = "chdir " + (working_directory.empty() ? std::string("/") : working_directory);
      break;
    case kStepStdio: what = "set up stdin/stdout/stderr for " + path; break;
    case kStepSetsid: what = "setsid for " + path; break;
    case kStepCgroup: what = "enter the service's cgroup for " + path; break;
    case kStepFds: what = "pass the socket fds (LISTEN_FDS) to " + path; break;
    case kStepGroup:
      what = r.detail == kSetGroups
                 ? "set the " + std::to_string(r.value) +
                       " supplementary groups (the user's and SupplementaryGroups=) for " + path
                 : "set group id " + std::to_string(r.value) + " (Group=/User=) for " + path;
      break;
    case kStepUser: what = "set user id " + std::to_string(r.value) + " (User=) for " + path; break;
    case kStepLimits:
      what = "set " + std::string(ResourceLimitDirective(r.detail)) + "=" +
             FormatResourceLimit(ResourceLimit{r.value, r.value2}) + " for " + path;
      break;
    case kStepOomAdjust:
      what = "set OOMScoreAdjust=" + std::to_string(static_cast<int>(r.value)) +
             " (write /proc/self/oom_score_adj) for " + path;
      break;
    case kStepNice:
      what = "set Nice=" + std::to_string(static_cast<int>(r.value)) + " for " + path;
      break;
    case kStepCapabilities:
      switch (r.detail) {
        case kCapDropBounding:
          what = "drop " + CapabilityName(static_cast<int>(r.value)) +
                 " from the capability bounding set (CapabilityBoundingSet=) for " + path;
          break;
        case kCapInheritable:
          what = "make AmbientCapabilities= inheritable (capset) for " + path;
          break;
        default:
          what = "raise the ambient capability " + CapabilityName(static_cast<int>(r.value)) +
                 " (AmbientCapabilities=) for " + path;
          break;
      }
      break;
    case kStepSecurebits:
      what = "keep capabilities across the user change (PR_SET_KEEPCAPS) for " + path;
      break;
    case kStepNoNewPrivileges:
      what = "set no_new_privs (NoNewPrivileges=) for " + path;
      break;
    default: what = "prepare " + path; break;
  }
  st.error = what + ": " + strerror(r.err);
}

Result<void> SignalProcess(const SpawnedProcess& p, int sig) {
  int rc;
  if (p.pidfd) {
    rc = static_cast<int>(syscall(SYS_pidfd_send_signal, p.pidfd.get(), sig, nullptr, 0));
  } else {
    rc = ::kill(p.pid, sig);
  }
  if (rc < 0 && errno != ESRCH)
    return ErrnoError("send signal " + std::to_string(sig) + " to pid " + std::to_string(p.pid));
  return Ok();
}

Result<void> SignalProcessGroup(pid_t pgid, int sig) {
  if (pgid <= 1) return Error{"refusing to signal process group " + std::to_string(pgid)};
  if (::kill(-pgid, sig) < 0 && errno != ESRCH)
    return ErrnoError("send signal " + std::to_string(sig) + " to process group " +
                      std::to_string(pgid));
  return Ok();
}

bool ProcessGroupExists(pid_t pgid) {
  if (pgid <= 1) return false;
  return ::kill(-pgid, 0) == 0 || errno == EPERM;
}

}  // namespace supd
