// A .target unit: a named group of units with no process of its own (systemd.target(5)).
// Plain data, like ServiceSpec.
#pragma once

#include <string>
#include <vector>

#include "lib/unit/unit_deps.h"
#include "lib/unit/unit_loader.h"
#include "lib/unit/unit_syntax.h"

namespace supd {

struct TargetSpec {
  std::string name;         // "myapp.target"
  std::string source_path;  // the unit file
  std::vector<std::string> dropin_paths;
  std::string description;
  std::vector<std::string> documentation;
  UnitDeps deps;
  InstallSection install;
  std::vector<Diagnostic> warnings;
};

// Loads `unit_name` from `path` and its drop-ins (as LoadServiceFile does). [Unit] takes the
// dependency directives of UnitDeps, Description=, Documentation=; other [Unit] keys systemd
// knows are warned with file:line ("units/app.target:4: AllowIsolate= is not supported by supd
// for targets, ignoring"; JobTimeoutSec= and friends as for services); [Install] as for
// services. Unknown keys and any other section are warnings, as for services; a masked (empty
// or /dev/null) file is an error.
[[nodiscard]] Result<TargetSpec> LoadTargetFile(const std::string& path,
                                                const std::string& unit_name,
                                                const SpecifierContext& ctx);
[[nodiscard]] Result<TargetSpec> ParseTargetText(const std::string& text, const std::string& path,
                                                 const std::string& unit_name,
                                                 const SpecifierContext& ctx);

}  // namespace supd
