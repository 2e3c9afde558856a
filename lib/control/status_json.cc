#include "lib/control/status_json.h"

#include <fmt/format.h>

#include <type_traits>
#include <variant>

#include "lib/control/cause_text.h"
#include "lib/log/service_log.h"
#include "lib/proc/exit_status.h"

namespace supd::control {
namespace {

using nlohmann::json;

json Opt(const std::optional<uint64_t>& v) { return v ? json(*v) : json(nullptr); }
json Str(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }

json Pairs(const std::vector<std::pair<std::string, std::string>>& v) {
  json j = json::object();
  for (const auto& [k, val] : v) j[k] = val;
  return j;
}

json ResourcesJson(const ServiceSnapshot& s) {
  json limits = json::array();
  for (const auto& r : s.limits)
    limits.push_back({{"directive", r.directive},
                      {"value", r.value},
                      {"enforced", r.enforced},
                      {"detail", r.detail}});
  const InstanceStats st = s.stats.value_or(InstanceStats{});
  const GoRuntimeStatus& go = s.go_runtime;
  return {{"mode", CgroupModeName(s.cgroup_mode)},
          {"require_limits", s.spec && s.spec->resources.require_limits},
          {"limits", limits},
          {"stats",
           {{"memory_current_bytes", Opt(st.memory_current)},
            {"memory_peak_bytes", Opt(st.memory_peak)},
            {"cpu_usec", Opt(st.cpu_usec)},
            {"tasks", Opt(st.tasks)}}},
          {"go_runtime",
           {{"mode", go.mode == GoRuntimeMode::kAuto ? "auto" : "off"},
            {"set_by_supd", Pairs(go.set_by_supd)},
            {"from_unit", Pairs(go.from_unit)}}}};
}

// What the unit sets of the processes' identity, rlimits and capabilities; null where it sets
// nothing (limits: only the Limit*= it names); and what the host did not give as asked.
json ProcessJson(const ServiceSnapshot& s) {
  const ServiceSpec& spec = *s.spec;
  const ExecSettings& e = spec.exec;
  json limits = json::object();
  for (int r = 0; r < kResourceLimitCount; ++r)
    if (e.limits[static_cast<size_t>(r)])
      limits[std::string(ResourceLimitDirective(r))] =
          FormatResourceLimit(*e.limits[static_cast<size_t>(r)]);
  json adjustments = json::array();
  for (const ExecAdjustment& a : s.process_adjustments)
    adjustments.push_back({{"directive", a.directive},
                           {"wanted", a.wanted},
                           {"applied", Str(a.applied)},
                           {"reason", a.reason},
                           {"message", a.message}});
  return json{
      {"user", Str(spec.user)},
      {"group", Str(spec.group)},
      {"supplementary_groups", e.supplementary_groups},
      {"limits", std::move(limits)},
      {"umask", fmt::format("{:04o}", static_cast<unsigned>(e.umask))},
      {"nice", e.nice ? json(*e.nice) : json(nullptr)},
      {"oom_score_adjust", e.oom_score_adjust ? json(*e.oom_score_adjust) : json(nullptr)},
      // null: the whole set, as inherited.
      {"capability_bounding_set", e.capability_bounding_set == kAllCapabilities
                                      ? json(nullptr)
                                      : json(FormatCapabilitySet(e.capability_bounding_set))},
      {"ambient_capabilities", FormatCapabilitySet(e.ambient_capabilities)},
      {"no_new_privileges", e.no_new_privileges},
      {"adjustments", std::move(adjustments)},
  };
}

json Warnings(const ServiceSnapshot& s) {
  json w = json::array();
  for (const auto& d : s.spec->warnings) w.push_back(d.ToString());
  if (!s.load_error.empty())
    w.push_back("unit file changed but failed to load; still using the previous version: " +
                s.load_error);
  if (s.changed_on_disk) w.push_back("unit file changed; takes effect at the next start");
  if (!s.log_error.empty()) w.push_back(s.log_error + " (output goes to supd's stderr)");
  for (const auto& o : s.output_warnings) w.push_back(o);
  if (s.log_stats && (s.log_stats->failing || s.log_stats->dropped_lines > 0))
    w.push_back(std::string(s.log_stats->failing ? "log writes failing: "
                                                 : "log writes failed earlier: ") +
                s.log_stats->last_error + " (at " + FormatRfc3339(s.log_stats->last_error_at) +
                "); " + std::to_string(s.log_stats->dropped_lines) + " lines dropped");
  return w;
}

json LastExitJson(const LastExit& le, bool privileged) {
  std::string reason = le.reason;
  if (!le.stop_cause.empty()) reason += " (" + FormatCause(le.stop_cause) + ")";
  return {
      {"pid", le.pid},
      {"code", le.status.exited ? json(le.status.code) : json(nullptr)},
      {"signal", le.status.exited ? json(nullptr) : json(SigName(le.status.signal))},
      {"at", FormatRfc3339(le.at_realtime)},
      {"at_monotonic_usec", le.at_monotonic},
      {"reason", reason},
      // Log content: for privileged peers only, like the log file (0640) and `logs`.
      {"stderr_excerpt", privileged ? json(le.excerpt) : json(nullptr)},
  };
}

const char* ProbeRoleKey(ProbeRole r) {
  switch (r) {
    case ProbeRole::kStartup: return "startup";
    case ProbeRole::kReadiness: return "readiness";
    case ProbeRole::kLiveness: return "liveness";
  }
  return "?";
}

// Each probe: what it asks, its state and its last failure. An exec: probe's output is the
// service's output: for privileged peers only, as the log.
json ProbesJson(const std::vector<ProbeInfo>& probes, bool privileged) {
  json out = json::array();
  for (const ProbeInfo& p : probes) {
    const ProbeStatus& st = p.status;
    json failure = nullptr;
    if (st.last_failure)
      failure = {{"message", st.last_failure->message},
                 {"output", privileged ? json(st.last_failure->output) : json(nullptr)},
                 {"at", FormatRfc3339(st.last_failure->at_realtime)}};
    out.push_back({
        {"role", ProbeRoleKey(p.spec.role)},
        {"directive", ProbeRoleName(p.spec.role)},
        {"target", p.spec.target},
        {"source", p.spec.source},
        {"state", ProbeStateName(st.state)},
        {"running", p.running},
        {"interval_usec", p.spec.interval.count()},
        {"timeout_usec", p.spec.timeout.count()},
        {"consecutive_successes", st.consecutive_successes},
        {"consecutive_failures", st.consecutive_failures},
        {"checks", st.checks},
        {"failures", st.failures},
        {"last_latency_ms",
         st.last_latency ? json(static_cast<double>(st.last_latency->count()) / 1000.0)
                         : json(nullptr)},
        {"last_check", st.last_check_realtime ? json(FormatRfc3339(st.last_check_realtime))
                                              : json(nullptr)},
        {"since", st.since_realtime ? json(FormatRfc3339(st.since_realtime)) : json(nullptr)},
        {"last_failure", failure},
    });
  }
  return out;
}

json LogJson(const ServiceSnapshot& s) {
  if (!s.log_stats) return nullptr;
  const LogWriteStats& st = *s.log_stats;
  return {{"file", s.log_path},
          {"max_bytes", s.spec ? s.spec->log_max_bytes : 0},
          {"max_files", s.spec ? s.spec->log_max_files : 0},
          {"rotations", st.rotations},
          {"write_failing", st.failing},
          {"dropped_lines", st.dropped_lines},
          {"last_write_error", Str(st.last_error)},
          {"last_write_error_at",
           st.last_error.empty() ? json(nullptr) : json(FormatRfc3339(st.last_error_at))}};
}

// A service that never loaded: what there is to say.
json NotLoadedJson(const ServiceSnapshot& s) {
  return {{"name", s.name},
          {"unit_type", "service"},
          {"loaded", false},
          {"unit_path", s.unit_path},
          {"description", ""},
          {"load_error", Str(s.load_error)},
          {"enabled", false},
          {"enable_state", Str(s.enable_state)},
          {"dependency_error", Str(s.dependency_error)},
          {"job", Str(s.job)},
          {"waiting_for", s.waiting_for},
          {"state", "failed"},
          {"sub_state", "not-loaded"},
          {"result", "resources"},
          {"main_pid", nullptr},
          {"control_pid", nullptr},
          {"ready", false},
          {"restarts", 0},
          {"status_text", ""},
          {"since", FormatRfc3339(s.since_realtime)},
          {"last_exit", nullptr},
          {"warnings", json::array()},
          {"cause", s.load_error}};
}

json ListenJson(const SocketSnapshot& s) {
  json listen = json::array();
  for (const auto& b : s.listening) {
    json l = {{"listen", b.identity}, {"name", b.fd_name}};
    if (b.queued) l["queued"] = *b.queued;
    if (b.backlog) l["backlog"] = *b.backlog;
    listen.push_back(std::move(l));
  }
  return listen;
}

}  // namespace

json ServiceJson(const ServiceSnapshot& s, bool privileged) {
  if (!s.loaded) return NotLoadedJson(s);
  json j;
  j["name"] = s.name;
  j["unit_type"] = "service";
  j["loaded"] = true;
  j["unit_path"] = s.unit_path;
  j["description"] = s.spec->description;
  j["load_error"] = Str(s.load_error);
  j["enabled"] = s.enabled;
  j["enable_state"] = Str(s.enable_state);
  j["dependency_error"] = Str(s.dependency_error);
  j["job"] = Str(s.job);
  j["waiting_for"] = s.waiting_for;
  j["state"] = StateName(s.state);
  j["sub_state"] = PhaseName(s.phase);
  j["result"] = ResultName(s.result);
  j["main_pid"] = s.main_pid ? json(*s.main_pid) : json(nullptr);
  j["control_pid"] = s.control_pid ? json(*s.control_pid) : json(nullptr);
  j["ready"] = s.ready;
  j["probes"] = ProbesJson(s.probes, privileged);
  j["restarts"] = s.restarts;
  j["status_text"] = s.status_text;
  if (s.status_errno != 0) {
    const char* name = strerrorname_np(s.status_errno);
    j["status_errno"] = s.status_errno;
    j["status_errno_name"] = name ? name : "";
  }
  j["since"] = FormatRfc3339(s.since_realtime);
  j["since_monotonic_usec"] = s.since_monotonic;
  if (s.watchdog.count() > 0) j["watchdog_usec"] = s.watchdog.count();
  j["cause"] = FormatCause(s.cause);
  j["invocation_id"] = s.invocation_id;
  j["type"] = ServiceTypeName(s.spec->type);
  j["last_exit"] = s.last_exit ? LastExitJson(*s.last_exit, privileged) : json(nullptr);
  j["warnings"] = Warnings(s);
  j["log_file"] = Str(s.log_path);
  j["log"] = LogJson(s);
  j["cgroup"] = Str(s.cgroup);
  j["resources"] = ResourcesJson(s);
  j["process"] = ProcessJson(s);
  // During an overlap restart: the instance still serving, then those being stopped.
  json old = json::array();
  for (const auto& p : s.previous_instances)
    old.push_back({{"pid", p.main_pid ? json(*p.main_pid) : json(nullptr)},
                   {"role", p.draining ? "draining" : "serving until the new instance is ready"}});
  j["previous_instances"] = old;
  json socks = json::array();
  for (const auto& u : s.sockets)
    socks.push_back({{"unit", u.name}, {"listening", ListenJson(u)}, {"error", Str(u.error)}});
  j["sockets"] = socks;
  j["fdstore"] = s.fdstore;
  j["tracking"] = s.cgroup_tracking ? "cgroup" : "process-group (" + s.tracking_error + ")";
  // The log file is 0640: its lines are not for every local user either.
  j["log_tail"] = privileged ? json(s.log_tail) : json::array();
  return j;
}

json SocketJson(const SocketSnapshot& s) {
  json warnings = json::array();
  if (s.spec)
    for (const auto& d : s.spec->warnings) warnings.push_back(d.ToString());
  for (const auto& n : s.notes) warnings.push_back(n);
  if (!s.load_error.empty() && s.spec)
    warnings.push_back("unit file changed but failed to load; still using the previous version: " +
                       s.load_error);
  return {{"name", s.name},
          {"unit_type", "socket"},
          {"loaded", s.spec != nullptr},
          {"unit_path", s.unit_path},
          {"description", s.spec ? s.spec->description : ""},
          {"load_error", Str(s.load_error)},
          {"enabled", s.enabled},
          {"enable_state", Str(s.enable_state)},
          {"state", SocketStateName(s.state)},
          {"sub_state", s.state == SocketState::kListening && s.service_state &&
                                *s.service_state == State::kRunning
                            ? "running"
                            : SocketStateName(s.state)},
          {"since", FormatRfc3339(s.since_realtime)},
          {"error", Str(s.error)},
          {"service", s.service},
          {"service_state", s.service_state ? json(StateName(*s.service_state)) : json(nullptr)},
          {"listening", ListenJson(s)},
          {"activations", s.activations},
          {"warnings", warnings}};
}

json TargetJson(const TargetSnapshot& t) {
  json warnings = json::array();
  if (t.spec)
    for (const auto& d : t.spec->warnings) warnings.push_back(d.ToString());
  if (!t.load_error.empty() && t.spec)
    warnings.push_back("unit file changed but failed to load; still using the previous version: " +
                       t.load_error);
  json members = json::array();
  for (const auto& [unit, state] : t.members) members.push_back({{"unit", unit}, {"state", state}});
  return {{"name", t.name},
          {"unit_type", "target"},
          // A standard target supd has no file for is there all the same, as systemd's is.
          {"loaded", t.spec != nullptr || (t.standard && t.load_error.empty())},
          {"standard", t.standard},
          {"unit_path", t.unit_path},
          {"description", t.spec ? t.spec->description : ""},
          {"load_error", Str(t.load_error)},
          {"enabled", t.enable_state == EnableStateName(EnableState::kEnabled)},
          {"enable_state", Str(t.enable_state)},
          // systemd's words for a target: active (active) or inactive (dead).
          {"state", t.active ? "active" : "inactive"},
          {"sub_state", t.active ? "active" : "dead"},
          {"since", t.since_realtime ? json(FormatRfc3339(t.since_realtime)) : json(nullptr)},
          {"dependency_error", Str(t.dependency_error)},
          {"job", Str(t.job)},
          {"waiting_for", t.waiting_for},
          {"members", std::move(members)},
          {"warnings", std::move(warnings)}};
}

json UnitJson(const UnitSnapshot& u, bool privileged) {
  return std::visit(
      [privileged](const auto& s) -> json {
        using T = std::decay_t<decltype(s)>;
        if constexpr (std::is_same_v<T, ServiceSnapshot>) {
          return ServiceJson(s, privileged);
        } else if constexpr (std::is_same_v<T, SocketSnapshot>) {
          return SocketJson(s);
        } else {
          static_assert(std::is_same_v<T, TargetSnapshot>, "a new kind of unit needs its JSON");
          return TargetJson(s);
        }
      },
      u);
}

json ChangesJson(const std::vector<EnableChange>& changes) {
  json out = json::array();
  for (const auto& c : changes)
    out.push_back({{"created", c.created}, {"path", c.path}, {"target", Str(c.target)}});
  return out;
}

json IsEnabledJson(const std::vector<std::pair<std::string, EnableState>>& states) {
  json units = json::array();
  for (const auto& [unit, state] : states)
    units.push_back({{"unit", unit}, {"state", EnableStateName(state)}});
  return {{"units", std::move(units)}};
}

json DependencyJson(const Manager::DependencyNode& node) {
  json children = json::array();
  for (const auto& c : node.children) children.push_back(DependencyJson(c));
  return {{"unit", node.name}, {"state", node.state}, {"children", std::move(children)}};
}

json DaemonJson(const DaemonSnapshot& d) {
  json controllers = json::object();
  for (const auto& [name, p] : d.controllers) {
    json c;
    switch (p.where) {
      case ControllerPlace::Where::kV2: c["where"] = "v2"; break;
      case ControllerPlace::Where::kV1:
        c["where"] = "v1";
        c["path"] = p.v1_tree;
        break;
      case ControllerPlace::Where::kNone:
        c["where"] = "none";
        c["reason"] = p.reason;
        break;
    }
    controllers[name] = c;
  }
  return {{"version", SUPD_VERSION},
          {"pid", d.pid},
          {"system_state", SystemStateName(d.system_state)},
          {"cgroups",
           {{"mode", CgroupModeName(d.cgroup_mode)},
            {"summary", d.cgroup_summary},
            {"controllers", controllers}}}};
}

json CheckJson(const std::vector<UnitCheck>& units) {
  json out = json::array();
  for (const auto& u : units) {
    out.push_back({{"name", u.name},
                   {"path", u.path},
                   {"error", Str(u.error)},
                   {"warnings", u.warnings},
                   {"limits", u.limit_notes},
                   {"notes", u.notes}});
  }
  return out;
}

}  // namespace supd::control
