// Who may do what: the control socket's permission check, supd run as an ordinary user, and
// User= in a unit. All of these need root to switch users, and are skipped without it.

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/integration/harness.h"

namespace supd::integration {
namespace {

using nlohmann::json;

class PrivilegeTest : public SupdTest {};

const std::vector<std::string> kAsNobody = {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534",
                                            "--clear-groups"};

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

TEST_F(PrivilegeTest, NonRootClientMayReadStatusButNotStop) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  WriteUnit("svc.service", R"([Service]
ExecStart={go}/crasher -sleep
[Install]
WantedBy=multi-user.target
)");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  pid_t pid = WaitForRunning("svc.service");
  ASSERT_GT(pid, 0) << SupdContext();

  struct stat st;
  ASSERT_EQ(0, stat(socket_.c_str(), &st));
  EXPECT_EQ(0666u, st.st_mode & 0777) << "control socket mode " << std::oct << (st.st_mode & 0777);

  CommandResult status = Supctl({"status"}, kAsNobody);
  EXPECT_EQ(0, status.exit_code) << status.Describe();
  EXPECT_NE(std::string::npos, status.out.find("svc.service")) << status.Describe();
  status = Supctl({"status", "svc", "--json"}, kAsNobody);
  EXPECT_EQ(0, status.exit_code) << status.Describe();

  for (const std::vector<std::string>& cmd : {std::vector<std::string>{"stop", "svc"},
                                              {"restart", "svc"},
                                              {"kill", "svc"},
                                              {"start", "svc"}}) {
    CommandResult r = Supctl(cmd, kAsNobody);
    EXPECT_EQ(1, r.exit_code) << cmd[0] << ": " << r.Describe();
    std::string err = Lower(r.err);
    EXPECT_TRUE(err.find("permission") != std::string::npos ||
                err.find("denied") != std::string::npos ||
                err.find("not allowed") != std::string::npos)
        << cmd[0] << ": " << r.Describe();
  }
  EXPECT_EQ(pid, MainPid("svc.service")) << "an unprivileged client changed the service";
  EXPECT_EQ("running", State("svc.service"));
}

TEST_F(PrivilegeTest, SupdRunsAsOrdinaryUser) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  WriteUnit("svc.service", R"([Service]
ExecStart={go}/crasher -sleep -write-file {dir}/out/starts
[Install]
WantedBy=multi-user.target
)");
  ASSERT_EQ(0, mkdir((dir_ + "/out").c_str(), 0755));
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir_)) {
    ASSERT_EQ(0, lchown(entry.path().c_str(), 65534, 65534)) << entry.path();
  }
  ASSERT_EQ(0, lchown(dir_.c_str(), 65534, 65534));
  SupdOptions options;
  options.wrapper = kAsNobody;
  ASSERT_NO_FATAL_FAILURE(StartSupd(options));
  EXPECT_EQ("65534\t65534\t65534\t65534", ProcStatusField(supd_pid_, "Uid"));

  pid_t pid = WaitForRunning("svc.service");
  ASSERT_GT(pid, 0) << SupdContext();
  EXPECT_EQ("65534\t65534\t65534\t65534", ProcStatusField(pid, "Uid"));
  ASSERT_TRUE(WaitFor([&] { return CountLines(dir_ + "/out/starts") == 1; }));

  CommandResult status = Supctl({"status"}, kAsNobody);
  EXPECT_EQ(0, status.exit_code) << status.Describe();
  // supd's own uid may change things.
  CommandResult stop = Supctl({"stop", "svc"}, kAsNobody);
  EXPECT_EQ(0, stop.exit_code) << stop.Describe();
  EXPECT_EQ(ProcState::kGone, GetProcState(pid));
  CommandResult start = Supctl({"start", "svc"}, kAsNobody);
  EXPECT_EQ(0, start.exit_code) << start.Describe();
  EXPECT_GT(WaitForRunning("svc.service"), 0);
  // Root may too.
  CommandResult restart = Supctl({"restart", "svc"});
  EXPECT_EQ(0, restart.exit_code) << restart.Describe();
}

TEST_F(PrivilegeTest, UserNobodyRunsWithNobodysCredentialsAndEnvironment) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  struct passwd* pw = getpwnam("nobody");
  ASSERT_NE(nullptr, pw);
  const std::string home = pw->pw_dir;
  const std::string shell = pw->pw_shell;
  const gid_t gid = pw->pw_gid;
  ASSERT_EQ(0, mkdir((dir_ + "/out").c_str(), 0777));
  ASSERT_EQ(0, chmod((dir_ + "/out").c_str(), 0777));
  WriteUnit("asnobody.service", R"([Service]
User=nobody
ExecStart={go}/envdump -out {dir}/out/dump.json -sleep
)");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  CommandResult start = Supctl({"start", "asnobody"});
  ASSERT_EQ(0, start.exit_code) << start.Describe() << SupdContext();
  json dump;
  ASSERT_TRUE(WaitFor([&] {
    dump = json::parse(ReadFile(dir_ + "/out/dump.json"), nullptr, false);
    return dump.is_object();
  })) << ServiceLog("asnobody.service")
      << SupdContext();
  EXPECT_EQ(json(65534), dump["uid"]);
  EXPECT_EQ(json(65534), dump["euid"]);
  EXPECT_EQ(json(gid), dump["gid"]);
  EXPECT_EQ(json(gid), dump["egid"]);
  // No supplementary groups inherited from root.
  for (const auto& g : dump["groups"]) EXPECT_NE(json(0), g) << dump["groups"].dump();
  json env = dump["env"];
  EXPECT_EQ(json("nobody"), env["USER"]) << dump.dump(1);
  EXPECT_EQ(json("nobody"), env["LOGNAME"]) << dump.dump(1);
  EXPECT_EQ(json(home), env["HOME"]) << dump.dump(1);
  EXPECT_EQ(json(shell), env["SHELL"]) << dump.dump(1);
  EXPECT_FALSE(env.contains("SUPD_TEST_LEAK"));
  pid_t pid = WaitForRunning("asnobody.service");
  EXPECT_EQ("65534\t65534\t65534\t65534", ProcStatusField(pid, "Uid"));
}

}  // namespace
}  // namespace supd::integration
