#include "lib/cgroup/resource_control.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>
#include <string_view>

#include "lib/base/result.h"
#include "lib/base/unique_fd.h"
#include "lib/cgroup/cgroup.h"

namespace supd {
namespace {

constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
// The controllers supd uses, in the order they are shown; "io" is "blkio" on v1.
const char* const kControllers[] = {"memory", "cpu", "pids", "io"};
// cpu.max / cpu.cfs_period_us: systemd's default period.
constexpr uint64_t kCpuPeriodUsec = 100000;

std::string V1Name(const std::string& controller) {
  return controller == "io" ? "blkio" : controller;
}

bool ReadText(const std::string& path, std::string* out) {
  std::ifstream in(path);
  if (!in) return false;
  std::stringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
}

std::set<std::string> Words(const std::string& text) {
  std::istringstream in(text);
  std::set<std::string> out;
  std::string w;
  while (in >> w) out.insert(w);
  return out;
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

Result<void> MakeDir(const std::string& path) {
  if (::mkdir(path.c_str(), 0755) < 0 && errno != EEXIST) return ErrnoError("mkdir " + path);
  return Ok();
}

// Writes `value` to dir/file in one write(), as cgroupfs wants it.
Result<void> WriteFile(const std::string& dir, const std::string& file, const std::string& value) {
  const std::string path = dir + "/" + file;
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC));
  if (!fd) return ErrnoError("open " + path);
  const ssize_t n = ::write(fd.get(), value.data(), value.size());
  if (n < 0) return ErrnoError("write '" + value + "' to " + path);
  if (static_cast<size_t>(n) != value.size())
    return Error{"write '" + value + "' to " + path + ": short write"};
  return Ok();
}

// The first 4 KiB of a small kernel file (cgroupfs, procfs): one open and one read, since a
// scrape reads several of these per service on the loop. "" when it cannot be read.
std::string ReadSmall(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return "";
  std::array<char, 4096> buf{};
  ssize_t n;
  do {
    n = ::read(fd.get(), buf.data(), buf.size());
  } while (n < 0 && errno == EINTR);
  return n > 0 ? std::string(buf.data(), static_cast<size_t>(n)) : "";
}

std::optional<uint64_t> ParseNumber(std::string_view s) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// The values of `keys` in "key value" lines of a flat-keyed file (memory.events, cpu.stat,
// memory.oom_control), in the order of `keys`; unset where a key is missing.
template <size_t N>
std::array<std::optional<uint64_t>, N> ReadKeys(const std::string& path,
                                                const std::array<std::string_view, N>& keys) {
  std::array<std::optional<uint64_t>, N> out;
  const std::string text = ReadSmall(path);
  std::string_view rest = text;
  while (!rest.empty()) {
    const size_t eol = rest.find('\n');
    std::string_view line = rest.substr(0, eol);
    rest = eol == std::string_view::npos ? std::string_view() : rest.substr(eol + 1);
    const size_t sp = line.find(' ');
    if (sp == std::string_view::npos) continue;
    for (size_t i = 0; i < N; ++i)
      if (line.substr(0, sp) == keys[i]) out[i] = ParseNumber(line.substr(sp + 1));
  }
  return out;
}

std::optional<uint64_t> ReadKey(const std::string& path, std::string_view key) {
  return ReadKeys<1>(path, {key})[0];
}

std::optional<uint64_t> ReadNumber(const std::string& path) {
  const std::string text = ReadSmall(path);
  std::string_view s = text;
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.remove_suffix(1);
  if (s.empty()) return std::nullopt;
  if (s == "max") return kMax;
  return ParseNumber(s);
}

struct V1Mount {
  std::string mount_point;
  std::string root;
  std::set<std::string> controllers;
};

// cgroup2 mount point, and v1 mounts by controller, from /proc/self/mountinfo text.
void ParseMountinfo(const std::string& text, std::string* v2_mount,
                    std::map<std::string, V1Mount>* v1) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    // "<id> <parent> <maj:min> <root> <mount point> <opts> ... - <fstype> <source> <opts>"
    const auto dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::istringstream tail(line.substr(dash + 3));
    std::string fstype, source, super_opts;
    tail >> fstype >> source >> super_opts;
    std::istringstream head(line.substr(0, dash));
    std::string id, parent, dev, root, mount;
    head >> id >> parent >> dev >> root >> mount;
    if (fstype == "cgroup2") {
      if (v2_mount->empty()) *v2_mount = mount;
      continue;
    }
    if (fstype != "cgroup") continue;
    V1Mount m{mount, root, {}};
    std::istringstream opts(super_opts);
    std::string opt;
    while (std::getline(opts, opt, ',')) m.controllers.insert(opt);
    for (const auto& c : m.controllers)
      if (!v1->count(c)) (*v1)[c] = m;
  }
}

// v1 controller → supd's path in that hierarchy, from /proc/self/cgroup text
// ("4:memory:/process_api/x", "1:cpu,cpuacct:/").
std::map<std::string, std::string> ParseSelfCgroupV1(const std::string& text) {
  std::map<std::string, std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    const auto a = line.find(':');
    const auto b = a == std::string::npos ? a : line.find(':', a + 1);
    if (b == std::string::npos) continue;
    const std::string list = line.substr(a + 1, b - a - 1);
    const std::string path = line.substr(b + 1);
    if (list.empty()) continue;  // the v2 line "0::/path"
    std::istringstream names(list);
    std::string n;
    while (std::getline(names, n, ',')) out[n] = path;
  }
  return out;
}

std::string Join(const std::vector<std::string>& v, const std::string& sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

std::string ParentDir(const std::string& dir) {
  const auto slash = dir.rfind('/');
  return slash == std::string::npos || slash == 0 ? "/" : dir.substr(0, slash);
}

// Enables `controllers` in dir/cgroup.subtree_control (those not enabled yet), in one write.
Result<void> EnableControllers(const std::string& dir, const std::vector<std::string>& controllers) {
  std::string text;
  ReadText(dir + "/cgroup.subtree_control", &text);
  const std::set<std::string> enabled = Words(text);
  std::vector<std::string> add;
  for (const auto& c : controllers)
    if (!enabled.count(c)) add.push_back("+" + c);
  if (add.empty()) return Ok();
  return WriteFile(dir, "cgroup.subtree_control", Join(add, " "));
}

// Enables `wanted` in supd's own cgroup `own` and in its tree `v2_tree` below it.
Result<void> EnableV2Controllers(const std::string& own, const std::string& v2_tree,
                                 const std::string& tree_name,
                                 const std::vector<std::string>& wanted) {
  auto r = EnableControllers(own, wanted);
  if (!r.ok() && r.error().sys_errno == EBUSY) {
    // cgroup v2's "no internal processes" rule: supd's own cgroup may pass controllers down
    // only once no process is in it. If supd is alone there (a unit with Delegate=yes), it
    // moves itself into a leaf of its own and tries again.
    std::string procs;
    ReadText(own + "/cgroup.procs", &procs);
    const std::set<std::string> pids = Words(procs);
    if (pids.size() == 1 && pids.count(std::to_string(getpid()))) {
      const std::string leaf = own + "/" + tree_name + ".daemon";
      auto moved = MakeDir(leaf);
      if (moved.ok()) moved = WriteFile(leaf, "cgroup.procs", std::to_string(getpid()));
      r = moved.ok() ? EnableControllers(own, wanted) : moved;
    } else {
      r = Error{"enable controllers in " + own +
                "/cgroup.subtree_control: the cgroup holds other processes than supd "
                "(cgroup v2 lets only an empty cgroup pass controllers down; run supd in a "
                "cgroup of its own, e.g. a systemd unit with Delegate=yes)"};
    }
  }
  if (r.ok()) r = EnableControllers(v2_tree, wanted);
  return r;
}

// supd's directory `tree_name` in the v1 hierarchy of controller `name` ("blkio"), below the
// cgroup supd is in there, created: its path, or why that controller cannot be used on v1.
Result<std::string> MakeV1Tree(const std::string& name, const std::map<std::string, V1Mount>& v1,
                               const std::map<std::string, std::string>& own_v1,
                               const std::string& tree_name) {
  auto m = v1.find(name);
  auto path = own_v1.find(name);
  if (m == v1.end() || path == own_v1.end()) {
    return Error{"no cgroup v2 controller and no cgroup v1 hierarchy for " + name};
  }
  std::string rel = path->second;
  if (m->second.root != "/") {
    if (!rel.starts_with(m->second.root)) {
      return Error{"supd's " + name + " cgroup " + rel + " is outside the mounted hierarchy"};
    }
    rel = rel.substr(m->second.root.size());
  }
  if (rel == "/") rel.clear();
  const std::string tree = m->second.mount_point + rel + "/" + tree_name;
  SUPD_TRY(MakeDir(tree));
  if (::access((tree + "/cgroup.procs").c_str(), W_OK) < 0) {
    return ErrnoError("write access to " + tree + "/cgroup.procs");
  }
  if (name == "blkio" && !Exists(tree + "/blkio.weight") && !Exists(tree + "/blkio.bfq.weight")) {
    (void)::rmdir(tree.c_str());  // unused; may hold nothing yet
    return Error{
        "the blkio hierarchy has no blkio.weight or blkio.bfq.weight (no I/O scheduler with "
        "weights on this kernel)"};
  }
  return tree;
}

}  // namespace

const char* CgroupModeName(CgroupMode mode) {
  switch (mode) {
    case CgroupMode::kV2:
      return "v2";
    case CgroupMode::kHybrid:
      return "hybrid";
    case CgroupMode::kNone:
      return "none";
  }
  return "none";
}

uint64_t PhysicalMemoryBytes() {
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page = sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page <= 0) return 0;
  return static_cast<uint64_t>(pages) * static_cast<uint64_t>(page);
}

uint64_t KernelTasksMax() {
  auto pid_max = ReadNumber("/proc/sys/kernel/pid_max");
  auto threads_max = ReadNumber("/proc/sys/kernel/threads-max");
  uint64_t v = kMax;
  // pid_max is one more than the largest pid (systemd uses pid_max - 1 too).
  if (pid_max && *pid_max > 0) v = std::min(v, *pid_max - 1);
  if (threads_max) v = std::min(v, *threads_max);
  return v == kMax ? 4194304 : v;
}

ResourceControl ResourceControl::Setup(const std::string& tree_name, const std::string& v2_tree,
                                       const std::string& tracking_error,
                                       const CgroupHostFiles& files) {
  ResourceControl rc;
  rc.v2_tree_ = v2_tree;
  rc.physical_memory_ = files.physical_memory ? files.physical_memory : PhysicalMemoryBytes();
  rc.tasks_total_ = files.tasks_total ? files.tasks_total : KernelTasksMax();
  for (const char* c : kControllers) rc.places_[c] = ControllerPlace{};
  if (v2_tree.empty()) {
    // Limits go with tracking: an instance is the cgroup its processes are in. (A host with
    // v1 hierarchies but no cgroup2 mount at all is not supported for limits.)
    rc.none_reason_ = "no cgroup tracking (" + tracking_error + ")";
    for (auto& [c, p] : rc.places_) p.reason = rc.none_reason_;
    return rc;
  }

  // cgroup v2: the controllers offered to supd's own cgroup.
  const std::string own = ParentDir(v2_tree);
  std::string text;
  std::set<std::string> offered;
  if (ReadText(own + "/cgroup.controllers", &text)) offered = Words(text);
  std::vector<std::string> v2_wanted;
  for (const char* c : kControllers)
    if (offered.count(c)) v2_wanted.push_back(c);
  std::string v2_error;
  if (!v2_wanted.empty()) {
    auto r = EnableV2Controllers(own, v2_tree, tree_name, v2_wanted);
    if (r.ok()) {
      for (const auto& c : v2_wanted) rc.places_[c].where = ControllerPlace::Where::kV2;
    } else {
      v2_error = r.error().message;
    }
  }

  // v1 hierarchies for the controllers v2 does not have (a hybrid host).
  std::string v2_mount;
  std::map<std::string, V1Mount> v1;
  std::string mountinfo, self;
  ReadText(files.mountinfo, &mountinfo);
  ReadText(files.self_cgroup, &self);
  ParseMountinfo(mountinfo, &v2_mount, &v1);
  const auto own_v1 = ParseSelfCgroupV1(self);
  for (const char* c : kControllers) {
    ControllerPlace& p = rc.places_[c];
    if (p.where == ControllerPlace::Where::kV2) continue;
    if (offered.count(c)) {
      p.reason = v2_error;
      continue;
    }
    auto tree = MakeV1Tree(V1Name(c), v1, own_v1, tree_name);
    if (!tree.ok()) {
      p.reason = tree.error().message;
      continue;
    }
    p.where = ControllerPlace::Where::kV1;
    p.v1_tree = std::move(*tree);
  }

  bool any_v1 = false, any_v2 = false;
  for (const auto& [c, p] : rc.places_) {
    any_v1 = any_v1 || p.where == ControllerPlace::Where::kV1;
    any_v2 = any_v2 || p.where == ControllerPlace::Where::kV2;
  }
  rc.mode_ = any_v1 ? CgroupMode::kHybrid : any_v2 ? CgroupMode::kV2 : CgroupMode::kNone;
  if (rc.mode_ == CgroupMode::kNone) {
    std::vector<std::string> why;
    for (const char* c : kControllers) why.push_back(std::string(c) + ": " + rc.places_[c].reason);
    rc.none_reason_ = "no resource controller can be used (" + Join(why, "; ") + ")";
  }
  return rc;
}

std::string ResourceControl::Summary() const {
  std::string out = CgroupModeName(mode_);
  if (mode_ == CgroupMode::kNone) return out + ": limits are not enforced: " + none_reason_;
  out += ": tracking in cgroup v2 at " + v2_tree_;
  std::vector<std::string> v2, v1, none;
  for (const char* c : kControllers) {
    const ControllerPlace& p = places_.at(c);
    if (p.where == ControllerPlace::Where::kV2) v2.push_back(c);
    if (p.where == ControllerPlace::Where::kV1) v1.push_back(V1Name(c) + " (" + p.v1_tree + ")");
    if (p.where == ControllerPlace::Where::kNone) none.push_back(std::string(c) + ": " + p.reason);
  }
  if (!v2.empty()) out += "; controllers on cgroup v2: " + Join(v2, ", ");
  if (!v1.empty()) out += "; controllers on cgroup v1: " + Join(v1, ", ");
  if (!none.empty()) out += "; not available: " + Join(none, "; ");
  return out;
}

namespace {

// Writes the limits of one instance into its cgroup files, and reports each directive as
// enforced or why not (InstanceResources::limits).
class LimitWriter {
 public:
  LimitWriter(InstanceResources* ir, std::map<std::string, ControllerPlace>* places,
              uint64_t physical_memory)
      : ir_(*ir), places_(*places), physical_memory_(physical_memory) {}

  // The instance's directory for each controller it can use, and why the others cannot serve
  // it. Which v1 hierarchies this instance joins: only those its limits need. Joining one costs
  // the child a write to cgroup.procs before exec, which took up to ~10 ms on the CI machine for
  // the memory hierarchy (the kernel synchronises RCU on migration): a service without limits
  // starts as fast as before. (On v2 every instance has every enabled controller for free.)
  void PrepareDirectories(const std::string& service, const std::string& invocation,
                          const std::string& v2_dir, const ResourceLimits& limits) {
    std::map<std::string, bool> needed = {
        {"memory",
         limits.memory_max.set() || limits.memory_high.set() || limits.memory_swap_max.set()},
        {"pids", limits.tasks_max.set()},
        {"cpu",
         limits.cpu_quota_per_sec_usec > 0 || limits.cpu_weight > 0 || limits.cpu_weight_idle},
        {"io", limits.io_weight > 0}};
    std::vector<std::string> v2_enable;
    for (const char* c : kControllers) {
      const ControllerPlace& p = places_[c];
      if (p.where == ControllerPlace::Where::kNone) {
        unusable_[c] = "no " + std::string(c) + " controller: " + p.reason;
        continue;
      }
      if (v2_dir.empty()) {
        unusable_[c] = "no cgroup for this instance";
        continue;
      }
      if (p.where == ControllerPlace::Where::kV2) {
        dir_[c] = v2_dir;
        v2_enable.push_back(c);
        continue;
      }
      if (!needed[c]) continue;
      const std::string service_dir = p.v1_tree + "/" + service;
      const std::string instance_dir = service_dir + "/" + invocation;
      auto made = MakeDir(service_dir);
      if (made.ok()) made = MakeDir(instance_dir);
      if (!made.ok()) {
        unusable_[c] = made.error().message;
        continue;
      }
      dir_[c] = instance_dir;
      ir_.v1_dirs[c] = instance_dir;
    }
    if (!v2_enable.empty()) {
      // The service's cgroup holds no process itself, only its instances: it may pass the
      // controllers on to them.
      auto r = EnableControllers(ParentDir(v2_dir), v2_enable);
      if (!r.ok())
        for (const auto& c : v2_enable) {
          unusable_[c] = r.error().message;
          dir_.erase(c);
        }
    }
  }

  void WriteMemoryLimits(const ResourceLimits& limits);
  void WriteCpuLimits(const ResourceLimits& limits);
  void WriteIoWeight(const ResourceLimits& limits);
  void WriteTasksMax(const ResourceLimits& limits, uint64_t tasks_total) {
    if (!limits.tasks_max.set()) return;
    const uint64_t n = limits.tasks_max.Resolve(tasks_total);
    Write("TasksMax", limits.tasks_max.text, "pids", "pids.max",
          n == kMax ? "max" : std::to_string(n));
  }

 private:
  void Report(const std::string& directive, const std::string& value, bool enforced,
              const std::string& detail) {
    ir_.limits.push_back(LimitReport{directive, value, enforced, detail});
  }
  // Writes one file of controller c; reports the directive as enforced or why not.
  void Write(const std::string& directive, const std::string& value, const std::string& c,
             const std::string& file, const std::string& content) {
    auto u = unusable_.find(c);
    if (u != unusable_.end()) return Report(directive, value, false, u->second);
    const std::string where =
        places_[c].where == ControllerPlace::Where::kV2 ? "cgroup v2" : "cgroup v1";
    auto r = WriteFile(dir_[c], file, content);
    if (!r.ok()) return Report(directive, value, false, r.error().message);
    std::string how = where + " " + file + "=" + content;
    if (file == "blkio.bfq.weight") how += " (for devices using the BFQ I/O scheduler)";
    Report(directive, value, true, how);
  }
  bool IsV2(const std::string& c) { return places_[c].where == ControllerPlace::Where::kV2; }
  // v2's files (and any file of an unusable controller, whose report names no file) or v1's.
  bool V2OrUnusable(const std::string& c) { return IsV2(c) || unusable_.count(c); }
  std::string Bytes(const LimitValue& v, bool v2) const {
    const uint64_t b = v.Resolve(physical_memory_);
    return b == kMax ? std::string(v2 ? "max" : "-1") : std::to_string(b);
  }

  InstanceResources& ir_;
  std::map<std::string, ControllerPlace>& places_;
  const uint64_t physical_memory_;
  std::map<std::string, std::string> unusable_;  // controller → why it cannot serve
  std::map<std::string, std::string> dir_;       // controller → the instance's directory
};

void LimitWriter::WriteMemoryLimits(const ResourceLimits& limits) {
  if (limits.memory_max.set()) {
    const bool v2 = IsV2("memory");
    Write("MemoryMax", limits.memory_max.text, "memory",
          v2 ? "memory.max" : "memory.limit_in_bytes", Bytes(limits.memory_max, v2));
  }
  if (limits.memory_high.set()) {
    if (V2OrUnusable("memory")) {
      Write("MemoryHigh", limits.memory_high.text, "memory", "memory.high",
            Bytes(limits.memory_high, true));
    } else {
      // memory.soft_limit_in_bytes only steers reclaim under global memory pressure; it never
      // throttles the cgroup as memory.high does, so it is not offered as a stand-in.
      Report("MemoryHigh", limits.memory_high.text, false,
             "cgroup v1 has no equivalent of memory.high (memory.soft_limit_in_bytes does not "
             "throttle)");
    }
  }
  if (!limits.memory_swap_max.set()) return;
  const std::string& text = limits.memory_swap_max.text;
  if (V2OrUnusable("memory")) {
    Write("MemorySwapMax", text, "memory", "memory.swap.max", Bytes(limits.memory_swap_max, true));
  } else if (!Exists(dir_["memory"] + "/memory.memsw.limit_in_bytes")) {
    Report("MemorySwapMax", text, false,
           "no swap accounting on this kernel (memory.memsw.limit_in_bytes is missing; boot "
           "with swapaccount=1)");
  } else {
    // v1 limits memory+swap together: memsw = MemoryMax= + MemorySwapMax=.
    const uint64_t swap = limits.memory_swap_max.Resolve(physical_memory_);
    const uint64_t mem =
        limits.memory_max.set() ? limits.memory_max.Resolve(physical_memory_) : kMax;
    if (swap == kMax) {
      Write("MemorySwapMax", text, "memory", "memory.memsw.limit_in_bytes", "-1");
    } else if (mem == kMax) {
      Report("MemorySwapMax", text, false,
             "cgroup v1 limits memory and swap only together (memory.memsw.limit_in_bytes): "
             "needs MemoryMax= too");
    } else {
      const uint64_t sum = swap > kMax - mem ? kMax - 1 : mem + swap;
      Write("MemorySwapMax", text, "memory", "memory.memsw.limit_in_bytes", std::to_string(sum));
    }
  }
}

void LimitWriter::WriteCpuLimits(const ResourceLimits& limits) {
  if (limits.cpu_quota_per_sec_usec > 0) {
    // Per period; the kernel's minimum quota is 1 ms (systemd clamps the same way).
    const uint64_t quota =
        std::max<uint64_t>(limits.cpu_quota_per_sec_usec * kCpuPeriodUsec / 1000000, 1000);
    if (V2OrUnusable("cpu")) {
      Write("CPUQuota", limits.cpu_quota_text, "cpu", "cpu.max",
            std::to_string(quota) + " " + std::to_string(kCpuPeriodUsec));
    } else {
      auto r = WriteFile(dir_["cpu"], "cpu.cfs_period_us", std::to_string(kCpuPeriodUsec));
      if (!r.ok())
        Report("CPUQuota", limits.cpu_quota_text, false, r.error().message);
      else
        Write("CPUQuota", limits.cpu_quota_text, "cpu", "cpu.cfs_quota_us", std::to_string(quota));
    }
  }
  if (limits.cpu_weight_idle) {
    if (!unusable_.count("cpu") && !Exists(dir_["cpu"] + "/cpu.idle"))
      Report("CPUWeight", "idle", false, "this kernel has no cpu.idle");
    else
      Write("CPUWeight", "idle", "cpu", "cpu.idle", "1");
  } else if (limits.cpu_weight > 0) {
    const std::string text = std::to_string(limits.cpu_weight);
    if (V2OrUnusable("cpu")) {
      Write("CPUWeight", text, "cpu", "cpu.weight", text);
    } else {
      // systemd's cgroup_cpu_weight_to_shares(): 100 ↔ 1024 shares, clamped to 2..262144.
      const uint64_t shares = std::clamp<uint64_t>(limits.cpu_weight * 1024 / 100, 2, 262144);
      Write("CPUWeight", text, "cpu", "cpu.shares", std::to_string(shares));
    }
  }
}

void LimitWriter::WriteIoWeight(const ResourceLimits& limits) {
  if (limits.io_weight == 0) return;
  const std::string text = std::to_string(limits.io_weight);
  if (V2OrUnusable("io")) {
    if (!unusable_.count("io") && !Exists(dir_["io"] + "/io.weight"))
      Report("IOWeight", text, false, "io.weight is missing (no weight-based I/O control)");
    else
      Write("IOWeight", text, "io", "io.weight", "default " + text);
  } else {
    const bool plain = Exists(dir_["io"] + "/blkio.weight");
    // blkio.weight (CFQ): systemd's cgroup_weight_io_to_blkio(), 100 ↔ 500, clamped to
    // 10..1000. blkio.bfq.weight has BFQ's own scale (1..1000, default 100): systemd's
    // BFQ_WEIGHT(), which keeps 100 ↔ 100 and maps 1..100 and 100..10000 linearly.
    const uint64_t w = limits.io_weight;
    const uint64_t value = plain ? std::clamp<uint64_t>(w * 500 / 100, 10, 1000)
                                 : (w <= 100 ? w : 100 + (w - 100) * 900 / 9900);
    Write("IOWeight", text, "io", plain ? "blkio.weight" : "blkio.bfq.weight",
          std::to_string(value));
  }
}

}  // namespace

const InstanceResources& ResourceControl::Apply(const std::string& service,
                                                const std::string& invocation,
                                                const std::string& v2_dir,
                                                const ResourceLimits& limits) {
  // Without a v2 cgroup there is nothing to keep: one scratch entry (key "") holds the report.
  InstanceResources& ir = instances_[v2_dir];
  ir = InstanceResources{};
  ir.memory_max_text = limits.memory_max.set() ? limits.memory_max.text : "";

  LimitWriter writer(&ir, &places_, physical_memory_);
  writer.PrepareDirectories(service, invocation, v2_dir, limits);
  // In the order the limits are shown.
  writer.WriteMemoryLimits(limits);
  writer.WriteCpuLimits(limits);
  writer.WriteTasksMax(limits, tasks_total_);
  writer.WriteIoWeight(limits);

  if (limits.require_limits) {
    std::vector<std::string> missing;
    for (const auto& l : ir.limits)
      if (!l.enforced) missing.push_back(l.directive + "=" + l.value + " (" + l.detail + ")");
    if (!missing.empty())
      ir.refusal = "RequireLimits=yes and this host cannot enforce " + Join(missing, ", ");
  }
  return ir;
}

const InstanceResources* ResourceControl::Find(const std::string& v2_dir) const {
  auto it = instances_.find(v2_dir);
  return it == instances_.end() ? nullptr : &it->second;
}

void ResourceControl::Release(const std::string& v2_dir) {
  auto it = instances_.find(v2_dir);
  if (it == instances_.end()) return;
  // Best effort: a v1 directory can only go once its processes are gone, and they are gone
  // once the v2 cgroup (which holds them all) was removed.
  for (const auto& [c, d] : it->second.v1_dirs) (void)::rmdir(d.c_str());
  instances_.erase(it);
}

uint64_t ResourceControl::OomKills(const std::string& v2_dir) const {
  const InstanceResources* ir = Find(v2_dir);
  if (ir == nullptr) return 0;
  std::optional<uint64_t> n;
  if (places_.at("memory").where == ControllerPlace::Where::kV2) {
    n = ReadKey(v2_dir + "/memory.events", "oom_kill");
  } else if (auto d = ir->v1_dirs.find("memory"); d != ir->v1_dirs.end()) {
    n = ReadKey(d->second + "/memory.oom_control", "oom_kill");
  }
  return n.value_or(0);
}

InstanceStats ResourceControl::Stats(const std::string& v2_dir) const {
  InstanceStats st;
  const InstanceResources* ir = Find(v2_dir);
  if (ir == nullptr || v2_dir.empty()) return st;
  // cpu.stat is a core file of every cgroup v2 directory, with or without the cpu controller.
  const auto cpu = ReadKeys<3>(v2_dir + "/cpu.stat", {"usage_usec", "user_usec", "system_usec"});
  st.cpu_usec = cpu[0];
  st.cpu_user_usec = cpu[1];
  st.cpu_system_usec = cpu[2];
  // A limit at or above 2^62 is none: v1 says "no limit" with a huge page-aligned number.
  auto limit = [](std::optional<uint64_t> v) -> std::optional<uint64_t> {
    if (v && *v < (uint64_t{1} << 62)) return v;
    return std::nullopt;
  };
  auto v1 = [&](const std::string& c) -> std::string {
    auto d = ir->v1_dirs.find(c);
    return d == ir->v1_dirs.end() ? "" : d->second;
  };
  if (places_.at("memory").where == ControllerPlace::Where::kV2) {
    st.memory_current = ReadNumber(v2_dir + "/memory.current");
    st.memory_peak = ReadNumber(v2_dir + "/memory.peak");  // Linux 5.19+
    st.memory_max = limit(ReadNumber(v2_dir + "/memory.max"));
  } else if (const std::string d = v1("memory"); !d.empty()) {
    st.memory_current = ReadNumber(d + "/memory.usage_in_bytes");
    st.memory_peak = ReadNumber(d + "/memory.max_usage_in_bytes");
    st.memory_max = limit(ReadNumber(d + "/memory.limit_in_bytes"));
  }
  if (places_.at("pids").where == ControllerPlace::Where::kV2) {
    st.tasks = ReadNumber(v2_dir + "/pids.current");
  } else if (const std::string d = v1("pids"); !d.empty()) {
    st.tasks = ReadNumber(d + "/pids.current");
  }
  return st;
}

void ResourceControl::RemoveAll() {
  for (const auto& [key, ir] : instances_)
    for (const auto& [c, d] : ir.v1_dirs) (void)::rmdir(d.c_str());
  instances_.clear();
  // Then the (now empty) service directories and the trees; a directory that still holds
  // something stays, and says so by existing.
  for (const auto& [c, p] : places_) {
    if (p.where != ControllerPlace::Where::kV1) continue;
    for (const std::string& service : ChildCgroups(p.v1_tree)) {
      for (const std::string& instance : ChildCgroups(service)) (void)::rmdir(instance.c_str());
      (void)::rmdir(service.c_str());
    }
    (void)::rmdir(p.v1_tree.c_str());
  }
}

std::vector<std::pair<std::string, std::string>> GoRuntimeEnv(const ResourceLimits& limits,
                                                              uint64_t physical_memory,
                                                              bool env_has_gomaxprocs,
                                                              bool env_has_gomemlimit) {
  std::vector<std::pair<std::string, std::string>> out;
  if (limits.go_runtime == GoRuntimeMode::kOff) return out;
  if (limits.cpu_quota_per_sec_usec > 0 && !env_has_gomaxprocs) {
    const uint64_t cpus = std::max<uint64_t>((limits.cpu_quota_per_sec_usec + 999999) / 1000000, 1);
    out.emplace_back("GOMAXPROCS", std::to_string(cpus));
  }
  if (limits.memory_max.set() && !env_has_gomemlimit) {
    const uint64_t max = limits.memory_max.Resolve(physical_memory);
    if (max != kMax) {
      const uint64_t limit = static_cast<uint64_t>(
          static_cast<unsigned __int128>(max) * kGoMemLimitPercent / 100);
      out.emplace_back("GOMEMLIMIT", std::to_string(limit));
    }
  }
  return out;
}

}  // namespace supd
