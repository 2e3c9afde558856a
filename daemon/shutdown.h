// Shutdown: the stop of everything supd runs, then the end of its loop, with the exit status
// supd returns. Started by SIGTERM/SIGINT (status 0) or by a unit's FailureAction=/SuccessAction=
// (the status it asks for).
//
// What it promises, in order:
// - Every unit stops as Manager::StopAll stops them (reverse dependency order, each with its own
//   TimeoutStopSec=). `exit-force` sends SIGKILL to every process at once instead of waiting.
// - The whole stop is capped by --stop-timeout (an orchestrator's grace period is 30 s; the
//   default 25 s stays inside it): past it, what is left gets SIGKILL, named in the log.
// - supd exits once every service's processes are gone. A process that survives even SIGKILL
//   for kKillGrace more (stuck in the kernel) no longer holds supd: it exits anyway, saying so.
// - The services' last output is drained for at most kDrainLimit before the loop ends.
// As PID 1 of a container nothing else is needed: supd reaps every orphan as it exits (the
// process watcher), and the kernel kills what is left in the namespace when PID 1 exits.
//
// On the loop thread only.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <string>

#include "lib/control/handler.h"
#include "lib/control/server.h"
#include "lib/supervise/manager.h"

namespace supd {

class Shutdown {
 public:
  static constexpr std::chrono::seconds kKillGrace{5};
  static constexpr std::chrono::seconds kDrainLimit{2};

  // stop_timeout: zero = no cap.
  Shutdown(boost::asio::io_context& io, Manager& manager, control::RequestHandler& handler,
           control::ControlServer& server, std::chrono::microseconds stop_timeout);

  // Begins the stop (once: later calls only log that it goes on). `why` starts the log line
  // ("SIGTERM", "web.service: FailureAction=exit"). `force`: SIGKILL at once (exit-force).
  void Begin(const std::string& why, int exit_status, bool force);
  bool begun() const { return begun_; }
  int exit_status() const { return exit_status_; }

 private:
  void OnStopTimeout();
  void KillWhatIsLeft(const std::string& why);
  void OnAllStopped();
  void Drain();
  void Finish();

  boost::asio::io_context& io_;
  Manager& manager_;
  control::RequestHandler& handler_;
  control::ControlServer& server_;
  const std::chrono::microseconds stop_timeout_;
  boost::asio::steady_timer cap_timer_;   // --stop-timeout, then kKillGrace after the SIGKILL
  boost::asio::steady_timer drain_timer_;
  std::chrono::steady_clock::time_point drain_deadline_;
  bool begun_ = false;
  bool killed_ = false;    // SIGKILL was sent (timeout or exit-force)
  bool finished_ = false;  // the loop was told to end
  int exit_status_ = 0;
};

// "25s", "1min 30s", "infinity" for the log.
std::string FormatSpan(std::chrono::microseconds span);

}  // namespace supd
