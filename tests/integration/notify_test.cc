// sd_notify against the real daemon: readiness, status text, watchdog, STOPPING=1, MAINPID=,
// reload, NotifyAccess=, Debian's go-systemd client and systemd-notify, and hostile datagrams.

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <thread>

#include "tests/integration/harness.h"

namespace supd::integration {
namespace {

using nlohmann::json;

class NotifyTest : public SupdTest {
 protected:
  std::string NotifySocket() const {
    std::string n = socket_;
    if (n.size() > 5 && n.compare(n.size() - 5, 5, ".sock") == 0) n.resize(n.size() - 5);
    return n + ".notify";
  }
  std::map<std::string, std::string> ReadEnvFile(const std::string& path) {
    std::map<std::string, std::string> env;
    std::istringstream in(ReadFile(path));
    std::string line;
    while (std::getline(in, line)) {
      auto eq = line.find('=');
      if (eq != std::string::npos) env[line.substr(0, eq)] = line.substr(eq + 1);
    }
    return env;
  }
  int OpenFdCount(pid_t pid) {
    int n = 0;
    for (auto& e : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd")) {
      (void)e;
      ++n;
    }
    return n;
  }
};

// The program sends READY=1 only once the test creates {dir}/gate: `start` must still be waiting
// while the program provably waits, and return once it is ready. No clock involved.
TEST_F(NotifyTest, StartWaitsForReadyAndShowsStatusText) {
  WriteUnit("n.service", R"([Service]
Type=notify
ExecStart={go}/notifier -ready-when {dir}/gate -write-env {dir}/env
TimeoutStartSec=infinity
)");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  std::atomic<bool> returned{false};
  CommandResult start;
  std::thread starter([&] {
    start = Supctl({"start", "n"});
    returned = true;
  });
  const bool waiting = WaitForLog("n.service", "waiting for " + dir_ + "/gate before READY=1");
  EXPECT_TRUE(waiting) << ServiceLog("n.service") << SupdContext();
  EXPECT_FALSE(returned) << "start returned before READY=1: " << start.Describe();
  EXPECT_EQ("starting", State("n.service"));
  WriteFile(dir_ + "/gate", "");
  starter.join();
  ASSERT_EQ(0, start.exit_code) << start.Describe() << SupdContext();
  auto st = Status("n.service");
  ASSERT_TRUE(st);
  EXPECT_EQ("running", st->value("state", ""));
  EXPECT_EQ("ready", st->value("status_text", "")) << st->dump();
  auto env = ReadEnvFile(dir_ + "/env");
  EXPECT_EQ(NotifySocket(), env["NOTIFY_SOCKET"]);
  EXPECT_EQ("", env["WATCHDOG_USEC"]) << "no WatchdogSec=, no WATCHDOG_USEC";
  CommandResult human = Supctl({"status", "n"});
  EXPECT_NE(std::string::npos, human.out.find("Status: \"ready\"")) << human.out;
}

TEST_F(NotifyTest, NoReadyFailsTheStartWithTheReason) {
  WriteUnit("slow.service", R"([Service]
Type=notify
ExecStart={go}/notifier -never-ready
TimeoutStartSec=1
)");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  CommandResult start = Supctl({"start", "slow"});
  EXPECT_EQ(1, start.exit_code) << start.Describe();
  EXPECT_NE(std::string::npos, start.err.find("start timeout: no READY=1 within 1s"))
      << start.Describe();
  auto st = Status("slow.service");
  ASSERT_TRUE(st);
  EXPECT_EQ("failed", st->value("state", "")) << st->dump();
  EXPECT_EQ("timeout", st->value("result", "")) << st->dump();
}

TEST_F(NotifyTest, MissedWatchdogPingAbortsAndRestarts) {
  WriteUnit("wd.service", R"([Service]
Type=notify
ExecStart={go}/notifier -ready-after 0s -watchdog -hang-after 1s -write-env {dir}/env
WatchdogSec=500ms
Restart=on-watchdog
RestartSec=0
)");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  ASSERT_EQ(0, Supctl({"start", "wd"}).exit_code) << SupdContext();
  const pid_t first = MainPid("wd.service");
  ASSERT_GT(first, 0);
  ASSERT_TRUE(WaitFor([&] { return FileExists(dir_ + "/env"); }));
  auto env = ReadEnvFile(dir_ + "/env");
  EXPECT_EQ("500000", env["WATCHDOG_USEC"]);
  EXPECT_EQ(std::to_string(first), env["WATCHDOG_PID"]) << "WATCHDOG_PID is the child's own pid";
  // Pings keep it alive past one interval; after the hang it is aborted and restarted.
  ASSERT_TRUE(WaitFor([&] { return Restarts("wd.service") >= 1; })) << SupdContext();
  auto st = Status("wd.service");
  ASSERT_TRUE(st);
  // Go catches SIGABRT, prints every goroutine's stack and exits with status 2.
  EXPECT_EQ(2, (*st)["last_exit"]["code"]) << st->dump();
  EXPECT_EQ(first, (*st)["last_exit"]["pid"].get<pid_t>());
  // Go prints every goroutine's stack on SIGABRT: it is in the log for the morning.
  EXPECT_NE(std::string::npos, ServiceLog("wd.service").find("SIGABRT")) << ServiceLog("wd.service");
}

TEST_F(NotifyTest, StoppingOnTermAndGoSystemdClient) {
  WriteUnit("gs.service", R"([Service]
Type=notify
ExecStart={go}/gosystemd
)");
  WriteUnit("st.service", R"([Service]
Type=notify
ExecStart={go}/notifier -ready-after 0s -stopping-on-term
)");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  CommandResult gs = Supctl({"start", "gs"});
  ASSERT_EQ(0, gs.exit_code) << gs.Describe() << SupdContext();
  // The program sends READY=1 and STATUS= in two datagrams: start may answer between them.
  EXPECT_TRUE(WaitFor([&] {
    auto s = Status("gs.service");
    return s && s->value("status_text", "") == "go-systemd ready";
  })) << SupdContext();
  ASSERT_EQ(0, Supctl({"start", "st"}).exit_code) << SupdContext();
  CommandResult stop = Supctl({"stop", "st", "gs"});
  EXPECT_EQ(0, stop.exit_code) << stop.Describe();
  EXPECT_EQ("stopped", State("st.service"));
  EXPECT_EQ("stopped", State("gs.service"));
}

TEST_F(NotifyTest, MainPidHandsTheServiceToAChild) {
  WriteUnit("mp.service", R"([Service]
Type=notify
ExecStart={go}/notifier -mainpid-child -write-env {dir}/env
TimeoutStopSec=2
)");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  ASSERT_EQ(0, Supctl({"start", "mp"}).exit_code) << SupdContext();
  ASSERT_TRUE(WaitFor([&] { return FileExists(dir_ + "/env"); }));
  const pid_t parent = std::stoi(ReadEnvFile(dir_ + "/env")["PID"]);
  // The parent exits; the child named by MAINPID= is now the main process and the service runs.
  ASSERT_TRUE(WaitFor([&] { return GetProcState(parent) == ProcState::kGone; })) << SupdContext();
  ASSERT_TRUE(WaitFor([&] { return MainPid("mp.service") > 0 && MainPid("mp.service") != parent; }))
      << SupdContext();
  const pid_t child = MainPid("mp.service");
  TrackPid(child);
  EXPECT_EQ("running", State("mp.service"));
  ASSERT_EQ(0, Supctl({"stop", "mp"}).exit_code);
  EXPECT_EQ(ProcState::kGone, GetProcState(child));
}

TEST_F(NotifyTest, ReloadSignalsNotifyReloadAndRunsExecReload) {
  WriteUnit("nr.service", R"([Service]
Type=notify-reload
ExecStart={go}/notifier -ready-after 0s -reload-on-hup
)");
  WriteUnit("er.service", R"([Service]
Type=notify
ExecStart={go}/notifier -ready-after 0s -reload-on-hup
ExecReload=/bin/kill -HUP $MAINPID
)");
  WriteUnit("none.service", R"([Service]
ExecStart={go}/crasher -sleep
)");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  ASSERT_EQ(0, Supctl({"start", "nr", "er", "none"}).exit_code) << SupdContext();
  CommandResult r1 = Supctl({"reload", "nr"});
  EXPECT_EQ(0, r1.exit_code) << r1.Describe() << SupdContext();
  CommandResult r2 = Supctl({"reload", "er"});
  EXPECT_EQ(0, r2.exit_code) << r2.Describe() << SupdContext();
  EXPECT_TRUE(WaitFor([&] { return ServiceLog("nr.service").find("reload") != std::string::npos; }))
      << ServiceLog("nr.service");
  CommandResult r3 = Supctl({"reload", "none"});
  EXPECT_EQ(1, r3.exit_code) << r3.Describe();
  EXPECT_NE(std::string::npos, r3.err.find("cannot be reloaded")) << r3.Describe();
  // er's program answers the SIGHUP with its own RELOADING=1 … READY=1, which may arrive after
  // ExecReload= has finished: reloading again for a moment is right.
  EXPECT_TRUE(WaitForState("nr.service", "running")) << State("nr.service");
  EXPECT_TRUE(WaitForState("er.service", "running")) << State("er.service");
}

TEST_F(NotifyTest, SystemdNotifyFromAShellScript) {
  if (access("/bin/systemd-notify", X_OK) != 0 && access("/usr/bin/systemd-notify", X_OK) != 0)
    GTEST_SKIP() << "systemd-notify is not installed";
  // systemd-notify is a child of the shell. Run as root it puts its parent's pid (the shell,
  // the main process) into SCM_CREDENTIALS, which the kernel allows root to do: then even
  // NotifyAccess=main accepts it, as under systemd. As another user it can only send its own
  // pid, and only NotifyAccess=all accepts that.
  WriteUnit("sh-all.service", R"([Service]
Type=notify
NotifyAccess=all
ExecStart=/bin/sh -c 'systemd-notify --ready --status="from shell"; exec sleep 1000'
)");
  WriteUnit("sh-main.service", R"([Service]
Type=notify
ExecStart=/bin/sh -c 'systemd-notify --ready --status="from shell"; exec sleep 1000'
TimeoutStartSec=1
)");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  CommandResult all = Supctl({"start", "sh-all"});
  EXPECT_EQ(0, all.exit_code) << all.Describe() << SupdContext();
  EXPECT_EQ("from shell", Status("sh-all.service")->value("status_text", ""));
  CommandResult main_only = Supctl({"start", "sh-main"});
  if (geteuid() == 0) {
    EXPECT_EQ(0, main_only.exit_code) << main_only.Describe() << SupdContext();
  } else {
    EXPECT_EQ(1, main_only.exit_code) << main_only.Describe();
    EXPECT_NE(std::string::npos, SupdStderr().find("NotifyAccess=main")) << SupdStderr();
  }
}

TEST_F(NotifyTest, NotifyAccessMainRefusesOtherProcessesOfTheService) {
  // The main process is a shell; its child sends READY=1 with its own pid (not root-faked):
  // refused under NotifyAccess=main, so the start times out.
  WriteUnit("child.service", R"([Service]
Type=notify
ExecStart=/bin/sh -c '{go}/notifier -ready-after 0s; sleep 1000'
TimeoutStartSec=1
)");
  WriteUnit("child-all.service", R"([Service]
Type=notify
NotifyAccess=all
ExecStart=/bin/sh -c '{go}/notifier -ready-after 0s; sleep 1000'
)");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  CommandResult refused = Supctl({"start", "child"});
  EXPECT_EQ(1, refused.exit_code) << refused.Describe();
  EXPECT_NE(std::string::npos,
            SupdStderr().find("child.service has NotifyAccess=main and the sender is not its "
                              "main process"))
      << SupdStderr();
  CommandResult all = Supctl({"start", "child-all"});
  EXPECT_EQ(0, all.exit_code) << all.Describe() << SupdContext();
}

TEST_F(NotifyTest, HostileDatagramsChangeNothingAndLeakNoFd) {
  WriteUnit("n.service", R"([Service]
Type=notify
ExecStart={go}/notifier -ready-after 0s
)");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  ASSERT_EQ(0, Supctl({"start", "n"}).exit_code) << SupdContext();
  const int fds_before = OpenFdCount(supd_pid_);

  int sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(sock, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::string path = NotifySocket();
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  int pipefd[2];
  ASSERT_EQ(0, pipe(pipefd));
  auto send = [&](const std::string& data, int nfds) {
    iovec iov{const_cast<char*>(data.data()), data.size()};
    msghdr msg{};
    msg.msg_name = &addr;
    msg.msg_namelen = sizeof(addr);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 32)] = {};
    if (nfds > 0) {
      msg.msg_control = control;
      msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
      cmsghdr* c = CMSG_FIRSTHDR(&msg);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
      int* fds = reinterpret_cast<int*>(CMSG_DATA(c));
      for (int i = 0; i < nfds; ++i) fds[i] = pipefd[i % 2];
    }
    return sendmsg(sock, &msg, 0);
  };
  // Blocking sends: when supd's queue is full a send waits until supd has read, so every
  // datagram reaches it, and no pacing guess is needed. A supd that stopped reading would make a
  // send fail after this timeout instead of hanging the test.
  timeval send_timeout{30, 0};
  ASSERT_EQ(0, setsockopt(sock, SOL_SOCKET, SO_SNDTIMEO, &send_timeout, sizeof send_timeout));
  int send_failures = 0;
  // From the test process: it belongs to no service, so all of it is refused; the fds must
  // still be closed, and the garbage must not hurt.
  for (int i = 0; i < 200; ++i) {
    send_failures += send("STOPPING=1\nSTATUS=hijacked\nMAINPID=1", i % 3 == 0 ? 4 : 0) < 0;
    send_failures += send(std::string(5000, 'x'), 0) < 0;
    send_failures += send(std::string("\0\xff\n=", 4), 20) < 0;
  }
  EXPECT_EQ(0, send_failures) << "supd stopped reading its notify socket: " << strerror(errno);
  close(sock);
  close(pipefd[0]);
  close(pipefd[1]);
  ASSERT_TRUE(WaitFor([&] { return OpenFdCount(supd_pid_) <= fds_before; }))
      << "supd holds " << OpenFdCount(supd_pid_) << " fds, had " << fds_before;
  auto st = Status("n.service");
  ASSERT_TRUE(st);
  EXPECT_EQ("running", st->value("state", "")) << st->dump();
  EXPECT_EQ("ready", st->value("status_text", "")) << st->dump();
}

TEST_F(NotifyTest, SupdItselfNotifiesItsOwnManager) {
  // As if supd ran under systemd with Type=notify and WatchdogSec=: a datagram socket of ours
  // stands in for systemd's.
  const std::string path = dir_ + "/parent.notify";
  int sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(sock, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  ASSERT_EQ(0, bind(sock, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)));
  WriteUnit("n.service", R"([Service]
ExecStart={go}/crasher -sleep
[Install]
WantedBy=multi-user.target
)");
  SupdOptions opts;
  opts.extra_env = {"NOTIFY_SOCKET=" + path, "WATCHDOG_USEC=200000"};
  ASSERT_NO_FATAL_FAILURE(StartSupd(opts));
  std::string seen;
  int pings = 0;
  ASSERT_TRUE(WaitFor(
      [&] {
        char buf[4096];
        ssize_t n;
        while ((n = recv(sock, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
          std::string m(buf, static_cast<size_t>(n));
          seen += m + "|";
          if (m == "WATCHDOG=1") ++pings;
        }
        return seen.find("READY=1") != std::string::npos && pings >= 3;
      }))
      << seen;
  EXPECT_NE(std::string::npos, seen.find("STATUS=supervising 1 units")) << seen;
  // The service must not inherit supd's NOTIFY_SOCKET/WATCHDOG_USEC: it is not Type=notify.
  ASSERT_EQ(0, StopSupd());
  EXPECT_NE(std::string::npos, [&] {
    char buf[4096];
    ssize_t n;
    while ((n = recv(sock, buf, sizeof(buf), MSG_DONTWAIT)) > 0) seen += std::string(buf, n) + "|";
    return seen;
  }().find("STOPPING=1"))
      << seen;
  close(sock);
}

}  // namespace
}  // namespace supd::integration
