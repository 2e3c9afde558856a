#include "lib/metrics/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <gtest/gtest.h>

#include "lib/base/unique_fd.h"

namespace supd::metrics {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

constexpr const char* kTextType = "text/plain; version=0.0.4; charset=utf-8";
constexpr const char* kOpenMetricsType =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";
constexpr const char* kBody = "# TYPE supd_up gauge\nsupd_up 1\n";

struct Response {
  int status = 0;
  std::string head;  // status line and headers
  std::string body;
  std::string Header(const std::string& name) const {
    const std::string key = "\r\n" + name + ": ";
    const size_t at = head.find(key);
    if (at == std::string::npos) return "<none>";
    const size_t start = at + key.size();
    return head.substr(start, head.find("\r\n", start) - start);
  }
};

// A blocking client on its own socket; every read has a deadline (SO_RCVTIMEO).
class Client {
 public:
  explicit Client(uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    timeval tv{5, 0};
    ::setsockopt(fd_.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_.get(), reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) == 0;
  }
  bool connected() const { return connected_; }

  bool Send(const std::string& data) {
    size_t done = 0;
    while (done < data.size()) {
      const ssize_t n = ::send(fd_.get(), data.data() + done, data.size() - done, MSG_NOSIGNAL);
      if (n <= 0) return false;
      done += static_cast<size_t>(n);
    }
    return true;
  }

  // One response; `head_request`: the body is not sent whatever Content-Length says.
  std::optional<Response> Read(bool head_request = false) {
    size_t end;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos)
      if (!Fill()) return std::nullopt;
    Response r;
    r.head = buf_.substr(0, end + 2);
    buf_.erase(0, end + 4);
    r.status = std::stoi(r.head.substr(9, 3));
    size_t length = 0;
    if (const std::string cl = r.Header("Content-Length"); cl != "<none>") length = std::stoul(cl);
    if (head_request) length = 0;
    while (buf_.size() < length)
      if (!Fill()) return std::nullopt;
    r.body = buf_.substr(0, length);
    buf_.erase(0, length);
    return r;
  }

  // True when the server closes the connection (EOF or reset) before the read deadline, with
  // nothing more to read.
  bool ClosedByServer() {
    char c;
    const ssize_t n = ::recv(fd_.get(), &c, 1, 0);
    if (n == 0) return buf_.empty();
    return n < 0 && errno == ECONNRESET;
  }

  std::string leftover() const { return buf_; }

 private:
  bool Fill() {
    char tmp[4096];
    const ssize_t n = ::recv(fd_.get(), tmp, sizeof(tmp), 0);
    if (n <= 0) return false;
    buf_.append(tmp, static_cast<size_t>(n));
    return true;
  }

  UniqueFd fd_;
  bool connected_ = false;
  std::string buf_;
};

std::string Get(const std::string& target, const std::string& extra = "") {
  return "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra + "\r\n";
}

class MetricsHttpServerTest : public ::testing::Test {
 protected:
  ~MetricsHttpServerTest() override {
    if (thread_.joinable()) Stop();
  }

  // Listens on 127.0.0.1:0 and runs the loop on a thread of its own.
  void Start(MetricsHttpServer::Options options = {}) {
    auto server = MetricsHttpServer::Listen(io_, "127.0.0.1:0", Render(), options);
    ASSERT_TRUE(server.ok()) << server.error().message;
    server_ = std::move(*server);
    port_ = server_->local_port();
    ASSERT_NE(0, port_);
    thread_ = std::thread([this] { io_.run(); });
  }

  RenderFn Render() {
    return [this](std::string_view accept) {
      std::lock_guard<std::mutex> lock(mu_);
      ++renders_;
      accepts_.emplace_back(accept);
      if (throw_) throw std::runtime_error("boom");
      return Rendered{
          accept.find("openmetrics") != std::string_view::npos ? kOpenMetricsType : kTextType,
          kBody};
    };
  }

  template <typename F>
  auto OnLoop(F f) {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto done = task.get_future();
    asio::post(io_, [&task] { task(); });
    return done.get();
  }

  // Destroys the server on the loop; the loop must then run out of work by itself (no handler
  // left behind), so join() returning is part of every test.
  void Stop() {
    OnLoop([this] {
      server_.reset();
      return 0;
    });
    work_.reset();
    thread_.join();
  }

  std::vector<std::string> Accepts() {
    std::lock_guard<std::mutex> lock(mu_);
    return accepts_;
  }
  int Renders() {
    std::lock_guard<std::mutex> lock(mu_);
    return renders_;
  }

  asio::io_context io_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_{
      asio::make_work_guard(io_)};
  std::unique_ptr<MetricsHttpServer> server_;
  uint16_t port_ = 0;
  std::thread thread_;

  std::mutex mu_;
  std::vector<std::string> accepts_;  // GUARDED_BY(mu_)
  int renders_ = 0;                   // GUARDED_BY(mu_)
  bool throw_ = false;                // set before Start
};

TEST_F(MetricsHttpServerTest, GetMetricsAnswersTheRenderedBodyAndContentType) {
  Start();
  Client c(port_);
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.Send(Get("/metrics")));
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(200, r->status);
  EXPECT_EQ(kTextType, r->Header("Content-Type"));
  EXPECT_EQ(std::to_string(std::string(kBody).size()), r->Header("Content-Length"));
  EXPECT_EQ(kBody, r->body);
  EXPECT_EQ(std::vector<std::string>{""}, Accepts());
  Stop();
}

TEST_F(MetricsHttpServerTest, AcceptHeaderIsPassedToTheRenderer) {
  Start();
  Client c(port_);
  const std::string accept =
      "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
  ASSERT_TRUE(c.Send(Get("/metrics", "Accept: " + accept + "\r\n")));
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(200, r->status);
  EXPECT_EQ(kOpenMetricsType, r->Header("Content-Type"));
  EXPECT_EQ(std::vector<std::string>{accept}, Accepts());
  Stop();
}

TEST_F(MetricsHttpServerTest, QueryStringIsIgnored) {
  Start();
  Client c(port_);
  ASSERT_TRUE(c.Send(Get("/metrics?collect[]=supd")));
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(200, r->status);
  EXPECT_EQ(kBody, r->body);
  Stop();
}

TEST_F(MetricsHttpServerTest, HeadHasTheHeadersAndNoBody) {
  Start();
  Client c(port_);
  // HEAD then GET on one connection: had HEAD sent a body, the second read would start in it.
  ASSERT_TRUE(c.Send("HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto head = c.Read(/*head_request=*/true);
  ASSERT_TRUE(head);
  EXPECT_EQ(200, head->status);
  EXPECT_EQ(kTextType, head->Header("Content-Type"));
  EXPECT_EQ(std::to_string(std::string(kBody).size()), head->Header("Content-Length"));
  ASSERT_TRUE(c.Send(Get("/metrics")));
  auto get = c.Read();
  ASSERT_TRUE(get);
  EXPECT_EQ(200, get->status);
  EXPECT_EQ(kBody, get->body);
  EXPECT_EQ("", c.leftover());
  Stop();
}

TEST_F(MetricsHttpServerTest, OtherPathIs404NamingMetrics) {
  Start();
  Client c(port_);
  ASSERT_TRUE(c.Send(Get("/")));
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(404, r->status);
  EXPECT_EQ("Not found: supd serves its metrics at /metrics\n", r->body);
  EXPECT_EQ("text/plain; charset=utf-8", r->Header("Content-Type"));
  // 404 keeps the connection: the next request is served.
  ASSERT_TRUE(c.Send(Get("/metricsx")));
  r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(404, r->status);
  EXPECT_EQ(0, Renders());
  Stop();
}

TEST_F(MetricsHttpServerTest, OtherMethodIs405WithAllow) {
  Start();
  Client c(port_);
  ASSERT_TRUE(c.Send("POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"));
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(405, r->status);
  EXPECT_EQ("GET, HEAD", r->Header("Allow"));
  EXPECT_EQ("Method not allowed: /metrics answers GET and HEAD\n", r->body);
  ASSERT_TRUE(c.Send("DELETE /metrics HTTP/1.1\r\nHost: x\r\n\r\n"));
  r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(405, r->status);
  EXPECT_EQ(0, Renders());
  Stop();
}

TEST_F(MetricsHttpServerTest, HealthzAndReadyzOnceSetHealthWasCalled) {
  Start();
  Client c(port_);
  // Without SetHealth they are paths like any other.
  ASSERT_TRUE(c.Send(Get("/readyz")));
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(404, r->status);
  auto health = std::make_shared<std::atomic<int>>(0);  // 0 starting, 1 running, 2 degraded
  OnLoop([&] {
    server_->SetHealth([health] {
      switch (health->load()) {
        case 1: return Health{"running", true};
        case 2: return Health{"degraded", false};
        default: return Health{"starting", false};
      }
    });
    return 0;
  });
  ASSERT_TRUE(c.Send(Get("/healthz")));
  r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(200, r->status);
  EXPECT_EQ("ok\n", r->body);
  EXPECT_EQ("text/plain; charset=utf-8", r->Header("Content-Type"));
  ASSERT_TRUE(c.Send(Get("/readyz?verbose")));
  r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(503, r->status);
  EXPECT_EQ("starting\n", r->body);
  health->store(1);
  ASSERT_TRUE(c.Send(Get("/readyz")));
  r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(200, r->status);
  EXPECT_EQ("running\n", r->body);
  health->store(2);
  ASSERT_TRUE(c.Send("HEAD /readyz HTTP/1.1\r\nHost: x\r\n\r\n"));
  r = c.Read(/*head_request=*/true);
  ASSERT_TRUE(r);
  EXPECT_EQ(503, r->status);
  EXPECT_EQ("9", r->Header("Content-Length"));
  ASSERT_TRUE(c.Send("POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"));
  r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(405, r->status);
  EXPECT_EQ("Method not allowed: /healthz answers GET and HEAD\n", r->body);
  EXPECT_EQ(0, Renders()) << "the probes do not render the metrics";
  Stop();
}

TEST_F(MetricsHttpServerTest, KeepAliveServesRequestsInTurnAndPipelined) {
  Start();
  Client c(port_);
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(c.Send(Get("/metrics")));
    auto r = c.Read();
    ASSERT_TRUE(r) << i;
    EXPECT_EQ(200, r->status);
    EXPECT_EQ(kBody, r->body);
    EXPECT_EQ("<none>", r->Header("Connection"));
  }
  // Two requests in one segment.
  ASSERT_TRUE(c.Send(Get("/metrics") + Get("/metrics")));
  for (int i = 0; i < 2; ++i) {
    auto r = c.Read();
    ASSERT_TRUE(r) << i;
    EXPECT_EQ(kBody, r->body);
  }
  EXPECT_EQ(4, Renders());
  EXPECT_EQ(1u, OnLoop([this] { return server_->open_connections(); }));
  Stop();
}

TEST_F(MetricsHttpServerTest, ConnectionCloseAndHttp10AreHonoured) {
  Start();
  Client a(port_);
  ASSERT_TRUE(a.Send(Get("/metrics", "Connection: close\r\n")));
  auto r = a.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(200, r->status);
  EXPECT_EQ("close", r->Header("Connection"));
  EXPECT_TRUE(a.ClosedByServer());

  Client b(port_);
  ASSERT_TRUE(b.Send("GET /metrics HTTP/1.0\r\n\r\n"));
  r = b.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(200, r->status);
  EXPECT_EQ("HTTP/1.0 200 OK", r->head.substr(0, 15));
  EXPECT_TRUE(b.ClosedByServer());
  Stop();
}

TEST_F(MetricsHttpServerTest, HeaderOverTheLimitGets431AndClose) {
  Start();
  Client c(port_);
  ASSERT_TRUE(c.Send(Get("/metrics", "X-Big: " + std::string(9000, 'a') + "\r\n")));
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(431, r->status);
  EXPECT_EQ("Request header fields too large (limit 8192 bytes)\n", r->body);
  EXPECT_EQ("close", r->Header("Connection"));
  EXPECT_TRUE(c.ClosedByServer());
  EXPECT_EQ(0, Renders());
  Stop();
}

TEST_F(MetricsHttpServerTest, BodyOverTheLimitGets413AndClose) {
  Start();
  Client c(port_);
  ASSERT_TRUE(c.Send("GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n" +
                     std::string(2000, 'b')));
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(413, r->status);
  EXPECT_EQ("Request body too large: /metrics takes none\n", r->body);
  EXPECT_TRUE(c.ClosedByServer());
  EXPECT_EQ(0, Renders());
  Stop();
}

TEST_F(MetricsHttpServerTest, SmallBodyIsReadAndIgnored) {
  Start();
  Client c(port_);
  ASSERT_TRUE(c.Send("GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello" +
                     Get("/metrics")));
  for (int i = 0; i < 2; ++i) {
    auto r = c.Read();
    ASSERT_TRUE(r) << i;
    EXPECT_EQ(200, r->status);
    EXPECT_EQ(kBody, r->body);
  }
  Stop();
}

TEST_F(MetricsHttpServerTest, MalformedRequestGets400AndClose) {
  Start();
  for (const std::string bad : {"GET /metrics HTTP/9\r\n\r\n", "\x01\x02garbage\r\n\r\n",
                                "GET /metrics HTTP/1.1\r\nBad Header\r\n\r\n",
                                "GET /metrics HTTP/1.1\r\nContent-Length: x\r\n\r\n"}) {
    Client c(port_);
    ASSERT_TRUE(c.Send(bad));
    auto r = c.Read();
    ASSERT_TRUE(r) << bad;
    EXPECT_EQ(400, r->status) << bad;
    EXPECT_EQ("Bad request: ", r->body.substr(0, 13)) << bad;
    EXPECT_TRUE(c.ClosedByServer()) << bad;
  }
  EXPECT_EQ(0, Renders());
  Stop();
}

TEST_F(MetricsHttpServerTest, RendererThatThrowsGives500AndTheServerGoesOn) {
  throw_ = true;
  Start();
  Client c(port_);
  ASSERT_TRUE(c.Send(Get("/metrics")));
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(500, r->status);
  EXPECT_EQ("Internal error while rendering the metrics\n", r->body);
  EXPECT_TRUE(c.ClosedByServer());
  Client d(port_);
  ASSERT_TRUE(d.Send(Get("/nothing")));
  r = d.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(404, r->status);
  Stop();
}

TEST_F(MetricsHttpServerTest, SilentClientDoesNotHoldOthersAndIsClosedAfterTheTimeout) {
  MetricsHttpServer::Options options;
  options.idle_timeout = 300ms;
  Start(options);
  Client silent(port_);
  ASSERT_TRUE(silent.connected());
  Client partial(port_);
  ASSERT_TRUE(partial.Send("GET /metrics HTTP/1.1\r\n"));  // never finishes its request
  const auto start = std::chrono::steady_clock::now();
  Client other(port_);
  ASSERT_TRUE(other.Send(Get("/metrics")));
  auto r = other.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(200, r->status);
  // Both are closed by the server (reads have a 5 s deadline; the timeout is 0.3 s).
  EXPECT_TRUE(silent.ClosedByServer());
  EXPECT_TRUE(partial.ClosedByServer());
  EXPECT_GE(std::chrono::steady_clock::now() - start, 250ms);
  // A connection kept alive after a response times out as well.
  EXPECT_TRUE(other.ClosedByServer());
  Stop();
}

TEST_F(MetricsHttpServerTest, ConnectionsPastTheLimitAreClosedAtOnce) {
  MetricsHttpServer::Options options;
  options.max_connections = 2;
  Start(options);
  Client a(port_);
  Client b(port_);
  // Served, so both are accepted and held open (keep-alive).
  for (Client* c : {&a, &b}) {
    ASSERT_TRUE(c->Send(Get("/metrics")));
    ASSERT_TRUE(c->Read());
  }
  Client extra(port_);
  ASSERT_TRUE(extra.connected());  // the kernel accepts; supd closes at once
  EXPECT_TRUE(extra.ClosedByServer());
  EXPECT_EQ(1u, OnLoop([this] { return server_->refused_connections(); }));
  // The two are still served.
  ASSERT_TRUE(a.Send(Get("/metrics")));
  auto r = a.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(200, r->status);
  Stop();
}

TEST_F(MetricsHttpServerTest, DestructionClosesEveryConnection) {
  Start();
  Client idle(port_);
  Client served(port_);
  ASSERT_TRUE(served.Send(Get("/metrics")));
  ASSERT_TRUE(served.Read());
  Client partial(port_);
  ASSERT_TRUE(partial.Send("GET /metr"));
  // Wait until the loop has accepted all three.
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (OnLoop([this] { return server_->open_connections(); }) < 3u &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(5ms);
  ASSERT_EQ(3u, OnLoop([this] { return server_->open_connections(); }));
  const uint16_t port = port_;
  Stop();  // joins the loop thread: no handler was left behind
  EXPECT_TRUE(idle.ClosedByServer());
  EXPECT_TRUE(served.ClosedByServer());
  EXPECT_TRUE(partial.ClosedByServer());
  EXPECT_FALSE(Client(port).connected());
  EXPECT_EQ(1, Renders());
}

TEST_F(MetricsHttpServerTest, BadAddressesGiveExactMessages) {
  const std::string expected =
      ": expected ADDRESS:PORT with an IP address (like 127.0.0.1:9464 or [::1]:9464)";
  for (const std::string address :
       {"foo", "", "127.0.0.1", "[::1]", "[::1]9464", "::1:9464", "localhost:9464", "1.2.3:80",
        "127.0.0.1.5:80", "[127.0.0.1]:80", "[::1:80", ":9464"}) {
    auto r = MetricsHttpServer::Listen(io_, address, Render());
    ASSERT_FALSE(r.ok()) << address;
    EXPECT_EQ("--metrics-listen " + address + expected, r.error().message);
  }
  for (const std::string address :
       {"127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:12x", "127.0.0.1:+80",
        "[::1]:", "127.0.0.1:99999999999999999999"}) {
    auto r = MetricsHttpServer::Listen(io_, address, Render());
    ASSERT_FALSE(r.ok()) << address;
    EXPECT_EQ("--metrics-listen " + address +
                  ": the port must be a number from 0 to 65535 (0: any free port)",
              r.error().message);
  }
}

TEST_F(MetricsHttpServerTest, BindErrorOnAPortInUse) {
  Start();
  const std::string address = "127.0.0.1:" + std::to_string(port_);
  auto r = MetricsHttpServer::Listen(io_, address, Render());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ("--metrics-listen " + address + ": bind: Address already in use", r.error().message);
  EXPECT_EQ(EADDRINUSE, r.error().sys_errno);
  Stop();
}

TEST_F(MetricsHttpServerTest, BindErrorOnAnAddressNotOnThisHost) {
  // 192.0.2.0/24 is TEST-NET-1 (RFC 5737): never assigned to a host.
  auto r = MetricsHttpServer::Listen(io_, "192.0.2.1:9464", Render());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ("--metrics-listen 192.0.2.1:9464: bind: Cannot assign requested address",
            r.error().message);
}

TEST_F(MetricsHttpServerTest, ListensOnIpv6Loopback) {
  auto r = MetricsHttpServer::Listen(io_, "[::1]:0", Render());
  if (!r.ok() && r.error().sys_errno != 0 &&
      r.error().message.find(": bind: ") != std::string::npos)
    GTEST_SKIP() << "no IPv6 loopback here: " << r.error().message;
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_NE(0, (*r)->local_port());
}

}  // namespace
}  // namespace supd::metrics
