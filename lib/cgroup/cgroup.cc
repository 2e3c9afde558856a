#include "lib/cgroup/cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "lib/base/signals.h"

namespace supd {
namespace {

// The cgroup2 mount point from /proc/self/mountinfo ("" if none).
std::string FindCgroup2Mount() {
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    // "<id> <parent> <maj:min> <root> <mount point> <opts> ... - <fstype> <source> <opts>"
    const auto dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::istringstream tail(line.substr(dash + 3));
    std::string fstype;
    tail >> fstype;
    if (fstype != "cgroup2") continue;
    std::istringstream head(line.substr(0, dash));
    std::string id, parent, dev, root, mount;
    head >> id >> parent >> dev >> root >> mount;
    return mount;
  }
  return "";
}


Result<void> MakeDir(const std::string& path) {
  if (::mkdir(path.c_str(), 0755) < 0 && errno != EEXIST) return ErrnoError("mkdir " + path);
  return Ok();
}

}  // namespace

Result<CgroupTree> CgroupTree::Create(const std::string& name) {
  const std::string mount = FindCgroup2Mount();
  if (mount.empty()) return Error{"no cgroup2 hierarchy is mounted"};
  const std::string own = CgroupOfPid(0);
  if (own.empty()) return Error{"supd's own cgroup v2 path is not in /proc/self/cgroup"};
  return CreateAt(mount, own, name);
}

Result<CgroupTree> CgroupTree::CreateAt(const std::string& mount, const std::string& own_path,
                                        const std::string& name) {
  std::string base = mount;
  if (own_path != "/") base += own_path;
  const std::string path = base + "/" + name;
  SUPD_TRY(MakeDir(path));
  // Writable cgroup.procs in our own tree is what moving a child needs.
  if (::access((path + "/cgroup.procs").c_str(), W_OK) < 0)
    return ErrnoError("write access to " + path + "/cgroup.procs");
  return CgroupTree(path, mount);
}

Result<std::string> CgroupTree::ServiceCgroup(const std::string& service) const {
  const std::string path = path_ + "/" + service;
  SUPD_TRY(MakeDir(path));
  return path;
}

namespace {

// Removes the empty cgroups below dir (depth first), then dir. Best effort: a cgroup that still
// holds processes stays, and says so by existing.
void RemoveTree(const std::string& dir, int depth) {
  if (depth > 0) {
    for (const std::string& child : ChildCgroups(dir)) RemoveTree(child, depth - 1);
  }
  (void)RemoveCgroup(dir);
}

}  // namespace

void CgroupTree::RemoveAll() const { RemoveTree(path_, 2); }

std::string CgroupOfPid(pid_t pid) {
  std::ifstream in(pid == 0 ? std::string("/proc/self/cgroup")
                            : "/proc/" + std::to_string(pid) + "/cgroup");
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("0::")) return line.substr(3);
  }
  return "";
}

bool CgroupPathWithin(const std::string& own, const std::string& dir, const std::string& mount) {
  if (own.empty() || dir.size() <= mount.size()) return false;
  const std::string rel = dir.substr(mount.size());
  return own == rel || own.starts_with(rel + "/");
}

Result<UniqueFd> OpenCgroupDir(const std::string& cgroup) {
  const int fd = ::open(cgroup.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("open " + cgroup);
  return UniqueFd(fd);
}

Result<UniqueFd> OpenCgroupProcs(const std::string& cgroup) {
  const std::string file = cgroup + "/cgroup.procs";
  const int fd = ::open(file.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("open " + file);
  return UniqueFd(fd);
}

std::vector<pid_t> CgroupPids(const std::string& cgroup) {
  std::vector<pid_t> pids;
  std::ifstream in(cgroup + "/cgroup.procs");
  pid_t pid;
  while (in >> pid) pids.push_back(pid);
  return pids;
}

std::vector<std::string> ChildCgroups(const std::string& cgroup) {
  namespace fs = std::filesystem;
  std::vector<std::string> children;
  std::error_code ec;  // an unreadable directory (or entry) ends the list: best effort
  for (fs::directory_iterator it(cgroup, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    // The entry's own type (readdir's d_type): a symlink to a directory is no child cgroup.
    std::error_code type_ec;
    if (name[0] == '.' || !fs::is_directory(it->symlink_status(type_ec))) continue;
    children.push_back(cgroup + "/" + name);
  }
  return children;
}

Result<bool> CgroupIsEmpty(const std::string& cgroup) {
  const std::string file = cgroup + "/cgroup.events";
  std::ifstream in(file);
  if (!in) return ErrnoError("read " + file);
  std::string key;
  int value;
  while (in >> key >> value) {
    if (key == "populated") return value == 0;
  }
  return Error{"read " + file + ": no \"populated\" line"};
}

Result<void> SignalCgroup(const std::string& cgroup, int sig) {
  if (sig == SIGKILL) {
    const std::string file = cgroup + "/cgroup.kill";
    UniqueFd fd(::open(file.c_str(), O_WRONLY | O_CLOEXEC));
    if (fd && ::write(fd.get(), "1", 1) == 1) return Ok();
    // No cgroup.kill (kernel < 5.14): signal one by one below.
  }
  // Every process gets the signal even if one refuses it (EPERM); the first error is reported.
  Result<void> result = Ok();
  for (pid_t pid : CgroupPids(cgroup)) {
    auto r = SendSignal(pid, sig);
    if (!r.ok() && result.ok()) result = Error{r.error().message + " in " + cgroup, r.error().sys_errno};
  }
  return result;
}

Result<void> RemoveCgroup(const std::string& cgroup) {
  if (::rmdir(cgroup.c_str()) < 0 && errno != ENOENT) return ErrnoError("rmdir " + cgroup);
  return Ok();
}

}  // namespace supd
