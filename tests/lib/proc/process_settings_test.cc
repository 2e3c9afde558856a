#include "lib/proc/process_settings.h"

#include <grp.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>

namespace supd {
namespace {

TEST(PlanExecSettings, CopiesLimitsAndScheduling) {
  ExecSettings exec;
  exec.limits[RLIMIT_CORE] = ResourceLimit{0, 100};
  exec.umask = 0077;
  exec.nice = 3;
  exec.oom_score_adjust = -10;
  SpawnPlan plan;
  ASSERT_TRUE(PlanExecSettings(exec, false, &plan).ok());
  ASSERT_TRUE(plan.rlimits[RLIMIT_CORE].has_value());
  EXPECT_EQ(0u, plan.rlimits[RLIMIT_CORE]->rlim_cur);
  EXPECT_EQ(100u, plan.rlimits[RLIMIT_CORE]->rlim_max);
  EXPECT_FALSE(plan.rlimits[RLIMIT_NOFILE].has_value());
  EXPECT_EQ(0077u, plan.umask);
  EXPECT_EQ(3, plan.nice);
  EXPECT_EQ(-10, plan.oom_score_adjust);
  // The default bounding set (everything) is left alone rather than walked in the child.
  EXPECT_FALSE(plan.capability_bounding_set.has_value());
}

TEST(PlanExecSettings, FullPrivilegesSkipCapabilitiesAndNoNewPrivileges) {
  ExecSettings exec;
  exec.capability_bounding_set = 1;
  exec.ambient_capabilities = 1;
  exec.no_new_privileges = true;
  exec.nice = 1;
  SpawnPlan plan;
  ASSERT_TRUE(PlanExecSettings(exec, false, &plan).ok());
  EXPECT_EQ(1u, plan.capability_bounding_set);
  EXPECT_EQ(1u, plan.ambient_capabilities);
  EXPECT_TRUE(plan.no_new_privileges);

  SpawnPlan privileged;
  ASSERT_TRUE(PlanExecSettings(exec, true, &privileged).ok());
  EXPECT_FALSE(privileged.capability_bounding_set.has_value());
  EXPECT_EQ(0u, privileged.ambient_capabilities);
  EXPECT_FALSE(privileged.no_new_privileges);
  EXPECT_EQ(1, privileged.nice) << "'+' keeps the limits and scheduling settings";
}

TEST(PlanExecSettings, NofileInfinityIsTheMostTheKernelAllows) {
  ExecSettings exec;
  exec.limits[RLIMIT_NOFILE] = ResourceLimit{1024, RLIM_INFINITY};
  SpawnPlan plan;
  ASSERT_TRUE(PlanExecSettings(exec, false, &plan).ok());
  std::ifstream in("/proc/sys/fs/nr_open");
  rlim_t nr_open = 0;
  in >> nr_open;
  struct rlimit own {};
  getrlimit(RLIMIT_NOFILE, &own);
  ASSERT_TRUE(plan.rlimits[RLIMIT_NOFILE].has_value());
  EXPECT_EQ(1024u, plan.rlimits[RLIMIT_NOFILE]->rlim_cur);
  // nr_open, or our own hard limit when we may not raise it (no CAP_SYS_RESOURCE).
  const rlim_t got = plan.rlimits[RLIMIT_NOFILE]->rlim_max;
  EXPECT_TRUE(got == nr_open || got == std::min(nr_open, own.rlim_max)) << got;
}

TEST(PlanSupplementaryGroups, UserGroupsThenTheExtraOnes) {
  auto none = PlanSupplementaryGroups(nullptr, {});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());

  auto numeric = PlanSupplementaryGroups(nullptr, {"4242", "4243", "4242"});
  ASSERT_TRUE(numeric.ok()) << numeric.error().message;
  EXPECT_EQ((std::vector<gid_t>{4242, 4243}), *numeric);

  struct passwd* pw = getpwnam("nobody");
  ASSERT_NE(nullptr, pw);
  UserInfo nobody{pw->pw_uid, pw->pw_gid, pw->pw_name, pw->pw_dir, pw->pw_shell};
  auto groups = PlanSupplementaryGroups(&nobody, {"4242"});
  ASSERT_TRUE(groups.ok()) << groups.error().message;
  EXPECT_NE(groups->end(), std::find(groups->begin(), groups->end(), pw->pw_gid));
  EXPECT_EQ(4242u, groups->back());

  auto unknown = PlanSupplementaryGroups(nullptr, {"supd-no-such-group"});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ("SupplementaryGroups=: look up group 'supd-no-such-group': no such group",
            unknown.error().message);
}

}  // namespace
}  // namespace supd
