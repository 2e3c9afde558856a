#include "lib/base/capabilities.h"

#include <gtest/gtest.h>
#include <linux/capability.h>

namespace supd {
namespace {

TEST(Capabilities, NamesAndNumbers) {
  EXPECT_EQ(CAP_NET_BIND_SERVICE, CapabilityFromName("CAP_NET_BIND_SERVICE"));
  EXPECT_EQ(CAP_NET_BIND_SERVICE, CapabilityFromName("cap_net_bind_service"));
  EXPECT_EQ(CAP_CHOWN, CapabilityFromName("CAP_CHOWN"));
  EXPECT_EQ(CAP_CHECKPOINT_RESTORE, CapabilityFromName("CAP_CHECKPOINT_RESTORE"));
  EXPECT_EQ(21, CapabilityFromName("21"));
  EXPECT_EQ(61, CapabilityFromName("61"));
  EXPECT_EQ(std::nullopt, CapabilityFromName("62"));
  EXPECT_EQ(std::nullopt, CapabilityFromName("NET_BIND_SERVICE"));
  EXPECT_EQ(std::nullopt, CapabilityFromName("CAP_NET_BIND_SERVIC"));
  EXPECT_EQ(std::nullopt, CapabilityFromName(""));
  EXPECT_EQ(std::nullopt, CapabilityFromName("-1"));
  EXPECT_EQ(std::nullopt, CapabilityFromName("1x"));
}

TEST(Capabilities, EveryNameRoundTrips) {
  for (int cap = 0; cap <= CAP_LAST_CAP; ++cap) {
    const std::string name = CapabilityName(cap);
    EXPECT_EQ(0u, name.rfind("CAP_", 0)) << cap;
    EXPECT_EQ(cap, CapabilityFromName(name)) << name;
  }
  EXPECT_EQ("50", CapabilityName(50));
}

TEST(Capabilities, FormatSet) {
  EXPECT_EQ("", FormatCapabilitySet(0));
  EXPECT_EQ("CAP_CHOWN CAP_NET_BIND_SERVICE",
            FormatCapabilitySet((1ULL << CAP_CHOWN) | (1ULL << CAP_NET_BIND_SERVICE)));
}

}  // namespace
}  // namespace supd
