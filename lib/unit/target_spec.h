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
// knows are warned with file:line ("... is not supported by supd, ignoring"); [Install] as for
// services. Any other section is an error, as for services.
[[nodiscard]] Result<TargetSpec> LoadTargetFile(const std::string& path,
                                                const std::string& unit_name,
                                                const SpecifierContext& ctx);
[[nodiscard]] Result<TargetSpec> ParseTargetText(const std::string& text, const std::string& path,
                                                 const std::string& unit_name,
                                                 const SpecifierContext& ctx);

}  // namespace supd
