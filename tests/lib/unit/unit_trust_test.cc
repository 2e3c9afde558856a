#include "lib/unit/unit_trust.h"

#include <gtest/gtest.h>
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
  EXPECT_TRUE(CheckUnitFileTrust(Make("a.service", 0644), geteuid(), getegid()).ok());
  EXPECT_TRUE(CheckUnitFileTrust(Make("b.service", 0600), geteuid(), getegid()).ok());
}

TEST_F(UnitTrustTest, WorldWritableIsRefusedWithTheFix) {
  const std::string p = Make("w.service", 0646);
  auto r = CheckUnitFileTrust(p, geteuid(), getegid());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(p + ": refusing a unit file writable by others (mode 0646; chmod o-w " + p + ")",
            r.error().message);
}

TEST_F(UnitTrustTest, GroupWritableIsRefusedUnlessTheGroupIsRoot) {
  const std::string p = Make("g.service", 0664);
  auto r = CheckUnitFileTrust(p, geteuid(), getegid());
  struct stat st;
  ASSERT_EQ(0, stat(p.c_str(), &st));
  if (st.st_gid == 0) {
    EXPECT_TRUE(r.ok());
  } else {
    ASSERT_FALSE(r.ok());
    EXPECT_NE(std::string::npos, r.error().message.find("writable by group")) << r.error().message;
  }
}

// umask 002 with user private groups: an unprivileged supd trusts its own primary group, root
// trusts no group but root's.
TEST_F(UnitTrustTest, UnprivilegedSupdTrustsItsOwnPrimaryGroup) {
  const std::string p = Make("upg.service", 0664);
  struct stat st;
  ASSERT_EQ(0, stat(p.c_str(), &st));
  if (st.st_gid == 0) {
    if (geteuid() != 0) GTEST_SKIP() << "the file's group is root's: nothing to tell apart";
    ASSERT_EQ(0, chown(p.c_str(), 0, 4242));
  }
  const gid_t gid = st.st_gid == 0 ? 4242 : st.st_gid;
  EXPECT_TRUE(CheckUnitFileTrust(p, 4242, gid).ok()) << "an unprivileged supd's own group";
  ASSERT_EQ(0, chown(p.c_str(), static_cast<uid_t>(-1), gid)) << "(ownership unchanged)";
  auto as_root = CheckUnitFileTrust(p, 0, gid);
  ASSERT_FALSE(as_root.ok()) << "root does not trust a non-root group";
  EXPECT_NE(std::string::npos, as_root.error().message.find("writable by group " + std::to_string(gid)))
      << as_root.error().message;
  auto other = CheckUnitFileTrust(p, 4242, gid + 1);
  EXPECT_FALSE(other.ok()) << "another group";
}

TEST_F(UnitTrustTest, FileOfAnotherUserIsRefused) {
  const std::string p = Make("u.service", 0644);
  // As if supd ran as uid 4242: a file of ours (not root's, unless we are root) is another's.
  if (geteuid() == 0) {
    ASSERT_EQ(0, chown(p.c_str(), 4242, 0));
    auto r = CheckUnitFileTrust(p, 0, 0);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(std::string::npos, r.error().message.find("owned by uid 4242")) << r.error().message;
    EXPECT_TRUE(CheckUnitFileTrust(p, 4242, 4242).ok()) << "supd's own files are trusted";
  } else {
    auto r = CheckUnitFileTrust(p, geteuid() + 1, getegid());
    ASSERT_FALSE(r.ok());
    EXPECT_NE(std::string::npos, r.error().message.find("owned by uid")) << r.error().message;
  }
}

TEST_F(UnitTrustTest, DropinsAreCheckedTooAndMissingFilesAreErrors) {
  const std::string unit = Make("d.service", 0644);
  const std::string bad = Make("d.conf", 0666);
  auto r = CheckUnitFilesTrust(unit, {bad}, geteuid(), getegid());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(0u, r.error().message.rfind(bad + ": refusing", 0)) << r.error().message;
  auto missing = CheckUnitFileTrust(dir_ + "/nope.service", geteuid(), getegid());
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(std::string::npos, missing.error().message.find("stat " + dir_ + "/nope.service"))
      << missing.error().message;
}

}  // namespace
}  // namespace supd
