// The systemd.exec(5) steps of Spawn(): what a real child gets, and how a failing step is
// reported. Runs as root or not; cases that need root say so and skip.

#include "lib/proc/spawn.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <string>

namespace supd {
namespace {

struct Ran {
  int exit_code = -1;
  std::string out;
  ExecStatus exec;
};

// Spawns `plan` with stdout into a pipe, waits for the child, and returns what it printed and
// what the exec-status pipe said.
Ran SpawnAndWait(SpawnPlan plan) {
  Ran ran;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return ran;
  plan.stdout_fd = fds[1];
  auto p = Spawn(plan);
  close(fds[1]);
  if (!p.ok()) {
    close(fds[0]);
    ADD_FAILURE() << p.error().message;
    return ran;
  }
  char buf[4096];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof(buf))) > 0) ran.out.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(p->pid, &status, 0);
  ran.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  ran.exec = ReadExecStatus(p->exec_status.get(), plan.path, plan.working_directory);
  return ran;
}

SpawnPlan Shell(const std::string& script) {
  SpawnPlan plan;
  plan.path = "/bin/sh";
  plan.argv = {"sh", "-c", script};
  plan.env = {"PATH=/usr/bin:/bin"};
  return plan;
}

long NrOpen() {
  std::ifstream in("/proc/sys/fs/nr_open");
  long n = 0;
  in >> n;
  return n;
}

TEST(SpawnSettings, LimitsUmaskNiceAndOomScoreReachTheChild) {
  SpawnPlan plan =
      Shell("ulimit -Sn; ulimit -Hn; ulimit -Sc; umask; nice; cat /proc/self/oom_score_adj");
  plan.rlimits[RLIMIT_NOFILE] = rlimit{100, 200};
  plan.rlimits[RLIMIT_CORE] = rlimit{0, 0};
  plan.umask = 0077;
  plan.nice = 5;  // above supd's own: allowed unprivileged
  plan.oom_score_adjust = 500;
  Ran ran = SpawnAndWait(plan);
  EXPECT_EQ(0, ran.exit_code) << ran.exec.error;
  EXPECT_EQ(ExecStatus::Kind::kExecuted, ran.exec.kind) << ran.exec.error;
  EXPECT_EQ("100\n200\n0\n0077\n5\n500\n", ran.out);
}

TEST(SpawnSettings, WithoutLimitNofileTheSoftLimitIsAtMost1024) {
  Ran ran = SpawnAndWait(Shell("ulimit -Sn"));
  EXPECT_EQ(0, ran.exit_code);
  EXPECT_LE(std::stol(ran.out), 1024) << ran.out;
}

TEST(SpawnSettings, AnImpossibleLimitFailsWithTheStepAndExitCode205) {
  SpawnPlan plan = Shell("exit 0");
  const rlim_t too_many = static_cast<rlim_t>(NrOpen()) + 1;
  plan.rlimits[RLIMIT_NOFILE] = rlimit{too_many, too_many};
  Ran ran = SpawnAndWait(plan);
  EXPECT_EQ(205, ran.exit_code);
  EXPECT_EQ(ExecStatus::Kind::kFailed, ran.exec.kind);
  EXPECT_EQ("set LimitNOFILE=" + std::to_string(too_many) + " for /bin/sh: Operation not permitted",
            ran.exec.error);
}

TEST(SpawnSettings, SoftAboveHardNamesBothValues) {
  SpawnPlan plan = Shell("exit 0");
  plan.rlimits[RLIMIT_CORE] = rlimit{20, 10};  // the kernel refuses soft > hard
  Ran ran = SpawnAndWait(plan);
  EXPECT_EQ(205, ran.exit_code);
  EXPECT_EQ("set LimitCORE=20:10 for /bin/sh: Invalid argument", ran.exec.error);
}

TEST(SpawnSettings, BoundingSetAmbientAndNoNewPrivs) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root (CAP_SETPCAP)";
  SpawnPlan plan = Shell("grep -E '^(CapBnd|CapAmb|NoNewPrivs)' /proc/self/status");
  const uint64_t bind = uint64_t{1} << 10;  // CAP_NET_BIND_SERVICE
  plan.capability_bounding_set = bind | 1;
  plan.ambient_capabilities = bind;
  plan.no_new_privileges = true;
  Ran ran = SpawnAndWait(plan);
  EXPECT_EQ(0, ran.exit_code) << ran.exec.error;
  EXPECT_EQ("CapBnd:\t0000000000000401\nCapAmb:\t0000000000000400\nNoNewPrivs:\t1\n", ran.out);
}

TEST(SpawnSettings, AmbientCapabilityOutsideTheBoundingSetFailsWith218) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root (CAP_SETPCAP)";
  SpawnPlan plan = Shell("exit 0");
  plan.capability_bounding_set = 1;               // CAP_CHOWN only
  plan.ambient_capabilities = uint64_t{1} << 10;  // CAP_NET_BIND_SERVICE
  Ran ran = SpawnAndWait(plan);
  EXPECT_EQ(218, ran.exit_code);
  EXPECT_EQ("make AmbientCapabilities= inheritable (capset) for /bin/sh: Operation not permitted",
            ran.exec.error);
}

TEST(SpawnSettings, UnprivilegedStepsFailLoudly) {
  if (geteuid() == 0) GTEST_SKIP() << "checks what an unprivileged supd cannot do";
  SpawnPlan plan = Shell("exit 0");
  plan.nice = -20;
  Ran ran = SpawnAndWait(plan);
  EXPECT_EQ(201, ran.exit_code);
  EXPECT_EQ("set Nice=-20 for /bin/sh: Permission denied", ran.exec.error);
}

TEST(SpawnSettings, UserSwitchReportsTheUid) {
  if (geteuid() == 0) GTEST_SKIP() << "root may switch to any uid";
  SpawnPlan plan = Shell("exit 0");
  plan.uid = 0;
  plan.gid = getegid();
  Ran ran = SpawnAndWait(plan);
  EXPECT_EQ(217, ran.exit_code);
  EXPECT_EQ("set user id 0 (User=) for /bin/sh: Operation not permitted", ran.exec.error);
}

}  // namespace
}  // namespace supd
