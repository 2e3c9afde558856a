// EventLog: supd's own log lines about what its units do, worded here from the Manager's events
// (the Manager knows no sentences for causes):
//   "web.service: running -> backoff (main process exited with status 1)"
//   "web.socket: listening -> failed (web.socket: bind 127.0.0.1:80: Permission denied)"
#pragma once

#include "lib/supervise/manager.h"

namespace supd::control {

class EventLog : public ManagerObserver {
 public:
  explicit EventLog(Manager& manager);
  ~EventLog() override;
  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;

  void OnStateChange(const std::string& unit, State from, State to, const Cause& cause,
                     ServiceResult result) override;
  void OnSocketChange(const std::string& unit, SocketState to, const std::string& error) override;

 private:
  Manager& manager_;
};

}  // namespace supd::control
