#include "lib/metrics/http_server.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <exception>
#include <optional>
#include <string_view>
#include <unordered_set>
#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <spdlog/spdlog.h>

#include "lib/base/socket_kind.h"
#include "lib/base/unique_fd.h"

namespace supd::metrics {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using asio::ip::tcp;
using boost::system::error_code;

namespace {

class Connection;

// How long a connection that is being closed may take to send what it still sends (the rest of
// an oversized request), so that our close does not turn into a reset that destroys the error
// response before the client reads it. Bounded by idle_timeout too.
constexpr std::chrono::milliseconds kLingerTime{2000};
// Past this many bytes drained, close anyway: a client that keeps sending is not reading.
constexpr size_t kLingerBytes = 64 * 1024;

const error_code& HttpErrorExample() {
  static const error_code ec = http::make_error_code(http::error::bad_method);
  return ec;
}

bool IsHttpParseError(const error_code& ec) {
  return ec.category() == HttpErrorExample().category() && ec != http::error::end_of_stream &&
         ec != http::error::partial_message;
}

}  // namespace

struct MetricsHttpServer::State {
  State(asio::io_context& io, tcp::acceptor acc, RenderFn render, Options options,
        std::string where)
      : acceptor(std::move(acc)),
        retry(io),
        render(std::move(render)),
        options(options),
        where(std::move(where)) {}

  // Touched only on the io_context thread.
  tcp::acceptor acceptor;
  asio::steady_timer retry;  // re-arms accept after EMFILE and the like
  RenderFn render;           // reset when the server is destroyed
  HealthFn health;           // unset: /healthz and /readyz are 404
  const Options options;
  const std::string where;  // "--metrics-listen ADDRESS", the prefix of log lines
  bool stopped = false;     // the server was destroyed: handlers end at once
  bool accept_error_logged = false;
  uint64_t refused = 0;
  // Every live connection; each removes itself in its destructor.
  std::unordered_set<Connection*> connections;
};

namespace {

using State = MetricsHttpServer::State;

// One accepted connection. Owned by the handler of its pending operation (shared_from_this);
// the server reaches it through State::connections only to close it.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(std::shared_ptr<State> state, tcp::socket socket)
      : state_(std::move(state)),
        stream_(std::move(socket)),
        buffer_(state_->options.header_limit + state_->options.body_limit + 1024) {
    state_->connections.insert(this);
  }
  ~Connection() { state_->connections.erase(this); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void Start() { Read(); }

  // Closes the socket; pending operations complete with operation_aborted.
  void Close() {
    error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

 private:
  void Read() {
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(state_->options.header_limit));
    parser_->body_limit(state_->options.body_limit);
    // One deadline for the whole request: a client that trickles bytes is timed out too.
    stream_.expires_after(state_->options.idle_timeout);
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](const error_code& ec, size_t) { self->OnRead(ec); });
  }

  void OnRead(const error_code& ec) {
    if (state_->stopped) return;
    if (ec) {
      const bool header_done = parser_->is_header_done();
      if (ec == http::error::header_limit || (ec == http::error::buffer_overflow && !header_done)) {
        Fail(http::status::request_header_fields_too_large,
             fmt::format("Request header fields too large (limit {} bytes)\n",
                         state_->options.header_limit));
      } else if (ec == http::error::body_limit || ec == http::error::buffer_overflow) {
        Fail(http::status::payload_too_large, "Request body too large: /metrics takes none\n");
      } else if (IsHttpParseError(ec)) {
        Fail(http::status::bad_request, "Bad request: " + ec.message() + "\n");
      } else {
        // The peer closed, reset, or went idle past the timeout: nothing to answer.
        if (ec == beast::error::timeout)
          spdlog::debug("{}: closing a connection idle for {} ms", state_->where,
                        state_->options.idle_timeout.count());
        Close();
      }
      return;
    }
    Handle(parser_->get());
  }

  void Handle(const http::request<http::string_body>& req) {
    const std::string_view target(req.target().data(), req.target().size());
    const std::string_view path = target.substr(0, target.find('?'));
    const bool keep_alive = req.keep_alive();
    if ((path == "/healthz" || path == "/readyz") && state_->health) {
      HandleHealth(req, path, keep_alive);
      return;
    }
    if (path != "/metrics") {
      Respond(req.version(), http::status::not_found, "text/plain; charset=utf-8",
              "Not found: supd serves its metrics at /metrics\n", keep_alive, false);
      return;
    }
    const bool head = req.method() == http::verb::head;
    if (!head && req.method() != http::verb::get) {
      Respond(req.version(), http::status::method_not_allowed, "text/plain; charset=utf-8",
              "Method not allowed: /metrics answers GET and HEAD\n", keep_alive, false);
      return;
    }
    const auto accept = req[http::field::accept];
    Rendered rendered;
    try {
      rendered = state_->render(std::string_view(accept.data(), accept.size()));
    } catch (const std::exception& e) {
      // A bug in the exposition: this scrape fails, supd goes on.
      spdlog::error("{}: rendering the metrics failed: {}", state_->where, e.what());
      Fail(http::status::internal_server_error, "Internal error while rendering the metrics\n");
      return;
    }
    Respond(req.version(), http::status::ok, rendered.content_type, std::move(rendered.body),
            keep_alive, head);
  }

  void HandleHealth(const http::request<http::string_body>& req, std::string_view path,
                    bool keep_alive) {
    const bool head = req.method() == http::verb::head;
    if (!head && req.method() != http::verb::get) {
      Respond(req.version(), http::status::method_not_allowed, "text/plain; charset=utf-8",
              fmt::format("Method not allowed: {} answers GET and HEAD\n", path), keep_alive,
              false);
      return;
    }
    if (path == "/healthz") {
      Respond(req.version(), http::status::ok, "text/plain; charset=utf-8", "ok\n", keep_alive,
              head);
      return;
    }
    const Health h = state_->health();
    Respond(req.version(), h.ready ? http::status::ok : http::status::service_unavailable,
            "text/plain; charset=utf-8", h.state + "\n", keep_alive, head);
  }

  // An error answer, after which the connection closes: what follows in the stream cannot be
  // trusted to start a request.
  void Fail(http::status status, std::string body) {
    Respond(11, status, "text/plain; charset=utf-8", std::move(body), false, false);
  }

  void Respond(unsigned version, http::status status, std::string_view content_type,
               std::string body, bool keep_alive, bool head) {
    res_ = {};
    res_.version(version);
    res_.result(status);
    res_.set(http::field::server, "supd");
    res_.set(http::field::content_type, content_type);
    if (status == http::status::method_not_allowed) res_.set(http::field::allow, "GET, HEAD");
    res_.keep_alive(keep_alive);
    // HEAD: the length the body would have, and no body (RFC 9110 9.3.2).
    res_.content_length(body.size());
    if (!head) res_.body() = std::move(body);
    stream_.expires_after(state_->options.idle_timeout);
    http::async_write(stream_, res_,
                      [self = shared_from_this(), keep_alive](const error_code& ec, size_t) {
                        self->OnWrite(ec, keep_alive);
                      });
  }

  void OnWrite(const error_code& ec, bool keep_alive) {
    if (state_->stopped) return;
    if (ec) {
      Close();
      return;
    }
    if (keep_alive) {
      Read();
    } else {
      Linger();
    }
  }

  // Half-closes, then reads and drops what the client still sends until it closes too (or
  // kLingerTime, kLingerBytes): closing with unread input would send a reset, and the client
  // could lose the response we just wrote.
  void Linger() {
    error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(std::min(kLingerTime, state_->options.idle_timeout));
    Drain();
  }

  void Drain() {
    stream_.async_read_some(asio::buffer(drain_),
                            [self = shared_from_this()](const error_code& ec, size_t n) {
                              if (self->state_->stopped) return;
                              self->drained_ += n;
                              if (ec || self->drained_ > kLingerBytes) {
                                self->Close();
                              } else {
                                self->Drain();
                              }
                            });
  }

  std::shared_ptr<State> state_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;  // bounded: a request that does not fit is refused
  std::optional<http::request_parser<http::string_body>> parser_;  // one per request
  http::response<http::string_body> res_;  // alive until its write completes
  std::array<char, 4096> drain_{};
  size_t drained_ = 0;
};

bool OutOfResources(const error_code& ec) {
  return ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space ||
         ec == asio::error::no_memory || ec.value() == ENFILE;
}

void Accept(const std::shared_ptr<State>& state) {
  state->acceptor.async_accept([state](const error_code& ec, tcp::socket socket) {
    if (state->stopped || ec == asio::error::operation_aborted || !state->acceptor.is_open())
      return;
    if (OutOfResources(ec)) {
      // The connection stays in the backlog and accept would fail again at once: wait a
      // little instead of spinning.
      if (!state->accept_error_logged)
        spdlog::warn("{}: accept: {}; retrying every 100 ms", state->where, ec.message());
      state->accept_error_logged = true;
      state->retry.expires_after(std::chrono::milliseconds(100));
      state->retry.async_wait([state](const error_code& e) {
        if (!e && !state->stopped) Accept(state);
      });
      return;
    }
    state->accept_error_logged = false;
    if (ec) {
      // A connection that died in the backlog (ECONNABORTED) and the like: the next one is fine.
      spdlog::debug("{}: accept: {}", state->where, ec.message());
    } else if (state->connections.size() >= state->options.max_connections) {
      ++state->refused;
      spdlog::debug("{}: {} connections open; closing a new one ({} refused so far)", state->where,
                    state->connections.size(), state->refused);
      error_code ignored;
      socket.close(ignored);
    } else {
      // Asio's accept does not set close-on-exec; supd's children must not inherit this.
      ::fcntl(socket.native_handle(), F_SETFD, FD_CLOEXEC);
      error_code ignored;
      // Each response is one write; do not let Nagle hold its tail for the client's ACK.
      socket.set_option(tcp::no_delay(true), ignored);
      std::make_shared<Connection>(state, std::move(socket))->Start();
    }
    Accept(state);
  });
}

Result<tcp::endpoint> ParseAddress(const std::string& where, const std::string& address) {
  const Error bad{where +
                  ": expected ADDRESS:PORT with an IP address (like 127.0.0.1:9464 or "
                  "[::1]:9464)"};
  const std::string_view a(address);
  std::string_view host;
  std::string_view port;
  error_code ec;
  asio::ip::address ip;
  if (a.starts_with('[')) {
    const size_t close = a.find(']');
    if (close == std::string_view::npos || close + 1 >= a.size() || a[close + 1] != ':') return bad;
    host = a.substr(1, close - 1);
    port = a.substr(close + 2);
    ip = asio::ip::make_address_v6(std::string(host), ec);
  } else {
    const size_t colon = a.rfind(':');
    if (colon == std::string_view::npos) return bad;
    host = a.substr(0, colon);
    port = a.substr(colon + 1);
    // An IPv6 address needs brackets: "::1:9464" would be ambiguous.
    if (host.find(':') != std::string_view::npos) return bad;
    ip = asio::ip::make_address_v4(std::string(host), ec);
  }
  if (ec || host.empty()) return bad;
  unsigned value = 0;
  const auto [end, err] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || err != std::errc() || end != port.data() + port.size() || value > 65535)
    return Error{where + ": the port must be a number from 0 to 65535 (0: any free port)"};
  return tcp::endpoint(ip, static_cast<uint16_t>(value));
}

}  // namespace

MetricsHttpServer::MetricsHttpServer(std::shared_ptr<State> state) : state_(std::move(state)) {}

MetricsHttpServer::~MetricsHttpServer() {
  state_->stopped = true;
  // Whatever the callback holds (the Manager, say) may go away with the server.
  state_->render = nullptr;
  state_->health = nullptr;
  error_code ignored;
  state_->acceptor.close(ignored);
  state_->retry.cancel();
  // Close() only cancels: no connection is destroyed while we walk the set.
  for (Connection* c : state_->connections) c->Close();
}

Result<std::unique_ptr<MetricsHttpServer>> MetricsHttpServer::Listen(asio::io_context& io,
                                                                     const std::string& address,
                                                                     RenderFn render) {
  return Listen(io, address, std::move(render), Options{});
}

Result<std::unique_ptr<MetricsHttpServer>> MetricsHttpServer::Listen(asio::io_context& io,
                                                                     const std::string& address,
                                                                     RenderFn render,
                                                                     const Options& options) {
  const std::string where = "--metrics-listen " + address;
  auto endpoint = ParseAddress(where, address);
  if (!endpoint.ok()) return endpoint.take_error();

  // Our own socket() call, for SOCK_CLOEXEC (Asio's open() does not set it).
  UniqueFd fd(::socket(endpoint->protocol().family(), SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP));
  if (!fd) return ErrnoError(where + ": socket");
  tcp::acceptor acceptor(io);
  error_code ec;
  acceptor.assign(endpoint->protocol(), fd.get(), ec);
  if (ec) return ErrnoError(where + ": socket", ec.value());
  static_cast<void>(fd.release());  // the acceptor owns it now
  acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (ec) return ErrnoError(where + ": setsockopt SO_REUSEADDR", ec.value());
  acceptor.bind(*endpoint, ec);
  if (ec) return ErrnoError(where + ": bind", ec.value());
  acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return ErrnoError(where + ": listen", ec.value());

  auto state = std::make_shared<State>(io, std::move(acceptor), std::move(render), options, where);
  Accept(state);
  std::unique_ptr<MetricsHttpServer> server(new MetricsHttpServer(std::move(state)));
  spdlog::info("metrics: serving /metrics on {} (port {})", address, server->local_port());
  return server;
}

Result<std::unique_ptr<MetricsHttpServer>> MetricsHttpServer::Adopt(asio::io_context& io, int fd,
                                                                    const std::string& address,
                                                                    RenderFn render) {
  return Adopt(io, fd, address, std::move(render), Options{});
}

Result<std::unique_ptr<MetricsHttpServer>> MetricsHttpServer::Adopt(asio::io_context& io, int fd,
                                                                    const std::string& address,
                                                                    RenderFn render,
                                                                    const Options& options) {
  const std::string where = "--metrics-listen " + address;
  const std::string what = where + ": adopt fd " + std::to_string(fd);
  auto kind = SocketKindOf(fd, what);
  if (!kind.ok()) return kind.take_error();
  const int domain = kind->domain, type = kind->type;
  const bool listening = kind->listening;
  if ((domain != AF_INET && domain != AF_INET6) || type != SOCK_STREAM || !listening)
    return Error{what + ": not a listening TCP socket"};
  tcp::acceptor acceptor(io);
  error_code ec;
  acceptor.assign(domain == AF_INET ? tcp::v4() : tcp::v6(), fd, ec);
  if (ec) return ErrnoError(what, ec.value());
  auto state = std::make_shared<State>(io, std::move(acceptor), std::move(render), options, where);
  Accept(state);
  std::unique_ptr<MetricsHttpServer> server(new MetricsHttpServer(std::move(state)));
  spdlog::info("metrics: serving /metrics on {} (port {}, kept across exec)", address,
               server->local_port());
  return server;
}

int MetricsHttpServer::native_handle() const { return state_->acceptor.native_handle(); }

void MetricsHttpServer::SetHealth(HealthFn health) { state_->health = std::move(health); }

uint16_t MetricsHttpServer::local_port() const {
  error_code ec;
  const auto ep = state_->acceptor.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

size_t MetricsHttpServer::open_connections() const { return state_->connections.size(); }

uint64_t MetricsHttpServer::refused_connections() const { return state_->refused; }

}  // namespace supd::metrics
