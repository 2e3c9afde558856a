// daemon/reexec: the command lines of the exec and of the fallback, the state's memfd, the dry
// run's line, and the refusals of a request that never reach the Manager.
#include "daemon/reexec.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>

namespace supd {
namespace {

using Args = std::vector<std::string>;

TEST(ReexecArgvTest, AppendsTheStateAndTheOldBinary) {
  EXPECT_EQ((Args{"/usr/sbin/supd", "--units", "/etc/supd/units", "--deserialize=7",
                  "--reexec-fallback=8"}),
            ExecArgv({"/usr/sbin/supd", "--units", "/etc/supd/units"}, 7, 8));
}

// A supd exec'd before carries the options of that exec: they are replaced, in both spellings
// CLI11 accepts, and an argument that only looks alike stays.
TEST(ReexecArgvTest, ReplacesThoseOfTheLastExec) {
  EXPECT_EQ((Args{"supd", "--log-level=debug", "--deserialize-not", "--deserialize=3",
                  "--reexec-fallback=4"}),
            ExecArgv({"supd", "--deserialize=9", "--log-level=debug", "--reexec-fallback", "10",
                      "--deserialize-not", "--check-state=2"},
                     3, 4));
}

TEST(ReexecArgvTest, WithoutAnOldBinary) {
  EXPECT_EQ((Args{"supd", "--deserialize=3"}), ExecArgv({"supd"}, 3, -1));
}

TEST(ReexecArgvTest, TheFallbackKeepsTheStateOnly) {
  EXPECT_EQ((Args{"supd", "--units=/u", "--deserialize=3"}),
            FallbackArgv({"supd", "--units=/u", "--deserialize=3", "--reexec-fallback=4"}));
}

TEST(ReexecStateTest, MemfdIsSealedAndReadTwice) {
  SavedState state;
  state.writer_version = "9.9.9";
  state.daemon.reexecs = 2;
  state.daemon.control_fd = 5;
  auto fd = StateMemfd(EncodeSavedState(state));
  ASSERT_TRUE(fd.ok()) << fd.error().message;
  EXPECT_EQ(FD_CLOEXEC, fcntl(fd->get(), F_GETFD) & FD_CLOEXEC);
  EXPECT_LT(::write(fd->get(), "x", 1), 0);  // F_SEAL_WRITE
  for (int i = 0; i < 2; ++i) {  // the new binary, then the fallback, read the same bytes
    auto back = ReadSavedState(fd->get());
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ("9.9.9", back->writer_version);
    EXPECT_EQ(2u, back->daemon.reexecs);
    EXPECT_EQ(5, back->daemon.control_fd);
  }
  auto line = CheckStateLine(fd->get());
  ASSERT_TRUE(line.ok()) << line.error().message;
  EXPECT_EQ("state format 1 from supd 9.9.9: 0 services, 0 socket units", *line);
}

TEST(ReexecStateTest, ANewerFormatIsRefused) {
  SavedState state;
  state.writer_version = "9.9.9";
  state.daemon.control_fd = 3;
  // A later supd's state: the format after the 8-byte magic, little-endian.
  std::string bytes = EncodeSavedState(state);
  bytes[8] = static_cast<char>(kSavedStateFormat + 1);
  auto fd = StateMemfd(bytes);
  ASSERT_TRUE(fd.ok());
  auto line = CheckStateLine(fd->get());
  ASSERT_FALSE(line.ok());
  EXPECT_EQ("saved state: format 2 is newer than this supd reads (1)", line.error().message);
}

TEST(ReexecStateTest, NotAnFd) {
  auto r = ReadSavedState(999);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ("read state fd 999: Bad file descriptor", r.error().message);
}

// Never runs its jobs: a request stays pending.
struct IdleWorker : BlockingWork {
  void Run(std::function<std::function<void()>()> job) override { jobs.push_back(std::move(job)); }
  std::vector<std::function<std::function<void()>()>> jobs;
};

struct RequestRefusals : ::testing::Test {
  boost::asio::io_context io;
  std::shared_ptr<IdleWorker> worker = std::make_shared<IdleWorker>();
  bool stopping = false;
  std::unique_ptr<Reexec> Make(std::string exe) {
    Reexec::Parts parts;
    parts.worker = worker;
    parts.stopping = [this] { return stopping; };
    return std::make_unique<Reexec>(io, parts, Args{"supd"}, std::move(exe), 0, 0);
  }
  static std::string Ask(Reexec& r) {
    std::string out = "(pending)";
    r.Request(std::chrono::seconds(1), [&out](Result<uint64_t> d) {
      out = d.ok() ? std::to_string(*d) : d.error().message;
    });
    return out;
  }
};

TEST_F(RequestRefusals, OneAtATime) {
  auto r = Make("/usr/sbin/supd");
  EXPECT_EQ("(pending)", Ask(*r));
  EXPECT_EQ(1u, worker->jobs.size());  // the --version check
  EXPECT_EQ("daemon-reexec: one is already in progress", Ask(*r));
}

TEST_F(RequestRefusals, NotWhileStopping) {
  stopping = true;
  auto r = Make("/usr/sbin/supd");
  EXPECT_EQ("daemon-reexec: supd is shutting down", Ask(*r));
  EXPECT_TRUE(worker->jobs.empty());
}

TEST_F(RequestRefusals, NotWithoutItsOwnPath) {
  auto r = Make("");
  EXPECT_EQ("daemon-reexec: the path supd runs from is not known (/proc/self/exe)", Ask(*r));
}

TEST(OwnExecutableTest, IsThisTestBinary) {
  char buf[4096];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof(buf));
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(buf, static_cast<size_t>(n)), OwnExecutable());
}

}  // namespace
}  // namespace supd
