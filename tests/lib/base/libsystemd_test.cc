#include "lib/base/libsystemd.h"

#include <sys/stat.h>

#include <gtest/gtest.h>

#include <cerrno>

namespace supd {
namespace {

TEST(Libsystemd, JournalStreamFailsWithTheConnectErrorWhenJournaldIsNotThere) {
  struct stat st {};
  if (stat("/run/systemd/journal/stdout", &st) == 0)
    GTEST_SKIP() << "journald runs here: the test needs a host without it";
  const int fd = JournalStreamFd("web", 6, false);
  EXPECT_TRUE(fd == -ENOENT || fd == -ECONNREFUSED) << fd;  // not -ENOSYS: the library loaded
  EXPECT_EQ("", LibsystemdError());
}

}  // namespace
}  // namespace supd
