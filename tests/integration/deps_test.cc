// Dependencies among supd's units as the running daemon applies them (issue 16): a chain of
// real Go services that each need the previous one to be *ready* (tests/go/chain), started at
// boot in order and stopped in reverse; a target that groups them; Requires= stop propagation;
// BindsTo= when the peer dies; an ordering cycle refused with its chain named; missing units
// under Requires= and Wants=; enable/disable across restarts of supd; list-dependencies.
//
// Orders are checked in the order file the chain programs write, not by timing: a chain link
// exits 1 at once when the link it needs does not answer, and on SIGTERM it checks again that
// the link it needs still answers after its own listener is closed, so a start before the peer
// is ready or a stop in parallel shows in the file every time.

#include <signal.h>
#include <sys/types.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "tests/integration/harness.h"

namespace supd::integration {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class DepsTest : public SupdTest {
 protected:
  // A Type=notify chain link `name` listening on `port`; when `needs` is not empty, it
  // Requires= and is After= the chain link `needs` (whose port is `needs_port`) and refuses to
  // start unless that one answers. `install` is the unit's [Install] section ("" for none).
  std::string ChainUnit(const std::string& name, int port, const std::string& needs = "",
                        int needs_port = 0, const std::string& install = "") const {
    std::string unit = "[Unit]\nDescription=chain link " + name + "\n";
    if (!needs.empty()) unit += "Requires=" + needs + ".service\nAfter=" + needs + ".service\n";
    unit += "[Service]\nType=notify\nExecStart={go}/chain -name " + name +
            " -listen 127.0.0.1:" + std::to_string(port) + " -order-file {dir}/order" +
            " -notify -ready-delay 300ms -stop-delay 200ms";
    if (!needs.empty()) unit += " -needs 127.0.0.1:" + std::to_string(needs_port);
    unit += "\n";
    if (!install.empty()) unit += "[Install]\n" + install;
    return unit;
  }

  // Writes the chain a → b → c (b needs a, c needs b), each with `install`.
  void WriteChain(const std::string& install = "") {
    const int pa = FreeTcpPort(), pb = FreeTcpPort(), pc = FreeTcpPort();
    WriteUnit("a.service", ChainUnit("a", pa, "", 0, install));
    WriteUnit("b.service", ChainUnit("b", pb, "a", pa, install));
    WriteUnit("c.service", ChainUnit("c", pc, "b", pb, install));
  }

  // What `systemctl enable` leaves: <units>/<target>.wants/<unit> → ../<unit>.
  void Link(const std::string& target, const std::string& unit) {
    const std::string wants = units_dir_ + "/" + target + ".wants";
    std::error_code ec;
    fs::create_directories(wants, ec);
    ASSERT_FALSE(ec) << wants << ": " << ec.message();
    fs::create_symlink("../" + unit, wants + "/" + unit, ec);
    ASSERT_FALSE(ec) << wants << "/" << unit << ": " << ec.message();
  }

  std::string Order() const { return ReadFile(dir_ + "/order"); }

  // Waits until every unit in `names` runs; gives up at once when one of them failed (a chain
  // link that found its peer not answering exits 1 and, with Restart=no, stays failed).
  bool WaitAllRunning(const std::vector<std::string>& names, Ms timeout = 30s) {
    bool failed = false;
    WaitFor(
        [&] {
          bool all = true;
          for (const auto& n : names) {
            const std::string s = State(n);
            if (s == "failed") failed = true;
            if (s != "running") all = false;
          }
          return all || failed;
        },
        timeout);
    if (failed) return false;
    for (const auto& n : names)
      if (State(n) != "running") return false;
    return true;
  }

  // The main pids of `names`, tracked so that teardown kills them whatever happens.
  void TrackAll(const std::vector<std::string>& names) {
    for (const auto& n : names)
      if (pid_t pid = MainPid(n); pid > 0) TrackPid(pid);
  }

  // The logs of the chain links, for assertion messages.
  std::string ChainLogs() const {
    return "\norder file:\n" + Order() + "a.service:\n" + ServiceLog("a.service") +
           "b.service:\n" + ServiceLog("b.service") + "c.service:\n" + ServiceLog("c.service") +
           SupdContext();
  }
};

// A string field of a status object; "" when null (status says "none" with null) or missing,
// "<absent>" when there is no object.
std::string Field(const std::optional<json>& st, const std::string& key) {
  if (!st) return "<absent>";
  auto it = st->find(key);
  return it != st->end() && it->is_string() ? it->get<std::string>() : "";
}

const std::vector<std::string> kChain = {"a.service", "b.service", "c.service"};

// The chain, enabled for multi-user.target by links as `systemctl enable` leaves them: supd's
// start brings up a, then b once a is ready, then c; SIGTERM stops c, then b, then a.
TEST_F(DepsTest, ChainStartsAtBootInOrderAndStopsInReverse) {
  WriteChain("WantedBy=multi-user.target\n");
  for (const auto& u : kChain) ASSERT_NO_FATAL_FAILURE(Link("multi-user.target", u));
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  ASSERT_TRUE(WaitAllRunning(kChain)) << ChainLogs();
  TrackAll(kChain);
  EXPECT_EQ("start a\nstart b\nstart c\n", Order()) << ChainLogs();
  for (const auto& u : kChain) EXPECT_EQ(0, Restarts(u)) << u << ChainLogs();

  ASSERT_EQ(0, StopSupd()) << ChainLogs();
  EXPECT_EQ("start a\nstart b\nstart c\nstop c\nstop b\nstop a\n", Order()) << ChainLogs();
}

// A target that Wants= the chain: `supctl start myapp.target` returns once every member is
// ready; a stop of a.service stops the units that require it first (c, then b), then a.
TEST_F(DepsTest, TargetStartWaitsForItsMembersAndAStopPropagatesThroughRequires) {
  WriteChain();
  WriteUnit("myapp.target", R"([Unit]
Description=my app
Wants=a.service b.service c.service
)");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  CommandResult r = Supctl({"start", "myapp.target"});
  TrackAll(kChain);
  ASSERT_EQ(0, r.exit_code) << r.Describe() << ChainLogs();
  // The start answered only once the members were ready: no wait here.
  for (const auto& u : kChain) EXPECT_EQ("running", State(u)) << u << ChainLogs();
  EXPECT_EQ("start a\nstart b\nstart c\n", Order()) << ChainLogs();
  r = Supctl({"status", "myapp.target"});
  EXPECT_NE(std::string::npos, r.out.find("myapp.target")) << r.Describe();
  EXPECT_NE(std::string::npos, r.out.find("active")) << r.Describe();
  for (const auto& u : kChain) EXPECT_NE(std::string::npos, r.out.find(u)) << r.Describe();

  r = Supctl({"stop", "a.service"});
  ASSERT_EQ(0, r.exit_code) << r.Describe() << ChainLogs();
  // a stops after the units After= it: when its stop answers, theirs are done.
  EXPECT_EQ("start a\nstart b\nstart c\nstop c\nstop b\nstop a\n", Order()) << ChainLogs();
  for (const auto& u : kChain) EXPECT_EQ("stopped", State(u)) << u << ChainLogs();
}

// BindsTo=: x stops whenever y stops, also when y dies on its own (SIGKILL, Restart=no).
TEST_F(DepsTest, BindsToStopsTheUnitWhenItsPeerDies) {
  WriteUnit("y.service", R"([Service]
ExecStart=/bin/sleep infinity
Restart=no
)");
  WriteUnit("x.service", R"([Unit]
BindsTo=y.service
After=y.service
[Service]
ExecStart=/bin/sleep infinity
)");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  CommandResult r = Supctl({"start", "x"});
  ASSERT_EQ(0, r.exit_code) << r.Describe() << SupdContext();
  // BindsTo= pulls y in, as Requires= does.
  ASSERT_TRUE(WaitAllRunning({"y.service", "x.service"})) << SupdContext();
  const pid_t x = MainPid("x.service"), y = MainPid("y.service");
  ASSERT_GT(x, 0);
  ASSERT_GT(y, 0);
  TrackPid(x);
  TrackPid(y);
  ASSERT_EQ(0, kill(y, SIGKILL));
  EXPECT_TRUE(WaitForState("y.service", "failed")) << SupdContext();
  EXPECT_TRUE(WaitForState("x.service", "stopped")) << "x is bound to y: " << SupdContext();
  EXPECT_TRUE(WaitFor([&] { return GetProcState(x) != ProcState::kAlive; }))
      << "x's process outlived its stop: " << SupdContext();
}

// An ordering cycle is refused with its whole chain, in the start's error, in `check` and in
// status; the units in it do not start at boot; once it is fixed, they start.
TEST_F(DepsTest, OrderingCycleIsRefusedWithTheChainNamedUntilFixed) {
  WriteUnit("p.service", R"([Unit]
After=q.service
[Service]
ExecStart=/bin/sleep infinity
[Install]
WantedBy=multi-user.target
)");
  WriteUnit("q.service", R"([Unit]
After=p.service
[Service]
ExecStart=/bin/sleep infinity
[Install]
WantedBy=multi-user.target
)");
  // Enabled, and after p and q: once it runs, the boot has dealt with p and q.
  WriteUnit("witness.service", R"([Unit]
After=p.service q.service
[Service]
ExecStart=/bin/sleep infinity
[Install]
WantedBy=multi-user.target
)");
  for (const char* u : {"p.service", "q.service", "witness.service"})
    ASSERT_NO_FATAL_FAILURE(Link("multi-user.target", u));
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  const std::string cycle = "ordering cycle: p.service -> q.service -> p.service";
  EXPECT_GT(WaitForRunning("witness.service"), 0) << SupdContext();
  EXPECT_EQ("stopped", State("p.service")) << "a unit on a cycle started at boot";
  EXPECT_EQ("stopped", State("q.service")) << "a unit on a cycle started at boot";

  CommandResult r = Supctl({"start", "p"});
  EXPECT_NE(0, r.exit_code) << r.Describe();
  EXPECT_NE(std::string::npos, r.err.find(cycle)) << r.Describe();
  EXPECT_EQ("stopped", State("p.service"));

  r = Supctl({"check"});
  EXPECT_NE(std::string::npos, (r.out + r.err).find(cycle)) << r.Describe();
  r = Supctl({"status", "p"});
  EXPECT_NE(std::string::npos, r.out.find(cycle)) << r.Describe();
  auto st = Status("p.service");
  ASSERT_TRUE(st) << SupdContext();
  EXPECT_NE(std::string::npos, Field(st, "dependency_error").find(cycle)) << st->dump();

  // Fixed: q no longer After= p.
  WriteUnit("q.service", R"([Service]
ExecStart=/bin/sleep infinity
)");
  ASSERT_EQ(0, Supctl({"daemon-reload"}).exit_code) << SupdContext();
  r = Supctl({"start", "p"});
  EXPECT_EQ(0, r.exit_code) << r.Describe() << SupdContext();
  EXPECT_EQ("running", State("p.service"));
  EXPECT_EQ("", Field(Status("p.service"), "dependency_error"));
}

// Requires= on a unit supd does not have fails the start, naming it; Wants= on one is ignored;
// a standard systemd target is always there.
TEST_F(DepsTest, MissingUnitFailsRequiresAndIsIgnoredByWants) {
  WriteUnit("needy.service", R"([Unit]
Requires=nothere.service
After=nothere.service
[Service]
ExecStart=/bin/sleep infinity
)");
  WriteUnit("wishful.service", R"([Unit]
Wants=alsonothere.service
After=alsonothere.service
[Service]
ExecStart=/bin/sleep infinity
)");
  WriteUnit("online.service", R"([Unit]
Requires=network-online.target
After=network-online.target
[Service]
ExecStart=/bin/sleep infinity
)");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  CommandResult r = Supctl({"start", "needy"});
  EXPECT_NE(0, r.exit_code) << r.Describe();
  EXPECT_NE(std::string::npos, r.err.find("nothere.service")) << r.Describe();
  EXPECT_NE("running", State("needy.service"));

  r = Supctl({"start", "wishful"});
  EXPECT_EQ(0, r.exit_code) << r.Describe() << SupdContext();
  EXPECT_EQ("running", State("wishful.service"));

  r = Supctl({"start", "online"});
  EXPECT_EQ(0, r.exit_code) << r.Describe() << SupdContext();
  EXPECT_EQ("running", State("online.service"));
}

// enable and disable are links in the units directory, so they hold across restarts of supd.
// The first start on a state directory enables what has [Install] (systemd's first-boot
// presets); later starts do not, so a disable holds too.
TEST_F(DepsTest, EnableAndDisableSurviveARestartOfSupd) {
  WriteUnit("svc.service", R"([Service]
ExecStart=/bin/sleep infinity
[Install]
WantedBy=multi-user.target
)");
  // Started at each boot, after svc: once it runs, svc was started or never will be.
  WriteUnit("witness.service", R"([Unit]
After=svc.service
[Service]
ExecStart=/bin/sleep infinity
[Install]
WantedBy=multi-user.target
)");
  const std::string link = units_dir_ + "/multi-user.target.wants/svc.service";
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  EXPECT_GT(WaitForRunning("svc.service"), 0) << "presets enable it on the first start: "
                                              << SupdContext();
  std::error_code ec;
  EXPECT_TRUE(fs::is_symlink(link, ec)) << "the preset is a link, as systemctl's: " << link;
  CommandResult r = Supctl({"is-enabled", "svc"});
  EXPECT_EQ(0, r.exit_code) << r.Describe();
  EXPECT_EQ("enabled\n", r.out) << r.Describe();

  r = Supctl({"disable", "svc"});
  ASSERT_EQ(0, r.exit_code) << r.Describe() << SupdContext();
  EXPECT_NE(std::string::npos, (r.out + r.err).find("Removed")) << r.Describe();
  EXPECT_NE(std::string::npos, (r.out + r.err).find(link)) << r.Describe();
  EXPECT_FALSE(fs::exists(fs::symlink_status(link, ec))) << link;
  r = Supctl({"is-enabled", "svc"});
  EXPECT_EQ(1, r.exit_code) << r.Describe();
  EXPECT_EQ("disabled\n", r.out) << r.Describe();
  EXPECT_EQ("running", State("svc.service")) << "disable without --now does not stop";

  ASSERT_EQ(0, StopSupd()) << SupdContext();
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  ASSERT_GT(WaitForRunning("witness.service"), 0) << SupdContext();
  EXPECT_EQ("stopped", State("svc.service")) << "disabled, yet started at boot";
  EXPECT_FALSE(fs::exists(fs::symlink_status(link, ec))) << "presets applied again: " << link;
  r = Supctl({"is-enabled", "svc"});
  EXPECT_EQ(1, r.exit_code) << r.Describe();
  EXPECT_EQ("disabled\n", r.out) << r.Describe();

  r = Supctl({"enable", "svc"});
  ASSERT_EQ(0, r.exit_code) << r.Describe() << SupdContext();
  EXPECT_NE(std::string::npos, (r.out + r.err).find("Created symlink " + link)) << r.Describe();
  EXPECT_TRUE(fs::is_symlink(link, ec)) << link;
  EXPECT_TRUE(fs::equivalent(link, units_dir_ + "/svc.service", ec)) << link << ": "
                                                                      << ec.message();
  r = Supctl({"is-enabled", "svc"});
  EXPECT_EQ(0, r.exit_code) << r.Describe();
  EXPECT_EQ("enabled\n", r.out) << r.Describe();
  EXPECT_EQ("stopped", State("svc.service")) << "enable without --now does not start";

  ASSERT_EQ(0, StopSupd()) << SupdContext();
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  EXPECT_GT(WaitForRunning("svc.service"), 0) << "enabled, so started at boot: " << SupdContext();
  EXPECT_GT(WaitForRunning("witness.service"), 0) << SupdContext();
}

// A start ordered after a unit that is not up yet waits, and status says for what; it goes on
// once that unit is ready. The unit it waits for is held starting on purpose (it sends
// READY=1 only when told).
TEST_F(DepsTest, StartWaitsForTheUnitItIsAfterAndStatusSaysSo) {
  WriteUnit("db.service", R"([Service]
Type=notify
ExecStart={go}/chain -name db -notify -ready-delay 0s
ExecStartPre=/bin/sh -c 'while [ ! -e {dir}/go ]; do sleep 0.05; done'
TimeoutStartSec=infinity
)");
  WriteUnit("api.service", R"([Unit]
Wants=db.service
After=db.service
[Service]
ExecStart=/bin/sleep infinity
)");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  CommandResult r = Supctl({"--no-block", "start", "api"});
  ASSERT_EQ(0, r.exit_code) << r.Describe() << SupdContext();
  EXPECT_TRUE(WaitFor([&] {
    auto st = Status("api.service");
    if (Field(st, "job") != "start") return false;
    auto waiting = st->value("waiting_for", json::array());
    return waiting == json::array({"db.service"});
  })) << "status --json: " << Status("api.service").value_or(json()).dump() << SupdContext();
  EXPECT_EQ("stopped", State("api.service"));
  EXPECT_EQ("starting", State("db.service"));
  r = Supctl({"status", "api"});
  EXPECT_NE(std::string::npos, r.out.find("waiting for db.service")) << r.Describe();

  WriteFile(dir_ + "/go", "");
  EXPECT_GT(WaitForRunning("api.service"), 0) << SupdContext();
  EXPECT_EQ("running", State("db.service"));
  EXPECT_EQ("", Field(Status("api.service"), "job"));
}

// A target's members by [Install] WantedBy=myapp.target and `supctl enable`:
// list-dependencies shows them (and --reverse the target above a member), and a start of
// the target starts them.
TEST_F(DepsTest, ListDependenciesShowsATargetsEnabledMembers) {
  WriteUnit("myapp.target", "[Unit]\nDescription=my app\n");
  for (const char* u : {"api", "worker", "cache"}) {
    WriteUnit(std::string(u) + ".service", R"([Service]
ExecStart=/bin/sleep infinity
[Install]
WantedBy=myapp.target
)");
  }
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  CommandResult r = Supctl({"enable", "api", "worker", "cache"});
  ASSERT_EQ(0, r.exit_code) << r.Describe() << SupdContext();
  for (const char* u : {"api", "worker", "cache"}) {
    EXPECT_TRUE(FileExists(units_dir_ + "/myapp.target.wants/" + u + ".service")) << u;
  }

  r = Supctl({"list-dependencies", "myapp.target"});
  ASSERT_EQ(0, r.exit_code) << r.Describe();
  EXPECT_EQ(0u, r.out.find("myapp.target\n")) << "the tree starts with the unit: " << r.Describe();
  for (const char* u : {"api.service", "worker.service", "cache.service"})
    EXPECT_NE(std::string::npos, r.out.find(u)) << u << ": " << r.Describe();
  r = Supctl({"list-dependencies", "--reverse", "worker.service"});
  ASSERT_EQ(0, r.exit_code) << r.Describe();
  EXPECT_NE(std::string::npos, r.out.find("myapp.target")) << r.Describe();

  r = Supctl({"start", "myapp.target"});
  ASSERT_EQ(0, r.exit_code) << r.Describe() << SupdContext();
  for (const char* u : {"api.service", "worker.service", "cache.service"}) {
    EXPECT_EQ("running", State(u)) << u;
    if (pid_t pid = MainPid(u); pid > 0) TrackPid(pid);
  }
}

}  // namespace
}  // namespace supd::integration
