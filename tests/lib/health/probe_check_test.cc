#include "lib/health/probe_check.h"

#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/lib/health/health_test_util.h"

namespace supd {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;
using testing_health::RunUntil;
using namespace std::chrono_literals;

int CountOpenFds() {
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) {
    (void)e;
    ++n;
  }
  return n;
}

// A loopback server that reads one request per connection and answers with `response`, in one
// or two writes, then closes (close_after) or holds the connection open. An empty response
// with hold: accepts and never answers.
class TestServer {
 public:
  TestServer(asio::io_context& io, const std::string& address = "127.0.0.1")
      : io_(io), acceptor_(io, tcp::endpoint(asio::ip::make_address(address), 0)) {
    Accept();
  }

  uint16_t port() const { return acceptor_.local_endpoint().port(); }
  // Writes to the last connection now, without the loop.
  void WriteNow(const std::string& data) { asio::write(*held_.back(), asio::buffer(data)); }

  std::string response;
  bool close_after = true;
  bool read_request = true;
  std::vector<std::string> requests;
  int accepted = 0;
  int answered = 0;

 private:
  void Accept() {
    acceptor_.async_accept([this](const error_code& ec, tcp::socket s) {
      if (ec) return;
      ++accepted;
      auto sock = std::make_shared<tcp::socket>(std::move(s));
      held_.push_back(sock);
      if (read_request) ReadRequest(sock);
      Accept();
    });
  }

  void ReadRequest(const std::shared_ptr<tcp::socket>& sock) {
    auto buf = std::make_shared<std::string>();
    asio::async_read_until(*sock, asio::dynamic_buffer(*buf), "\r\n\r\n",
                           [this, sock, buf](const error_code& ec, size_t n) {
                             if (ec) return;
                             requests.push_back(buf->substr(0, n));
                             Answer(sock);
                           });
  }

  void Answer(const std::shared_ptr<tcp::socket>& sock) {
    if (response.empty() && !close_after) return;  // never answers
    auto data = std::make_shared<std::string>(response);
    asio::async_write(*sock, asio::buffer(*data), [this, sock, data](const error_code&, size_t) {
      ++answered;
      error_code ignored;  // the probe may have reset the connection already
      if (close_after) {
        sock->shutdown(tcp::socket::shutdown_send, ignored);
      }
    });
  }

  asio::io_context& io_;
  tcp::acceptor acceptor_;
  std::vector<std::shared_ptr<tcp::socket>> held_;
};

ProbeSpec HttpSpec(uint16_t port, const std::string& host = "127.0.0.1") {
  ProbeSpec s;
  s.kind = ProbeSpec::Kind::kHttp;
  s.host = host;
  s.port = port;
  s.path = "/healthz";
  s.host_header = host + ":" + std::to_string(port);
  s.target = "http://" + s.host_header + s.path;
  s.timeout = 5s;
  return s;
}

ProbeSpec TcpSpec(uint16_t port, const std::string& host = "127.0.0.1") {
  ProbeSpec s = HttpSpec(port, host);
  s.kind = ProbeSpec::Kind::kTcp;
  return s;
}

// A port nobody listens on, for as long as the returned socket lives (bound, not listening).
tcp::socket RefusingPort(asio::io_context& io, const std::string& address, uint16_t* port) {
  tcp::socket s(io);
  const tcp::endpoint ep(asio::ip::make_address(address), 0);
  s.open(ep.protocol());
  s.bind(ep);
  *port = s.local_endpoint().port();
  return s;
}

class ProbeCheckTest : public testing::Test {
 protected:
  // Runs `start` and the loop until the result.
  CheckResult Run(const std::function<std::unique_ptr<Check>(CheckDone)>& start) {
    std::optional<CheckResult> got;
    auto check = start([&](CheckResult r) { got = std::move(r); });
    EXPECT_TRUE(RunUntil(io_, [&] { return got.has_value(); }));
    return got.value_or(CheckResult{});
  }
  CheckResult Http(const ProbeSpec& spec) {
    return Run([&](CheckDone d) { return StartHttpCheck(io_, spec, std::move(d)); });
  }
  CheckResult Tcp(const ProbeSpec& spec) {
    return Run([&](CheckDone d) { return StartTcpCheck(io_, spec, std::move(d)); });
  }

  asio::io_context io_;
};

TEST_F(ProbeCheckTest, Http200SendsTheRequestAndPasses) {
  TestServer server(io_);
  server.response = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
  const CheckResult r = Http(HttpSpec(server.port()));
  EXPECT_TRUE(r.ok);
  EXPECT_EQ("HTTP 200", r.message);
  EXPECT_EQ("", r.output);
  EXPECT_GT(r.latency.count(), 0);
  ASSERT_EQ(1u, server.requests.size());
  EXPECT_EQ("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(server.port()) +
                "\r\nUser-Agent: supd-probe/" SUPD_VERSION
                "\r\nAccept: */*\r\nConnection: close\r\n\r\n",
            server.requests[0]);
}

TEST_F(ProbeCheckTest, Http302PassesWithoutFollowing) {
  TestServer server(io_);
  server.response = "HTTP/1.1 302 Found\r\nLocation: http://elsewhere/\r\n\r\n";
  const CheckResult r = Http(HttpSpec(server.port()));
  EXPECT_TRUE(r.ok);
  EXPECT_EQ("HTTP 302", r.message);
  EXPECT_EQ(1, server.accepted);
}

TEST_F(ProbeCheckTest, Http503FailsWithTheReasonAndTheBodysStart) {
  TestServer server(io_);
  const std::string body = "database down\n" + std::string(600, 'x');
  server.response =
      "HTTP/1.1 503 Service Unavailable\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\n\r\n" + body;
  const CheckResult r = Http(HttpSpec(server.port()));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ("HTTP 503 Service Unavailable", r.message);
  EXPECT_EQ(body.substr(0, 512), r.output);
}

TEST_F(ProbeCheckTest, FailureWithAnUnframedBodyEndsAtTheEndOfStream) {
  TestServer server(io_);
  server.response = "HTTP/1.0 500 Internal Server Error\r\n\r\npanic: nil map";
  const CheckResult r = Http(HttpSpec(server.port()));
  EXPECT_EQ("HTTP 500 Internal Server Error", r.message);
  EXPECT_EQ("panic: nil map", r.output);
}

TEST_F(ProbeCheckTest, ASlowBodyIsNotWaitedForPastTheTimeout) {
  TestServer server(io_);
  server.response = "HTTP/1.1 404 Not Found\r\nContent-Length: 100\r\n\r\nnot here";
  server.close_after = false;
  ProbeSpec spec = HttpSpec(server.port());
  spec.timeout = 200ms;
  const CheckResult r = Http(spec);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ("HTTP 404 Not Found", r.message);
  EXPECT_EQ("not here", r.output);
  EXPECT_GE(r.latency, 200ms);
}

TEST_F(ProbeCheckTest, ConnectionRefused) {
  uint16_t port = 0;
  tcp::socket hold = RefusingPort(io_, "127.0.0.1", &port);
  const CheckResult r = Http(HttpSpec(port));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ("connect to 127.0.0.1:" + std::to_string(port) + ": Connection refused", r.message);
}

TEST_F(ProbeCheckTest, NoAnswerTimesOut) {
  TestServer server(io_);
  server.close_after = false;  // reads the request, never answers
  ProbeSpec spec = HttpSpec(server.port());
  spec.timeout = 200ms;
  const int fds = CountOpenFds();
  const CheckResult r = Http(spec);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ("timed out after 200ms", r.message);
  EXPECT_GE(r.latency, 200ms);
  EXPECT_LT(r.latency, 10s);
  // The probe's socket is closed (the server's accepted one is held on purpose).
  EXPECT_EQ(fds + 1, CountOpenFds());
}

TEST_F(ProbeCheckTest, TimeoutReadsAsASpan) {
  TestServer server(io_);
  server.close_after = false;
  ProbeSpec spec = HttpSpec(server.port());
  spec.timeout = 1500ms;
  EXPECT_EQ("timed out after 1.5s", Http(spec).message);
}

TEST_F(ProbeCheckTest, GarbageIsABadResponse) {
  TestServer server(io_);
  server.response = "SSH-2.0-OpenSSH_9.2\r\n";
  const CheckResult r = Http(HttpSpec(server.port()));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ("bad HTTP response from 127.0.0.1:" + std::to_string(server.port()) +
                ": not a status line: \"SSH-2.0-OpenSSH_9.2\"",
            r.message);
}

TEST_F(ProbeCheckTest, HeadersOver16KiBAreABadResponse) {
  TestServer server(io_);
  server.response = "HTTP/1.1 200 OK\r\nX-Big: " + std::string(17000, 'a') + "\r\n\r\n";
  const CheckResult r = Http(HttpSpec(server.port()));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ("bad HTTP response from 127.0.0.1:" + std::to_string(server.port()) +
                ": headers longer than 16 KiB",
            r.message);
}

TEST_F(ProbeCheckTest, ClosedBeforeTheStatusLine) {
  TestServer server(io_);
  server.response = "";  // reads the request, closes without a word
  const CheckResult r = Http(HttpSpec(server.port()));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ("read from 127.0.0.1:" + std::to_string(server.port()) + ": end of stream", r.message);
}

TEST_F(ProbeCheckTest, ClosedInsideTheHeaders) {
  TestServer server(io_);
  server.response = "HTTP/1.1 200 OK\r\nServer: half";
  const CheckResult r = Http(HttpSpec(server.port()));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ("bad HTTP response from 127.0.0.1:" + std::to_string(server.port()) +
                ": end of stream in the headers",
            r.message);
}

TEST_F(ProbeCheckTest, NotAnAddress) {
  ProbeSpec spec = HttpSpec(80, "example.com");
  const CheckResult r = Http(spec);
  EXPECT_EQ("bad address \"example.com\": not an IP address", r.message);
}

TEST_F(ProbeCheckTest, DoneIsNeverCalledFromTheStart) {
  ProbeSpec spec = HttpSpec(80, "not-an-address");  // fails at once, still posted
  bool called = false;
  auto check = StartHttpCheck(io_, spec, [&](CheckResult) { called = true; });
  EXPECT_FALSE(called);
  EXPECT_TRUE(RunUntil(io_, [&] { return called; }));
}

TEST_F(ProbeCheckTest, DestroyedBeforeTheResultNeverCalls) {
  TestServer server(io_);
  server.close_after = false;
  ProbeSpec spec = HttpSpec(server.port());
  spec.timeout = 200ms;
  const int fds = CountOpenFds();
  bool called = false;
  auto check = StartHttpCheck(io_, spec, [&](CheckResult) { called = true; });
  // Held open on purpose: the server has the request and will never answer.
  ASSERT_TRUE(RunUntil(io_, [&] { return server.requests.size() == 1; }));
  check.reset();
  // Past the timeout the check had: nothing may fire.
  asio::steady_timer later(io_, 400ms);
  bool waited = false;
  later.async_wait([&](const error_code&) { waited = true; });
  ASSERT_TRUE(RunUntil(io_, [&] { return waited; }));
  EXPECT_FALSE(called);
  EXPECT_EQ(fds + 1, CountOpenFds());  // only the server's held end
}

TEST_F(ProbeCheckTest, DestroyedWithTheAnswerArrivedNeverCalls) {
  TestServer server(io_);
  server.close_after = false;
  bool called = false;
  auto check = StartHttpCheck(io_, HttpSpec(server.port()), [&](CheckResult) { called = true; });
  ASSERT_TRUE(RunUntil(io_, [&] { return server.requests.size() == 1; }));
  server.WriteNow("HTTP/1.1 200 OK\r\n\r\n");
  check.reset();
  io_.restart();
  io_.poll();
  EXPECT_FALSE(called);
}

TEST_F(ProbeCheckTest, DoneMayDestroyTheCheck) {
  TestServer server(io_);
  server.response = "HTTP/1.1 204 No Content\r\n\r\n";
  std::unique_ptr<Check> check;
  std::optional<CheckResult> got;
  check = StartHttpCheck(io_, HttpSpec(server.port()), [&](CheckResult r) {
    check.reset();
    got = std::move(r);
  });
  ASSERT_TRUE(RunUntil(io_, [&] { return got.has_value(); }));
  EXPECT_TRUE(got->ok);
  EXPECT_EQ("HTTP 204", got->message);
  EXPECT_EQ(nullptr, check);
}

TEST_F(ProbeCheckTest, HttpOverIpv6) {
  std::optional<TestServer> server;
  try {
    server.emplace(io_, "::1");
  } catch (const boost::system::system_error& e) {
    GTEST_SKIP() << "no IPv6 loopback here: " << e.what();
  }
  server->response = "HTTP/1.1 200 OK\r\n\r\n";
  ProbeSpec spec = HttpSpec(server->port(), "::1");
  spec.host_header = "[::1]:" + std::to_string(server->port());
  const CheckResult r = Http(spec);
  EXPECT_TRUE(r.ok) << r.message;
  ASSERT_EQ(1u, server->requests.size());
  EXPECT_NE(std::string::npos, server->requests[0].find("\r\nHost: [::1]:")) << server->requests[0];
}

TEST_F(ProbeCheckTest, TcpConnectPassesAndClosesAtOnce) {
  TestServer server(io_);
  server.read_request = false;
  const int fds = CountOpenFds();
  const CheckResult r = Tcp(TcpSpec(server.port()));
  EXPECT_TRUE(r.ok);
  EXPECT_EQ("connected", r.message);
  ASSERT_TRUE(RunUntil(io_, [&] { return server.accepted == 1; }));
  EXPECT_EQ(fds + 1, CountOpenFds());  // the server's accepted end; the probe's is closed
}

TEST_F(ProbeCheckTest, TcpRefusedOverIpv6) {
  uint16_t port = 0;
  std::optional<tcp::socket> hold;
  try {
    hold.emplace(RefusingPort(io_, "::1", &port));
  } catch (const boost::system::system_error& e) {
    GTEST_SKIP() << "no IPv6 loopback here: " << e.what();
  }
  const CheckResult r = Tcp(TcpSpec(port, "::1"));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ("connect to [::1]:" + std::to_string(port) + ": Connection refused", r.message);
}

TEST_F(ProbeCheckTest, TcpRefused) {
  uint16_t port = 0;
  tcp::socket hold = RefusingPort(io_, "127.0.0.1", &port);
  const CheckResult r = Tcp(TcpSpec(port));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ("connect to 127.0.0.1:" + std::to_string(port) + ": Connection refused", r.message);
}

}  // namespace
}  // namespace supd
