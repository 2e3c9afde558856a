// Fakes of the supervisor's host interfaces (lib/supervise/host.h, launch.h), for driving the
// Manager and its parts without root, cgroups, real processes or real time.
//
// FakeLoop's clock moves only when the test says (Advance); its Post goes to the real
// io_context, which the test polls (the Manager's LogWriter posts there too). Processes are
// numbers: FakeLauncher hands out pids, FakeProcessControl exits them when told. Everything is
// recorded for assertions.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "lib/supervise/host.h"
#include "lib/supervise/launch.h"
#include "lib/supervise/manager.h"

namespace supd::testing {

class FakeLoop;

class FakeTimer final : public Timer {
 public:
  explicit FakeTimer(FakeLoop* loop) : loop_(loop) {}
  void Arm(Usec delay, std::function<void()> fn) override;
  void Cancel() override { fn_ = nullptr; }
  bool armed() const override { return fn_ != nullptr; }
  Usec remaining() const override;
  ~FakeTimer() override;

 private:
  friend class FakeLoop;
  FakeLoop* loop_;
  Usec due_{0};
  std::function<void()> fn_;
};

class FakeWatch final : public WatchHandle {
 public:
  FakeWatch(FakeLoop* loop, int fd) : loop_(loop), fd_(fd) {}
  ~FakeWatch() override;

 private:
  FakeLoop* loop_;
  int fd_;
};

class FakeLoop final : public Loop {
 public:
  explicit FakeLoop(boost::asio::io_context& io) : io_(io) {}
  Usec Now() const override { return now_; }
  int64_t RealtimeUsec() const override { return 1'700'000'000'000'000 + now_.count(); }
  std::unique_ptr<Timer> NewTimer() override {
    auto t = std::make_unique<FakeTimer>(this);
    timers_.insert(t.get());
    return t;
  }
  void Post(std::function<void()> fn) override { boost::asio::post(io_, std::move(fn)); }
  std::unique_ptr<WatchHandle> WhenReadable(int fd, std::function<void()> fn) override {
    readable_[fd] = std::move(fn);
    return std::make_unique<FakeWatch>(this, fd);
  }

  // Moves the clock by `d`, firing every timer that falls due, in order, polling the
  // io_context after each.
  void Advance(Usec d) {
    const Usec until = now_ + d;
    for (;;) {
      FakeTimer* next = nullptr;
      for (FakeTimer* t : timers_)
        if (t->fn_ && t->due_ <= until && (!next || t->due_ < next->due_)) next = t;
      if (!next) break;
      now_ = std::max(now_, next->due_);
      auto fn = std::move(next->fn_);
      next->fn_ = nullptr;
      fn();
      io_.poll();
      io_.restart();
    }
    now_ = until;
  }
  // Makes a watched fd readable: calls its callback once.
  bool MakeReadable(int fd) {
    auto it = readable_.find(fd);
    if (it == readable_.end()) return false;
    auto fn = std::move(it->second);
    readable_.erase(it);
    fn();
    return true;
  }
  bool Watched(int fd) const { return readable_.count(fd) > 0; }

 private:
  friend class FakeTimer;
  friend class FakeWatch;
  boost::asio::io_context& io_;
  Usec now_{1'000'000'000};
  std::set<FakeTimer*> timers_;
  std::map<int, std::function<void()>> readable_;
};

inline void FakeTimer::Arm(Usec delay, std::function<void()> fn) {
  due_ = loop_->now_ + delay;
  fn_ = std::move(fn);
}
inline Usec FakeTimer::remaining() const {
  return fn_ ? std::max(Usec(0), due_ - loop_->now_) : Usec(0);
}
inline FakeTimer::~FakeTimer() { loop_->timers_.erase(this); }
inline FakeWatch::~FakeWatch() { loop_->readable_.erase(fd_); }

// A real fd that means nothing (/dev/null), for UniqueFds the fakes hand out.
inline UniqueFd DummyFd() { return UniqueFd(::open("/dev/null", O_RDONLY | O_CLOEXEC)); }

class FakeProcessControl final : public ProcessControl {
 public:
  struct Sent {
    pid_t pid;  // negative: a process group
    int sig;
  };
  Result<void> Signal(const ProcessHandle& p, int sig) override {
    signals.push_back({p.pid, sig});
    return Ok();
  }
  Result<void> SignalGroup(pid_t pgid, int sig) override {
    signals.push_back({-pgid, sig});
    return Ok();
  }
  bool GroupExists(pid_t pgid) override { return alive.count(pgid) > 0; }
  pid_t GroupOf(pid_t pid) override { return alive.count(pid) ? pid : -1; }
  Result<UniqueFd> OpenPidfd(pid_t pid) override {
    calls.push_back("OpenPidfd " + std::to_string(pid));
    if (!alive.count(pid)) return Error{"pidfd_open " + std::to_string(pid) + ": No such process"};
    UniqueFd fd = DummyFd();
    pidfd_of[fd.get()] = pid;
    return fd;
  }
  bool StillRuns(int pidfd) override {
    auto it = pidfd_of.find(pidfd);
    return it != pidfd_of.end() && alive.count(it->second) > 0;
  }
  void Watch(pid_t pid, int, std::function<void(const ExitStatus&)> on_exit) override {
    watched[pid] = std::move(on_exit);
  }
  void Forget(pid_t pid) override { watched.erase(pid); }
  void OnOrphansReaped(std::function<void()> fn) override { after_reap = std::move(fn); }
  void ReapNow() override {}
  bool ChildWaitsToBeReaped() override { return zombies > 0; }

  // The process exits: its watcher (if any) hears of it.
  void Exit(pid_t pid, ExitStatus st) {
    alive.erase(pid);
    auto it = watched.find(pid);
    if (it == watched.end()) return;
    auto fn = std::move(it->second);
    watched.erase(it);
    fn(st);
  }

  std::set<pid_t> alive;
  int zombies = 0;  // exited children not reaped yet (ChildWaitsToBeReaped)
  std::map<pid_t, std::function<void(const ExitStatus&)>> watched;
  std::map<int, pid_t> pidfd_of;
  std::vector<Sent> signals;
  std::vector<std::string> calls;  // in order, for tests of what comes first
  std::function<void()> after_reap;
};

class FakeCgroupControl final : public CgroupControl {
 public:
  bool tracking() const override { return tracking_on; }
  const std::string& tracking_error() const override { return error; }
  std::string ServiceDir(const std::string& service) const override { return "/t/" + service; }
  Result<std::string> CreateInstance(const std::string& service,
                                     const std::string& invocation) override {
    const std::string dir = "/t/" + service + "/" + invocation;
    members[dir];
    return dir;
  }
  Result<bool> IsEmpty(const std::string& dir) override {
    auto it = members.find(dir);
    return it == members.end() || it->second.empty();
  }
  Result<void> Signal(const std::string& dir, int sig) override {
    signals.emplace_back(dir, sig);
    return Ok();
  }
  Result<void> Remove(const std::string& dir) override {
    members.erase(dir);
    return Ok();
  }
  std::string CgroupOf(pid_t pid) override {
    calls->push_back("CgroupOf " + std::to_string(pid));
    for (const auto& [dir, pids] : members)
      if (pids.count(pid)) return dir;
    return "";
  }
  bool Within(const std::string& own, const std::string& dir) const override {
    return own == dir || own.starts_with(dir + "/");
  }
  std::string ServiceOf(const std::string& own) const override {
    if (!own.starts_with("/t/")) return "";
    return own.substr(3, own.find('/', 3) - 3);
  }
  const InstanceResources& ApplyLimits(const std::string&, const std::string&,
                                       const std::string& dir, const ResourceLimits&) override {
    return applied[dir];
  }
  const InstanceResources* Limits(const std::string& dir) const override {
    auto it = applied.find(dir);
    return it == applied.end() ? nullptr : &it->second;
  }
  uint64_t OomKills(const std::string&) const override { return 0; }
  InstanceStats Stats(const std::string&) const override { return {}; }
  const ResourceControl& resources() const override { return rc; }
  void StopLeftovers(std::function<void()> done) override { done(); }
  void RemoveAll() override {}

  bool tracking_on = true;
  std::string error;
  std::map<std::string, std::set<pid_t>> members;  // instance dir → pids in it
  std::map<std::string, InstanceResources> applied;
  std::vector<std::pair<std::string, int>> signals;
  ResourceControl rc;
  std::vector<std::string>* calls = &own_calls;  // may share FakeProcessControl::calls
  std::vector<std::string> own_calls;
};

class FakeLauncher final : public Launcher {
 public:
  FakeLauncher(FakeProcessControl* procs, FakeCgroupControl* cgroups)
      : procs_(procs), cgroups_(cgroups) {}
  struct Launched {
    pid_t pid;
    std::string what;
    std::vector<std::string> argv;
    std::vector<std::string> env;
    std::string cgroup;
    std::vector<int> fds;
  };
  Result<std::unique_ptr<Proc>> Launch(const LaunchPlan& plan, const LaunchTarget& target,
                                       std::vector<std::string>*) override {
    if (fail_path == plan.path) return Error{"exec " + plan.path + ": No such file or directory"};
    const pid_t pid = next_pid++;
    launched.push_back({pid, plan.what, plan.spawn.argv, plan.spawn.env, target.cgroup,
                        plan.spawn.pass_fds});
    procs_->alive.insert(pid);
    if (!target.cgroup.empty()) cgroups_->members[target.cgroup].insert(pid);
    auto p = std::make_unique<Proc>();
    p->handle.pid = pid;
    p->path = plan.path;
    p->exec.kind = ExecStatus::Kind::kExecuted;
    return p;
  }
  // The last process launched whose what ("ExecStart=/bin/x") is `what`.
  std::optional<Launched> Last(const std::string& what) const {
    for (auto it = launched.rbegin(); it != launched.rend(); ++it)
      if (it->what == what) return *it;
    return std::nullopt;
  }

  std::vector<Launched> launched;
  std::string fail_path;
  pid_t next_pid = 1000;

 private:
  FakeProcessControl* procs_;
  FakeCgroupControl* cgroups_;
};

// Runs each job at once on the calling thread and posts its continuation (as the real worker
// would, from its thread).
class FakeWorker final : public BlockingWork {
 public:
  explicit FakeWorker(boost::asio::io_context& io) : io_(io) {}
  void Run(std::function<std::function<void()>()> job) override {
    auto then = job();
    if (then) boost::asio::post(io_, std::move(then));
  }

 private:
  boost::asio::io_context& io_;
};

// The fakes wired together as a Manager's host: the launcher records into the process fake,
// the cgroup fake logs into the process fake's calls. `parts` goes to the Manager; the pointers
// stay valid while it lives.
struct FakeHost {
  explicit FakeHost(boost::asio::io_context& io) {
    auto l = std::make_unique<FakeLoop>(io);
    auto p = std::make_unique<FakeProcessControl>();
    auto c = std::make_unique<FakeCgroupControl>();
    c->calls = &p->calls;
    auto la = std::make_unique<FakeLauncher>(p.get(), c.get());
    loop = l.get();
    procs = p.get();
    cgroups = c.get();
    launcher = la.get();
    worker = std::make_shared<FakeWorker>(io);
    parts.loop = std::move(l);
    parts.process = std::move(p);
    parts.cgroups = std::move(c);
    parts.launcher = std::move(la);
    parts.worker = worker;
  }
  FakeLoop* loop = nullptr;
  FakeProcessControl* procs = nullptr;
  FakeCgroupControl* cgroups = nullptr;
  FakeLauncher* launcher = nullptr;
  std::shared_ptr<FakeWorker> worker;
  HostParts parts;
};

}  // namespace supd::testing
