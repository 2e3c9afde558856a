// `supctl daemon-reexec`: supd execs itself (the binary at its path now) with its whole state, and
// no service notices. These tests run the real supd and check what must survive the exec from the
// outside: the same supd pid, the same main pids (still supd's children), restart counters and
// invocation ids unchanged, held sockets that never refuse a connection, every log line exactly
// once, a watchdog that keeps being fed, a backoff that goes on where it was, a control socket
// that answers every client; and that a binary that cannot start leaves the old supd running.

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "lib/log/service_log.h"
#include "tests/integration/harness.h"

namespace supd::integration {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

constexpr const char* kPing = "{\"id\":1,\"cmd\":\"ping\"}\n";

// What a service that runs on must keep across a reexec.
struct Kept {
  pid_t main_pid = 0;
  int restarts = -1;
  std::string invocation_id;
  std::string state;
  bool operator==(const Kept&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Kept& k) {
  return os << "{state " << k.state << ", main_pid " << k.main_pid << ", restarts " << k.restarts
            << ", invocation_id " << k.invocation_id << "}";
}

// The reply's result of one `ping` sent by hand, nullopt when there was no answer.
std::optional<json> Ping(const std::string& socket, Ms timeout = 30s) {
  auto reply = RawControlRequest(socket, kPing, timeout);
  if (!reply || reply->line.empty()) return std::nullopt;
  auto j = json::parse(reply->line, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.value("ok", false) || !j["result"].is_object()) return std::nullopt;
  return j["result"];
}

// "start <unix ns>" and "exit <unix ns>" lines that benchcrash appends, in order.
struct Stamp {
  std::string what;
  int64_t ns = 0;
};
std::vector<Stamp> ReadStamps(const std::string& path) {
  std::vector<Stamp> out;
  std::istringstream in(ReadFile(path));
  std::string what, ns;
  while (in >> what >> ns) {
    Stamp s{what, 0};
    std::from_chars(ns.data(), ns.data() + ns.size(), s.ns);
    out.push_back(s);
  }
  return out;
}

int64_t RealtimeNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int CountFds(pid_t pid) {
  int n = 0;
  std::error_code ec;
  for (auto it = fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec);
       !ec && it != fs::directory_iterator(); it.increment(ec))
    ++n;
  return n;
}

// Sends `ping` on a new connection, one after the other, on a thread of its own until stopped:
// every connection a client opens while supd execs must be answered (it waits in the listen
// backlog), by the old supd or the new one.
class PingLoop {
 public:
  explicit PingLoop(std::string socket) : socket_(std::move(socket)) {
    thread_ = std::thread([this] {
      while (!done_) {
        auto reply = RawControlRequest(socket_, kPing, 30s);
        ++sent_;
        if (!reply) {
          ++refused_;
        } else if (reply->line.find("\"ok\":true") == std::string::npos) {
          ++unanswered_;
        }
        // Pacing: a few pings in every exec's window, without taking a core from the rest.
        std::this_thread::sleep_for(10ms);
      }
    });
  }
  PingLoop(const PingLoop&) = delete;
  PingLoop& operator=(const PingLoop&) = delete;
  ~PingLoop() { Stop(); }
  void Stop() {
    done_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int sent() const { return sent_; }
  int refused() const { return refused_; }        // connect() failed
  int unanswered() const { return unanswered_; }  // connected, but no good answer

 private:
  std::string socket_;
  std::atomic<bool> done_{false};
  std::atomic<int> sent_{0}, refused_{0}, unanswered_{0};
  std::thread thread_;
};

class ReexecTest : public SupdTest {
 protected:
  // `reexecs` in supd's answer to `ping`; nullopt when supd does not answer.
  std::optional<uint64_t> Reexecs() {
    auto r = Ping(socket_);
    if (!r || !(*r)["reexecs"].is_number_unsigned()) return std::nullopt;
    return (*r)["reexecs"].get<uint64_t>();
  }

  std::optional<Kept> KeptOf(const std::string& name) {
    auto s = Status(name);
    if (!s) return std::nullopt;
    Kept k;
    k.state = s->value("state", "");
    if ((*s)["main_pid"].is_number_integer()) k.main_pid = (*s)["main_pid"].get<pid_t>();
    if ((*s)["restarts"].is_number_integer()) k.restarts = (*s)["restarts"].get<int>();
    if ((*s)["invocation_id"].is_string())
      k.invocation_id = (*s)["invocation_id"].get<std::string>();
    return k;
  }

  // supd's stderr from byte `from` on: what it logged since then.
  std::string StderrSince(size_t from) const {
    std::string all = SupdStderr();
    return from < all.size() ? all.substr(from) : "";
  }

  // A running service's process must still be supd's child after the exec.
  void ExpectChildOfSupd(pid_t pid, const std::string& what) {
    EXPECT_EQ(ProcState::kAlive, GetProcState(pid)) << what << " (pid " << pid << ")";
    EXPECT_EQ(std::to_string(SupdOwnPid()), ProcStatusField(pid, "PPid"))
        << what << " (pid " << pid << ") is not supd's child any more";
  }

  // Every kind of state at once: a Go server on a held socket (Type=notify), a crash loop with
  // RestartSec= (in backoff at times), a watchdog fed over the notify socket (a lost socket would
  // fire it within 3 s and change the main pid), a logger whose lines come in two writes (so
  // that supd often holds half a line when it stops reading) and a service with an fd in the
  // store. Starts them all and records what the steady ones must keep (before_).
  void StartEveryKindOfService() {
    port_ = FreeTcpPort();
    WriteUnit("web.socket", Subst("[Socket]\nListenStream=127.0.0.1:{port}\n",
                                  {{"port", std::to_string(port_)}}));
    WriteUnit("web.service", "[Service]\nType=notify\nExecStart={go}/activated\n");
    WriteUnit("crashy.service", R"([Unit]
StartLimitIntervalSec=0
[Service]
ExecStart={go}/benchcrash -file {dir}/crashy.stamps -after 200ms
Restart=always
RestartSec=700ms
)");
    WriteUnit("wd.service", R"([Service]
Type=notify
ExecStart={go}/notifier -watchdog -status-every 100ms
WatchdogSec=3s
)");
    WriteUnit("chatty.service", "[Service]\nExecStart={go}/logspam numbered\n");
    WriteUnit("st.service", R"([Service]
Type=notify
FileDescriptorStoreMax=4
ExecStart={go}/fdstore -out {dir}/fdstore.out
)");
    ASSERT_NO_FATAL_FAILURE(StartSupd());
    CommandResult r = Supctl({"start", "web", "wd", "chatty", "st", "crashy"});
    ASSERT_EQ(0, r.exit_code) << r.Describe() << SupdContext();
    for (const auto& name : steady_) {
      ASSERT_GT(WaitForRunning(name), 0) << name << SupdContext();
      auto k = KeptOf(name);
      ASSERT_TRUE(k) << name;
      before_[name] = *k;
    }
    ASSERT_TRUE(HttpGet(port_)) << SupdContext() << ServiceLog("web.service");
    ASSERT_TRUE(WaitFor([&] {
      auto st = Status("st.service");
      return st && (*st)["fdstore"] == json::array({"state"});
    })) << SupdContext();
    auto ping = Ping(socket_);
    ASSERT_TRUE(ping) << SupdContext();
    ASSERT_TRUE((*ping)["reexecs"].is_number_unsigned())
        << "ping carries no reexecs: " << ping->dump();
    ASSERT_EQ(0u, (*ping)["reexecs"].get<uint64_t>());
    ASSERT_TRUE((*ping)["started_realtime"].is_number()) << ping->dump();
    first_ping_ = *ping;
  }

  // After the n-th reexec: the same supd, answering with the count and the line's start time,
  // and every steady service as it was, still supd's child.
  void ExpectKeptAfterReexec(uint64_t n) {
    ASSERT_TRUE(SupdAlive()) << SupdContext();
    auto ping = Ping(socket_);
    ASSERT_TRUE(ping) << SupdContext();
    EXPECT_EQ(json(n), (*ping)["reexecs"]) << SupdContext();
    EXPECT_EQ(first_ping_["pid"], (*ping)["pid"]);
    EXPECT_EQ(first_ping_["started_realtime"], (*ping)["started_realtime"])
        << "the line's first start";
    for (const auto& name : steady_) {
      EXPECT_EQ(std::optional<Kept>(before_[name]), KeptOf(name)) << name << " after reexec " << n;
      ExpectChildOfSupd(before_[name].main_pid, name);
    }
  }

  // The crash loop's counter never goes back and counts the starts it has made. It is read
  // before the stamps; a restart counts when supd spawns it, a start stamps once the program
  // runs: so it is at most the starts seen (one spawned, not stamped yet) and at least the
  // starts seen minus the first and minus one spawned between the two reads. Returns it.
  int ExpectCrashLoopCounted(int restarts_before, const std::string& when) {
    const int restarts = Restarts("crashy.service");
    int starts = 0;
    for (const Stamp& s : ReadStamps(dir_ + "/crashy.stamps")) starts += s.what == "start";
    EXPECT_GE(restarts, restarts_before) << "crashy's restart count went back, " << when;
    EXPECT_LE(restarts, starts) << when;
    EXPECT_GE(restarts, starts - 2) << when;
    return restarts;
  }

  // The fd parked in the store before is handed to the next instance.
  void ExpectFdStoreKept() {
    CommandResult r = Supctl({"restart", "st"});
    ASSERT_EQ(0, r.exit_code) << r.Describe() << SupdContext();
    EXPECT_TRUE(WaitFor([&] {
      return ReadFile(dir_ + "/fdstore.out") == "stored\ngot: generation-1\n";
    })) << ReadFile(dir_ + "/fdstore.out")
        << SupdContext();
  }

  // Every numbered line of chatty exactly once, in order, to the last: stops the logger, which
  // then says how many it wrote.
  void ExpectEveryChattyLineOnce(size_t at_least) {
    CommandResult r = Supctl({"stop", "chatty"});
    ASSERT_EQ(0, r.exit_code) << r.Describe() << SupdContext();
    ASSERT_TRUE(WaitForLog("chatty", "done after ")) << SupdContext();
    std::vector<std::string> lines;
    std::istringstream in(ServiceLog("chatty"));
    std::string line;
    while (std::getline(in, line)) {
      auto rec = ParseLogLine(line);
      ASSERT_TRUE(rec) << "not a log record: " << line;
      EXPECT_EQ("out", rec->stream) << line;
      EXPECT_FALSE(rec->continued) << line;
      lines.push_back(rec->text);
    }
    ASSERT_FALSE(lines.empty());
    const std::string last = lines.back();
    lines.pop_back();
    EXPECT_EQ("done after " + std::to_string(lines.size()) + " lines", last);
    for (size_t i = 0; i < lines.size(); ++i) {
      if (lines[i] != "line " + std::to_string(i) + " of chatty") {
        ADD_FAILURE() << "line " << i << " of the log is '" << lines[i] << "'";
        break;
      }
    }
    EXPECT_GE(lines.size(), at_least) << "chatty ran through the reexecs";
  }

  const std::vector<std::string> steady_ = {"web.service", "wd.service", "chatty.service",
                                            "st.service"};
  std::map<std::string, Kept> before_;
  json first_ping_;
  int port_ = 0;
};

// One reexec with every kind of state (also under ASan: the load test below repeats it).
TEST_F(ReexecTest, OneReexecKeepsEveryKindOfState) {
  ASSERT_NO_FATAL_FAILURE(StartEveryKindOfService());
  const int restarts = Restarts("crashy.service");
  CommandResult r = Supctl({"daemon-reexec"});
  ASSERT_EQ(0, r.exit_code) << r.Describe() << SupdContext();
  EXPECT_EQ("", r.out) << "daemon-reexec prints nothing when it worked";
  ASSERT_NO_FATAL_FAILURE(ExpectKeptAfterReexec(1));
  ExpectCrashLoopCounted(restarts, "after the reexec");
  auto body = HttpGet(port_);
  EXPECT_EQ("hello from " + std::to_string(before_["web.service"].main_pid) + "\n",
            body.value_or("(no answer)"));
  // The watchdog is still fed and still watched: the service runs on past WatchdogSec=.
  auto wd = Status("wd.service");
  ASSERT_TRUE(wd);
  EXPECT_EQ(json(3000000), (*wd)["watchdog_usec"]);
  ASSERT_NO_FATAL_FAILURE(ExpectFdStoreKept());
  ASSERT_NO_FATAL_FAILURE(ExpectEveryChattyLineOnce(1));
  EXPECT_EQ(std::optional<Kept>(before_["wd.service"]), KeptOf("wd.service"));
}

// The issue's acceptance test: ten reexecs in a row, the same services, while the Go server
// takes `hey -c 32`. Across every exec: no failed request, no refused or dropped control
// connection, the same supd and main pids, restart counters and invocation ids unchanged, the
// crash loop counting on, every log line exactly once and in order, no fd leaked by supd.
TEST_F(ReexecTest, TenReexecsUnderLoadKeepEveryServiceAndLoseNothing) {
  if (!HeyInstalled()) GTEST_SKIP() << "hey is not installed";
  constexpr int kReexecs = 10;
  ASSERT_NO_FATAL_FAILURE(StartEveryKindOfService());
  const pid_t supd_pid = SupdOwnPid();
  const int fds_before = CountFds(supd_pid);

  int reexecs_ok = 0, backoff_at_reexec = 0;
  int crashy_restarts = Restarts("crashy.service");
  auto last_check = Clock::now();
  PingLoop pings(socket_);
  HeyReport hey = RunHeyDuring("http://127.0.0.1:" + std::to_string(port_) + "/", 15s, 32, [&] {
    for (int i = 1; i <= kReexecs; ++i) {
      // Pacing, not a wait: it spreads the execs over hey's run and over the crash loop's
      // phases. Nothing asserted depends on where they fall.
      std::this_thread::sleep_for(600ms);
      if (State("crashy.service") == "backoff") ++backoff_at_reexec;
      CommandResult re = Supctl({"daemon-reexec"});
      EXPECT_EQ(0, re.exit_code) << "reexec " << i << ": " << re.Describe() << SupdContext();
      if (re.exit_code != 0) break;
      ++reexecs_ok;
      ExpectKeptAfterReexec(static_cast<uint64_t>(i));
      if (HasFatalFailure()) break;
      const std::string when = "after reexec " + std::to_string(i);
      const int restarts = ExpectCrashLoopCounted(crashy_restarts, when);
      // It grows by at most one per RestartSec= plus run time (0.9 s) since the last look.
      const auto elapsed = std::chrono::duration_cast<Ms>(Clock::now() - last_check).count();
      last_check = Clock::now();
      EXPECT_LE(restarts - crashy_restarts, 1 + elapsed / 900) << when;
      crashy_restarts = restarts;
    }
  });
  pings.Stop();
  std::cout << "[measure] " << reexecs_ok << "/" << kReexecs << " reexecs under hey: " << hey.ok
            << " ok, " << hey.failed << " failed; " << pings.sent() << " pings during them; "
            << "crashy in backoff at " << backoff_at_reexec << " of them, " << crashy_restarts
            << " restarts\n";
  EXPECT_EQ(kReexecs, reexecs_ok);
  EXPECT_TRUE(hey.summarized) << hey.output;
  EXPECT_EQ(0, hey.failed) << hey.output;
  EXPECT_GT(hey.ok, 500) << hey.output;
  EXPECT_EQ(0, pings.refused()) << "of " << pings.sent() << " control connections";
  EXPECT_EQ(0, pings.unanswered()) << "of " << pings.sent() << " control connections";
  EXPECT_GT(crashy_restarts, 0);
  // The backoff is waited in full each time (a restored timer that fired at once would show).
  const std::vector<Stamp> stamps = ReadStamps(dir_ + "/crashy.stamps");
  for (size_t i = 1; i < stamps.size(); ++i) {
    if (stamps[i - 1].what == "exit" && stamps[i].what == "start") {
      EXPECT_GE(stamps[i].ns - stamps[i - 1].ns, 700'000'000) << "restart " << i / 2;
    }
  }
  // A leak of one fd per exec (the state memfd, the fallback's exe fd) would show as +10.
  EXPECT_LT(CountFds(supd_pid), fds_before + kReexecs / 2)
      << "supd had " << fds_before << " fds before the reexecs";
  ASSERT_NO_FATAL_FAILURE(ExpectFdStoreKept());
  ASSERT_NO_FATAL_FAILURE(ExpectEveryChattyLineOnce(200));
  EXPECT_EQ(std::optional<Kept>(before_["wd.service"]), KeptOf("wd.service"));
}

// A reexec while the crash loop waits out RestartSec= does not start the wait again: the next
// start comes RestartSec= after the exit, not RestartSec= after the exec. The exec is sent well
// into the wait (2.5 s of 4 s), so a reset would put the next start at least 2.5 s late.
TEST_F(ReexecTest, BackoffGoesOnWhereItWas) {
  WriteUnit("crashy.service", R"([Unit]
StartLimitIntervalSec=0
[Service]
ExecStart={go}/benchcrash -file {dir}/crashy.stamps -after 100ms
Restart=always
RestartSec=4s
)");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  ASSERT_EQ(0, Supctl({"start", "crashy"}).exit_code) << SupdContext();
  const std::string stamps_path = dir_ + "/crashy.stamps";
  constexpr int64_t kRestartNs = 4'000'000'000, kIntoNs = 2'500'000'000;
  // The exit being waited out, found when supd shows the backoff; a round is missed (and the
  // next one taken) when this thread comes too late into it.
  int64_t exit_ns = 0, sent_ns = 0;
  int restarts_before = -1;
  for (int round = 0; round < 3 && sent_ns == 0; ++round) {
    ASSERT_TRUE(WaitFor([&] {
      auto st = ReadStamps(stamps_path);
      if (st.empty() || st.back().what != "exit" || st.back().ns == exit_ns) return false;
      exit_ns = st.back().ns;
      return true;
    })) << SupdContext();
    ASSERT_TRUE(WaitForState("crashy", "backoff")) << SupdContext();
    WaitFor([&] { return RealtimeNs() >= exit_ns + kIntoNs; }, 10s, 10ms);
    if (RealtimeNs() > exit_ns + kIntoNs + 500'000'000) continue;
    restarts_before = Restarts("crashy");
    sent_ns = RealtimeNs();
    CommandResult r = Supctl({"daemon-reexec"});
    ASSERT_EQ(0, r.exit_code) << r.Describe() << SupdContext();
  }
  ASSERT_NE(0, sent_ns) << "never in time for the backoff (machine too slow?)";
  EXPECT_EQ(std::optional<uint64_t>(1), Reexecs());
  // The next start, and when it came.
  int64_t next_start = 0;
  ASSERT_TRUE(WaitFor([&] {
    for (const Stamp& s : ReadStamps(stamps_path))
      if (s.what == "start" && s.ns > exit_ns) next_start = s.ns;
    return next_start != 0;
  })) << SupdContext();
  const double gap_s = static_cast<double>(next_start - exit_ns) / 1e9;
  std::cout << "[measure] exit -> next start " << gap_s << " s across a reexec sent "
            << static_cast<double>(sent_ns - exit_ns) / 1e9 << " s into RestartSec=4s\n";
  EXPECT_GE(next_start - exit_ns, kRestartNs) << "the backoff was cut short";
  EXPECT_LT(next_start, sent_ns + kRestartNs)
      << "the backoff started again at the reexec: next start " << gap_s << " s after the exit";
  EXPECT_TRUE(WaitFor([&] { return Restarts("crashy") > restarts_before; }))
      << "restarts " << Restarts("crashy") << ", " << restarts_before << " before";
}

// A new binary that cannot start leaves the old supd running and answering, its services
// untouched, and says why in its log; once the binary is good again, the reexec works. The supd
// runs from a copy in the test's dir, replaced by a rename as a package upgrade does.
TEST_F(ReexecTest, BinaryThatCannotStartLeavesTheOldSupdRunning) {
  const std::string bin = dir_ + "/bin", supd = bin + "/supd", good = bin + "/supd.good";
  ASSERT_TRUE(fs::create_directory(bin));
  fs::copy_file(SUPD_BIN, good);
  fs::copy_file(good, supd);
  WriteUnit("svc.service", R"([Service]
Type=notify
ExecStart={go}/notifier
)");
  SupdOptions options;
  options.binary = supd;
  ASSERT_NO_FATAL_FAILURE(StartSupd(options));
  ASSERT_EQ(0, Supctl({"start", "svc"}).exit_code) << SupdContext();
  auto kept = KeptOf("svc");
  ASSERT_TRUE(kept && kept->main_pid > 0) << SupdContext();
  const pid_t supd_pid = SupdOwnPid();

  struct Case {
    std::string what;    // for messages
    std::string script;  // the new "supd"
    std::string logged;  // what supd's log must name
  };
  const std::vector<Case> cases = {
      {"exits 1 on --version", "#!/bin/sh\necho 'supd: broken build' >&2\nexit 1\n", "--version"},
      {"answers --version but cannot read the state",
       "#!/bin/sh\n[ \"$1\" = --version ] && exec " + good +
           " --version\necho 'supd: cannot read this state' >&2\nexit 1\n",
       "--check-state"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    WriteFile(supd, c.script, 0755);  // a rename over the running supd's file
    const size_t log_from = SupdStderr().size();
    CommandResult r = Supctl({"daemon-reexec"});
    EXPECT_EQ(1, r.exit_code) << r.Describe();
    EXPECT_FALSE(r.err.empty()) << "supctl says nothing of why";
    ASSERT_TRUE(SupdAlive()) << SupdContext();
    EXPECT_EQ(supd_pid, SupdOwnPid());
    EXPECT_EQ(std::optional<uint64_t>(0), Reexecs()) << "the old supd answers, not re-executed";
    EXPECT_EQ(std::optional<Kept>(kept), KeptOf("svc"));
    ExpectChildOfSupd(kept->main_pid, "svc");
    EXPECT_TRUE(WaitFor([&] { return StderrSince(log_from).find(c.logged) != std::string::npos; }))
        << "supd's log does not name " << c.logged << ":\n"
        << StderrSince(log_from);
    // It still does its work: a stop and a start.
    EXPECT_EQ(0, Supctl({"restart", "svc"}).exit_code) << SupdContext();
    kept = KeptOf("svc");
    ASSERT_TRUE(kept && kept->state == "running") << SupdContext();
  }

  // The good binary back: the same supd re-executes and keeps the service.
  fs::copy_file(good, bin + "/supd.next");
  fs::rename(bin + "/supd.next", supd);
  CommandResult r = Supctl({"daemon-reexec"});
  EXPECT_EQ(0, r.exit_code) << r.Describe() << SupdContext();
  EXPECT_EQ(std::optional<uint64_t>(1), Reexecs()) << SupdContext();
  EXPECT_EQ(supd_pid, SupdOwnPid());
  EXPECT_EQ(std::optional<Kept>(kept), KeptOf("svc"));
  ExpectChildOfSupd(kept->main_pid, "svc");
}

// A reexec waits for a moment of rest: with a service held in ExecStartPre=, it is refused after
// --timeout with the unit named (and nothing re-executed); without a short timeout it waits, and
// goes through once the service has started.
TEST_F(ReexecTest, WaitsForRestAndNamesTheUnitThatIsBusy) {
  WriteUnit("held.service", R"([Service]
ExecStartPre=/bin/sh -c 'while [ ! -e {dir}/gate ]; do sleep 0.05; done'
ExecStart=/bin/sleep infinity
TimeoutStartSec=infinity
)");
  WriteUnit("other.service", R"([Service]
ExecStart=/bin/sleep infinity
)");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  ASSERT_EQ(0, Supctl({"start", "other"}).exit_code) << SupdContext();
  ASSERT_EQ(0, Supctl({"--no-block", "start", "held"}).exit_code) << SupdContext();
  ASSERT_TRUE(WaitFor([&] {
    auto s = Status("held");
    return s && s->value("sub_state", "") == "start-pre" && (*s)["control_pid"].is_number();
  })) << SupdContext();
  auto other = KeptOf("other");
  ASSERT_TRUE(other && other->main_pid > 0);

  CommandResult r = Supctl({"--timeout", "1s", "daemon-reexec"});
  EXPECT_EQ(1, r.exit_code) << r.Describe();
  EXPECT_NE(std::string::npos, r.err.find("held.service")) << r.Describe();
  EXPECT_EQ(std::optional<uint64_t>(0), Reexecs()) << SupdContext();
  EXPECT_EQ("start-pre", Status("held").value_or(json::object()).value("sub_state", ""));

  // Now one that waits: the gate opens once supd has checked the new binary (its debug log
  // says so, then it waits for rest) or, if that line never comes, after 10 s all the same; the
  // reexec must not have ended before the gate opened.
  const size_t log_from = SupdStderr().size();
  CommandResult waited;
  std::atomic<bool> reexec_done{false};
  std::thread reexec([&] {
    waited = Supctl({"daemon-reexec"});
    reexec_done = true;
  });
  WaitFor([&] { return StderrSince(log_from).find("--version: supd") != std::string::npos; }, 10s);
  EXPECT_FALSE(reexec_done) << "the reexec did not wait for held.service's ExecStartPre=";
  WriteFile(dir_ + "/gate", "");
  reexec.join();
  EXPECT_EQ(0, waited.exit_code) << waited.Describe() << SupdContext();
  EXPECT_EQ(std::optional<uint64_t>(1), Reexecs()) << SupdContext();
  const pid_t held = WaitForRunning("held");
  EXPECT_GT(held, 0) << SupdContext();
  if (held > 0) ExpectChildOfSupd(held, "held");
  EXPECT_EQ(std::optional<Kept>(other), KeptOf("other"));
}

}  // namespace
}  // namespace supd::integration
