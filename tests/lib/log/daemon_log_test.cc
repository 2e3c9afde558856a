#include "lib/log/daemon_log.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

namespace supd {
namespace {

TEST(DaemonLog, JournalStreamMustNameTheVeryFd) {
  int sv[2];
  ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
  struct stat st;
  ASSERT_EQ(0, fstat(sv[0], &st));
  const std::string mine = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
  EXPECT_TRUE(FdIsJournalStream(mine.c_str(), sv[0]));
  EXPECT_FALSE(FdIsJournalStream(mine.c_str(), sv[1]));  // another socket
  EXPECT_FALSE(FdIsJournalStream(nullptr, sv[0]));
  EXPECT_FALSE(FdIsJournalStream("garbage", sv[0]));
  EXPECT_FALSE(FdIsJournalStream((mine + "x").c_str(), sv[0]));
  EXPECT_FALSE(FdIsJournalStream((std::to_string(st.st_dev) + ":").c_str(), sv[0]));
  EXPECT_FALSE(FdIsJournalStream((":" + std::to_string(st.st_ino)).c_str(), sv[0]));
  EXPECT_FALSE(FdIsJournalStream((mine + ":1").c_str(), sv[0]));
  close(sv[0]);
  close(sv[1]);
}

}  // namespace
}  // namespace supd
