// MetricsHttpServer: the HTTP/1.1 listener of `supd --metrics-listen ADDR:PORT`, serving
// /metrics (Boost.Beast) on the daemon's io_context, with no thread of its own.
//
// What it answers:
//   GET /metrics, HEAD /metrics   200, Content-Type and body from the RenderFn (HEAD: the same
//                                 headers and Content-Length, no body); a query string is
//                                 ignored ("/metrics?x=1" is /metrics)
//   GET/HEAD /healthz, /readyz    once SetHealth() was called, for an orchestrator's probes:
//                                 /healthz 200 "ok" while the loop answers; /readyz 200 with
//                                 the state's word when ready, else 503 with the word
//   any other path                404, a short text body that names /metrics
//   /metrics, another method      405 with "Allow: GET, HEAD"
//   a malformed request           400, then close
//   a header over header_limit    431, then close
//   a body over body_limit        413, then close (requests carry no body; a small one is read
//                                 and ignored so that keep-alive framing stays right)
// Keep-alive is honoured (Prometheus keeps its connections), including pipelined requests.
// A connection that does not complete a request (or take a response) within idle_timeout is
// closed; so is one past max_connections, at once (counted in refused_connections(), logged at
// debug). The Content-Encoding is always identity: gzip is not offered (a scrape of 100 units
// is tens of KiB on loopback; compressing it would cost the loop more than it saves).
//
// What it leaves to the caller: the exposition itself (RenderFn, called on the loop for each
// GET or HEAD; lib/metrics/exposition.h), and what address to listen on (no name resolution:
// the host is an IP literal, so nothing blocks the loop).
//
// Threading: everything runs on the io_context's thread. Listen and the destructor must be
// called there (or before the io_context runs, or after it stopped).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "lib/base/result.h"

namespace boost::asio {
class io_context;
}

namespace supd::metrics {

// One answer to GET /metrics: the Content-Type header and the body.
struct Rendered {
  std::string content_type;
  std::string body;
};
// Called on the loop with the request's Accept header ("" when it has none). Must not block;
// an exception it throws becomes a 500 and an error log line, never a crash.
using RenderFn = std::function<Rendered(std::string_view accept)>;
// For /readyz: supd's state in a word ("running", "starting", ...) and whether it is ready.
struct Health {
  std::string state;
  bool ready = false;
};
using HealthFn = std::function<Health()>;

class MetricsHttpServer {
 public:
  // Limits; the defaults are what supd uses. Tests shorten idle_timeout.
  struct Options {
    std::chrono::milliseconds idle_timeout{std::chrono::seconds(30)};
    size_t max_connections = 64;
    size_t header_limit = 8 * 1024;  // request line and headers, in bytes
    size_t body_limit = 1024;        // requests to /metrics have no body
  };

  // Binds `address` (SO_REUSEADDR), listens and starts accepting.
  // address: "IPV4:PORT" or "[IPV6]:PORT", e.g. "127.0.0.1:9464", "[::1]:9464", "0.0.0.0:9464".
  // Port 0 asks the kernel for a free port; local_port() says which one it gave.
  // Errors (verbatim; A is `address` as given):
  //   "--metrics-listen A: expected ADDRESS:PORT with an IP address (like 127.0.0.1:9464 or
  //    [::1]:9464)"   (one line; also for a host name: there is no name resolution)
  //   "--metrics-listen A: the port must be a number from 0 to 65535 (0: any free port)"
  //   "--metrics-listen A: STEP: <strerror>", STEP one of socket, setsockopt SO_REUSEADDR,
  //   bind, listen; e.g. "--metrics-listen 127.0.0.1:80: bind: Permission denied"
  [[nodiscard]] static Result<std::unique_ptr<MetricsHttpServer>> Listen(
      boost::asio::io_context& io, const std::string& address, RenderFn render);
  [[nodiscard]] static Result<std::unique_ptr<MetricsHttpServer>> Listen(
      boost::asio::io_context& io, const std::string& address, RenderFn render,
      const Options& options);

  // The same on a socket that already listens (a supd that execs itself hands its metrics
  // listener to the next: `address` is only named in the log). Takes ownership of `fd` on
  // success (on failure it stays open, for a fallback) and leaves its close-on-exec flag. Errors: "--metrics-listen A: adopt fd 7: not a
  // listening TCP socket".
  [[nodiscard]] static Result<std::unique_ptr<MetricsHttpServer>> Adopt(
      boost::asio::io_context& io, int fd, const std::string& address, RenderFn render);
  [[nodiscard]] static Result<std::unique_ptr<MetricsHttpServer>> Adopt(
      boost::asio::io_context& io, int fd, const std::string& address, RenderFn render,
      const Options& options);

  // Stops accepting and closes every connection. Handlers still queued on the io_context hold
  // the shared state, not the server: they find it stopped and end without calling render.
  ~MetricsHttpServer();
  MetricsHttpServer(const MetricsHttpServer&) = delete;
  MetricsHttpServer& operator=(const MetricsHttpServer&) = delete;

  // Serves /healthz and /readyz from now on (called on the loop for each request).
  void SetHealth(HealthFn health);

  // The port actually bound (the kernel's choice when the address asked for port 0).
  uint16_t local_port() const;
  // The listening socket (kept across a daemon-reexec).
  int native_handle() const;
  // Connections open now (being served, idle in keep-alive, or being closed).
  size_t open_connections() const;
  // Connections closed at once because max_connections were open.
  uint64_t refused_connections() const;

  struct State;  // shared with the connections' handlers; defined in http_server.cc

 private:
  explicit MetricsHttpServer(std::shared_ptr<State> state);
  std::shared_ptr<State> state_;
};

}  // namespace supd::metrics
