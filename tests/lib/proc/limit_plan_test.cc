// PredictRlimit and friends on numbers: what systemd's setrlimit_closest() does with a limit in
// a process with given limits, capabilities and fs.nr_open.

#include "lib/proc/limit_plan.h"

#include <gtest/gtest.h>

namespace supd {
namespace {

using Kind = RlimitOutcome::Kind;

// Root in a container, as on the CI machine: hard NOFILE 20000, no CAP_SYS_RESOURCE.
RlimitHost Container() {
  RlimitHost host;
  for (auto& rl : host.current) rl = {RLIM_INFINITY, RLIM_INFINITY};
  host.current[RLIMIT_NOFILE] = {1024, 20000};
  host.current[RLIMIT_NPROC] = {4000, 4000};
  host.can_raise_hard = false;
  host.nr_open = 1048576;
  return host;
}

RlimitHost Privileged() {
  RlimitHost host = Container();
  host.can_raise_hard = true;
  return host;
}

TEST(PredictRlimit, WithinTheHardLimitIsSetAsAsked) {
  const RlimitOutcome out = PredictRlimit(RLIMIT_NOFILE, {4096, 8192}, Container(), false);
  EXPECT_EQ(Kind::kSet, out.kind);
  EXPECT_EQ(4096u, out.applied.rlim_cur);
  EXPECT_EQ(8192u, out.applied.rlim_max);
  EXPECT_EQ(0u, out.refusal);
}

TEST(PredictRlimit, AboveTheHardLimitWithoutCapSysResourceIsClampedToIt) {
  RlimitOutcome out = PredictRlimit(RLIMIT_NOFILE, {1048576, 1048576}, Container(), false);
  EXPECT_EQ(Kind::kClamped, out.kind);
  EXPECT_EQ(20000u, out.applied.rlim_cur);
  EXPECT_EQ(20000u, out.applied.rlim_max);
  EXPECT_EQ(kRefusedNoCapSysResource, out.refusal);

  // Only what is above the hard maximum is lowered.
  out = PredictRlimit(RLIMIT_NOFILE, {4096, 65536}, Container(), false);
  EXPECT_EQ(Kind::kClamped, out.kind);
  EXPECT_EQ(4096u, out.applied.rlim_cur);
  EXPECT_EQ(20000u, out.applied.rlim_max);

  out = PredictRlimit(RLIMIT_NPROC, {5000, 5000}, Container(), false);
  EXPECT_EQ(Kind::kClamped, out.kind);
  EXPECT_EQ(4000u, out.applied.rlim_cur);
  EXPECT_EQ(4000u, out.applied.rlim_max);
}

TEST(PredictRlimit, ClampedToWhatTheProcessHasIsStillAClamp) {
  // setrlimit_closest() does not set it again, but the unit still does not get what it asked.
  RlimitHost host = Container();
  host.current[RLIMIT_NOFILE] = {20000, 20000};
  const RlimitOutcome out = PredictRlimit(RLIMIT_NOFILE, {30000, 30000}, host, false);
  EXPECT_EQ(Kind::kClamped, out.kind);
  EXPECT_EQ(20000u, out.applied.rlim_cur);
  EXPECT_EQ(20000u, out.applied.rlim_max);
}

TEST(PredictRlimit, WithCapSysResourceOnlyFsNrOpenClamps) {
  RlimitOutcome out = PredictRlimit(RLIMIT_NOFILE, {65536, 65536}, Privileged(), false);
  EXPECT_EQ(Kind::kSet, out.kind);
  EXPECT_EQ(65536u, out.applied.rlim_max);

  out = PredictRlimit(RLIMIT_NOFILE, {1048577, 1048577}, Privileged(), false);
  EXPECT_EQ(Kind::kClamped, out.kind);
  EXPECT_EQ(kRefusedAboveNrOpen, out.refusal);
  EXPECT_EQ(20000u, out.applied.rlim_max) << "the current hard limit, as systemd";

  out = PredictRlimit(RLIMIT_NOFILE, {1048577, 1048577}, Container(), false);
  EXPECT_EQ(Kind::kClamped, out.kind);
  EXPECT_EQ(kRefusedNoCapSysResource | kRefusedAboveNrOpen, out.refusal);
}

TEST(PredictRlimit, RequireLimitsFailsInsteadOfClamping) {
  RlimitOutcome out = PredictRlimit(RLIMIT_NOFILE, {1048576, 1048576}, Container(), true);
  EXPECT_EQ(Kind::kFails, out.kind);
  EXPECT_EQ(EPERM, out.error);
  EXPECT_EQ(kRefusedNoCapSysResource, out.refusal);
  // What can be set is set.
  out = PredictRlimit(RLIMIT_NOFILE, {4096, 8192}, Container(), true);
  EXPECT_EQ(Kind::kSet, out.kind);
}

TEST(PredictRlimit, SoftAboveHardIsEinvalNeverAClamp) {
  const RlimitOutcome out = PredictRlimit(RLIMIT_CORE, {20, 10}, Container(), false);
  EXPECT_EQ(Kind::kFails, out.kind);
  EXPECT_EQ(EINVAL, out.error);
}

TEST(PredictRlimit, ClampThatFsNrOpenStillRefusesFails) {
  // fs.nr_open lowered below the process's hard limit after it got it: the clamped value is
  // refused too, and setrlimit_closest() returns that EPERM.
  RlimitHost host = Privileged();
  host.nr_open = 10000;
  const RlimitOutcome out = PredictRlimit(RLIMIT_NOFILE, {30000, 30000}, host, false);
  EXPECT_EQ(Kind::kFails, out.kind);
  EXPECT_EQ(EPERM, out.error);
}

TEST(PredictRlimit, UnknownNrOpenIsNotChecked) {
  RlimitHost host = Privileged();
  host.nr_open = 0;
  EXPECT_EQ(Kind::kSet, PredictRlimit(RLIMIT_NOFILE, {2000000, 2000000}, host, false).kind);
}

TEST(RlimitRefusal, Describe) {
  EXPECT_EQ("no CAP_SYS_RESOURCE", DescribeRlimitRefusal(kRefusedNoCapSysResource, 1048576));
  EXPECT_EQ("above fs.nr_open=1048576", DescribeRlimitRefusal(kRefusedAboveNrOpen, 1048576));
  EXPECT_EQ("no CAP_SYS_RESOURCE; above fs.nr_open=1048576",
            DescribeRlimitRefusal(kRefusedNoCapSysResource | kRefusedAboveNrOpen, 1048576));
  EXPECT_EQ("refused by the kernel", DescribeRlimitRefusal(0, 1048576));
  EXPECT_EQ("LimitNOFILE=1048576 clamped to 20000 (no CAP_SYS_RESOURCE)",
            DescribeRlimitClamp(RLIMIT_NOFILE, {1048576, 1048576}, {20000, 20000},
                                kRefusedNoCapSysResource, 1048576));
  EXPECT_EQ("LimitNOFILE=4096:65536 clamped to 4096:20000 (no CAP_SYS_RESOURCE)",
            DescribeRlimitClamp(RLIMIT_NOFILE, {4096, 65536}, {4096, 20000},
                                kRefusedNoCapSysResource, 1048576));
}

TEST(ResolveRlimitInfinity, TheMostTheProcessCanGive) {
  const ResourceLimit inf{RLIM_INFINITY, RLIM_INFINITY};
  struct rlimit rl = ResolveRlimitInfinity(RLIMIT_NOFILE, inf, Privileged());
  EXPECT_EQ(1048576u, rl.rlim_cur);
  EXPECT_EQ(1048576u, rl.rlim_max);
  rl = ResolveRlimitInfinity(RLIMIT_NOFILE, {1024, RLIM_INFINITY}, Container());
  EXPECT_EQ(1024u, rl.rlim_cur);
  EXPECT_EQ(20000u, rl.rlim_max);
  rl = ResolveRlimitInfinity(RLIMIT_CORE, {0, RLIM_INFINITY}, Container());
  EXPECT_EQ(0u, rl.rlim_cur);
  EXPECT_EQ(RLIM_INFINITY, rl.rlim_max) << "the hard limit is unlimited already";
  rl = ResolveRlimitInfinity(RLIMIT_NPROC, inf, Container());
  EXPECT_EQ(4000u, rl.rlim_max);
  rl = ResolveRlimitInfinity(RLIMIT_NOFILE, {100, 200}, Container());
  EXPECT_EQ(200u, rl.rlim_max) << "finite values as they are";
}

TEST(PredictLimitNotes, OneLinePerLimitNotSetAsWritten) {
  ExecSettings exec;
  exec.limits[RLIMIT_NOFILE] = ResourceLimit{1048576, 1048576};
  exec.limits[RLIMIT_CORE] = ResourceLimit{0, RLIM_INFINITY};               // settable
  exec.limits[RLIMIT_NPROC] = ResourceLimit{RLIM_INFINITY, RLIM_INFINITY};  // the most: no note
  exec.limits[RLIMIT_MEMLOCK] = ResourceLimit{64, 32};  // never from the parser; still told
  EXPECT_EQ((std::vector<std::string>{
                "LimitNOFILE=1048576 will be clamped to 20000 (no CAP_SYS_RESOURCE)",
                "LimitMEMLOCK=64:32 will fail the start: Invalid argument",
            }),
            PredictLimitNotes(exec, false, Container()));
  exec.limits[RLIMIT_MEMLOCK].reset();
  EXPECT_EQ((std::vector<std::string>{
                "LimitNOFILE=1048576 will fail the start: Operation not permitted (no "
                "CAP_SYS_RESOURCE; RequireLimits=yes)",
            }),
            PredictLimitNotes(exec, true, Container()));
  EXPECT_TRUE(PredictLimitNotes(exec, false, Privileged()).empty());

  RlimitHost no_proc = Container();
  no_proc.nr_open = 0;
  no_proc.nr_open_error = "open /proc/sys/fs/nr_open: No such file or directory";
  exec.limits[RLIMIT_NOFILE] = ResourceLimit{RLIM_INFINITY, RLIM_INFINITY};
  EXPECT_EQ((std::vector<std::string>{
                "LimitNOFILE=infinity will fail the start: open /proc/sys/fs/nr_open: No such "
                "file or directory",
            }),
            PredictLimitNotes(exec, false, no_proc));
}

TEST(ReadRlimitHost, ThisProcess) {
  const RlimitHost host = ReadRlimitHost();
  struct rlimit own {};
  getrlimit(RLIMIT_NOFILE, &own);
  EXPECT_EQ(own.rlim_max, host.current[RLIMIT_NOFILE].rlim_max);
  EXPECT_GT(host.nr_open, 0u) << host.nr_open_error;
  // Raising the hard limit by one works exactly when we may, and the kernel's ceiling allows.
  const RlimitOutcome raise =
      PredictRlimit(RLIMIT_NOFILE, {own.rlim_max + 1, own.rlim_max + 1}, host, false);
  const bool can = host.can_raise_hard && own.rlim_max + 1 <= host.nr_open;
  EXPECT_EQ(can ? Kind::kSet : Kind::kClamped, raise.kind);
  EXPECT_EQ(own.rlim_max + (can ? 1 : 0), raise.applied.rlim_max);
}

}  // namespace
}  // namespace supd
