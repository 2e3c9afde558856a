// What the supervisor needs from the host, as small interfaces: the loop (clock, timers, readable fds),
// process control, cgroups, starting a process, and work that may block.
//
// The Manager and its parts (lib/supervise/) reach the kernel only through these, so that
// tests drive them with fakes (tests/lib/supervise/fake_host.h): no root, no cgroups, no real
// processes or sleeps. The real implementations (real_host.h) use lib/proc/ and lib/cgroup/
// on the one io_context.
//
// Every call is made on the io_context thread, and every callback runs on it.
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "lib/base/result.h"
#include "lib/base/unique_fd.h"
#include "lib/cgroup/resource_control.h"
#include "lib/health/probe_set.h"
#include "lib/proc/exit_status.h"
#include "lib/unit/service_spec.h"

namespace supd {

// One timer. Arm() replaces an earlier wish; a cancelled or re-armed timer never calls the
// older callback. Destroying it cancels it.
class Timer {
 public:
  virtual ~Timer() = default;
  virtual void Arm(Usec delay, std::function<void()> fn) = 0;
  virtual void Cancel() = 0;
  virtual bool armed() const = 0;
  // How long until it fires (0 when not armed).
  virtual Usec remaining() const = 0;
};

// Something watched on the loop; destroying it stops the watch (its callback never runs).
class WatchHandle {
 public:
  virtual ~WatchHandle() = default;
};

// The event loop as the supervisor sees it: time, timers, deferred calls, readable fds.
class Loop {
 public:
  virtual ~Loop() = default;
  virtual Usec Now() const = 0;                 // CLOCK_MONOTONIC
  virtual int64_t RealtimeUsec() const = 0;     // CLOCK_REALTIME µs
  virtual std::unique_ptr<Timer> NewTimer() = 0;
  // Runs `fn` on the loop after the current handler (never from inside this call).
  virtual void Post(std::function<void()> fn) = 0;
  // Calls `fn` once when `fd` (borrowed: it must outlive the handle) becomes readable. The
  // fd's file status flags are left as they were (a held socket stays blocking for the
  // service that inherits it). At most one handle per fd at a time; a handle may be destroyed
  // from inside its own callback. Never throws: nullptr (errno set) when the fd cannot be
  // watched.
  virtual std::unique_ptr<WatchHandle> WhenReadable(int fd, std::function<void()> fn) = 0;
};

// A process of a service: its pid and pidfd, as Spawn or MAINPID= adoption made them.
struct ProcessHandle {
  pid_t pid = -1;
  UniqueFd pidfd;  // invalid without pidfd support
};

class ProcessControl {
 public:
  virtual ~ProcessControl() = default;
  // Sends sig through the pidfd (or to the pid). A process that is gone is success.
  [[nodiscard]] virtual Result<void> Signal(const ProcessHandle& p, int sig) = 0;
  [[nodiscard]] virtual Result<void> SignalGroup(pid_t pgid, int sig) = 0;
  virtual bool GroupExists(pid_t pgid) = 0;
  virtual pid_t GroupOf(pid_t pid) = 0;  // getpgid(); <= 0 if unknown
  [[nodiscard]] virtual Result<UniqueFd> OpenPidfd(pid_t pid) = 0;
  // Whether the process behind the pidfd still runs (see PidfdStillRuns).
  virtual bool StillRuns(int pidfd) = 0;
  // Calls on_exit once `pid` exited (reaped). `pidfd` is borrowed until then or Forget().
  virtual void Watch(pid_t pid, int pidfd, std::function<void(const ExitStatus&)> on_exit) = 0;
  virtual void Forget(pid_t pid) = 0;
  // Called after supd reaped children that were not watched (orphans): process groups and
  // cgroups may have emptied.
  virtual void OnOrphansReaped(std::function<void()> fn) = 0;
  // Reaps every child that has exited by now (exits of watched ones are dispatched as usual).
  virtual void ReapNow() = 0;
  // Whether a child of supd has exited and waits to be reaped (its SIGCHLD is on the way).
  virtual bool ChildWaitsToBeReaped() = 0;
};

// cgroup tracking and limits. Without tracking (tracking() false) every call fails or says
// "not empty" as documented, and the Manager falls back on process groups.
class CgroupControl {
 public:
  virtual ~CgroupControl() = default;
  virtual bool tracking() const = 0;
  virtual const std::string& tracking_error() const = 0;  // why not
  // The directory under which service `name`'s instances live (CgroupPathWithin's unit).
  virtual std::string ServiceDir(const std::string& service) const = 0;
  // Creates <service>/<invocation> and returns its directory.
  [[nodiscard]] virtual Result<std::string> CreateInstance(const std::string& service,
                                                           const std::string& invocation) = 0;
  // Unknown (an unreadable cgroup.events) is an error, never "empty".
  [[nodiscard]] virtual Result<bool> IsEmpty(const std::string& dir) = 0;
  [[nodiscard]] virtual Result<void> Signal(const std::string& dir, int sig) = 0;
  // Removes an empty instance cgroup and its v1 companions.
  [[nodiscard]] virtual Result<void> Remove(const std::string& dir) = 0;
  // The cgroup of a process as /proc/PID/cgroup says, and whether it is `dir` or below.
  virtual std::string CgroupOf(pid_t pid) = 0;
  virtual bool Within(const std::string& own, const std::string& dir) const = 0;
  // The service whose subtree holds the cgroup `own` (as CgroupOf gives it), "" if none.
  virtual std::string ServiceOf(const std::string& own) const = 0;
  // Limits: see ResourceControl.
  virtual const InstanceResources& ApplyLimits(const std::string& service,
                                               const std::string& invocation,
                                               const std::string& dir,
                                               const ResourceLimits& limits) = 0;
  virtual const InstanceResources* Limits(const std::string& dir) const = 0;
  virtual uint64_t OomKills(const std::string& dir) const = 0;
  virtual InstanceStats Stats(const std::string& dir) const = 0;
  virtual const ResourceControl& resources() const = 0;
  // What a SIGKILLed predecessor on this state directory left running in the tree: stopped
  // (SIGTERM, then SIGKILL), then `done` runs on the loop (at once when there is nothing).
  virtual void StopLeftovers(std::function<void()> done) = 0;
  // supd's shutdown: removes what is empty of the whole tree.
  virtual void RemoveAll() = 0;
};

// Makes the probes of one instance (lib/health/probe_set.h); the real one runs them on the
// io_context. `exec` starts the instance's exec: checks.
using ProbeFactory = std::function<std::unique_ptr<ProbeSet>(
    const ServiceSpec& spec, ExecCheckStarter exec, ProbeSet::Callbacks callbacks)>;

// Work that may block without bound (NSS lookups, reading files): runs off the loop, and the
// continuation it returns runs on the loop.
class BlockingWork {
 public:
  virtual ~BlockingWork() = default;
  virtual void Run(std::function<std::function<void()>()> job) = 0;
};

}  // namespace supd
