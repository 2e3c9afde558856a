// Restart=, RestartSec= and the start limit, against the real supd and the crasher program.

#include <signal.h>

#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/integration/harness.h"

namespace supd::integration {
namespace {

using nlohmann::json;

using Usec = std::chrono::microseconds;

class RestartTest : public SupdTest {
 protected:
  // From supd's status of a service that was respawned: the time between supd seeing the last
  // exit and the service entering its current state, both on supd's monotonic clock.
  static Usec RespawnGap(const json& status) {
    return Usec(status["since_monotonic_usec"].get<int64_t>() -
                status["last_exit"]["at_monotonic_usec"].get<int64_t>());
  }
  // supd's log lines "<service>: <from> -> <to>", in order, as "<from> -> <to>" (the cause,
  // if any, cut off).
  std::vector<std::string> Transitions(const std::string& service) {
    std::vector<std::string> out;
    std::istringstream in(SupdStderr());
    std::string line;
    const std::string key = ": " + service + ": ";
    while (std::getline(in, line)) {
      const size_t at = line.find(key);
      if (at == std::string::npos || line.find(" -> ", at) == std::string::npos) continue;
      std::string t = line.substr(at + key.size());
      if (const size_t paren = t.find(" ("); paren != std::string::npos) t.resize(paren);
      out.push_back(t);
    }
    return out;
  }
};

TEST_F(RestartTest, CrashedServiceIsRespawnedAtOnceWithRestartSecZero) {
  WriteUnit("crash.service", R"([Unit]
Description=respawn me
[Service]
ExecStart={go}/crasher -sleep -write-file {dir}/starts
Restart=always
RestartSec=0
)");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  CommandResult start = Supctl({"start", "crash"});
  ASSERT_EQ(0, start.exit_code) << start.Describe() << SupdContext();
  pid_t first = WaitForRunning("crash.service");
  ASSERT_GT(first, 0) << SupdContext();
  ASSERT_TRUE(WaitFor([&] { return CountLines(dir_ + "/starts") == 1; }));
  EXPECT_EQ(0, Restarts("crash.service"));

  ASSERT_EQ(0, kill(first, SIGKILL));
  pid_t second = 0;
  bool respawned = WaitFor([&] {
    auto s = Status("crash.service");
    if (!s || s->value("state", "") != "running" || !(*s)["main_pid"].is_number_integer()) {
      return false;
    }
    second = (*s)["main_pid"].get<pid_t>();
    return second > 0 && second != first;
  });
  ASSERT_TRUE(respawned) << "no new main pid; status: "
                         << Status("crash.service").value_or(json()).dump() << SupdContext();
  // How long supd took, by its own clock: from seeing the exit to the new instance running. The
  // test's clock would add its own polling (a supctl per poll) and its own scheduling. The bound
  // is loose on purpose (the median is under 1 ms): it tells "at once" from a delay such as the
  // default RestartSec= growing or a timer in seconds, and a loaded machine does not come near.
  const Usec gap = RespawnGap(*Status("crash.service"));
  std::cerr << "[measure] respawn after SIGKILL: " << gap.count() << " us (supd's clock)\n";
  EXPECT_GE(gap.count(), 0);
  EXPECT_LT(gap, std::chrono::seconds(5)) << "respawn with RestartSec=0 took " << gap.count()
                                          << " us";
  // Type=simple is running once spawned, maybe before the program wrote its pid.
  EXPECT_TRUE(WaitFor([&] { return CountLines(dir_ + "/starts") == 2; }))
      << CountLines(dir_ + "/starts");
  EXPECT_NE(ProcState::kZombie, GetProcState(first)) << "old main pid was not reaped";

  auto s = Status("crash.service");
  ASSERT_TRUE(s);
  EXPECT_EQ(1, s->value("restarts", -1)) << s->dump();
  ASSERT_TRUE((*s)["last_exit"].is_object()) << s->dump();
  EXPECT_EQ("SIGKILL", (*s)["last_exit"].value("signal", "")) << s->dump();
  EXPECT_NE(std::string::npos, (*s)["last_exit"].value("reason", "").find("SIGKILL")) << s->dump();
}

// systemd.service(5), table 2: which exit causes restart under each Restart= value.
TEST_F(RestartTest, RestartPolicyTableMatchesSystemd) {
  struct Case {
    std::string id, args, result, exit_signal;
    int exit_code;  // -1: a signal
  };
  const std::vector<Case> cases = {
      {"exit0", "-after 50ms -exit-code 0", "success", "", 0},
      {"exit1", "-after 50ms -exit-code 1", "exit-code", "", 1},
      {"kill", "-after 50ms -signal SIGKILL", "signal", "SIGKILL", -1},
      {"segv", "-after 50ms -signal SIGSEGV", "signal", "SIGSEGV", -1},
  };
  // policy → restarts for {exit0, exit1, kill, segv}
  const std::vector<std::pair<std::string, std::vector<bool>>> policies = {
      {"no", {false, false, false, false}},          {"always", {true, true, true, true}},
      {"on-success", {true, false, false, false}},   {"on-failure", {false, true, true, true}},
      {"on-abnormal", {false, false, true, true}},   {"on-abort", {false, false, true, true}},
      {"on-watchdog", {false, false, false, false}},
  };
  std::vector<std::string> names;
  for (const auto& [policy, expect] : policies) {
    for (const auto& c : cases) {
      std::string name = "r-" + policy + "-" + c.id;
      names.push_back(name);
      WriteUnit(name + ".service", Subst(R"([Service]
ExecStart={go}/crasher {args} -write-file {dir}/{name}.starts
Restart={policy}
RestartSec=100ms
)",
                                         {{"args", c.args}, {"name", name}, {"policy", policy}}));
    }
  }
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  std::vector<std::string> start_args = {"start"};
  start_args.insert(start_args.end(), names.begin(), names.end());
  CommandResult start = Supctl(start_args);
  ASSERT_EQ(0, start.exit_code) << start.Describe() << SupdContext();

  // Settled: a unit expected to restart has started twice; one expected not to has exited and
  // is in a final state (not backoff, which would mean a restart is pending).
  json all;
  auto settled = [&] {
    auto st = StatusAll();
    if (!st) return false;
    all = *st;
    size_t i = 0;
    for (const auto& [policy, expect] : policies) {
      for (size_t k = 0; k < cases.size(); ++k, ++i) {
        const std::string& name = names[i];
        if (expect[k]) {
          if (CountLines(dir_ + "/" + name + ".starts") < 2) return false;
          continue;
        }
        bool found = false;
        for (const auto& o : all) {
          if (o.value("name", "") != name + ".service") continue;
          found = true;
          std::string state = o.value("state", "");
          if (!o["last_exit"].is_object() || (state != "stopped" && state != "failed")) {
            return false;
          }
        }
        if (!found) return false;
      }
    }
    return true;
  };
  bool ok = WaitFor(settled, 60s, 50ms);
  EXPECT_TRUE(ok) << "not all units settled within 60 s; last status: " << all.dump(1);

  size_t i = 0;
  for (const auto& [policy, expect] : policies) {
    for (size_t k = 0; k < cases.size(); ++k, ++i) {
      const Case& c = cases[k];
      const std::string& name = names[i];
      SCOPED_TRACE("Restart=" + policy + ", crasher " + c.args);
      int starts = CountLines(dir_ + "/" + name + ".starts");
      json obj;
      for (const auto& o : all) {
        if (o.value("name", "") == name + ".service") obj = o;
      }
      ASSERT_TRUE(obj.is_object()) << name << " missing from status";
      if (expect[k]) {
        EXPECT_GE(starts, 2) << "expected a restart; status " << obj.dump();
        continue;
      }
      EXPECT_EQ(1, starts) << "expected no restart; status " << obj.dump();
      EXPECT_EQ(0, obj.value("restarts", -1)) << obj.dump();
      EXPECT_EQ(c.exit_code == 0 ? "stopped" : "failed", obj.value("state", "")) << obj.dump();
      EXPECT_EQ(c.result, obj.value("result", "")) << obj.dump();
      json last = obj["last_exit"];
      ASSERT_TRUE(last.is_object()) << obj.dump();
      if (c.exit_code >= 0) {
        EXPECT_EQ(json(c.exit_code), last["code"]) << obj.dump();
        EXPECT_TRUE(last["signal"].is_null()) << obj.dump();
        EXPECT_NE(std::string::npos,
                  last.value("reason", "").find("status " + std::to_string(c.exit_code)))
            << obj.dump();
      } else {
        EXPECT_EQ(json(c.exit_signal), last["signal"]) << obj.dump();
        EXPECT_NE(std::string::npos, last.value("reason", "").find(c.exit_signal)) << obj.dump();
      }
    }
  }
}

TEST_F(RestartTest, CrashLoopHitsStartLimitAndFails) {
  WriteUnit("loop.service", R"([Unit]
StartLimitIntervalSec=10
StartLimitBurst=3
[Service]
ExecStart={go}/crasher -after 100ms -exit-code 1 -write-file {dir}/starts
Restart=always
RestartSec=0
)");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  auto t0 = Clock::now();
  CommandResult start = Supctl({"start", "loop"});
  EXPECT_EQ(0, start.exit_code) << start.Describe() << SupdContext();
  ASSERT_TRUE(WaitForState("loop.service", "failed"))
      << "state: " << Status("loop.service").value_or(json()).dump() << SupdContext();
  std::cerr << "[measure] start limit hit after "
            << std::chrono::duration_cast<Ms>(Clock::now() - t0).count() << " ms\n";
  auto s = Status("loop.service");
  ASSERT_TRUE(s);
  EXPECT_EQ("start-limit-hit", s->value("result", "")) << s->dump();
  // StartLimitBurst=3: three starts within the interval are allowed, the fourth is refused.
  EXPECT_EQ(3, CountLines(dir_ + "/starts")) << s->dump();
  // systemd counts a restart when it is attempted (NRestarts= goes up in
  // service_enter_restart), so the refused fourth start is the third restart.
  EXPECT_EQ(3, s->value("restarts", -1)) << s->dump();
  EXPECT_TRUE((*s)["main_pid"].is_null()) << s->dump();
  ASSERT_TRUE((*s)["last_exit"].is_object()) << s->dump();
  EXPECT_EQ(json(1), (*s)["last_exit"]["code"]) << s->dump();

  // The unit stays failed: no further start happens on its own. A window in which nothing may
  // happen can only miss a late start on a slow machine, never fail a correct supd; supd's own
  // record says the same without a window: "failed" is entered once, after the last start, and
  // never left (a pending restart would show as "backoff").
  int starts = CountLines(dir_ + "/starts");
  EXPECT_FALSE(WaitFor([&] { return CountLines(dir_ + "/starts") > starts; }, 500ms))
      << "a failed unit was started again";
  const auto transitions = Transitions("loop.service");
  ASSERT_FALSE(transitions.empty());
  EXPECT_EQ("backoff -> failed", transitions.back()) << SupdStderr();

  // A manual start afterwards: systemd refuses it while the limit's interval lasts; supd may
  // reset the limit instead. Either is accepted here, the outcome is only logged.
  CommandResult again = Supctl({"start", "loop"});
  std::cerr << "[info] supctl start after start-limit-hit: " << again.Describe() << "\n";
  EXPECT_NE(2, again.exit_code) << again.Describe();
  EXPECT_NE(3, again.exit_code) << again.Describe();
  Supctl({"stop", "loop"});
}

TEST_F(RestartTest, RestartSecDelaysTheRespawn) {
  WriteUnit("slow.service", R"([Service]
ExecStart={go}/crasher -sleep -write-file {dir}/starts
Restart=on-failure
RestartSec=700ms
)");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  ASSERT_EQ(0, Supctl({"start", "slow"}).exit_code) << SupdContext();
  pid_t first = WaitForRunning("slow.service");
  ASSERT_GT(first, 0) << SupdContext();
  ASSERT_EQ(0, kill(first, SIGKILL));
  pid_t second = 0;
  ASSERT_TRUE(WaitFor([&] {
    second = MainPid("slow.service");
    return second > 0 && second != first && State("slow.service") == "running";
  })) << SupdContext();
  // By supd's own clock, which the test's scheduling cannot shorten: the new instance runs no
  // earlier than RestartSec= after the exit was seen (a timer does not fire early). No upper
  // bound: a RestartSec= read in the wrong unit would not respawn within the wait above at all.
  auto s = Status("slow.service");
  ASSERT_TRUE(s);
  ASSERT_EQ(json(first), (*s)["last_exit"]["pid"]) << s->dump();
  const Usec gap = RespawnGap(*s);
  std::cerr << "[measure] respawn with RestartSec=700ms after " << gap.count()
            << " us (supd's clock)\n";
  EXPECT_GE(gap, std::chrono::milliseconds(700)) << s->dump();
  // Meanwhile it was in backoff, as supd's log of its transitions shows, in this order.
  const std::vector<std::string> expected = {"stopped -> running", "running -> stopping",
                                             "stopping -> backoff", "backoff -> running"};
  EXPECT_EQ(expected, Transitions("slow.service")) << SupdStderr();
}

}  // namespace
}  // namespace supd::integration
