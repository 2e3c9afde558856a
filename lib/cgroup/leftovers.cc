#include "lib/cgroup/leftovers.h"

#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <cstring>

#include "lib/base/unique_fd.h"
#include "lib/cgroup/cgroup.h"

namespace supd {
namespace asio = boost::asio;

namespace {

void Collect(const std::string& dir, int depth, std::vector<std::string>* out) {
  if (depth <= 0) return;
  for (const std::string& c : ChildCgroups(dir)) {
    auto empty = CgroupIsEmpty(c);
    if (!empty.ok() || *empty) continue;
    Collect(c, depth - 1, out);
    if (!CgroupPids(c).empty()) out->push_back(c);
  }
}

}  // namespace

std::vector<std::string> FindPopulatedCgroups(const std::string& tree, int depth) {
  std::vector<std::string> out;
  Collect(tree, depth, &out);
  return out;
}

struct LeftoverStopper::State {
  explicit State(asio::io_context& io) : timer(io), events(io) {}
  asio::steady_timer timer;
  asio::posix::stream_descriptor events;  // inotify on every leftover's cgroup.events
  std::vector<std::string> cgroups;
  std::function<void()> done;
  std::chrono::milliseconds stop_timeout{0};
  bool killed = false;  // SIGKILL sent
  bool finished = false;
};

namespace {

// The helpers below run on the loop with the state alive: handlers hold a weak_ptr and return
// when the stopper is gone.
void Finish(const std::shared_ptr<LeftoverStopper::State>& s);

bool AllEmpty(LeftoverStopper::State& s) {
  for (const std::string& cg : s.cgroups) {
    auto empty = CgroupIsEmpty(cg);
    // A cgroup that vanished (rmdir by someone else) has no processes left either.
    if (empty.ok() && !*empty) return false;
  }
  return true;
}

void WatchEvents(const std::shared_ptr<LeftoverStopper::State>& s) {
  std::weak_ptr<LeftoverStopper::State> weak = s;
  s->events.async_wait(asio::posix::stream_descriptor::wait_read,
                       [weak](const boost::system::error_code& ec) {
                         auto s = weak.lock();
                         if (ec || !s || s->finished) return;
                         // Drain the events; which cgroup changed does not matter.
                         char buf[4096];
                         while (::read(s->events.native_handle(), buf, sizeof buf) > 0) {
                         }
                         if (AllEmpty(*s)) {
                           Finish(s);
                         } else {
                           WatchEvents(s);
                         }
                       });
}

void ArmTimer(const std::shared_ptr<LeftoverStopper::State>& s, std::chrono::milliseconds after) {
  std::weak_ptr<LeftoverStopper::State> weak = s;
  s->timer.expires_after(after);
  s->timer.async_wait([weak](const boost::system::error_code& ec) {
    auto s = weak.lock();
    if (ec || !s || s->finished) return;
    if (AllEmpty(*s)) return Finish(s);
    if (!s->killed) {
      s->killed = true;
      for (const std::string& cg : s->cgroups) {
        auto empty = CgroupIsEmpty(cg);
        if (!empty.ok() || *empty) continue;
        spdlog::warn("leftover processes in {} did not exit on SIGTERM within {} ms: SIGKILL", cg,
                     s->stop_timeout.count());
        if (auto r = SignalCgroup(cg, SIGKILL); !r.ok()) spdlog::error("{}", r.error().message);
      }
      ArmTimer(s, LeftoverStopper::kKillTimeout);
      return;
    }
    for (const std::string& cg : s->cgroups) {
      auto empty = CgroupIsEmpty(cg);
      if (empty.ok() && !*empty) {
        spdlog::error("leftover processes in {} survived SIGKILL for {} ms; starting units anyway",
                      cg, LeftoverStopper::kKillTimeout.count());
      }
    }
    Finish(s);
  });
}

void Finish(const std::shared_ptr<LeftoverStopper::State>& s) {
  s->finished = true;
  s->timer.cancel();
  boost::system::error_code ignored;
  s->events.close(ignored);
  size_t removed = 0;
  for (const std::string& cg : s->cgroups) {
    // Best effort: a cgroup still holding a process stays (and is logged above).
    if (RemoveCgroup(cg).ok()) ++removed;
  }
  spdlog::info("leftovers of a previous supd stopped; removed {} of {} cgroups", removed,
               s->cgroups.size());
  auto done = std::move(s->done);
  if (done) done();
}

}  // namespace

LeftoverStopper::LeftoverStopper(asio::io_context& io, const std::string& tree,
                                 std::function<void()> done, std::chrono::milliseconds stop_timeout)
    : state_(std::make_shared<State>(io)) {
  state_->cgroups = FindPopulatedCgroups(tree);
  if (state_->cgroups.empty()) {
    state_->finished = true;
    if (done) done();
    return;
  }
  state_->done = std::move(done);
  state_->stop_timeout = stop_timeout;
  UniqueFd in(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  if (!in) {
    // Without inotify the timers still end the wait: SIGTERM, SIGKILL, give up.
    spdlog::warn("inotify_init1: {}; waiting for leftovers by timeout only", strerror(errno));
  }
  for (const std::string& cg : state_->cgroups) {
    const std::vector<pid_t> pids = CgroupPids(cg);
    std::string list;
    for (size_t i = 0; i < pids.size() && i < 8; ++i)
      list += (i ? " " : "") + std::to_string(pids[i]);
    if (pids.size() > 8) list += " …";
    spdlog::warn(
        "{}: {} process(es) left by a previous supd on this state directory (pids {}); "
        "stopping them: SIGTERM, SIGKILL after {} ms",
        cg, pids.size(), list, stop_timeout.count());
    if (in && ::inotify_add_watch(in.get(), (cg + "/cgroup.events").c_str(), IN_MODIFY) < 0)
      spdlog::warn("inotify_add_watch {}/cgroup.events: {}", cg, strerror(errno));
    if (auto r = SignalCgroup(cg, SIGTERM); !r.ok()) spdlog::error("{}", r.error().message);
    // A stopped (SIGSTOP) leftover would sit on SIGTERM until the SIGKILL: wake it.
    (void)SignalCgroup(cg, SIGCONT);
  }
  if (in) {
    state_->events.assign(in.release());
    WatchEvents(state_);
  }
  ArmTimer(state_, stop_timeout);
  // They may all have exited between the scan and the watches.
  if (AllEmpty(*state_)) Finish(state_);
}

LeftoverStopper::~LeftoverStopper() {
  if (!state_->finished) {
    state_->finished = true;
    state_->timer.cancel();
    boost::system::error_code ignored;
    state_->events.close(ignored);
  }
}

bool LeftoverStopper::pending() const { return !state_->finished; }

}  // namespace supd
