#include "lib/control/dependency_tree.h"

#include <gtest/gtest.h>

namespace supd::control {
namespace {

// myapp.target → api (running), worker (stopped), db.target (active) → db (failed), and
// cache.target, whose units are listed in the reply's order, not sorted.
nlohmann::json Tree() {
  return nlohmann::json::parse(R"({
    "unit": "myapp.target", "state": "active", "children": [
      {"unit": "db.target", "state": "active", "children": [
        {"unit": "db.service", "state": "failed", "children": []},
        {"unit": "Backup.service", "state": "starting", "children": []}]},
      {"unit": "worker.service", "state": "stopped", "children": []},
      {"unit": "cache.target", "state": "inactive", "children": [
        {"unit": "cache.service", "state": "reloading", "children": []}]},
      {"unit": "api.service", "state": "running", "children": [
        {"unit": "api.socket", "state": "listening", "children": []}]}]})");
}

// systemctl's layout: the glyph first, then the bars of the levels above, then the branch;
// targets after the other units, names without regard to case.
TEST(DependencyTreeTest, LaysOutLikeSystemctl) {
  EXPECT_EQ(FormatDependencyTree(Tree(), false),
            "myapp.target\n"
            "● ├─api.service\n"
            "● │ └─api.socket\n"
            "○ ├─worker.service\n"
            "○ ├─cache.target\n"
            "↻ │ └─cache.service\n"
            "● └─db.target\n"
            "●   ├─Backup.service\n"
            "×   └─db.service\n");
}

TEST(DependencyTreeTest, ColoursTheGlyphsAsSystemctl) {
  const std::string green = "\x1B[0;1;32m", red = "\x1B[0;1;31m", normal = "\x1B[0m";
  EXPECT_EQ(FormatDependencyTree(Tree(), true),
            "myapp.target\n" +                                    //
                green + "●" + normal + " ├─api.service\n" +       //
                green + "●" + normal + " │ └─api.socket\n" +      //
                normal + "○" + normal + " ├─worker.service\n" +   //
                normal + "○" + normal + " ├─cache.target\n" +     //
                green + "↻" + normal + " │ └─cache.service\n" +   //
                green + "●" + normal + " └─db.target\n" +         //
                green + "●" + normal + "   ├─Backup.service\n" +  //
                red + "×" + normal + "   └─db.service\n");
}

TEST(DependencyTreeTest, DeepBarsAndStatesOfEveryKind) {
  nlohmann::json t = nlohmann::json::parse(R"({
    "unit": "a.target", "state": "active", "children": [
      {"unit": "b.target", "state": "active", "children": [
        {"unit": "c.target", "state": "active", "children": [
          {"unit": "d.service", "state": "stopping", "children": []}]},
        {"unit": "e.service", "state": "backoff", "children": []}]},
      {"unit": "f.service", "state": "not-found", "children": []}]})");
  EXPECT_EQ(FormatDependencyTree(t, false),
            "a.target\n"
            "○ ├─f.service\n"
            "● └─b.target\n"
            "●   ├─e.service\n"
            "●   └─c.target\n"
            "●     └─d.service\n");
}

TEST(DependencyTreeTest, ALeafAloneAndBadFields) {
  EXPECT_EQ(FormatDependencyTree(nlohmann::json::parse(
                                     R"({"unit": "web.service", "state": "running",
                                         "children": []})"),
                                 true),
            "web.service\n");
  // No state: the glyph's place stays blank, as systemctl's for a state it cannot tell.
  EXPECT_EQ(FormatDependencyTree(nlohmann::json::parse(R"({"unit": "x.target", "children": [
              {"unit": "y.service"}, 3, {"unit": "z.service", "state": "stopped",
                                         "children": "no"}]})"),
                                 false),
            "x.target\n"
            "  ├─y.service\n"
            "○ └─z.service\n");
  EXPECT_EQ(FormatDependencyTree(nlohmann::json::object(), false), "\n");
}

TEST(DependencyTreeTest, ColourOnlyOnATerminalAndNotWithNoColor) {
  EXPECT_TRUE(UseColor(true, nullptr, "xterm-256color"));
  EXPECT_TRUE(UseColor(true, nullptr, nullptr));
  EXPECT_FALSE(UseColor(false, nullptr, "xterm"));
  EXPECT_FALSE(UseColor(true, "1", "xterm"));
  EXPECT_TRUE(UseColor(true, "", "xterm"));  // no-color.org: set and not empty
  EXPECT_FALSE(UseColor(true, nullptr, "dumb"));
}

}  // namespace
}  // namespace supd::control
