#include "lib/unit/unit_trust.h"

#include <gtest/gtest.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

namespace supd {
namespace {

class UnitTrustTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/supd-trust-XXXXXX";
    ASSERT_NE(nullptr, mkdtemp(tmpl));
    dir_ = tmpl;
  }
  void TearDown() override { (void)!system(("rm -rf " + dir_).c_str()); }
  std::string Make(const std::string& name, mode_t mode) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path) << "[Service]\nExecStart=/bin/true\n";
    chmod(path.c_str(), mode);
    return path;
  }
  std::string dir_;
};

TEST_F(UnitTrustTest, OwnFileNotWritableByOthersIsTrusted) {
  EXPECT_TRUE(CheckUnitFileTrust(Make("a.service", 0644), geteuid(), std::nullopt).ok());
  EXPECT_TRUE(CheckUnitFileTrust(Make("b.service", 0600), geteuid(), std::nullopt).ok());
}

TEST_F(UnitTrustTest, WorldWritableIsRefusedWithTheFix) {
  const std::string p = Make("w.service", 0646);
  auto r = CheckUnitFileTrust(p, geteuid(), std::nullopt);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(p + ": refusing a unit file writable by others (mode 0646; chmod o-w " + p + ")",
            r.error().message);
}

TEST_F(UnitTrustTest, GroupWritableIsRefusedUnlessTheGroupIsRoot) {
  const std::string p = Make("g.service", 0664);
  auto r = CheckUnitFileTrust(p, geteuid(), std::nullopt);
  struct stat st;
  ASSERT_EQ(0, stat(p.c_str(), &st));
  if (st.st_gid == 0) {
    EXPECT_TRUE(r.ok());
  } else {
    ASSERT_FALSE(r.ok());
    EXPECT_NE(std::string::npos, r.error().message.find("writable by group")) << r.error().message;
  }
}

// umask 002 with user private groups: the group PrivateGroupOf names is trusted, no other.
TEST_F(UnitTrustTest, TheTrustedGroupMayWriteOtherGroupsMayNot) {
  const std::string p = Make("upg.service", 0664);
  const uid_t uid = geteuid();
  if (uid == 0) {
    ASSERT_EQ(0, chown(p.c_str(), 0, 4242));
  }
  struct stat st;
  ASSERT_EQ(0, stat(p.c_str(), &st));
  if (st.st_gid == 0) GTEST_SKIP() << "the file's group is root's: nothing to tell apart";
  EXPECT_TRUE(CheckUnitFileTrust(p, uid, st.st_gid).ok()) << "the trusted group";
  auto other = CheckUnitFileTrust(p, uid, st.st_gid + 1);
  ASSERT_FALSE(other.ok()) << "another group";
  EXPECT_NE(std::string::npos,
            other.error().message.find("writable by group " + std::to_string(st.st_gid)))
      << other.error().message;
  EXPECT_FALSE(CheckUnitFileTrust(p, uid, std::nullopt).ok()) << "no trusted group";
}

// Root trusts no group but root's; a user trusts its primary group only if it is private.
TEST(PrivateGroupTest, RootHasNoneAndASharedGroupIsNotPrivate) {
  EXPECT_EQ(std::nullopt, PrivateGroupOf(0, 0));
  // Debian: nobody's primary group is nogroup, named differently from the user.
  struct passwd* nobody = getpwnam("nobody");
  ASSERT_NE(nullptr, nobody);
  EXPECT_EQ(std::nullopt, PrivateGroupOf(nobody->pw_uid, nobody->pw_gid));
  // A group not named as the user (Debian's "users", gid 100) is not its private group.
  EXPECT_EQ(std::nullopt, PrivateGroupOf(nobody->pw_uid, 100));
  EXPECT_EQ(std::nullopt, PrivateGroupOf(4242424, 4242424)) << "unknown user";
  // A real user private group, where this machine has one (a Debian user made by adduser).
  for (struct passwd* pw : {getpwnam("_apt"), getpwnam("systemd-network")}) {
    if (pw == nullptr) continue;
    struct group* g = getgrgid(pw->pw_gid);
    if (g == nullptr || std::string(g->gr_name) != pw->pw_name || g->gr_mem[0] != nullptr) continue;
    EXPECT_EQ(std::optional<gid_t>(pw->pw_gid), PrivateGroupOf(pw->pw_uid, pw->pw_gid));
  }
}

TEST_F(UnitTrustTest, FileOfAnotherUserIsRefused) {
  const std::string p = Make("u.service", 0644);
  // As if supd ran as uid 4242: a file of ours (not root's, unless we are root) is another's.
  if (geteuid() == 0) {
    ASSERT_EQ(0, chown(p.c_str(), 4242, 0));
    auto r = CheckUnitFileTrust(p, 0, std::nullopt);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(std::string::npos, r.error().message.find("owned by uid 4242")) << r.error().message;
    EXPECT_TRUE(CheckUnitFileTrust(p, 4242, std::nullopt).ok()) << "supd's own files are trusted";
  } else {
    auto r = CheckUnitFileTrust(p, geteuid() + 1, std::nullopt);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(std::string::npos, r.error().message.find("owned by uid")) << r.error().message;
  }
}

TEST_F(UnitTrustTest, DropinsAreCheckedTooAndMissingFilesAreErrors) {
  const std::string unit = Make("d.service", 0644);
  const std::string bad = Make("d.conf", 0666);
  auto r = CheckUnitFilesTrust(unit, {bad}, geteuid(), std::nullopt);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(0u, r.error().message.rfind(bad + ": refusing", 0)) << r.error().message;
  auto missing = CheckUnitFileTrust(dir_ + "/nope.service", geteuid(), std::nullopt);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(std::string::npos, missing.error().message.find("stat " + dir_ + "/nope.service"))
      << missing.error().message;
}

}  // namespace
}  // namespace supd
