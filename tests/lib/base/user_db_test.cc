#include "lib/base/user_db.h"

#include <gtest/gtest.h>

#include <string>

namespace supd {
namespace {

TEST(Uid, SystemdsParseUid) {
  EXPECT_EQ(0u, *ParseUid("0"));
  EXPECT_EQ(1000u, *ParseUid("1000"));
  EXPECT_EQ(65534u, *ParseUid("65534"));
  EXPECT_EQ(65536u, *ParseUid("65536"));
  EXPECT_EQ(4294967294u, *ParseUid("4294967294"));
  EXPECT_EQ("'4294967296' is out of range (numeric user and group IDs are 0..4294967294)",
            ParseUid("4294967296").error().message);
  EXPECT_EQ(
      "'123456789012345678901' is out of range (numeric user and group IDs are 0..4294967294)",
      ParseUid("123456789012345678901").error().message);
  EXPECT_EQ("'4294967295' is reserved (4294967295 and 65535 mean \"no ID\")",
            ParseUid("4294967295").error().message);
  EXPECT_EQ("'65535' is reserved (4294967295 and 65535 mean \"no ID\")",
            ParseUid("65535").error().message);
  EXPECT_EQ("'0042': a numeric ID must not have leading zeros", ParseUid("0042").error().message);
  for (const char* bad : {"", "-1", "+1", " 1", "1 ", "1x", "0x10", "bob"}) {
    EXPECT_EQ("'" + std::string(bad) + "' is not a number", ParseUid(bad).error().message) << bad;
  }
}

TEST(UserDb, FindsUsersAndGroupsByNameAndId) {
  auto root = FindUserById(0, "look up uid 0");
  ASSERT_TRUE(root.ok()) << root.error().message;
  ASSERT_TRUE(*root);
  EXPECT_EQ("root", (*root)->name);
  EXPECT_EQ(0u, (*root)->gid);
  auto by_name = UserByName("root", "look up user 'root'");
  ASSERT_TRUE(by_name.ok()) << by_name.error().message;
  EXPECT_EQ(0u, by_name->uid);
  EXPECT_EQ((*root)->home, by_name->home);

  auto group = FindGroupById(0, "look up gid 0");
  ASSERT_TRUE(group.ok()) << group.error().message;
  ASSERT_TRUE(*group);
  EXPECT_EQ("root", (*group)->name);
  auto group_by_name = GroupByName("root", "look up group 'root'");
  ASSERT_TRUE(group_by_name.ok()) << group_by_name.error().message;
  EXPECT_EQ(0u, group_by_name->gid);
}

TEST(UserDb, AMissingEntryIsNothingOrAnErrorNamingWhatWasDone) {
  auto none = FindUserByName("supd-no-such-user", "x");
  ASSERT_TRUE(none.ok()) << none.error().message;
  EXPECT_FALSE(*none);
  auto no_group = FindGroupById(3000000001u, "x");
  ASSERT_TRUE(no_group.ok()) << no_group.error().message;
  EXPECT_FALSE(*no_group);
  EXPECT_EQ("web.socket: SocketUser= 'supd-no-such-user': no such user",
            UserByName("supd-no-such-user", "web.socket: SocketUser= 'supd-no-such-user'")
                .error()
                .message);
  EXPECT_EQ(
      "look up group 'supd-no-such-group': no such group",
      GroupByName("supd-no-such-group", "look up group 'supd-no-such-group'").error().message);
}

TEST(UserDb, LookupUserTakesANameOrAnyValidUid) {
  auto root = LookupUser("root");
  ASSERT_TRUE(root.ok()) << root.error().message;
  EXPECT_EQ(0u, root->uid);
  auto zero = LookupUser("0");
  ASSERT_TRUE(zero.ok()) << zero.error().message;
  EXPECT_EQ("root", zero->name);
  // Above INT_MAX and without a passwd entry: valid, as in systemd (read as an int, it was
  // once taken for a name and failed with "no such user").
  auto big = LookupUser("3000000000");
  ASSERT_TRUE(big.ok()) << big.error().message;
  EXPECT_EQ(3000000000u, big->uid);
  EXPECT_EQ(3000000000u, big->gid);
  EXPECT_EQ("3000000000", big->name);
  EXPECT_EQ("/", big->home);
  EXPECT_EQ("/bin/sh", big->shell);
  EXPECT_EQ("look up user 'supd-no-such-user': no such user",
            LookupUser("supd-no-such-user").error().message);
}

TEST(UserDb, LookupGroupTakesANameOrAnyValidGid) {
  auto root = LookupGroup("root");
  ASSERT_TRUE(root.ok()) << root.error().message;
  EXPECT_EQ(0u, *root);
  auto big = LookupGroup("3000000000");
  ASSERT_TRUE(big.ok()) << big.error().message;
  EXPECT_EQ(3000000000u, *big);
  EXPECT_EQ("look up group 'supd-no-such-group': no such group",
            LookupGroup("supd-no-such-group").error().message);
}

TEST(UserDb, SupplementaryGroupsStartWithThePrimaryGroup) {
  auto root = LookupUser("root");
  ASSERT_TRUE(root.ok()) << root.error().message;
  auto groups = SupplementaryGroupsOf(*root);
  ASSERT_TRUE(groups.ok()) << groups.error().message;
  ASSERT_FALSE(groups->empty());
  EXPECT_EQ(root->gid, groups->front());
}

}  // namespace
}  // namespace supd

namespace supd {
namespace {

TEST(ManagerUser, RootAndNobodyNeedNoLookupAndHomeIsHomeSimplified) {
  EXPECT_EQ("root", ManagerUserSpecifiers(0, nullptr).name);
  EXPECT_EQ("/root", ManagerUserSpecifiers(0, nullptr).home);
  EXPECT_EQ("nobody", ManagerUserSpecifiers(65534, nullptr).name);
  EXPECT_EQ("/", ManagerUserSpecifiers(65534, nullptr).home);
  // systemd's get_home_dir() takes an absolute $HOME first, for root too, and simplifies it.
  EXPECT_EQ("/srv/home", ManagerUserSpecifiers(0, "/srv/home").home);
  EXPECT_EQ("/srv/x", ManagerUserSpecifiers(0, "/srv//x").home);
  EXPECT_EQ("/home/bob", ManagerUserSpecifiers(0, "/home/bob/").home);
  EXPECT_EQ("/a/b", ManagerUserSpecifiers(0, "/a/./b/.").home);
  EXPECT_EQ("/a/../b", ManagerUserSpecifiers(0, "/a/../b").home);  // ".." may cross a symlink
  EXPECT_EQ("/", ManagerUserSpecifiers(0, "//").home);
  for (const char* bad : {"", "relative", "./x"})
    EXPECT_EQ("/root", ManagerUserSpecifiers(0, bad).home) << bad;
  EXPECT_EQ("root", ManagerUserSpecifiers(0, "/srv/home").name);
}

TEST(ManagerUser, AnotherUidIsNamedByTheDatabaseOrByItsNumber) {
  // Not $USER: %u must name the user %U numbers. A uid without an entry is its number.
  const uid_t unknown = 3999999;
  ASSERT_FALSE(*FindUserById(unknown, "test")) << "uid 3999999 has a passwd entry here";
  EXPECT_EQ("3999999", ManagerUserSpecifiers(unknown, nullptr).name);
  EXPECT_EQ("/", ManagerUserSpecifiers(unknown, nullptr).home);
  EXPECT_EQ("/home/x", ManagerUserSpecifiers(unknown, "/home/x").home);
  auto daemon_user = FindUserByName("daemon", "test");  // Debian's uid 1, home /usr/sbin
  ASSERT_TRUE(daemon_user.ok() && *daemon_user) << "this test needs the user daemon";
  EXPECT_EQ("daemon", ManagerUserSpecifiers((*daemon_user)->uid, nullptr).name);
  EXPECT_EQ((*daemon_user)->home, ManagerUserSpecifiers((*daemon_user)->uid, nullptr).home);
}

}  // namespace
}  // namespace supd
