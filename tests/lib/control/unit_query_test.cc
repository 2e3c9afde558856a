#include "lib/control/unit_query.h"

#include <gtest/gtest.h>

#include "tests/lib/control/unit_query_fixture.h"

namespace supd::control {
namespace {

using testing::StatusFixture;

const char* const kLegend =
    "\n"
    "LOAD   = Reflects whether the unit definition was properly loaded.\n"
    "ACTIVE = The high-level unit activation state, i.e. generalization of SUB.\n"
    "SUB    = The low-level unit activation state, values depend on unit type.\n";
const char* const kFilesHint = "To show all installed unit files use 'supctl list-unit-files'.\n";

nlohmann::json Find(const std::string& name) {
  for (const auto& u : StatusFixture())
    if (u["name"] == name) return u;
  return nullptr;
}

// supd's states in systemd's words, one unit of each kind and state.
TEST(UnitQueryTest, ViewsSupdStatesInSystemdWords) {
  struct Case {
    const char* unit;
    const char* load;
    const char* active;
    const char* sub;
  };
  for (const Case& c : std::vector<Case>{
           {"web.service", "loaded", "active", "running"},
           {"crash.service", "loaded", "failed", "failed"},
           {"loop.service", "loaded", "activating", "auto-restart"},
           {"drain.service", "loaded", "deactivating", "stop-sigterm"},
           {"idle.service", "loaded", "inactive", "dead"},
           {"broken.service", "bad-setting", "inactive", "dead"},
           {"masked.service", "masked", "inactive", "dead"},
           {"web.socket", "loaded", "active", "running"},
           {"app.target", "loaded", "active", "active"},
           {"multi-user.target", "loaded", "inactive", "dead"},
       }) {
    SCOPED_TRACE(c.unit);
    const UnitView v = ViewOf(Find(c.unit));
    EXPECT_EQ(v.id, c.unit);
    EXPECT_EQ(v.load, c.load);
    EXPECT_EQ(v.active, c.active);
    EXPECT_EQ(v.sub, c.sub);
  }
  // No description: the name, as systemd shows it.
  EXPECT_EQ(ViewOf(Find("loop.service")).description, "loop.service");
}

TEST(UnitQueryTest, ViewsTheRemainingStatesAndNeverThrows) {
  using nlohmann::json;
  auto view = [](const json& j) { return ViewOf(j); };
  auto svc = [](const char* state, const char* sub) {
    return json{{"name", "a.service"}, {"unit_type", "service"}, {"state", state},
                {"sub_state", sub},    {"main_pid", 1},          {"type", "simple"}};
  };
  EXPECT_EQ(view(svc("starting", "start-pre")).active, "activating");
  EXPECT_EQ(view(svc("starting", "start-pre")).sub, "start-pre");
  EXPECT_EQ(view(svc("reloading", "reload")).active, "reloading");
  EXPECT_EQ(view(svc("reloading", "reload")).sub, "reload");
  // A oneshot that remains after exit has no process: "exited".
  json oneshot = svc("running", "running");
  oneshot["type"] = "oneshot";
  oneshot["main_pid"] = nullptr;
  EXPECT_EQ(view(oneshot).sub, "exited");
  json sock = {{"name", "a.socket"},
               {"unit_type", "socket"},
               {"state", "listening"},
               {"sub_state", "listening"}};
  EXPECT_EQ(view(sock).sub, "listening");
  sock["state"] = "failed";
  EXPECT_EQ(view(sock).active, "failed");
  sock["state"] = "stopped";
  EXPECT_EQ(view(sock).active, "inactive");
  // A unit whose file is gone.
  json gone = {{"name", "g.service"},
               {"loaded", false},
               {"load_error", "open /u/g.service: No such file or directory"}};
  EXPECT_EQ(view(gone).load, "not-found");
  // Garbage: empty words, no exception.
  EXPECT_NO_THROW(view(json::array({1, 2})));
  EXPECT_NO_THROW(view(json{{"name", 3}, {"loaded", "yes"}, {"main_pid", "x"}}));
  EXPECT_EQ(FormatListUnits(json("nope"), {}),
            std::string("  UNIT LOAD ACTIVE SUB DESCRIPTION\n"
                        "0 loaded units listed. Pass --all to see loaded but inactive units, "
                        "too.\n") +
                kFilesHint);
}

TEST(UnitQueryTest, ListUnitsShowsActiveAndFailedUnitsAsSystemctl) {
  EXPECT_EQ(FormatListUnits(StatusFixture(), {}),
            std::string("  UNIT          LOAD   ACTIVE       SUB          DESCRIPTION\n"
                        "● crash.service loaded failed       failed       Crashes\n"
                        "  drain.service loaded deactivating stop-sigterm Drains\n"
                        "  loop.service  loaded activating   auto-restart loop.service\n"
                        "● seg.service   loaded failed       failed       Segfaults\n"
                        "  web.service   loaded active       running      Web server\n"
                        "  web.socket    loaded active       running      Web socket\n"
                        "  app.target    loaded active       active       App\n") +
                kLegend +
                "7 loaded units listed. Pass --all to see loaded but inactive units, too.\n" +
                kFilesHint);
}

TEST(UnitQueryTest, ListUnitsAllShowsInactiveAndUnloadedUnits) {
  ListUnitsOptions o;
  o.all = true;
  EXPECT_EQ(
      FormatListUnits(StatusFixture(), o),
      std::string("  UNIT              LOAD        ACTIVE       SUB          DESCRIPTION\n"
                  "● broken.service    bad-setting inactive     dead         broken.service\n"
                  "● crash.service     loaded      failed       failed       Crashes\n"
                  "  drain.service     loaded      deactivating stop-sigterm Drains\n"
                  "  idle.service      loaded      inactive     dead         Idle\n"
                  "  loop.service      loaded      activating   auto-restart loop.service\n"
                  "● masked.service    masked      inactive     dead         masked.service\n"
                  "● seg.service       loaded      failed       failed       Segfaults\n"
                  "  web.service       loaded      active       running      Web server\n"
                  "  web.socket        loaded      active       running      Web socket\n"
                  "  app.target        loaded      active       active       App\n"
                  "  multi-user.target loaded      inactive     dead         multi-user.target\n") +
          kLegend + "11 loaded units listed.\n" + kFilesHint);
}

TEST(UnitQueryTest, ListUnitsStateMatchesLoadActiveOrSub) {
  ListUnitsOptions o;
  o.filter.states = {"failed"};
  EXPECT_EQ(FormatListUnits(StatusFixture(), o),
            std::string("  UNIT          LOAD   ACTIVE SUB    DESCRIPTION\n"
                        "● crash.service loaded failed failed Crashes\n"
                        "● seg.service   loaded failed failed Segfaults\n") +
                kLegend + "2 loaded units listed.\n");
  o.filter.states = {"bad-setting", "running"};
  EXPECT_EQ(FormatListUnits(StatusFixture(), o),
            std::string("  UNIT           LOAD        ACTIVE   SUB     DESCRIPTION\n"
                        "● broken.service bad-setting inactive dead    broken.service\n"
                        "  web.service    loaded      active   running Web server\n"
                        "  web.socket     loaded      active   running Web socket\n") +
                kLegend + "3 loaded units listed.\n");
  // --state=inactive lists the inactive units, and the hint about --all goes.
  o.filter.states = {"inactive"};
  const std::string inactive = FormatListUnits(StatusFixture(), o);
  EXPECT_NE(inactive.find("  idle.service "), std::string::npos) << inactive;
  EXPECT_NE(inactive.find("\n4 loaded units listed.\n" + std::string(kFilesHint)),
            std::string::npos)
      << inactive;
  // Nothing in that state: the header and the count, no legend.
  o.filter.states = {"reloading"};
  EXPECT_EQ(FormatListUnits(StatusFixture(), o),
            "  UNIT LOAD ACTIVE SUB DESCRIPTION\n"
            "0 loaded units listed.\n");
}

TEST(UnitQueryTest, ListUnitsPatternsTypesAndNoLegend) {
  ListUnitsOptions o;
  o.filter.patterns = {"web*"};
  o.legend = false;
  EXPECT_EQ(FormatListUnits(StatusFixture(), o),
            "  web.service loaded active running Web server\n"
            "  web.socket  loaded active running Web socket\n");
  o.filter.patterns = {};
  o.filter.types = {"socket", "target"};
  EXPECT_EQ(FormatListUnits(StatusFixture(), o),
            "  web.socket loaded active running Web socket\n"
            "  app.target loaded active active  App\n");
}

// A unit waiting with a job is listed even when inactive, with a JOB column and its legend.
TEST(UnitQueryTest, ListUnitsShowsJobsInTheirOwnColumn) {
  const auto units = nlohmann::json::parse(R"([
    {"name": "b.service", "unit_type": "service", "loaded": true, "description": "B",
     "state": "running", "sub_state": "running", "main_pid": 1, "type": "simple", "job": null},
    {"name": "a.service", "unit_type": "service", "loaded": true, "description": "A",
     "state": "stopped", "sub_state": "dead", "main_pid": null, "job": "start"}])");
  EXPECT_EQ(FormatListUnits(units, {}),
            std::string("  UNIT      LOAD   ACTIVE   SUB     JOB   DESCRIPTION\n"
                        "  a.service loaded inactive dead    start A\n"
                        "  b.service loaded active   running       B\n") +
                kLegend + "JOB    = Pending job for the unit.\n\n" +
                "2 loaded units listed. Pass --all to see loaded but inactive units, too.\n" +
                kFilesHint);
}

TEST(UnitQueryTest, ListUnitsColoursFailedAndUnloadedUnitsAsSystemctl) {
  const std::string red = "\x1B[0;1;31m", yellow = "\x1B[0;1;38;5;185m", bold = "\x1B[0;1;39m",
                    normal = "\x1B[0m";
  ListUnitsOptions o;
  o.color = true;
  o.filter.states = {"failed", "masked"};
  o.filter.types = {"service"};
  o.filter.patterns = {"c*", "m*"};
  EXPECT_EQ(FormatListUnits(StatusFixture(), o),
            "  UNIT           LOAD   ACTIVE   SUB    DESCRIPTION\n" + red + "●" + normal + " " +
                red + "crash.service " + normal + " loaded " + red + "failed  " + normal + " " +
                red + "failed" + normal + " Crashes\n" + yellow + "●" + normal +
                " masked.service " + red + "masked" + normal + " inactive dead   masked.service\n" +
                kLegend + "2 loaded units listed.\n");
  // The count is bold, red when nothing is listed.
  o.filter.states = {};
  o.filter.patterns = {"web*"};
  const std::string listed = FormatListUnits(StatusFixture(), o);
  EXPECT_NE(listed.find(bold + "1 loaded units listed." + normal + " Pass --all"),
            std::string::npos)
      << listed;
  o.filter.patterns = {"none*"};
  const std::string none = FormatListUnits(StatusFixture(), o);
  EXPECT_NE(none.find(red + "0 loaded units listed." + normal), std::string::npos) << none;
}

TEST(UnitQueryTest, ListUnitFilesShowsEachFileAndItsState) {
  size_t count = 0;
  EXPECT_EQ(FormatListUnitFiles(StatusFixture(), {}, &count),
            "UNIT FILE      STATE\n"
            "broken.service bad\n"
            "crash.service  disabled\n"
            "drain.service  enabled\n"
            "idle.service   static\n"
            "loop.service   static\n"
            "masked.service masked\n"
            "seg.service    static\n"
            "web.service    enabled\n"
            "web.socket     enabled\n"
            "app.target     enabled\n"
            "\n"
            "10 unit files listed.\n");
  EXPECT_EQ(count, 10u);
  ListUnitFilesOptions o;
  o.filter.states = {"static", "masked"};
  o.filter.patterns = {"*.service"};
  EXPECT_EQ(FormatListUnitFiles(StatusFixture(), o, &count),
            "UNIT FILE      STATE\n"
            "idle.service   static\n"
            "loop.service   static\n"
            "masked.service masked\n"
            "seg.service    static\n"
            "\n"
            "4 unit files listed.\n");
  o.filter.states = {"alias"};
  o.legend = false;
  EXPECT_EQ(FormatListUnitFiles(StatusFixture(), o, &count), "");
  EXPECT_EQ(count, 0u);
}

TEST(UnitQueryTest, ListUnitFilesColoursStatesAsSystemctl) {
  const std::string red = "\x1B[0;1;31m", green = "\x1B[0;1;32m", normal = "\x1B[0m";
  ListUnitFilesOptions o;
  o.color = true;
  o.filter.patterns = {"crash*", "idle*", "web.service"};
  EXPECT_EQ(FormatListUnitFiles(StatusFixture(), o, nullptr),
            "UNIT FILE     STATE\n"
            "crash.service " +
                red + "disabled" + normal + "\n" +
                "idle.service  static\n"
                "web.service   " +
                green + "enabled" + normal + "\n" +
                "\n"
                "3 unit files listed.\n");
}

TEST(UnitQueryTest, SplitCommasTakesRepeatedAndCommaSeparatedValues) {
  EXPECT_EQ(SplitCommas({"failed,running", "dead", ",,x,"}),
            (std::vector<std::string>{"failed", "running", "dead", "x"}));
  EXPECT_TRUE(SplitCommas({}).empty());
}

// systemctl is-active / is-failed: the words and the LSB exit codes.
TEST(UnitQueryTest, IsActiveAndIsFailedWordsAndExitCodes) {
  const ActiveCheck web = CheckOf(Find("web.service"));
  const ActiveCheck crash = CheckOf(Find("crash.service"));
  const ActiveCheck idle = CheckOf(Find("idle.service"));
  const ActiveCheck loop = CheckOf(Find("loop.service"));
  const ActiveCheck unknown = UnknownUnit();
  EXPECT_EQ(web.word, "active");
  EXPECT_EQ(crash.word, "failed");
  EXPECT_EQ(idle.word, "inactive");
  EXPECT_EQ(loop.word, "activating");
  EXPECT_EQ(unknown.word, "inactive");
  EXPECT_TRUE(unknown.not_found);
  EXPECT_FALSE(idle.not_found);

  EXPECT_EQ(IsActiveExitCode({web}), 0);
  EXPECT_EQ(IsActiveExitCode({idle, web}), 0);  // any
  EXPECT_EQ(IsActiveExitCode({idle}), 3);
  EXPECT_EQ(IsActiveExitCode({loop, crash}), 3);
  EXPECT_EQ(IsActiveExitCode({unknown}), 4);
  EXPECT_EQ(IsActiveExitCode({unknown, idle}), 3);
  EXPECT_EQ(IsActiveExitCode({{"reloading", false}}), 0);

  EXPECT_EQ(IsFailedExitCode({crash}), 0);
  EXPECT_EQ(IsFailedExitCode({web, crash}), 0);
  EXPECT_EQ(IsFailedExitCode({web}), 1);
  EXPECT_EQ(IsFailedExitCode({unknown}), 4);
  EXPECT_EQ(IsFailedExitCode({unknown, web}), 1);
}

}  // namespace
}  // namespace supd::control
