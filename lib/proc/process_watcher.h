// ProcessWatcher: tells the owner of each child when it exits, and reaps every other process
// that lands on supd (supd is a child subreaper, so orphaned grandchildren become its children).
//
// Exits of watched children are seen through their pidfd on the io_context (no polling); a
// SIGCHLD handler reaps the unwatched ones. Either path may be the first to see a watched
// child's exit: the callback runs exactly once, from the io_context thread.
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>

#include "lib/base/result.h"
#include "lib/base/unique_fd.h"
#include "lib/proc/exit_status.h"

namespace boost::asio {
class io_context;
}

namespace supd {

// Whether the process behind `pidfd` is still running (not exited, zombies count as exited):
// a pidfd becomes readable when its process exits. False on error too.
bool PidfdStillRuns(int pidfd);

// A pidfd for `pid` (pidfd_open). Errors: "pidfd_open <pid>: No such process".
[[nodiscard]] Result<UniqueFd> OpenPidfd(pid_t pid);

// Sends sig through `pidfd` (or to `pid` when pidfd is -1). A process that is gone (ESRCH) is
// success: it is stopped.
[[nodiscard]] Result<void> SignalPidfd(pid_t pid, int pidfd, int sig);

class ProcessWatcher {
 public:
  using ExitCallback = std::function<void(const ExitStatus&)>;

  // Installs the SIGCHLD handler on `io`.
  explicit ProcessWatcher(boost::asio::io_context& io);
  ~ProcessWatcher();
  ProcessWatcher(const ProcessWatcher&) = delete;
  ProcessWatcher& operator=(const ProcessWatcher&) = delete;

  // Calls on_exit once `pid` (a child of supd) has exited, after reaping it. `pidfd` is
  // borrowed: it must stay open until the callback ran or Forget(pid) was called. pidfd may be
  // -1 (no pidfd support): then SIGCHLD alone tells.
  void Watch(pid_t pid, int pidfd, ExitCallback on_exit);
  // Stops watching pid; it will be reaped silently when it exits.
  void Forget(pid_t pid);

  // Reaps every child that has exited now, as a SIGCHLD would (supd's exit: no zombie is left
  // to the next parent).
  void ReapNow();
  // Whether a child has exited and is not reaped yet (a zombie of supd's). Reaps nothing.
  bool ChildWaitsToBeReaped() const;

  // Called after every SIGCHLD round, e.g. so that the Manager can check process groups.
  void SetAfterReapHook(std::function<void()> hook);

  // Number of orphans reaped so far (processes supd reaped that it did not spawn itself).
  uint64_t orphans_reaped() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace supd
