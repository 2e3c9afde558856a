// EventStream: the `events` command — what happens to units, as it happens, to every client
// that subscribed, until it hangs up.
//
// A subscriber first gets {"subscribed":true,"units":[…]} (so that it knows it will see what it
// triggers next), then replies {"events":[EVENT…]} with one object per event, in the order the
// Manager told them:
//   {"time":"2026-12-03T07:01:02.123456Z","unit":"web.service","event":KIND,…}
// ("unit" is absent for a reload) where KIND and its fields are
//   state            from, to, result (ResultName), cause (the sentence of cause_text.h, only
//                    when it explains the change, as supd's own log says it: not for a start)
//   exit             pid, code or signal ("SIGKILL"), core_dumped (when it did), reason
//                    (LastExit::reason), oom:true for an OOM kill
//   oom              pid, reason: right after the exit of an OOM kill
//   restart          reason (RestartReasonName)
//   ready            ready (true/false)
//   start-limit-hit  cause: right after the state change to failed with that result
//   reload           added, changed, removed, failed (unit names)
//   socket           to (SocketStateName), error (when failed)
// A subscriber names units (resolved names) or none for all; reloads go to every subscriber.
//
// Never unbounded, with the rule of `logs -f` (log_stream.h): events go out in batches, one
// reply per loop turn or at kBatchBytes; while kMaxUnsent bytes or more wait for a subscriber's
// socket, its events are counted instead of queued, and the next reply says how many
// ("skipped":N), sent as soon as it catches up even if nothing else happens. At most
// kMaxSubscribers subscribe at a time (the control server's client cap).
//
// Touched only on the io_context thread; it observes the Manager.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "lib/control/protocol.h"
#include "lib/control/server.h"
#include "lib/supervise/manager.h"

namespace boost::asio {
class io_context;
}

namespace supd::control {

// supctl's line for one event object, without newline:
//   "2026-12-03T07:01:02.123456Z web.service state running -> backoff (main process exited …)"
//   "2026-12-03T07:01:02.123456Z web.service exit pid 1234 status 1"
//   "2026-12-03T07:01:02.223456Z web.service restart (exit)"
// A field that is missing or of another type shows as empty (the event may come from another
// supd version); a kind it does not know is shown with its fields as JSON.
std::string FormatEventLine(const nlohmann::json& event);

class EventStream : public ManagerObserver {
 public:
  static constexpr size_t kBatchBytes = 64 * 1024;
  static constexpr size_t kMaxUnsent = 1 << 20;  // as LogStream::kFollowMaxUnsent
  static constexpr size_t kMaxSubscribers = ControlServer::kMaxClients;

  // `now`: CLOCK_REALTIME in µs, for the events' "time" (tests pass a fixed clock).
  EventStream(boost::asio::io_context& io, Manager& manager,
              std::function<int64_t()> now = nullptr);
  ~EventStream() override;
  EventStream(const EventStream&) = delete;
  EventStream& operator=(const EventStream&) = delete;

  // Subscribes the connection of `peer` to the events of `units` (resolved names; empty: all)
  // and acknowledges at once. Refused (busy) when kMaxSubscribers already are.
  void Handle(const std::vector<std::string>& units, const Peer& peer, ReplyFn reply);
  size_t subscribers() const { return subscribers_.size(); }

  void OnStateChange(const std::string& unit, State from, State to, const Cause& cause,
                     ServiceResult result) override;
  void OnExit(const std::string& unit, const LastExit& exit) override;
  void OnRestart(const std::string& unit, RestartReason reason) override;
  void OnReadyChange(const std::string& unit, bool ready) override;
  void OnReload(const ReloadSummary& summary) override;
  void OnSocketChange(const std::string& unit, SocketState to, const std::string& error) override;

 private:
  struct Subscriber;
  // A new event object with its time, unit (unless null) and kind.
  nlohmann::json Event(const std::string* unit, const char* kind) const;
  // Queues `event` for every subscriber of `unit` (null: every subscriber).
  void Emit(const std::string* unit, const nlohmann::json& event);
  void Queue(uint64_t id, Subscriber& s, const nlohmann::json& event, size_t bytes);
  void Flush(uint64_t id, Subscriber& s);

  boost::asio::io_context& io_;
  Manager& manager_;
  std::function<int64_t()> now_;
  std::map<uint64_t, std::unique_ptr<Subscriber>> subscribers_;
  uint64_t next_id_ = 1;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace supd::control
