// UnitCatalog: the units directory as supd reads it — which unit files there are, and each one
// loaded (parsed, drop-ins applied, trust checked: lib/unit/unit_trust.h) into a spec.
//
// Names: "web.service", "worker@.service" (a template: never a unit itself, its instances
// "worker@3.service" load from it), "web.socket". Invalid names and directories are skipped.
// A unit that does not load yields its error (with file:line), never an exception.
//
// Not responsible for: what a loaded unit means at run time (the Manager, SocketUnits). Reads
// small files on the calling thread (the loop), as the unit loader does.
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <set>
#include <string>

#include "lib/unit/socket_spec.h"
#include "lib/unit/target_spec.h"
#include "lib/unit/unit_loader.h"

namespace supd {

template <typename Spec>
struct LoadedUnit {
  std::shared_ptr<const Spec> spec;  // null on failure
  std::string error;                 // why it did not load ("" when it did)
  std::string path;                  // the file it was (or would be) read from
};

class UnitCatalog {
 public:
  // `trusted_group`: besides root's, the group that may have write access to unit files.
  UnitCatalog(std::string units_dir, SpecifierContext specifiers, uid_t euid,
              std::optional<gid_t> trusted_group);

  const std::string& dir() const { return dir_; }

  // File names of the units directory: services (templates included) and socket units.
  // An unreadable directory reads as empty (and is logged once per call).
  std::set<std::string> ScanServices() const;
  std::set<std::string> ScanSockets() const;
  // Target unit files ("myapp.target"; templates are skipped). The .wants/.requires
  // directories are not units (lib/supervise/enablement.h reads them).
  std::set<std::string> ScanTargets() const;

  // Where a service's unit file is: its own file, or its template's for an instance.
  std::string ServicePath(const std::string& name) const;
  // Whether the template file of an instance name exists (worker@3.service → worker@.service).
  bool InstanceHasTemplate(const std::string& name) const;

  LoadedUnit<ServiceSpec> LoadService(const std::string& name) const;
  LoadedUnit<SocketSpec> LoadSocket(const std::string& name) const;
  LoadedUnit<TargetSpec> LoadTarget(const std::string& name) const;

  static bool IsTemplate(const std::string& name);  // "x@.service"
  static bool IsSocketName(const std::string& name);
  static bool IsTargetName(const std::string& name);

 private:
  std::set<std::string> Scan(const std::string& suffix) const;
  template <typename Spec, typename LoadFn>
  LoadedUnit<Spec> LoadChecked(const std::string& name, const std::string& path, LoadFn load) const;

  std::string dir_;
  SpecifierContext specifiers_;
  uid_t euid_;
  std::optional<gid_t> trusted_group_;
};

}  // namespace supd
