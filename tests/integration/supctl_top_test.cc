// `supctl top` against the real supd and Go programs: --once's frame and exit codes, and the
// full-screen view on a real pseudo-terminal (tmux, with a set size): keys change the sort, a
// resize redraws at the new size at once, and however top ends (q, Ctrl-C, SIGTERM, supd
// gone) the terminal is left as it was: normal screen, cursor shown, echo and line editing on.
// The tmux tests skip when tmux is not installed (packaging/install-deps.sh --tests has it).

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "tests/integration/harness.h"

namespace supd::integration {
namespace {

constexpr const char* kTmux = "/usr/bin/tmux";

// Lines of `text`.
std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// The unit names of the table's rows in `screen`, top to bottom.
std::vector<std::string> RowNames(const std::string& screen) {
  std::vector<std::string> names;
  bool table = false;
  for (const auto& l : Lines(screen)) {
    if (l.rfind("UNIT", 0) == 0) {
      table = true;
      continue;
    }
    if (!table || l.empty()) continue;
    const std::string name = l.substr(0, l.find(' '));
    if (name.find(".service") != std::string::npos) names.push_back(name);
  }
  return names;
}

bool Contains(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

class SupctlTopTest : public SupdTest {
 protected:
  void TearDown() override {
    StopTmux();
    SupdTest::TearDown();
  }

  // Ends the tmux server and what runs in its pane, and reaps them: the server detached
  // itself, so with the test a subreaper it and its orphans are our children.
  void StopTmux() {
    if (tmux_socket_.empty()) return;
    std::vector<pid_t> pids = {FormatPid("#{pid}"), FormatPid("#{pane_pid}")};
    const pid_t session = SessionOf(pids[0]);
    const auto below = ChildrenOf(pids[1]);
    pids.insert(pids.end(), below.begin(), below.end());
    pids.insert(pids.end(), tmux_children_.begin(), tmux_children_.end());
    tmux_children_.clear();
    Tmux({"kill-server"});
    tmux_socket_.clear();
    for (pid_t pid : pids) {
      if (pid <= 0) continue;
      kill(pid, SIGKILL);
      EXPECT_TRUE(WaitFor([pid] {
        int status = 0;
        const pid_t r = waitpid(pid, &status, WNOHANG);
        // Not (or no longer) our child: done once it is gone; tmux's own children become ours
        // when the server is gone.
        return r == pid || (r < 0 && GetProcState(pid) == ProcState::kGone);
      })) << "tmux process "
          << pid << " did not end";
    }
    // What the server started as it went (utempter, to clear the pane's utmp entry) runs in
    // its session: reaped once it ends.
    if (session <= 0) return;
    EXPECT_TRUE(WaitFor([&] {
      bool left = false;
      for (const auto& e : std::filesystem::directory_iterator("/proc")) {
        pid_t pid = 0;
        const std::string name = e.path().filename().string();
        const auto [p, ec] = std::from_chars(name.data(), name.data() + name.size(), pid);
        if (ec != std::errc() || p != name.data() + name.size() || SessionOf(pid) != session)
          continue;
        int status = 0;
        if (waitpid(pid, &status, WNOHANG) != pid) left = true;
      }
      return !left;
    })) << "processes of tmux's session "
        << session << " did not end";
  }

  // The session id in /proc/PID/stat (the field after the parent and the process group); 0
  // when unknown.
  static pid_t SessionOf(pid_t pid) {
    const std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
    const size_t close = stat.rfind(')');
    if (close == std::string::npos) return 0;
    std::istringstream fields(stat.substr(close + 1));
    std::string state;
    pid_t ppid = 0, pgrp = 0, session = 0;
    fields >> state >> ppid >> pgrp >> session;
    return fields ? session : 0;
  }

  pid_t FormatPid(const std::string& format) {
    const std::string text = Format(format);
    pid_t pid = 0;
    const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), pid);
    return ec == std::errc() && p == text.data() + text.size() ? pid : 0;
  }

  // Three services: a-web running, b-failed failed (exit 1, no restart), z-crash in backoff
  // after one restart (the second waits an hour).
  void StartServices() {
    port_ = FreeTcpPort();
    WriteUnit("a-web.service", Subst(R"([Service]
ExecStart={go}/httpserver -addr 127.0.0.1:{port}
[Install]
WantedBy=multi-user.target
)",
                                     {{"port", std::to_string(port_)}}));
    WriteUnit("b-failed.service", R"([Service]
ExecStart={go}/crasher -exit-code 1
[Install]
WantedBy=multi-user.target
)");
    WriteUnit("z-crash.service", R"([Service]
ExecStart={go}/crasher -after 100ms -exit-code 1
Restart=always
RestartSec=200ms
RestartSteps=1
RestartMaxDelaySec=1h
[Install]
WantedBy=multi-user.target
)");
    ASSERT_NO_FATAL_FAILURE(StartSupd());
    web_pid_ = WaitForRunning("a-web.service");
    ASSERT_GT(web_pid_, 0) << SupdContext();
    ASSERT_TRUE(WaitForState("b-failed.service", "failed")) << SupdContext();
    ASSERT_TRUE(WaitFor([&] {
      return Restarts("z-crash.service") >= 1 && State("z-crash.service") == "backoff";
    })) << SupdContext();
  }

  CommandResult Tmux(std::vector<std::string> args) {
    args.insert(args.begin(), {kTmux, "-S", tmux_socket_});
    return RunCommand(args);
  }

  // A detached tmux session "top" of `width` x `height` running `supctl top <args>`, then
  // "top exit N" and `stty -a` on the normal screen; returns once the table shows.
  void StartTop(const std::string& args, int width, int height) {
    tmux_socket_ = dir_ + "/tmux.sock";
    // trap: the shell outlives a Ctrl-C (the terminal sends SIGINT to it too); supctl starts
    // with SIGINT's default action again.
    const std::string command = "trap : INT; " + std::string(SUPCTL_BIN) + " --socket " + socket_ +
                                " top " + args + "; echo \"top exit $?\"; stty -a; exec sleep 600";
    const std::vector<pid_t> before = ChildrenOf(getpid());
    CommandResult r = Tmux({"-f", "/dev/null", "new-session", "-d", "-s", "top", "-x",
                            std::to_string(width), "-y", std::to_string(height), command});
    // The server daemonizes: it and the process it forked from are now our children (we are
    // a subreaper), to be reaped by StopTmux.
    for (pid_t pid : ChildrenOf(getpid()))
      if (pid != supd_pid_ && std::find(before.begin(), before.end(), pid) == before.end())
        tmux_children_.push_back(pid);
    ASSERT_EQ(r.exit_code, 0) << r.Describe();
    ASSERT_TRUE(WaitFor([&] { return Contains(Screen(), "z-crash.service"); }))
        << Screen() << SupdContext();
  }

  std::string Screen() { return Tmux({"capture-pane", "-p", "-t", "top"}).out; }
  std::string Format(const std::string& format) {
    std::string out = Tmux({"display-message", "-p", "-t", "top", format}).out;
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
  }

  // After top ended: its exit code, the normal screen with the cursor shown, echo and
  // canonical mode on.
  void ExpectTerminalRestored(int exit_code) {
    ASSERT_TRUE(WaitFor([&] { return Contains(Screen(), "speed"); })) << Screen();
    const std::string screen = Screen();
    EXPECT_TRUE(Contains(screen, "top exit " + std::to_string(exit_code))) << screen;
    EXPECT_EQ(Format("#{alternate_on}"), "0");
    EXPECT_EQ(Format("#{cursor_flag}"), "1");
    EXPECT_TRUE(Contains(screen, " icanon")) << screen;
    EXPECT_FALSE(Contains(screen, "-icanon")) << screen;
    EXPECT_TRUE(Contains(screen, " echo ")) << screen;
    EXPECT_FALSE(Contains(screen, "-echo ")) << screen;
    // The frame is gone with the alternate screen.
    EXPECT_FALSE(Contains(screen, "LAST-LOG-LINE")) << screen;
  }

  // The pid of supctl: the child of the pane's shell.
  pid_t TopPid() {
    pid_t pid = 0;
    WaitFor([&] {
      auto children = ChildrenOf(FormatPid("#{pane_pid}"));
      if (children.empty()) return false;
      pid = children.front();
      return true;
    });
    return pid;
  }

  bool HaveTmux() { return access(kTmux, X_OK) == 0; }

  int port_ = 0;
  pid_t web_pid_ = 0;
  std::string tmux_socket_;
  std::vector<pid_t> tmux_children_;
};

TEST_F(SupctlTopTest, OncePrintsOneFrameOfEveryUnit) {
  ASSERT_NO_FATAL_FAILURE(StartServices());
  CommandResult r = Supctl({"top", "--once", "--sort=name"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(r.out.find('\x1b'), std::string::npos) << r.out;  // not a terminal: no colour
  const auto lines = Lines(r.out);
  ASSERT_GE(lines.size(), 7u) << r.out;
  EXPECT_EQ(lines[0].rfind("supd ", 0), 0u) << r.out;
  EXPECT_TRUE(Contains(lines[0], "pid " + std::to_string(SupdOwnPid()) + " ")) << r.out;
  // supd's own figures from /proc: its RSS is known (CPU% over 200 ms may well be 0.0%).
  EXPECT_FALSE(Contains(lines[0], "rss -")) << r.out;
  EXPECT_FALSE(Contains(lines[0], "cpu -")) << r.out;
  EXPECT_TRUE(Contains(r.out, "1 backoff")) << r.out;
  EXPECT_TRUE(Contains(r.out, "1 failed")) << r.out;
  EXPECT_EQ(RowNames(r.out),
            (std::vector<std::string>{"a-web.service", "b-failed.service", "z-crash.service"}))
      << r.out;
  for (const auto& l : lines) {
    if (l.rfind("a-web.service ", 0) == 0) {
      EXPECT_TRUE(Contains(l, " running ")) << l;
      EXPECT_TRUE(Contains(l, " " + std::to_string(web_pid_) + " ")) << l;
      EXPECT_TRUE(Contains(l, "listening on")) << l;  // its last log line
    }
    if (l.rfind("b-failed.service ", 0) == 0) {
      EXPECT_TRUE(Contains(l, " failed ")) << l;
    }
    if (l.rfind("z-crash.service ", 0) == 0) {
      EXPECT_TRUE(Contains(l, " backoff ")) << l;
      EXPECT_TRUE(Contains(l, "crasher")) << l;  // its last log line
    }
  }
  // By restarts: the crasher first.
  r = Supctl({"top", "--once", "--sort", "restarts"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  ASSERT_FALSE(RowNames(r.out).empty()) << r.out;
  EXPECT_EQ(RowNames(r.out).front(), "z-crash.service") << r.out;
}

TEST_F(SupctlTopTest, UsageErrorsAndNoTerminalExitTwo) {
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  CommandResult r = Supctl({"top", "--sort=pid", "--once"});
  EXPECT_EQ(r.exit_code, 2) << r.Describe();
  r = Supctl({"top", "--interval", "10ms", "--once"});
  EXPECT_EQ(r.exit_code, 2) << r.Describe();
  EXPECT_TRUE(Contains(r.err, "--interval: '10ms'")) << r.Describe();
  // stdin is /dev/null and stdout a pipe.
  r = Supctl({"top"});
  EXPECT_EQ(r.exit_code, 2) << r.Describe();
  EXPECT_TRUE(Contains(r.err, "top needs a terminal")) << r.Describe();
}

TEST_F(SupctlTopTest, OnceWithoutSupdExitsThree) {
  CommandResult r = Supctl({"top", "--once"});
  EXPECT_EQ(r.exit_code, 3) << r.Describe();
  EXPECT_TRUE(Contains(r.err, "supd is not reachable")) << r.Describe();
}

TEST_F(SupctlTopTest, KeysSortAResizeRedrawsAndQRestoresTheTerminal) {
  if (!HaveTmux()) GTEST_SKIP() << "tmux is not installed (packaging/install-deps.sh --tests)";
  ASSERT_NO_FATAL_FAILURE(StartServices());
  // A refresh a minute away: what changes on the screen is the keys' and the resize's doing.
  ASSERT_NO_FATAL_FAILURE(StartTop("--interval 60s", 140, 30));
  EXPECT_EQ(Format("#{alternate_on}"), "1");
  EXPECT_EQ(Format("#{cursor_flag}"), "0");
  EXPECT_TRUE(Contains(Screen(), "LAST-LOG-LINE")) << Screen();

  Tmux({"send-keys", "-t", "top", "n"});
  const std::vector<std::string> by_name = {"a-web.service", "b-failed.service", "z-crash.service"};
  EXPECT_TRUE(WaitFor([&] { return RowNames(Screen()) == by_name; })) << Screen();
  EXPECT_TRUE(Contains(Screen(), "UNIT▲")) << Screen();
  Tmux({"send-keys", "-t", "top", "r"});
  const std::vector<std::string> by_restarts = {"z-crash.service", "a-web.service",
                                                "b-failed.service"};
  EXPECT_TRUE(WaitFor([&] { return RowNames(Screen()) == by_restarts; })) << Screen();
  EXPECT_TRUE(Contains(Screen(), "RESTARTS▼")) << Screen();

  // Smaller: the frame fits 7 lines, the last saying how many units are left out.
  Tmux({"resize-window", "-t", "top", "-x", "70", "-y", "7"});
  EXPECT_TRUE(WaitFor([&] { return Contains(Screen(), "more of"); })) << Screen();
  EXPECT_LE(Lines(Screen()).size(), 7u) << Screen();
  EXPECT_FALSE(Contains(Screen(), "LAST-LOG-LINE")) << Screen();
  // Larger again: every row and the whole heading, which only a new frame can show.
  Tmux({"resize-window", "-t", "top", "-x", "140", "-y", "30"});
  EXPECT_TRUE(WaitFor([&] {
    const std::string s = Screen();
    return Contains(s, "LAST-LOG-LINE") && !Contains(s, "more of") && RowNames(s) == by_restarts;
  })) << Screen();

  Tmux({"send-keys", "-t", "top", "q"});
  ExpectTerminalRestored(0);
}

TEST_F(SupctlTopTest, CtrlCAndSigtermRestoreTheTerminal) {
  if (!HaveTmux()) GTEST_SKIP() << "tmux is not installed (packaging/install-deps.sh --tests)";
  ASSERT_NO_FATAL_FAILURE(StartServices());
  ASSERT_NO_FATAL_FAILURE(StartTop("--interval 200ms", 120, 30));
  Tmux({"send-keys", "-t", "top", "C-c"});
  ASSERT_NO_FATAL_FAILURE(ExpectTerminalRestored(0));
  StopTmux();

  ASSERT_NO_FATAL_FAILURE(StartTop("--interval 200ms", 120, 30));
  const pid_t top = TopPid();
  ASSERT_GT(top, 0) << Screen();
  ASSERT_EQ(kill(top, SIGTERM), 0);
  ASSERT_NO_FATAL_FAILURE(ExpectTerminalRestored(128 + SIGTERM));
  EXPECT_TRUE(Contains(Screen(), "supctl: top: ended by SIGTERM")) << Screen();
}

// Ctrl-Z in an interactive shell: the shell gets a sane terminal while top is stopped, fg
// brings the view back.
TEST_F(SupctlTopTest, CtrlZGivesTheTerminalBackAndFgTheView) {
  if (!HaveTmux()) GTEST_SKIP() << "tmux is not installed (packaging/install-deps.sh --tests)";
  ASSERT_NO_FATAL_FAILURE(StartServices());
  tmux_socket_ = dir_ + "/tmux.sock";
  const std::vector<pid_t> before = ChildrenOf(getpid());
  CommandResult r = Tmux({"-f", "/dev/null", "new-session", "-d", "-s", "top", "-x", "120", "-y",
                          "30", "bash --norc --noprofile -i"});
  for (pid_t pid : ChildrenOf(getpid()))
    if (pid != supd_pid_ && std::find(before.begin(), before.end(), pid) == before.end())
      tmux_children_.push_back(pid);
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  Tmux({"send-keys", "-t", "top",
        std::string(SUPCTL_BIN) + " --socket " + socket_ + " top --interval 60s", "Enter"});
  ASSERT_TRUE(WaitFor([&] { return Contains(Screen(), "z-crash.service"); })) << Screen();
  Tmux({"send-keys", "-t", "top", "C-z"});
  ASSERT_TRUE(WaitFor([&] { return Format("#{alternate_on}") == "0"; })) << Screen();
  Tmux({"send-keys", "-t", "top", "stty -a", "Enter"});
  ASSERT_TRUE(WaitFor([&] { return Contains(Screen(), "speed"); })) << Screen();
  EXPECT_TRUE(Contains(Screen(), "Stopped")) << Screen();
  EXPECT_TRUE(Contains(Screen(), " icanon")) << Screen();
  EXPECT_FALSE(Contains(Screen(), "-icanon")) << Screen();
  EXPECT_EQ(Format("#{cursor_flag}"), "1");
  Tmux({"send-keys", "-t", "top", "clear; fg", "Enter"});
  ASSERT_TRUE(WaitFor([&] {
    return Format("#{alternate_on}") == "1" && Contains(Screen(), "z-crash.service");
  })) << Screen();
  Tmux({"send-keys", "-t", "top", "q"});
  ASSERT_TRUE(WaitFor([&] { return Format("#{alternate_on}") == "0"; })) << Screen();
  Tmux({"send-keys", "-t", "top", "echo \"top exit $?\"; stty -a", "Enter"});
  ASSERT_NO_FATAL_FAILURE(ExpectTerminalRestored(0));
}

// A daemon-reexec closes top's connection; top connects again and goes on.
TEST_F(SupctlTopTest, TopOutlivesADaemonReexec) {
  if (!HaveTmux()) GTEST_SKIP() << "tmux is not installed (packaging/install-deps.sh --tests)";
  ASSERT_NO_FATAL_FAILURE(StartServices());
  ASSERT_NO_FATAL_FAILURE(StartTop("--interval 200ms", 120, 30));
  EXPECT_TRUE(Contains(Screen(), "reexecs 0")) << Screen();
  CommandResult r = Supctl({"daemon-reexec"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe() << SupdContext();
  EXPECT_TRUE(WaitFor([&] { return Contains(Screen(), "reexecs 1"); })) << Screen();
  EXPECT_EQ(Format("#{alternate_on}"), "1") << Screen();
  Tmux({"send-keys", "-t", "top", "q"});
  ExpectTerminalRestored(0);
}

TEST_F(SupctlTopTest, SupdGoingAwayEndsTopWithTheReason) {
  if (!HaveTmux()) GTEST_SKIP() << "tmux is not installed (packaging/install-deps.sh --tests)";
  ASSERT_NO_FATAL_FAILURE(StartServices());
  ASSERT_NO_FATAL_FAILURE(StartTop("--interval 200ms", 120, 30));
  ASSERT_EQ(StopSupd(), 0);
  ASSERT_NO_FATAL_FAILURE(ExpectTerminalRestored(3));
  EXPECT_TRUE(Contains(Screen(), "supctl: top: supd")) << Screen();
}

}  // namespace
}  // namespace supd::integration
