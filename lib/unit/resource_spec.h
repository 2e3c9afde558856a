// ResourceLimits: the cgroup limits of a service (systemd.resource-control(5)) and supd's own
// [X-Supd] RequireLimits= / GoRuntime=, as lib/unit/ read them.
//
// Plain data plus the pure parsers of systemd's value syntaxes for these directives. Percentages
// stay percentages here (of physical RAM for Memory*=, of the kernel's task limit for TasksMax=):
// they are resolved on the host that applies them (lib/cgroup/), as systemd does.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "lib/base/result.h"

namespace supd {

// One limit value as written: unset, a number (bytes or tasks), a share of a host total, or
// "infinity".
struct LimitValue {
  enum class Kind { kUnset, kValue, kPermyriad, kInfinity };
  Kind kind = Kind::kUnset;
  uint64_t value = 0;  // kValue: the number; kPermyriad: parts per 10000 of the host total
  std::string text;    // as written ("512M", "50%", "infinity"), for status and messages

  bool set() const { return kind != Kind::kUnset; }
  // The number this means on a host whose total (RAM bytes, task limit) is `total`;
  // UINT64_MAX for infinity. REQUIRES: set().
  uint64_t Resolve(uint64_t total) const;
};

// CPUWeight=/IOWeight= default (systemd's CGROUP_WEIGHT_DEFAULT).
inline constexpr uint64_t kWeightDefault = 100;

enum class GoRuntimeMode { kAuto, kOff };

struct ResourceLimits {
  LimitValue memory_max;       // MemoryMax=
  LimitValue memory_high;      // MemoryHigh=
  LimitValue memory_swap_max;  // MemorySwapMax=
  LimitValue tasks_max;        // TasksMax=
  // CPUQuota=: CPU time per second of wall time, in usec (20% → 200000); 0 = unset.
  uint64_t cpu_quota_per_sec_usec = 0;
  std::string cpu_quota_text;
  uint64_t cpu_weight = 0;     // CPUWeight= 1..10000; 0 = unset
  bool cpu_weight_idle = false;  // CPUWeight=idle
  uint64_t io_weight = 0;      // IOWeight= 1..10000; 0 = unset
  // [X-Supd] RequireLimits=yes: a limit that this host cannot enforce refuses the start.
  bool require_limits = false;
  // [X-Supd] GoRuntime=: auto (the default) derives GOMAXPROCS/GOMEMLIMIT from the limits.
  GoRuntimeMode go_runtime = GoRuntimeMode::kAuto;

  bool any() const {
    return memory_max.set() || memory_high.set() || memory_swap_max.set() || tasks_max.set() ||
           cpu_quota_per_sec_usec > 0 || cpu_weight > 0 || cpu_weight_idle || io_weight > 0;
  }
};

// The value parsers. Errors are a short reason without file:line (the loader adds it).
//
// Memory*=: bytes with an optional base-1024 suffix (K, M, G, T, P, E; "1.5G" and "1G 512M"
// too), a percentage of physical RAM ("50%", "12.5%", also ‰ and ‱), or "infinity".
// `allow_zero`: MemorySwapMax=0 is valid, MemoryMax=0 is not (as in systemd).
[[nodiscard]] Result<LimitValue> ParseMemoryLimit(std::string_view text, bool allow_zero);
// TasksMax=: a number > 0, a percentage of the kernel's task limit, or "infinity".
[[nodiscard]] Result<LimitValue> ParseTasksMax(std::string_view text);
// CPUQuota=: a percentage > 0, may exceed 100% (more than one CPU) → usec per second.
[[nodiscard]] Result<uint64_t> ParseCpuQuota(std::string_view text);
// CPUWeight=/IOWeight=: 1..10000. CPUWeight= also takes "idle" (→ *idle = true, returns 0).
[[nodiscard]] Result<uint64_t> ParseCgroupWeight(std::string_view text, bool* idle);
// "auto" | "off".
[[nodiscard]] Result<GoRuntimeMode> ParseGoRuntime(std::string_view text);

// Bytes for a human: "512M", "1.5G", "123" (base 1024, at most one decimal).
std::string FormatBytes(uint64_t bytes);

}  // namespace supd
