// ServiceLoader (lib/unit/service_loader.h): dispatching each assignment to its directive, the
// handlers several directives share, and the checks of the whole unit once it is read.

#include "lib/unit/service_loader.h"

#include <string_view>

#include "lib/unit/conditions.h"
#include "lib/unit/exec_command.h"
#include "lib/unit/unit_syntax.h"
#include "lib/unit/values.h"

namespace supd {
namespace {

const std::vector<std::string> kSections = {"Unit", "Service", "Install", "X-Supd"};

Result<void> CheckUnitName(const std::string& unit_name) {
  if (!IsValidUnitName(unit_name)) return Error{"Invalid unit name '" + unit_name + "'"};
  if (SplitUnitName(unit_name).suffix != "service") {
    return Error{"'" + unit_name + "' is not a .service unit"};
  }
  return Ok();
}

}  // namespace

ServiceLoader::ServiceLoader(const std::string& unit_name, const std::string& source_path,
                             const SpecifierContext& ctx)
    : UnitLoaderBase(unit_name, source_path, ctx, kSections) {
  RegisterUnitHandlers();
  RegisterTypeAndExecHandlers();
  RegisterRestartHandlers();
  RegisterStopHandlers();
  RegisterNotifyHandlers();
  RegisterProcessHandlers();
  RegisterLogHandlers();
  RegisterResourceHandlers();
  RegisterProbeHandlers();
  RegisterInstallHandlers();
}

ServiceLoader::Handler ServiceLoader::Time(std::vector<Usec*> outs, bool zero_is_infinity,
                                           bool* was_set) {
  return [this, outs = std::move(outs), zero_is_infinity,
          was_set](const UnitAssignment& a) -> Result<void> {
    auto t = ParseTimeSpan(a.value);
    if (!t.ok()) return Invalid(a);
    Usec v = (zero_is_infinity && t->count() == 0) ? kInfinity : *t;
    for (Usec* out : outs) *out = v;
    if (was_set != nullptr) *was_set = true;
    return Ok();
  };
}

ServiceLoader::Handler ServiceLoader::Unsigned(unsigned* out) {
  return [this, out](const UnitAssignment& a) -> Result<void> {
    auto n = ParseUnsigned(a.value);
    if (!n.ok()) return Invalid(a);
    *out = *n;
    return Ok();
  };
}

ServiceLoader::Handler ServiceLoader::Signal(int* out) {
  return [this, out](const UnitAssignment& a) -> Result<void> {
    auto s = ParseSignal(a.value);
    if (!s.ok()) return Invalid(a);
    *out = *s;
    return Ok();
  };
}

ServiceLoader::Handler ServiceLoader::Exec(std::vector<ExecCommand>* out) {
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

ServiceLoader::Handler ServiceLoader::ExitStatus(ExitStatusSet* out) {
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

Result<void> ServiceLoader::Apply(const UnitAssignment& a) {
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

  if (IsKnownUnsupportedDirective(a.section, a.key)) {
    Warn(a, a.key + "= is not supported by supd yet; ignored");
    return Ok();
  }
  WarnUnknownKey(a);
  return Ok();
}

Result<ServiceSpec> ServiceLoader::Finish() {
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
  SUPD_TRY(FinishProbes());
  return std::move(spec_);
}

Result<ServiceSpec> ParseServiceText(const std::string& text, const std::string& path,
                                     const std::string& unit_name, const SpecifierContext& ctx) {
  return ParseUnitWith<ServiceLoader>(text, path, unit_name, ctx, CheckUnitName);
}

Result<ServiceSpec> LoadServiceFile(const std::string& path, const std::string& unit_name,
                                    const SpecifierContext& ctx) {
  return LoadUnitWith<ServiceLoader>(path, unit_name, ctx, CheckUnitName);
}

}  // namespace supd
