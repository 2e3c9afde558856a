// [Service] directives of a .service unit's life: Type= and the commands, restarts and what
// counts as success, timeouts, how it is stopped, and sd_notify/watchdog.

#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "lib/unit/service_loader.h"

namespace supd {

// Type=, the commands, the start and stop timeouts, the fd store.
void ServiceLoader::RegisterTypeAndExecHandlers() {
  auto& h = handlers_;
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
  h["Service.TimeoutStartSec"] = Time({&spec_.timeout_start}, true, &timeout_start_set_);
  h["Service.TimeoutStopSec"] = Time({&spec_.timeout_stop}, true);
  h["Service.TimeoutSec"] =
      Time({&spec_.timeout_start, &spec_.timeout_stop}, true, &timeout_start_set_);
  h["Service.FileDescriptorStoreMax"] = Unsigned(&spec_.file_descriptor_store_max);
}

// Restart= and its delays, and the exit statuses that decide success and restarts.
void ServiceLoader::RegisterRestartHandlers() {
  auto& h = handlers_;
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
  h["Service.RestartMaxDelaySec"] = Time({&spec_.restart_max_delay}, false);
  h["Service.SuccessExitStatus"] = ExitStatus(&spec_.success_exit_status);
  h["Service.RestartPreventExitStatus"] = ExitStatus(&spec_.restart_prevent_exit_status);
  h["Service.RestartForceExitStatus"] = ExitStatus(&spec_.restart_force_exit_status);
}

// How the processes are stopped (systemd.kill(5)).
void ServiceLoader::RegisterStopHandlers() {
  auto& h = handlers_;
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
  h["Service.SendSIGKILL"] = Bool(&spec_.send_sigkill);
  h["Service.SendSIGHUP"] = Bool(&spec_.send_sighup);
}

// sd_notify: who may send, the watchdog, the reload signal of Type=notify-reload.
void ServiceLoader::RegisterNotifyHandlers() {
  auto& h = handlers_;
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
}

}  // namespace supd
