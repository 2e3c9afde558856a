// systemctl's query verbs against the real supd: is-active, is-failed, show, list-units and
// list-unit-files with a running httpserver, a failed crasher and a stopped, disabled service.

#include <string>

#include "tests/integration/harness.h"

namespace supd::integration {
namespace {

class SupctlQueryTest : public SupdTest {
 protected:
  void SetUp() override {
    SupdTest::SetUp();
    port_ = FreeTcpPort();
    WriteUnit("web.service", Subst(R"([Unit]
Description=Web server
[Service]
ExecStart={go}/httpserver -addr 127.0.0.1:{port}
)",
                                   {{"port", std::to_string(port_)}}));
    WriteUnit("crash.service", R"([Unit]
Description=Crashes at once
[Service]
ExecStart={go}/crasher -exit-code 3
Restart=no
)");
    WriteUnit("idle.service", R"([Unit]
Description=Stopped
[Service]
ExecStart={go}/crasher -sleep
[Install]
WantedBy=multi-user.target
)");
    ASSERT_NO_FATAL_FAILURE(StartSupd());
    // supd enables and starts a unit with [Install] on its first start (as a preset):
    // disabled and stopped, idle.service is the inactive one with a "disabled" file.
    CommandResult r = Supctl({"disable", "--now", "idle"});
    ASSERT_EQ(0, r.exit_code) << r.Describe() << SupdContext();
    ASSERT_TRUE(WaitForState("idle.service", "stopped")) << SupdContext();
    ASSERT_EQ(0, Supctl({"start", "web"}).exit_code) << SupdContext();
    ASSERT_NE(0, WaitForRunning("web.service")) << SupdContext();
    Supctl({"start", "crash"});  // fails or not, depending on when the exit is seen
    ASSERT_TRUE(WaitForState("crash.service", "failed")) << SupdContext();
  }

  int port_ = 0;
};

TEST_F(SupctlQueryTest, IsActiveAndIsFailedWordsAndExitCodes) {
  CommandResult r = Supctl({"is-active", "--quiet", "web"});
  EXPECT_EQ(0, r.exit_code) << r.Describe();
  EXPECT_EQ("", r.out);
  r = Supctl({"is-active", "idle.service"});
  EXPECT_EQ(3, r.exit_code) << r.Describe();
  EXPECT_EQ("inactive\n", r.out);
  r = Supctl({"is-active", "-q", "crash"});
  EXPECT_EQ(3, r.exit_code) << r.Describe();
  // No such unit: "inactive", and LSB's 4 when none of those named exists.
  r = Supctl({"is-active", "nope"});
  EXPECT_EQ(4, r.exit_code) << r.Describe();
  EXPECT_EQ("inactive\n", r.out);
  // Any active one is enough.
  r = Supctl({"is-active", "idle", "nope", "web"});
  EXPECT_EQ(0, r.exit_code) << r.Describe();
  EXPECT_EQ("inactive\ninactive\nactive\n", r.out);

  r = Supctl({"is-failed", "crash"});
  EXPECT_EQ(0, r.exit_code) << r.Describe();
  EXPECT_EQ("failed\n", r.out);
  r = Supctl({"is-failed", "--quiet", "web", "idle"});
  EXPECT_EQ(1, r.exit_code) << r.Describe();
  EXPECT_EQ("", r.out);
  r = Supctl({"is-failed", "nope.service"});
  EXPECT_EQ(4, r.exit_code) << r.Describe();
  // Without a unit: whether any unit failed (supd is "degraded"), as systemctl's.
  r = Supctl({"is-failed"});
  EXPECT_EQ(0, r.exit_code) << r.Describe();
  EXPECT_EQ("degraded\n", r.out);
}

TEST_F(SupctlQueryTest, ShowPrintsSystemdPropertiesOfTheUnits) {
  const pid_t pid = MainPid("web.service");
  ASSERT_NE(0, pid);
  CommandResult r = Supctl({"show", "-p", "MainPID", "--value", "web"});
  EXPECT_EQ(0, r.exit_code) << r.Describe();
  EXPECT_EQ(std::to_string(pid) + "\n", r.out);
  // Repeated and comma-separated -p, in systemd's order; blocks separated by an empty line;
  // an unknown unit is shown as systemctl shows one.
  r = Supctl({"show", "web", "-p", "SubState,ActiveState", "--property", "LoadState",
              "crash.service", "nope"});
  EXPECT_EQ(0, r.exit_code) << r.Describe();
  EXPECT_EQ(
      "LoadState=loaded\nActiveState=active\nSubState=running\n"
      "\n"
      "LoadState=loaded\nActiveState=failed\nSubState=failed\n"
      "\n"
      "LoadState=not-found\nActiveState=inactive\nSubState=dead\n",
      r.out);
  r = Supctl({"show", "crash", "-p", "Result,ExecMainCode,ExecMainStatus,NRestarts"});
  EXPECT_EQ("Result=exit-code\nNRestarts=0\nExecMainCode=1\nExecMainStatus=3\n", r.out)
      << r.Describe();
  // Without -p: everything known, empty values left out.
  r = Supctl({"show", "web.service"});
  EXPECT_EQ(0, r.exit_code) << r.Describe();
  EXPECT_NE(r.out.find("\nId=web.service\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\nDescription=Web server\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\nFragmentPath=" + units_dir_ + "/web.service\n"), std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("=\n"), std::string::npos) << r.out;
}

TEST_F(SupctlQueryTest, ListUnitsAndListUnitFiles) {
  CommandResult r = Supctl({"list-units", "--state=failed"});
  EXPECT_EQ(0, r.exit_code) << r.Describe();
  EXPECT_NE(r.out.find("● crash.service loaded failed failed Crashes at once\n"), std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("web.service"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\n1 loaded units listed.\n"), std::string::npos) << r.out;

  // By default the inactive idle.service is left out; --all shows it.
  r = Supctl({"list-units", "--no-legend"});
  EXPECT_EQ(0, r.exit_code) << r.Describe();
  EXPECT_NE(r.out.find("  web.service   loaded active running Web server\n"), std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("idle.service"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("UNIT"), std::string::npos) << r.out;
  r = Supctl({"list-units", "-a", "--type", "service"});
  EXPECT_NE(r.out.find("  idle.service  loaded inactive dead    Stopped\n"), std::string::npos)
      << r.out;

  r = Supctl({"list-unit-files"});
  EXPECT_EQ(0, r.exit_code) << r.Describe();
  EXPECT_EQ(
      "UNIT FILE     STATE\n"
      "crash.service static\n"
      "idle.service  disabled\n"
      "web.service   static\n"
      "\n"
      "3 unit files listed.\n",
      r.out);
  // Nothing listed: systemctl's exit 1.
  r = Supctl({"list-unit-files", "--state=masked"});
  EXPECT_EQ(1, r.exit_code) << r.Describe();
  EXPECT_NE(r.out.find("0 unit files listed."), std::string::npos) << r.out;
}

}  // namespace
}  // namespace supd::integration
