// `daemon-reexec` through the RequestHandler (the daemon's side is a fake ReexecFn here): who may
// ask, when it is refused, what reaches the daemon, and what `version`/`ping` say of the line.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <boost/asio/io_context.hpp>
#include <filesystem>

#include "lib/control/handler.h"
#include "lib/control/protocol.h"
#include "tests/lib/supervise/fake_host.h"

namespace supd::control {
namespace {

using namespace std::chrono_literals;

class HandlerReexecTest : public ::testing::Test {
 protected:
  HandlerReexecTest() {
    char tmpl[] = "/tmp/supd-handler-reexec-test-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    std::filesystem::create_directories(dir_ + "/units");
    std::filesystem::create_directories(dir_ + "/logs");
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
    EXPECT_TRUE(loaded);
    handler_->SetReady();
  }
  ~HandlerReexecTest() override {
    handler_.reset();
    manager_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  void Poll() {
    for (int i = 0; i < 100 && io_.poll() > 0; ++i) io_.restart();
    io_.restart();
  }

  // A request as a client writes it, from a privileged peer unless told otherwise.
  std::optional<Reply> Call(const std::string& line, bool privileged = true) {
    auto parsed = ParseRequest(line);
    if (auto* e = std::get_if<ProtocolError>(&parsed)) return Reply::Fail(e->code, e->message);
    std::optional<Reply> out;
    Peer peer;
    peer.uid = privileged ? 0 : 1000;
    peer.privileged = privileged;
    handler_->Handle(std::get<Request>(parsed), peer, [&](Reply r) { out = std::move(r); });
    Poll();
    return out;
  }

  // The daemon's side: remembers what it was asked and answers with `answer`, or not at all.
  void FakeDaemon(std::optional<Result<uint64_t>> answer) {
    handler_->SetReexec(
        [this, answer](std::chrono::milliseconds timeout, RequestHandler::ReexecDecided decided) {
          asked_.push_back(timeout);
          if (answer) decided(*answer);
        });
  }

  std::string dir_;
  boost::asio::io_context io_;
  std::unique_ptr<Manager> manager_;
  std::unique_ptr<RequestHandler> handler_;
  std::vector<std::chrono::milliseconds> asked_;
};

TEST_F(HandlerReexecTest, AnswersTheCountBeforeTheExec) {
  FakeDaemon(Result<uint64_t>(3));
  auto r = Call(R"({"id":1,"cmd":"daemon-reexec"})");
  ASSERT_TRUE(r.has_value());
  ASSERT_TRUE(r->ok) << r->message;
  EXPECT_EQ(nlohmann::json({{"reexecs", 3}}), r->result);
  ASSERT_EQ(1u, asked_.size());
  EXPECT_EQ(RequestHandler::kDefaultReexecTimeout, asked_[0]);
}

TEST_F(HandlerReexecTest, TimeoutReachesTheDaemon) {
  FakeDaemon(Result<uint64_t>(0));
  ASSERT_TRUE(Call(R"({"cmd":"daemon-reexec","args":{"timeout_ms":1500}})")->ok);
  ASSERT_EQ(1u, asked_.size());
  EXPECT_EQ(1500ms, asked_[0]);
}

TEST_F(HandlerReexecTest, NoAnswerUntilDecided) {
  FakeDaemon(std::nullopt);
  EXPECT_FALSE(Call(R"({"cmd":"daemon-reexec"})").has_value());
  EXPECT_EQ(1u, asked_.size());
}

TEST_F(HandlerReexecTest, TheDaemonsRefusalIsTheAnswer) {
  FakeDaemon(Result<uint64_t>(
      Error{"daemon-reexec: supd was not at rest within 30s: web.service is starting"}));
  auto r = Call(R"({"cmd":"daemon-reexec"})");
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->ok);
  EXPECT_EQ(kFailed, r->code);
  EXPECT_EQ("daemon-reexec: supd was not at rest within 30s: web.service is starting", r->message);
}

TEST_F(HandlerReexecTest, UnprivilegedIsRefused) {
  FakeDaemon(Result<uint64_t>(0));
  EXPECT_FALSE(IsReadOnlyCommand("daemon-reexec"));  // the server refuses it first
  auto r = Call(R"({"cmd":"daemon-reexec"})", /*privileged=*/false);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(kPermissionDenied, r->code);
  EXPECT_EQ(
      "permission denied: 'daemon-reexec' needs root, supd's own user or the supd group "
      "(you are uid 1000)",
      r->message);
  EXPECT_TRUE(asked_.empty());
}

TEST_F(HandlerReexecTest, RefusedWhileStopping) {
  FakeDaemon(Result<uint64_t>(0));
  handler_->ShuttingDown();
  auto r = Call(R"({"cmd":"daemon-reexec"})");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(kFailed, r->code);
  EXPECT_EQ("daemon-reexec: supd is shutting down", r->message);
  EXPECT_TRUE(asked_.empty());
}

TEST_F(HandlerReexecTest, RefusedWithoutADaemonSide) {
  auto r = Call(R"({"cmd":"daemon-reexec"})");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ("daemon-reexec: not available in this supd", r->message);
}

TEST_F(HandlerReexecTest, BadTimeoutIsABadRequest) {
  FakeDaemon(Result<uint64_t>(0));
  auto r = Call(R"({"cmd":"daemon-reexec","args":{"timeout_ms":"soon"}})");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(kBadRequest, r->code);
  EXPECT_TRUE(asked_.empty());
}

TEST_F(HandlerReexecTest, VersionAndPingCarryTheLine) {
  auto v = Call(R"({"cmd":"version"})");
  ASSERT_TRUE(v.has_value() && v->ok);
  EXPECT_EQ(0u, v->result["reexecs"].get<uint64_t>());
  EXPECT_EQ(manager_->Daemon().start_realtime, v->result["started_realtime"].get<int64_t>());
  handler_->SetDaemonLine(2, 1234567);
  auto p = Call(R"({"cmd":"ping"})");
  ASSERT_TRUE(p.has_value() && p->ok);
  EXPECT_EQ(2u, p->result["reexecs"].get<uint64_t>());
  EXPECT_EQ(1234567, p->result["started_realtime"].get<int64_t>());
}

}  // namespace
}  // namespace supd::control
