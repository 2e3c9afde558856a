// [Service] directives of output and resources: StandardOutput=/StandardError= and syslog
// fields, supd's log rotation ([X-Supd]), and systemd.resource-control(5) with supd's
// RequireLimits=/GoRuntime=.

#include <string>
#include <string_view>

#include "lib/unit/log_settings.h"
#include "lib/unit/resource_spec.h"
#include "lib/unit/service_loader.h"

namespace supd {

// Where the output goes (StandardOutput=/StandardError=, syslog fields) and the log rotation
// of [X-Supd] (lib/log/log_writer.h).
void ServiceLoader::RegisterLogHandlers() {
  auto& h = handlers_;
  for (const char* key : {"StandardOutput", "StandardError"}) {
    const bool is_out = std::string_view(key) == "StandardOutput";
    h[std::string("Service.") + key] = [this, is_out](const UnitAssignment& a) -> Result<void> {
      auto r = Resolve(a, a.value);
      if (!r.ok()) return r.take_error();
      auto o = ParseOutputSetting(*r);
      if (!o.ok()) return Err(a, a.key + "=: " + o.error().message);
      (is_out ? spec_.standard_output : spec_.standard_error) = std::move(*o);
      return Ok();
    };
  }
  h["Service.SyslogIdentifier"] = [this](const UnitAssignment& a) -> Result<void> {
    auto r = Resolve(a, a.value);
    if (!r.ok()) return r.take_error();
    spec_.syslog_identifier = std::move(*r);
    return Ok();
  };
  h["Service.SyslogLevel"] = [this](const UnitAssignment& a) -> Result<void> {
    auto v = ParseSyslogLevel(a.value);
    if (!v.ok()) return Err(a, "SyslogLevel=: " + v.error().message);
    spec_.syslog_level = *v;
    return Ok();
  };
  h["Service.SyslogLevelPrefix"] = Bool(&spec_.syslog_level_prefix);
  h["X-Supd.LogMaxBytes"] = [this](const UnitAssignment& a) -> Result<void> {
    auto v = ParseByteSize(a.value);
    if (!v.ok()) return Err(a, "LogMaxBytes=: " + v.error().message);
    spec_.log_max_bytes = *v;
    return Ok();
  };
  h["X-Supd.LogMaxFiles"] = [this](const UnitAssignment& a) -> Result<void> {
    auto v = ParseUnsigned(a.value);
    if (!v.ok() || *v < 1 || *v > 1000)
      return Err(a, "LogMaxFiles=: '" + a.value + "' is not a number from 1 to 1000");
    spec_.log_max_files = *v;
    return Ok();
  };
}

// systemd.resource-control(5) in [Service], and supd's [X-Supd] RequireLimits=/GoRuntime=. An
// empty assignment resets the directive to unset, as in systemd.
void ServiceLoader::RegisterResourceHandlers() {
  auto& h = handlers_;
  ResourceLimits& r = spec_.resources;
  auto memory = [this](LimitValue* out, bool allow_zero) -> Handler {
    return [this, out, allow_zero](const UnitAssignment& a) -> Result<void> {
      if (a.value.empty()) {
        *out = LimitValue{};
        return Ok();
      }
      auto v = ParseMemoryLimit(a.value, allow_zero);
      if (!v.ok()) return Err(a, "Invalid " + a.key + "= value: " + v.error().message);
      *out = std::move(*v);
      return Ok();
    };
  };
  h["Service.MemoryMax"] = memory(&r.memory_max, false);
  h["Service.MemoryHigh"] = memory(&r.memory_high, false);
  h["Service.MemorySwapMax"] = memory(&r.memory_swap_max, true);
  h["Service.TasksMax"] = [this, &r](const UnitAssignment& a) -> Result<void> {
    if (a.value.empty()) {
      r.tasks_max = LimitValue{};
      return Ok();
    }
    auto v = ParseTasksMax(a.value);
    if (!v.ok()) return Err(a, "Invalid TasksMax= value: " + v.error().message);
    r.tasks_max = std::move(*v);
    return Ok();
  };
  h["Service.CPUQuota"] = [this, &r](const UnitAssignment& a) -> Result<void> {
    if (a.value.empty()) {
      r.cpu_quota_per_sec_usec = 0;
      r.cpu_quota_text.clear();
      return Ok();
    }
    auto v = ParseCpuQuota(a.value);
    if (!v.ok()) return Err(a, "Invalid CPUQuota= value: " + v.error().message);
    r.cpu_quota_per_sec_usec = *v;
    r.cpu_quota_text = a.value;
    return Ok();
  };
  h["Service.CPUWeight"] = [this, &r](const UnitAssignment& a) -> Result<void> {
    r.cpu_weight = 0;
    r.cpu_weight_idle = false;
    if (a.value.empty()) return Ok();
    auto v = ParseCgroupWeight(a.value, &r.cpu_weight_idle);
    if (!v.ok()) return Err(a, "Invalid CPUWeight= value: " + v.error().message);
    r.cpu_weight = *v;
    return Ok();
  };
  h["Service.IOWeight"] = [this, &r](const UnitAssignment& a) -> Result<void> {
    r.io_weight = 0;
    if (a.value.empty()) return Ok();
    auto v = ParseCgroupWeight(a.value, nullptr);
    if (!v.ok()) return Err(a, "Invalid IOWeight= value: " + v.error().message);
    r.io_weight = *v;
    return Ok();
  };
  h["X-Supd.RequireLimits"] = Bool(&r.require_limits);
  h["X-Supd.GoRuntime"] = [this, &r](const UnitAssignment& a) -> Result<void> {
    auto v = ParseGoRuntime(a.value);
    if (!v.ok()) return Err(a, v.error().message);
    r.go_runtime = *v;
    return Ok();
  };
}

}  // namespace supd
