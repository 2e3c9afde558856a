#include "lib/cgroup/resource_status.h"

namespace supd {
namespace {

nlohmann::json Opt(const std::optional<uint64_t>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

nlohmann::json Pairs(const std::vector<std::pair<std::string, std::string>>& v) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [k, val] : v) j[k] = val;
  return j;
}

}  // namespace

nlohmann::json ResourceHostJson(const ResourceControl& rc) {
  nlohmann::json controllers = nlohmann::json::object();
  for (const auto& [name, p] : rc.controllers()) {
    nlohmann::json c;
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
  return {{"mode", CgroupModeName(rc.mode())}, {"summary", rc.Summary()},
          {"controllers", controllers}};
}

nlohmann::json ServiceResourcesJson(const ResourceControl& rc, const std::string& v2_dir,
                                    const std::vector<LimitReport>& limits, bool require_limits,
                                    const GoRuntimeStatus& go) {
  nlohmann::json l = nlohmann::json::array();
  for (const auto& r : limits)
    l.push_back({{"directive", r.directive},
                 {"value", r.value},
                 {"enforced", r.enforced},
                 {"detail", r.detail}});
  const InstanceStats st = rc.Stats(v2_dir);
  return {{"mode", CgroupModeName(rc.mode())},
          {"require_limits", require_limits},
          {"limits", l},
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

}  // namespace supd
