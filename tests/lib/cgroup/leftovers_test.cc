#include "lib/cgroup/leftovers.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <fstream>
#include <set>

namespace supd {
namespace {

// A fake cgroup tree: directories with cgroup.events and cgroup.procs written by the test.
class LeftoversTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/supd-leftovers-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(root_); }
  void Cgroup(const std::string& rel, bool populated, const std::string& procs) {
    std::filesystem::create_directories(root_ + "/" + rel);
    std::ofstream(root_ + "/" + rel + "/cgroup.events")
        << "populated " << (populated ? 1 : 0) << "\nfrozen 0\n";
    std::ofstream(root_ + "/" + rel + "/cgroup.procs") << procs;
  }
  std::string root_;
};

TEST_F(LeftoversTest, FindsPopulatedCgroupsThatHoldProcessesThemselves) {
  Cgroup("web.service", true, "");
  Cgroup("web.service/1111", true, "4194301\n4194302\n");
  Cgroup("web.service/2222", false, "");
  Cgroup("idle.service", false, "");
  Cgroup("idle.service/3333", false, "");
  Cgroup("deep.service", true, "");
  Cgroup("deep.service/4444", true, "");
  Cgroup("deep.service/4444/too-deep", true, "4194303\n");
  auto found = FindPopulatedCgroups(root_);
  EXPECT_EQ((std::set<std::string>{root_ + "/web.service/1111"}),
            std::set<std::string>(found.begin(), found.end()));
  auto deeper = FindPopulatedCgroups(root_, 3);
  EXPECT_EQ(
      (std::set<std::string>{root_ + "/web.service/1111", root_ + "/deep.service/4444/too-deep"}),
      std::set<std::string>(deeper.begin(), deeper.end()));
}

TEST_F(LeftoversTest, NothingLeftCallsDoneAtOnce) {
  Cgroup("web.service", false, "");
  boost::asio::io_context io;
  bool done = false;
  LeftoverStopper stopper(io, root_, [&] { done = true; });
  EXPECT_TRUE(done);
  EXPECT_FALSE(stopper.pending());
  EXPECT_EQ(0u, io.poll());
}

}  // namespace
}  // namespace supd
