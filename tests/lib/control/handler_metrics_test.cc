// The `metrics` command through the RequestHandler, against a Manager on fakes of the host
// (tests/lib/supervise/fake_host.h): what supctl metrics prints, and its argument errors.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <fstream>

#include "lib/control/handler.h"
#include "lib/control/protocol.h"
#include "tests/lib/supervise/fake_host.h"

namespace supd::control {
namespace {

using namespace std::chrono_literals;

class HandlerMetricsTest : public ::testing::Test {
 protected:
  HandlerMetricsTest() {
    char tmpl[] = "/tmp/supd-handler-metrics-test-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    std::filesystem::create_directories(dir_ + "/units");
    std::filesystem::create_directories(dir_ + "/logs");
    std::ofstream(dir_ + "/units/web.service")
        << "[Unit]\nDescription=the \"web\"\n[Service]\nExecStart=/bin/web\n";
    std::ofstream(dir_ + "/units/broken.service") << "[Service]\nType=forking\nExecStart=/bin/x\n";
  }
  ~HandlerMetricsTest() override {
    handler_.reset();
    manager_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  void Start() {
    testing::FakeHost fake(io_);
    auto worker = fake.worker;
    HostParts h = std::move(fake.parts);
    ManagerConfig cfg;
    cfg.units_dir = dir_ + "/units";
    cfg.log_dir = dir_ + "/logs";
    cfg.state_dir = dir_;
    manager_ = std::make_unique<Manager>(io_, cfg, std::move(h));
    handler_ = std::make_unique<RequestHandler>(io_, *manager_, worker);
    bool loaded = false;
    manager_->LoadUnits([&] { loaded = true; });
    Poll();
    ASSERT_TRUE(loaded);
    handler_->SetReady();
  }

  void Poll() {
    for (int i = 0; i < 100 && io_.poll() > 0; ++i) io_.restart();
    io_.restart();
  }

  // Sends one request as a client would write it (so ParseRequest checks it first).
  Reply Call(const std::string& line) {
    auto parsed = ParseRequest(line);
    if (auto* e = std::get_if<ProtocolError>(&parsed)) return Reply::Fail(e->code, e->message);
    std::optional<Reply> out;
    handler_->Handle(std::get<Request>(parsed), Peer{}, [&](Reply r) { out = std::move(r); });
    Poll();
    EXPECT_TRUE(out.has_value()) << line;
    return out ? *out : Reply::Fail("none", "no answer");
  }

  std::string dir_;
  boost::asio::io_context io_;
  std::unique_ptr<Manager> manager_;
  std::unique_ptr<RequestHandler> handler_;
};

TEST_F(HandlerMetricsTest, TextByDefault) {
  ASSERT_NO_FATAL_FAILURE(Start());
  const Reply r = Call(R"({"cmd":"metrics"})");
  ASSERT_TRUE(r.ok) << r.message;
  EXPECT_EQ("text/plain; version=0.0.4; charset=utf-8", r.result["content_type"]);
  const std::string text = r.result["text"];
  for (const std::string want : {
           "\nsupd_unit_state{unit=\"web.service\",state=\"stopped\"} 1\n",
           "\nsupd_unit_info{unit=\"web.service\",type=\"simple\",description=\"the \\\"web\\\"\"} "
           "1\n",
           "\nsupd_unit_restarts_total{unit=\"web.service\",reason=\"exit\"} 0\n",
           // The unit that never loaded: its state only.
           "\nsupd_unit_state{unit=\"broken.service\",state=\"stopped\"} 1\n",
           "\nsupd_units{state=\"stopped\"} 2\n",
           "\nsupd_build_info{version=\"" SUPD_VERSION "\"} 1\n",
           "\nprocess_open_fds ",
       })
    EXPECT_NE(std::string::npos, text.find(want)) << want << "\nin:\n" << text;
  EXPECT_EQ(std::string::npos, text.find("supd_unit_info{unit=\"broken.service\"")) << text;
  EXPECT_TRUE(text.ends_with("\n"));
  EXPECT_FALSE(text.ends_with("\n\n"));
}

// The exposition is taken at the request: a service started since shows as running.
TEST_F(HandlerMetricsTest, ShowsTheStateNow) {
  ASSERT_NO_FATAL_FAILURE(Start());
  std::optional<JobResult> started;
  manager_->Start("web.service", {}, [&](JobResult r) { started = std::move(r); });
  // The answer may wait for the log writer's thread to post back: poll for a while.
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!started && std::chrono::steady_clock::now() < deadline) {
    io_.run_for(10ms);
    io_.restart();
  }
  ASSERT_TRUE(started && started->ok());
  const Reply r = Call(R"({"cmd":"metrics"})");
  ASSERT_TRUE(r.ok) << r.message;
  const std::string text = r.result["text"];
  EXPECT_NE(std::string::npos,
            text.find("\nsupd_unit_state{unit=\"web.service\",state=\"running\"} 1\n"))
      << text;
  EXPECT_NE(std::string::npos, text.find("\nsupd_units{state=\"running\"} 1\n")) << text;
}

TEST_F(HandlerMetricsTest, OpenMetricsWhenAsked) {
  ASSERT_NO_FATAL_FAILURE(Start());
  const Reply r = Call(R"({"cmd":"metrics","args":{"format":"openmetrics"}})");
  ASSERT_TRUE(r.ok) << r.message;
  EXPECT_EQ("application/openmetrics-text; version=1.0.0; charset=utf-8", r.result["content_type"]);
  const std::string text = r.result["text"];
  EXPECT_TRUE(text.ends_with("\n# EOF\n")) << text;
  EXPECT_NE(std::string::npos,
            text.find("\nsupd_unit_state{unit=\"web.service\",supd_unit_state=\"stopped\"} 1\n"))
      << text;
  EXPECT_EQ("text/plain; version=0.0.4; charset=utf-8",
            Call(R"({"cmd":"metrics","args":{"format":"text"}})").result["content_type"]);
}

TEST_F(HandlerMetricsTest, BadFormatIsRefused) {
  ASSERT_NO_FATAL_FAILURE(Start());
  Reply r = Call(R"({"cmd":"metrics","args":{"format":"xml"}})");
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(kBadRequest, r.code);
  EXPECT_EQ("metrics: unknown format \"xml\" (\"text\" or \"openmetrics\")", r.message);
  r = Call(R"({"cmd":"metrics","args":{"format":1}})");
  EXPECT_EQ(kBadRequest, r.code);
  EXPECT_EQ("metrics: \"format\" must be a string", r.message);
}

TEST(ProtocolMetricsTest, AnyoneMayReadMetrics) {
  EXPECT_TRUE(IsKnownCommand("metrics"));
  EXPECT_TRUE(IsReadOnlyCommand("metrics"));
}

}  // namespace
}  // namespace supd::control
