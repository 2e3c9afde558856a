// enable, disable, is-enabled, list-dependencies and the status of a target through the
// RequestHandler, against a Manager on fakes of the host (tests/lib/supervise/fake_host.h):
// the answers' shapes and the errors, verbatim.
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
using nlohmann::json;

class HandlerEnableTest : public ::testing::Test {
 protected:
  HandlerEnableTest() {
    char tmpl[] = "/tmp/supd-handler-enable-test-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    units_ = dir_ + "/units";
    std::filesystem::create_directories(units_);
    std::filesystem::create_directories(dir_ + "/logs");
    std::ofstream(units_ + "/web.service")
        << "[Service]\nExecStart=/bin/web\n[Install]\nWantedBy=multi-user.target\n";
    std::ofstream(units_ + "/tool.service") << "[Service]\nExecStart=/bin/tool\n";
    std::ofstream(units_ + "/myapp.target") << "[Unit]\nDescription=My app\nWants=web.service\n";
    // Not the first start on this state directory: no presets enable web.service.
    std::ofstream(dir_ + "/presets-applied") << "applied\n";
  }
  ~HandlerEnableTest() override {
    handler_.reset();
    manager_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  void Start(bool load = true) {
    testing::FakeHost fake(io_);
    procs_ = fake.procs;
    cgroups_ = fake.cgroups;
    auto worker = fake.worker;
    HostParts h = std::move(fake.parts);
    ManagerConfig cfg;
    cfg.units_dir = units_;
    cfg.log_dir = dir_ + "/logs";
    cfg.state_dir = dir_;
    manager_ = std::make_unique<Manager>(io_, cfg, std::move(h));
    handler_ = std::make_unique<RequestHandler>(io_, *manager_, worker);
    if (!load) return;
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

  // Sends one request as a client would write it (so ParseRequest checks it first), and waits
  // for the answer (a start may wait for the log writer's thread to post back).
  Reply Call(const std::string& line) {
    auto parsed = ParseRequest(line);
    if (auto* e = std::get_if<ProtocolError>(&parsed)) return Reply::Fail(e->code, e->message);
    std::optional<Reply> out;
    handler_->Handle(std::get<Request>(parsed), Peer{}, [&](Reply r) { out = std::move(r); });
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!out && std::chrono::steady_clock::now() < deadline) {
      io_.run_for(10ms);
      io_.restart();
    }
    EXPECT_TRUE(out.has_value()) << line;
    return out ? *out : Reply::Fail("none", "no answer");
  }

  // The main process of `pid` exits (as on the SIGTERM of a stop) and leaves its cgroup.
  void Exit(pid_t pid) {
    for (auto& [dir, pids] : cgroups_->members) pids.erase(pid);
    procs_->Exit(pid, ExitStatus::Signal(SIGTERM));
    Poll();
  }

  std::string dir_, units_;
  testing::FakeProcessControl* procs_ = nullptr;
  testing::FakeCgroupControl* cgroups_ = nullptr;
  boost::asio::io_context io_;
  std::unique_ptr<Manager> manager_;
  std::unique_ptr<RequestHandler> handler_;
};

// Refused before the Manager is asked: nothing named, a name supd does not manage, a bad
// option of the jobs of --now.
TEST_F(HandlerEnableTest, ArgumentErrors) {
  ASSERT_NO_FATAL_FAILURE(Start());
  for (const char* cmd : {"enable", "disable", "is-enabled"}) {
    const Reply r = Call(std::string(R"({"cmd":")") + cmd + R"(","args":{}})");
    EXPECT_FALSE(r.ok) << cmd;
    EXPECT_EQ(kBadRequest, r.code) << cmd;
    EXPECT_EQ("no unit named (args.units)", r.message) << cmd;
  }
  Reply r = Call(R"({"cmd":"enable","args":{"units":["web.timer"]}})");
  EXPECT_EQ(kNotFound, r.code);
  EXPECT_EQ("invalid unit name \"web.timer\": only .service, .socket and .target units are managed",
            r.message);
  r = Call(R"({"cmd":"enable","args":{"units":["web"],"now":true,"no_block":"yes"}})");
  EXPECT_EQ(kBadRequest, r.code);
  EXPECT_EQ("\"no_block\" must be a boolean", r.message);
  EXPECT_FALSE(std::filesystem::exists(units_ + "/multi-user.target.wants"));  // nothing done
  r = Call(R"({"cmd":"list-dependencies","args":{}})");
  EXPECT_EQ(kBadRequest, r.code);
  EXPECT_EQ("no unit named (args.unit)", r.message);
  r = Call(R"({"cmd":"list-dependencies","args":{"unit":"a/b"}})");
  EXPECT_EQ(kNotFound, r.code);
  EXPECT_EQ("invalid unit name \"a/b\": it must not contain '/', spaces or control characters",
            r.message);
  r = Call(R"({"cmd":"list-dependencies","args":{"unit":"web","all":"yes"}})");
  EXPECT_EQ(kBadRequest, r.code);
  EXPECT_EQ("\"all\" must be a boolean", r.message);
}

// Needs the Manager's Enable/Disable/IsEnabled (branch deps).
TEST_F(HandlerEnableTest, EnableIsEnabledDisable) {
  ASSERT_NO_FATAL_FAILURE(Start());
  Reply r = Call(R"({"cmd":"is-enabled","args":{"units":["web","tool"]}})");
  ASSERT_TRUE(r.ok) << r.message;
  EXPECT_EQ(r.result, json::parse(R"({"units":[{"unit":"web.service","state":"disabled"},
                                               {"unit":"tool.service","state":"static"}]})"));
  const std::string link = units_ + "/multi-user.target.wants/web.service";
  r = Call(R"({"cmd":"enable","args":{"units":["web"]}})");
  ASSERT_TRUE(r.ok) << r.message;
  ASSERT_EQ(1u, r.result["changes"].size()) << r.result;
  EXPECT_EQ(true, r.result["changes"][0]["created"]);
  EXPECT_EQ(link, r.result["changes"][0]["path"]);
  EXPECT_TRUE(r.result["changes"][0]["target"].is_string());
  EXPECT_FALSE(r.result.contains("notes"));  // no --now: no jobs
  EXPECT_TRUE(std::filesystem::is_symlink(link));
  // Already enabled: no change.
  r = Call(R"({"cmd":"enable","args":{"units":"web.service"}})");
  ASSERT_TRUE(r.ok) << r.message;
  EXPECT_EQ(json::array(), r.result["changes"]);
  r = Call(R"({"cmd":"is-enabled","args":{"units":["web"]}})");
  EXPECT_EQ(r.result, json::parse(R"({"units":[{"unit":"web.service","state":"enabled"}]})"));
  r = Call(R"({"cmd":"disable","args":{"units":["web"]}})");
  ASSERT_TRUE(r.ok) << r.message;
  ASSERT_EQ(1u, r.result["changes"].size()) << r.result;
  EXPECT_EQ(false, r.result["changes"][0]["created"]);
  EXPECT_EQ(link, r.result["changes"][0]["path"]);
  EXPECT_FALSE(std::filesystem::exists(link));
}

// Needs the Manager's IsEnabled (branch deps).
TEST_F(HandlerEnableTest, IsEnabledOfAUnitWithoutAFile) {
  ASSERT_NO_FATAL_FAILURE(Start());
  const Reply r = Call(R"({"cmd":"is-enabled","args":{"units":["web","nope"]}})");
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(kNotFound, r.code);
  EXPECT_EQ("Unit nope.service not found.", r.message);
}

// Needs the Manager's Enable and a start through it (branch deps).
TEST_F(HandlerEnableTest, EnableNowStartsAndAnswersAsStart) {
  ASSERT_NO_FATAL_FAILURE(Start());
  Reply r = Call(R"({"cmd":"enable","args":{"units":["web"],"now":true}})");
  ASSERT_TRUE(r.ok) << r.message;
  EXPECT_EQ(1u, r.result["changes"].size()) << r.result;
  EXPECT_EQ(json::array(), r.result["notes"]);
  r = Call(R"({"cmd":"status","args":{"services":["web"]}})");
  ASSERT_TRUE(r.ok) << r.message;
  EXPECT_EQ("running", r.result[0]["state"]);
  EXPECT_EQ("enabled", r.result[0]["enable_state"]);
  const pid_t pid = r.result[0]["main_pid"].get<pid_t>();
  // disable --now: the stop is answered once the main process has exited.
  auto parsed = ParseRequest(R"({"cmd":"disable","args":{"units":["web"],"now":true}})");
  std::optional<Reply> out;
  handler_->Handle(std::get<Request>(parsed), Peer{}, [&](Reply rep) { out = std::move(rep); });
  Poll();
  Exit(pid);
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!out && std::chrono::steady_clock::now() < deadline) {
    io_.run_for(10ms);
    io_.restart();
  }
  ASSERT_TRUE(out.has_value());
  r = *out;
  ASSERT_TRUE(r.ok) << r.message;
  EXPECT_EQ(1u, r.result["changes"].size()) << r.result;
  r = Call(R"({"cmd":"status","args":{"services":["web"]}})");
  EXPECT_EQ("stopped", r.result[0]["state"]);
}

// Needs the Manager's ListDependencies and targets (branch deps).
TEST_F(HandlerEnableTest, ListDependenciesAndTargetStatus) {
  ASSERT_NO_FATAL_FAILURE(Start());
  Reply r = Call(R"({"cmd":"list-dependencies","args":{"unit":"myapp.target"}})");
  ASSERT_TRUE(r.ok) << r.message;
  EXPECT_EQ(r.result, json::parse(R"({"unit":"myapp.target","state":"inactive","children":[
                                       {"unit":"web.service","state":"stopped","children":[]}]})"));
  r = Call(R"({"cmd":"list-dependencies","args":{"unit":"web","reverse":true}})");
  ASSERT_TRUE(r.ok) << r.message;
  EXPECT_EQ("web.service", r.result["unit"]);
  ASSERT_EQ(1u, r.result["children"].size()) << r.result;
  EXPECT_EQ("myapp.target", r.result["children"][0]["unit"]);
  r = Call(R"({"cmd":"status","args":{"services":["myapp.target"]}})");
  ASSERT_TRUE(r.ok) << r.message;
  ASSERT_EQ(1u, r.result.size());
  EXPECT_EQ("target", r.result[0]["unit_type"]);
  EXPECT_EQ("My app", r.result[0]["description"]);
  EXPECT_EQ("inactive", r.result[0]["state"]);
  EXPECT_EQ(json::parse(R"([{"unit":"web.service","state":"stopped"}])"), r.result[0]["members"]);
}

// is-system-running is answered at once, also before the units are loaded (a probe asks it
// while a killed predecessor's services are being stopped); the others wait.
TEST_F(HandlerEnableTest, IsSystemRunningIsAnsweredBeforeTheUnitsAreLoaded) {
  ASSERT_NO_FATAL_FAILURE(Start(/*load=*/false));
  Reply r = Call(R"({"cmd":"is-system-running","args":{}})");
  ASSERT_TRUE(r.ok) << r.message;
  EXPECT_EQ(json({{"state", "initializing"}}), r.result);
  bool version_answered = false;
  handler_->Handle(Request{nullptr, "version", json::object()}, Peer{},
                   [&](Reply) { version_answered = true; });
  bool loaded = false;
  manager_->LoadUnits([&] { loaded = true; });
  Poll();
  ASSERT_TRUE(loaded);
  EXPECT_FALSE(version_answered) << "requests other than is-system-running wait for SetReady";
  r = Call(R"({"cmd":"is-system-running","args":{}})");
  EXPECT_EQ(json({{"state", "running"}}), r.result) << "nothing to start at boot";
  handler_->SetReady();
  EXPECT_TRUE(version_answered);
  r = Call(R"({"cmd":"start","args":{"services":["tool"]}})");
  ASSERT_TRUE(r.ok) << r.message;
  auto snap = manager_->Snapshot({"tool"});
  ASSERT_TRUE(snap.ok());
  const pid_t tool = *std::get<ServiceSnapshot>(snap->at(0)).main_pid;
  for (auto& [dir, pids] : cgroups_->members) pids.erase(tool);
  procs_->Exit(tool, ExitStatus::Code(1));
  Poll();
  r = Call(R"({"cmd":"is-system-running","args":{}})");
  EXPECT_EQ(json({{"state", "degraded"}}), r.result);
}

}  // namespace
}  // namespace supd::control
