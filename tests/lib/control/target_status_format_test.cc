#include "lib/control/target_status_format.h"

#include <gtest/gtest.h>

namespace supd::control {
namespace {

TEST(TargetStatusFormatTest, ActiveWithMembers) {
  nlohmann::json t = nlohmann::json::parse(R"({
    "name": "myapp.target", "unit_type": "target", "loaded": true, "standard": false,
    "unit_path": "/etc/supd/units/myapp.target", "description": "My app", "load_error": null,
    "enabled": true, "enable_state": "enabled", "state": "active", "sub_state": "active",
    "since": "2026-12-03T04:05:06.000000Z", "dependency_error": null, "job": null,
    "waiting_for": [],
    "members": [{"unit": "api.service", "state": "running"},
                {"unit": "db.service", "state": "failed"}],
    "warnings": []})");
  EXPECT_EQ(FormatTargetStatus(t),
            "● myapp.target - My app\n"
            "     Loaded: loaded (/etc/supd/units/myapp.target; enabled)\n"
            "     Active: active since 2026-12-03T04:05:06.000000Z\n"
            "    Members: api.service (running)\n"
            "             db.service (failed)\n");
}

TEST(TargetStatusFormatTest, InactiveWaitingOnACycle) {
  nlohmann::json t = nlohmann::json::parse(R"j({
    "name": "myapp.target", "loaded": true, "unit_path": "/u/myapp.target",
    "description": "", "enable_state": "disabled", "state": "inactive", "sub_state": "dead",
    "since": null,
    "dependency_error": "ordering cycle: myapp.target -> a.service -> myapp.target (After=)",
    "job": "start", "waiting_for": ["a.service"], "members": [],
    "warnings": ["/u/myapp.target:3: Foo= is not supported by supd, ignoring"]})j");
  EXPECT_EQ(FormatTargetStatus(t),
            "○ myapp.target\n"
            "     Loaded: loaded (/u/myapp.target; disabled)\n"
            "     Active: inactive (dead)\n"
            " Dependency: ordering cycle: myapp.target -> a.service -> myapp.target (After=)\n"
            "        Job: start (waiting for a.service)\n"
            "    Warning: /u/myapp.target:3: Foo= is not supported by supd, ignoring\n");
}

TEST(TargetStatusFormatTest, NotLoadedAndStandard) {
  nlohmann::json t = nlohmann::json::parse(R"({
    "name": "broken.target", "loaded": false, "unit_path": "/u/broken.target",
    "load_error": "/u/broken.target:2: unknown section [Service]", "state": "inactive",
    "sub_state": "dead", "since": null})");
  EXPECT_EQ(FormatTargetStatus(t),
            "○ broken.target\n"
            "     Loaded: error (/u/broken.target)\n"
            "      Error: /u/broken.target:2: unknown section [Service]\n"
            "     Active: inactive (dead)\n");
  nlohmann::json m = nlohmann::json::parse(R"({
    "name": "multi-user.target", "loaded": true, "standard": true, "unit_path": "",
    "enable_state": "static", "state": "active", "sub_state": "active",
    "since": "2026-12-03T04:05:06.000000Z",
    "members": [{"unit": "web.service", "state": "running"}]})");
  EXPECT_EQ(FormatTargetStatus(m),
            "● multi-user.target\n"
            "     Loaded: loaded (standard target, no unit file; static)\n"
            "     Active: active since 2026-12-03T04:05:06.000000Z\n"
            "    Members: web.service (running)\n");
}

// A reply from another supd version: missing fields show as empty, never throw.
TEST(TargetStatusFormatTest, MissingFieldsDoNotThrow) {
  EXPECT_EQ(FormatTargetStatus(nlohmann::json::object()),
            "○ \n"
            "     Loaded: error\n"
            "     Active: \n");
  EXPECT_NO_THROW(FormatTargetStatus(nlohmann::json::parse(
      R"({"members": [1, {"unit": 2}], "waiting_for": "x", "job": "start", "warnings": [3]})")));
}

}  // namespace
}  // namespace supd::control
