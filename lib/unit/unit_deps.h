// The dependency and ordering directives of a unit's [Unit] section, and its [Install] section:
// plain data shared by every unit type supd loads (.service, .target; .socket keeps [Install]).
//
// Names are as written after specifiers (validated unit names, in order, duplicates kept once).
// What they mean at run time is lib/supervise/dependency_graph.h and the Manager's jobs.
#pragma once

#include <string>
#include <vector>

namespace supd {

struct UnitDeps {
  std::vector<std::string> after, before;  // ordering (After=, Before=)
  std::vector<std::string> wants;          // Wants=: pulled in, failure ignored
  std::vector<std::string> requires_;      // Requires=
  std::vector<std::string> requisite;      // Requisite=: must already be active
  std::vector<std::string> binds_to;       // BindsTo=
  std::vector<std::string> part_of;        // PartOf=
  std::vector<std::string> conflicts;      // Conflicts=
  std::vector<std::string> upholds;        // Upholds=
  bool default_dependencies = true;        // DefaultDependencies=
  bool stop_when_unneeded = false;         // StopWhenUnneeded=
};

// [Install]: what `supctl enable` does (lib/supervise/enablement.h).
struct InstallSection {
  std::vector<std::string> wanted_by;    // WantedBy=
  std::vector<std::string> required_by;  // RequiredBy=
  std::vector<std::string> aliases;      // Alias=
  std::vector<std::string> also;         // Also=: enabled/disabled together with this one
  std::string default_instance;          // DefaultInstance= (templates)
  bool empty() const {
    return wanted_by.empty() && required_by.empty() && aliases.empty() && also.empty();
  }
};

}  // namespace supd
