// DependencyGraph: the units supd knows and the dependencies between them, normalised as
// systemd's unit.c does: each directive adds the forward relation on one unit and the
// reverse one on the other (A Before=B is B After=A; B's [Install]-made link in
// A.wants/ is A Wants=B), plus the implicit dependencies:
//   - a target with DefaultDependencies=yes is After= every unit it Wants=/Requires=/BindsTo=
//     (not if that unit is After= the target already: that would be a loop),
//   - the standard systemd targets (IsStandardTarget) exist even without a file, and are
//     chained as systemd's are (default.target Wants multi-user.target, multi-user.target
//     Requires basic.target, basic.target Requires sysinit.target and Wants sockets.target,
//     timers.target, paths.target); their members come from the .wants/.requires links.
// Ordering cycles (After=/Before=, implicit ones included) are found when the graph is built:
// every unit on a cycle gets the cycle's text; the Manager refuses to start it.
//
// Immutable once built; rebuilt on every load and daemon-reload. Pure: no I/O, no clock.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "lib/supervise/enablement.h"
#include "lib/unit/unit_deps.h"

namespace supd {

// The relations, forward and reverse. kAfter: this unit starts after the other (and stops
// before it); kBefore is its reverse.
enum class Rel {
  kWants, kWantedBy,
  kRequires, kRequiredBy,
  kRequisite, kRequisiteOf,
  kBindsTo, kBoundBy,
  kPartOf, kConsistsOf,
  kConflicts, kConflictedBy,  // symmetric in effect; kept apart for list-dependencies
  kUpholds, kUpheldBy,
  kAfter, kBefore,
};
inline constexpr int kRelCount = 16;
const char* RelName(Rel r);  // the directive: "Wants", "WantedBy", …, "After", "Before"

// systemd's standard targets supd treats as always there (systemd.special(7)): basic.target,
// default.target, multi-user.target, network.target, network-online.target, … .
bool IsStandardTarget(const std::string& name);

// One unit given to Build.
struct GraphUnit {
  std::string name;           // "web.service", "myapp.target", "web.socket"
  const UnitDeps* deps = nullptr;  // null: no [Unit] dependencies (a unit that failed to load)
  bool is_target = false;
};

// An ordering cycle: names in order, the first repeated at the end, and the directive of
// each edge (edges[i] links units[i] to units[i+1], written as the unit that declares it
// says: "After" or "Before"; "After (DefaultDependencies)" for a target's implicit one).
struct OrderingCycle {
  std::vector<std::string> units;
  std::vector<std::string> edges;
  // "ordering cycle: a.service -> b.service -> a.service (a.service After=b.service,
  //  b.service After=a.service)"
  std::string Text() const;
};

class DependencyGraph {
 public:
  DependencyGraph() = default;
  static DependencyGraph Build(const std::vector<GraphUnit>& units, const UnitLinks& links);

  // A unit the graph has: one given to Build, or a standard target (named anywhere or not).
  bool Has(const std::string& unit) const;
  // The units `unit` has relation `r` with (sorted; empty for an unknown unit). Names that
  // are not units (Has() false) are included: the caller decides what a missing unit means.
  const std::set<std::string>& Get(const std::string& unit, Rel r) const;
  // The cycle `unit` is on, if any.
  const OrderingCycle* CycleOf(const std::string& unit) const;
  const std::vector<OrderingCycle>& cycles() const { return cycles_; }
  // Every unit name known (given, standard targets, and names referenced), sorted.
  std::vector<std::string> Names() const;

  // `supctl list-dependencies UNIT [--reverse]`, as systemctl prints it: the units `unit`
  // Requires/Requisite/Wants/BindsTo/PartOf?/Upholds (reverse: RequiredBy/…/WantedBy/BoundBy/
  // ConsistsOf/UpheldBy), recursively; a unit already shown higher up the same branch is
  // not expanded again. Targets are always expanded; other units only when `all`.
  struct Tree {
    std::string name;
    std::vector<Tree> children;
  };
  Tree Dependencies(const std::string& unit, bool reverse, bool all) const;

 private:
  struct Node {
    std::set<std::string> rel[kRelCount];
  };
  std::map<std::string, Node> nodes_;
  std::set<std::string> given_;
  std::vector<OrderingCycle> cycles_;
  std::map<std::string, size_t> cycle_of_;
};

}  // namespace supd
