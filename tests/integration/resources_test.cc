// Resource control with the real kernel: MemoryMax= OOM kills, TasksMax= against a fork bomb,
// CPUQuota= against a spinning program, GoRuntime=auto's environment, RequireLimits=, and supd
// as an ordinary user (nothing enforced, and it says so). The limit tests need root and a host
// where supd can use the controller (v2 or hybrid); they skip with the reason otherwise.
// (A double-forking service leaving nothing after a stop is StopTest's
// StopKillsGrandchildThatLeftTheSessionAndProcessGroup.)

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/harness.h"

namespace supd::integration {
namespace {

using nlohmann::json;

class ResourcesTest : public SupdTest {
 protected:
  // The limit report of `directive` in the service's status, or null.
  json Limit(const std::string& service, const std::string& directive) {
    auto st = Status(service);
    if (!st) return nullptr;
    for (const auto& l : (*st)["resources"]["limits"])
      if (l["directive"] == directive) return l;
    return nullptr;
  }
  // Skips the test unless `directive` was enforced for the service's current instance.
  bool Enforced(const std::string& service, const std::string& directive, std::string* why) {
    json l = Limit(service, directive);
    if (l.is_null()) {
      *why = directive + "= is not in the status of " + service;
      return false;
    }
    *why = l.value("detail", "");
    return l.value("enforced", false);
  }
  json Version() {
    // The JSON comes from the protocol directly: supctl version prints text.
    RawClient c(socket_);
    if (!c.connected() || !c.Send("{\"id\":1,\"cmd\":\"version\"}\n")) return nullptr;
    auto line = c.ReadLine();
    if (!line) return nullptr;
    json j = json::parse(*line, nullptr, false);
    return j.is_object() ? j["result"] : json(nullptr);
  }
};

// "NAME=value" entries of /proc/PID/environ.
std::vector<std::string> Environ(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/environ");
  std::vector<std::string> out;
  std::string entry;
  while (std::getline(in, entry, '\0')) out.push_back(entry);
  return out;
}

bool Has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

bool HasPrefix(const std::vector<std::string>& v, const std::string& prefix) {
  for (const auto& s : v)
    if (s.rfind(prefix, 0) == 0) return true;
  return false;
}

// CPU time of a process (user + system) in seconds, from /proc/PID/stat.
double CpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto paren = text.rfind(')');
  if (paren == std::string::npos) return -1;
  std::istringstream rest(text.substr(paren + 2));
  std::string field;
  // Fields after the name start at 3 (state); utime is 14, stime 15.
  for (int i = 3; i < 14; ++i) rest >> field;
  unsigned long long utime = 0, stime = 0;
  rest >> utime >> stime;
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

TEST_F(ResourcesTest, SupdReportsTheHostsCgroupLayout) {
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  json v = Version();
  ASSERT_TRUE(v.is_object()) << SupdContext();
  const std::string mode = v["cgroups"]["mode"].get<std::string>();
  EXPECT_TRUE(mode == "v2" || mode == "hybrid" || mode == "none") << v.dump();
  for (const char* c : {"memory", "cpu", "pids", "io"})
    EXPECT_TRUE(v["cgroups"]["controllers"].contains(c)) << v.dump();
  EXPECT_NE(std::string::npos, SupdStderr().find("resource control: " + mode)) << SupdStderr();
  CommandResult human = Supctl({"status"});
  EXPECT_EQ(0, human.exit_code) << human.Describe();
  EXPECT_NE(std::string::npos, human.out.find("    Cgroups: " + mode)) << human.out;
  if (geteuid() == 0 && std::filesystem::exists("/sys/fs/cgroup/memory/cgroup.procs") &&
      !std::filesystem::exists("/sys/fs/cgroup/cgroup.controllers")) {
    // This CI machine: v1 controllers beside a v2 tracking hierarchy.
    EXPECT_EQ("hybrid", mode) << v.dump();
  }
}

TEST_F(ResourcesTest, GoProgramAllocatingPastMemoryMaxIsOomKilledAndTheReasonSaysSo) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  WriteUnit("hog.service", R"([Service]
ExecStart={go}/hog -alloc-mb 512
MemoryMax=64M
MemorySwapMax=0
)");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  CommandResult start = Supctl({"start", "hog"});
  (void)start;  // Type=simple: the start may succeed before the allocation kills it
  std::string why;
  auto st = Status("hog.service");
  ASSERT_TRUE(st) << SupdContext();
  if (!Enforced("hog.service", "MemoryMax", &why)) GTEST_SKIP() << "MemoryMax= not enforced: " << why;
  ASSERT_TRUE(WaitFor([&] {
    auto s = Status("hog.service");
    return s && (*s)["last_exit"].is_object();
  }, 60s)) << SupdContext();
  st = Status("hog.service");
  EXPECT_EQ("killed by the OOM killer (MemoryMax=64M)", (*st)["last_exit"]["reason"]) << st->dump(1);
  EXPECT_EQ("main process killed by the OOM killer (MemoryMax=64M)", (*st)["cause"]) << st->dump(1);
  EXPECT_EQ("oom-kill", (*st)["result"]) << "systemd's result for it" << st->dump(1);
  CommandResult human = Supctl({"status", "hog"});
  EXPECT_NE(std::string::npos, human.out.find("Last exit: killed by the OOM killer (MemoryMax=64M)"))
      << human.out;
}

TEST_F(ResourcesTest, TasksMaxStopsAForkBombAtTheLimit) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  WriteUnit("bomb.service", R"([Service]
ExecStart={go}/hog -fork 200
TasksMax=24
)");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  ASSERT_EQ(0, Supctl({"start", "bomb"}).exit_code) << SupdContext();
  std::string why;
  if (!Enforced("bomb.service", "TasksMax", &why)) GTEST_SKIP() << "TasksMax= not enforced: " << why;
  // The program either sees fork fail, or (the Go runtime needing a thread it cannot get)
  // dies of it: both are the limit at work.
  ASSERT_TRUE(WaitFor([&] {
    const std::string log = ServiceLog("bomb.service");
    return log.find("fork failed after") != std::string::npos ||
           log.find("failed to create new OS thread") != std::string::npos;
  }, 60s)) << ServiceLog("bomb.service") << SupdContext();
  auto st = Status("bomb.service");
  ASSERT_TRUE(st);
  const json tasks = (*st)["resources"]["stats"]["tasks"];
  if (tasks.is_number()) {
    EXPECT_LE(tasks.get<int>(), 24) << st->dump(1);
  }
  if ((*st)["cgroup"].is_string()) {
    // Processes (not threads) in the instance's cgroup: far fewer than the 200 asked for.
    const auto pids = ReadPids((*st)["cgroup"].get<std::string>() + "/cgroup.procs");
    EXPECT_LE(pids.size(), 24u);
  }
  const std::string log = ServiceLog("bomb.service");
  EXPECT_EQ(std::string::npos, log.find("started 32 children")) << log;
  EXPECT_EQ(0, Supctl({"stop", "bomb"}).exit_code);
}

TEST_F(ResourcesTest, CpuQuotaKeepsASpinningProgramNearItsShare) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  WriteUnit("spin.service", R"([Service]
ExecStart={go}/hog -spin 2
CPUQuota=20%
MemoryMax=200M
TasksMax=100
)");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  ASSERT_EQ(0, Supctl({"start", "spin"}).exit_code) << SupdContext();
  std::string why;
  if (!Enforced("spin.service", "CPUQuota", &why)) GTEST_SKIP() << "CPUQuota= not enforced: " << why;
  const pid_t pid = MainPid("spin.service");
  ASSERT_GT(pid, 0);
  const double cpu0 = CpuSeconds(pid);
  const auto t0 = Clock::now();
  // A measurement window, not a wait for anything: 3 s of wall time over which the CPU share is
  // averaged. Its length does not decide the outcome; the bounds below are loose because the
  // machine is shared (load can only lower the share, and the lower bound just says it ran).
  std::this_thread::sleep_for(3s);
  const double cpu = CpuSeconds(pid) - cpu0;
  const double wall = std::chrono::duration<double>(Clock::now() - t0).count();
  const double share = cpu / wall;
  // Two spinning goroutines would take up to 2 CPUs; the quota allows 0.2. Loose bounds: the
  // machine is shared, so the lower one only checks that it ran at all.
  EXPECT_LT(share, 0.35) << "cpu " << cpu << " s over " << wall << " s";
  EXPECT_GT(share, 0.02) << "cpu " << cpu << " s over " << wall << " s";
  auto st = Status("spin.service");
  ASSERT_TRUE(st);
  const json stats = (*st)["resources"]["stats"];
  ASSERT_TRUE(stats["cpu_usec"].is_number()) << st->dump(1);
  EXPECT_GT(stats["cpu_usec"].get<uint64_t>(), 0u);
  EXPECT_TRUE(stats["tasks"].is_number()) << st->dump(1);
  EXPECT_TRUE(stats["memory_current_bytes"].is_number()) << st->dump(1);
  CommandResult human = Supctl({"status", "spin"});
  EXPECT_NE(std::string::npos, human.out.find("        CPU: ")) << human.out;
  EXPECT_NE(std::string::npos, human.out.find("CPUQuota=20%: enforced")) << human.out;

  // Its v1 directories (hybrid host) go when the instance ends.
  json v = Version();
  const std::string inv = (*st)["invocation_id"].get<std::string>();
  std::vector<std::string> v1_dirs;
  for (const char* c : {"memory", "cpu", "pids"}) {  // io only with IOWeight=
    const json p = v["cgroups"]["controllers"][c];
    if (p["where"] == "v1") v1_dirs.push_back(p["path"].get<std::string>() + "/spin.service/" + inv);
  }
  for (const auto& d : v1_dirs) EXPECT_TRUE(std::filesystem::exists(d)) << d;
  ASSERT_EQ(0, Supctl({"stop", "spin"}).exit_code);
  for (const auto& d : v1_dirs) EXPECT_FALSE(std::filesystem::exists(d)) << d;
}

TEST_F(ResourcesTest, GoRuntimeAutoSetsGomaxprocsAndGomemlimit) {
  WriteUnit("go.service", R"([Service]
ExecStart={go}/hog -report {dir}/go.report
CPUQuota=150%
MemoryMax=100M
)");
  WriteUnit("own.service", R"([Service]
ExecStart={go}/hog -report {dir}/own.report
Environment=GOMAXPROCS=3
CPUQuota=50%
MemoryMax=100M
)");
  WriteUnit("off.service", R"([Service]
ExecStart={go}/hog
CPUQuota=50%
MemoryMax=100M
[X-Supd]
GoRuntime=off
)");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  for (const char* s : {"go", "own", "off"}) ASSERT_EQ(0, Supctl({"start", s}).exit_code) << s;
  const std::string memlimit = std::to_string((100ull << 20) * 90 / 100);

  // Type=simple: the start returns once forked; the environment is the service's after exec.
  std::vector<std::string> env;
  for (const char* svc : {"go.service", "own.service", "off.service"}) {
    ASSERT_TRUE(WaitFor([&] { return HasPrefix(Environ(MainPid(svc)), "INVOCATION_ID="); }))
        << svc << SupdContext();
  }
  env = Environ(MainPid("go.service"));
  EXPECT_TRUE(Has(env, "GOMAXPROCS=2")) << ::testing::PrintToString(env);
  EXPECT_TRUE(Has(env, "GOMEMLIMIT=" + memlimit)) << ::testing::PrintToString(env);
  ASSERT_TRUE(WaitFor([&] { return FileExists(dir_ + "/go.report"); })) << SupdContext();
  EXPECT_EQ("gomaxprocs 2\nmemlimit " + memlimit + "\n", ReadFile(dir_ + "/go.report"));
  auto st = Status("go.service");
  ASSERT_TRUE(st);
  EXPECT_EQ(json({{"GOMAXPROCS", "2"}, {"GOMEMLIMIT", memlimit}}),
            (*st)["resources"]["go_runtime"]["set_by_supd"]);
  CommandResult human = Supctl({"status", "go"});
  EXPECT_NE(std::string::npos,
            human.out.find(" Go runtime: GOMAXPROCS=2 GOMEMLIMIT=" + memlimit +
                           " (set by supd, GoRuntime=auto)"))
      << human.out;

  // The unit's own GOMAXPROCS wins; GOMEMLIMIT is still derived.
  env = Environ(MainPid("own.service"));
  EXPECT_TRUE(Has(env, "GOMAXPROCS=3")) << ::testing::PrintToString(env);
  EXPECT_TRUE(Has(env, "GOMEMLIMIT=" + memlimit)) << ::testing::PrintToString(env);
  ASSERT_TRUE(WaitFor([&] { return FileExists(dir_ + "/own.report"); }));
  EXPECT_EQ("gomaxprocs 3\nmemlimit " + memlimit + "\n", ReadFile(dir_ + "/own.report"));

  env = Environ(MainPid("off.service"));
  EXPECT_FALSE(HasPrefix(env, "GOMAXPROCS=")) << ::testing::PrintToString(env);
  EXPECT_FALSE(HasPrefix(env, "GOMEMLIMIT=")) << ::testing::PrintToString(env);
}

TEST_F(ResourcesTest, RequireLimitsRefusesAStartThatCannotBeEnforced) {
  WriteUnit("strict.service", R"([Service]
ExecStart={go}/crasher -sleep
MemoryHigh=50M
[X-Supd]
RequireLimits=yes
)");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  // MemoryHigh= has no v1 equivalent: unenforceable on a hybrid host (and everywhere without
  // cgroups). On a pure v2 host this test has nothing to refuse.
  json v = Version();
  if (v["cgroups"]["mode"] == "v2") GTEST_SKIP() << "MemoryHigh= is enforceable on this host";
  CommandResult start = Supctl({"start", "strict"});
  EXPECT_EQ(1, start.exit_code) << start.Describe();
  EXPECT_NE(std::string::npos,
            start.err.find("RequireLimits=yes and this host cannot enforce MemoryHigh=50M ("))
      << start.Describe();
  auto st = Status("strict.service");
  ASSERT_TRUE(st);
  EXPECT_NE("running", (*st)["state"]);
  EXPECT_TRUE((*st)["main_pid"].is_null());
}

TEST_F(ResourcesTest, OrdinaryUserSupdRunsServicesAndReportsLimitsAsNotEnforced) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root (to become an ordinary user)";
  const std::vector<std::string> as_nobody = {"/usr/bin/setpriv", "--reuid=65534",
                                              "--regid=65534", "--clear-groups"};
  WriteUnit("limited.service", R"([Service]
ExecStart={go}/crasher -sleep
MemoryMax=64M
CPUQuota=20%
TasksMax=32
)");
  WriteUnit("strict.service", R"([Service]
ExecStart={go}/crasher -sleep
MemoryMax=64M
[X-Supd]
RequireLimits=yes
)");
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir_))
    ASSERT_EQ(0, lchown(entry.path().c_str(), 65534, 65534)) << entry.path();
  ASSERT_EQ(0, lchown(dir_.c_str(), 65534, 65534));
  SupdOptions options;
  options.wrapper = as_nobody;
  ASSERT_NO_FATAL_FAILURE(StartSupd(options));
  json v = Version();
  EXPECT_EQ("none", v["cgroups"]["mode"]) << v.dump();

  ASSERT_EQ(0, Supctl({"start", "limited"}, as_nobody).exit_code) << SupdContext();
  EXPECT_GT(WaitForRunning("limited.service"), 0);
  auto st = Status("limited.service");
  ASSERT_TRUE(st);
  ASSERT_EQ(3u, (*st)["resources"]["limits"].size()) << st->dump(1);
  for (const auto& l : (*st)["resources"]["limits"]) {
    EXPECT_FALSE(l["enforced"].get<bool>()) << l.dump();
    EXPECT_FALSE(l["detail"].get<std::string>().empty()) << l.dump();
  }
  CommandResult human = Supctl({"status", "limited"});
  EXPECT_NE(std::string::npos, human.out.find("MemoryMax=64M: NOT enforced: ")) << human.out;
  EXPECT_NE(std::string::npos, SupdStderr().find("limited.service: MemoryMax=64M is not enforced"))
      << SupdStderr();

  CommandResult strict = Supctl({"start", "strict"}, as_nobody);
  EXPECT_EQ(1, strict.exit_code) << strict.Describe();
  EXPECT_NE(std::string::npos,
            strict.err.find("RequireLimits=yes and this host cannot enforce MemoryMax=64M"))
      << strict.Describe();
}

}  // namespace
}  // namespace supd::integration
