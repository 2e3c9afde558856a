// Stopping services: graceful drain, ExecStop=, TimeoutStopSec= → SIGKILL, and nothing left
// behind (grandchildren included, no zombies).

#include <signal.h>

#include <fstream>
#include <iostream>
#include <string>

#include "tests/integration/harness.h"

namespace supd::integration {
namespace {

using nlohmann::json;

class StopTest : public SupdTest {};

std::string Port(int port) { return std::to_string(port); }

TEST_F(StopTest, StopDrainsHttpServerGracefully) {
  int port = FreeTcpPort();
  ASSERT_GT(port, 0);
  WriteUnit("web.service", Subst(R"([Unit]
Description=HTTP test server
[Service]
ExecStart={go}/httpserver -addr 127.0.0.1:{port}
TimeoutStopSec=10
)",
                                 {{"port", Port(port)}}));
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  CommandResult start = Supctl({"start", "web"});
  ASSERT_EQ(0, start.exit_code) << start.Describe() << SupdContext();
  pid_t pid = WaitForRunning("web.service");
  ASSERT_GT(pid, 0) << SupdContext();
  ASSERT_TRUE(WaitForLog("web.service", "listening on")) << ServiceLog("web.service");
  std::optional<std::string> body;
  ASSERT_TRUE(WaitFor([&] { return (body = HttpGet(port)).has_value(); }));
  EXPECT_EQ("hello from " + std::to_string(pid) + "\n", *body);

  auto s = Status("web.service");
  ASSERT_TRUE(s);
  EXPECT_EQ("HTTP test server", s->value("description", "")) << s->dump();

  auto t0 = Clock::now();
  CommandResult stop = Supctl({"stop", "web"});
  auto elapsed = std::chrono::duration_cast<Ms>(Clock::now() - t0);
  std::cerr << "[measure] graceful stop took " << elapsed.count() << " ms\n";
  ASSERT_EQ(0, stop.exit_code) << stop.Describe() << SupdContext();
  // Graceful means it exited by itself on SIGTERM, before TimeoutStopSec= (result "success" and
  // exit status 0 below; a SIGKILL would give "timeout" and the signal): no clock needed.
  // `stop` returns once no process of the service remains: no waiting here.
  EXPECT_EQ(ProcState::kGone, GetProcState(pid))
      << "main pid " << ToString(GetProcState(pid)) << " after stop returned";
  std::string log = ServiceLog("web.service");
  EXPECT_NE(std::string::npos, log.find("SIGTERM received, draining")) << log;
  EXPECT_NE(std::string::npos, log.find("drained")) << log;

  s = Status("web.service");
  ASSERT_TRUE(s);
  EXPECT_EQ("stopped", s->value("state", "")) << s->dump();
  EXPECT_EQ("success", s->value("result", "")) << s->dump();
  EXPECT_TRUE((*s)["main_pid"].is_null()) << s->dump();
  ASSERT_TRUE((*s)["last_exit"].is_object()) << s->dump();
  EXPECT_EQ(json(0), (*s)["last_exit"]["code"]) << s->dump();
  // Nothing listens any more: the connection is refused at once. (A long timeout: a server
  // still there but slow must show up as an answer, not pass as "no answer".)
  EXPECT_FALSE(HttpGet(port, 30s).has_value()) << "still serving after stop";
}

TEST_F(StopTest, ServiceOutputGoesToItsLogFileWithStreamTags) {
  WriteUnit("talk.service", R"([Service]
ExecStart={go}/crasher -exit-code 0
)");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  ASSERT_EQ(0, Supctl({"start", "talk"}).exit_code) << SupdContext();
  ASSERT_TRUE(WaitForLog("talk.service", "starting (stderr)")) << ServiceLog("talk.service");
  ASSERT_TRUE(WaitForLog("talk.service", "exiting with status 0")) << ServiceLog("talk.service");
  std::string log = ServiceLog("talk.service");
  // One line per output line, each with a timestamp and a stream tag. The two prefixes (the
  // text before the message) must be non-empty and differ in something other than digits.
  auto prefix_of = [&](const std::string& needle) -> std::string {
    size_t pos = log.find(needle);
    if (pos == std::string::npos) return "";
    size_t b = log.rfind('\n', pos);
    b = b == std::string::npos ? 0 : b + 1;
    std::string prefix = log.substr(b, pos - b);
    std::erase_if(prefix, [](char c) { return c >= '0' && c <= '9'; });
    return prefix;
  };
  std::string out_prefix = prefix_of("starting (stdout)");
  std::string err_prefix = prefix_of("starting (stderr)");
  EXPECT_FALSE(out_prefix.empty()) << "no timestamp/tag before the stdout line: " << log;
  EXPECT_FALSE(err_prefix.empty()) << "no timestamp/tag before the stderr line: " << log;
  EXPECT_NE(out_prefix, err_prefix) << "stdout and stderr lines are not told apart: " << log;
}

TEST_F(StopTest, StopTimeoutSendsSigkillToWholeService) {
  const std::string pidfile = dir_ + "/forker.pids";
  TrackPidFile(pidfile);
  WriteUnit("stubborn.service", R"([Service]
ExecStart={go}/forker -ignore-term -pidfile {dir}/forker.pids
TimeoutStopSec=1
)");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  ASSERT_EQ(0, Supctl({"start", "stubborn"}).exit_code) << SupdContext();
  ASSERT_TRUE(WaitFor([&] { return ReadPids(pidfile).size() == 2; })) << SupdContext();
  auto pids = ReadPids(pidfile);
  ASSERT_EQ(pids[0], WaitForRunning("stubborn.service"));
  ASSERT_TRUE(WaitForLog("stubborn.service", "ignoring SIGTERM"));

  auto t0 = Clock::now();
  CommandResult stop = Supctl({"stop", "stubborn"});
  auto elapsed = std::chrono::duration_cast<Ms>(Clock::now() - t0);
  std::cerr << "[measure] stop with TimeoutStopSec=1 took " << elapsed.count() << " ms\n";
  EXPECT_EQ(0, stop.exit_code) << stop.Describe() << SupdContext();
  // A lower bound only: t0 is taken before the request, and supd's timer cannot fire early, so
  // no load makes this fail. Too late a SIGKILL (TimeoutStopSec= ignored: the default is 90 s)
  // would run into supctl's 60 s limit in Supctl() above.
  EXPECT_GE(elapsed, 1s) << "SIGKILL came before TimeoutStopSec";
  for (pid_t pid : pids) {
    EXPECT_EQ(ProcState::kGone, GetProcState(pid))
        << "pid " << pid << " is " << ToString(GetProcState(pid)) << " after stop returned";
  }
  auto s = Status("stubborn.service");
  ASSERT_TRUE(s);
  EXPECT_TRUE((*s)["main_pid"].is_null()) << s->dump();
  // systemd: a stop that had to time out ends the unit failed with result "timeout".
  EXPECT_EQ("timeout", s->value("result", "")) << s->dump();
  EXPECT_TRUE(s->value("state", "") == "failed" || s->value("state", "") == "stopped") << s->dump();
  ASSERT_TRUE((*s)["last_exit"].is_object()) << s->dump();
  EXPECT_EQ(json("SIGKILL"), (*s)["last_exit"]["signal"]) << s->dump();
}

TEST_F(StopTest, StopLeavesNoGrandchildBehind) {
  const std::string pidfile = dir_ + "/forker.pids";
  TrackPidFile(pidfile);
  // The parent dies on SIGTERM; its child ignores SIGTERM and must be SIGKILLed once
  // TimeoutStopSec has passed (KillMode=control-group, the default).
  WriteUnit("family.service", R"([Service]
ExecStart={go}/forker -pidfile {dir}/forker.pids
TimeoutStopSec=1
)");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  ASSERT_EQ(0, Supctl({"start", "family"}).exit_code) << SupdContext();
  ASSERT_TRUE(WaitFor([&] { return ReadPids(pidfile).size() == 2; })) << SupdContext();
  auto pids = ReadPids(pidfile);
  ASSERT_EQ(ProcState::kAlive, GetProcState(pids[1]));

  auto t0 = Clock::now();
  CommandResult stop = Supctl({"stop", "family"});
  auto elapsed = std::chrono::duration_cast<Ms>(Clock::now() - t0);
  std::cerr << "[measure] stop of parent + TERM-ignoring child took " << elapsed.count() << " ms\n";
  // No upper bound on the time: had supd waited for the default TimeoutStopSec= (90 s) the stop
  // would run into Supctl()'s 60 s limit; the processes are checked one by one below.
  EXPECT_EQ(0, stop.exit_code) << stop.Describe() << SupdContext();
  for (pid_t pid : pids) {
    EXPECT_EQ(ProcState::kGone, GetProcState(pid))
        << "pid " << pid << " (" << ProcCmdline(pid) << ") is " << ToString(GetProcState(pid))
        << " after stop returned";
  }
  EXPECT_NE("running", State("family.service"));
}

TEST_F(StopTest, StopKillsGrandchildThatLeftTheSessionAndProcessGroup) {
  const std::string pidfile = dir_ + "/forker.pids";
  TrackPidFile(pidfile);
  // The child calls setsid(): a kill of the process group misses it; only a cgroup (or an
  // equivalent tracking of descendants) finds it.
  WriteUnit("daemonish.service", R"([Service]
ExecStart={go}/forker -detach -pidfile {dir}/forker.pids
TimeoutStopSec=1
)");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  ASSERT_EQ(0, Supctl({"start", "daemonish"}).exit_code) << SupdContext();
  ASSERT_TRUE(WaitFor([&] { return ReadPids(pidfile).size() == 2; })) << SupdContext();
  auto pids = ReadPids(pidfile);
  CommandResult stop = Supctl({"stop", "daemonish"});
  EXPECT_EQ(0, stop.exit_code) << stop.Describe() << SupdContext();
  for (pid_t pid : pids) {
    EXPECT_EQ(ProcState::kGone, GetProcState(pid))
        << "pid " << pid << " (" << ProcCmdline(pid) << ") is " << ToString(GetProcState(pid))
        << " after stop returned";
  }
}

TEST_F(StopTest, ServiceProcessesStartInsideTheServiceCgroup) {
  WriteUnit("cg.service", R"([Service]
ExecStart={go}/crasher -sleep
)");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  ASSERT_EQ(0, Supctl({"start", "cg"}).exit_code) << SupdContext();
  auto st = Status("cg.service");
  ASSERT_TRUE(st);
  if ((*st)["tracking"] != "cgroup") {
    GTEST_SKIP() << "no cgroup tracking here: " << (*st)["tracking"];
  }
  const std::string cgroup = (*st)["cgroup"].get<std::string>();
  const pid_t pid = (*st)["main_pid"].get<pid_t>();
  std::ifstream in("/proc/" + std::to_string(pid) + "/cgroup");
  std::string line, v2;
  while (std::getline(in, line))
    if (line.rfind("0::", 0) == 0) v2 = line.substr(3);
  ASSERT_FALSE(v2.empty());
  // The status names the directory under the cgroup2 mount; /proc names the path inside it.
  EXPECT_GE(cgroup.size(), v2.size());
  EXPECT_EQ(cgroup.substr(cgroup.size() - v2.size()), v2) << cgroup << " vs " << v2;
  EXPECT_EQ(0, Supctl({"stop", "cg"}).exit_code);
}

TEST_F(StopTest, ExecStopWithMainPidStopsCleanly) {
  int port = FreeTcpPort();
  WriteUnit("web.service", Subst(R"([Service]
ExecStart={go}/httpserver -ignore-term -addr 127.0.0.1:{port}
ExecStop=/bin/kill -s SIGINT $MAINPID
TimeoutStopSec=10
)",
                                 {{"port", Port(port)}}));
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  ASSERT_EQ(0, Supctl({"start", "web"}).exit_code) << SupdContext();
  pid_t pid = WaitForRunning("web.service");
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(WaitForLog("web.service", "listening on")) << ServiceLog("web.service");

  CommandResult stop = Supctl({"stop", "web"});
  ASSERT_EQ(0, stop.exit_code) << stop.Describe() << SupdContext();
  EXPECT_EQ(ProcState::kGone, GetProcState(pid)) << ToString(GetProcState(pid));
  std::string log = ServiceLog("web.service");
  EXPECT_NE(std::string::npos, log.find("SIGINT received, draining"))
      << "ExecStop= did not deliver SIGINT to $MAINPID: " << log;
  EXPECT_NE(std::string::npos, log.find("drained")) << log;
  auto s = Status("web.service");
  ASSERT_TRUE(s);
  EXPECT_EQ("stopped", s->value("state", "")) << s->dump();
  EXPECT_EQ("success", s->value("result", "")) << s->dump();
}

// systemd.service(5), ExecStop=: "After the commands configured in this option are run, ...
// any processes remaining for it are terminated according to the KillMode= setting": the
// KillSignal= comes after ExecStop= has finished, not beside it.
TEST_F(StopTest, KillSignalComesOnlyAfterExecStopFinished) {
  WriteUnit("ordered.service", R"([Service]
ExecStart=/bin/sh -c 'trap "if test -e {dir}/execstop-done; then echo TERM-after-ExecStop; else echo TERM-before-ExecStop; fi; exit 0" TERM; echo up; while :; do sleep 0.05; done'
ExecStop=/bin/sh -c 'sleep 0.5; touch {dir}/execstop-done'
TimeoutStopSec=10
)");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  ASSERT_EQ(0, Supctl({"start", "ordered"}).exit_code) << SupdContext();
  ASSERT_GT(WaitForRunning("ordered.service"), 0);
  ASSERT_TRUE(WaitForLog("ordered.service", "up"));
  CommandResult stop = Supctl({"stop", "ordered"});
  ASSERT_EQ(0, stop.exit_code) << stop.Describe();
  std::string log = ServiceLog("ordered.service");
  EXPECT_NE(std::string::npos, log.find("TERM-after-ExecStop")) << log;
  EXPECT_EQ(std::string::npos, log.find("TERM-before-ExecStop")) << log;
}

// A stop that arrives right after a start (Type=simple: `start` returns once forked, maybe before
// execve) must still stop the process at once: a signal that lands between fork and exec must
// not be lost or be taken by a signal handler inherited from supd. The start and the stop are
// sent in one write on one connection so that the stop follows the fork within microseconds.
// How the process ended tells whether the SIGTERM arrived: crasher -sleep keeps SIGTERM's default
// action, so it dies of SIGTERM; a lost one ends in the SIGKILL after TimeoutStopSec= (result
// "timeout"). No clock is involved, so a slow machine cannot fail the test.
TEST_F(StopTest, StopRightAfterStartIsNotLost) {
  // StartLimitIntervalSec=0: manual starts count against the start limit too.
  WriteUnit("quick.service", R"([Unit]
StartLimitIntervalSec=0
[Service]
ExecStart={go}/crasher -sleep
TimeoutStopSec=20
)");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  for (int i = 0; i < 30; ++i) {
    SCOPED_TRACE("iteration " + std::to_string(i));
    RawClient client(socket_);
    ASSERT_TRUE(client.connected());
    ASSERT_TRUE(
        client.Send("{\"id\":1,\"cmd\":\"start\",\"args\":{\"services\":[\"quick\"]}}\n"
                    "{\"id\":2,\"cmd\":\"stop\",\"args\":{\"services\":[\"quick\"]}}\n"));
    for (int id : {1, 2}) {
      auto line = client.ReadLine(60s);
      ASSERT_TRUE(line) << "no reply to request " << id << SupdContext();
      json reply = json::parse(*line, nullptr, false);
      ASSERT_TRUE(reply.is_object() && reply["ok"] == json(true)) << *line;
    }
    ASSERT_TRUE(SupdAlive());
    auto s = Status("quick.service");
    ASSERT_TRUE(s);
    ASSERT_EQ("stopped", s->value("state", "")) << s->dump();
    ASSERT_EQ("success", s->value("result", ""))
        << "the SIGTERM was lost: the stop waited for TimeoutStopSec " << s->dump()
        << SupdContext();
    ASSERT_TRUE((*s)["last_exit"].is_object()) << s->dump();
    ASSERT_EQ(json("SIGTERM"), (*s)["last_exit"]["signal"]) << s->dump();
  }
  EXPECT_EQ(std::string::npos, SupdStderr().find("already stopping"))
      << "supd saw a signal of its own that it was not sent" << SupdContext();
}

TEST_F(StopTest, ExecStartPreAndExecStopPostRunAroundTheService) {
  WriteUnit("hooks.service", R"([Service]
ExecStartPre=/bin/sh -c 'echo pre >> {dir}/hooks'
ExecStart={go}/crasher -sleep
ExecStopPost=/bin/sh -c 'echo "post $SERVICE_RESULT" >> {dir}/hooks'
)");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  ASSERT_EQ(0, Supctl({"start", "hooks"}).exit_code) << SupdContext();
  ASSERT_GT(WaitForRunning("hooks.service"), 0);
  EXPECT_EQ("pre\n", ReadFile(dir_ + "/hooks"));
  CommandResult stop = Supctl({"stop", "hooks"});
  ASSERT_EQ(0, stop.exit_code) << stop.Describe();
  // ExecStopPost= is part of the stop: done when `stop` returns.
  std::string hooks = ReadFile(dir_ + "/hooks");
  EXPECT_EQ(0u, hooks.rfind("pre\npost", 0)) << hooks;
  EXPECT_EQ("pre\npost success\n", hooks) << "ExecStopPost= should see $SERVICE_RESULT=success";
}

TEST_F(StopTest, FailingExecStartPreFailsTheStart) {
  WriteUnit("prefail.service", R"([Service]
ExecStartPre=/bin/false
ExecStart={go}/crasher -sleep -write-file {dir}/starts
)");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  CommandResult start = Supctl({"start", "prefail"});
  EXPECT_EQ(1, start.exit_code) << start.Describe();
  EXPECT_FALSE(start.err.empty()) << "no reason given";
  auto s = Status("prefail.service");
  ASSERT_TRUE(s);
  EXPECT_EQ("failed", s->value("state", "")) << s->dump();
  EXPECT_EQ("exit-code", s->value("result", "")) << s->dump();
  EXPECT_FALSE(FileExists(dir_ + "/starts")) << "ExecStart ran although ExecStartPre failed";
}

TEST_F(StopTest, OneshotWithRemainAfterExitStaysActive) {
  WriteUnit("setup.service", R"([Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/sh -c 'sleep 0.3; echo done > {dir}/setup'
ExecStop=/bin/sh -c 'echo stopped >> {dir}/setup'
)");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  CommandResult start = Supctl({"start", "setup"});
  ASSERT_EQ(0, start.exit_code) << start.Describe();
  // oneshot: `start` returns after ExecStart finished.
  EXPECT_EQ("done\n", ReadFile(dir_ + "/setup"));
  auto s = Status("setup.service");
  ASSERT_TRUE(s);
  EXPECT_EQ("running", s->value("state", "")) << s->dump();
  EXPECT_EQ("success", s->value("result", "")) << s->dump();
  ASSERT_EQ(0, Supctl({"stop", "setup"}).exit_code);
  EXPECT_EQ("done\nstopped\n", ReadFile(dir_ + "/setup"));
  EXPECT_EQ("stopped", State("setup.service"));
}

TEST_F(StopTest, ExecConditionFailureSkipsTheStart) {
  WriteUnit("cond.service", R"([Service]
ExecCondition=/bin/sh -c 'exit 1'
ExecStart={go}/crasher -sleep -write-file {dir}/starts
)");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  CommandResult start = Supctl({"start", "cond"});
  EXPECT_EQ(0, start.exit_code) << "ExecCondition= exiting 1 is a skip, not a failure: "
                                << start.Describe();
  EXPECT_FALSE(FileExists(dir_ + "/starts"));
  EXPECT_NE("failed", State("cond.service"));
  EXPECT_NE("running", State("cond.service"));
}

}  // namespace
}  // namespace supd::integration
