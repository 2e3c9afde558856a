#include "lib/control/enable_format.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace supd::control {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(EnableFormatTest, ChangeLinesAreSystemctls) {
  const nlohmann::json reply = nlohmann::json::parse(R"({"changes": [
    {"created": true, "path": "/u/multi-user.target.wants/web.service",
     "target": "/u/web.service"},
    {"created": false, "path": "/u/app.target.wants/web.service", "target": null}],
    "notes": []})");
  EXPECT_THAT(EnableChangeLines(reply),
              ElementsAre("Created symlink /u/multi-user.target.wants/web.service → "
                          "/u/web.service.",
                          "Removed \"/u/app.target.wants/web.service\"."));
  // Nothing changed (already enabled, or static): nothing to say.
  EXPECT_THAT(EnableChangeLines(nlohmann::json::parse(R"({"changes": []})")), IsEmpty());
  EXPECT_THAT(EnableChangeLines(nlohmann::json::object()), IsEmpty());
  EXPECT_THAT(EnableChangeLines(nlohmann::json::parse(R"({"changes": [1, "x"]})")), IsEmpty());
}

TEST(EnableFormatTest, ParsesEveryStateWord) {
  for (EnableState s : {EnableState::kEnabled, EnableState::kStatic, EnableState::kDisabled,
                        EnableState::kAlias, EnableState::kIndirect, EnableState::kMasked})
    EXPECT_EQ(ParseEnableState(EnableStateName(s)), s) << EnableStateName(s);
  EXPECT_FALSE(ParseEnableState("generated").has_value());
  EXPECT_FALSE(ParseEnableState("").has_value());
}

// systemctl is-enabled: 0 when any unit is enabled, static, alias or indirect.
TEST(EnableFormatTest, IsEnabledExitRule) {
  EXPECT_TRUE(AnyEnableStateOk({"enabled"}));
  EXPECT_TRUE(AnyEnableStateOk({"static"}));
  EXPECT_TRUE(AnyEnableStateOk({"alias"}));
  EXPECT_TRUE(AnyEnableStateOk({"indirect"}));
  EXPECT_TRUE(AnyEnableStateOk({"disabled", "masked", "enabled"}));
  EXPECT_FALSE(AnyEnableStateOk({"disabled"}));
  EXPECT_FALSE(AnyEnableStateOk({"masked"}));
  EXPECT_FALSE(AnyEnableStateOk({"disabled", "masked"}));
  EXPECT_FALSE(AnyEnableStateOk({"something-new"}));
  EXPECT_FALSE(AnyEnableStateOk({}));
}

TEST(EnableFormatTest, NotFoundInSystemctlsWords) {
  EXPECT_EQ(UnitFileStateNotFound("x.service"),
            "Failed to get unit file state for x.service: No such file or directory");
}

}  // namespace
}  // namespace supd::control
