// ResourceControl: cgroup limits (MemoryMax= and friends) on the host as it is.
//
// Hosts differ, and each gets the right treatment:
//   - pure cgroup v2: the controllers (memory, cpu, pids, io) are listed in cgroup.controllers
//     of supd's own cgroup and enabled through cgroup.subtree_control down supd's subtree;
//   - hybrid: cgroup v2 is mounted for tracking only and the controllers live on v1
//     hierarchies (/sys/fs/cgroup/memory, ...): each instance gets a directory at the same
//     relative path in every v1 hierarchy it needs, and the child enters those before exec;
//   - none: no cgroup tracking, or supd may not create cgroups (an ordinary user without
//     delegation, a read-only cgroupfs): services run, each limit is reported as not enforced
//     with the reason, and RequireLimits=yes refuses the start.
// Setup() detects which, once, at supd's start. Apply() creates an instance's v1 directories
// and writes every limit, returning per limit whether it is enforced and how (or why not).
//
// Not responsible for: the v2 tracking cgroups themselves (CgroupTree in cgroup.h creates and
// removes those; this class only adds limits to them), killing, deciding anything.
// Runs on supd's one thread; the file writes here are small writes to cgroupfs.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "lib/unit/resource_spec.h"

namespace supd {

enum class CgroupMode { kV2, kHybrid, kNone };
const char* CgroupModeName(CgroupMode mode);  // "v2", "hybrid", "none"

// Where one controller lives on this host.
struct ControllerPlace {
  enum class Where { kV2, kV1, kNone };
  Where where = Where::kNone;
  std::string v1_tree;  // kV1: supd's directory in that hierarchy (instances go below it)
  std::string reason;   // kNone: why the controller cannot be used
};

// One limit of a unit, as applied to one instance.
struct LimitReport {
  std::string directive;  // "MemoryMax"
  std::string value;      // as written in the unit: "64M", "20%", "idle"
  bool enforced = false;
  std::string detail;     // enforced: the file and value written; not enforced: the reason
};

// An instance's cgroups beyond the v2 tracking one, and what was applied to them.
struct InstanceResources {
  // v1 directories, by controller ("memory", "cpu", "pids", "io"), for the controllers its
  // limits need: the child enters each one before exec; removed when the instance's v2 cgroup
  // is. (So on a hybrid host memory and task usage are known only for instances with a memory
  // or tasks limit; CPU time always, from the v2 cgroup's cpu.stat.)
  std::map<std::string, std::string> v1_dirs;
  std::vector<LimitReport> limits;  // one per directive set in the unit
  // With RequireLimits=yes: why the start is refused ("" when everything is enforced).
  std::string refusal;
  std::string memory_max_text;  // MemoryMax= as written ("" if unset), for the OOM reason
};

// Usage of an instance; unset where this host does not account it.
struct InstanceStats {
  std::optional<uint64_t> memory_current;  // bytes
  std::optional<uint64_t> memory_peak;     // bytes
  std::optional<uint64_t> memory_max;      // bytes; unset when unlimited ("max")
  std::optional<uint64_t> cpu_usec;        // CPU time used
  std::optional<uint64_t> cpu_user_usec;   // of which in user mode
  std::optional<uint64_t> cpu_system_usec; // of which in the kernel
  std::optional<uint64_t> tasks;           // processes and threads
};

// Where the kernel's files are; the defaults are the real ones (tests give a fake tree).
struct CgroupHostFiles {
  std::string mountinfo = "/proc/self/mountinfo";
  std::string self_cgroup = "/proc/self/cgroup";
  // Host totals that percentages refer to; 0 = read them from the kernel.
  uint64_t physical_memory = 0;
  uint64_t tasks_total = 0;
};

class ResourceControl {
 public:
  // Detects the host's layout and prepares supd's subtree for limits: enables the v2
  // controllers in cgroup.subtree_control of supd's own cgroup and of `v2_tree` (the directory
  // CgroupTree created), and creates `<own v1 cgroup>/<tree_name>` in each v1 hierarchy that
  // holds a controller v2 does not. `v2_tree` is "" when there is no cgroup tracking;
  // `tracking_error` then says why. Never fails: what cannot be used is recorded with a reason.
  static ResourceControl Setup(const std::string& tree_name, const std::string& v2_tree,
                               const std::string& tracking_error,
                               const CgroupHostFiles& files = {});

  CgroupMode mode() const { return mode_; }
  const std::map<std::string, ControllerPlace>& controllers() const { return places_; }
  // One line for supd's log: "hybrid: tracking in cgroup v2 at ...; memory, cpu, pids on
  // cgroup v1; io: not available (...)".
  std::string Summary() const;

  // Applies `limits` to a new instance whose v2 cgroup is `v2_dir` ("" without tracking):
  // creates `<tree>/<service>/<invocation>` in the v1 hierarchies it needs and writes every
  // limit. A limit that cannot be written is reported with the reason, never dropped. The
  // result is kept until Release(v2_dir).
  const InstanceResources& Apply(const std::string& service, const std::string& invocation,
                                 const std::string& v2_dir, const ResourceLimits& limits);
  // The instance applied for v2_dir, or nullptr.
  const InstanceResources* Find(const std::string& v2_dir) const;
  // Removes the instance's v1 directories (call once its v2 cgroup is removed, i.e. empty).
  void Release(const std::string& v2_dir);
  // How many processes of the instance the kernel's OOM killer killed (0 if unknown).
  uint64_t OomKills(const std::string& v2_dir) const;
  InstanceStats Stats(const std::string& v2_dir) const;
  // Removes every v1 directory supd created (supd's shutdown); best effort.
  void RemoveAll();

 private:
  CgroupMode mode_ = CgroupMode::kNone;
  std::string v2_tree_;
  std::string none_reason_;  // kNone: why
  std::map<std::string, ControllerPlace> places_;  // "memory", "cpu", "pids", "io"
  uint64_t physical_memory_ = 0;
  uint64_t tasks_total_ = 0;
  // Keyed by the instance's v2 cgroup directory ("" for the last instance without one).
  std::map<std::string, InstanceResources> instances_;
};

// [X-Supd] GoRuntime=auto: the Go runtime variables supd derives from the limits, for the
// variables the service's environment does not set itself (those always win):
//   GOMAXPROCS = CPUQuota= rounded up to whole CPUs, at least 1;
//   GOMEMLIMIT = 90% of MemoryMax= in bytes (headroom for memory the Go heap does not count:
//                stacks, cgo, the runtime itself), so the GC works harder before the kernel
//                OOM-kills.
// Empty with GoRuntime=off or without those limits.
std::vector<std::pair<std::string, std::string>> GoRuntimeEnv(const ResourceLimits& limits,
                                                              uint64_t physical_memory,
                                                              bool env_has_gomaxprocs,
                                                              bool env_has_gomemlimit);
inline constexpr uint64_t kGoMemLimitPercent = 90;

// Physical RAM in bytes (sysconf), and the kernel's task limit (min of kernel.pid_max and
// kernel.threads-max), which MemoryMax=50% and TasksMax=10% refer to.
uint64_t PhysicalMemoryBytes();
uint64_t KernelTasksMax();

}  // namespace supd
