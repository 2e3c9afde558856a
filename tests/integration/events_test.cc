// `supctl events` and the protocol's `events` against the real supd: the order of a crash, a
// restart and a stop; supctl's lines and how it ends; a subscriber that never reads.

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <iostream>
#include <string>
#include <vector>

#include "tests/integration/harness.h"

extern char** environ;

namespace supd::integration {
namespace {

using nlohmann::json;

class EventsTest : public SupdTest {
 protected:
  void TearDown() override {
    for (pid_t pid : children_) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
    SupdTest::TearDown();
  }

  // Subscribes `c` to the events of `units` (all when empty) and reads the acknowledgement.
  void Subscribe(RawClient& c, const std::vector<std::string>& units) {
    ASSERT_TRUE(c.connected());
    ASSERT_TRUE(
        c.Send(json{{"id", 1}, {"cmd", "events"}, {"args", {{"units", units}}}}.dump() + "\n"));
    auto ack = c.ReadLine(30s);
    ASSERT_TRUE(ack) << SupdContext();
    json j = json::parse(*ack);
    ASSERT_TRUE(j.value("ok", false)) << *ack;
    ASSERT_TRUE(j.value("more", false)) << *ack;
    ASSERT_EQ(j["result"]["subscribed"], true) << *ack;
  }

  // Reads events from `c` into `events_` until `done` holds for the last one read (true), or
  // the stream ends or 30 s pass (false).
  bool ReadUntil(RawClient& c, const std::function<bool(const json&)>& done) {
    const auto deadline = Clock::now() + 30s;
    while (Clock::now() < deadline) {
      auto line = c.ReadLine(std::chrono::duration_cast<Ms>(deadline - Clock::now()));
      if (!line) return false;
      json j = json::parse(*line, nullptr, false);
      EXPECT_TRUE(j.is_object() && j.value("ok", false) && j.value("more", false)) << *line;
      if (!j.is_object() || !j.contains("result")) return false;
      for (const json& e : j["result"]["events"]) {
        events_.push_back(e);
        if (done(e)) return true;
      }
    }
    return false;
  }

  // "state <to>" for a state change, "ready yes|no", else the kind.
  std::vector<std::string> Kinds(size_t from = 0) const {
    std::vector<std::string> out;
    for (size_t i = from; i < events_.size(); ++i) {
      const json& e = events_[i];
      std::string k = e.value("event", "");
      if (k == "state") k += " " + e.value("to", "");
      if (k == "ready") k += e.value("ready", false) ? " yes" : " no";
      out.push_back(k);
    }
    return out;
  }

  // Runs `supctl --socket S args…` in the background, its stdout and stderr to files.
  pid_t SpawnSupctl(const std::vector<std::string>& args, const std::string& out,
                    const std::string& err) {
    std::vector<std::string> argv = {SUPCTL_BIN, "--socket", socket_};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> cargv;
    for (auto& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    pid_t pid = -1;
    const int rc = posix_spawn(&pid, cargv[0], &fa, nullptr, cargv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    EXPECT_EQ(rc, 0);
    if (rc == 0) children_.push_back(pid);
    return rc == 0 ? pid : -1;
  }

  // Waits (30 s) for a child spawned above; its wait status, or -1 if it did not end.
  int WaitChild(pid_t pid) {
    int status = -1;
    const bool ended = WaitFor([&] { return waitpid(pid, &status, WNOHANG) == pid; });
    if (!ended) return -1;
    std::erase(children_, pid);
    return status;
  }

  // supd's resident memory in kB (VmRSS), 0 if unknown.
  long SupdRssKb() const { return std::atol(ProcStatusField(supd_pid_, "VmRSS").c_str()); }

  std::vector<json> events_;
  std::vector<pid_t> children_;
};

// A service that crashes once (exit 1), is restarted by Restart=on-failure, and then runs until
// stopped: the first run's end and the second's start, then the stop, in the order they
// happened. The shell keeps the race out: the crash comes before the stop, whatever the load.
constexpr const char* kCrashOnce = R"([Unit]
StartLimitIntervalSec=0
[Service]
ExecStart=/bin/sh -c 'if [ -e {dir}/crashed ]; then exec {go}/crasher -sleep; fi; touch {dir}/crashed; exec {go}/crasher -exit-code 1'
Restart=on-failure
RestartSec=100ms
)";

TEST_F(EventsTest, ACrashARestartAndAStopInOrder) {
  WriteUnit("crash.service", kCrashOnce);
  WriteUnit("other.service", "[Service]\nExecStart={go}/crasher -sleep\n");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  RawClient c(socket_);
  ASSERT_NO_FATAL_FAILURE(Subscribe(c, {"crash"}));
  ASSERT_EQ(0, Supctl({"start", "other"}).exit_code) << SupdContext();
  ASSERT_EQ(0, Supctl({"start", "crash"}).exit_code) << SupdContext();
  // Until the second instance is ready (a simple service: once its exec is seen to succeed,
  // which may come after it is running).
  int ready = 0;
  ASSERT_TRUE(ReadUntil(c, [&](const json& e) {
    return e["event"] == "ready" && e["ready"] == true && ++ready == 2;
  })) << SupdContext();
  const size_t before_stop = events_.size();
  ASSERT_EQ(0, Supctl({"stop", "crash"}).exit_code) << SupdContext();
  ASSERT_TRUE(ReadUntil(c, [&](const json& e) {
    return e["event"] == "state" && e["to"] == "stopped";
  })) << SupdContext();
  // A simple service is running (and ready) once spawned; after the crash its leftovers are
  // stopped (stopping) before the restart delay (backoff).
  EXPECT_EQ(Kinds(), (std::vector<std::string>{
                         "state running", "ready yes", "exit", "state stopping", "ready no",
                         "state backoff", "restart", "state running", "ready yes", "state stopping",
                         "ready no", "exit", "state stopped"}));
  for (const json& e : events_) {
    EXPECT_EQ(e["unit"], "crash.service") << "the filter lets through only crash: " << e;
    EXPECT_TRUE(e["time"].is_string() && e["time"].get<std::string>().ends_with("Z")) << e;
  }
  // The first crash, as it was.
  const json* exit = nullptr;
  const json* backoff = nullptr;
  const json* restart = nullptr;
  for (const json& e : events_) {
    if (!exit && e["event"] == "exit") exit = &e;
    if (!backoff && e["event"] == "state" && e["to"] == "backoff") backoff = &e;
    if (!restart && e["event"] == "restart") restart = &e;
  }
  ASSERT_TRUE(exit && backoff && restart);
  EXPECT_EQ((*exit)["code"], 1) << *exit;
  EXPECT_EQ((*exit)["reason"], "exited with status 1") << *exit;
  EXPECT_GT((*exit)["pid"].get<int>(), 0) << *exit;
  EXPECT_EQ((*backoff)["from"], "stopping") << *backoff;
  EXPECT_EQ((*backoff)["result"], "exit-code") << *backoff;
  EXPECT_EQ((*backoff)["cause"], "main process exited with status 1") << *backoff;
  EXPECT_EQ((*restart)["reason"], "exit") << *restart;
  // The stop's exit: SIGTERM, as asked.
  bool stop_exit = false;
  for (size_t i = before_stop; i < events_.size(); ++i) {
    if (events_[i]["event"] != "exit") continue;
    stop_exit = true;
    EXPECT_EQ(events_[i]["signal"], "SIGTERM") << events_[i];
  }
  EXPECT_TRUE(stop_exit);
}

// supctl's own lines, and an interrupt ends it with 0 and nothing on stderr.
TEST_F(EventsTest, SupctlPrintsOneLinePerEventAndEndsQuietlyOnSigint) {
  WriteUnit("once.service",
            "[Service]\nExecStart={go}/crasher -exit-code 3 -write-file {dir}/pid\n");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  const std::string out = dir_ + "/events.out", err = dir_ + "/events.err";
  const pid_t supctl = SpawnSupctl({"events"}, out, err);
  ASSERT_GT(supctl, 0);
  // Subscribed once a reload it did not see before it shows up.
  ASSERT_TRUE(WaitFor(
      [&] {
        EXPECT_EQ(0, Supctl({"daemon-reload"}).exit_code);
        return ReadFile(out).find(" reload (no changes)\n") != std::string::npos;
      },
      30s, 200ms))
      << ReadFile(err) << SupdContext();
  ASSERT_EQ(0, Supctl({"start", "once"}).exit_code) << SupdContext();
  ASSERT_TRUE(WaitForState("once.service", "failed")) << SupdContext();
  const std::vector<pid_t> pids = ReadPids(dir_ + "/pid");
  ASSERT_EQ(pids.size(), 1u);
  const std::string exit_line = " once.service exit pid " + std::to_string(pids[0]) + " status 3\n";
  const std::string failed_line =
      " once.service state stopping -> failed (main process exited with status 3)\n";
  ASSERT_TRUE(WaitFor([&] { return ReadFile(out).find(failed_line) != std::string::npos; }))
      << ReadFile(out);
  const std::string text = ReadFile(out);
  EXPECT_NE(text.find(" once.service state stopped -> running\n"), std::string::npos) << text;
  EXPECT_NE(text.find(exit_line), std::string::npos) << text;
  EXPECT_LT(text.find(exit_line), text.find(failed_line)) << text;
  ASSERT_EQ(0, kill(supctl, SIGINT));
  const int status = WaitChild(supctl);
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(ReadFile(err), "");
}

TEST_F(EventsTest, SupctlExitsWith3WhenSupdGoesAway) {
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  const std::string out = dir_ + "/events.out", err = dir_ + "/events.err";
  const pid_t supctl = SpawnSupctl({"events", "--json"}, out, err);
  ASSERT_GT(supctl, 0);
  ASSERT_TRUE(WaitFor(
      [&] {
        EXPECT_EQ(0, Supctl({"daemon-reload"}).exit_code);
        return ReadFile(out).find(R"("event":"reload")") != std::string::npos;
      },
      30s, 200ms))
      << ReadFile(err) << SupdContext();
  const std::string first = ReadFile(out).substr(0, ReadFile(out).find('\n'));
  const json j = json::parse(first);
  EXPECT_EQ(j["event"], "reload") << first;
  EXPECT_FALSE(j.contains("unit")) << first;
  EXPECT_EQ(j["added"], json::array()) << first;
  ASSERT_EQ(0, StopSupd());
  const int status = WaitChild(supctl);
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 3);
  EXPECT_EQ(ReadFile(err),
            "supctl: supd at " + socket_ + " closed the connection without answering\n");
}

TEST_F(EventsTest, SupctlRefusesAnUnknownUnit) {
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  CommandResult r = Supctl({"events", "nope"});
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_EQ(r.err, "supctl: Unit nope.service not found (no unit file in " + units_dir_ + ").\n");
}

// A subscriber that never reads while services flap as fast as they can: supd counts what it
// cannot send instead of keeping it, stays responsive, and tells the subscriber how many it
// missed once it reads again. Long unit names make each event ~300 bytes, so that ~500
// restarts overflow the 1 MiB a subscriber may have waiting plus what its socket holds, well
// before the control socket's 60 s write timeout hangs up on it, also under ASan (~10x slower).
// Under ASan freed memory sits in its quarantine (up to 256 MiB) instead of going back, so
// supd's RSS says nothing there: it is only logged.
#if defined(__SANITIZE_ADDRESS__)
constexpr int kFlapRestarts = 1000;
#else
constexpr int kFlapRestarts = 1500;
#endif

TEST_F(EventsTest, ASubscriberThatNeverReadsCostsABoundedAmount) {
  constexpr int kServices = 4;
  const auto name = [](int i) { return "flap" + std::to_string(i) + "-" + std::string(200, 'x'); };
  for (int i = 0; i < kServices; ++i) {
    WriteUnit(name(i) + ".service", R"([Unit]
StartLimitIntervalSec=0
[Service]
ExecStart={go}/crasher -exit-code 1
Restart=always
RestartSec=0
)");
  }
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  RawClient c(socket_);
  ASSERT_NO_FATAL_FAILURE(Subscribe(c, {}));
  const long rss_before = SupdRssKb();
  ASSERT_GT(rss_before, 0);
  for (int i = 0; i < kServices; ++i)
    ASSERT_EQ(0, Supctl({"start", "--no-block", name(i)}).exit_code);
  long rss_max = rss_before;
  int restarts = 0;
  const bool flapped = WaitFor(
      [&] {
        rss_max = std::max(rss_max, SupdRssKb());
        auto all = StatusAll();
        EXPECT_TRUE(all) << "supd stopped answering status";
        if (!all) return true;
        restarts = 0;
        for (const json& s : *all) restarts += s.value("restarts", 0);
        return restarts >= kFlapRestarts;
      },
      120s, 100ms);
  for (int i = 0; i < kServices; ++i)
    EXPECT_EQ(0, Supctl({"stop", name(i)}).exit_code) << SupdContext();
  rss_max = std::max(rss_max, SupdRssKb());
  ASSERT_TRUE(flapped) << restarts << " restarts" << SupdContext();
#if defined(__SANITIZE_ADDRESS__)
  std::cerr << "[measure] supd RSS " << rss_before << " -> " << rss_max
            << " KiB (not checked under ASan)\n";
#else
  EXPECT_LT(rss_max - rss_before, 20 * 1024) << "KiB: " << rss_before << " -> " << rss_max;
#endif
  // Reading again: the queued events, then the count of the rest.
  uint64_t skipped = 0;
  const auto deadline = Clock::now() + 60s;
  while (skipped == 0 && Clock::now() < deadline) {
    auto line = c.ReadLine(30s);
    ASSERT_TRUE(line) << "the stream ended" << SupdContext();
    json j = json::parse(*line);
    ASSERT_TRUE(j.value("ok", false)) << *line;
    skipped = j["result"].value("skipped", uint64_t{0});
  }
  EXPECT_GT(skipped, 0u) << "the subscriber did not read during " << restarts << " restarts";
}

}  // namespace
}  // namespace supd::integration
