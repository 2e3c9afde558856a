// LoadServiceFile / ParseServiceText: the meaning of the directives of a .service unit, after
// systemd's load-fragment.c and service.c (service_verify).
//
// Values are checked here, so a ServiceSpec that exists is one supd can run. Where systemd logs
// a bad value and ignores the line, supd refuses the unit instead (an error with file:line):
// a setting that looks applied but is not would be worse than a unit that does not load.

#include <sys/stat.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string_view>

#include "lib/unit/conditions.h"
#include "lib/unit/exec_command.h"
#include "lib/unit/exec_settings.h"
#include "lib/unit/loader_base.h"
#include "lib/unit/log_settings.h"
#include "lib/unit/specifiers.h"
#include "lib/unit/unit_loader.h"
#include "lib/unit/unit_syntax.h"
#include "lib/unit/values.h"

namespace supd {
namespace {

const std::vector<std::string> kSections = {"Unit", "Service", "Install", "X-Supd"};

// Directives systemd knows that supd reads but does not implement yet: they get a warning
// saying so rather than the "unknown key" one. Not exhaustive; anything else is "unknown".
const std::set<std::string_view> kUnsupportedUnit = {
    "Requisite",
    "Conflicts",
    "PartOf",
    "Upholds",
    "OnFailure",
    "OnSuccess",
    "PropagatesReloadTo",
    "ReloadPropagatedFrom",
    "PropagatesStopTo",
    "StopPropagatedFrom",
    "JoinsNamespaceOf",
    "RequiresMountsFor",
    "WantsMountsFor",
    "OnFailureJobMode",
    "IgnoreOnIsolate",
    "StopWhenUnneeded",
    "RefuseManualStart",
    "RefuseManualStop",
    "AllowIsolate",
    "SurviveFinalKillSignal",
    "CollectMode",
    "FailureAction",
    "SuccessAction",
    "FailureActionExitStatus",
    "SuccessActionExitStatus",
    "JobTimeoutSec",
    "JobRunningTimeoutSec",
    "JobTimeoutAction",
    "JobTimeoutRebootArgument",
    "StartLimitAction",
    "RebootArgument",
    "SourcePath",
};

const std::set<std::string_view> kUnsupportedService = {
    // systemd.service(5)
    "PIDFile",
    "GuessMainPID",
    "BusName",
    "RuntimeMaxSec",
    "RuntimeRandomizedExtraSec",
    "TimeoutAbortSec",
    "TimeoutStartFailureMode",
    "TimeoutStopFailureMode",
    "RestartMode",
    "ExitType",
    "FileDescriptorStorePreserve",
    "USBFunctionDescriptors",
    "USBFunctionStrings",
    "OOMPolicy",
    "OpenFile",
    "Sockets",
    "NonBlocking",
    // systemd.exec(5)
    "ExecSearchPath",
    "RootDirectory",
    "RootImage",
    "RootImageOptions",
    "RootHash",
    "RootVerity",
    "MountAPIVFS",
    "BindPaths",
    "BindReadOnlyPaths",
    "MountImages",
    "ExtensionImages",
    "ExtensionDirectories",
    "DynamicUser",
    "PAMName",
    "SecureBits",
    "SELinuxContext",
    "AppArmorProfile",
    "SmackProcessLabel",
    "CoredumpFilter",
    "KeyringMode",
    "TimerSlackNSec",
    "Personality",
    "IgnoreSIGPIPE",
    "CPUSchedulingPolicy",
    "CPUSchedulingPriority",
    "CPUSchedulingResetOnFork",
    "CPUAffinity",
    "NUMAPolicy",
    "NUMAMask",
    "IOSchedulingClass",
    "IOSchedulingPriority",
    "ProtectSystem",
    "ProtectHome",
    "RuntimeDirectory",
    "StateDirectory",
    "CacheDirectory",
    "LogsDirectory",
    "ConfigurationDirectory",
    "RuntimeDirectoryMode",
    "StateDirectoryMode",
    "CacheDirectoryMode",
    "LogsDirectoryMode",
    "ConfigurationDirectoryMode",
    "RuntimeDirectoryPreserve",
    "TimeoutCleanSec",
    "ReadWritePaths",
    "ReadOnlyPaths",
    "InaccessiblePaths",
    "ExecPaths",
    "NoExecPaths",
    "TemporaryFileSystem",
    "PrivateTmp",
    "PrivateDevices",
    "PrivateNetwork",
    "NetworkNamespacePath",
    "PrivateIPC",
    "IPCNamespacePath",
    "PrivateUsers",
    "ProtectHostname",
    "ProtectClock",
    "ProtectKernelTunables",
    "ProtectKernelModules",
    "ProtectKernelLogs",
    "ProtectControlGroups",
    "RestrictAddressFamilies",
    "RestrictFileSystems",
    "RestrictNamespaces",
    "LockPersonality",
    "MemoryDenyWriteExecute",
    "RestrictRealtime",
    "RestrictSUIDSGID",
    "RemoveIPC",
    "PrivateMounts",
    "MountFlags",
    "SystemCallFilter",
    "SystemCallErrorNumber",
    "SystemCallArchitectures",
    "SystemCallLog",
    "ProtectProc",
    "ProcSubset",
    "PassEnvironment",
    "UnsetEnvironment",
    "StandardInput",
    "StandardInputText",
    "StandardInputData",
    "LogLevelMax",
    "LogExtraFields",
    "LogRateLimitIntervalSec",
    "LogRateLimitBurst",
    "LogFilterPatterns",
    "LogNamespace",
    "SyslogFacility",
    "TTYPath",
    "TTYReset",
    "TTYVHangup",
    "TTYRows",
    "TTYColumns",
    "TTYVTDisallocate",
    "LoadCredential",
    "LoadCredentialEncrypted",
    "ImportCredential",
    "SetCredential",
    "SetCredentialEncrypted",
    "UtmpIdentifier",
    "UtmpMode",
    // systemd.kill(5)
    "RestartKillSignal",
    // systemd.resource-control(5)
    "CPUAccounting",
    "StartupCPUWeight",
    "CPUQuotaPeriodSec",
    "AllowedCPUs",
    "StartupAllowedCPUs",
    "AllowedMemoryNodes",
    "StartupAllowedMemoryNodes",
    "MemoryAccounting",
    "MemoryMin",
    "MemoryLow",
    "StartupMemoryLow",
    "StartupMemoryHigh",
    "StartupMemoryMax",
    "StartupMemorySwapMax",
    "MemoryZSwapMax",
    "StartupMemoryZSwapMax",
    "TasksAccounting",
    "IOAccounting",
    "StartupIOWeight",
    "IODeviceWeight",
    "IOReadBandwidthMax",
    "IOWriteBandwidthMax",
    "IOReadIOPSMax",
    "IOWriteIOPSMax",
    "IODeviceLatencyTargetSec",
    "IPAccounting",
    "IPAddressAllow",
    "IPAddressDeny",
    "IPIngressFilterPath",
    "IPEgressFilterPath",
    "DeviceAllow",
    "DevicePolicy",
    "Slice",
    "Delegate",
    "DisableControllers",
    "ManagedOOMSwap",
    "ManagedOOMMemoryPressure",
    "ManagedOOMMemoryPressureLimit",
    "ManagedOOMPreference",
    "MemoryPressureWatch",
    "MemoryPressureThresholdSec",
    "CPUShares",
    "StartupCPUShares",
    "MemoryLimit",
    "BlockIOAccounting",
    "BlockIOWeight",
    "StartupBlockIOWeight",
    "BlockIODeviceWeight",
    "BlockIOReadBandwidth",
    "BlockIOWriteBandwidth",
};

const std::set<std::string_view> kUnsupportedInstall = {"Also", "DefaultInstance", "UpheldBy"};

using Handler = UnitHandler;

bool IsAbsolutePath(std::string_view p) { return !p.empty() && p[0] == '/'; }

class Loader : public UnitLoaderBase<Loader, ServiceSpec> {
 public:
  Loader(const std::string& unit_name, const std::string& source_path, const SpecifierContext& ctx)
      : UnitLoaderBase(unit_name, source_path, ctx, kSections) {
    RegisterHandlers();
  }

  Result<ServiceSpec> Finish();

 private:
  friend class UnitLoaderBase<Loader, ServiceSpec>;
  Result<void> Apply(const UnitAssignment& a);
  void RegisterHandlers();
  void RegisterResourceHandlers();
  // zero_is_infinity: TimeoutStartSec=0 and TimeoutStopSec=0 mean "no timeout".
  Handler Time(std::vector<Usec*> outs, bool zero_is_infinity, bool* was_set = nullptr) {
    return [this, outs = std::move(outs), zero_is_infinity, was_set](
               const UnitAssignment& a) -> Result<void> {
      auto t = ParseTimeSpan(a.value);
      if (!t.ok()) return Invalid(a);
      Usec v = (zero_is_infinity && t->count() == 0) ? kInfinity : *t;
      for (Usec* out : outs) *out = v;
      if (was_set != nullptr) *was_set = true;
      return Ok();
    };
  }
  Handler Unsigned(unsigned* out) {
    return [this, out](const UnitAssignment& a) -> Result<void> {
      auto n = ParseUnsigned(a.value);
      if (!n.ok()) return Invalid(a);
      *out = *n;
      return Ok();
    };
  }
  Handler Signal(int* out) {
    return [this, out](const UnitAssignment& a) -> Result<void> {
      auto s = ParseSignal(a.value);
      if (!s.ok()) return Invalid(a);
      *out = *s;
      return Ok();
    };
  }
  Handler Exec(std::vector<ExecCommand>* out) {
    return [this, out](const UnitAssignment& a) -> Result<void> {
      if (a.value.empty()) {
        out->clear();
        return Ok();
      }
      ExecLineContext ctx;
      ctx.key = a.key;
      ctx.file = a.file;
      ctx.line = a.line;
      ctx.resolve_specifiers = [this](const std::string& w) { return ResolveSpecifiers(w, data_); };
      ctx.warnings = &spec_.warnings;
      auto cmds = ParseExecLine(a.value, ctx);
      if (!cmds.ok()) return cmds.take_error();
      for (ExecCommand& c : *cmds) out->push_back(std::move(c));
      return Ok();
    };
  }
  Handler ExitStatus(ExitStatusSet* out) {
    return [this, out](const UnitAssignment& a) -> Result<void> {
      if (a.value.empty()) {
        *out = ExitStatusSet{};
        return Ok();
      }
      auto words = SplitWords(a.value, 0);
      if (!words.ok()) return Invalid(a);
      for (const std::string& w : *words) {
        if (!AddExitStatusWord(w, out).ok()) {
          return Err(a, "Invalid exit status '" + w + "' in " + a.key + "=");
        }
      }
      return Ok();
    };
  }
  // Dependencies: whitespace-separated unit names. As in systemd an empty assignment does
  // nothing, and an invalid name is skipped with a warning.
  Handler UnitList(std::vector<std::string>* out, bool empty_resets) {
    return [this, out, empty_resets](const UnitAssignment& a) -> Result<void> {
      if (a.value.empty()) {
        if (empty_resets) out->clear();
        return Ok();
      }
      auto words = SplitWords(a.value, kExtractUnquote | kExtractRelax);
      if (!words.ok()) return Invalid(a);
      for (const std::string& w : *words) {
        auto name = Resolve(a, w);
        if (!name.ok()) return name.take_error();
        if (!IsValidUnitName(*name)) {
          Warn(a, "Invalid unit name '" + *name + "' in " + a.key + "=, ignoring");
          continue;
        }
        out->push_back(std::move(*name));
      }
      return Ok();
    };
  }

  Result<void> HandleCondition(const UnitAssignment& a, bool is_assert, std::string_view type);
  Result<void> HandleEnvironment(const UnitAssignment& a);

  bool timeout_start_set_ = false;
  // WatchdogSec= > 0 as written ("infinity" included), for NotifyAccess='s default.
  bool watchdog_requested_ = false;
  // The warning for ReloadSignal= if Type= turns out not to be notify-reload.
  std::optional<Diagnostic> reload_signal_at_;
};

void Loader::RegisterHandlers() {
  auto& h = handlers_;
  // [X-Supd] log rotation (lib/log/log_writer.h).
  h["X-Supd.LogMaxBytes"] = [this](const UnitAssignment& a) -> Result<void> {
    auto v = ParseByteSize(a.value);
    if (!v.ok()) return Err(a, "LogMaxBytes=: " + v.error().message);
    spec_.log_max_bytes = *v;
    return Ok();
  };
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
  h["X-Supd.LogMaxFiles"] = [this](const UnitAssignment& a) -> Result<void> {
    auto v = ParseUnsigned(a.value);
    if (!v.ok() || *v < 1 || *v > 1000)
      return Err(a, "LogMaxFiles=: '" + a.value + "' is not a number from 1 to 1000");
    spec_.log_max_files = *v;
    return Ok();
  };
  // [Unit]
  h["Unit.Description"] = [this](const UnitAssignment& a) -> Result<void> {
    auto d = Resolve(a, a.value);
    if (!d.ok()) return d.take_error();
    spec_.description = std::move(*d);
    return Ok();
  };
  h["Unit.Documentation"] = [this](const UnitAssignment& a) -> Result<void> {
    if (a.value.empty()) {
      spec_.documentation.clear();
      return Ok();
    }
    auto words = SplitWords(a.value, kExtractUnquote | kExtractRelax);
    if (!words.ok()) return Invalid(a);
    for (const std::string& w : *words) {
      auto url = Resolve(a, w);
      if (!url.ok()) return url.take_error();
      bool ok = false;
      for (std::string_view scheme : {"http://", "https://", "file:/", "info:", "man:"}) {
        ok = ok || url->starts_with(scheme);
      }
      if (!ok) {
        Warn(a, "Invalid URL '" + *url + "' in Documentation=, ignoring");
        continue;
      }
      spec_.documentation.push_back(std::move(*url));
    }
    return Ok();
  };
  h["Unit.After"] = UnitList(&spec_.after, false);
  h["Unit.Before"] = UnitList(&spec_.before, false);
  h["Unit.Wants"] = UnitList(&spec_.wants, false);
  h["Unit.Requires"] = UnitList(&spec_.requires_, false);
  h["Unit.BindsTo"] = UnitList(&spec_.binds_to, false);
  h["Unit.StartLimitIntervalSec"] = Time({&spec_.start_limit_interval}, false);
  h["Unit.StartLimitBurst"] = Unsigned(&spec_.start_limit_burst);
  // DefaultDependencies= only adds dependencies on systemd's boot targets, which supd treats
  // as always satisfied: either value means the same to supd, so it is checked and accepted.
  h["Unit.DefaultDependencies"] = [this](const UnitAssignment& a) -> Result<void> {
    if (!ParseBoolean(a.value).ok()) return Invalid(a);
    return Ok();
  };

  // [Service]
  h["Service.Type"] = [this](const UnitAssignment& a) -> Result<void> {
    static const std::map<std::string, ServiceType, std::less<>> kTypes = {
        {"simple", ServiceType::kSimple},
        {"exec", ServiceType::kExec},
        {"oneshot", ServiceType::kOneshot},
        {"notify", ServiceType::kNotify},
        {"notify-reload", ServiceType::kNotifyReload}};
    auto it = kTypes.find(a.value);
    if (it != kTypes.end()) {
      spec_.type = it->second;
      return Ok();
    }
    for (std::string_view t : {"forking", "dbus", "idle"}) {
      if (a.value == t) return Err(a, "Type=" + a.value + " is not supported by supd");
    }
    return Invalid(a);
  };
  h["Service.RemainAfterExit"] = Bool(&spec_.remain_after_exit);
  h["Service.ExecCondition"] = Exec(&spec_.exec_condition);
  h["Service.ExecStartPre"] = Exec(&spec_.exec_start_pre);
  h["Service.ExecStart"] = Exec(&spec_.exec_start);
  h["Service.ExecStartPost"] = Exec(&spec_.exec_start_post);
  h["Service.ExecReload"] = Exec(&spec_.exec_reload);
  h["Service.ExecStop"] = Exec(&spec_.exec_stop);
  h["Service.ExecStopPost"] = Exec(&spec_.exec_stop_post);
  h["Service.Restart"] = [this](const UnitAssignment& a) -> Result<void> {
    static const std::map<std::string, RestartPolicy, std::less<>> kPolicies = {
        {"no", RestartPolicy::kNo},
        {"always", RestartPolicy::kAlways},
        {"on-success", RestartPolicy::kOnSuccess},
        {"on-failure", RestartPolicy::kOnFailure},
        {"on-abnormal", RestartPolicy::kOnAbnormal},
        {"on-abort", RestartPolicy::kOnAbort},
        {"on-watchdog", RestartPolicy::kOnWatchdog}};
    auto it = kPolicies.find(a.value);
    if (it == kPolicies.end()) return Invalid(a);
    spec_.restart = it->second;
    return Ok();
  };
  h["Service.RestartSec"] = Time({&spec_.restart_sec}, false);
  h["Service.RestartSteps"] = Unsigned(&spec_.restart_steps);
  h["Service.FileDescriptorStoreMax"] = Unsigned(&spec_.file_descriptor_store_max);
  h["Service.RestartMaxDelaySec"] = Time({&spec_.restart_max_delay}, false);
  h["Service.TimeoutStartSec"] = Time({&spec_.timeout_start}, true, &timeout_start_set_);
  h["Service.TimeoutStopSec"] = Time({&spec_.timeout_stop}, true);
  h["Service.TimeoutSec"] =
      Time({&spec_.timeout_start, &spec_.timeout_stop}, true, &timeout_start_set_);
  h["Service.KillSignal"] = Signal(&spec_.kill_signal);
  h["Service.FinalKillSignal"] = Signal(&spec_.final_kill_signal);
  h["Service.KillMode"] = [this](const UnitAssignment& a) -> Result<void> {
    static const std::map<std::string, KillMode, std::less<>> kModes = {
        {"control-group", KillMode::kControlGroup},
        {"mixed", KillMode::kMixed},
        {"process", KillMode::kProcess},
        {"none", KillMode::kNone}};
    auto it = kModes.find(a.value);
    if (it == kModes.end()) return Invalid(a);
    spec_.kill_mode = it->second;
    return Ok();
  };
  h["Service.NotifyAccess"] = [this](const UnitAssignment& a) -> Result<void> {
    static const std::map<std::string, NotifyAccess, std::less<>> kAccess = {
        {"none", NotifyAccess::kNone},
        {"main", NotifyAccess::kMain},
        {"exec", NotifyAccess::kExec},
        {"all", NotifyAccess::kAll}};
    auto it = kAccess.find(a.value);
    if (it == kAccess.end()) return Invalid(a);
    spec_.notify_access = it->second;
    spec_.notify_access_set = true;
    return Ok();
  };
  h["Service.WatchdogSec"] = [this](const UnitAssignment& a) -> Result<void> {
    auto t = ParseTimeSpan(a.value);
    if (!t.ok()) return Invalid(a);
    watchdog_requested_ = t->count() > 0;
    // systemd arms no watchdog for "infinity" either (service_start_watchdog).
    spec_.watchdog_sec = *t == kInfinity ? Usec{0} : *t;
    return Ok();
  };
  h["Service.WatchdogSignal"] = Signal(&spec_.watchdog_signal);
  h["Service.ReloadSignal"] = [this](const UnitAssignment& a) -> Result<void> {
    SUPD_TRY(Signal(&spec_.reload_signal)(a));
    reload_signal_at_ = Diagnostic{a.file, a.line,
                                   "ReloadSignal= has an effect only with Type=notify-reload; "
                                   "ignored"};
    return Ok();
  };
  h["Service.SendSIGKILL"] = Bool(&spec_.send_sigkill);
  h["Service.SendSIGHUP"] = Bool(&spec_.send_sighup);
  h["Service.SuccessExitStatus"] = ExitStatus(&spec_.success_exit_status);
  h["Service.RestartPreventExitStatus"] = ExitStatus(&spec_.restart_prevent_exit_status);
  h["Service.RestartForceExitStatus"] = ExitStatus(&spec_.restart_force_exit_status);
  h["Service.WorkingDirectory"] = [this](const UnitAssignment& a) -> Result<void> {
    if (a.value.empty()) {
      spec_.working_directory.clear();
      spec_.working_directory_optional = false;
      return Ok();
    }
    std::string_view v = a.value;
    bool optional = v[0] == '-';
    if (optional) v.remove_prefix(1);
    std::string dir;
    if (v == "~") {
      dir = "~";
    } else {
      auto r = Resolve(a, std::string(v));
      if (!r.ok()) return r.take_error();
      if (!IsAbsolutePath(*r)) return Err(a, "WorkingDirectory= path '" + *r + "' is not absolute");
      dir = std::move(*r);
    }
    spec_.working_directory = std::move(dir);
    spec_.working_directory_optional = optional;
    return Ok();
  };
  h["Service.Environment"] = [this](const UnitAssignment& a) { return HandleEnvironment(a); };
  h["Service.EnvironmentFile"] = [this](const UnitAssignment& a) -> Result<void> {
    if (a.value.empty()) {
      spec_.environment_files.clear();
      return Ok();
    }
    std::string_view v = a.value;
    bool optional = v[0] == '-';
    if (optional) v.remove_prefix(1);
    auto r = Resolve(a, std::string(v));
    if (!r.ok()) return r.take_error();
    if (!IsAbsolutePath(*r)) return Err(a, "EnvironmentFile= path '" + *r + "' is not absolute");
    spec_.environment_files.push_back(EnvironmentFileRef{std::move(*r), optional});
    return Ok();
  };
  auto user_group = [this](std::string* out) -> Handler {
    return [this, out](const UnitAssignment& a) -> Result<void> {
      auto r = Resolve(a, a.value);
      if (!r.ok()) return r.take_error();
      if (r->empty()) {
        out->clear();
        return Ok();
      }
      // As systemd, a bad name refuses the unit: running it as another user (or binding its
      // socket for one) is not a detail to drop with a warning.
      if (auto valid = CheckUserGroupName(*r); !valid.ok()) {
        return Err(a, "Invalid " + a.key + "= value '" + *r + "': " + valid.error().message);
      }
      *out = std::move(*r);
      return Ok();
    };
  };
  h["Service.User"] = user_group(&spec_.user);
  h["Service.Group"] = user_group(&spec_.group);
  // Limit*=, SupplementaryGroups=, UMask=, Nice=, OOMScoreAdjust=, capabilities and
  // NoNewPrivileges=: lib/unit/exec_settings.cc.
  for (std::string_view key : ExecSettingKeys()) {
    h["Service." + std::string(key)] = [this](const UnitAssignment& a) {
      return ApplyExecSetting(
          a, [this](const std::string& w) { return ResolveSpecifiers(w, data_); }, &spec_.exec);
    };
  }
  // The pre-v230 spellings, still accepted by systemd in [Service].
  h["Service.StartLimitInterval"] = Time({&spec_.start_limit_interval}, false);
  h["Service.StartLimitBurst"] = Unsigned(&spec_.start_limit_burst);

  RegisterResourceHandlers();

  // [Install]
  h["Install.WantedBy"] = UnitList(&spec_.wanted_by, true);
  h["Install.RequiredBy"] = UnitList(&spec_.required_by, true);
  h["Install.Alias"] = UnitList(&spec_.aliases, true);
}

// systemd.resource-control(5) in [Service], and supd's [X-Supd] RequireLimits=/GoRuntime=. An
// empty assignment resets the directive to unset, as in systemd.
void Loader::RegisterResourceHandlers() {
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

Result<void> Loader::HandleEnvironment(const UnitAssignment& a) {
  if (a.value.empty()) {
    spec_.environment.clear();
    return Ok();
  }
  // Like systemd's config_parse_environ(): each word is applied as it is read, so a syntax error
  // (unbalanced quotes, a bad escape) keeps the assignments before it and drops the rest of the
  // line with a warning; an invalid assignment drops only itself.
  std::string_view rest = a.value;
  for (;;) {
    const std::string_view before = rest;
    auto word = ExtractFirstWord(&rest, kExtractCUnescape | kExtractUnquote);
    if (!word.ok()) {
      const size_t skipped = before.find_first_not_of(" \t\n\r");
      Warn(a, "Invalid syntax in Environment= (" + word.error().message +
                  "), ignoring the rest of the line: " +
                  std::string(before.substr(skipped == std::string_view::npos ? 0 : skipped)));
      return Ok();
    }
    if (!word->has_value()) return Ok();
    auto r = Resolve(a, **word);
    if (!r.ok()) return r.take_error();
    size_t eq = r->find('=');
    if (eq == std::string::npos || !IsValidEnvName(std::string_view(*r).substr(0, eq)) ||
        !IsValidUtf8(*r)) {
      Warn(a, "Invalid environment assignment, ignoring: " + *r);
      continue;
    }
    std::string name = r->substr(0, eq), value = r->substr(eq + 1);
    bool replaced = false;
    for (auto& [n, v] : spec_.environment) {
      if (n == name) {
        v = value;
        replaced = true;
        break;
      }
    }
    if (!replaced) spec_.environment.emplace_back(std::move(name), std::move(value));
  }
}

Result<void> Loader::HandleCondition(const UnitAssignment& a, bool is_assert,
                                     std::string_view type) {
  if (a.value.empty()) {
    // An empty assignment to any Condition*= resets all conditions (Assert*=: all asserts).
    std::erase_if(spec_.conditions, [&](const Condition& c) { return c.is_assert == is_assert; });
    return Ok();
  }
  Condition c;
  c.name = a.key;
  c.is_assert = is_assert;
  c.source = a.Location();
  std::string_view v = a.value;
  auto skip_space = [&] {
    while (!v.empty() && (v[0] == ' ' || v[0] == '\t')) v.remove_prefix(1);
  };
  if (!v.empty() && v[0] == '|') {
    c.trigger = true;
    v.remove_prefix(1);
    skip_space();
  }
  if (!v.empty() && v[0] == '!') {
    c.negate = true;
    v.remove_prefix(1);
    skip_space();
  }
  auto r = Resolve(a, std::string(v));
  if (!r.ok()) return r.take_error();
  if (ConditionTakesPath(type) && !IsAbsolutePath(*r)) {
    return Err(a, a.key + "= path '" + *r + "' is not absolute");
  }
  if (r->empty()) return Invalid(a);
  c.value = std::move(*r);
  spec_.conditions.push_back(std::move(c));
  return Ok();
}

Result<void> Loader::Apply(const UnitAssignment& a) {
  if (a.section == "X-Supd") {
    if (auto it = handlers_.find(a.section + "." + a.key); it != handlers_.end())
      return it->second(a);
    Warn(a, "Unknown key '" + a.key + "' in section [X-Supd], ignoring");
    return Ok();
  }
  if (a.section == "Unit") {
    for (std::string_view prefix : {"Condition", "Assert"}) {
      if (!a.key.starts_with(prefix) || a.key.size() == prefix.size()) continue;
      std::string_view type = std::string_view(a.key).substr(prefix.size());
      if (IsSupportedConditionType(type)) return HandleCondition(a, prefix == "Assert", type);
      if (IsKnownUnsupportedConditionType(type)) {
        Warn(a, a.key + "= is not supported by supd yet; ignored");
        return Ok();
      }
    }
  }
  auto it = handlers_.find(a.section + "." + a.key);
  if (it != handlers_.end()) return it->second(a);

  const std::set<std::string_view>& unsupported =
      a.section == "Unit" ? kUnsupportedUnit
                          : (a.section == "Service" ? kUnsupportedService : kUnsupportedInstall);
  if (unsupported.count(a.key) > 0) {
    Warn(a, a.key + "= is not supported by supd yet; ignored");
    return Ok();
  }
  // Like systemd, keys starting with "X-" are extensions for other tools: silently ignored.
  if (a.key.starts_with("X-")) return Ok();
  std::string hint;
  for (const std::string& section : kSections) {
    if (section != a.section && handlers_.count(section + "." + a.key) > 0) {
      hint = " (" + a.key + "= belongs in the [" + section + "] section)";
      break;
    }
  }
  Warn(a, "Unknown key '" + a.key + "' in section [" + a.section + "], ignoring" + hint);
  return Ok();
}

Result<ServiceSpec> Loader::Finish() {
  const std::string& file = spec_.source_path;
  bool oneshot = spec_.type == ServiceType::kOneshot;
  if (!oneshot) {
    if (spec_.exec_start.empty()) {
      return Error{file +
                   ": Service has no ExecStart= setting, which is only allowed for "
                   "Type=oneshot services"};
    }
    if (spec_.exec_start.size() > 1) {
      return Error{file +
                   ": Service has more than one ExecStart= setting, which is only allowed "
                   "for Type=oneshot services"};
    }
  } else {
    if (spec_.exec_start.empty() && spec_.exec_stop.empty()) {
      return Error{file + ": Service has no ExecStart= and no ExecStop= setting"};
    }
    if (spec_.exec_start.empty() && !spec_.remain_after_exit) {
      return Error{file +
                   ": Service has no ExecStart= setting and does not have "
                   "RemainAfterExit=yes set"};
    }
    if (spec_.restart == RestartPolicy::kAlways || spec_.restart == RestartPolicy::kOnSuccess) {
      return Error{file +
                   ": Service has Restart= set to either always or on-success, which "
                   "isn't allowed for Type=oneshot services"};
    }
    if (!timeout_start_set_) spec_.timeout_start = kInfinity;
  }
  auto warn = [&](std::string message) {
    spec_.warnings.push_back(Diagnostic{file, 0, std::move(message)});
  };
  // systemd's service_add_extras(): a service that needs the notify socket gets it. An explicit
  // NotifyAccess=none cannot be told apart from the default there, so it is overridden too.
  const bool notify_type =
      spec_.type == ServiceType::kNotify || spec_.type == ServiceType::kNotifyReload;
  if (spec_.notify_access == NotifyAccess::kNone && (notify_type || watchdog_requested_)) {
    if (spec_.notify_access_set) {
      warn("NotifyAccess=none is overridden to main, as systemd does, because the service is " +
           std::string(notify_type ? "Type=notify" : "using WatchdogSec=") +
           (spec_.type == ServiceType::kNotifyReload ? "-reload" : ""));
    }
    spec_.notify_access = NotifyAccess::kMain;
  }
  if (reload_signal_at_ && spec_.type != ServiceType::kNotifyReload)
    spec_.warnings.push_back(*reload_signal_at_);
  if (spec_.restart_steps > 0 && spec_.restart_max_delay == kInfinity) {
    warn("Service has RestartSteps= but no RestartMaxDelaySec= setting; RestartSteps= ignored");
    spec_.restart_steps = 0;
  } else if (spec_.restart_steps == 0 && spec_.restart_max_delay != kInfinity) {
    warn(
        "Service has RestartMaxDelaySec= but no RestartSteps= setting; RestartMaxDelaySec= "
        "ignored");
    spec_.restart_max_delay = kInfinity;
  } else if (spec_.restart_max_delay < spec_.restart_sec) {
    warn(
        "RestartMaxDelaySec= is smaller than RestartSec=; RestartSec= set to "
        "RestartMaxDelaySec=");
    spec_.restart_sec = spec_.restart_max_delay;
  }
  return std::move(spec_);
}

Result<void> CheckUnitName(const std::string& unit_name) {
  if (!IsValidUnitName(unit_name)) return Error{"Invalid unit name '" + unit_name + "'"};
  if (SplitUnitName(unit_name).suffix != "service") {
    return Error{"'" + unit_name + "' is not a .service unit"};
  }
  return Ok();
}

}  // namespace

Result<ServiceSpec> ParseServiceText(const std::string& text, const std::string& path,
                                     const std::string& unit_name, const SpecifierContext& ctx) {
  SUPD_TRY(CheckUnitName(unit_name));
  if (text.size() > kMaxUnitFileSize) return Error{path + ": file is larger than 4 MiB, refusing"};
  Loader loader(unit_name, path, ctx);
  SUPD_TRY(loader.ApplyText(text, path));
  return loader.Finish();
}

Result<ServiceSpec> LoadServiceFile(const std::string& path, const std::string& unit_name,
                                    const SpecifierContext& ctx) {
  SUPD_TRY(CheckUnitName(unit_name));
  Loader loader(unit_name, path, ctx);
  SUPD_TRY(loader.ApplyFileAndDropins(path, unit_name));
  return loader.Finish();
}

}  // namespace supd
