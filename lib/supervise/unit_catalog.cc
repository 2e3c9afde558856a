#include "lib/supervise/unit_catalog.h"

#include <filesystem>
#include <spdlog/spdlog.h>

#include "lib/unit/socket_loader.h"
#include "lib/unit/specifiers.h"
#include "lib/unit/target_spec.h"
#include "lib/unit/unit_trust.h"

namespace supd {
namespace fs = std::filesystem;

UnitCatalog::UnitCatalog(std::string units_dir, SpecifierContext specifiers, uid_t euid,
                         std::optional<gid_t> trusted_group)
    : dir_(std::move(units_dir)),
      specifiers_(std::move(specifiers)),
      euid_(euid),
      trusted_group_(trusted_group) {}

std::set<std::string> UnitCatalog::Scan(const std::string& suffix) const {
  std::set<std::string> names;
  std::error_code ec;
  fs::directory_iterator it(dir_, ec);
  if (ec) {
    spdlog::error("read units directory {}: {}", dir_, ec.message());
    return names;
  }
  for (const fs::directory_entry& e : it) {
    std::string n = e.path().filename().string();
    if (!n.ends_with(suffix)) continue;
    if (!IsValidUnitName(n)) continue;
    std::error_code sec;
    // Follows symlinks: a link to a unit file is that unit, a link to a directory is not.
    if (e.is_directory(sec)) continue;
    if (sec) {
      spdlog::error("{}: {}", e.path().string(), sec.message());
      continue;
    }
    names.insert(std::move(n));
  }
  return names;
}

std::set<std::string> UnitCatalog::ScanServices() const { return Scan(".service"); }
std::set<std::string> UnitCatalog::ScanSockets() const { return Scan(".socket"); }
std::set<std::string> UnitCatalog::ScanTargets() const {
  // Scan() takes no directory, so "x.target.wants/" is not a unit even where it is named
  // "x.target"; templates are never units themselves.
  std::set<std::string> names = Scan(".target");
  std::erase_if(names, [](const std::string& n) { return !IsTargetName(n); });
  return names;
}

bool UnitCatalog::IsTemplate(const std::string& name) { return name.ends_with("@.service"); }
bool UnitCatalog::IsSocketName(const std::string& name) { return name.ends_with(".socket"); }
bool UnitCatalog::IsTargetName(const std::string& name) {
  return name.ends_with(".target") && IsValidUnitName(name) && !SplitUnitName(name).is_template;
}

std::string UnitCatalog::ServicePath(const std::string& name) const {
  const std::string tmpl = TemplateNameOf(name);
  return dir_ + "/" + (tmpl.empty() ? name : tmpl);
}

bool UnitCatalog::InstanceHasTemplate(const std::string& name) const {
  if (TemplateNameOf(name).empty() || IsTemplate(name)) return false;
  std::error_code ec;
  return fs::exists(ServicePath(name), ec);
}

// Loads `name` from `path` with `load` (LoadServiceFile, …) and checks who may write its files.
template <typename Spec, typename LoadFn>
LoadedUnit<Spec> UnitCatalog::LoadChecked(const std::string& name, const std::string& path,
                                          LoadFn load) const {
  LoadedUnit<Spec> out;
  out.path = path;
  auto r = load(out.path, name, specifiers_);
  if (r.ok()) {
    if (auto trust = CheckUnitFilesTrust(r->source_path, r->dropin_paths, euid_, trusted_group_);
        !trust.ok())
      r = trust.take_error();
  }
  if (!r.ok()) {
    out.error = r.error().message;
    return out;
  }
  out.spec = std::make_shared<const Spec>(std::move(r).value());
  return out;
}

LoadedUnit<ServiceSpec> UnitCatalog::LoadService(const std::string& name) const {
  return LoadChecked<ServiceSpec>(name, ServicePath(name), LoadServiceFile);
}

LoadedUnit<SocketSpec> UnitCatalog::LoadSocket(const std::string& name) const {
  return LoadChecked<SocketSpec>(name, dir_ + "/" + name, LoadSocketFile);
}

LoadedUnit<TargetSpec> UnitCatalog::LoadTarget(const std::string& name) const {
  return LoadChecked<TargetSpec>(name, dir_ + "/" + name, LoadTargetFile);
}

}  // namespace supd
