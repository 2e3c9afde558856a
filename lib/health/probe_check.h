// One check of a probe: ask the service once (an HTTP GET, a TCP connect, a command) and say
// whether it answered well, how, and how fast.
//
// HTTP and TCP checks run on the io_context, asynchronously (no thread per check), and enforce
// the probe's TimeoutSec= themselves: on timeout the socket is closed and the result says so.
// Exec checks need a service's identity, environment and cgroup, which only lib/supervise/
// knows: it starts them through an ExecCheckStarter with the same contract.
//
// Not responsible for: when to check (Prober), what a result means (ProbeTracker, then the
// service's state machine).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "lib/unit/service_spec.h"

namespace boost::asio {
class io_context;
}

namespace supd {

struct CheckResult {
  bool ok = false;
  // What happened, in a few words a user reads in status: "HTTP 200", "HTTP 503 Service
  // Unavailable", "connect to 127.0.0.1:8080: Connection refused", "timed out after 1s",
  // "exited with status 1", "killed by signal SIGKILL".
  std::string message;
  // What the service said besides: an exec check's last 4 KiB of stdout+stderr; an HTTP
  // check's first 512 bytes of the response body when it failed. "" otherwise.
  std::string output;
  Usec latency{0};  // from the start of the check to its result
};

using CheckDone = std::function<void(CheckResult)>;

// A check under way. Destroying it cancels it: `done` is never called afterwards, its socket is
// closed, an exec check's processes are killed (and reaped by their owner).
class Check {
 public:
  virtual ~Check() = default;
};

// Starts one check of `spec` (kHttp / kTcp). `done` is called once, on the io_context, never
// from inside this call; it may destroy the Check.
//
// HTTP: GET spec.path with "Host: <host_header>", "User-Agent: supd-probe/<version>",
// "Accept: */*", "Connection: close"; success is a status from 200 to 399 (redirects are not
// followed, as Kubernetes does for other hosts). At most 16 KiB of headers are read.
// Messages: "HTTP 200" (a success says its code only), "HTTP 503 Service Unavailable" (a
// failure adds the reason as sent), "read from 127.0.0.1:8080: end of stream" (closed before a
// status line), "bad HTTP response from 127.0.0.1:8080: not a status line: \"SSH-2.0-…\"".
// A failure waits for the body's first 512 bytes no longer than the deadline: past it, the
// failure is reported with what came, not as a timeout.
// TCP: success ("connected") is an accepted connect, which is closed at once.
// Both: "connect to [::1]:9: Connection refused", "timed out after 250ms"; spec.host must be an
// IP literal ("bad address \"x\": not an IP address"). The socket is closed with a reset
// (SO_LINGER 0), so that frequent checks leave no TIME_WAIT behind.
std::unique_ptr<Check> StartHttpCheck(boost::asio::io_context& io, const ProbeSpec& spec,
                                      CheckDone done);
std::unique_ptr<Check> StartTcpCheck(boost::asio::io_context& io, const ProbeSpec& spec,
                                     CheckDone done);

// How an exec check is started (lib/supervise/ provides it per instance); same contract as
// above, including the timeout.
using ExecCheckStarter = std::function<std::unique_ptr<Check>(const ProbeSpec&, CheckDone)>;

}  // namespace supd
