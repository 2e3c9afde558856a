// supd as a whole: signals to the daemon (SIGHUP, SIGTERM), supctl's commands and exit codes,
// and a control socket that survives bad input.

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "tests/integration/harness.h"

namespace supd::integration {
namespace {

using nlohmann::json;

extern "C" char** environ;

class DaemonTest : public SupdTest {};

TEST_F(DaemonTest, SighupLoadsNewUnitsAndStopsRemovedOnes) {
  WriteUnit("old.service", R"([Service]
ExecStart={go}/crasher -sleep
[Install]
WantedBy=multi-user.target
)");
  WriteUnit("stay.service", R"([Service]
ExecStart={go}/crasher -sleep
[Install]
WantedBy=multi-user.target
)");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  pid_t old_pid = WaitForRunning("old.service");
  pid_t stay_pid = WaitForRunning("stay.service");
  ASSERT_GT(old_pid, 0) << SupdContext();
  ASSERT_GT(stay_pid, 0) << SupdContext();

  // A new unit starts on the reload when it is enabled (linked, as `supctl enable` or a copy
  // from a systemd host leaves it); one that is only [Install]-able is loaded, not started.
  WriteUnit("new.service", R"([Service]
ExecStart={go}/crasher -sleep
[Install]
WantedBy=multi-user.target
)");
  WriteUnit("idle.service", R"([Service]
ExecStart={go}/crasher -sleep
[Install]
WantedBy=multi-user.target
)");
  std::filesystem::create_symlink("../new.service",
                                  units_dir_ + "/multi-user.target.wants/new.service");
  RemoveUnit("old.service");
  ASSERT_EQ(0, kill(supd_pid_, SIGHUP));

  EXPECT_GT(WaitForRunning("new.service"), 0) << SupdContext();
  auto idle = Status("idle.service");
  ASSERT_TRUE(idle) << SupdContext();
  EXPECT_EQ("stopped", idle->value("state", "")) << idle->dump();
  EXPECT_EQ("disabled", idle->value("enable_state", "")) << idle->dump();
  EXPECT_TRUE(WaitFor([&] { return GetProcState(old_pid) == ProcState::kGone; }))
      << "removed unit's process " << old_pid << " is " << ToString(GetProcState(old_pid))
      << SupdContext();
  // Removed: either unknown now, or known and stopped.
  CommandResult old_status = Supctl({"status", "old", "--json"});
  if (old_status.exit_code == 0) {
    auto s = Status("old.service");
    ASSERT_TRUE(s);
    EXPECT_EQ("stopped", s->value("state", "")) << s->dump();
  } else {
    EXPECT_EQ(1, old_status.exit_code) << old_status.Describe();
  }
  // An unchanged unit is left alone.
  EXPECT_EQ(stay_pid, MainPid("stay.service"));
  EXPECT_TRUE(SupdAlive());
}

TEST_F(DaemonTest, SigtermStopsAllServicesAndSupdExitsZero) {
  int port = FreeTcpPort();
  const std::string pidfile = dir_ + "/forker.pids";
  TrackPidFile(pidfile);
  WriteUnit("web.service", Subst(R"([Service]
ExecStart={go}/httpserver -addr 127.0.0.1:{port}
[Install]
WantedBy=multi-user.target
)",
                                 {{"port", std::to_string(port)}}));
  WriteUnit("sleeper.service", R"([Service]
ExecStart={go}/crasher -sleep
[Install]
WantedBy=multi-user.target
)");
  WriteUnit("family.service", R"([Service]
ExecStart={go}/forker -pidfile {dir}/forker.pids
TimeoutStopSec=2
[Install]
WantedBy=default.target
)");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  std::vector<pid_t> pids;
  for (const char* name : {"web.service", "sleeper.service", "family.service"}) {
    pid_t pid = WaitForRunning(name);
    ASSERT_GT(pid, 0) << name << SupdContext();
    pids.push_back(pid);
  }
  ASSERT_TRUE(WaitFor([&] { return ReadPids(pidfile).size() == 2; }));
  pids.push_back(ReadPids(pidfile)[1]);
  ASSERT_TRUE(WaitForLog("web.service", "listening on"));

  auto t0 = Clock::now();
  // The slowest service has TimeoutStopSec=2 (its child ignores SIGTERM); the others use the
  // default of 90 s, which they must not need: supd that waited for it would not exit within
  // 60 s and StopSupd() would return -2. No tighter bound: it would measure the machine's load.
  int code = StopSupd(60s);
  auto elapsed = std::chrono::duration_cast<Ms>(Clock::now() - t0);
  std::cerr << "[measure] supd SIGTERM → exit took " << elapsed.count() << " ms\n";
  EXPECT_EQ(0, code) << SupdContext();
  for (pid_t pid : pids) {
    EXPECT_NE(ProcState::kAlive, GetProcState(pid))
        << "pid " << pid << " (" << ProcCmdline(pid) << ") alive after supd exited";
  }
  EXPECT_NE(std::string::npos, ServiceLog("web.service").find("drained"))
      << ServiceLog("web.service");
}

TEST_F(DaemonTest, RestartCommandGivesNewMainPid) {
  WriteUnit("svc.service", R"([Service]
ExecStart={go}/crasher -sleep -write-file {dir}/starts
)");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  ASSERT_EQ(0, Supctl({"start", "svc.service"}).exit_code);
  pid_t first = WaitForRunning("svc.service");
  ASSERT_GT(first, 0);
  // Running (Type=simple) is "spawned": let the program get to main() before restarting it.
  ASSERT_TRUE(WaitFor([&] { return CountLines(dir_ + "/starts") == 1; }));
  CommandResult restart = Supctl({"restart", "svc"});
  ASSERT_EQ(0, restart.exit_code) << restart.Describe();
  EXPECT_EQ(ProcState::kGone, GetProcState(first));
  pid_t second = WaitForRunning("svc.service");
  EXPECT_GT(second, 0);
  EXPECT_NE(first, second);
  // Type=simple is running once spawned, maybe before the program wrote its pid.
  EXPECT_TRUE(WaitFor([&] { return CountLines(dir_ + "/starts") == 2; }))
      << CountLines(dir_ + "/starts");
  // A manual restart is not an automatic one.
  EXPECT_EQ(0, Restarts("svc.service"));

  // start of a running service is a no-op success; stop of a stopped one too.
  CommandResult again = Supctl({"start", "svc"});
  EXPECT_EQ(0, again.exit_code) << again.Describe();
  EXPECT_EQ(second, MainPid("svc.service"));
  ASSERT_EQ(0, Supctl({"stop", "svc"}).exit_code);
  CommandResult stop_again = Supctl({"stop", "svc"});
  EXPECT_EQ(0, stop_again.exit_code) << stop_again.Describe();
}

TEST_F(DaemonTest, KillCommandSendsTheSignal) {
  WriteUnit("victim.service", R"([Service]
ExecStart={go}/crasher -sleep
)");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  ASSERT_EQ(0, Supctl({"start", "victim"}).exit_code);
  pid_t pid = WaitForRunning("victim.service");
  ASSERT_GT(pid, 0);
  CommandResult k = Supctl({"kill", "-s", "SIGKILL", "victim"});
  ASSERT_EQ(0, k.exit_code) << k.Describe();
  ASSERT_TRUE(WaitFor([&] {
    auto s = Status("victim.service");
    return s && (*s)["last_exit"].is_object();
  })) << SupdContext();
  auto s = Status("victim.service");
  EXPECT_EQ(json("SIGKILL"), (*s)["last_exit"]["signal"]) << s->dump();
  EXPECT_EQ("failed", s->value("state", "")) << s->dump();
  EXPECT_EQ("signal", s->value("result", "")) << s->dump();
  EXPECT_TRUE(WaitFor([&] { return GetProcState(pid) == ProcState::kGone; }))
      << ToString(GetProcState(pid));
}

TEST_F(DaemonTest, SupctlExitCodes) {
  // 3: no daemon at the socket.
  CommandResult r = RunCommand({SUPCTL_BIN, "--socket", dir_ + "/nothing-here.sock", "status"});
  EXPECT_EQ(3, r.exit_code) << r.Describe();
  EXPECT_FALSE(r.err.empty());
  r = RunCommand({SUPCTL_BIN, "--socket", dir_ + "/nothing-here.sock", "version"});
  EXPECT_EQ(3, r.exit_code) << r.Describe();
  // 2: usage errors.
  r = RunCommand({SUPCTL_BIN, "--socket", socket_});
  EXPECT_EQ(2, r.exit_code) << r.Describe();
  r = RunCommand({SUPCTL_BIN, "--socket", socket_, "frobnicate"});
  EXPECT_EQ(2, r.exit_code) << r.Describe();
  r = RunCommand({SUPCTL_BIN, "--socket", socket_, "status", "--no-such-flag"});
  EXPECT_EQ(2, r.exit_code) << r.Describe();
  r = RunCommand({SUPCTL_BIN, "--socket", socket_, "start"});
  EXPECT_EQ(2, r.exit_code) << "start needs a service: " << r.Describe();

  WriteUnit("svc.service", R"([Service]
ExecStart={go}/crasher -sleep
)");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  // 1: refused / unknown service.
  r = Supctl({"start", "no-such-service"});
  EXPECT_EQ(1, r.exit_code) << r.Describe();
  EXPECT_NE(std::string::npos, r.err.find("no-such-service")) << r.Describe();
  r = Supctl({"status", "no-such-service"});
  EXPECT_EQ(1, r.exit_code) << r.Describe();
  // 0, and SUPD_SOCKET instead of --socket.
  r = RunCommand({SUPCTL_BIN, "version"}, 30s, {"SUPD_SOCKET=" + socket_});
  EXPECT_EQ(0, r.exit_code) << r.Describe();
  EXPECT_FALSE(r.out.empty());
  r = RunCommand({SUPCTL_BIN, "status"}, 30s, {"SUPD_SOCKET=" + socket_});
  EXPECT_EQ(0, r.exit_code) << r.Describe();
  EXPECT_NE(std::string::npos, r.out.find("svc.service")) << r.Describe();
}

TEST_F(DaemonTest, ControlSocketSurvivesBadInput) {
  WriteUnit("svc.service", R"([Service]
ExecStart={go}/crasher -sleep
[Install]
WantedBy=multi-user.target
)");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  ASSERT_GT(WaitForRunning("svc.service"), 0);

  // An idle client must not block anyone (one thread, event-driven).
  RawClient idle(socket_);
  ASSERT_TRUE(idle.connected()) << "cannot connect to " << socket_;

  auto expect_error_line = [&](const std::string& what, const std::string& payload,
                               const json& id) {
    SCOPED_TRACE(what);
    auto reply = RawControlRequest(socket_, payload);
    ASSERT_TRUE(reply.has_value()) << "cannot connect";
    ASSERT_FALSE(reply->line.empty()) << "no reply (closed: " << reply->closed << ")";
    json j = json::parse(reply->line, nullptr, /*allow_exceptions=*/false);
    ASSERT_TRUE(j.is_object()) << "reply is not a JSON object: " << reply->line;
    EXPECT_EQ(json(false), j["ok"]) << reply->line;
    ASSERT_TRUE(j["error"].is_object()) << reply->line;
    EXPECT_TRUE(j["error"]["code"].is_string()) << reply->line;
    EXPECT_TRUE(j["error"]["message"].is_string()) << reply->line;
    if (!id.is_null()) {
      EXPECT_EQ(id, j["id"]) << reply->line;
    }
  };
  expect_error_line("garbage", "this is not json\n", json());
  expect_error_line("not an object", "[1,2,3]\n", json());
  expect_error_line("no cmd", "{\"id\":5}\n", json());
  expect_error_line("unknown command", "{\"id\":7,\"cmd\":\"frobnicate\",\"args\":{}}\n", json(7));
  expect_error_line("wrong arg type",
                    "{\"id\":8,\"cmd\":\"start\",\"args\":{\"services\":42,\"names\":42}}\n",
                    json(8));
  expect_error_line("binary", std::string("\x00\xff\xfe{\n", 5), json());
  // Found in review: each of these took supd down once.
  expect_error_line("30000 levels of nesting",
                    "{\"id\":" + std::string(30000, '[') + std::string(30000, ']') +
                        ",\"cmd\":\"status\"}\n",
                    json());
  expect_error_line("kill with a non-string whom",
                    "{\"id\":9,\"cmd\":\"kill\",\"args\":{\"services\":\"svc\",\"whom\":5}}\n",
                    json(9));
  expect_error_line("kill with a bad signal",
                    "{\"id\":10,\"cmd\":\"kill\",\"args\":{\"services\":[\"svc\"],"
                    "\"signal\":{\"a\":1}}}\n",
                    json(10));
  ASSERT_EQ("running", State("svc.service")) << SupdContext();

  {
    SCOPED_TRACE("100 KiB line");
    auto reply = RawControlRequest(socket_, std::string(100 * 1024, 'a') + "\n");
    ASSERT_TRUE(reply.has_value());
    if (!reply->line.empty()) {
      json j = json::parse(reply->line, nullptr, false);
      EXPECT_TRUE(j.is_object() && j["ok"] == json(false)) << reply->line.substr(0, 300);
    } else {
      EXPECT_TRUE(reply->closed) << "neither an error line nor a closed connection";
    }
  }
  {
    SCOPED_TRACE("100 KiB without newline, then hang up");
    auto reply = RawControlRequest(socket_, std::string(100 * 1024, '{'), 1s);
    ASSERT_TRUE(reply.has_value());
  }

  // A well-formed request on a raw connection works.
  auto ok = RawControlRequest(socket_, "{\"id\":1,\"cmd\":\"status\",\"args\":{}}\n");
  ASSERT_TRUE(ok.has_value());
  json j = json::parse(ok->line, nullptr, false);
  EXPECT_TRUE(j.is_object() && j["ok"] == json(true) && j["id"] == json(1)) << ok->line;

  // Two requests in one write on one connection, both answered in order; an error does not
  // end the connection.
  RawClient client(socket_);
  ASSERT_TRUE(client.Send("{\"id\":1,\"cmd\":\"version\"}\n{\"id\":2,\"cmd\":\"version\"}\n"));
  for (int id : {1, 2}) {
    auto line = client.ReadLine();
    ASSERT_TRUE(line) << "no answer to request " << id;
    json a = json::parse(*line, nullptr, false);
    EXPECT_TRUE(a.is_object() && a["ok"] == json(true) && a["id"] == json(id)) << *line;
  }
  ASSERT_TRUE(client.Send("nonsense\n{\"id\":3,\"cmd\":\"version\"}\n"));
  auto err_line = client.ReadLine();
  ASSERT_TRUE(err_line);
  EXPECT_NE(std::string::npos, err_line->find("\"ok\":false")) << *err_line;
  auto third = client.ReadLine();
  ASSERT_TRUE(third) << "connection not usable after an error line";
  EXPECT_NE(std::string::npos, third->find("\"id\":3")) << *third;

  // Still serving ordinary clients, services untouched.
  EXPECT_TRUE(SupdAlive()) << SupdContext();
  CommandResult r = Supctl({"status", "--json"});
  EXPECT_EQ(0, r.exit_code) << r.Describe();
  EXPECT_EQ("running", State("svc.service"));
}

TEST_F(DaemonTest, IdleClientsDoNotBlockOthers) {
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  std::vector<RawClient> idle;
  for (int i = 0; i < 8; ++i) {
    idle.emplace_back(socket_);
    ASSERT_TRUE(idle.back().connected());
  }
  // One of them sent half a request and stopped.
  ASSERT_TRUE(idle[0].Send("{\"id\":1,\"cmd\":"));
  // Others are answered while the idle ones are still connected: a supd blocked on them would
  // answer only after hanging up on them (60 s idle limit), or never. No clock: the order is the
  // proof (answer first, idle connections still open after it).
  CommandResult r = Supctl({"version"});
  EXPECT_EQ(0, r.exit_code) << r.Describe();
  r = Supctl({"status", "--json"});
  EXPECT_EQ(0, r.exit_code) << r.Describe();
  for (size_t i = 0; i < idle.size(); ++i) {
    EXPECT_FALSE(idle[i].ReadLine(1ms)) << "idle client " << i << " got an answer";
    EXPECT_FALSE(idle[i].closed()) << "idle client " << i << " was hung up on before the answer";
  }
}


// supd started with relative paths (cd DIR; supd --control-socket supd.sock …): a Type=notify
// service runs in / and still reaches the notify socket, which sits beside the control socket:
// supd makes its paths absolute before it derives NOTIFY_SOCKET from them.
TEST_F(DaemonTest, RelativePathsOnTheCommandLineStillReachTheNotifySocket) {
  WriteUnit("ready.service", R"([Service]
Type=notify
ExecStart={go}/notifier -ready-after 0s
WorkingDirectory=/
TimeoutStartSec=20s
)");
  const std::string script = "cd '" + dir_ +
                             "' && exec \"$0\" --units units --control-socket rel.sock "
                             "--state-dir rel-state --log-dir rel-logs";
  std::vector<std::string> argv = {"/bin/sh", "-c", script, SUPD_BIN};
  std::vector<char*> c_argv;
  for (auto& a : argv) c_argv.push_back(a.data());
  c_argv.push_back(nullptr);
  SpawnAttr attr;
  pid_t pid = -1;
  ASSERT_EQ(0, posix_spawn(&pid, "/bin/sh", nullptr, &attr.attr, c_argv.data(), environ));
  const std::string sock = dir_ + "/rel.sock";
  auto supctl = [&](const std::vector<std::string>& args) {
    std::vector<std::string> full = {SUPCTL_BIN, "--socket", sock};
    full.insert(full.end(), args.begin(), args.end());
    return RunCommand(full, 60s);
  };
  EXPECT_TRUE(WaitFor([&] { return supctl({"version"}).exit_code == 0; }));
  const CommandResult start = supctl({"start", "ready"});
  EXPECT_EQ(0, start.exit_code) << start.Describe();
  const CommandResult show = supctl({"show", "-p", "ActiveState", "--value", "ready"});
  EXPECT_EQ("active\n", show.out);
  kill(pid, SIGTERM);
  int status = 0;
  EXPECT_EQ(pid, waitpid(pid, &status, 0));
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

}  // namespace
}  // namespace supd::integration
