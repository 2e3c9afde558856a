// The systemd.exec(5) steps of Spawn(): what a real child gets, and how a failing step is
// reported. Runs as root or not; cases that need root say so and skip.

#include "lib/proc/spawn.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

#include "lib/proc/exec_report.h"
#include "lib/proc/limit_plan.h"

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

std::string ReadFileText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
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

TEST(SpawnSettings, WithRequireLimitsAnImpossibleLimitFailsWithTheStepAndExitCode205) {
  SpawnPlan plan = Shell("exit 0");
  const rlim_t too_many = static_cast<rlim_t>(NrOpen()) + 1;
  plan.rlimits[RLIMIT_NOFILE] = rlimit{too_many, too_many};
  plan.require_limits = true;
  Ran ran = SpawnAndWait(plan);
  EXPECT_EQ(205, ran.exit_code);
  EXPECT_EQ(ExecStatus::Kind::kFailed, ran.exec.kind);
  EXPECT_EQ("set LimitNOFILE=" + std::to_string(too_many) + " for /bin/sh: Operation not permitted",
            ran.exec.error);
  EXPECT_TRUE(ran.exec.adjustments.empty());
}

// Above fs.nr_open the kernel refuses any process, with CAP_SYS_RESOURCE or without: the limit
// is lowered to the child's hard maximum, as systemd's setrlimit_closest() does, and reported.
TEST(SpawnSettings, ALimitAboveFsNrOpenIsClampedToTheHardLimitAndReported) {
  SpawnPlan plan = Shell("ulimit -Sn; ulimit -Hn");
  const rlim_t nr_open = static_cast<rlim_t>(NrOpen());
  plan.rlimits[RLIMIT_NOFILE] = rlimit{nr_open + 1, nr_open + 1};
  struct rlimit own {};
  getrlimit(RLIMIT_NOFILE, &own);
  Ran ran = SpawnAndWait(plan);
  EXPECT_EQ(0, ran.exit_code) << ran.exec.error;
  EXPECT_EQ(ExecStatus::Kind::kExecuted, ran.exec.kind) << ran.exec.error;
  const std::string hard = std::to_string(own.rlim_max);
  EXPECT_EQ(hard + "\n" + hard + "\n", ran.out);
  ASSERT_EQ(1u, ran.exec.adjustments.size());
  const ExecAdjustment& a = ran.exec.adjustments[0];
  const std::string why = std::string(HasCapSysResource() ? "" : "no CAP_SYS_RESOURCE; ") +
                          "above fs.nr_open=" + std::to_string(nr_open);
  EXPECT_EQ("LimitNOFILE", a.directive);
  EXPECT_EQ(std::to_string(nr_open + 1), a.wanted);
  EXPECT_EQ(hard, a.applied);
  EXPECT_EQ(why, a.reason);
  EXPECT_EQ("LimitNOFILE=" + std::to_string(nr_open + 1) + " clamped to " + hard + " (" + why + ")",
            a.message);
}

// The case of root in a container (this machine): a hard limit above our own, which only
// CAP_SYS_RESOURCE may raise.
TEST(SpawnSettings, WithoutCapSysResourceARaisedHardLimitIsClampedOrFailsWithRequireLimits) {
  if (HasCapSysResource()) GTEST_SKIP() << "we have CAP_SYS_RESOURCE: any hard limit is raised";
  struct rlimit own {};
  getrlimit(RLIMIT_NOFILE, &own);
  if (own.rlim_max >= static_cast<rlim_t>(NrOpen()))
    GTEST_SKIP() << "our hard NOFILE limit is fs.nr_open already";
  const rlim_t wanted = own.rlim_max + 1;
  SpawnPlan plan = Shell("ulimit -Sn; ulimit -Hn; ulimit -Sc");
  plan.rlimits[RLIMIT_NOFILE] = rlimit{100, wanted};
  plan.rlimits[RLIMIT_CORE] = rlimit{0, 0};  // set as asked, beside the clamp
  Ran ran = SpawnAndWait(plan);
  EXPECT_EQ(0, ran.exit_code) << ran.exec.error;
  const std::string hard = std::to_string(own.rlim_max);
  EXPECT_EQ("100\n" + hard + "\n0\n", ran.out) << "only the hard limit is lowered";
  ASSERT_EQ(1u, ran.exec.adjustments.size());
  EXPECT_EQ("LimitNOFILE=100:" + std::to_string(wanted) + " clamped to 100:" + hard +
                " (no CAP_SYS_RESOURCE)",
            ran.exec.adjustments[0].message);

  // What the prediction for `supctl check` says about the same limit.
  const RlimitOutcome predicted = PredictRlimit(RLIMIT_NOFILE, {100, wanted}, ReadRlimitHost(),
                                                /*require_limits=*/false);
  EXPECT_EQ(RlimitOutcome::Kind::kClamped, predicted.kind);
  EXPECT_EQ(own.rlim_max, predicted.applied.rlim_max);

  plan.require_limits = true;
  ran = SpawnAndWait(plan);
  EXPECT_EQ(205, ran.exit_code);
  EXPECT_EQ(
      "set LimitNOFILE=100:" + std::to_string(wanted) + " for /bin/sh: Operation not permitted",
      ran.exec.error);
  EXPECT_EQ("", ran.out);
}

TEST(SpawnSettings, AnOomScoreWeMayNotSetIsSkippedOrFailsWithRequireLimits) {
  if (HasCapSysResource()) GTEST_SKIP() << "we have CAP_SYS_RESOURCE: any OOM score is set";
  // Lowering the score below the minimum we inherited needs CAP_SYS_RESOURCE; -1000 is below
  // it unless a privileged ancestor set the minimum to -1000 itself.
  const std::string own = ReadFileText("/proc/self/oom_score_adj");
  SpawnPlan plan = Shell("cat /proc/self/oom_score_adj");
  plan.oom_score_adjust = -1000;
  Ran ran = SpawnAndWait(plan);
  EXPECT_EQ(0, ran.exit_code) << ran.exec.error;
  EXPECT_EQ(own, ran.out) << "left as inherited";
  ASSERT_EQ(1u, ran.exec.adjustments.size());
  const ExecAdjustment& a = ran.exec.adjustments[0];
  EXPECT_EQ("OOMScoreAdjust", a.directive);
  EXPECT_EQ("-1000", a.wanted);
  EXPECT_EQ("", a.applied);
  EXPECT_EQ(
      "OOMScoreAdjust=-1000 not applied: Permission denied (no CAP_SYS_RESOURCE; as systemd, "
      "assuming a container)",
      a.message);

  plan.require_limits = true;
  ran = SpawnAndWait(plan);
  EXPECT_EQ(206, ran.exit_code);
  EXPECT_EQ(
      "set OOMScoreAdjust=-1000 (write /proc/self/oom_score_adj) for /bin/sh: Permission denied",
      ran.exec.error);
}

TEST(SpawnSettings, AnotherErrorThanEpermStillFailsTheStart) {
  // EINVAL (soft above hard) is no reason to clamp, in systemd neither.
  SpawnPlan plan = Shell("exit 0");
  plan.rlimits[RLIMIT_NOFILE] = rlimit{200, 100};
  Ran ran = SpawnAndWait(plan);
  EXPECT_EQ(205, ran.exit_code);
  EXPECT_EQ("set LimitNOFILE=200:100 for /bin/sh: Invalid argument", ran.exec.error);
  EXPECT_TRUE(ran.exec.adjustments.empty());
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

// ReadExecStatus on records written by hand: notes come before the outcome, are kept with it,
// and a read that finds only notes leaves the outcome pending.
class ExecStatusRecords : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(0, pipe2(fds_, O_CLOEXEC | O_NONBLOCK)); }
  void TearDown() override {
    if (fds_[0] >= 0) close(fds_[0]);
    if (fds_[1] >= 0) close(fds_[1]);
  }
  void Write(const exec_report::ChildReport& r) {
    ASSERT_EQ(static_cast<ssize_t>(sizeof(r)), write(fds_[1], &r, sizeof(r)));
  }
  void CloseWriteEnd() {
    close(fds_[1]);
    fds_[1] = -1;
  }
  void Update(ExecStatus* st) { UpdateExecStatus(fds_[0], "/usr/bin/web", "/srv", st); }

  int fds_[2] = {-1, -1};
};

exec_report::ChildReport Clamp(int resource, uint64_t soft, uint64_t hard, uint64_t got) {
  return {exec_report::kNoteLimitClamped,
          EPERM,
          resource,
          kRefusedNoCapSysResource,
          soft,
          hard,
          got,
          got,
          1048576};
}

TEST_F(ExecStatusRecords, NotesThenExec) {
  Write(Clamp(RLIMIT_NOFILE, 1048576, 1048576, 20000));
  Write({exec_report::kNoteOomScoreSkipped, EACCES, 0, kRefusedNoCapSysResource,
         static_cast<uint64_t>(-999), 0, 0, 0, 0});
  ExecStatus st;
  Update(&st);
  EXPECT_EQ(ExecStatus::Kind::kPending, st.kind) << "no EOF yet: execve still to come";
  ASSERT_EQ(2u, st.adjustments.size());
  EXPECT_EQ((ExecAdjustment{"LimitNOFILE", "1048576", "20000", "no CAP_SYS_RESOURCE",
                            "LimitNOFILE=1048576 clamped to 20000 (no CAP_SYS_RESOURCE)"}),
            st.adjustments[0]);
  EXPECT_EQ((ExecAdjustment{"OOMScoreAdjust", "-999", "",
                            "Permission denied (no CAP_SYS_RESOURCE; as systemd, assuming a "
                            "container)",
                            "OOMScoreAdjust=-999 not applied: Permission denied (no "
                            "CAP_SYS_RESOURCE; as systemd, assuming a container)"}),
            st.adjustments[1]);
  CloseWriteEnd();
  Update(&st);
  EXPECT_EQ(ExecStatus::Kind::kExecuted, st.kind);
  EXPECT_EQ(2u, st.adjustments.size()) << "each note is read once";
  Update(&st);
  EXPECT_EQ(2u, st.adjustments.size()) << "nothing read once the outcome is known";
}

TEST_F(ExecStatusRecords, NotesThenAFailedStep) {
  Write(Clamp(RLIMIT_NPROC, 5000, 5000, 4000));
  Write({exec_report::kStepExec, ENOENT, 0, 0, 0, 0, 0, 0, 0});
  CloseWriteEnd();
  const ExecStatus st = ReadExecStatus(fds_[0], "/usr/bin/web", "/srv");
  EXPECT_EQ(ExecStatus::Kind::kFailed, st.kind);
  EXPECT_EQ("exec /usr/bin/web: No such file or directory", st.error);
  ASSERT_EQ(1u, st.adjustments.size());
  EXPECT_EQ("LimitNPROC=5000 clamped to 4000 (no CAP_SYS_RESOURCE)", st.adjustments[0].message);
}

TEST_F(ExecStatusRecords, AShortRecordIsAFailure) {
  Write(Clamp(RLIMIT_NOFILE, 30000, 30000, 20000));
  const char partial[5] = {1, 0, 0, 0, 0};
  ASSERT_EQ(5, write(fds_[1], partial, sizeof(partial)));
  CloseWriteEnd();
  const ExecStatus st = ReadExecStatus(fds_[0], "/usr/bin/web", "/srv");
  EXPECT_EQ(ExecStatus::Kind::kFailed, st.kind);
  EXPECT_EQ("spawn /usr/bin/web: child failed before exec (short status report)", st.error);
  EXPECT_EQ(1u, st.adjustments.size());
}

TEST_F(ExecStatusRecords, NothingYetIsPending) {
  ExecStatus st;
  Update(&st);
  EXPECT_EQ(ExecStatus::Kind::kPending, st.kind);
  EXPECT_TRUE(st.adjustments.empty());
}

}  // namespace
}  // namespace supd
