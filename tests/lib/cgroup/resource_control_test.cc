#include "lib/cgroup/resource_control.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

namespace supd {
namespace {

// A fake cgroupfs in a temporary directory: a mountinfo and /proc/self/cgroup naming it, and
// plain files where the kernel has its own. The test plays the kernel: it creates the files a
// new cgroup would have before Apply() writes them.
class ResourceControlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/supd-rc-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    files_.mountinfo = root_ + "/mountinfo";
    files_.self_cgroup = root_ + "/self-cgroup";
    files_.physical_memory = 8ull << 30;
    files_.tasks_total = 10000;
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  void Write(const std::string& path, const std::string& text) {
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream(path) << text;
  }
  std::string Read(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  void Touch(const std::string& dir, std::initializer_list<const char*> names) {
    std::filesystem::create_directories(dir);
    for (const char* n : names) Write(dir + "/" + n, "");
  }

  // A pure v2 host: supd's cgroup /own offers memory, cpu, pids and io.
  std::string PureV2() {
    Write(files_.mountinfo, "30 23 0:26 / " + root_ + "/cg2 rw - cgroup2 cgroup2 rw\n");
    Write(files_.self_cgroup, "0::/own\n");
    const std::string own = root_ + "/cg2/own";
    Write(own + "/cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n");
    Write(own + "/cgroup.subtree_control", "");
    Touch(own + "/supd-test", {"cgroup.subtree_control", "cgroup.procs"});
    return own + "/supd-test";
  }

  static const LimitReport* Report(const InstanceResources& ir, const std::string& directive) {
    for (const auto& l : ir.limits)
      if (l.directive == directive) return &l;
    return nullptr;
  }

  std::string root_;
  CgroupHostFiles files_;
};

ResourceLimits AllLimits() {
  ResourceLimits l;
  l.memory_max = *ParseMemoryLimit("64M", false);
  l.memory_high = *ParseMemoryLimit("50%", false);
  l.memory_swap_max = *ParseMemoryLimit("0", true);
  l.cpu_quota_per_sec_usec = *ParseCpuQuota("20%");
  l.cpu_quota_text = "20%";
  l.cpu_weight = 500;
  l.tasks_max = *ParseTasksMax("32");
  l.io_weight = 200;
  return l;
}

TEST_F(ResourceControlTest, PureV2EnablesControllersAndWritesEveryLimit) {
  const std::string tree = PureV2();
  ResourceControl rc = ResourceControl::Setup("supd-test", tree, "", files_);
  EXPECT_EQ(rc.mode(), CgroupMode::kV2);
  EXPECT_EQ(Read(root_ + "/cg2/own/cgroup.subtree_control"), "+memory +cpu +pids +io");
  EXPECT_EQ(Read(tree + "/cgroup.subtree_control"), "+memory +cpu +pids +io");
  EXPECT_EQ(rc.Summary(), "v2: tracking in cgroup v2 at " + tree +
                              "; controllers on cgroup v2: memory, cpu, pids, io");

  const std::string service = tree + "/web.service";
  const std::string inst = service + "/inv1";
  Touch(service, {"cgroup.subtree_control"});
  Touch(inst, {"memory.max", "memory.high", "memory.swap.max", "cpu.max", "cpu.weight",
               "pids.max", "io.weight", "memory.events", "cpu.stat"});
  const InstanceResources& ir = rc.Apply("web.service", "inv1", inst, AllLimits());
  EXPECT_EQ(Read(service + "/cgroup.subtree_control"), "+memory +cpu +pids +io");
  EXPECT_EQ(Read(inst + "/memory.max"), "67108864");
  EXPECT_EQ(Read(inst + "/memory.high"), std::to_string(4ull << 30));  // 50% of 8G
  EXPECT_EQ(Read(inst + "/memory.swap.max"), "0");
  EXPECT_EQ(Read(inst + "/cpu.max"), "20000 100000");
  EXPECT_EQ(Read(inst + "/cpu.weight"), "500");
  EXPECT_EQ(Read(inst + "/pids.max"), "32");
  EXPECT_EQ(Read(inst + "/io.weight"), "default 200");
  ASSERT_EQ(ir.limits.size(), 7u);
  for (const auto& l : ir.limits) EXPECT_TRUE(l.enforced) << l.directive << ": " << l.detail;
  EXPECT_EQ(Report(ir, "MemoryMax")->detail, "cgroup v2 memory.max=67108864");
  EXPECT_TRUE(ir.v1_dirs.empty());
  EXPECT_TRUE(ir.refusal.empty());

  // OOM kills and usage come from the instance's own files.
  Write(inst + "/memory.events", "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n");
  Write(inst + "/memory.current", "1048576\n");
  Write(inst + "/memory.peak", "2097152\n");
  Write(inst + "/cpu.stat",
        "usage_usec 1500000\nuser_usec 1000000\nsystem_usec 500000\nnr_periods 0\n");
  Write(inst + "/pids.current", "7\n");
  EXPECT_EQ(rc.OomKills(inst), 1u);
  InstanceStats st = rc.Stats(inst);
  EXPECT_EQ(st.memory_current, 1048576u);
  EXPECT_EQ(st.memory_peak, 2097152u);
  EXPECT_EQ(st.memory_max, 67108864u);
  EXPECT_EQ(st.cpu_usec, 1500000u);
  EXPECT_EQ(st.cpu_user_usec, 1000000u);
  EXPECT_EQ(st.cpu_system_usec, 500000u);
  EXPECT_EQ(st.tasks, 7u);
  // No limit ("max") and a file that is not a number are no figures, not zeros.
  Write(inst + "/memory.max", "max\n");
  Write(inst + "/pids.current", "7x\n");
  st = rc.Stats(inst);
  EXPECT_FALSE(st.memory_max.has_value());
  EXPECT_FALSE(st.tasks.has_value());
}

TEST_F(ResourceControlTest, InfinityIsMaxAndAMissingFileIsReportedNotDropped) {
  const std::string tree = PureV2();
  ResourceControl rc = ResourceControl::Setup("supd-test", tree, "", files_);
  const std::string inst = tree + "/web.service/inv2";
  Touch(tree + "/web.service", {"cgroup.subtree_control"});
  Touch(inst, {"memory.max", "pids.max"});  // no memory.swap.max: swap accounting is off
  ResourceLimits l;
  l.memory_max = *ParseMemoryLimit("infinity", false);
  l.tasks_max = *ParseTasksMax("infinity");
  l.memory_swap_max = *ParseMemoryLimit("1G", true);
  l.require_limits = true;
  const InstanceResources& ir = rc.Apply("web.service", "inv2", inst, l);
  EXPECT_EQ(Read(inst + "/memory.max"), "max");
  EXPECT_EQ(Read(inst + "/pids.max"), "max");
  const LimitReport* swap = Report(ir, "MemorySwapMax");
  ASSERT_NE(swap, nullptr);
  EXPECT_FALSE(swap->enforced);
  EXPECT_EQ(swap->detail, "open " + inst + "/memory.swap.max: No such file or directory");
  EXPECT_EQ(ir.refusal, "RequireLimits=yes and this host cannot enforce MemorySwapMax=1G (open " +
                            inst + "/memory.swap.max: No such file or directory)");
}

TEST_F(ResourceControlTest, HybridUsesV1HierarchiesAtTheSameRelativePath) {
  // v2 for tracking only (no controllers offered); memory, cpu and pids on v1 with supd's
  // memory cgroup below /process_api/x; blkio without weights.
  Write(files_.mountinfo,
        "32 31 0:29 / " + root_ + "/cpu rw - cgroup cgroup rw,cpu\n"
        "35 31 0:32 / " + root_ + "/memory rw - cgroup cgroup rw,memory\n"
        "38 31 0:35 / " + root_ + "/blkio rw - cgroup cgroup rw,blkio\n"
        "39 31 0:36 / " + root_ + "/pids rw - cgroup cgroup rw,pids\n"
        "41 31 0:38 / " + root_ + "/unified rw - cgroup2 cgroup2 rw\n");
  Write(files_.self_cgroup, "8:pids:/\n7:blkio:/\n4:memory:/process_api/x\n1:cpu:/\n0::/\n");
  for (const char* h : {"cpu", "blkio", "pids"}) Touch(root_ + "/" + h + "/supd-test", {"cgroup.procs"});
  Touch(root_ + "/memory/process_api/x/supd-test", {"cgroup.procs"});
  const std::string tree = root_ + "/unified/supd-test";
  Write(root_ + "/unified/cgroup.controllers", "");
  Touch(tree, {"cgroup.procs"});

  ResourceControl rc = ResourceControl::Setup("supd-test", tree, "", files_);
  EXPECT_EQ(rc.mode(), CgroupMode::kHybrid);
  const auto& places = rc.controllers();
  EXPECT_EQ(places.at("memory").where, ControllerPlace::Where::kV1);
  EXPECT_EQ(places.at("memory").v1_tree, root_ + "/memory/process_api/x/supd-test");
  EXPECT_EQ(places.at("cpu").v1_tree, root_ + "/cpu/supd-test");
  EXPECT_EQ(places.at("io").where, ControllerPlace::Where::kNone);
  EXPECT_EQ(places.at("io").reason,
            "the blkio hierarchy has no blkio.weight or blkio.bfq.weight (no I/O scheduler with "
            "weights on this kernel)");

  // The kernel would create these files with the directories; the test does it first.
  const std::string mem = root_ + "/memory/process_api/x/supd-test/web.service/inv3";
  const std::string cpu = root_ + "/cpu/supd-test/web.service/inv3";
  const std::string pids = root_ + "/pids/supd-test/web.service/inv3";
  Touch(mem, {"memory.limit_in_bytes", "memory.memsw.limit_in_bytes", "memory.oom_control"});
  Touch(cpu, {"cpu.cfs_quota_us", "cpu.cfs_period_us", "cpu.shares"});
  Touch(pids, {"pids.max"});
  const std::string inst = tree + "/web.service/inv3";
  Touch(inst, {"cpu.stat"});
  ResourceLimits l = AllLimits();
  l.memory_swap_max = *ParseMemoryLimit("16M", true);
  const InstanceResources& ir = rc.Apply("web.service", "inv3", inst, l);
  EXPECT_EQ(ir.v1_dirs, (std::map<std::string, std::string>{
                            {"cpu", cpu}, {"memory", mem}, {"pids", pids}}));
  EXPECT_EQ(Read(mem + "/memory.limit_in_bytes"), "67108864");
  EXPECT_EQ(Read(mem + "/memory.memsw.limit_in_bytes"), std::to_string(80ull << 20));
  EXPECT_EQ(Read(cpu + "/cpu.cfs_period_us"), "100000");
  EXPECT_EQ(Read(cpu + "/cpu.cfs_quota_us"), "20000");
  EXPECT_EQ(Read(cpu + "/cpu.shares"), "5120");
  EXPECT_EQ(Read(pids + "/pids.max"), "32");
  EXPECT_TRUE(Report(ir, "MemoryMax")->enforced);
  EXPECT_EQ(Report(ir, "MemoryMax")->detail, "cgroup v1 memory.limit_in_bytes=67108864");
  EXPECT_FALSE(Report(ir, "MemoryHigh")->enforced);
  EXPECT_EQ(Report(ir, "MemoryHigh")->detail,
            "cgroup v1 has no equivalent of memory.high (memory.soft_limit_in_bytes does not "
            "throttle)");
  EXPECT_FALSE(Report(ir, "IOWeight")->enforced);
  EXPECT_EQ(Report(ir, "IOWeight")->detail, "no io controller: " + places.at("io").reason);

  Write(mem + "/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
  EXPECT_EQ(rc.OomKills(inst), 2u);

  // Released with the v2 cgroup: the (empty) v1 directories go too.
  std::filesystem::remove_all(mem);
  std::filesystem::create_directories(mem);  // an empty directory, as the kernel leaves it
  rc.Release(inst);
  EXPECT_FALSE(std::filesystem::exists(mem));
  EXPECT_EQ(rc.Find(inst), nullptr);
}

// IOWeight= on v1: blkio.weight (CFQ) has the scale 10..1000 with 500 as default, BFQ's
// blkio.bfq.weight 1..1000 with 100 as default; each gets systemd's mapping for its scale.
TEST_F(ResourceControlTest, HybridIoWeightUsesTheScaleOfTheBlkioFile) {
  for (const bool bfq : {false, true}) {
    SCOPED_TRACE(bfq ? "blkio.bfq.weight" : "blkio.weight");
    const std::string r = root_ + (bfq ? "/bfq" : "/cfq");
    Write(files_.mountinfo, "38 31 0:35 / " + r + "/blkio rw - cgroup cgroup rw,blkio\n"
                            "41 31 0:38 / " + r + "/unified rw - cgroup2 cgroup2 rw\n");
    Write(files_.self_cgroup, "7:blkio:/\n0::/\n");
    const char* file = bfq ? "blkio.bfq.weight" : "blkio.weight";
    Touch(r + "/blkio/supd-test", {"cgroup.procs", file});
    const std::string tree = r + "/unified/supd-test";
    Write(r + "/unified/cgroup.controllers", "");
    Touch(tree, {"cgroup.procs"});
    ResourceControl rc = ResourceControl::Setup("supd-test", tree, "", files_);
    const std::string blkio = r + "/blkio/supd-test/web.service/inv1";
    Touch(blkio, {file});
    const std::string inst = tree + "/web.service/inv1";
    Touch(inst, {"cpu.stat"});
    for (const auto& [weight, expected] :
         std::vector<std::pair<uint64_t, std::string>>{
             {100, bfq ? "100" : "500"}, {200, bfq ? "109" : "1000"}, {1, bfq ? "1" : "10"},
             {10000, "1000"}}) {
      ResourceLimits l;
      l.io_weight = weight;
      const InstanceResources& ir = rc.Apply("web.service", "inv1", inst, l);
      EXPECT_TRUE(Report(ir, "IOWeight")->enforced) << Report(ir, "IOWeight")->detail;
      EXPECT_EQ(Read(blkio + "/" + file), expected) << "IOWeight=" << weight;
      rc.Release(inst);
      Touch(blkio, {file});
      Touch(inst, {"cpu.stat"});
    }
  }
}

TEST_F(ResourceControlTest, NoTrackingMeansNothingIsEnforced) {
  Write(files_.mountinfo, "");
  Write(files_.self_cgroup, "");
  ResourceControl rc = ResourceControl::Setup("supd-test", "", "mkdir /x: Permission denied", files_);
  EXPECT_EQ(rc.mode(), CgroupMode::kNone);
  EXPECT_EQ(rc.Summary(),
            "none: limits are not enforced: no cgroup tracking (mkdir /x: Permission denied)");
  ResourceLimits l;
  l.memory_max = *ParseMemoryLimit("64M", false);
  l.require_limits = true;
  const InstanceResources& ir = rc.Apply("web.service", "inv", "", l);
  ASSERT_EQ(ir.limits.size(), 1u);
  EXPECT_FALSE(ir.limits[0].enforced);
  EXPECT_EQ(ir.limits[0].detail,
            "no memory controller: no cgroup tracking (mkdir /x: Permission denied)");
  EXPECT_FALSE(ir.refusal.empty());
}

TEST_F(ResourceControlTest, V2ControllersThatCannotBeEnabledAreReportedWithTheReason) {
  // The fake subtree_control cannot say EBUSY; a missing one makes the enabling fail, which
  // is reported per controller.
  Write(files_.mountinfo, "30 23 0:26 / " + root_ + "/cg2 rw - cgroup2 cgroup2 rw\n");
  Write(files_.self_cgroup, "0::/own\n");
  Write(root_ + "/cg2/own/cgroup.controllers", "memory pids\n");
  const std::string tree = root_ + "/cg2/own/supd-test";
  std::filesystem::create_directories(tree);
  ResourceControl rc = ResourceControl::Setup("supd-test", tree, "", files_);
  EXPECT_EQ(rc.mode(), CgroupMode::kNone);
  EXPECT_EQ(rc.controllers().at("memory").reason,
            "open " + root_ + "/cg2/own/cgroup.subtree_control: No such file or directory");
  EXPECT_EQ(rc.controllers().at("cpu").reason,
            "no cgroup v2 controller and no cgroup v1 hierarchy for cpu");
}

TEST_F(ResourceControlTest, V1HierarchyMountedBelowItsRootInAContainer) {
  // A container sees only its own part of the memory hierarchy: the mount's root is supd's
  // cgroup, so supd's tree sits right under the mount point.
  Write(files_.mountinfo,
        "35 31 0:32 /process_api/x " + root_ + "/memory rw - cgroup cgroup rw,memory\n"
        "41 31 0:38 / " + root_ + "/unified rw - cgroup2 cgroup2 rw\n");
  Write(files_.self_cgroup, "4:memory:/process_api/x\n0::/\n");
  Touch(root_ + "/memory/supd-test", {"cgroup.procs"});
  const std::string tree = root_ + "/unified/supd-test";
  Touch(tree, {"cgroup.procs"});
  ResourceControl rc = ResourceControl::Setup("supd-test", tree, "", files_);
  EXPECT_EQ(rc.mode(), CgroupMode::kHybrid);
  EXPECT_EQ(rc.controllers().at("memory").v1_tree, root_ + "/memory/supd-test");
}

TEST(GoRuntimeEnvTest, DerivesGomaxprocsAndGomemlimit) {
  ResourceLimits l;
  l.cpu_quota_per_sec_usec = *ParseCpuQuota("20%");
  l.memory_max = *ParseMemoryLimit("100M", false);
  using Env = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(GoRuntimeEnv(l, 1ull << 33, false, false),
            (Env{{"GOMAXPROCS", "1"}, {"GOMEMLIMIT", std::to_string((100ull << 20) * 9 / 10)}}));
  l.cpu_quota_per_sec_usec = *ParseCpuQuota("250%");
  EXPECT_EQ(GoRuntimeEnv(l, 1ull << 33, false, true), (Env{{"GOMAXPROCS", "3"}}));
  EXPECT_EQ(GoRuntimeEnv(l, 1ull << 33, true, true), Env{});
  l.memory_max = *ParseMemoryLimit("50%", false);
  EXPECT_EQ(GoRuntimeEnv(l, 1000, true, false), (Env{{"GOMEMLIMIT", "450"}}));
  l.memory_max = *ParseMemoryLimit("infinity", false);
  EXPECT_EQ(GoRuntimeEnv(l, 1000, true, false), Env{});
  l.go_runtime = GoRuntimeMode::kOff;
  l.memory_max = *ParseMemoryLimit("100M", false);
  EXPECT_EQ(GoRuntimeEnv(l, 1000, false, false), Env{});
}

}  // namespace
}  // namespace supd
