// The loader of .service units behind LoadServiceFile/ParseServiceText (lib/unit/unit_loader.h,
// the public API): the meaning of each directive, after systemd's load-fragment.c and service.c
// (service_verify). Internal to lib/unit: one class, its directives registered by concern in
// files of their own:
//   service_loader.cc               dispatch (Apply), the checks of the whole unit (Finish)
//   service_directives_unit.cc      [Unit] (descriptions, dependencies, conditions), [Install]
//   service_directives_lifecycle.cc [Service] Type=, Exec*=, restart, timeouts, stop, notify
//   service_directives_process.cc   [Service] what the process gets: directory, environment,
//                                   user and group, the exec settings
//   service_directives_resources.cc [Service] output and logs, resource control; [X-Supd]
//   service_directives_probes.cc    [X-Supd] health probes and MinReadySec=
//   service_unsupported.cc          what systemd knows and supd does not do (yet)
//
// Values are checked here, so a ServiceSpec that exists is one supd can run. Where systemd logs
// a bad value and ignores the line, supd refuses the unit instead (an error with file:line):
// a setting that looks applied but is not would be worse than a unit that does not load.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/result.h"
#include "lib/unit/loader_base.h"
#include "lib/unit/service_spec.h"
#include "lib/unit/unit_loader.h"

namespace supd {

// Whether `key` in `section` ("Unit", "Service", "Install") is a directive systemd knows that
// supd reads but does not implement: it gets a warning saying so rather than "unknown key".
bool IsKnownUnsupportedDirective(std::string_view section, std::string_view key);

class ServiceLoader : public UnitLoaderBase<ServiceLoader, ServiceSpec> {
 public:
  ServiceLoader(const std::string& unit_name, const std::string& source_path,
                const SpecifierContext& ctx);

  // The spec, once every line is applied: systemd's service_verify() checks and defaults.
  Result<ServiceSpec> Finish();

 private:
  friend class UnitLoaderBase<ServiceLoader, ServiceSpec>;
  using Handler = UnitHandler;

  Result<void> Apply(const UnitAssignment& a);

  // One per concern (see the file list above).
  void RegisterUnitHandlers();
  void AddUnitActionHandlers();  // FailureAction=/SuccessAction=
  void RegisterInstallHandlers();
  void RegisterTypeAndExecHandlers();
  void RegisterRestartHandlers();
  void RegisterStopHandlers();
  void RegisterNotifyHandlers();
  void RegisterProcessHandlers();
  void RegisterLogHandlers();
  void RegisterResourceHandlers();
  void RegisterProbeHandlers();
  // The probes' settings applied to the probes, and the checks that need the whole unit
  // (service_directives_probes.cc).
  Result<void> FinishProbes();

  // Handlers for the value syntaxes several directives share. zero_is_infinity:
  // TimeoutStartSec=0 and TimeoutStopSec=0 mean "no timeout".
  Handler Time(std::vector<Usec*> outs, bool zero_is_infinity, bool* was_set = nullptr);
  Handler Unsigned(unsigned* out);
  Handler Signal(int* out);
  Handler Exec(std::vector<ExecCommand>* out);
  Handler ExitStatus(ExitStatusSet* out);

  Result<void> HandleCondition(const UnitAssignment& a, bool is_assert, std::string_view type);
  Result<void> HandleEnvironment(const UnitAssignment& a);
  Result<void> HandleProbe(const UnitAssignment& a, ProbeRole role);

  bool timeout_start_set_ = false;
  // WatchdogSec= > 0 as written ("infinity" included), for NotifyAccess='s default.
  bool watchdog_requested_ = false;
  // The warning for ReloadSignal= if Type= turns out not to be notify-reload.
  std::optional<Diagnostic> reload_signal_at_;

  // The …IntervalSec=, …Threshold= settings of one probe, kept apart because they may come
  // before the probe's directive (or in another drop-in); FinishProbes() applies them. Each is
  // checked on its own line; unset ones keep ProbeSpec's defaults.
  struct ProbeSettings {
    std::optional<Usec> interval, timeout, initial_delay;
    std::optional<unsigned> failure_threshold, success_threshold;
    // One warning per setting line, reported if the probe itself is not set.
    std::vector<Diagnostic> without_probe;
  };
  std::array<ProbeSettings, 3> probe_settings_;  // by ProbeRole
  std::optional<Diagnostic> min_ready_at_;       // where MinReadySec= > 0 was set
};

// An absolute path: what WorkingDirectory=, EnvironmentFile= and path conditions take.
inline bool IsAbsolutePath(std::string_view p) { return !p.empty() && p[0] == '/'; }

}  // namespace supd
