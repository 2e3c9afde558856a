#include "lib/control/resources_format.h"

#include <fmt/format.h>

#include <map>

#include "lib/control/json_field.h"

namespace supd::control {
namespace {


bool Num(const nlohmann::json& j, const char* key, uint64_t* out) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_unsigned()) return false;
  *out = it->get<uint64_t>();
  return true;
}

}  // namespace

std::string FormatResourceLines(const nlohmann::json& s) {
  auto r = s.find("resources");
  if (r == s.end() || !r->is_object()) return "";
  std::string out;
  if (auto l = r->find("limits"); l != r->end() && l->is_array()) {
    bool first = true;
    for (const auto& one : *l) {
      if (!one.is_object()) continue;
      out += first ? "     Limits: " : "             ";
      first = false;
      out += Str(one, "directive") + "=" + Str(one, "value") + ": ";
      out += one.value("enforced", false) ? "enforced (" + Str(one, "detail") + ")"
                                          : "NOT enforced: " + Str(one, "detail");
      out += "\n";
    }
  }
  if (auto st = r->find("stats"); st != r->end() && st->is_object()) {
    uint64_t cur = 0, peak = 0, cpu = 0, tasks = 0;
    if (Num(*st, "memory_current_bytes", &cur)) {
      out += "     Memory: " + FormatBytes(cur);
      if (Num(*st, "memory_peak_bytes", &peak)) out += " (peak " + FormatBytes(peak) + ")";
      out += "\n";
    }
    if (Num(*st, "cpu_usec", &cpu)) {
      out += fmt::format("        CPU: {:.3f}s\n", static_cast<double>(cpu) / 1e6);
    }
    if (Num(*st, "tasks", &tasks)) out += "      Tasks: " + std::to_string(tasks) + "\n";
  }
  if (auto go = r->find("go_runtime"); go != r->end() && go->is_object()) {
    std::string vars;
    for (const char* which : {"set_by_supd", "from_unit"}) {
      auto m = go->find(which);
      if (m == go->end() || !m->is_object() || m->empty()) continue;
      std::string part;
      for (const auto& [k, v] : m->items())
        part += (part.empty() ? "" : " ") + k + "=" + (v.is_string() ? v.get<std::string>() : "");
      vars += (vars.empty() ? "" : "; ") + part +
              (std::string(which) == "set_by_supd" ? " (set by supd, GoRuntime=auto)"
                                                   : " (from the unit)");
    }
    if (!vars.empty()) out += " Go runtime: " + vars + "\n";
  }
  return out;
}

std::string FormatProcessLines(const nlohmann::json& s) {
  auto p = s.find("process");
  if (p == s.end() || !p->is_object()) return "";
  std::string identity;
  auto add = [](std::string& line, const std::string& item) {
    line += (line.empty() ? "" : " ") + item;
  };
  // What the instance got otherwise than the unit says, by directive: shown in place of the
  // directive ("LimitNOFILE=1048576 clamped to 20000 (no CAP_SYS_RESOURCE)").
  std::map<std::string, std::string> adjusted;
  if (auto a = p->find("adjustments"); a != p->end() && a->is_array())
    for (const auto& one : *a)
      if (one.is_object() && !Str(one, "directive").empty() && !Str(one, "message").empty())
        adjusted[Str(one, "directive")] = Str(one, "message");
  auto item = [&adjusted](const std::string& directive, const std::string& value) {
    auto it = adjusted.find(directive);
    if (it == adjusted.end()) return directive + "=" + value;
    std::string message = it->second;
    adjusted.erase(it);
    return message;
  };
  if (!Str(*p, "user").empty()) add(identity, "User=" + Str(*p, "user"));
  if (!Str(*p, "group").empty()) add(identity, "Group=" + Str(*p, "group"));
  if (auto g = p->find("supplementary_groups"); g != p->end() && g->is_array() && !g->empty()) {
    std::string groups;
    for (const auto& one : *g)
      if (one.is_string()) add(groups, one.get<std::string>());
    add(identity, "SupplementaryGroups=" + groups);
  }
  if (Str(*p, "umask") != "0022" && !Str(*p, "umask").empty())
    add(identity, "UMask=" + Str(*p, "umask"));
  if (auto n = p->find("nice"); n != p->end() && n->is_number_integer())
    add(identity, "Nice=" + std::to_string(n->get<int>()));
  if (auto o = p->find("oom_score_adjust"); o != p->end() && o->is_number_integer())
    add(identity, item("OOMScoreAdjust", std::to_string(o->get<int>())));
  std::string rlimits;
  if (auto l = p->find("limits"); l != p->end() && l->is_object())
    for (const auto& [k, v] : l->items())
      if (v.is_string()) add(rlimits, item(k, v.get<std::string>()));
  // One the unit does not name (never expected): still shown.
  for (const auto& [directive, message] : adjusted)
    add(directive.starts_with("Limit") ? rlimits : identity, message);
  std::string caps;
  if (!Str(*p, "ambient_capabilities").empty())
    add(caps, "AmbientCapabilities=" + Str(*p, "ambient_capabilities"));
  if (auto b = p->find("capability_bounding_set"); b != p->end() && b->is_string())
    add(caps, "CapabilityBoundingSet=" + (b->get<std::string>().empty() ? std::string("(none)")
                                                                         : b->get<std::string>()));
  if (p->value("no_new_privileges", false)) add(caps, "NoNewPrivileges=yes");
  std::string out;
  if (!identity.empty()) out += "   Identity: " + identity + "\n";
  if (!rlimits.empty()) out += "    Rlimits: " + rlimits + "\n";
  if (!caps.empty()) out += "       Caps: " + caps + "\n";
  return out;
}

std::string FormatDaemonStatus(const nlohmann::json& v) {
  std::string out = "● supd " + Str(v, "version");
  if (auto pid = v.find("pid"); pid != v.end() && pid->is_number())
    out += " (pid " + std::to_string(pid->get<long>()) + ")";
  out += "\n";
  if (auto cg = v.find("cgroups"); cg != v.end() && cg->is_object())
    out += "    Cgroups: " + Str(*cg, "summary") + "\n";
  return out;
}

std::string FormatBytes(uint64_t b) {
  static constexpr const char* kUnits[] = {"B", "K", "M", "G", "T", "P", "E"};
  double v = static_cast<double>(b);
  int u = 0;
  while (v >= 1024 && u < 6) {
    v /= 1024;
    ++u;
  }
  return u == 0 ? fmt::format("{:.0f}{}", v, kUnits[u]) : fmt::format("{:.1f}{}", v, kUnits[u]);
}

}  // namespace supd::control
