#include "lib/health/probe_check.h"

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <string_view>
#include <utility>

#include "lib/health/http_response.h"
#include "lib/health/span_text.h"

namespace supd {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;

constexpr size_t kMaxHead = 16 * 1024;    // headers read at most (probe_check.h)
constexpr size_t kBodyExcerpt = 512;      // of a failed response's body, kept as output
constexpr size_t kMaxBodyRaw = 2 * 1024;  // body bytes read for it (chunk framing included)
constexpr size_t kFirstRead = 1024;       // a health answer's usual size: one read, no growth
// A TimeoutSec= this long (or infinity) arms no timer: steady_clock's nanoseconds would
// overflow on the way.
constexpr Usec kNoDeadline = std::chrono::hours(24 * 365 * 10);

// "127.0.0.1:8080", "[::1]:9".
std::string EndpointText(const tcp::endpoint& ep) {
  const std::string addr = ep.address().to_string();
  const std::string port = std::to_string(ep.port());
  return ep.address().is_v6() ? "[" + addr + "]:" + port : addr + ":" + port;
}

// One HTTP or TCP check under way. Handlers hold it by shared_ptr, so that one still queued
// after the Check is destroyed finds `finished` set and returns without touching anything else.
struct SocketCheck : std::enable_shared_from_this<SocketCheck> {
  enum class Phase { kConnect, kWrite, kHead, kBody };

  SocketCheck(asio::io_context& io, const ProbeSpec& spec, bool http, CheckDone done_in)
      : io(io),
        socket(io),
        deadline(io),
        http(http),
        timeout(spec.timeout),
        done(std::move(done_in)) {}

  void Begin(const ProbeSpec& spec);
  void OnConnect(const error_code& ec);
  void OnWrite(const error_code& ec);
  void Read();
  void OnRead(const error_code& ec, size_t n);
  void OnBody(const error_code& ec);
  void OnDeadline();
  void Finish(bool ok, std::string message, std::string output = {});
  // The Check is gone: no result, the socket closed now.
  void Cancel();
  void CloseSocket();
  std::string_view Data() const { return {buf.data(), used}; }
  std::string BadResponse(const std::string& why) const {
    return "bad HTTP response from " + EndpointText(endpoint) + ": " + why;
  }

  asio::io_context& io;
  tcp::socket socket;
  asio::steady_timer deadline;
  const bool http;
  const Usec timeout;
  CheckDone done;
  const Clock::time_point start = Clock::now();
  tcp::endpoint endpoint;
  bool finished = false;  // the result was given, or the Check destroyed: nothing more to do
  Phase phase = Phase::kConnect;
  // The request, then the response: [0, used) is data, the rest room for the next read.
  std::string buf;
  size_t used = 0;
  // kBody: the parsed head of a failed response (its `reason` points into buf, which may move
  // as it grows: read only before the body phase, into `failure`).
  HttpHead head;
  std::string failure;  // kBody: the message to report with the excerpt
};

void SocketCheck::Begin(const ProbeSpec& spec) {
  error_code ec;
  const asio::ip::address address = asio::ip::make_address(spec.host, ec);
  if (ec) {
    // The unit parser accepts only IP literals; this is a spec built some other way.
    asio::post(io, [self = shared_from_this(), host = spec.host] {
      self->Finish(false, "bad address \"" + host + "\": not an IP address");
    });
    return;
  }
  endpoint = tcp::endpoint(address, spec.port);
  if (http) {
    buf.reserve(std::max(kFirstRead, spec.path.size() + spec.host_header.size() + 96));
    buf.append("GET ").append(spec.path).append(" HTTP/1.1\r\nHost: ").append(spec.host_header);
    buf.append("\r\nUser-Agent: supd-probe/" SUPD_VERSION
               "\r\nAccept: */*\r\nConnection: close\r\n\r\n");
  }
  if (timeout < kNoDeadline) {
    deadline.expires_at(start + timeout);
    deadline.async_wait([self = shared_from_this()](const error_code& e) {
      if (!e) self->OnDeadline();
    });
  }
  // The connect's errors (EMFILE included) come to the handler: nothing is reported from here.
  socket.async_connect(endpoint,
                       [self = shared_from_this()](const error_code& e) { self->OnConnect(e); });
}

void SocketCheck::OnConnect(const error_code& ec) {
  if (finished) return;
  if (ec) return Finish(false, "connect to " + EndpointText(endpoint) + ": " + ec.message());
  if (!http) return Finish(true, "connected");
  phase = Phase::kWrite;
  asio::async_write(socket, asio::buffer(buf),
                    [self = shared_from_this()](const error_code& e, size_t) { self->OnWrite(e); });
}

void SocketCheck::OnWrite(const error_code& ec) {
  if (finished) return;
  if (ec) return Finish(false, "write to " + EndpointText(endpoint) + ": " + ec.message());
  phase = Phase::kHead;
  buf.resize(std::max(buf.capacity(), kFirstRead));
  used = 0;
  Read();
}

void SocketCheck::Read() {
  const size_t limit = phase == Phase::kHead ? kMaxHead + 1 : head.body_start + kMaxBodyRaw;
  if (buf.size() - used < kFirstRead / 2 && buf.size() < limit)
    buf.resize(std::min(buf.size() * 2, limit));
  socket.async_read_some(
      asio::buffer(buf.data() + used, buf.size() - used),
      [self = shared_from_this()](const error_code& e, size_t n) { self->OnRead(e, n); });
}

void SocketCheck::OnRead(const error_code& ec, size_t n) {
  if (finished) return;
  used += n;
  if (phase == Phase::kBody) return OnBody(ec);

  head = ParseHttpHead(Data(), kMaxHead);
  switch (head.parse) {
    case HttpHead::Parse::kBad:
      return Finish(false, BadResponse(head.bad));
    case HttpHead::Parse::kIncomplete:
      if (ec == asio::error::eof && !head.status_line_read)
        return Finish(false, "read from " + EndpointText(endpoint) + ": end of stream");
      if (ec == asio::error::eof) return Finish(false, BadResponse("end of stream in the headers"));
      if (ec) return Finish(false, "read from " + EndpointText(endpoint) + ": " + ec.message());
      return Read();
    case HttpHead::Parse::kComplete:
      break;
  }
  if (head.code >= 200 && head.code < 400) return Finish(true, "HTTP " + std::to_string(head.code));
  failure = "HTTP " + std::to_string(head.code);
  if (!head.reason.empty()) failure.append(" ").append(head.reason);
  phase = Phase::kBody;
  OnBody(ec);
}

// A failed response: its body's start is worth waiting for until it is there, the stream ends,
// or the deadline (which then reports the failure with what came, not a timeout).
void SocketCheck::OnBody(const error_code& ec) {
  bool complete = false;
  std::string excerpt = BodyExcerpt(head, Data().substr(head.body_start), kBodyExcerpt, &complete);
  if (complete || ec || used >= head.body_start + kMaxBodyRaw)
    return Finish(false, std::move(failure), std::move(excerpt));
  Read();
}

void SocketCheck::OnDeadline() {
  if (finished) return;
  if (phase == Phase::kBody) {
    std::string excerpt = BodyExcerpt(head, Data().substr(head.body_start), kBodyExcerpt);
    return Finish(false, std::move(failure), std::move(excerpt));
  }
  Finish(false, "timed out after " + FormatProbeSpan(timeout));
}

void SocketCheck::Finish(bool ok, std::string message, std::string output) {
  finished = true;
  CloseSocket();
  CheckResult r;
  r.ok = ok;
  r.message = std::move(message);
  r.output = std::move(output);
  r.latency = std::chrono::duration_cast<Usec>(Clock::now() - start);
  // `done` may destroy the Check (which calls Cancel on this, still alive through the caller's
  // shared_ptr): it is moved out first and nothing is touched after it.
  CheckDone callback = std::move(done);
  done = nullptr;
  callback(std::move(r));
}

void SocketCheck::Cancel() {
  finished = true;
  done = nullptr;  // what it captured goes now, not when the last queued handler has run
  CloseSocket();
}

void SocketCheck::CloseSocket() {
  error_code ignored;  // a timer that already fired or a socket never opened: nothing to undo
  deadline.cancel();
  if (!socket.is_open()) return;
  // Reset instead of FIN: the check has what it wants, and at 1,000 checks a second an active
  // close would leave as many sockets in TIME_WAIT per second (Kubernetes' probes do the same).
  socket.set_option(tcp::socket::linger(true, 0), ignored);
  socket.close(ignored);
}

class SocketCheckHandle : public Check {
 public:
  explicit SocketCheckHandle(std::shared_ptr<SocketCheck> c) : c_(std::move(c)) {}
  ~SocketCheckHandle() override { c_->Cancel(); }

 private:
  std::shared_ptr<SocketCheck> c_;
};

std::unique_ptr<Check> StartSocketCheck(asio::io_context& io, const ProbeSpec& spec, bool http,
                                        CheckDone done) {
  auto c = std::make_shared<SocketCheck>(io, spec, http, std::move(done));
  c->Begin(spec);
  return std::make_unique<SocketCheckHandle>(std::move(c));
}

}  // namespace

std::unique_ptr<Check> StartHttpCheck(asio::io_context& io, const ProbeSpec& spec, CheckDone done) {
  return StartSocketCheck(io, spec, /*http=*/true, std::move(done));
}

std::unique_ptr<Check> StartTcpCheck(asio::io_context& io, const ProbeSpec& spec, CheckDone done) {
  return StartSocketCheck(io, spec, /*http=*/false, std::move(done));
}

}  // namespace supd
