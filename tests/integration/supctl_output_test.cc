// supctl's output around the verbs: `logs -o` (journalctl's modes), the pager on a terminal
// (script(1) gives supctl one), and systemctl's "Unit … not found." with a hint.

#include <unistd.h>

#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "tests/integration/harness.h"

namespace supd::integration {
namespace {

using nlohmann::json;

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

class SupctlOutputTest : public SupdTest {
 protected:
  // Starts web.service (an HTTP server that prints "listening on ADDR") and returns its pid.
  pid_t StartWeb() {
    WriteUnit("web.service", Subst(R"([Unit]
Description=Web server
[Service]
ExecStart={go}/httpserver -addr 127.0.0.1:{port}
)",
                                   {{"port", std::to_string(FreeTcpPort())}}));
    StartSupd();
    if (HasFatalFailure()) return 0;
    EXPECT_EQ(0, Supctl({"start", "web"}).exit_code);
    const pid_t pid = MainPid("web.service");
    EXPECT_TRUE(WaitFor([&] { return Contains(ServiceLog("web.service"), "listening on"); }));
    return pid;
  }

  // supctl on a terminal: `script` runs it on a pseudo-terminal; its output is what the
  // terminal got (with \r\n line ends).
  CommandResult OnTerminal(const std::string& args, const std::vector<std::string>& env) {
    return RunCommand({"/usr/bin/script", "-qec",
                       std::string(SUPCTL_BIN) + " --socket " + socket_ + " " + args, "/dev/null"},
                      30s, env);
  }
};

TEST_F(SupctlOutputTest, LogsInJournalctlsOutputModes) {
  const pid_t pid = StartWeb();
  ASSERT_GT(pid, 0);
  const std::string pid_text = std::to_string(pid);

  auto cat = Supctl({"logs", "web", "-o", "cat"});
  ASSERT_EQ(0, cat.exit_code) << cat.Describe();
  ASSERT_FALSE(Lines(cat.out).empty());
  EXPECT_TRUE(Lines(cat.out)[0].starts_with("listening on 127.0.0.1:")) << cat.out;

  auto json_out = Supctl({"logs", "web", "-o", "json"});
  ASSERT_EQ(0, json_out.exit_code) << json_out.Describe();
  const json first = json::parse(Lines(json_out.out).at(0));
  EXPECT_EQ(pid_text, first.value("_PID", ""));
  EXPECT_EQ("web.service", first.value("_SYSTEMD_UNIT", ""));
  EXPECT_EQ("web", first.value("SYSLOG_IDENTIFIER", ""));
  EXPECT_EQ("out", first.value("SUPD_STREAM", ""));
  EXPECT_TRUE(first.value("MESSAGE", "").starts_with("listening on")) << first.dump();
  EXPECT_TRUE(first["__REALTIME_TIMESTAMP"].is_string());

  char host[256] = {};
  ASSERT_EQ(0, gethostname(host, sizeof host - 1));
  auto short_out = Supctl({"logs", "web", "-o", "short"});
  ASSERT_EQ(0, short_out.exit_code) << short_out.Describe();
  const std::regex line("[A-Z][a-z]{2} [0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} " + std::string(host) +
                        " web\\[" + pid_text + "\\]: listening on .*");
  EXPECT_TRUE(std::regex_match(Lines(short_out.out).at(0), line)) << short_out.out;

  auto bad = Supctl({"logs", "web", "-o", "verbose"});
  EXPECT_EQ(2, bad.exit_code);
  EXPECT_TRUE(Contains(bad.err, "'verbose' is not one of: short, short-iso")) << bad.err;
  EXPECT_EQ(2, Supctl({"logs", "web", "-o", "cat", "--json"}).exit_code);
  auto plain = Supctl({"logs", "web"});
  EXPECT_TRUE(Contains(plain.out, " web.service[" + pid_text + "] out: listening on"))
      << "supd's own lines stay the default:\n"
      << plain.out;
}

TEST_F(SupctlOutputTest, LongOutputIsPagedOnATerminalOnly) {
  ASSERT_GT(StartWeb(), 0);
  const std::vector<std::string> pager{"SUPD_PAGER=sed s/^/paged:/"};
  auto paged = OnTerminal("status web", pager);
  ASSERT_EQ(0, paged.exit_code) << paged.Describe();
  EXPECT_TRUE(Contains(paged.out, "paged:")) << paged.out;
  EXPECT_TRUE(Contains(paged.out, "web.service - Web server")) << paged.out;

  auto no_pager = OnTerminal("--no-pager status web", pager);
  EXPECT_EQ(0, no_pager.exit_code) << no_pager.Describe();
  EXPECT_FALSE(Contains(no_pager.out, "paged:")) << no_pager.out;
  EXPECT_TRUE(Contains(no_pager.out, "web.service - Web server")) << no_pager.out;

  auto cat_pager = OnTerminal("logs web -o cat", {"SUPD_PAGER=cat"});
  EXPECT_EQ(0, cat_pager.exit_code);
  EXPECT_TRUE(Contains(cat_pager.out, "listening on")) << cat_pager.out;

  auto start = OnTerminal("start web", pager);  // short verbs are never paged
  EXPECT_EQ(0, start.exit_code) << start.Describe();
  EXPECT_FALSE(Contains(start.out, "paged:")) << start.out;

  // TERM=dumb: no pager, as systemctl.
  auto dumb = OnTerminal("status web", {"TERM=dumb", "SUPD_PAGER=sed s/^/paged:/"});
  EXPECT_FALSE(Contains(dumb.out, "paged:")) << dumb.out;
  // Under sudo only less may page (no shell escape): another pager is not run.
  auto sudo = OnTerminal("status web", {"SUDO_UID=1000", "SUPD_PAGER=sed s/^/paged:/"});
  EXPECT_EQ(0, sudo.exit_code) << sudo.Describe();
  EXPECT_FALSE(Contains(sudo.out, "paged:")) << sudo.out;
  EXPECT_TRUE(Contains(sudo.out, "web.service - Web server")) << sudo.out;
  auto sudo_allowed = OnTerminal(
      "status web", {"SUDO_UID=1000", "SUPD_PAGERSECURE=0", "SUPD_PAGER=sed s/^/paged:/"});
  EXPECT_TRUE(Contains(sudo_allowed.out, "paged:")) << sudo_allowed.out;
  // supctl started with its stdin closed: the pipe to the pager takes fd 0; still paged.
  auto closed_stdin = OnTerminal("status web <&-", pager);
  EXPECT_EQ(0, closed_stdin.exit_code) << closed_stdin.Describe();
  EXPECT_TRUE(Contains(closed_stdin.out, "paged:     Loaded:")) << closed_stdin.out;
  // A pager quit before the output ends: supctl ends quietly, not by SIGPIPE.
  auto early = OnTerminal("logs web -n 500", {"SUPD_PAGER=true"});
  EXPECT_EQ(0, early.exit_code) << early.Describe();

  // Not a terminal: never paged.
  auto piped = RunCommand({SUPCTL_BIN, "--socket", socket_, "status", "web"}, 30s, pager);
  EXPECT_EQ(0, piped.exit_code);
  EXPECT_FALSE(Contains(piped.out, "paged:")) << piped.out;
}

TEST_F(SupctlOutputTest, ColourOnlyOnATerminalAndNeverWithNoColor) {
  ASSERT_GT(StartWeb(), 0);
  const std::string green_running = "\x1B[0;1;32mrunning\x1B[0m";
  auto tty = OnTerminal("--no-pager status web", {"TERM=xterm"});
  EXPECT_TRUE(Contains(tty.out, "Active: " + green_running)) << tty.out;
  auto no_color = OnTerminal("--no-pager --no-color status web", {"TERM=xterm"});
  EXPECT_FALSE(Contains(no_color.out, "\x1B[")) << no_color.out;
  auto env = OnTerminal("--no-pager status web", {"TERM=xterm", "NO_COLOR=1"});
  EXPECT_FALSE(Contains(env.out, "\x1B[")) << env.out;
  auto dumb = OnTerminal("--no-pager status web", {"TERM=dumb"});
  EXPECT_FALSE(Contains(dumb.out, "\x1B[")) << dumb.out;
  auto piped = Supctl({"status", "web"});
  EXPECT_FALSE(Contains(piped.out, "\x1B[")) << piped.out;
  // Through the pager the colours stay (less -R shows them).
  auto paged = OnTerminal("status web", {"TERM=xterm", "SUPD_PAGER=sed s/^/paged:/"});
  EXPECT_TRUE(Contains(paged.out, "paged:     Active: " + green_running)) << paged.out;
}

TEST_F(SupctlOutputTest, AnUnknownUnitIsNotFoundWithAHintWhenCloseToALoadedOne) {
  ASSERT_GT(StartWeb(), 0);
  auto typo = Supctl({"restart", "wbe"});
  EXPECT_EQ(1, typo.exit_code);
  EXPECT_EQ("supctl: Unit wbe.service not found. Did you mean web.service?\n", typo.err);
  auto status = Supctl({"status", "wbe.service"});
  EXPECT_EQ(1, status.exit_code);
  EXPECT_EQ("supctl: Unit wbe.service not found. Did you mean web.service?\n", status.err);
  auto far = Supctl({"stop", "database"});
  EXPECT_EQ(1, far.exit_code);
  EXPECT_EQ("supctl: Unit database.service not found (no unit file in " + units_dir_ + ").\n",
            far.err);
}

}  // namespace
}  // namespace supd::integration
