#include "lib/base/closest_name.h"

#include <gtest/gtest.h>

namespace supd {
namespace {

TEST(EditDistance, CountsInsertionsDeletionsSubstitutionsAndTranspositions) {
  EXPECT_EQ(0u, EditDistance("web", "web"));
  EXPECT_EQ(1u, EditDistance("helo", "hello"));
  EXPECT_EQ(1u, EditDistance("hello", "helo"));
  EXPECT_EQ(1u, EditDistance("wbe", "web"));
  EXPECT_EQ(1u, EditDistance("wxb", "web"));
  EXPECT_EQ(3u, EditDistance("", "web"));
  EXPECT_EQ(3u, EditDistance("web", ""));
  EXPECT_EQ(3u, EditDistance("kitten", "sitting"));
}

TEST(ClosestName, SuggestsATypoOfALoadedName) {
  const std::vector<std::string> names{"hello.service", "web.service", "web.socket",
                                       "multi-user.target"};
  EXPECT_EQ(std::optional<std::string>("hello.service"), ClosestName("helo.service", names));
  EXPECT_EQ(std::optional<std::string>("web.service"), ClosestName("wbe.service", names));
  EXPECT_EQ(std::optional<std::string>("web.socket"), ClosestName("web.sockte", names));
  EXPECT_EQ(std::optional<std::string>("multi-user.target"),
            ClosestName("multiuser.target", names));
}

TEST(ClosestName, NothingWhenFarOrExact) {
  const std::vector<std::string> names{"hello.service", "web.service"};
  EXPECT_EQ(std::nullopt, ClosestName("database.service", names));
  EXPECT_EQ(std::nullopt, ClosestName("db.service", names)) << "2 edits on a 2-letter stem";
  EXPECT_EQ(std::nullopt, ClosestName("hello.service", names));
  EXPECT_EQ(std::nullopt, ClosestName("x.service", {}));
}

TEST(ClosestName, TheClosestWinsAndATieGoesToTheFirst) {
  EXPECT_EQ(std::optional<std::string>("app.service"),
            ClosestName("apo.service", {"app.service", "api.service"}))
      << "both 1 edit: the first";
  EXPECT_EQ(std::optional<std::string>("worker.service"),
            ClosestName("worker2.service", {"workers-old.service", "worker.service"}));
}

}  // namespace
}  // namespace supd
