#include "lib/supervise/real_host.h"

#include <fcntl.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <fmt/format.h>
#include <optional>
#include <spdlog/spdlog.h>

#include "lib/base/blocking_worker.h"
#include "lib/cgroup/cgroup.h"
#include "lib/cgroup/leftovers.h"
#include "lib/cgroup/resource_control.h"
#include "lib/log/journal.h"
#include "lib/log/output_reader.h"
#include "lib/log/output_target.h"
#include "lib/log/service_log.h"
#include "lib/proc/process_watcher.h"

namespace supd {
namespace asio = boost::asio;

namespace {

// Asio converts to the steady clock's nanoseconds: a delay near Usec::max() would overflow
// into the past and fire at once. Nothing supd waits for is longer than this.
Usec ClampDelay(Usec d) {
  constexpr Usec kMax = std::chrono::hours(24 * 365);
  return d > kMax ? kMax : d < Usec(0) ? Usec(0) : d;
}

class AsioTimer final : public Timer {
 public:
  explicit AsioTimer(asio::io_context& io) : timer_(io) {}
  void Arm(Usec delay, std::function<void()> fn) override {
    const uint64_t gen = ++gen_;
    armed_ = true;
    timer_.expires_after(ClampDelay(delay));
    timer_.async_wait([this, gen, fn = std::move(fn), alive = alive_](
                          const boost::system::error_code& ec) {
      if (ec || !*alive || gen != gen_) return;
      armed_ = false;
      fn();
    });
  }
  void Cancel() override {
    ++gen_;
    armed_ = false;
    timer_.cancel();
  }
  bool armed() const override { return armed_; }
  Usec remaining() const override {
    if (!armed_) return Usec(0);
    const auto left = timer_.expiry() - asio::steady_timer::clock_type::now();
    return std::max(Usec(0), std::chrono::duration_cast<Usec>(left));
  }
  ~AsioTimer() override { *alive_ = false; }

 private:
  asio::steady_timer timer_;
  uint64_t gen_ = 0;  // bumped on every arm/cancel: a stale expiry is ignored
  bool armed_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// Waits for an fd it does not own to become readable. Asio makes the open file non-blocking for
// its wait; the flags are put back at once (the wait needs readiness only, never a read): a held
// socket is shared with the service that gets it, which systemd passes as it was bound.
class AsioReadable final : public WatchHandle {
 public:
  // REQUIRES: ok() before Arm().
  AsioReadable(asio::io_context& io, int fd) : sd_(io) {
    boost::system::error_code ec;
    sd_.assign(fd, ec);
    error_ = ec;
  }
  const boost::system::error_code& error() const { return error_; }
  void Arm(int fd, std::function<void()> fn) {
    const int flags = ::fcntl(fd, F_GETFL);
    sd_.async_wait(asio::posix::stream_descriptor::wait_read,
                   [fn = std::move(fn), alive = alive_](const boost::system::error_code& ec) {
                     if (!ec && *alive) fn();
                   });
    if (flags >= 0) (void)::fcntl(fd, F_SETFL, flags);  // best effort, see above
  }
  ~AsioReadable() override {
    *alive_ = false;
    if (!sd_.is_open()) return;
    boost::system::error_code ignored;
    sd_.cancel(ignored);
    (void)sd_.release();  // borrowed: the owner closes it
  }

 private:
  asio::posix::stream_descriptor sd_;
  boost::system::error_code error_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

class RealLoop final : public Loop {
 public:
  explicit RealLoop(asio::io_context& io) : io_(io) {}
  Usec Now() const override { return Usec(MonotonicUsec()); }
  int64_t RealtimeUsec() const override { return supd::RealtimeUsec(); }
  std::unique_ptr<Timer> NewTimer() override { return std::make_unique<AsioTimer>(io_); }
  void Post(std::function<void()> fn) override { asio::post(io_, std::move(fn)); }
  std::unique_ptr<WatchHandle> WhenReadable(int fd, std::function<void()> fn) override {
    auto w = std::make_unique<AsioReadable>(io_, fd);
    if (w->error()) {
      errno = w->error().value();  // for the caller's message
      return nullptr;
    }
    w->Arm(fd, std::move(fn));
    return w;
  }

 private:
  asio::io_context& io_;
};

class RealProcessControl final : public ProcessControl {
 public:
  explicit RealProcessControl(asio::io_context& io) : watcher_(io) {}
  Result<void> Signal(const ProcessHandle& p, int sig) override {
    return SignalPidfd(p.pid, p.pidfd.get(), sig);
  }
  Result<void> SignalGroup(pid_t pgid, int sig) override { return SignalProcessGroup(pgid, sig); }
  bool GroupExists(pid_t pgid) override { return ProcessGroupExists(pgid); }
  pid_t GroupOf(pid_t pid) override { return ::getpgid(pid); }
  Result<UniqueFd> OpenPidfd(pid_t pid) override { return supd::OpenPidfd(pid); }
  bool StillRuns(int pidfd) override { return PidfdStillRuns(pidfd); }
  void Watch(pid_t pid, int pidfd, std::function<void(const ExitStatus&)> on_exit) override {
    watcher_.Watch(pid, pidfd, std::move(on_exit));
  }
  void Forget(pid_t pid) override { watcher_.Forget(pid); }
  void OnOrphansReaped(std::function<void()> fn) override {
    watcher_.SetAfterReapHook(std::move(fn));
  }
  void ReapNow() override { watcher_.ReapNow(); }
  bool ChildWaitsToBeReaped() override { return watcher_.ChildWaitsToBeReaped(); }

 private:
  ProcessWatcher watcher_;
};

class RealCgroupControl final : public CgroupControl {
 public:
  RealCgroupControl(asio::io_context& io, const std::string& tree_name) : io_(io) {
    auto tree = CgroupTree::Create(tree_name);
    if (tree.ok()) {
      tree_ = std::move(*tree);
      spdlog::info("tracking service processes in cgroups under {}", tree_->path());
      const std::string& m = tree_->mount();
      relative_ = tree_->path().substr(m.size());
    } else {
      error_ = tree.error().message;
      spdlog::warn("cgroup tracking unavailable ({}); using process groups: a process that "
                   "leaves its process group (setsid) escapes a stop",
                   error_);
    }
    resources_ = ResourceControl::Setup(tree_name, tree_ ? tree_->path() : "", error_);
    spdlog::info("resource control: {}", resources_.Summary());
  }
  bool tracking() const override { return tree_.has_value(); }
  const std::string& tracking_error() const override { return error_; }
  std::string ServiceDir(const std::string& service) const override {
    return tree_ ? tree_->path() + "/" + service : "";
  }
  Result<std::string> CreateInstance(const std::string& service,
                                     const std::string& invocation) override {
    if (!tree_) return Error{"no cgroup tracking: " + error_};
    SUPD_TRY(tree_->ServiceCgroup(service));
    return tree_->ServiceCgroup(service + "/" + invocation);
  }
  Result<bool> IsEmpty(const std::string& dir) override { return CgroupIsEmpty(dir); }
  Result<void> Signal(const std::string& dir, int sig) override { return SignalCgroup(dir, sig); }
  Result<void> Remove(const std::string& dir) override {
    SUPD_TRY(RemoveCgroup(dir));
    resources_.Release(dir);
    return Ok();
  }
  std::string CgroupOf(pid_t pid) override { return supd::CgroupOfPid(pid); }
  bool Within(const std::string& own, const std::string& dir) const override {
    return tree_ && CgroupPathWithin(own, dir, tree_->mount());
  }
  // own: "0::/<relative tree>/<service>/<invocation>" as /proc/PID/cgroup shows it.
  std::string ServiceOf(const std::string& own) const override {
    if (!tree_) return "";
    std::string_view p = own;
    if (p.starts_with("0::")) p.remove_prefix(3);
    const std::string prefix = relative_ + "/";
    if (!p.starts_with(prefix)) return "";
    p.remove_prefix(prefix.size());
    return std::string(p.substr(0, p.find('/')));
  }
  const InstanceResources& ApplyLimits(const std::string& service, const std::string& invocation,
                                       const std::string& dir,
                                       const ResourceLimits& limits) override {
    return resources_.Apply(service, invocation, dir, limits);
  }
  const InstanceResources* Limits(const std::string& dir) const override {
    return resources_.Find(dir);
  }
  uint64_t OomKills(const std::string& dir) const override { return resources_.OomKills(dir); }
  InstanceStats Stats(const std::string& dir) const override { return resources_.Stats(dir); }
  const ResourceControl& resources() const override { return resources_; }
  void StopLeftovers(std::function<void()> done) override {
    if (!tree_) {
      done();
      return;
    }
    leftovers_ = std::make_unique<LeftoverStopper>(io_, tree_->path(), std::move(done));
  }
  void RemoveAll() override {
    if (tree_) tree_->RemoveAll();
    resources_.RemoveAll();
  }

 private:
  asio::io_context& io_;
  std::optional<CgroupTree> tree_;
  std::string relative_;  // the tree's path below the cgroup2 mount, "/supd-…" or deeper
  std::string error_;     // why there is no tracking
  ResourceControl resources_;
  std::unique_ptr<LeftoverStopper> leftovers_;
};

class RealLauncher final : public Launcher {
 public:
  explicit RealLauncher(asio::io_context& io) : io_(io), journal_(SystemJournal()) {}

  Result<std::unique_ptr<Proc>> Launch(const LaunchPlan& lp, const LaunchTarget& target,
                                       std::vector<std::string>* output_warnings) override {
    SpawnPlan plan = lp.spawn;
    if (target.capture_output) return LaunchCapturing(std::move(plan), lp, target);
    // StandardOutput=/StandardError=: supd's log (a pipe per stream), journald, a file, null.
    auto targets = OpenOutputTargets(*target.spec, journal_.get());
    if (!targets.ok()) return targets.take_error();
    *output_warnings = targets->warnings;
    const bool out_log = targets->out_to_log && target.log;
    const bool err_log = targets->err_to_log && target.log;
    Pipe out, err;
    if (out_log) {
      auto p = OpenPipe("stdout of " + lp.what);
      if (!p.ok()) return p.take_error();
      out = std::move(*p);
    }
    if (err_log) {
      auto p = OpenPipe("stderr of " + lp.what);
      if (!p.ok()) return p.take_error();
      err = std::move(*p);
    }
    // Bound for the log but it could not be opened: supd's own stderr (the reason is in
    // status).
    plan.stdout_fd = out_log ? out.write.get()
                     : targets->out_to_log ? STDERR_FILENO
                     : targets->out        ? targets->out.get()
                                           : -1;
    plan.stderr_fd = err_log ? err.write.get()
                     : targets->err_to_log ? STDERR_FILENO
                     : targets->err        ? targets->err.get()
                                           : -1;
    return SpawnInto(std::move(plan), lp, target, [&](Proc& proc) {
      if (out_log) proc.out_reader = OutputReader::Start(io_, std::move(out.read), target.log, proc.pid(), "out");
      if (err_log) proc.err_reader = OutputReader::Start(io_, std::move(err.read), target.log, proc.pid(), "err");
    });
  }

  std::shared_ptr<OutputReader> AdoptOutput(UniqueFd read_end,
                                            const std::shared_ptr<ServiceLog>& log, pid_t pid,
                                            const OutputReaderExport& from) override {
    return OutputReader::Adopt(io_, std::move(read_end), log, pid, from);
  }

 private:
  // An exec: probe: stdout and stderr into one pipe that the probe reads.
  Result<std::unique_ptr<Proc>> LaunchCapturing(SpawnPlan plan, const LaunchPlan& lp,
                                                const LaunchTarget& target) {
    auto pipe = OpenPipe("the output of " + lp.what);
    if (!pipe.ok()) return pipe.take_error();
    const int flags = ::fcntl(pipe->read.get(), F_GETFL);
    if (flags < 0 || ::fcntl(pipe->read.get(), F_SETFL, flags | O_NONBLOCK) < 0)
      return ErrnoError("make the output pipe of " + lp.what + " non-blocking");
    plan.stdout_fd = pipe->write.get();
    plan.stderr_fd = pipe->write.get();
    return SpawnInto(std::move(plan), lp, target,
                     [&](Proc& proc) { proc.capture = std::move(pipe->read); });
  }

  // Enters the cgroup, spawns, and lets `attach` give the new Proc its output ends.
  Result<std::unique_ptr<Proc>> SpawnInto(SpawnPlan plan, const LaunchPlan& lp,
                                          const LaunchTarget& target,
                                          const std::function<void(Proc&)>& attach) {
    UniqueFd cgroup_procs, cgroup_dir;
    if (!target.cgroup.empty()) {
      auto fd = OpenCgroupProcs(target.cgroup);
      if (!fd.ok()) return fd.take_error();
      cgroup_procs = std::move(*fd);
      plan.cgroup_procs_fd = cgroup_procs.get();
      auto dir = OpenCgroupDir(target.cgroup);
      if (!dir.ok()) return dir.take_error();
      cgroup_dir = std::move(*dir);
      plan.cgroup_dir_fd = cgroup_dir.get();
    }
    std::vector<UniqueFd> v1_procs;  // the instance's v1 cgroups, entered in the child
    for (const auto& dir : target.v1_cgroups) {
      auto fd = OpenCgroupProcs(dir);
      if (!fd.ok()) return fd.take_error();
      plan.extra_cgroup_procs_fds.push_back(fd->get());
      v1_procs.push_back(std::move(*fd));
    }
    auto spawned = Spawn(plan);
    if (!spawned.ok()) return spawned.take_error();
    auto proc = std::make_unique<Proc>();
    proc->handle.pid = spawned->pid;
    proc->handle.pidfd = std::move(spawned->pidfd);
    proc->exec_status = std::move(spawned->exec_status);
    proc->path = lp.path;
    proc->working_directory = plan.working_directory;
    attach(*proc);
    return proc;
  }

  asio::io_context& io_;
  std::unique_ptr<JournalStreams> journal_;  // null: no journald support at all
};

class RealWorker final : public BlockingWork {
 public:
  explicit RealWorker(asio::io_context& io) : worker_(io) {}
  void Run(std::function<std::function<void()>()> job) override { worker_.Run(std::move(job)); }

 private:
  BlockingWorker worker_;
};

}  // namespace

std::string CgroupTreeName(const std::string& state_dir) {
  uint32_t h = 2166136261u;  // FNV-1a
  for (unsigned char c : state_dir) h = (h ^ c) * 16777619u;
  return fmt::format("supd-{:08x}", h);
}

std::unique_ptr<Loop> MakeRealLoop(asio::io_context& io) { return std::make_unique<RealLoop>(io); }
std::unique_ptr<ProcessControl> MakeRealProcessControl(asio::io_context& io) {
  return std::make_unique<RealProcessControl>(io);
}
std::unique_ptr<CgroupControl> MakeRealCgroupControl(asio::io_context& io,
                                                      const std::string& tree_name) {
  return std::make_unique<RealCgroupControl>(io, tree_name);
}
std::unique_ptr<Launcher> MakeRealLauncher(asio::io_context& io) {
  return std::make_unique<RealLauncher>(io);
}
std::shared_ptr<BlockingWork> MakeRealWorker(asio::io_context& io) {
  return std::make_shared<RealWorker>(io);
}

HostParts MakeRealHost(asio::io_context& io, const std::string& tree_name) {
  HostParts h;
  h.loop = MakeRealLoop(io);
  h.process = MakeRealProcessControl(io);
  h.cgroups = MakeRealCgroupControl(io, tree_name);
  h.launcher = MakeRealLauncher(io);
  h.worker = MakeRealWorker(io);
  h.probes = [&io](const ServiceSpec& spec, ExecCheckStarter exec, ProbeSet::Callbacks cb) {
    return std::make_unique<ProbeSet>(io, spec, std::move(exec), std::move(cb));
  };
  return h;
}

}  // namespace supd
