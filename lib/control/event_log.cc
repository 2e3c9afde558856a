#include "lib/control/event_log.h"

#include <spdlog/spdlog.h>

#include "lib/control/cause_text.h"

namespace supd::control {

EventLog::EventLog(Manager& manager) : manager_(manager) { manager_.Subscribe(this); }
EventLog::~EventLog() { manager_.Unsubscribe(this); }

void EventLog::OnStateChange(const std::string& unit, State from, State to, const Cause& cause,
                             ServiceResult) {
  // The cause explains a stop, a failure or a restart; not a start.
  const bool say = !cause.empty() && to != State::kRunning && to != State::kStarting;
  spdlog::info("{}: {} -> {}{}", unit, StateName(from), StateName(to),
               say ? " (" + FormatCause(cause) + ")" : "");
}

void EventLog::OnSocketChange(const std::string& unit, SocketState to, const std::string& error) {
  if (to == SocketState::kFailed) {
    spdlog::error("{}: failed: {}", unit, error);
  } else {
    spdlog::info("{}: {}", unit, SocketStateName(to));
  }
}

}  // namespace supd::control
