// DependencyGraph: each directive and its inverse, links, the standard targets, the implicit
// After= of targets and its loop avoidance, ordering cycles and their text, and the
// list-dependencies tree; a randomized check of cycle detection against plain reachability.
#include "lib/supervise/dependency_graph.h"

#include <gtest/gtest.h>

#include <deque>
#include <random>

namespace supd {
namespace {

using Names = std::set<std::string>;

// Units given to Build: each one's UnitDeps kept at a stable address.
class GraphTest : public ::testing::Test {
 protected:
  UnitDeps& Unit(const std::string& name) { return Add(name, false); }
  UnitDeps& Target(const std::string& name) { return Add(name, true); }
  // A unit with no [Unit] dependencies of its own (deps null), as a socket is given.
  void Bare(const std::string& name) { units_.push_back({name, nullptr, false}); }
  DependencyGraph Build() const { return DependencyGraph::Build(units_, links_); }

  UnitLinks links_;

 private:
  UnitDeps& Add(const std::string& name, bool target) {
    UnitDeps& d = deps_.emplace_back();
    units_.push_back({name, &d, target});
    return d;
  }
  std::deque<UnitDeps> deps_;
  std::vector<GraphUnit> units_;
};

// "name[child child[…]]": a tree in one line, for comparing whole trees.
std::string Show(const DependencyGraph::Tree& t) {
  std::string s = t.name;
  if (t.children.empty()) return s;
  s += "[";
  for (size_t i = 0; i < t.children.size(); ++i) s += (i == 0 ? "" : " ") + Show(t.children[i]);
  return s + "]";
}

size_t CountNodes(const DependencyGraph::Tree& t) {
  size_t n = 1;
  for (const auto& c : t.children) n += CountNodes(c);
  return n;
}

// ---- relations

TEST(RelNameTest, TheDirectiveOfEachRelation) {
  const char* want[kRelCount] = {"Wants",     "WantedBy",    "Requires",  "RequiredBy",
                                 "Requisite", "RequisiteOf", "BindsTo",   "BoundBy",
                                 "PartOf",    "ConsistsOf",  "Conflicts", "ConflictedBy",
                                 "Upholds",   "UpheldBy",    "After",     "Before"};
  for (int i = 0; i < kRelCount; ++i) EXPECT_STREQ(RelName(static_cast<Rel>(i)), want[i]);
}

TEST(IsStandardTargetTest, SystemdsSpecialTargetsOnly) {
  for (const char* t :
       {"basic.target",     "default.target",        "multi-user.target",     "graphical.target",
        "network.target",   "network-online.target", "network-pre.target",    "nss-lookup.target",
        "time-sync.target", "sysinit.target",        "sockets.target",        "timers.target",
        "paths.target",     "slices.target",         "local-fs.target",       "remote-fs.target",
        "shutdown.target",  "initrd.target",         "initrd-root-fs.target", "rescue.target"}) {
    EXPECT_TRUE(IsStandardTarget(t)) << t;
  }
  for (const char* t : {"myapp.target", "network.service", "multi-user", "basic.target.wants", "",
                        "blockdev@.target"}) {
    EXPECT_FALSE(IsStandardTarget(t)) << t;
  }
}

TEST_F(GraphTest, EachDirectiveSetsItsInverseOnTheOtherUnit) {
  struct Case {
    std::vector<std::string> UnitDeps::*field;
    Rel forward, reverse;
  };
  const Case cases[] = {
      {&UnitDeps::wants, Rel::kWants, Rel::kWantedBy},
      {&UnitDeps::requires_, Rel::kRequires, Rel::kRequiredBy},
      {&UnitDeps::requisite, Rel::kRequisite, Rel::kRequisiteOf},
      {&UnitDeps::binds_to, Rel::kBindsTo, Rel::kBoundBy},
      {&UnitDeps::part_of, Rel::kPartOf, Rel::kConsistsOf},
      {&UnitDeps::conflicts, Rel::kConflicts, Rel::kConflictedBy},
      {&UnitDeps::upholds, Rel::kUpholds, Rel::kUpheldBy},
      {&UnitDeps::after, Rel::kAfter, Rel::kBefore},
  };
  UnitDeps& a = Unit("a.service");
  for (const auto& c : cases) (a.*c.field).push_back(std::string(RelName(c.forward)) + ".service");
  const DependencyGraph g = Build();
  for (const auto& c : cases) {
    const std::string other = std::string(RelName(c.forward)) + ".service";
    SCOPED_TRACE(other);
    EXPECT_EQ(g.Get("a.service", c.forward), Names{other});
    EXPECT_EQ(g.Get(other, c.reverse), Names{"a.service"});
    // Nothing else: no relation implies another (Requires= does not imply After=).
    for (int r = 0; r < kRelCount; ++r) {
      if (static_cast<Rel>(r) == c.reverse) continue;
      EXPECT_TRUE(g.Get(other, static_cast<Rel>(r)).empty()) << RelName(static_cast<Rel>(r));
    }
  }
  EXPECT_TRUE(g.Get("a.service", Rel::kBefore).empty());
}

TEST_F(GraphTest, BeforeIsTheOtherUnitsAfter) {
  Unit("a.service").before = {"b.service"};
  Unit("b.service");
  const DependencyGraph g = Build();
  EXPECT_EQ(g.Get("a.service", Rel::kBefore), Names{"b.service"});
  EXPECT_EQ(g.Get("b.service", Rel::kAfter), Names{"a.service"});
  EXPECT_TRUE(g.Get("a.service", Rel::kAfter).empty());
  EXPECT_TRUE(g.Get("b.service", Rel::kBefore).empty());
}

TEST_F(GraphTest, RequiresDoesNotImplyAfterForServices) {
  Unit("api.service").requires_ = {"db.service"};
  Unit("db.service");
  const DependencyGraph g = Build();
  EXPECT_TRUE(g.Get("api.service", Rel::kAfter).empty());
  EXPECT_TRUE(g.Get("db.service", Rel::kBefore).empty());
}

TEST_F(GraphTest, ADependencyOnItselfIsDroppedAsSystemdDoes) {
  UnitDeps& a = Unit("a.service");
  a.wants = {"a.service"};
  a.requires_ = {"a.service"};
  Target("t.target").wants = {"t.target"};
  const DependencyGraph g = Build();
  EXPECT_TRUE(g.Get("a.service", Rel::kWants).empty());
  EXPECT_TRUE(g.Get("a.service", Rel::kWantedBy).empty());
  EXPECT_TRUE(g.Get("a.service", Rel::kRequires).empty());
  EXPECT_TRUE(g.Get("t.target", Rel::kWants).empty());
  EXPECT_TRUE(g.Get("t.target", Rel::kAfter).empty());  // no implicit After= on itself
  EXPECT_TRUE(g.cycles().empty());
}

TEST_F(GraphTest, LinksAreWantsAndRequiresOfTheirUnitAndAliasesAreNotEdges) {
  Target("myapp.target");
  Unit("web.service");
  Unit("db.service");
  links_.wants["myapp.target"] = {"web.service"};
  links_.requires_["myapp.target"] = {"db.service"};
  links_.aliases["www.service"] = "web.service";
  const DependencyGraph g = Build();
  EXPECT_EQ(g.Get("myapp.target", Rel::kWants), Names{"web.service"});
  EXPECT_EQ(g.Get("web.service", Rel::kWantedBy), Names{"myapp.target"});
  EXPECT_EQ(g.Get("myapp.target", Rel::kRequires), Names{"db.service"});
  EXPECT_EQ(g.Get("db.service", Rel::kRequiredBy), Names{"myapp.target"});
  EXPECT_FALSE(g.Has("www.service"));
  const auto names = g.Names();
  EXPECT_EQ(std::find(names.begin(), names.end(), "www.service"), names.end());
}

// ---- Has, Get, Names

TEST_F(GraphTest, HasGivenUnitsAndEveryStandardTargetButNotMerelyNamedUnits) {
  Unit("web.service").requires_ = {"missing.service"};
  const DependencyGraph g = Build();
  EXPECT_TRUE(g.Has("web.service"));
  EXPECT_TRUE(g.Has("network-online.target"));  // named nowhere
  EXPECT_TRUE(g.Has("multi-user.target"));
  EXPECT_FALSE(g.Has("missing.service"));
  EXPECT_FALSE(g.Has("myapp.target"));
  // A name that is not a unit still has its relations: the caller decides what it means.
  EXPECT_EQ(g.Get("missing.service", Rel::kRequiredBy), Names{"web.service"});
}

TEST_F(GraphTest, GetOfAnUnknownUnitIsEmpty) {
  const DependencyGraph g = Build();
  EXPECT_TRUE(g.Get("nope.service", Rel::kWants).empty());
  EXPECT_EQ(&g.Get("nope.service", Rel::kWants), &g.Get("other.service", Rel::kAfter));
  EXPECT_EQ(g.CycleOf("nope.service"), nullptr);
}

TEST_F(GraphTest, NamesAreGivenReferencedAndTheStandardChainSorted) {
  Unit("web.service").after = {"network.target", "db.service"};
  Target("myapp.target").wants = {"web.service"};
  const DependencyGraph g = Build();
  const std::vector<std::string> want = {
      "basic.target", "db.service",     "default.target", "local-fs.target", "multi-user.target",
      "myapp.target", "network.target", "paths.target",   "slices.target",   "sockets.target",
      "swap.target",  "sysinit.target", "timers.target",  "web.service"};
  EXPECT_EQ(g.Names(), want);
}

TEST(DependencyGraphDefaultTest, AnEmptyGraphAnswersEverything) {
  const DependencyGraph g;
  EXPECT_TRUE(g.Has("basic.target"));
  EXPECT_FALSE(g.Has("web.service"));
  EXPECT_TRUE(g.Get("web.service", Rel::kWants).empty());
  EXPECT_EQ(g.CycleOf("web.service"), nullptr);
  EXPECT_TRUE(g.Names().empty());
  EXPECT_TRUE(g.cycles().empty());
  EXPECT_EQ(Show(g.Dependencies("web.service", false, true)), "web.service");
}

// ---- standard targets

TEST_F(GraphTest, TheStandardChainWithoutUnitFiles) {
  const DependencyGraph g = Build();
  EXPECT_EQ(g.Get("default.target", Rel::kWants), Names{"multi-user.target"});
  EXPECT_EQ(g.Get("default.target", Rel::kAfter), Names{"multi-user.target"});  // implicit
  EXPECT_EQ(g.Get("multi-user.target", Rel::kRequires), Names{"basic.target"});
  EXPECT_EQ(g.Get("multi-user.target", Rel::kAfter), Names{"basic.target"});
  EXPECT_EQ(g.Get("basic.target", Rel::kRequires), Names{"sysinit.target"});
  EXPECT_EQ(g.Get("basic.target", Rel::kWants),
            (Names{"paths.target", "slices.target", "sockets.target", "timers.target"}));
  EXPECT_EQ(g.Get("basic.target", Rel::kAfter),
            (Names{"paths.target", "slices.target", "sockets.target", "sysinit.target",
                   "timers.target"}));
  EXPECT_EQ(g.Get("sysinit.target", Rel::kWants), (Names{"local-fs.target", "swap.target"}));
  EXPECT_EQ(g.Get("sysinit.target", Rel::kAfter), (Names{"local-fs.target", "swap.target"}));
  EXPECT_EQ(g.Get("sysinit.target", Rel::kRequiredBy), Names{"basic.target"});
  EXPECT_TRUE(g.cycles().empty());
}

TEST_F(GraphTest, AStandardTargetWithAFileHasItsOwnDependenciesInstead) {
  Target("multi-user.target").wants = {"web.service"};
  Unit("web.service");
  const DependencyGraph g = Build();
  EXPECT_TRUE(g.Get("multi-user.target", Rel::kRequires).empty());
  EXPECT_EQ(g.Get("multi-user.target", Rel::kWants), Names{"web.service"});
  EXPECT_EQ(g.Get("multi-user.target", Rel::kAfter), Names{"web.service"});
  EXPECT_TRUE(g.Get("basic.target", Rel::kRequiredBy).empty());
  // The other standard targets keep theirs.
  EXPECT_EQ(g.Get("default.target", Rel::kWants), Names{"multi-user.target"});
  EXPECT_EQ(g.Get("basic.target", Rel::kRequires), Names{"sysinit.target"});
}

TEST_F(GraphTest, AStandardTargetWithoutAFileIsAfterItsLinkedMembers) {
  Unit("web.service");
  Bare("web.socket");
  links_.wants["multi-user.target"] = {"web.service"};
  links_.wants["sockets.target"] = {"web.socket"};
  links_.wants["network-online.target"] = {"wait-online.service"};  // not a unit: no order
  const DependencyGraph g = Build();
  EXPECT_EQ(g.Get("multi-user.target", Rel::kWants), Names{"web.service"});
  EXPECT_EQ(g.Get("multi-user.target", Rel::kAfter), (Names{"basic.target", "web.service"}));
  EXPECT_EQ(g.Get("web.service", Rel::kBefore), Names{"multi-user.target"});
  EXPECT_EQ(g.Get("sockets.target", Rel::kAfter), Names{"web.socket"});
  EXPECT_TRUE(g.Get("network-online.target", Rel::kAfter).empty());
}

// ---- the implicit After= of targets

TEST_F(GraphTest, ATargetIsAfterWhatItPullsIn) {
  UnitDeps& t = Target("myapp.target");
  t.wants = {"web.service"};
  t.requires_ = {"db.service"};
  t.binds_to = {"cache.service"};
  t.requisite = {"net.service"};
  t.part_of = {"group.service"};
  t.upholds = {"keeper.service"};
  t.conflicts = {"rescue.service"};
  links_.wants["myapp.target"] = {"worker.service"};
  for (const char* u : {"web.service", "db.service", "cache.service", "net.service",
                        "group.service", "keeper.service", "rescue.service", "worker.service"}) {
    Unit(u);
  }
  const DependencyGraph g = Build();
  EXPECT_EQ(g.Get("myapp.target", Rel::kAfter),
            (Names{"cache.service", "db.service", "group.service", "keeper.service", "net.service",
                   "web.service", "worker.service"}));
  EXPECT_EQ(g.Get("web.service", Rel::kBefore), Names{"myapp.target"});
  EXPECT_TRUE(g.Get("rescue.service", Rel::kBefore).empty());
}

TEST_F(GraphTest, NoImplicitAfterWhenTheUnitIsAfterTheTargetAlready) {
  Target("myapp.target").wants = {"web.service", "db.service"};
  Unit("web.service").after = {"myapp.target"};
  Unit("db.service").before = {"myapp.target"};  // explicit: kept, and the same direction
  const DependencyGraph g = Build();
  EXPECT_EQ(g.Get("myapp.target", Rel::kAfter), Names{"db.service"});
  EXPECT_EQ(g.Get("myapp.target", Rel::kBefore), Names{"web.service"});
  EXPECT_TRUE(g.cycles().empty());
}

TEST_F(GraphTest, NoImplicitAfterWhenTheTargetSaysBeforeItself) {
  UnitDeps& t = Target("myapp.target");
  t.wants = {"web.service"};
  t.before = {"web.service"};
  Unit("web.service");
  const DependencyGraph g = Build();
  EXPECT_TRUE(g.Get("myapp.target", Rel::kAfter).empty());
  EXPECT_TRUE(g.cycles().empty());
}

TEST_F(GraphTest, TwoTargetsWantingEachOtherGetOneOrderOnly) {
  // The first in name order is After the second; the second then sees the loop and adds none.
  Target("a.target").wants = {"b.target"};
  Target("b.target").wants = {"a.target"};
  const DependencyGraph g = Build();
  EXPECT_EQ(g.Get("a.target", Rel::kAfter), Names{"b.target"});
  EXPECT_TRUE(g.Get("b.target", Rel::kAfter).empty());
  EXPECT_TRUE(g.cycles().empty());
}

TEST_F(GraphTest, NoImplicitAfterWhenEitherSideHasDefaultDependenciesNo) {
  UnitDeps& plain = Target("plain.target");
  plain.wants = {"web.service"};
  plain.default_dependencies = false;
  Target("myapp.target").wants = {"early.service", "web.service", "missing.service"};
  Unit("early.service").default_dependencies = false;
  Unit("web.service");
  const DependencyGraph g = Build();
  EXPECT_TRUE(g.Get("plain.target", Rel::kAfter).empty());
  // early.service opted out; missing.service is not loaded (systemd's loop check needs both).
  EXPECT_EQ(g.Get("myapp.target", Rel::kAfter), Names{"web.service"});
}

TEST_F(GraphTest, AServiceGetsNoImplicitAfterFromWhatItWants) {
  Unit("api.service").wants = {"db.service"};
  Unit("db.service");
  const DependencyGraph g = Build();
  EXPECT_TRUE(g.Get("api.service", Rel::kAfter).empty());
}

TEST_F(GraphTest, ANonStandardTargetWithoutAFileGetsNoImplicitAfter) {
  Unit("web.service");
  links_.wants["gone.target"] = {"web.service"};
  const DependencyGraph g = Build();
  EXPECT_EQ(g.Get("gone.target", Rel::kWants), Names{"web.service"});
  EXPECT_TRUE(g.Get("gone.target", Rel::kAfter).empty());
}

// ---- ordering cycles

TEST_F(GraphTest, TwoUnitsAfterEachOther) {
  Unit("b.service").after = {"a.service"};
  Unit("a.service").after = {"b.service"};
  const DependencyGraph g = Build();
  ASSERT_EQ(g.cycles().size(), 1u);
  const OrderingCycle& c = g.cycles()[0];
  EXPECT_EQ(c.units, (std::vector<std::string>{"a.service", "b.service", "a.service"}));
  EXPECT_EQ(c.edges, (std::vector<std::string>{"After", "After"}));
  EXPECT_EQ(c.Text(),
            "ordering cycle: a.service -> b.service -> a.service (a.service After=b.service, "
            "b.service After=a.service)");
  EXPECT_EQ(g.CycleOf("a.service"), &c);
  EXPECT_EQ(g.CycleOf("b.service"), &c);
}

TEST_F(GraphTest, AThreeCycleWrittenWithBeforeSaysWhoWroteIt) {
  Unit("a.service").after = {"b.service"};
  Unit("c.service").before = {"b.service"};  // b After c
  Unit("b.service");
  Unit("d.service").before = {"c.service"};  // c After d: not on the cycle
  UnitDeps& e = Unit("e.service");
  e.before = {"c.service"};
  e.after = {"a.service"};  // c After e After a: closes a -> b -> c -> e -> a
  const DependencyGraph g = Build();
  ASSERT_EQ(g.cycles().size(), 1u);
  EXPECT_EQ(g.cycles()[0].Text(),
            "ordering cycle: a.service -> b.service -> c.service -> e.service -> a.service "
            "(a.service After=b.service, c.service Before=b.service, e.service Before=c.service, "
            "e.service After=a.service)");
  EXPECT_EQ(g.cycles()[0].edges, (std::vector<std::string>{"After", "Before", "Before", "After"}));
  EXPECT_EQ(g.CycleOf("d.service"), nullptr);
}

TEST_F(GraphTest, AnEdgeBothUnitsWroteIsShownAsTheAfterOne) {
  UnitDeps& a = Unit("a.service");
  a.after = {"b.service"};
  a.before = {"b.service"};
  Unit("b.service").before = {"a.service"};  // the same edge as a's After=
  const DependencyGraph g = Build();
  ASSERT_EQ(g.cycles().size(), 1u);
  EXPECT_EQ(g.cycles()[0].Text(),
            "ordering cycle: a.service -> b.service -> a.service (a.service After=b.service, "
            "a.service Before=b.service)");
}

TEST_F(GraphTest, AUnitAfterItself) {
  Unit("a.service").after = {"a.service"};
  Unit("b.service").before = {"b.service"};
  const DependencyGraph g = Build();
  ASSERT_EQ(g.cycles().size(), 2u);
  EXPECT_EQ(g.cycles()[0].Text(),
            "ordering cycle: a.service -> a.service (a.service After=a.service)");
  EXPECT_EQ(g.cycles()[1].Text(),
            "ordering cycle: b.service -> b.service (b.service Before=b.service)");
  EXPECT_EQ(g.CycleOf("a.service"), &g.cycles()[0]);
  EXPECT_EQ(g.CycleOf("b.service"), &g.cycles()[1]);
}

TEST_F(GraphTest, ACycleThroughATargetsImplicitAfter) {
  Target("myapp.target").wants = {"web.service"};
  Unit("web.service").after = {"db.service"};
  Unit("db.service").after = {"myapp.target"};
  const DependencyGraph g = Build();
  ASSERT_EQ(g.cycles().size(), 1u);
  EXPECT_EQ(g.cycles()[0].Text(),
            "ordering cycle: db.service -> myapp.target -> web.service -> db.service "
            "(db.service After=myapp.target, myapp.target After=web.service (DefaultDependencies), "
            "web.service After=db.service)");
  EXPECT_EQ(g.cycles()[0].edges[1], "After (DefaultDependencies)");
  for (const char* u : {"db.service", "myapp.target", "web.service"}) {
    EXPECT_EQ(g.CycleOf(u), &g.cycles()[0]) << u;
  }
}

TEST_F(GraphTest, TwoSeparateCyclesInNameOrder) {
  Unit("x.service").after = {"y.service"};
  Unit("y.service").after = {"x.service"};
  Unit("b.service").after = {"c.service"};
  Unit("c.service").after = {"b.service"};
  Unit("m.service").after = {"b.service", "x.service"};  // after both cycles, on neither
  const DependencyGraph g = Build();
  ASSERT_EQ(g.cycles().size(), 2u);
  EXPECT_EQ(g.cycles()[0].units.front(), "b.service");
  EXPECT_EQ(g.cycles()[1].units.front(), "x.service");
  EXPECT_EQ(g.CycleOf("c.service"), &g.cycles()[0]);
  EXPECT_EQ(g.CycleOf("y.service"), &g.cycles()[1]);
  EXPECT_EQ(g.CycleOf("m.service"), nullptr);
}

TEST_F(GraphTest, UnitsHangingOffACycleAreNotOnIt) {
  Unit("a.service").after = {"b.service"};
  UnitDeps& b = Unit("b.service");
  b.after = {"a.service", "x.service"};     // b waits for x: x is not on the cycle
  Unit("c.service").after = {"a.service"};  // c waits for the cycle: not on it either
  Unit("x.service");
  const DependencyGraph g = Build();
  ASSERT_EQ(g.cycles().size(), 1u);
  EXPECT_NE(g.CycleOf("a.service"), nullptr);
  EXPECT_EQ(g.CycleOf("c.service"), nullptr);
  EXPECT_EQ(g.CycleOf("x.service"), nullptr);
}

TEST_F(GraphTest, EveryUnitOfTheComponentMapsToItsOneCycle) {
  // a <-> b, and a -> c -> b -> a: one component {a, b, c}; the printed cycle is the shortest
  // through a, and c (not printed) is on it as well.
  Unit("a.service").after = {"b.service", "c.service"};
  Unit("b.service").after = {"a.service"};
  Unit("c.service").after = {"b.service"};
  Unit("z.service").after = {"z.service", "a.service"};
  const DependencyGraph g = Build();
  ASSERT_EQ(g.cycles().size(), 2u);
  EXPECT_EQ(g.cycles()[0].units, (std::vector<std::string>{"a.service", "b.service", "a.service"}));
  EXPECT_EQ(g.CycleOf("c.service"), &g.cycles()[0]);
  EXPECT_EQ(g.CycleOf("z.service"), &g.cycles()[1]);
}

TEST_F(GraphTest, ASelfEdgeInsideALargerComponentGivesWayToThePathThroughTheOthers) {
  Unit("a.service").after = {"a.service", "b.service"};
  Unit("b.service").after = {"a.service"};
  const DependencyGraph g = Build();
  ASSERT_EQ(g.cycles().size(), 1u);
  EXPECT_EQ(g.cycles()[0].units, (std::vector<std::string>{"a.service", "b.service", "a.service"}));
}

TEST(OrderingCycleTest, TextOfEachEdgeWording) {
  OrderingCycle c;
  c.units = {"x.target", "y.service", "z.service", "x.target"};
  c.edges = {"After (DefaultDependencies)", "Before", "After"};
  EXPECT_EQ(c.Text(),
            "ordering cycle: x.target -> y.service -> z.service -> x.target (x.target "
            "After=y.service (DefaultDependencies), z.service Before=y.service, z.service "
            "After=x.target)");
}

// ---- list-dependencies

class TreeTest : public GraphTest {
 protected:
  void SetUp() override {
    UnitDeps& app = Target("myapp.target");
    app.wants = {"web.service", "Zeta.service", "sub.target"};
    app.requires_ = {"db.service"};
    Target("sub.target").wants = {"worker.service"};
    UnitDeps& web = Unit("web.service");
    web.requires_ = {"cache.service"};
    web.part_of = {"group.target"};
    Unit("cache.service");
    Unit("db.service");
    Unit("Zeta.service");
    Unit("alpha.service").upholds = {"web.service"};
    Target("group.target");
    Unit("worker.service").binds_to = {"db.service"};
    links_.wants["multi-user.target"] = {"myapp.target"};
  }
};

TEST_F(TreeTest, ForwardExpandsTargetsOnlyTargetsLastCaseIgnored) {
  const DependencyGraph g = Build();
  EXPECT_EQ(Show(g.Dependencies("myapp.target", false, false)),
            "myapp.target[db.service web.service Zeta.service sub.target[worker.service]]");
}

TEST_F(TreeTest, ForwardAllExpandsEveryUnit) {
  const DependencyGraph g = Build();
  EXPECT_EQ(Show(g.Dependencies("myapp.target", false, true)),
            "myapp.target[db.service web.service[cache.service] Zeta.service "
            "sub.target[worker.service[db.service]]]");
  // ConsistsOf (web.service PartOf=group.target) is forward.
  EXPECT_EQ(Show(g.Dependencies("group.target", false, false)), "group.target[web.service]");
}

TEST_F(TreeTest, ReverseFollowsWhatPullsTheUnitIn) {
  const DependencyGraph g = Build();
  // WantedBy myapp.target; PartOf group.target; UpheldBy alpha.service.
  EXPECT_EQ(Show(g.Dependencies("web.service", true, false)),
            "web.service[alpha.service group.target "
            "myapp.target[multi-user.target[default.target]]]");
  EXPECT_EQ(Show(g.Dependencies("db.service", true, true)),
            "db.service[worker.service[sub.target[myapp.target[multi-user.target[default."
            "target]]]] myapp.target[multi-user.target[default.target]]]");
}

TEST_F(TreeTest, TheStandardChainFromDefaultTarget) {
  const DependencyGraph g = Build();
  EXPECT_EQ(Show(g.Dependencies("default.target", false, false)),
            "default.target[multi-user.target[basic.target[paths.target slices.target "
            "sockets.target sysinit.target[local-fs.target swap.target] timers.target] "
            "myapp.target[db.service web.service Zeta.service sub.target[worker.service]]]]");
}

TEST_F(GraphTest, ARequirementCycleIsShownOnceAlongEachBranch) {
  Target("a.target").wants = {"b.target"};
  Target("b.target").wants = {"a.target", "c.service"};
  UnitDeps& c = Unit("c.service");
  c.requires_ = {"d.service"};
  Unit("d.service").requires_ = {"c.service", "b.target"};
  const DependencyGraph g = Build();
  EXPECT_EQ(Show(g.Dependencies("a.target", false, false)),
            "a.target[b.target[c.service a.target]]");
  EXPECT_EQ(Show(g.Dependencies("a.target", false, true)),
            "a.target[b.target[c.service[d.service[c.service b.target]] a.target]]");
  EXPECT_EQ(Show(g.Dependencies("c.service", true, true)),
            "c.service[d.service[c.service] b.target[d.service[c.service] a.target[b.target]]]");
}

TEST_F(GraphTest, ADenseGraphsTreeStopsGrowing) {
  // 20 levels of 5 targets, each wanting all 5 of the next: 5^20 paths. The tree is cut, not
  // built.
  for (int level = 0; level < 20; ++level) {
    for (int i = 0; i < 5; ++i) {
      UnitDeps& t = Target("l" + std::to_string(level) + "-" + std::to_string(i) + ".target");
      if (level == 19) continue;
      for (int j = 0; j < 5; ++j) {
        t.wants.push_back("l" + std::to_string(level + 1) + "-" + std::to_string(j) + ".target");
      }
    }
  }
  const DependencyGraph g = Build();
  const size_t n = CountNodes(g.Dependencies("l0-0.target", false, false));
  EXPECT_LE(n, 50000u);  // the walker's budget
  EXPECT_GE(n, 40000u);
}

TEST_F(GraphTest, ALongChainNeitherOverflowsTheStackNorHidesItsCycle) {
  // 20000 targets, each wanting the next and After= it; the last one After= the first.
  constexpr int kLength = 20000;
  auto name = [](int i) { return "t" + std::to_string(100000 + i) + ".target"; };
  for (int i = 0; i < kLength; ++i) {
    UnitDeps& t = Target(name(i));
    t.wants = {name((i + 1) % kLength)};
    t.after = {name((i + 1) % kLength)};
  }
  const DependencyGraph g = Build();
  ASSERT_EQ(g.cycles().size(), 1u);
  EXPECT_EQ(g.cycles()[0].units.size(), kLength + 1u);
  EXPECT_EQ(g.CycleOf(name(kLength / 2)), &g.cycles()[0]);
  // The tree is one branch down the whole chain, ending at the root shown again as a leaf.
  const DependencyGraph::Tree tree = g.Dependencies(name(0), false, false);
  size_t depth = 0;
  for (const DependencyGraph::Tree* t = &tree; !t->children.empty(); t = &t->children[0]) {
    ASSERT_EQ(t->children.size(), 1u);
    ++depth;
    if (t->children[0].children.empty()) {
      EXPECT_EQ(t->children[0].name, name(0));
    }
  }
  EXPECT_EQ(depth, size_t{kLength});
}

// ---- randomized: cycles are exactly the units that reach themselves by After

TEST(DependencyGraphRandomTest, CycleOfIsSetExactlyForUnitsThatReachThemselves) {
  constexpr int kUnits = 30;
  int acyclic = 0, several = 0;  // how many graphs had no cycle, and more than one
  for (uint32_t seed = 1; seed <= 150; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937 rng(seed);
    std::vector<std::string> names;
    std::vector<bool> target;
    for (int i = 0; i < kUnits; ++i) {
      target.push_back(rng() % 4 == 0);
      names.push_back("u" + std::to_string(i) + (target.back() ? ".target" : ".service"));
    }
    std::deque<UnitDeps> deps(kUnits);
    // Sparse enough that some graphs have no cycle and some have several.
    const uint32_t per_mille = 5 + seed % 40;
    auto pick = [&]() { return rng() % 1000 < per_mille; };
    for (int i = 0; i < kUnits; ++i) {
      for (int j = 0; j < kUnits; ++j) {
        if (pick()) deps[i].after.push_back(names[j]);
        if (pick()) deps[i].before.push_back(names[j]);
        if (pick()) deps[i].wants.push_back(names[j]);
        if (pick()) deps[i].requires_.push_back(names[j]);
      }
      deps[i].default_dependencies = rng() % 8 != 0;
    }
    std::vector<GraphUnit> units;
    for (int i = 0; i < kUnits; ++i) units.push_back({names[i], &deps[i], target[i]});
    UnitLinks links;
    if (target[0]) links.wants[names[0]] = {names[kUnits - 1]};
    const DependencyGraph g = DependencyGraph::Build(units, links);
    acyclic += g.cycles().empty();
    several += g.cycles().size() > 1;

    // Reachability by After (the graph's, implicit edges included), by BFS.
    auto reach = [&](const std::string& from) {
      std::set<std::string> seen;
      std::deque<std::string> queue{from};
      while (!queue.empty()) {
        const std::string v = queue.front();
        queue.pop_front();
        for (const auto& w : g.Get(v, Rel::kAfter)) {
          if (seen.insert(w).second) queue.push_back(w);
        }
      }
      return seen;
    };
    std::map<std::string, std::set<std::string>> reaches;
    for (const auto& n : g.Names()) reaches[n] = reach(n);
    for (const auto& n : g.Names()) {
      const bool on_cycle = reaches[n].count(n) != 0;
      const OrderingCycle* c = g.CycleOf(n);
      ASSERT_EQ(c != nullptr, on_cycle) << n;
      if (c == nullptr) continue;
      // The printed cycle is a real one, starts at the smallest unit of n's component, and
      // shares it with every unit both ways reachable from n.
      ASSERT_GE(c->units.size(), 2u);
      EXPECT_EQ(c->units.front(), c->units.back());
      EXPECT_EQ(c->edges.size(), c->units.size() - 1);
      for (size_t i = 0; i + 1 < c->units.size(); ++i) {
        EXPECT_EQ(g.Get(c->units[i], Rel::kAfter).count(c->units[i + 1]), 1u);
      }
      for (const auto& m : reaches[n]) {
        const bool same_component = reaches[m].count(n) != 0;
        EXPECT_EQ(g.CycleOf(m) == c, same_component) << n << " " << m;
        if (same_component) {
          EXPECT_LE(c->units.front(), m);
        }
      }
    }
    // Every relation has its inverse.
    for (const auto& n : g.Names()) {
      for (int r = 0; r < kRelCount; ++r) {
        for (const auto& m : g.Get(n, static_cast<Rel>(r))) {
          EXPECT_EQ(g.Get(m, static_cast<Rel>(r ^ 1)).count(n), 1u)
              << n << " " << RelName(static_cast<Rel>(r)) << " " << m;
        }
      }
    }
  }
  // The generator covers both kinds of graph.
  EXPECT_GE(acyclic, 10);
  EXPECT_GE(several, 10);
}

}  // namespace
}  // namespace supd
