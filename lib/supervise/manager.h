// Manager: owns every service and performs what their state machines decide.
//
// It loads units from the units directory, turns control requests into FSM commands, carries
// out the FSM's actions (spawn through lib/proc, signals, one timer per service), feeds the
// outcomes back as events, and answers clients when their operation is done. Everything runs on
// one io_context thread; nothing here blocks.
//
// Not responsible for: the control socket itself (lib/control), unit syntax (lib/unit), the
// decisions (ServiceFsm).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lib/control/protocol.h"
#include "lib/control/server.h"
#include "lib/unit/unit_loader.h"

namespace boost::asio {
class io_context;
}

namespace supd {

struct ManagerConfig {
  std::string units_dir;
  std::string log_dir;
  std::string state_dir;
  std::string notify_socket;  // where services send sd_notify datagrams ("" = none)
  SpecifierContext specifiers;
};

class Manager {
 public:
  Manager(boost::asio::io_context& io, ManagerConfig config);
  ~Manager();
  Manager(const Manager&) = delete;
  Manager& operator=(const Manager&) = delete;

  // Reads the units directory and starts the units that are enabled ([Install] WantedBy=).
  // A unit that fails to load is reported (log, status, check) and the others go on.
  // When a previous supd on this state directory left services running (it was SIGKILLed),
  // they are stopped first and the units load after that; `loaded` runs on the io_context once
  // the units are loaded (not if supd is shut down before).
  void LoadUnits(std::function<void()> loaded);
  // SIGHUP / daemon-reload: new units are loaded (and started if enabled), removed ones are
  // stopped and forgotten, changed ones take effect at their next start.
  void ReloadUnits();
  // Stops every service in parallel, each with its own timeouts; `done` runs once all are
  // stopped. Start requests are refused from then on.
  void StopAll(std::function<void()> done);

  // Runs one control request; `reply` is called exactly once, possibly later (a start answers
  // once the service is running or has failed).
  void HandleRequest(const control::Request& req, const control::Peer& peer,
                     control::ReplyFn reply);

  // For the daemon's own log and tests.
  size_t service_count() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace supd
