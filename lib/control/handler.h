// RequestHandler: what each command of the control protocol does — the typed arguments read,
// the Manager called, the answer worded.
//
// Requests that arrive before the Manager has loaded its units (while a killed predecessor's
// services are being stopped) wait until SetReady(): a `start` in that window could otherwise
// run a service twice. At most kMaxWaiting wait; more get `busy`.
//
// Touched only on the io_context thread; the ControlServer calls Handle() for each request it
// has checked (size, JSON, permission).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "lib/control/event_stream.h"
#include "lib/control/log_stream.h"
#include "lib/control/protocol.h"
#include "lib/control/server.h"
#include "lib/supervise/host.h"
#include "lib/supervise/manager.h"

namespace boost::asio {
class io_context;
}

namespace supd::control {

class RequestHandler {
 public:
  static constexpr size_t kMaxWaiting = 1024;
  // daemon-reexec's wait for a moment of rest when the request names none.
  static constexpr std::chrono::milliseconds kDefaultReexecTimeout{30000};

  // What `daemon-reexec` asks of the daemon (daemon/reexec.h): wait up to `timeout` for a
  // moment of rest, then call `decided` with this supd's reexec count (the exec follows) or
  // with why not.
  using ReexecDecided = std::function<void(Result<uint64_t>)>;
  using ReexecFn = std::function<void(std::chrono::milliseconds timeout, ReexecDecided decided)>;

  RequestHandler(boost::asio::io_context& io, Manager& manager,
                 std::shared_ptr<BlockingWork> worker);

  void Handle(const Request& req, const Peer& peer, ReplyFn reply);
  // The units are loaded: the requests that waited run now, in order.
  void SetReady();
  // supd stops before it was ready: the waiting requests are refused.
  void ShuttingDown();
  // `daemon-reexec` is refused ("not available") until this is set.
  void SetReexec(ReexecFn reexec) { reexec_ = std::move(reexec); }
  // For `version` and `ping`: how many daemon-reexecs this supd's line has been through, and
  // when the first supd of the line started (CLOCK_REALTIME µs; 0: this supd's own start).
  void SetDaemonLine(uint64_t reexecs, int64_t started_realtime) {
    reexecs_ = reexecs;
    started_realtime_ = started_realtime;
  }

 private:
  void Run(const Request& req, const Peer& peer, ReplyFn reply);
  void Status(const Request& req, const Peer& peer, const ReplyFn& reply);
  void Cat(const Request& req, const Peer& peer, ReplyFn reply);
  void Logs(const Request& req, const Peer& peer, ReplyFn reply);
  void Events(const Request& req, const Peer& peer, ReplyFn reply);
  void Metrics(const Request& req, const ReplyFn& reply);
  void Operation(const Request& req, ReplyFn reply);
  void Install(const Request& req, ReplyFn reply);  // enable, disable
  void IsEnabled(const Request& req, const ReplyFn& reply);
  void ListDependencies(const Request& req, const ReplyFn& reply);
  void DaemonReexec(const Request& req, const Peer& peer, ReplyFn reply);

  Manager& manager_;
  std::shared_ptr<BlockingWork> worker_;
  LogStream logs_;
  EventStream events_;
  bool ready_ = false;
  bool shutting_down_ = false;
  ReexecFn reexec_;
  uint64_t reexecs_ = 0;
  int64_t started_realtime_ = 0;
  std::vector<std::tuple<Request, Peer, ReplyFn>> waiting_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace supd::control
