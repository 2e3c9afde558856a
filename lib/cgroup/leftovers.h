// Leftovers of a previous supd: service cgroups that still hold processes when supd starts.
//
// Each supd keeps its services under one cgroup subtree per state directory
// (<own cgroup>/supd-<hash>, see CgroupTree), and a second supd on the same state directory
// refuses to start. So when supd starts and finds a populated cgroup in its subtree, the supd
// that started it is gone without stopping its services (SIGKILL, crash, OOM kill): they run on,
// reparented to init, and no one supervises them. LeftoverStopper finds them and stops them the
// way a stop does (SIGTERM to every process, SIGKILL to what is left after a timeout) without
// blocking the loop, before supd starts its own units (their ports and files are free then).
//
// Not responsible for: knowing which unit a leftover belonged to beyond its cgroup's name (the
// previous supd's units may have changed since), nor for processes outside cgroups (a supd
// without cgroup tracking cannot find its predecessor's services; they are ordinary orphans).
//
// Not thread-safe: create, use and destroy it on the io_context's thread.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace supd {

// The cgroups at or below `tree` (the tree itself excluded; at most `depth` levels down) whose
// cgroup.events says "populated 1" and that hold processes themselves, deepest first.
std::vector<std::string> FindPopulatedCgroups(const std::string& tree, int depth = 2);

class LeftoverStopper {
 public:
  // How long leftovers get between SIGTERM and SIGKILL. Their units' TimeoutStopSec= is not
  // known at this point (the units are loaded afterwards, and may have changed).
  static constexpr std::chrono::milliseconds kDefaultStopTimeout{5000};
  // How long to wait after SIGKILL before giving up (a process in uninterruptible sleep).
  static constexpr std::chrono::milliseconds kKillTimeout{5000};

  // Looks for leftovers under `tree` (a CgroupTree's path). If there are none, calls `done` at
  // once (before returning). Otherwise logs each one, sends SIGTERM, and calls `done` on the
  // loop once every leftover cgroup is empty (then removes the empty instance cgroups), or once
  // the SIGKILL wait is over (an error is logged for what remains).
  LeftoverStopper(boost::asio::io_context& io, const std::string& tree, std::function<void()> done,
                  std::chrono::milliseconds stop_timeout = kDefaultStopTimeout);
  ~LeftoverStopper();
  LeftoverStopper(const LeftoverStopper&) = delete;
  LeftoverStopper& operator=(const LeftoverStopper&) = delete;

  // True until `done` was called.
  bool pending() const;

  struct State;  // internal (leftovers.cc)

 private:
  std::shared_ptr<State> state_;
};

}  // namespace supd
