// Process tracking with cgroup v2: each service's processes live in a cgroup of their own, so
// that a stop finds every one of them — also those that left the process group (setsid,
// double fork) — and "all gone" means the cgroup is empty.
//
// This is tracking only: limits (MemoryMax= and friends, v1 controllers on hybrid hosts) come
// with the resource-control issue. Works wherever a cgroup2 hierarchy is mounted and supd may
// create directories in its own cgroup (root on a v2 or hybrid host, or a delegated subtree);
// elsewhere supd falls back to process groups and says so.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "lib/base/result.h"
#include "lib/base/unique_fd.h"

namespace supd {

class CgroupTree {
 public:
  // Finds the cgroup2 mount and supd's own cgroup, and creates `<own cgroup>/<name>` as the
  // parent of all service cgroups. The error says why tracking is unavailable.
  [[nodiscard]] static Result<CgroupTree> Create(const std::string& name);
  // Same, on a given mount point and own path (for tests on a fake tree).
  [[nodiscard]] static Result<CgroupTree> CreateAt(const std::string& mount,
                                                   const std::string& own_path,
                                                   const std::string& name);

  const std::string& path() const { return path_; }
  // The cgroup2 mount point: a cgroup's path as /proc/PID/cgroup shows it is path minus this.
  const std::string& mount() const { return mount_; }

  // Creates (or reuses) the cgroup of one service; returns its directory.
  [[nodiscard]] Result<std::string> ServiceCgroup(const std::string& service) const;

  // Removes every empty service cgroup and the tree itself (supd's shutdown).
  void RemoveAll() const;

 private:
  CgroupTree(std::string path, std::string mount)
      : path_(std::move(path)), mount_(std::move(mount)) {}
  std::string path_;
  std::string mount_;
};

// A process's cgroup v2 path as /proc/PID/cgroup shows it ("0::/path"); "" if unknown. pid 0:
// the calling process.
std::string CgroupOfPid(pid_t pid);
// Whether the cgroup path `own` (as CgroupOfPid gives it) is `dir` (an absolute directory under
// the mount `mount`) or below it.
bool CgroupPathWithin(const std::string& own, const std::string& dir, const std::string& mount);

// Opens the cgroup directory (O_DIRECTORY), for clone3(CLONE_INTO_CGROUP).
[[nodiscard]] Result<UniqueFd> OpenCgroupDir(const std::string& cgroup);
// Opens <cgroup>/cgroup.procs for writing, for a child to enter before exec.
[[nodiscard]] Result<UniqueFd> OpenCgroupProcs(const std::string& cgroup);
// The pids in a cgroup (not its children). An unreadable cgroup reads as no pids.
std::vector<pid_t> CgroupPids(const std::string& cgroup);
// The child cgroups of a cgroup (v2 or v1): its subdirectories but for hidden ones, as paths
// "<cgroup>/<name>", in directory order. An unreadable cgroup has none.
std::vector<std::string> ChildCgroups(const std::string& cgroup);
// Whether no process is left in the cgroup or below it ("populated 0" in cgroup.events). An
// unreadable cgroup.events is an error, never "empty".
[[nodiscard]] Result<bool> CgroupIsEmpty(const std::string& cgroup);
// Sends sig to every process in the cgroup. SIGKILL uses cgroup.kill where the kernel has it
// (5.14+), which also catches processes forked while we iterate.
[[nodiscard]] Result<void> SignalCgroup(const std::string& cgroup, int sig);
// rmdir; fine if it is already gone. Fails (EBUSY) while processes remain.
[[nodiscard]] Result<void> RemoveCgroup(const std::string& cgroup);

}  // namespace supd
