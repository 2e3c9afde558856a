// daemon-reexec: supd execs itself (the binary now at its path) and hands the next supd its
// whole state, so that an upgrade restarts no service.
//
// The old supd's side (Reexec::Request, for the control command):
//   1. `P --version` must exit 0 saying "supd …" (P: the path supd was started from; on the
//      worker, at most kCheckLimit).
//   2. Wait for a moment of rest (Manager::NotAtRest() says what is busy), every kRestTick,
//      up to the request's timeout.
//   3. At rest, a dry run: the state saved now, in a memfd, given to `P --check-state=3`, which
//      must decode it (on the worker, at most kCheckLimit). Then back to 2: the check took time.
//   4. At rest again: stop accepting control connections (they wait in the backlog) and let
//      those already accepted finish (kDrainLimit at most); then Manager::PauseForExec: the
//      services' output is no longer read and what was read reaches the log files (the loop
//      turns meanwhile; if that moved a unit, back to 2). At rest still, without a turn of the
//      loop in between: SaveState, encode into a sealed memfd, answer the client with the
//      reexec count, flush supd's log, set close-on-exec on every fd but the state's, the
//      memfd and an O_PATH fd of the running binary, and
//      execve(P, original args + --deserialize=MEMFD --reexec-fallback=EXEFD).
//   5. If execve fails: the same with the running binary's fd (execveat AT_EMPTY_PATH: the old
//      binary, which reads the state it wrote); if that fails too, close-on-exec back on
//      everything, Manager::ResumeAfterFailedExec, accept again, and log why (critical).
// One reexec at a time; none while supd stops.
//
// The new supd's side (supd_main): ReadSavedState, and on any failure before it answers,
// FailBeforeAnswering: exec the old binary back (the --reexec-fallback fd) with the same state,
// or, without one, exit 1 and stop nothing.
//
// The reexec count: the state carries the count of the supd that wrote it (K). A supd started
// with --reexec-fallback (a new binary) is reexec K+1; one without it (the old binary exec'd
// back) stays K, so that `supctl daemon-reexec` can tell the two apart.
//
// On the loop thread only, except RunCheckState and the free functions of the new supd's side,
// which run before the loop.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lib/base/result.h"
#include "lib/base/unique_fd.h"
#include "lib/control/handler.h"
#include "lib/control/server.h"
#include "lib/metrics/http_server.h"
#include "lib/supervise/host.h"
#include "lib/supervise/manager.h"
#include "lib/supervise/saved_state.h"

namespace supd {

// The options of the supd being exec'd (supd_main's --deserialize, --reexec-fallback).
inline constexpr const char* kDeserializeOption = "--deserialize";
inline constexpr const char* kFallbackOption = "--reexec-fallback";
inline constexpr const char* kCheckStateOption = "--check-state";

class Reexec {
 public:
  static constexpr std::chrono::seconds kCheckLimit{10};
  static constexpr std::chrono::milliseconds kRestTick{10};
  // Before the exec, new control connections wait in the backlog while those already accepted
  // get their answers, for at most this long (a `logs -f` or `events` stream never ends).
  static constexpr std::chrono::milliseconds kDrainLimit{200};

  struct Parts {
    Manager* manager = nullptr;
    control::ControlServer* control = nullptr;
    metrics::MetricsHttpServer* metrics = nullptr;  // null: no metrics listener
    std::shared_ptr<BlockingWork> worker;
    std::function<bool()> stopping;  // supd is stopping (Shutdown::begun)
  };

  // `argv`: supd's own command line, as main got it. `exe`: the path supd was started from
  // (OwnExecutable()). `reexecs`, `started_realtime`: this supd's line (see above).
  Reexec(boost::asio::io_context& io, Parts parts, std::vector<std::string> argv, std::string exe,
         uint64_t reexecs, int64_t started_realtime);
  ~Reexec();
  Reexec(const Reexec&) = delete;
  Reexec& operator=(const Reexec&) = delete;

  // The control command: `decided` gets this supd's reexec count right before the exec (which
  // follows at once, before the loop turns again), or why not: "daemon-reexec: new binary
  // /usr/sbin/supd: --version exited with status 1: …", "daemon-reexec: supd was not at rest
  // within 30s: web.service is starting", "daemon-reexec: one is already in progress",
  // "daemon-reexec: supd is shutting down". When even the fallback exec fails after the
  // answer, supd goes on (the next ping's count tells).
  void Request(std::chrono::milliseconds timeout, control::RequestHandler::ReexecDecided decided);

 private:
  void OnVersion(Result<std::string> version);
  void WaitForRest();
  void CheckState();
  void OnStateChecked(const Result<std::string>& line);
  void Drain();
  void Exec();
  void ExecFlushed();
  void FillDaemon(SavedState* state) const;
  void Resume(const std::string& why);
  void Fail(const std::string& why);

  Parts parts_;
  const std::vector<std::string> argv_;
  const std::string exe_;
  const uint64_t reexecs_;
  const int64_t started_realtime_;
  boost::asio::steady_timer rest_timer_;
  // While a request runs:
  bool pending_ = false;
  bool state_checked_ = false;
  std::chrono::milliseconds timeout_{0};
  std::chrono::steady_clock::time_point deadline_;
  std::chrono::steady_clock::time_point drain_deadline_;
  bool draining_ = false;
  control::RequestHandler::ReexecDecided decided_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// The path supd runs from: /proc/self/exe, without the " (deleted)" the kernel adds once the
// file was replaced (an upgrade renames the new binary over it). "" when unreadable.
std::string OwnExecutable();

// The command line for the exec: `argv` without any --deserialize/--reexec-fallback/
// --check-state of its own (a supd exec'd before carries them), then
// --deserialize=MEMFD --reexec-fallback=EXEFD (the latter left out when exe_fd < 0).
std::vector<std::string> ExecArgv(const std::vector<std::string>& argv, int state_fd, int exe_fd);
// The fallback's: `argv` without --reexec-fallback (the old binary keeps --deserialize).
std::vector<std::string> FallbackArgv(const std::vector<std::string>& argv);

// A sealed memfd holding `bytes` (close-on-exec until the exec clears it).
[[nodiscard]] Result<UniqueFd> StateMemfd(const std::string& bytes);
// Reads and decodes the state in `fd` from its start (a memfd from the previous supd; its
// offset is not moved, so the fallback can read it again). Errors: "read state fd 5: …",
// "saved state: format 2 is newer than this supd reads (1)".
[[nodiscard]] Result<SavedState> ReadSavedState(int fd);
// `supd --check-state=FD`: the line to print ("state format 1 from supd 0.9.0: 12 services,
// 2 socket units"), or the error.
[[nodiscard]] Result<std::string> CheckStateLine(int fd);

// Sets close-on-exec on each fd (the new supd, once it owns them); errors are logged.
void SetCloseOnExec(const std::vector<int>& fds);

// The new supd could not take over (`why`). With a fallback fd: exec the old binary back with
// the same state (the state's fds, named in `keep`, made inheritable again first); without
// one, or if that fails: log why and exit 1, stopping nothing. Never returns.
[[noreturn]] void FailBeforeAnswering(const std::string& why, int fallback_fd,
                                      const std::vector<std::string>& argv,
                                      const std::vector<int>& keep);

// Signals that must not end supd between the old image and the new one's handlers: blocked
// before the exec (the mask survives it), unblocked by the new supd once its handlers are in
// place, so that a SIGTERM sent meanwhile is handled, not lost nor fatal.
void BlockDaemonSignals();
void UnblockDaemonSignals();

}  // namespace supd
