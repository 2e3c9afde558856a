// EventStream against a Manager on the fake host (tests/lib/supervise/fake_host.h): the
// observer calls are made directly where the shape of one event is the point, and come from
// the Manager where the order of a real crash and restart is.
#include "lib/control/event_stream.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <fstream>

#include "lib/control/handler.h"
#include "lib/log/service_log.h"
#include "tests/lib/supervise/fake_host.h"

namespace supd::control {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using supd::testing::FakeCgroupControl;
using supd::testing::FakeLoop;
using supd::testing::FakeProcessControl;
using supd::testing::FakeWorker;

constexpr const char* kTime = "2026-12-03T07:01:02.123456Z";

// What one subscriber was sent, and its end of the connection.
struct Client {
  std::vector<Reply> replies;
  std::shared_ptr<ConnectionEnd> end = std::make_shared<ConnectionEnd>();
  Peer peer() const {
    Peer p;
    p.end = end;
    return p;
  }
  // Every event of every reply so far, in order.
  std::vector<json> Events() const {
    std::vector<json> out;
    for (const Reply& r : replies)
      if (r.ok && r.result.contains("events"))
        for (const json& e : r.result["events"]) out.push_back(e);
    return out;
  }
  std::vector<std::string> Kinds() const {
    std::vector<std::string> out;
    for (const json& e : Events()) {
      std::string k = e.value("event", "");
      if (k == "state") k += " " + e.value("to", "");
      if (k == "ready") k += e.value("ready", false) ? " yes" : " no";
      out.push_back(k);
    }
    return out;
  }
};

class EventStreamTest : public ::testing::Test {
 protected:
  EventStreamTest() {
    char tmpl[] = "/tmp/supd-event-stream-test-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    std::filesystem::create_directories(dir_ + "/units");
    std::filesystem::create_directories(dir_ + "/logs");
  }
  ~EventStreamTest() override {
    stream_.reset();
    handler_.reset();
    manager_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  void Unit(const std::string& name, const std::string& text) {
    const std::string path = dir_ + "/units/" + name;
    std::ofstream(path) << text;
    // Group- and world-writable unit files are refused (unit_trust.h).
    std::filesystem::permissions(
        path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write |
                  std::filesystem::perms::group_read | std::filesystem::perms::others_read);
  }

  void Start() {
    testing::FakeHost fake(io_);
    loop_ = fake.loop;
    procs_ = fake.procs;
    cgroups_ = fake.cgroups;
    HostParts h = std::move(fake.parts);
    ManagerConfig cfg;
    cfg.units_dir = dir_ + "/units";
    cfg.log_dir = dir_ + "/logs";
    cfg.state_dir = dir_;
    manager_ = std::make_unique<Manager>(io_, cfg, std::move(h));
    bool loaded = false;
    manager_->LoadUnits([&] { loaded = true; });
    Poll();
    ASSERT_TRUE(loaded);
    const int64_t now = *ParseRfc3339(kTime);
    stream_ = std::make_unique<EventStream>(io_, *manager_, [now] { return now; });
  }

  void Poll() {
    for (int i = 0; i < 100 && io_.poll() > 0; ++i) io_.restart();
    io_.restart();
  }

  // Runs what is posted until `done` holds, for at most 10 s (answers wait for the log
  // writer's thread, which posts back).
  bool PollUntil(const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      io_.run_for(10ms);
      io_.restart();
    }
    return done();
  }

  void Subscribe(Client& c, const std::vector<std::string>& units = {}) {
    stream_->Handle(units, c.peer(), [&c](const Reply& r) { c.replies.push_back(r); });
  }

  std::string dir_;
  boost::asio::io_context io_;
  FakeLoop* loop_ = nullptr;
  FakeProcessControl* procs_ = nullptr;
  FakeCgroupControl* cgroups_ = nullptr;
  std::unique_ptr<Manager> manager_;
  std::unique_ptr<RequestHandler> handler_;
  std::unique_ptr<EventStream> stream_;
};

TEST_F(EventStreamTest, TheFirstReplyAcknowledgesTheSubscription) {
  ASSERT_NO_FATAL_FAILURE(Start());
  Client c;
  Subscribe(c, {"web.service"});
  ASSERT_EQ(c.replies.size(), 1u) << "acknowledged before anything happens";
  EXPECT_TRUE(c.replies[0].ok);
  EXPECT_TRUE(c.replies[0].more);
  EXPECT_EQ(c.replies[0].result, json::parse(R"j({"subscribed":true,"units":["web.service"]})j"));
  EXPECT_EQ(stream_->subscribers(), 1u);
}

TEST_F(EventStreamTest, EachKindHasItsFields) {
  ASSERT_NO_FATAL_FAILURE(Start());
  Client c;
  Subscribe(c);
  Cause exited;
  exited.kind = Cause::Kind::kMainExited;
  exited.exit = ExitStatus::Code(1);
  stream_->OnStateChange("web.service", State::kRunning, State::kBackoff, exited,
                         ServiceResult::kExitCode);
  LastExit ex;
  ex.pid = 1234;
  ex.status = ExitStatus::Code(1);
  ex.reason = "exited with status 1";
  stream_->OnExit("web.service", ex);
  LastExit killed;
  killed.pid = 1235;
  killed.status = ExitStatus::Signal(SIGSEGV, /*core=*/true);
  killed.reason = "killed by signal SIGSEGV (core dumped)";
  stream_->OnExit("web.service", killed);
  stream_->OnRestart("web.service", RestartReason::kExit);
  stream_->OnReadyChange("web.service", true);
  ReloadSummary reload;
  reload.added = {"new.service"};
  reload.failed = {"bad.service"};
  stream_->OnReload(reload);
  stream_->OnSocketChange("web.socket", SocketState::kFailed, "bind 127.0.0.1:80: denied");
  stream_->OnSocketChange("web.socket", SocketState::kListening, "");
  Poll();
  ASSERT_EQ(c.replies.size(), 2u) << "one reply for the batch of one loop turn";
  EXPECT_FALSE(c.replies[1].result.contains("skipped"));
  const std::vector<json> want = {
      json::parse(R"j({"time":"2026-12-03T07:01:02.123456Z","unit":"web.service","event":"state",
        "from":"running","to":"backoff","result":"exit-code",
        "cause":"main process exited with status 1"})j"),
      json::parse(R"j({"time":"2026-12-03T07:01:02.123456Z","unit":"web.service","event":"exit",
        "pid":1234,"code":1,"reason":"exited with status 1"})j"),
      json::parse(R"j({"time":"2026-12-03T07:01:02.123456Z","unit":"web.service","event":"exit",
        "pid":1235,"signal":"SIGSEGV","core_dumped":true,
        "reason":"killed by signal SIGSEGV (core dumped)"})j"),
      json::parse(R"j({"time":"2026-12-03T07:01:02.123456Z","unit":"web.service",
        "event":"restart","reason":"exit"})j"),
      json::parse(R"j({"time":"2026-12-03T07:01:02.123456Z","unit":"web.service",
        "event":"ready","ready":true})j"),
      json::parse(R"j({"time":"2026-12-03T07:01:02.123456Z","event":"reload",
        "added":["new.service"],"changed":[],"removed":[],"failed":["bad.service"]})j"),
      json::parse(R"j({"time":"2026-12-03T07:01:02.123456Z","unit":"web.socket","event":"socket",
        "to":"failed","error":"bind 127.0.0.1:80: denied"})j"),
      json::parse(R"j({"time":"2026-12-03T07:01:02.123456Z","unit":"web.socket","event":"socket",
        "to":"listening"})j"),
  };
  EXPECT_EQ(c.Events(), want);
}

TEST_F(EventStreamTest, AnOomKillIsAnExitAndThenAnOomEvent) {
  ASSERT_NO_FATAL_FAILURE(Start());
  Client c;
  Subscribe(c);
  LastExit ex;
  ex.pid = 77;
  ex.status = ExitStatus::Signal(SIGKILL);
  ex.oom = true;
  ex.reason = "killed by the OOM killer (MemoryMax=64M)";
  stream_->OnExit("hog.service", ex);
  Poll();
  const std::vector<json> want = {
      json::parse(R"j({"time":"2026-12-03T07:01:02.123456Z","unit":"hog.service","event":"exit",
        "pid":77,"signal":"SIGKILL","oom":true,
        "reason":"killed by the OOM killer (MemoryMax=64M)"})j"),
      json::parse(R"j({"time":"2026-12-03T07:01:02.123456Z","unit":"hog.service","event":"oom",
        "pid":77,"reason":"killed by the OOM killer (MemoryMax=64M)"})j"),
  };
  EXPECT_EQ(c.Events(), want);
}

TEST_F(EventStreamTest, AStartLimitHitFollowsItsStateChange) {
  ASSERT_NO_FATAL_FAILURE(Start());
  Client c;
  Subscribe(c);
  Cause limit;
  limit.kind = Cause::Kind::kStartLimitHit;
  limit.count = 5;
  limit.burst = 5;
  limit.span = Usec(10'000'000);
  stream_->OnStateChange("web.service", State::kBackoff, State::kFailed, limit,
                         ServiceResult::kStartLimitHit);
  // Any other failure is no start-limit-hit.
  Cause exited;
  exited.kind = Cause::Kind::kMainExited;
  exited.exit = ExitStatus::Code(3);
  stream_->OnStateChange("web.service", State::kRunning, State::kFailed, exited,
                         ServiceResult::kExitCode);
  Poll();
  const std::vector<json> events = c.Events();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0]["event"], "state");
  EXPECT_EQ(events[0]["result"], "start-limit-hit");
  EXPECT_EQ(events[1], json::parse(R"j({"time":"2026-12-03T07:01:02.123456Z",
    "unit":"web.service","event":"start-limit-hit",
    "cause":"start limit hit: 5 starts within 10s (StartLimitBurst=5, StartLimitIntervalSec=10s)"})j"));
  EXPECT_EQ(events[1]["cause"], events[0]["cause"]);
  EXPECT_EQ(events[2]["event"], "state");
}

TEST_F(EventStreamTest, AStartSaysNoCause) {
  ASSERT_NO_FATAL_FAILURE(Start());
  Client c;
  Subscribe(c);
  Cause exited;
  exited.kind = Cause::Kind::kMainExited;
  exited.exit = ExitStatus::Code(1);
  stream_->OnStateChange("web.service", State::kBackoff, State::kStarting, exited,
                         ServiceResult::kExitCode);
  Poll();
  ASSERT_EQ(c.Events().size(), 1u);
  EXPECT_FALSE(c.Events()[0].contains("cause")) << c.Events()[0];
}

TEST_F(EventStreamTest, ASubscriberSeesOnlyItsUnitsAndEveryReload) {
  ASSERT_NO_FATAL_FAILURE(Start());
  Client web, all;
  Subscribe(web, {"web.service", "web.socket"});
  Subscribe(all);
  stream_->OnRestart("db.service", RestartReason::kSignal);
  stream_->OnRestart("web.service", RestartReason::kWatchdog);
  stream_->OnSocketChange("web.socket", SocketState::kStopped, "");
  stream_->OnReload(ReloadSummary{});
  stream_->OnReadyChange("db.service", false);
  Poll();
  EXPECT_EQ(web.Kinds(), (std::vector<std::string>{"restart", "socket", "reload"}));
  EXPECT_EQ(all.Kinds(),
            (std::vector<std::string>{"restart", "restart", "socket", "reload", "ready no"}));
}

// A reader whose socket is kMaxUnsent behind gets nothing queued: its events are counted, and
// the count goes out once it catches up, before what comes next.
TEST_F(EventStreamTest, ASlowReaderIsToldHowManyEventsItMissed) {
  ASSERT_NO_FATAL_FAILURE(Start());
  Client slow, fast;
  Subscribe(slow);
  Subscribe(fast);
  slow.end->set_unsent(EventStream::kMaxUnsent);
  for (int i = 0; i < 5; ++i) stream_->OnRestart("web.service", RestartReason::kExit);
  Poll();
  EXPECT_EQ(slow.replies.size(), 1u) << "only the acknowledgement";
  EXPECT_EQ(fast.Events().size(), 5u);
  // Still behind: more are counted.
  stream_->OnReadyChange("web.service", false);
  Poll();
  EXPECT_EQ(slow.replies.size(), 1u);
  // Caught up: the count is sent at once, with no event of its own.
  slow.end->set_unsent(EventStream::kMaxUnsent - 1);
  Poll();
  ASSERT_EQ(slow.replies.size(), 2u);
  EXPECT_EQ(slow.replies[1].result, json::parse(R"j({"events":[],"skipped":6})j"));
  // And from then on every event arrives, with no count.
  stream_->OnReadyChange("web.service", true);
  Poll();
  ASSERT_EQ(slow.replies.size(), 3u);
  EXPECT_EQ(slow.Kinds(), (std::vector<std::string>{"ready yes"}));
  EXPECT_FALSE(slow.replies[2].result.contains("skipped"));
}

// A reader that falls behind while its batch waits: the batch is counted at the flush.
TEST_F(EventStreamTest, ABatchForAReaderThatFellBehindIsCounted) {
  ASSERT_NO_FATAL_FAILURE(Start());
  Client c;
  Subscribe(c);
  stream_->OnRestart("web.service", RestartReason::kExit);
  stream_->OnRestart("web.service", RestartReason::kExit);
  c.end->set_unsent(EventStream::kMaxUnsent + 10);
  stream_->OnRestart("web.service", RestartReason::kExit);
  Poll();
  EXPECT_EQ(c.replies.size(), 1u);
  c.end->set_unsent(0);
  stream_->OnRestart("web.service", RestartReason::kOom);
  Poll();
  ASSERT_EQ(c.replies.size(), 2u);
  EXPECT_EQ(c.replies[1].result.value("skipped", 0u), 3u);
  EXPECT_EQ(c.Events().size(), 1u);
  EXPECT_EQ(c.Events()[0]["reason"], "oom");
}

// A loop turn with more than kBatchBytes of events sends them in several replies, none over
// the batch size by more than one event.
TEST_F(EventStreamTest, ALargeTurnGoesOutInBatches) {
  ASSERT_NO_FATAL_FAILURE(Start());
  Client c;
  Subscribe(c);
  ReloadSummary big;
  for (int i = 0; i < 100; ++i)
    big.added.push_back("unit-with-a-long-name-" + std::to_string(i) + ".service");
  const size_t one = json(big.added).dump().size();
  const size_t n = 3 * EventStream::kBatchBytes / one;
  for (size_t i = 0; i < n; ++i) stream_->OnReload(big);
  EXPECT_GE(c.replies.size(), 3u) << "sent before the turn ends";
  Poll();
  EXPECT_EQ(c.Events().size(), n);
  for (size_t i = 1; i < c.replies.size(); ++i)
    EXPECT_LT(c.replies[i].result.dump().size(), EventStream::kBatchBytes + 2 * one);
}

TEST_F(EventStreamTest, AHangUpEndsTheSubscription) {
  ASSERT_NO_FATAL_FAILURE(Start());
  Client c;
  Subscribe(c);
  stream_->OnRestart("web.service", RestartReason::kExit);
  c.end->Close();
  Poll();
  EXPECT_EQ(stream_->subscribers(), 0u);
  EXPECT_EQ(c.replies.size(), 1u) << "nothing sent after the hang-up";
  stream_->OnRestart("web.service", RestartReason::kExit);
  Poll();
  EXPECT_EQ(c.replies.size(), 1u);
}

TEST_F(EventStreamTest, SubscribersAreCapped) {
  ASSERT_NO_FATAL_FAILURE(Start());
  std::vector<Client> clients(EventStream::kMaxSubscribers + 1);
  for (Client& c : clients) Subscribe(c);
  EXPECT_EQ(stream_->subscribers(), EventStream::kMaxSubscribers);
  const Reply& refused = clients.back().replies.at(0);
  EXPECT_FALSE(refused.ok);
  EXPECT_EQ(refused.code, kBusy);
  EXPECT_EQ(refused.message, "too many event subscribers (256); try again later");
  // A place frees up when one hangs up.
  clients[0].end->Close();
  Poll();
  Client late;
  Subscribe(late);
  EXPECT_TRUE(late.replies.at(0).ok);
}

// The order of a crash with Restart= as the Manager tells it, and a stop.
TEST_F(EventStreamTest, ACrashRestartAndStopInOrder) {
  Unit("web.service", "[Service]\nExecStart=/bin/web\nRestart=on-failure\nRestartSec=1s\n");
  ASSERT_NO_FATAL_FAILURE(Start());
  Client c;
  Subscribe(c, {"web.service"});
  bool started = false;
  manager_->Start("web.service", {}, [&](const JobResult&) { started = true; });
  ASSERT_TRUE(PollUntil([&] { return started; }));
  auto snap = manager_->Snapshot({"web.service"});
  ASSERT_TRUE(snap.ok());
  const pid_t pid = *std::get<ServiceSnapshot>(snap->at(0)).main_pid;
  for (auto& [dir, pids] : cgroups_->members) pids.erase(pid);
  procs_->Exit(pid, ExitStatus::Code(1));
  Poll();
  loop_->Advance(1s);
  Poll();
  bool stopped = false;
  manager_->Stop("web.service", {}, [&](const JobResult&) { stopped = true; });
  Poll();
  snap = manager_->Snapshot({"web.service"});
  const pid_t second = *std::get<ServiceSnapshot>(snap->at(0)).main_pid;
  for (auto& [dir, pids] : cgroups_->members) pids.erase(second);
  procs_->Exit(second, ExitStatus::Signal(SIGTERM));
  ASSERT_TRUE(PollUntil([&] { return stopped; }));
  // A simple service is running once spawned (no "starting"); after the crash its leftovers
  // are stopped (stopping) before the restart delay (backoff).
  EXPECT_EQ(c.Kinds(), (std::vector<std::string>{
                           "state running", "ready yes", "exit", "state stopping", "ready no",
                           "state backoff", "restart", "state running", "ready yes",
                           "state stopping", "ready no", "exit", "state stopped"}));
}

// Through the request handler: an unknown unit is refused before anything is streamed.
TEST_F(EventStreamTest, AnUnknownUnitIsRefused) {
  Unit("web.service", "[Service]\nExecStart=/bin/web\n");
  ASSERT_NO_FATAL_FAILURE(Start());
  handler_ = std::make_unique<RequestHandler>(io_, *manager_, std::make_shared<FakeWorker>(io_));
  handler_->SetReady();
  std::vector<Reply> replies;
  Client c;
  Request req{1, "events", json{{"units", {"web", "nope"}}}};
  handler_->Handle(req, c.peer(), [&](const Reply& r) { replies.push_back(r); });
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_FALSE(replies[0].ok);
  EXPECT_EQ(replies[0].code, kNotFound);
  EXPECT_EQ(replies[0].message,
            "Unit nope.service not found (no unit file in " + dir_ + "/units).");
  req.args = json{{"units", {"a/b"}}};
  replies.clear();
  handler_->Handle(req, c.peer(), [&](const Reply& r) { replies.push_back(r); });
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].message,
            "invalid unit name \"a/b\": it must not contain '/', spaces or control characters");
  req.args = json{{"units", {"web"}}};
  replies.clear();
  handler_->Handle(req, c.peer(), [&](const Reply& r) { replies.push_back(r); });
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_TRUE(replies[0].ok);
  EXPECT_EQ(replies[0].result["units"], json::parse(R"j(["web.service"])j"));
}

TEST(EventArgs, ArgumentsAreChecked) {
  auto r = ParseRequest(R"j({"cmd":"events","args":{"units":[1]}})j");
  ASSERT_TRUE(std::holds_alternative<ProtocolError>(r));
  EXPECT_EQ(std::get<ProtocolError>(r).message,
            "\"units\" must be a unit name or a list of names");
  EXPECT_TRUE(std::holds_alternative<Request>(ParseRequest(R"j({"cmd":"events"})j")));
  EXPECT_TRUE(IsReadOnlyCommand("events"));
}

TEST(FormatEventLine, OneLinePerKind) {
  auto line = [](const char* text) { return FormatEventLine(json::parse(text)); };
  EXPECT_EQ(line(R"j({"time":"T","unit":"web.service","event":"state","from":"running",
                     "to":"backoff","result":"exit-code",
                     "cause":"main process exited with status 1"})j"),
            "T web.service state running -> backoff (main process exited with status 1)");
  EXPECT_EQ(line(R"j({"time":"T","unit":"web.service","event":"state","from":"backoff",
                     "to":"starting","result":"exit-code"})j"),
            "T web.service state backoff -> starting");
  EXPECT_EQ(line(R"j({"time":"T","unit":"web.service","event":"exit","pid":1234,"code":1,
                     "reason":"exited with status 1"})j"),
            "T web.service exit pid 1234 status 1");
  EXPECT_EQ(line(R"j({"time":"T","unit":"web.service","event":"exit","pid":9,
                     "signal":"SIGSEGV","core_dumped":true,
                     "reason":"killed by signal SIGSEGV (core dumped)"})j"),
            "T web.service exit pid 9 signal SIGSEGV (core dumped)");
  EXPECT_EQ(line(R"j({"time":"T","unit":"hog.service","event":"exit","pid":7,"signal":"SIGKILL",
                     "oom":true,"reason":"killed by the OOM killer (MemoryMax=64M)"})j"),
            "T hog.service exit pid 7 signal SIGKILL (killed by the OOM killer (MemoryMax=64M))");
  EXPECT_EQ(line(R"j({"time":"T","unit":"hog.service","event":"oom","pid":7,
                     "reason":"killed by the OOM killer (MemoryMax=64M)"})j"),
            "T hog.service oom pid 7 (killed by the OOM killer (MemoryMax=64M))");
  EXPECT_EQ(line(R"j({"time":"T","unit":"web.service","event":"restart","reason":"exit"})j"),
            "T web.service restart (exit)");
  EXPECT_EQ(line(R"j({"time":"T","unit":"web.service","event":"ready","ready":true})j"),
            "T web.service ready yes");
  EXPECT_EQ(line(R"j({"time":"T","unit":"web.service","event":"ready","ready":false})j"),
            "T web.service ready no");
  EXPECT_EQ(line(R"j({"time":"T","unit":"web.service","event":"start-limit-hit",
                     "cause":"start limit hit (5 starts within 10s)"})j"),
            "T web.service start-limit-hit (start limit hit (5 starts within 10s))");
  EXPECT_EQ(line(R"j({"time":"T","event":"reload","added":["a.service","b.service"],
                     "changed":[],"removed":["c.socket"],"failed":[]})j"),
            "T reload added a.service, b.service; removed c.socket");
  EXPECT_EQ(line(R"j({"time":"T","event":"reload","added":[],"changed":[],"removed":[],
                     "failed":[]})j"),
            "T reload (no changes)");
  EXPECT_EQ(line(R"j({"time":"T","unit":"web.socket","event":"socket","to":"failed",
                     "error":"bind: denied"})j"),
            "T web.socket socket failed (bind: denied)");
  EXPECT_EQ(line(R"j({"time":"T","unit":"web.socket","event":"socket","to":"listening"})j"),
            "T web.socket socket listening");
  // From a newer supd: shown, not lost.
  EXPECT_EQ(line(R"j({"time":"T","unit":"x.service","event":"probe","up":false})j"),
            "T x.service probe {\"up\":false}");
  // Wrong types show as empty, never throw.
  EXPECT_EQ(line(R"j({"time":1,"event":"exit","pid":"x","code":null,"reason":3})j"),
            " exit pid  status ");
}

}  // namespace
}  // namespace supd::control
