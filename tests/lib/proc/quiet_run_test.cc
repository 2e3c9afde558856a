// RunQuietly: exit status and output of a short program, a time limit, passed fds, and no
// SIGCHLD for the caller's process watcher.
#include "lib/proc/quiet_run.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>

#include "lib/base/unique_fd.h"

namespace supd {
namespace {

QuietRun Shell(const std::string& script) {
  QuietRun run;
  run.path = "/bin/sh";
  run.argv = {"sh", "-c", script};
  return run;
}

TEST(QuietRunTest, ExitStatusAndBothStreams) {
  auto r = RunQuietly(Shell("echo out; echo err >&2; exit 3"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->exit.exited);
  EXPECT_EQ(3, r->exit.code);
  EXPECT_EQ("out\n", r->out);
  EXPECT_EQ("err\n", r->err);
}

TEST(QuietRunTest, KilledBySignal) {
  auto r = RunQuietly(Shell("kill -TERM $$"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(r->exit.exited);
  EXPECT_EQ(SIGTERM, r->exit.signal);
}

TEST(QuietRunTest, ExecFailureIsStatus127WithTheReason) {
  QuietRun run;
  run.path = "/nonexistent/supd";
  run.argv = {"supd", "--version"};
  auto r = RunQuietly(run);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(127, r->exit.code);
  EXPECT_EQ("exec /nonexistent/supd: No such file or directory\n", r->err);
}

TEST(QuietRunTest, PastTheLimitItIsKilled) {
  QuietRun run = Shell("exec sleep 30");
  run.limit = std::chrono::milliseconds(200);
  const auto start = std::chrono::steady_clock::now();
  auto r = RunQuietly(run);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ("run /bin/sh -c exec sleep 30: no exit within 0.2s (killed)", r.error().message);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

TEST(QuietRunTest, PassedFdsBecomeThreeOnward) {
  auto p = OpenPipe("test");
  ASSERT_TRUE(p.ok());
  ASSERT_EQ(6, ::write(p->write.get(), "state\n", 6));
  p->write.reset();
  QuietRun run = Shell("cat <&3; ls /proc/self/fd | wc -l >&2");
  run.pass_fds = {p->read.get()};
  auto r = RunQuietly(run);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ("state\n", r->out);
  // 0, 1, 2, 3 and the one ls reads /proc/self/fd with: nothing else of the test's.
  EXPECT_EQ("5\n", r->err);
}

TEST(QuietRunTest, OutputIsCappedNotBlocked) {
  QuietRun run = Shell("head -c 1000000 /dev/zero");
  run.max_output = 100;
  auto r = RunQuietly(run);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(0, r->exit.code);
  EXPECT_EQ(100u, r->out.size());
}

std::atomic<int> sigchld_seen{0};
void CountSigchld(int) { ++sigchld_seen; }

// The process watcher reaps every child that sends SIGCHLD: this one must send none, and a
// waitid(P_ALL) without __WALL must not see it.
TEST(QuietRunTest, NoSigchldAndInvisibleToWaitidAll) {
  struct sigaction sa {
  }, old{};
  sa.sa_handler = CountSigchld;
  sigemptyset(&sa.sa_mask);
  ASSERT_EQ(0, sigaction(SIGCHLD, &sa, &old));
  sigchld_seen = 0;
  auto r = RunQuietly(Shell("exit 0"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(0, sigchld_seen.load());
  siginfo_t info{};
  EXPECT_TRUE(::waitid(P_ALL, 0, &info, WEXITED | WNOHANG) < 0 || info.si_pid == 0);
  sigaction(SIGCHLD, &old, nullptr);
}

}  // namespace
}  // namespace supd
