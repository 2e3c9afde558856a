// Limit*=, UMask=, Nice=, OOMScoreAdjust=, SupplementaryGroups=, CapabilityBoundingSet=,
// AmbientCapabilities= and NoNewPrivileges= applied to real Go programs, checked where the
// kernel shows them (/proc/PID/limits, /proc/PID/status, /proc/PID/stat, oom_score_adj), and
// the failures of those steps reported with the step that failed. Switching users, raising
// limits and capabilities need root: those tests skip without it.

#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "tests/integration/harness.h"

namespace supd::integration {
namespace {

using nlohmann::json;

class IdentityTest : public SupdTest {
 protected:
  void SetUp() override {
    SupdTest::SetUp();
    // Services running as nobody write here.
    ASSERT_EQ(0, mkdir((dir_ + "/out").c_str(), 0777));
    ASSERT_EQ(0, chmod((dir_ + "/out").c_str(), 0777));
  }
};


// The nice value of a process: field 19 of /proc/PID/stat.
int ProcNice(pid_t pid) {
  const std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  const size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return 99;
  std::istringstream in(stat.substr(paren + 2));
  std::string field;
  for (int i = 3; i <= 19 && (in >> field); ++i) {
    if (i == 19) return std::stoi(field);
  }
  return 99;
}

std::string Trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// "%016x" of a capability mask, as /proc/PID/status prints CapBnd: and friends.
std::string CapHex(uint64_t mask) {
  char buf[17];
  snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(mask));
  return buf;
}

// The bounding set supd starts with: ours (root in a container may lack some, e.g.
// CAP_SYS_RESOURCE).
uint64_t OwnBoundingSet() { return std::stoull(ProcStatusField(getpid(), "CapBnd"), nullptr, 16); }

bool CanRaiseHardLimits() {
  const uint64_t eff = std::stoull(ProcStatusField(getpid(), "CapEff"), nullptr, 16);
  return (eff & (uint64_t{1} << 24)) != 0;  // CAP_SYS_RESOURCE
}

// What /proc/PID/limits shows for a hard limit of "infinity": unlimited, unless supd could
// not raise it beyond its own (then supd gives its own hard limit, which it inherits from us).
std::string InfinityFor(int resource) {
  struct rlimit own {};
  getrlimit(resource, &own);
  if (own.rlim_max == RLIM_INFINITY || CanRaiseHardLimits()) return "unlimited";
  return std::to_string(own.rlim_max);
}

// The groups a process of `user` gets from the group database (getgrouplist), sorted.
std::vector<gid_t> GroupsOf(const char* user, gid_t gid) {
  int n = 256;
  std::vector<gid_t> groups(n);
  if (getgrouplist(user, gid, groups.data(), &n) < 0) return {};
  groups.resize(n);
  return groups;
}

std::vector<gid_t> ParseGroups(const std::string& field) {
  std::vector<gid_t> out;
  std::istringstream in(field);
  gid_t g;
  while (in >> g) out.push_back(g);
  std::sort(out.begin(), out.end());
  return out;
}

// A TCP port below 1024 that 127.0.0.1 can bind now: 80 unless something uses it.
int FreePrivilegedPort() {
  for (int port : {80, 1023, 1022, 1021, 1020}) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    close(fd);
    if (ok) return port;
  }
  return -1;
}

TEST_F(IdentityTest, LimitsUmaskNiceAndOomScoreReachTheProgram) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root (a negative Nice=)";
  WriteUnit("limited.service", R"([Service]
Type=exec
ExecStart={go}/envdump -out {dir}/out/limited.json -sleep
LimitNOFILE=2048:4096
LimitCORE=0:infinity
LimitSTACK=4M
LimitMEMLOCK=32K:64K
LimitCPU=1h
LimitRTTIME=200ms:1s
UMask=0027
Nice=-3
OOMScoreAdjust=345
)");
  WriteUnit("plain.service", R"([Service]
Type=exec
ExecStart={go}/envdump -out {dir}/out/plain.json -sleep
)");
  // Go (1.19 on) raises its own soft RLIMIT_NOFILE to the hard limit at start, so the soft
  // values are checked on a program that leaves them alone.
  WriteUnit("sleeper.service", R"([Service]
Type=exec
LimitNOFILE=2048:4096
ExecStart=/bin/sleep 600
)");
  WriteUnit("plainsleeper.service", R"([Service]
Type=exec
ExecStart=/bin/sleep 600
)");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  for (const char* name : {"limited", "plain", "sleeper", "plainsleeper"}) {
    CommandResult start = Supctl({"start", name});
    ASSERT_EQ(0, start.exit_code) << start.Describe() << SupdContext();
  }
  const pid_t pid = MainPid("limited.service");
  ASSERT_GT(pid, 0);
  // Type=exec answers once exec succeeded, before the Go runtime has run its init (which raises
  // the soft limit): wait for the file the program writes after init.
  json dump;
  ASSERT_TRUE(WaitFor([&] {
    dump = json::parse(ReadFile(dir_ + "/out/limited.json"), nullptr, false);
    return dump.is_object();
  }));
  EXPECT_EQ(std::make_pair(std::string("4096"), std::string("4096")),
            ProcLimit(pid, "Max open files"))
      << "the hard limit, and Go's soft limit raised to it";
  EXPECT_EQ(std::make_pair(std::string("2048"), std::string("4096")),
            ProcLimit(MainPid("sleeper.service"), "Max open files"));
  EXPECT_EQ(std::make_pair(std::string("0"), InfinityFor(RLIMIT_CORE)),
            ProcLimit(pid, "Max core file size"));
  EXPECT_EQ(std::make_pair(std::string("4194304"), std::string("4194304")),
            ProcLimit(pid, "Max stack size"));
  EXPECT_EQ(std::make_pair(std::string("32768"), std::string("65536")),
            ProcLimit(pid, "Max locked memory"));
  EXPECT_EQ(std::make_pair(std::string("3600"), std::string("3600")),
            ProcLimit(pid, "Max cpu time"));
  EXPECT_EQ(std::make_pair(std::string("200000"), std::string("1000000")),
            ProcLimit(pid, "Max realtime timeout"));
  EXPECT_EQ("0027", ProcStatusField(pid, "Umask"));
  EXPECT_EQ(-3, ProcNice(pid));
  EXPECT_EQ("345", Trimmed(ReadFile("/proc/" + std::to_string(pid) + "/oom_score_adj")));
  EXPECT_EQ(json(027), dump["umask"]) << "the Go program sees UMask= too";
  // Status says what the unit set, in JSON and for people.
  auto st = Status("limited.service");
  ASSERT_TRUE(st);
  const json& proc = (*st)["process"];
  EXPECT_EQ("2048:4096", proc["limits"].value("LimitNOFILE", "")) << proc.dump();
  EXPECT_EQ("0:infinity", proc["limits"].value("LimitCORE", "")) << proc.dump();
  EXPECT_EQ("0027", proc.value("umask", "")) << proc.dump();
  EXPECT_EQ(json(-3), proc["nice"]);
  EXPECT_EQ(json(345), proc["oom_score_adjust"]);
  CommandResult human = Supctl({"status", "limited"});
  EXPECT_NE(std::string::npos,
            human.out.find("   Identity: UMask=0027 Nice=-3 OOMScoreAdjust=345\n"))
      << human.out;
  EXPECT_NE(std::string::npos, human.out.find("LimitNOFILE=2048:4096")) << human.out;

  // Without the directives: systemd's defaults (soft NOFILE 1024, umask 0022), supd's nice and
  // OOM score.
  const pid_t plain = MainPid("plain.service");
  ASSERT_GT(plain, 0);
  EXPECT_EQ("1024", ProcLimit(MainPid("plainsleeper.service"), "Max open files").first);
  EXPECT_EQ("0022", ProcStatusField(plain, "Umask"));
  EXPECT_EQ(ProcNice(supd_pid_), ProcNice(plain));
  EXPECT_EQ(ReadFile("/proc/" + std::to_string(supd_pid_) + "/oom_score_adj"),
            ReadFile("/proc/" + std::to_string(plain) + "/oom_score_adj"));
}

TEST_F(IdentityTest, UserNobodyGetsItsGroupsPlusSupplementaryGroups) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to switch users";
  struct passwd* pw = getpwnam("nobody");
  ASSERT_NE(nullptr, pw);
  struct group* adm = getgrnam("adm");
  ASSERT_NE(nullptr, adm) << "Debian has an adm group";
  const gid_t adm_gid = adm->gr_gid;
  WriteUnit("nobody.service", R"([Service]
Type=exec
User=nobody
SupplementaryGroups=adm
SupplementaryGroups=4242
ExecStart={go}/envdump -out {dir}/out/nobody.json -sleep
)");
  WriteUnit("rootgroups.service", R"([Service]
Type=exec
SupplementaryGroups=4242 4243
ExecStart={go}/envdump -out {dir}/out/root.json -sleep
)");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  for (const char* name : {"nobody", "rootgroups"}) {
    CommandResult start = Supctl({"start", name});
    ASSERT_EQ(0, start.exit_code) << start.Describe() << SupdContext();
  }
  const pid_t pid = MainPid("nobody.service");
  ASSERT_GT(pid, 0);
  EXPECT_EQ("65534\t65534\t65534\t65534", ProcStatusField(pid, "Uid"));
  const std::string gid = std::to_string(pw->pw_gid);
  EXPECT_EQ(gid + "\t" + gid + "\t" + gid + "\t" + gid, ProcStatusField(pid, "Gid"));
  std::vector<gid_t> want = GroupsOf("nobody", pw->pw_gid);
  want.push_back(adm_gid);
  want.push_back(4242);
  std::sort(want.begin(), want.end());
  want.erase(std::unique(want.begin(), want.end()), want.end());
  EXPECT_EQ(want, ParseGroups(ProcStatusField(pid, "Groups")))
      << "Groups: " << ProcStatusField(pid, "Groups");
  // Leaving root without AmbientCapabilities= leaves no capability at all.
  EXPECT_EQ(CapHex(0), ProcStatusField(pid, "CapPrm"));
  EXPECT_EQ(CapHex(0), ProcStatusField(pid, "CapEff"));
  EXPECT_EQ(CapHex(0), ProcStatusField(pid, "CapAmb"));

  // Without User=, SupplementaryGroups= is the whole list (systemd's get_supplementary_groups).
  const pid_t root = MainPid("rootgroups.service");
  ASSERT_GT(root, 0);
  EXPECT_EQ("0\t0\t0\t0", ProcStatusField(root, "Uid"));
  EXPECT_EQ((std::vector<gid_t>{4242, 4243}), ParseGroups(ProcStatusField(root, "Groups")));
}

TEST_F(IdentityTest, AmbientNetBindServiceLetsNobodyBindAPrivilegedPort) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to switch users and grant capabilities";
  if (Trimmed(ReadFile("/proc/sys/net/ipv4/ip_unprivileged_port_start")) != "1024")
    GTEST_SKIP() << "net.ipv4.ip_unprivileged_port_start is not 1024 here";
  const int port = FreePrivilegedPort();
  if (port < 0) GTEST_SKIP() << "no free port below 1024 on 127.0.0.1";
  const std::string addr = "127.0.0.1:" + std::to_string(port);
  WriteUnit("web80.service", R"([Service]
User=nobody
AmbientCapabilities=CAP_NET_BIND_SERVICE
ExecStart={go}/httpserver -addr )" +
                                 addr + R"(
)");
  WriteUnit("nocap.service", R"([Service]
User=nobody
ExecStart={go}/httpserver -addr )" +
                                 addr + R"(
)");
  ASSERT_NO_FATAL_FAILURE(StartSupd());

  // Without the capability nobody may not bind it.
  CommandResult start = Supctl({"start", "nocap"});
  ASSERT_EQ(0, start.exit_code) << start.Describe();
  ASSERT_TRUE(WaitForState("nocap.service", "failed")) << Status("nocap.service")->dump();
  EXPECT_TRUE(WaitForLog("nocap.service", "permission denied")) << ServiceLog("nocap.service");

  start = Supctl({"start", "web80"});
  ASSERT_EQ(0, start.exit_code) << start.Describe();
  const pid_t pid = WaitForRunning("web80.service");
  ASSERT_GT(pid, 0) << SupdContext();
  std::optional<std::string> body;
  ASSERT_TRUE(WaitFor([&] {
    body = HttpGet(port);
    return body.has_value();
  })) << ServiceLog("web80.service")
      << SupdContext();
  EXPECT_EQ("hello from " + std::to_string(pid) + "\n", *body);
  EXPECT_EQ("65534\t65534\t65534\t65534", ProcStatusField(pid, "Uid"));
  const std::string bind_cap = CapHex(uint64_t{1} << 10);  // CAP_NET_BIND_SERVICE
  EXPECT_EQ(bind_cap, ProcStatusField(pid, "CapAmb"));
  EXPECT_EQ(bind_cap, ProcStatusField(pid, "CapEff"));
  EXPECT_EQ(bind_cap, ProcStatusField(pid, "CapPrm"));
  EXPECT_EQ(CapHex(OwnBoundingSet()), ProcStatusField(pid, "CapBnd"));
}

TEST_F(IdentityTest, BoundingSetAndNoNewPrivilegesAndTheFullPrivilegePrefix) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root (dropping from the bounding set)";
  WriteUnit("bounded.service", R"([Service]
Type=exec
CapabilityBoundingSet=CAP_NET_BIND_SERVICE CAP_CHOWN
NoNewPrivileges=yes
ExecStart={go}/envdump -out {dir}/out/bounded.json -sleep
)");
  // ~ removes from the full set; '+' runs ExecStartPre= with none of it.
  WriteUnit("notadmin.service", R"([Service]
Type=exec
User=nobody
CapabilityBoundingSet=~CAP_SYS_ADMIN
NoNewPrivileges=true
ExecStartPre=+/bin/sh -c 'cat /proc/self/status > {dir}/out/pre.status'
ExecStart={go}/envdump -out {dir}/out/notadmin.json -sleep
)");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  for (const char* name : {"bounded", "notadmin"}) {
    CommandResult start = Supctl({"start", name});
    ASSERT_EQ(0, start.exit_code) << start.Describe() << SupdContext();
  }
  const uint64_t kept = (uint64_t{1} << 10) | (uint64_t{1} << 0);
  const pid_t pid = MainPid("bounded.service");
  ASSERT_GT(pid, 0);
  EXPECT_EQ(CapHex(kept), ProcStatusField(pid, "CapBnd"));
  EXPECT_EQ(CapHex(kept), ProcStatusField(pid, "CapEff")) << "root keeps only the bounding set";
  EXPECT_EQ("1", ProcStatusField(pid, "NoNewPrivs"));

  const pid_t other = MainPid("notadmin.service");
  ASSERT_GT(other, 0);
  EXPECT_EQ(CapHex(OwnBoundingSet() & ~(uint64_t{1} << 21)), ProcStatusField(other, "CapBnd"));
  EXPECT_EQ("1", ProcStatusField(other, "NoNewPrivs"));
  EXPECT_EQ("65534\t65534\t65534\t65534", ProcStatusField(other, "Uid"));
  const std::string pre = ReadFile(dir_ + "/out/pre.status");
  EXPECT_NE(std::string::npos, pre.find("Uid:\t0\t0\t0\t0")) << pre;
  EXPECT_NE(std::string::npos, pre.find("NoNewPrivs:\t0")) << pre;
  EXPECT_NE(std::string::npos, pre.find("CapBnd:\t" + CapHex(OwnBoundingSet()))) << pre;
}

TEST_F(IdentityTest, NumericUserAboveIntMaxWithoutAnEntryRunsAsThatUid) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to switch users";
  // systemd's parse_uid() takes any uid up to 4294967294, with or without a passwd entry.
  WriteUnit("bigid.service", R"([Service]
Type=exec
User=3000000000
Group=3000000001
ExecStart={go}/envdump -out {dir}/out/bigid.json -sleep
)");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  CommandResult start = Supctl({"start", "bigid"});
  ASSERT_EQ(0, start.exit_code) << start.Describe() << SupdContext();
  const pid_t pid = MainPid("bigid.service");
  ASSERT_GT(pid, 0);
  EXPECT_EQ("3000000000\t3000000000\t3000000000\t3000000000", ProcStatusField(pid, "Uid"));
  EXPECT_EQ("3000000001\t3000000001\t3000000001\t3000000001", ProcStatusField(pid, "Gid"));
}

TEST_F(IdentityTest, UnknownUserFailsTheStartWithTheReason) {
  WriteUnit("ghost.service", R"([Service]
Type=exec
User=supd-no-such-user
ExecStart={go}/envdump -out {dir}/out/ghost.json -sleep
)");
  WriteUnit("ghostgroup.service", R"([Service]
Type=exec
SupplementaryGroups=supd-no-such-group
ExecStart={go}/envdump -out {dir}/out/ghostgroup.json -sleep
)");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  CommandResult start = Supctl({"start", "ghost"});
  EXPECT_EQ(1, start.exit_code) << start.Describe();
  const std::string why = "User=supd-no-such-user: look up user 'supd-no-such-user': no such user";
  EXPECT_NE(std::string::npos, start.err.find(why)) << start.Describe();
  CommandResult status = Supctl({"status", "ghost"});
  EXPECT_NE(std::string::npos, status.out.find("Cause: " + why)) << status.Describe();
  EXPECT_EQ("failed", State("ghost.service"));

  start = Supctl({"start", "ghostgroup"});
  EXPECT_EQ(1, start.exit_code) << start.Describe();
  EXPECT_NE(std::string::npos,
            start.err.find("SupplementaryGroups=: look up group 'supd-no-such-group': no such "
                           "group"))
      << start.Describe();
  EXPECT_FALSE(FileExists(dir_ + "/out/ghost.json"));
  EXPECT_FALSE(FileExists(dir_ + "/out/ghostgroup.json"));
}

TEST_F(IdentityTest, ImpossibleLimitAndCapabilityFailTheStartNamingTheStep) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root (as non-root any raised limit fails alike)";
  const long nr_open = std::stol(ReadFile("/proc/sys/fs/nr_open"));
  // Without RequireLimits=yes the limit would be clamped (as systemd does; limits_test.cc).
  WriteUnit("toomany.service", R"([Service]
Type=exec
LimitNOFILE=)" + std::to_string(nr_open + 1) +
                                   R"(
ExecStart={go}/envdump -out {dir}/out/toomany.json -sleep
[X-Supd]
RequireLimits=yes
)");
  // Raising an ambient capability that the bounding set no longer has.
  WriteUnit("nocap.service", R"([Service]
Type=exec
User=nobody
CapabilityBoundingSet=~CAP_NET_BIND_SERVICE
AmbientCapabilities=CAP_NET_BIND_SERVICE
ExecStart={go}/envdump -out {dir}/out/nocap.json -sleep
)");
  // LimitNOFILE=infinity means fs.nr_open, which the kernel accepts (or, without
  // CAP_SYS_RESOURCE, supd's own hard limit).
  WriteUnit("infinite.service", R"([Service]
Type=exec
LimitNOFILE=infinity
ExecStart={go}/envdump -out {dir}/out/infinite.json -sleep
)");
  ASSERT_NO_FATAL_FAILURE(StartSupd());

  CommandResult start = Supctl({"start", "toomany"});
  EXPECT_EQ(1, start.exit_code) << start.Describe();
  const std::string why = "set LimitNOFILE=" + std::to_string(nr_open + 1) + " for " +
                          GoBin("envdump") + ": Operation not permitted";
  EXPECT_NE(std::string::npos, start.err.find(why)) << start.Describe();
  auto s = Status("toomany.service");
  ASSERT_TRUE(s);
  EXPECT_EQ("failed", s->value("state", "")) << s->dump();
  ASSERT_TRUE((*s)["last_exit"].is_object()) << s->dump();
  EXPECT_EQ(why, (*s)["last_exit"].value("reason", "")) << s->dump();
  EXPECT_EQ(json(205), (*s)["last_exit"]["code"]) << "systemd's EXIT_LIMITS";
  CommandResult status = Supctl({"status", "toomany"});
  EXPECT_NE(std::string::npos, status.out.find("Last exit: " + why)) << status.Describe();

  start = Supctl({"start", "nocap"});
  EXPECT_EQ(1, start.exit_code) << start.Describe();
  EXPECT_NE(std::string::npos,
            start.err.find("make AmbientCapabilities= inheritable (capset) for " +
                           GoBin("envdump") + ": Operation not permitted"))
      << start.Describe();
  s = Status("nocap.service");
  ASSERT_TRUE(s);
  EXPECT_EQ(json(218), (*s)["last_exit"]["code"]) << "systemd's EXIT_CAPABILITIES";
  EXPECT_FALSE(FileExists(dir_ + "/out/toomany.json"));
  EXPECT_FALSE(FileExists(dir_ + "/out/nocap.json"));

  start = Supctl({"start", "infinite"});
  ASSERT_EQ(0, start.exit_code) << start.Describe();
  struct rlimit own {};
  getrlimit(RLIMIT_NOFILE, &own);
  const std::string n =
      std::to_string(CanRaiseHardLimits() ? nr_open : std::min<long>(nr_open, own.rlim_max));
  EXPECT_EQ(std::make_pair(n, n), ProcLimit(MainPid("infinite.service"), "Max open files"));
}

}  // namespace
}  // namespace supd::integration
