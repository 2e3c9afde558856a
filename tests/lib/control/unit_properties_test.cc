#include "lib/control/unit_properties.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <time.h>

#include <limits>
#include <optional>

#include "tests/lib/control/time_zone.h"
#include "tests/lib/control/unit_query_fixture.h"

namespace supd::control {
namespace {

using testing::StatusFixture;

nlohmann::json Find(const std::string& name) {
  for (const auto& u : StatusFixture())
    if (u["name"] == name) return u;
  return nullptr;
}

// Timestamps print in the local zone, as systemctl's: these tests run in UTC.
class UnitPropertiesTest : public ::testing::Test {
 protected:
  std::string Show(const std::string& unit, ShowOptions o = {}) {
    return FormatProperties(UnitProperties(Find(unit)), o);
  }

 private:
  testing::ScopedTimeZone utc_{"UTC"};
};

TEST_F(UnitPropertiesTest, ARunningServiceInSystemdsNamesAndFormats) {
  EXPECT_EQ(Show("web.service"),
            "Type=notify\n"
            "WatchdogUSec=30s\n"
            "MainPID=1234\n"
            "ControlPID=0\n"
            "StatusText=serving\n"
            "StatusErrno=0\n"
            "Result=success\n"
            "NRestarts=0\n"
            "ExecMainExitTimestampMonotonic=0\n"
            "ExecMainPID=1234\n"
            "ExecMainCode=0\n"
            "ExecMainStatus=0\n"
            "MemoryCurrent=10485760\n"
            "CPUUsageNSec=1500000000\n"
            "TasksCurrent=7\n"
            "Id=web.service\n"
            "Names=web.service\n"
            "TriggeredBy=web.socket\n"
            "Description=Web server\n"
            "LoadState=loaded\n"
            "ActiveState=active\n"
            "SubState=running\n"
            "FragmentPath=/etc/supd/units/web.service\n"
            "UnitFileState=enabled\n"
            "StateChangeTimestamp=Thu 2026-12-03 21:35:26 UTC\n"
            "StateChangeTimestampMonotonic=5000000\n"
            "ActiveEnterTimestamp=Thu 2026-12-03 21:35:26 UTC\n"
            "InvocationID=0123456789abcdef0123456789abcdef\n");
}

TEST_F(UnitPropertiesTest, AFailedServiceHasItsLastExitAndNotSetUsage) {
  ShowOptions o;
  o.properties = {
      "Result",   "ExecMainExitTimestamp", "ExecMainPID",  "ExecMainCode", "ExecMainStatus",
      "MainPID",  "MemoryCurrent",         "CPUUsageNSec", "TasksCurrent", "ActiveState",
      "SubState", "ActiveEnterTimestamp",  "WatchdogUSec", "NRestarts",    "TriggeredBy"};
  // In systemd's order, not the order asked; asked-for empty values print empty.
  EXPECT_EQ(Show("crash.service", o),
            "WatchdogUSec=0\n"
            "MainPID=0\n"
            "Result=exit-code\n"
            "NRestarts=5\n"
            "ExecMainExitTimestamp=Thu 2026-12-03 21:30:00 UTC\n"
            "ExecMainPID=4321\n"
            "ExecMainCode=1\n"
            "ExecMainStatus=2\n"
            "MemoryCurrent=[not set]\n"
            "CPUUsageNSec=[not set]\n"
            "TasksCurrent=[not set]\n"
            "TriggeredBy=\n"
            "ActiveState=failed\n"
            "SubState=failed\n"
            "ActiveEnterTimestamp=\n");
}

TEST_F(UnitPropertiesTest, ExecMainCodeIsKilledOrDumpedWithTheSignalNumber) {
  ShowOptions o;
  o.properties = {"ExecMainCode", "ExecMainStatus"};
  EXPECT_EQ(Show("loop.service", o), "ExecMainCode=2\nExecMainStatus=9\n");
  EXPECT_EQ(Show("seg.service", o), "ExecMainCode=3\nExecMainStatus=11\n");
}

TEST_F(UnitPropertiesTest, ValueOnlyUnknownPropertiesAndExpectedValues) {
  ShowOptions o;
  o.properties = {"MainPID"};
  o.value_only = true;
  EXPECT_EQ(Show("web.service", o), "1234\n");
  // An unknown property prints nothing, as systemctl.
  o.properties = {"NoSuchProperty", "SubState"};
  EXPECT_EQ(Show("web.service", o), "running\n");
  o.properties = {"NoSuchProperty"};
  EXPECT_EQ(Show("web.service", o), "");
  // "Name=value": only when it has that value.
  o.value_only = false;
  o.properties = {"ActiveState=active"};
  EXPECT_EQ(Show("web.service", o), "ActiveState=active\n");
  EXPECT_EQ(Show("crash.service", o), "");
}

TEST_F(UnitPropertiesTest, AllShowsEmptyValuesToo) {
  ShowOptions o;
  o.all = true;
  const std::string all = Show("web.service", o);
  EXPECT_NE(all.find("\nExecMainExitTimestamp=\n"), std::string::npos) << all;
  EXPECT_NE(all.find("\nLoadError=\n"), std::string::npos) << all;
  EXPECT_EQ(Show("web.service").find("LoadError"), std::string::npos);
}

TEST_F(UnitPropertiesTest, ASocketListsItsAddressesAndTheServiceItTriggers) {
  EXPECT_EQ(Show("web.socket"),
            "Listen=127.0.0.1:8080 (Stream)\n"
            "Listen=/run/web.dgram (Datagram)\n"
            "Result=success\n"
            "Id=web.socket\n"
            "Names=web.socket\n"
            "Triggers=web.service\n"
            "Description=Web socket\n"
            "LoadState=loaded\n"
            "ActiveState=active\n"
            "SubState=running\n"
            "FragmentPath=/etc/supd/units/web.socket\n"
            "UnitFileState=enabled\n"
            "StateChangeTimestamp=Thu 2026-12-03 21:35:00 UTC\n"
            "ActiveEnterTimestamp=Thu 2026-12-03 21:35:00 UTC\n");
}

TEST_F(UnitPropertiesTest, TargetsAndUnitsThatDidNotLoad) {
  EXPECT_EQ(Show("app.target"),
            "Id=app.target\n"
            "Names=app.target\n"
            "Description=App\n"
            "LoadState=loaded\n"
            "ActiveState=active\n"
            "SubState=active\n"
            "FragmentPath=/etc/supd/units/app.target\n"
            "UnitFileState=enabled\n"
            "StateChangeTimestamp=Thu 2026-12-03 21:35:30 UTC\n"
            "ActiveEnterTimestamp=Thu 2026-12-03 21:35:30 UTC\n");
  ShowOptions o;
  o.properties = {"LoadState", "ActiveState", "SubState", "Result", "LoadError"};
  EXPECT_EQ(Show("broken.service", o),
            "Result=success\n"
            "LoadState=bad-setting\n"
            "ActiveState=inactive\n"
            "SubState=dead\n"
            "LoadError=org.freedesktop.systemd1.BadUnitSetting \"/etc/supd/units/broken.service: "
            "[Service] has no ExecStart=\"\n");
  EXPECT_EQ(Show("masked.service", o),
            "Result=success\n"
            "LoadState=masked\n"
            "ActiveState=inactive\n"
            "SubState=dead\n"
            "LoadError=org.freedesktop.systemd1.UnitMasked \"Unit masked.service is masked.\"\n");
}

// A name supd has no unit for: what systemctl shows for one.
TEST_F(UnitPropertiesTest, AnUnknownUnitIsNotFoundAndInactive) {
  EXPECT_EQ(FormatProperties(NotFoundProperties("nope.service"), {}),
            "WatchdogUSec=0\n"
            "MainPID=0\n"
            "ControlPID=0\n"
            "StatusErrno=0\n"
            "Result=success\n"
            "NRestarts=0\n"
            "ExecMainExitTimestampMonotonic=0\n"
            "ExecMainPID=0\n"
            "ExecMainCode=0\n"
            "ExecMainStatus=0\n"
            "MemoryCurrent=[not set]\n"
            "CPUUsageNSec=[not set]\n"
            "TasksCurrent=[not set]\n"
            "Id=nope.service\n"
            "Names=nope.service\n"
            "Description=nope.service\n"
            "LoadState=not-found\n"
            "ActiveState=inactive\n"
            "SubState=dead\n"
            "StateChangeTimestampMonotonic=0\n"
            "LoadError=org.freedesktop.systemd1.NoSuchUnit \"Unit nope.service not found.\"\n");
  ShowOptions o;
  o.properties = {"LoadState", "Listen"};
  EXPECT_EQ(FormatProperties(NotFoundProperties("nope.socket"), o), "LoadState=not-found\n");
}

TEST_F(UnitPropertiesTest, AValueWithANewlineIsUnprintable) {
  auto web = Find("web.service");
  web["status_text"] = "two\nlines";
  ShowOptions o;
  o.properties = {"StatusText"};
  EXPECT_EQ(FormatProperties(UnitProperties(web), o), "StatusText=[unprintable]\n");
}

TEST_F(UnitPropertiesTest, NeverThrowsOnGarbage) {
  EXPECT_NO_THROW(UnitProperties(nlohmann::json::array()));
  EXPECT_NO_THROW(UnitProperties(nlohmann::json{{"name", 1},
                                                {"last_exit", {{"code", "x"}, {"pid", "y"}}},
                                                {"since", "yesterday"},
                                                {"resources", 5}}));
}

TEST(SystemdFormatTest, TimespansAsSystemdPrintsThem) {
  EXPECT_EQ(FormatSystemdTimespan(0), "0");
  EXPECT_EQ(FormatSystemdTimespan(100000), "100ms");
  EXPECT_EQ(FormatSystemdTimespan(30000000), "30s");
  EXPECT_EQ(FormatSystemdTimespan(90000000), "1min 30s");
  EXPECT_EQ(FormatSystemdTimespan(1500000), "1.500000s");
  EXPECT_EQ(FormatSystemdTimespan(1500), "1.500ms");
  EXPECT_EQ(FormatSystemdTimespan(7), "7us");
  EXPECT_EQ(FormatSystemdTimespan(90061000000ULL), "1d 1h 1min 1s");
  EXPECT_EQ(FormatSystemdTimespan(std::numeric_limits<uint64_t>::max()), "infinity");
}

TEST_F(UnitPropertiesTest, TimestampsAsSystemdPrintsThem) {
  EXPECT_EQ(FormatSystemdTimestamp(0), "");
  EXPECT_EQ(FormatSystemdTimestamp(1796333726123456), "Thu 2026-12-03 21:35:26 UTC");
}

}  // namespace
}  // namespace supd::control
