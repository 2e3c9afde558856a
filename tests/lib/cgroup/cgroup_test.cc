#include "lib/cgroup/cgroup.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace supd {
namespace {

// A fake cgroup2 mount in a temporary directory: plain files where the kernel has its own.
class CgroupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/supd-cgroup-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(root_); }
  void Write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

  std::string root_;
};

TEST_F(CgroupTest, RefusesATreeWhereChildrenCannotBeMoved) {
  auto tree = CgroupTree::CreateAt(root_, "/", "supd-test");
  ASSERT_FALSE(tree.ok());
  EXPECT_EQ(tree.error().message, "write access to " + root_ +
                                      "/supd-test/cgroup.procs: No such file or directory");
}

TEST_F(CgroupTest, CreatesServiceCgroupsUnderItsOwnCgroup) {
  ASSERT_EQ(0, mkdir((root_ + "/own").c_str(), 0755));
  ASSERT_EQ(0, mkdir((root_ + "/own/supd-test").c_str(), 0755));
  Write(root_ + "/own/supd-test/cgroup.procs", "");
  auto tree = CgroupTree::CreateAt(root_, "/own", "supd-test");
  ASSERT_TRUE(tree.ok()) << tree.error().message;
  EXPECT_EQ(tree->path(), root_ + "/own/supd-test");
  auto cg = tree->ServiceCgroup("web.service");
  ASSERT_TRUE(cg.ok());
  EXPECT_EQ(*cg, root_ + "/own/supd-test/web.service");
  EXPECT_TRUE(std::filesystem::is_directory(*cg));
  // Asking again reuses it.
  EXPECT_TRUE(tree->ServiceCgroup("web.service").ok());
}

TEST_F(CgroupTest, ReadsPids) {
  Write(root_ + "/cgroup.procs", "12\n345\n");
  EXPECT_EQ(CgroupPids(root_), (std::vector<pid_t>{12, 345}));
  EXPECT_TRUE(CgroupPids(root_ + "/missing").empty());
}

TEST_F(CgroupTest, ChildCgroupsAreTheSubdirectoriesButHiddenOnesAndLinks) {
  for (const char* dir : {"/a.service", "/b.service", "/.hidden"})
    ASSERT_EQ(0, mkdir((root_ + dir).c_str(), 0755));
  Write(root_ + "/cgroup.procs", "");
  ASSERT_EQ(0, symlink((root_ + "/a.service").c_str(), (root_ + "/link").c_str()));
  std::vector<std::string> children = ChildCgroups(root_);
  std::sort(children.begin(), children.end());
  EXPECT_EQ(children, (std::vector<std::string>{root_ + "/a.service", root_ + "/b.service"}));
  EXPECT_TRUE(ChildCgroups(root_ + "/missing").empty());
  EXPECT_TRUE(ChildCgroups(root_ + "/cgroup.procs").empty());
}

TEST_F(CgroupTest, EmptinessComesFromCgroupEvents) {
  Write(root_ + "/cgroup.events", "populated 1\nfrozen 0\n");
  ASSERT_TRUE(CgroupIsEmpty(root_).ok());
  EXPECT_FALSE(*CgroupIsEmpty(root_));
  Write(root_ + "/cgroup.events", "populated 0\nfrozen 0\n");
  EXPECT_TRUE(*CgroupIsEmpty(root_));
  // Unknown is never "empty": a stop must not conclude on a read error.
  auto missing = CgroupIsEmpty(root_ + "/missing");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message,
            "read " + root_ + "/missing/cgroup.events: No such file or directory");
}

TEST_F(CgroupTest, RemovingAGoneCgroupIsFine) {
  EXPECT_TRUE(RemoveCgroup(root_ + "/never-was").ok());
  ASSERT_EQ(0, mkdir((root_ + "/x").c_str(), 0755));
  EXPECT_TRUE(RemoveCgroup(root_ + "/x").ok());
  EXPECT_FALSE(std::filesystem::exists(root_ + "/x"));
}

TEST_F(CgroupTest, OpenProcsNamesTheFileOnError) {
  auto fd = OpenCgroupProcs(root_ + "/nope");
  ASSERT_FALSE(fd.ok());
  EXPECT_EQ(fd.error().message, "open " + root_ + "/nope/cgroup.procs: No such file or directory");
}

}  // namespace
}  // namespace supd
