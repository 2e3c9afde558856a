// DependencyGraph: the normalisation of systemd's unit.c (unit_add_dependency adds a relation
// and its inverse; unit_add_default_target_dependency gives targets their implicit After=),
// ordering cycles by Tarjan's strongly connected components, and systemctl's
// list-dependencies tree (src/systemctl/systemctl-list-dependencies.c).
#include "lib/supervise/dependency_graph.h"

#include <strings.h>

#include <algorithm>
#include <array>
#include <deque>
#include <string_view>
#include <utility>

namespace supd {

namespace {

// systemd.special(7)'s targets (templates such as blockdev@.target left out).
constexpr std::string_view kStandardTargets[] = {
    "basic.target",
    "bluetooth.target",
    "boot-complete.target",
    "cryptsetup-pre.target",
    "cryptsetup.target",
    "ctrl-alt-del.target",
    "default.target",
    "emergency.target",
    "exit.target",
    "factory-reset.target",
    "final.target",
    "first-boot-complete.target",
    "getty-pre.target",
    "getty.target",
    "graphical.target",
    "halt.target",
    "hibernate.target",
    "hybrid-sleep.target",
    "initrd-fs.target",
    "initrd-root-device.target",
    "initrd-root-fs.target",
    "initrd-switch-root.target",
    "initrd-usr-fs.target",
    "initrd.target",
    "integritysetup-pre.target",
    "integritysetup.target",
    "kbrequest.target",
    "kexec.target",
    "local-fs-pre.target",
    "local-fs.target",
    "machines.target",
    "multi-user.target",
    "network-online.target",
    "network-pre.target",
    "network.target",
    "nss-lookup.target",
    "nss-user-lookup.target",
    "paths.target",
    "poweroff.target",
    "printer.target",
    "reboot.target",
    "remote-cryptsetup.target",
    "remote-fs-pre.target",
    "remote-fs.target",
    "remote-veritysetup.target",
    "rescue.target",
    "rpcbind.target",
    "runlevel0.target",
    "runlevel1.target",
    "runlevel2.target",
    "runlevel3.target",
    "runlevel4.target",
    "runlevel5.target",
    "runlevel6.target",
    "shutdown.target",
    "sigpwr.target",
    "sleep.target",
    "slices.target",
    "smartcard.target",
    "sockets.target",
    "soft-reboot.target",
    "sound.target",
    "ssh-access.target",
    "suspend-then-hibernate.target",
    "suspend.target",
    "swap.target",
    "sysinit.target",
    "system-update-pre.target",
    "system-update.target",
    "time-set.target",
    "time-sync.target",
    "timers.target",
    "tpm2.target",
    "umount.target",
    "usb-gadget.target",
    "veritysetup-pre.target",
    "veritysetup.target",
};

// The standard targets' own dependencies, as systemd's unit files for them say, used when the
// units directory has no file for the target. Their members come from .wants/.requires links.
struct BuiltinTarget {
  std::string_view name;
  std::vector<std::string_view> wants, requires_, after;
};

const std::vector<BuiltinTarget>& BuiltinTargets() {
  static const std::vector<BuiltinTarget> targets = {
      {"default.target", {"multi-user.target"}, {}, {}},
      {"multi-user.target", {}, {"basic.target"}, {"basic.target"}},
      {"basic.target",
       {"sockets.target", "timers.target", "paths.target", "slices.target"},
       {"sysinit.target"},
       {"sysinit.target", "sockets.target", "timers.target", "paths.target", "slices.target"}},
      {"sysinit.target",
       {"local-fs.target", "swap.target"},
       {},
       {"local-fs.target", "swap.target"}},
  };
  return targets;
}

int Index(Rel r) { return static_cast<int>(r); }

// The enum pairs each relation with its inverse: kWants/kWantedBy, …, kAfter/kBefore.
static_assert(kRelCount == static_cast<int>(Rel::kBefore) + 1 &&
              static_cast<int>(Rel::kAfter) % 2 == 0);
Rel Inverse(Rel r) { return static_cast<Rel>(Index(r) ^ 1); }

bool IsTargetName(const std::string& name) {
  constexpr std::string_view kSuffix = ".target";
  return name.size() > kSuffix.size() &&
         name.compare(name.size() - kSuffix.size(), kSuffix.size(), kSuffix) == 0;
}

// What made `a` After `b`, best explanation first: a's own After=, b's Before=, or the implicit
// one of a target (a).
enum class Origin { kAfter, kBefore, kDefault };

const char* OriginWord(Origin o) {
  switch (o) {
    case Origin::kAfter:
      return "After";
    case Origin::kBefore:
      return "Before";
    case Origin::kDefault:
      return "After (DefaultDependencies)";
  }
  return "After";
}

using RelSets = std::array<std::set<std::string>, kRelCount>;

// The relations collected while building, and why each After edge is there.
struct Collector {
  std::map<std::string, RelSets> rels;
  std::map<std::pair<std::string, std::string>, Origin> after_origin;  // (a, b): a After b

  void Add(const std::string& from, Rel r, const std::string& to, Origin origin) {
    rels[from];
    rels[to];
    // systemd drops a unit's dependencies on itself (unit_add_dependency). An ordering one is
    // kept: it is the smallest ordering cycle, and supd refuses cycles rather than ignore them.
    if (from == to && r != Rel::kAfter && r != Rel::kBefore) return;
    rels[from][Index(r)].insert(to);
    rels[to][Index(Inverse(r))].insert(from);
    if (r == Rel::kAfter || r == Rel::kBefore) {
      auto key = r == Rel::kAfter ? std::pair(from, to) : std::pair(to, from);
      auto [it, inserted] = after_origin.emplace(std::move(key), origin);
      if (!inserted) it->second = std::min(it->second, origin);
    }
  }
  void AddAll(const std::string& from, Rel r, const std::vector<std::string>& to) {
    const Origin origin = r == Rel::kBefore ? Origin::kBefore : Origin::kAfter;
    for (const auto& t : to) Add(from, r, t, origin);
  }
  void AddDeps(const std::string& name, const UnitDeps& d) {
    AddAll(name, Rel::kAfter, d.after);
    AddAll(name, Rel::kBefore, d.before);
    AddAll(name, Rel::kWants, d.wants);
    AddAll(name, Rel::kRequires, d.requires_);
    AddAll(name, Rel::kRequisite, d.requisite);
    AddAll(name, Rel::kBindsTo, d.binds_to);
    AddAll(name, Rel::kPartOf, d.part_of);
    AddAll(name, Rel::kConflicts, d.conflicts);
    AddAll(name, Rel::kUpholds, d.upholds);
  }
  void AddBuiltin(const BuiltinTarget& t) {
    const std::string name(t.name);
    rels[name];
    for (auto w : t.wants) Add(name, Rel::kWants, std::string(w), Origin::kAfter);
    for (auto r : t.requires_) Add(name, Rel::kRequires, std::string(r), Origin::kAfter);
    for (auto a : t.after) Add(name, Rel::kAfter, std::string(a), Origin::kAfter);
  }
};

// Whether a unit is loaded with DefaultDependencies=yes, for systemd's
// unit_add_default_target_dependency (both ends must be). A unit given without deps has no
// [Unit] section of its own (a socket) and so keeps the default; a name that is neither given
// nor a standard target is not loaded, and gets no implicit edge (as systemd's not-found units).
struct DefaultDepsOf {
  const std::map<std::string, const GraphUnit*>& given;
  bool operator()(const std::string& name) const {
    auto it = given.find(name);
    if (it == given.end()) return IsStandardTarget(name);
    return it->second->deps == nullptr || it->second->deps->default_dependencies;
  }
};

// target.c's target_add_default_dependencies: a target is After= what it pulls in
// (systemd's UNIT_ATOM_ADD_DEFAULT_TARGET_DEPENDENCY_QUEUE: Requires=, Requisite=, Wants=,
// BindsTo=, PartOf=, Upholds=) unless that unit is After= the target already. Targets are
// taken in name order, so which edge of a would-be loop is left out does not depend on the
// order units were given in.
void AddTargetDefaultDependencies(Collector& c,
                                  const std::map<std::string, const GraphUnit*>& given) {
  const DefaultDepsOf default_deps{given};
  std::vector<std::string> targets;
  for (const auto& [name, sets] : c.rels) {
    auto it = given.find(name);
    const bool is_target = it != given.end() ? it->second->is_target : IsStandardTarget(name);
    if (is_target && default_deps(name)) targets.push_back(name);
  }
  for (const auto& t : targets) {
    std::set<std::string> pulled;
    for (Rel r : {Rel::kRequires, Rel::kRequisite, Rel::kWants, Rel::kBindsTo, Rel::kPartOf,
                  Rel::kUpholds}) {
      const auto& s = c.rels[t][Index(r)];
      pulled.insert(s.begin(), s.end());
    }
    for (const auto& u : pulled) {
      if (!default_deps(u) || c.rels[t][Index(Rel::kBefore)].count(u) != 0) continue;
      c.Add(t, Rel::kAfter, u, Origin::kDefault);
    }
  }
}

// Tarjan's strongly connected components of `adj`, iteratively (a long After= chain must not
// exhaust the stack).
std::vector<std::vector<size_t>> StronglyConnected(const std::vector<std::vector<size_t>>& adj) {
  constexpr size_t kUnvisited = static_cast<size_t>(-1);
  const size_t n = adj.size();
  std::vector<size_t> order(n, kUnvisited), low(n, 0);
  std::vector<bool> on_stack(n, false);
  std::vector<size_t> stack;
  std::vector<std::pair<size_t, size_t>> calls;  // (node, next edge to follow)
  std::vector<std::vector<size_t>> components;
  size_t next = 0;
  auto visit = [&](size_t v) {
    order[v] = low[v] = next++;
    stack.push_back(v);
    on_stack[v] = true;
    calls.emplace_back(v, 0);
  };
  for (size_t root = 0; root < n; ++root) {
    if (order[root] != kUnvisited) continue;
    visit(root);
    while (!calls.empty()) {
      const size_t v = calls.back().first;
      if (calls.back().second < adj[v].size()) {
        const size_t w = adj[v][calls.back().second++];
        if (order[w] == kUnvisited) {
          visit(w);
        } else if (on_stack[w]) {
          low[v] = std::min(low[v], order[w]);
        }
        continue;
      }
      calls.pop_back();
      if (!calls.empty()) low[calls.back().first] = std::min(low[calls.back().first], low[v]);
      if (low[v] != order[v]) continue;
      std::vector<size_t> component;
      size_t w = kUnvisited;
      while (w != v) {
        w = stack.back();
        stack.pop_back();
        on_stack[w] = false;
        component.push_back(w);
      }
      components.push_back(std::move(component));
    }
  }
  return components;
}

// The shortest cycle from `start` back to itself through `members` (sorted), by breadth-first
// search in adjacency order, so the same graph always prints the same cycle. A unit After=
// itself is its own cycle; in a larger component its self-edge is passed over for the path
// through the others.
std::vector<size_t> CycleThrough(size_t start, const std::vector<size_t>& members,
                                 const std::vector<std::vector<size_t>>& adj) {
  if (members.size() == 1) return {start, start};
  std::map<size_t, size_t> parent;  // visited node → the node it was reached from
  std::deque<size_t> queue{start};
  parent[start] = start;
  while (!queue.empty()) {
    const size_t v = queue.front();
    queue.pop_front();
    for (size_t w : adj[v]) {
      if (w == start && v != start) {
        std::vector<size_t> path{start};
        for (size_t x = v; x != start; x = parent[x]) path.push_back(x);
        std::reverse(path.begin() + 1, path.end());
        path.push_back(start);
        return path;
      }
      if (!std::binary_search(members.begin(), members.end(), w) || parent.count(w) != 0) {
        continue;
      }
      parent[w] = v;
      queue.push_back(w);
    }
  }
  return {start, start};  // not reached: every member of a component lies on a cycle
}

// The ordering cycles of the After relation: one for each strongly connected component of
// more than one unit, or of one unit After= itself; the cycle starts at the component's
// smallest name. `members` gets each cycle's whole component (not only the units printed).
std::vector<OrderingCycle> FindCycles(const Collector& c,
                                      std::vector<std::vector<std::string>>* members) {
  std::vector<const std::string*> names;
  std::map<std::string_view, size_t> index;
  for (const auto& [name, sets] : c.rels) {
    index.emplace(name, names.size());
    names.push_back(&name);
  }
  std::vector<std::vector<size_t>> adj(names.size());
  for (size_t v = 0; v < names.size(); ++v) {
    for (const auto& w : c.rels.at(*names[v])[Index(Rel::kAfter)]) adj[v].push_back(index.at(w));
  }
  std::vector<std::vector<size_t>> components = StronglyConnected(adj);
  // Indexes follow name order: sorting a component puts its smallest name first.
  for (auto& comp : components) std::sort(comp.begin(), comp.end());
  std::sort(components.begin(), components.end());
  std::vector<OrderingCycle> cycles;
  for (const auto& comp : components) {
    const size_t start = comp.front();
    const bool self = std::binary_search(adj[start].begin(), adj[start].end(), start);
    if (comp.size() == 1 && !self) continue;
    OrderingCycle cycle;
    const std::vector<size_t> path = CycleThrough(start, comp, adj);
    for (size_t i = 0; i < path.size(); ++i) {
      cycle.units.push_back(*names[path[i]]);
      if (i == 0) continue;
      const Origin o = c.after_origin.at({*names[path[i - 1]], *names[path[i]]});
      cycle.edges.emplace_back(OriginWord(o));
    }
    cycles.push_back(std::move(cycle));
    std::vector<std::string>& m = members->emplace_back();
    for (size_t v : comp) m.push_back(*names[v]);
  }
  return cycles;
}

std::string EdgeText(const std::string& from, const std::string& edge, const std::string& to) {
  if (edge == "Before") return to + " Before=" + from;
  if (edge == "After") return from + " After=" + to;
  if (edge == "After (DefaultDependencies)") {
    return from + " After=" + to + " (DefaultDependencies)";
  }
  return from + " " + edge + "=" + to;
}

// systemctl's order for list-dependencies: targets after other units, then by name ignoring
// case (list_dependencies_compare); the plain name breaks ties so the order is total.
bool ListOrder(const std::string& a, const std::string& b) {
  const bool ta = IsTargetName(a), tb = IsTargetName(b);
  if (ta != tb) return tb;
  const int c = strcasecmp(a.c_str(), b.c_str());
  return c != 0 ? c < 0 : a < b;
}

// The tree of list-dependencies. A unit on the path from the root is shown as a leaf (systemctl
// prints "..." for it) so a cycle of requirements ends. The tree repeats shared subtrees as
// systemctl does, which grows exponentially with the depth of a dense graph: past kMaxNodes
// nodes nothing more is added, so a request cannot exhaust the daemon's memory or time. The
// walk keeps its own stack: a long chain of targets must not exhaust the thread's.
class TreeWalker {
 public:
  static constexpr size_t kMaxNodes = 50000;

  TreeWalker(const DependencyGraph& g, bool reverse, bool all)
      : g_(g), reverse_(reverse), all_(all) {}

  void Walk(DependencyGraph::Tree& root) {
    size_t nodes = 1;
    Open(root);
    while (!stack_.empty()) {
      Frame& f = stack_.back();
      if (f.next == f.children.size() || nodes >= kMaxNodes) {
        path_.erase(f.node->name);
        stack_.pop_back();
        continue;
      }
      ++nodes;
      // Open() reserved the children: this reference stays valid while the child is walked.
      DependencyGraph::Tree& child =
          f.node->children.emplace_back(DependencyGraph::Tree{std::move(f.children[f.next++]), {}});
      if (path_.count(child.name) == 0 && (all_ || IsTargetName(child.name))) Open(child);
    }
  }

 private:
  struct Frame {
    DependencyGraph::Tree* node;
    std::vector<std::string> children;  // sorted, still to add from `next` on
    size_t next = 0;
  };

  void Open(DependencyGraph::Tree& node) {
    std::vector<std::string> children;
    for (Rel r : Rels()) {
      const auto& s = g_.Get(node.name, r);
      children.insert(children.end(), s.begin(), s.end());
    }
    std::sort(children.begin(), children.end(), ListOrder);
    children.erase(std::unique(children.begin(), children.end()), children.end());
    node.children.reserve(children.size());
    path_.insert(node.name);
    stack_.push_back({&node, std::move(children), 0});
  }

  // systemctl-list-dependencies.c's properties for each direction.
  std::array<Rel, 6> Rels() const {
    if (reverse_) {
      return {Rel::kRequiredBy, Rel::kRequisiteOf, Rel::kWantedBy,
              Rel::kPartOf,     Rel::kBoundBy,     Rel::kUpheldBy};
    }
    return {Rel::kRequires,   Rel::kRequisite, Rel::kWants,
            Rel::kConsistsOf, Rel::kBindsTo,   Rel::kUpholds};
  }

  const DependencyGraph& g_;
  const bool reverse_;
  const bool all_;
  std::vector<Frame> stack_;
  std::set<std::string> path_;  // the names on stack_
};

}  // namespace

const char* RelName(Rel r) {
  static constexpr std::array<const char*, kRelCount> kNames = {
      "Wants",   "WantedBy", "Requires", "RequiredBy", "Requisite", "RequisiteOf",
      "BindsTo", "BoundBy",  "PartOf",   "ConsistsOf", "Conflicts", "ConflictedBy",
      "Upholds", "UpheldBy", "After",    "Before",
  };
  return kNames[Index(r)];
}

bool IsStandardTarget(const std::string& name) {
  return std::find(std::begin(kStandardTargets), std::end(kStandardTargets), name) !=
         std::end(kStandardTargets);
}

std::string OrderingCycle::Text() const {
  std::string text = "ordering cycle: ";
  for (size_t i = 0; i < units.size(); ++i) text += (i == 0 ? "" : " -> ") + units[i];
  text += " (";
  for (size_t i = 0; i < edges.size() && i + 1 < units.size(); ++i) {
    text += (i == 0 ? "" : ", ") + EdgeText(units[i], edges[i], units[i + 1]);
  }
  return text + ")";
}

DependencyGraph DependencyGraph::Build(const std::vector<GraphUnit>& units,
                                       const UnitLinks& links) {
  DependencyGraph g;
  Collector c;
  std::map<std::string, const GraphUnit*> given;
  for (const auto& u : units) {
    given.emplace(u.name, &u);
    g.given_.insert(u.name);
    c.rels[u.name];
    if (u.deps != nullptr) c.AddDeps(u.name, *u.deps);
  }
  for (const auto& t : BuiltinTargets()) {
    if (given.count(std::string(t.name)) == 0) c.AddBuiltin(t);
  }
  for (const auto& [unit, members] : links.wants) {
    for (const auto& m : members) c.Add(unit, Rel::kWants, m, Origin::kAfter);
  }
  for (const auto& [unit, members] : links.requires_) {
    for (const auto& m : members) c.Add(unit, Rel::kRequires, m, Origin::kAfter);
  }
  AddTargetDefaultDependencies(c, given);
  std::vector<std::vector<std::string>> members;
  g.cycles_ = FindCycles(c, &members);
  for (size_t i = 0; i < members.size(); ++i) {
    for (const auto& name : members[i]) g.cycle_of_[name] = i;
  }
  for (auto& [name, sets] : c.rels) {
    Node& node = g.nodes_[name];
    for (int i = 0; i < kRelCount; ++i) node.rel[i] = std::move(sets[i]);
  }
  return g;
}

bool DependencyGraph::Has(const std::string& unit) const {
  return given_.count(unit) != 0 || IsStandardTarget(unit);
}

const std::set<std::string>& DependencyGraph::Get(const std::string& unit, Rel r) const {
  static const std::set<std::string> kNone;
  auto it = nodes_.find(unit);
  return it == nodes_.end() ? kNone : it->second.rel[Index(r)];
}

const OrderingCycle* DependencyGraph::CycleOf(const std::string& unit) const {
  auto it = cycle_of_.find(unit);
  return it == cycle_of_.end() ? nullptr : &cycles_[it->second];
}

std::vector<std::string> DependencyGraph::Names() const {
  std::vector<std::string> names;
  names.reserve(nodes_.size());
  for (const auto& [name, node] : nodes_) names.push_back(name);
  return names;
}

DependencyGraph::Tree DependencyGraph::Dependencies(const std::string& unit, bool reverse,
                                                    bool all) const {
  Tree root{unit, {}};
  TreeWalker(*this, reverse, all).Walk(root);
  return root;
}

}  // namespace supd
