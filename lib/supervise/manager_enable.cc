// Enablement in the Manager: presets on the first start, the enablement word of a unit, and
// the public enable/disable/is-enabled/list-dependencies (the links themselves:
// lib/supervise/enablement.h; the graph they feed: manager_deps.cc).
#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <functional>

#include "lib/supervise/manager_impl.h"
#include "lib/supervise/socket_units.h"

namespace supd {

// ---------------------------------------------------------------- enablement

std::string Manager::Impl::EnableStateWord(const std::string& name) {
  const InstallSection* install = InstallOf(name);
  static const InstallSection kNone;
  bool masked = false;
  if (Service* s = Find(name); s && !s->spec)
    masked = s->load_error.find("is masked") != std::string::npos;
  return EnableStateName(EnableStateOf(name, install ? *install : kNone, links, masked));
}

// systemd applies presets (enable what [Install] names) on a machine's first boot; supd does
// so on the first start on a state directory, which is also what every supd before the
// enablement links did: start what has [Install] WantedBy=.
void Manager::Impl::ApplyPresets() {
  const std::string marker = config.state_dir + "/presets-applied";
  std::error_code ec;
  if (config.state_dir.empty() || std::filesystem::exists(marker, ec)) return;
  std::vector<std::string> names;
  for (auto& [n, s] : services)
    if (!s->is_instance) names.push_back(n);
  for (const auto& n : sockets->Names()) names.push_back(n);
  for (auto& [n, t] : targets)
    if (t.spec) names.push_back(n);
  const UnitLinks before = ScanLinks(config.units_dir);
  for (const auto& n : names) {
    const InstallSection* install = InstallOf(n);
    if (!install || (install->wanted_by.empty() && install->required_by.empty())) continue;
    if (EnableStateOf(n, *install, before, false) != EnableState::kDisabled) continue;
    auto changes = EnableUnit(config.units_dir, n, *install);
    if (changes.ok()) {
      for (const auto& c : *changes) spdlog::info("preset: {}", c.Text());
      continue;
    }
    spdlog::warn("preset: {}; {} is enabled for this run only", changes.error().message, n);
    for (const auto& t : install->wanted_by) preset_links.wants[t].insert(n);
    for (const auto& t : install->required_by) preset_links.requires_[t].insert(n);
  }
  std::ofstream(marker) << "enablement presets applied on first start; delete to apply again\n";
}

namespace {

// "web" → "web.service"; instances and aliases are canonical already or resolved by the caller.
std::string UnitNameOf(const std::string& unit) {
  return unit.find('.') == std::string::npos ? unit + ".service" : unit;
}

}  // namespace

Result<std::vector<EnableChange>> Manager::Enable(const std::vector<std::string>& units) {
  Impl& m = *impl_;
  std::vector<EnableChange> all;
  std::vector<std::string> queue;
  for (const auto& u : units) queue.push_back(UnitNameOf(u));
  std::set<std::string> seen;
  Result<void> failed = Ok();
  for (size_t i = 0; i < queue.size(); ++i) {
    const std::string name = queue[i];
    if (!seen.insert(name).second) continue;
    if (!m.UnitExists(name) && !m.catalog.InstanceHasTemplate(name)) {
      failed = Error{"Unit " + name + " not found (no unit file in " + m.config.units_dir + ")"};
      break;
    }
    if (!m.UnitExists(name)) (void)m.ResolveTarget(name, /*create_instance=*/true);
    const InstallSection* install = m.InstallOf(name);
    if (!install) {
      failed = Error{name + " failed to load; fix it first (supctl check)"};
      break;
    }
    auto changes = EnableUnit(m.config.units_dir, name, *install);
    if (!changes.ok()) {
      failed = changes.take_error();
      break;
    }
    all.insert(all.end(), changes->begin(), changes->end());
    for (const auto& also : install->also) queue.push_back(also);  // Also=: enabled with it
  }
  m.RebuildGraph();
  if (!failed.ok()) {
    std::string text = failed.error().message;
    for (const auto& c : all) text += "\n" + c.Text();
    return Error{text};
  }
  return all;
}

Result<std::vector<EnableChange>> Manager::Disable(const std::vector<std::string>& units) {
  Impl& m = *impl_;
  std::vector<EnableChange> all;
  std::vector<std::string> queue;
  for (const auto& u : units) queue.push_back(UnitNameOf(u));
  std::set<std::string> seen;
  Result<void> failed = Ok();
  for (size_t i = 0; i < queue.size(); ++i) {
    const std::string name = queue[i];
    if (!seen.insert(name).second) continue;
    static const InstallSection kNone;
    const InstallSection* install = m.InstallOf(name);
    if (!install && !m.UnitExists(name) && !m.links.Linked(name)) {
      failed = Error{"Unit " + name + " not found (no unit file in " + m.config.units_dir + ")"};
      break;
    }
    auto changes = DisableUnit(m.config.units_dir, name, install ? *install : kNone);
    if (!changes.ok()) {
      failed = changes.take_error();
      break;
    }
    all.insert(all.end(), changes->begin(), changes->end());
    for (auto* l : {&m.preset_links.wants, &m.preset_links.requires_})
      for (auto& [t, set] : *l) set.erase(name);
    if (install)
      for (const auto& also : install->also) queue.push_back(also);
  }
  m.RebuildGraph();
  if (!failed.ok()) {
    std::string text = failed.error().message;
    for (const auto& c : all) text += "\n" + c.Text();
    return Error{text};
  }
  return all;
}

Result<std::vector<std::pair<std::string, EnableState>>> Manager::IsEnabled(
    const std::vector<std::string>& units) {
  Impl& m = *impl_;
  std::vector<std::pair<std::string, EnableState>> out;
  for (const auto& u : units) {
    const std::string name = UnitNameOf(u);
    if (m.links.aliases.count(name)) {
      out.emplace_back(name, EnableState::kAlias);
      continue;
    }
    if (!m.UnitExists(name) && !m.catalog.InstanceHasTemplate(name))
      return Error{"Unit " + name + " not found."};
    if (!m.UnitExists(name)) (void)m.ResolveTarget(name, /*create_instance=*/true);
    static const InstallSection kNone;
    const InstallSection* install = m.InstallOf(name);
    bool masked = false;
    if (Service* s = m.Find(name); s && !s->spec)
      masked = s->load_error.find("is masked") != std::string::npos;
    out.emplace_back(name, EnableStateOf(name, install ? *install : kNone, m.links, masked));
  }
  return out;
}

Result<Manager::DependencyNode> Manager::ListDependencies(const std::string& unit, bool reverse,
                                                          bool all) {
  Impl& m = *impl_;
  auto t = m.ResolveTarget(unit, false);
  std::string name;
  if (t.ok()) {
    name = t->name;
  } else if (IsStandardTarget(UnitNameOf(unit))) {
    name = UnitNameOf(unit);
  } else {
    return t.take_error();
  }
  std::function<DependencyNode(const DependencyGraph::Tree&)> convert =
      [&](const DependencyGraph::Tree& tree) {
        DependencyNode n;
        n.name = tree.name;
        n.state = m.StateWord(tree.name);
        for (const auto& c : tree.children) n.children.push_back(convert(c));
        return n;
      };
  return convert(m.graph.Dependencies(name, reverse, all));
}

}  // namespace supd
