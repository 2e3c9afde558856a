// Limit*= and OOMScoreAdjust= where the host refuses them, as systemd handles them: a limit
// above supd's hard maximum is clamped to it, an OOM score supd may not set is skipped, both
// shown in status and logged once per start; `[X-Supd] RequireLimits=yes` fails the start
// instead; `supctl check` predicts the clamp.
//
// These need a supd without CAP_SYS_RESOURCE, as root in a container (this machine's root): a
// test process that has it skips, since supd (our child) would then set everything as asked.
// /bin/sleep, not a Go program: Go raises its own soft NOFILE limit to the hard one at start.

#include <sys/resource.h>
#include <unistd.h>

#include <sstream>
#include <string>
#include <utility>

#include "tests/integration/harness.h"

namespace supd::integration {
namespace {

using nlohmann::json;

bool HaveCapSysResource() {
  const uint64_t eff = std::stoull(ProcStatusField(getpid(), "CapEff"), nullptr, 16);
  return (eff & (uint64_t{1} << 24)) != 0;  // CAP_SYS_RESOURCE
}


size_t Count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + needle.size()))
    ++n;
  return n;
}

constexpr const char* kWanted = "1048576";  // caddy.service's LimitNOFILE=

class LimitsTest : public SupdTest {
 protected:
  void SetUp() override {
    SupdTest::SetUp();
    if (HaveCapSysResource())
      GTEST_SKIP() << "the test process has CAP_SYS_RESOURCE: supd could set every limit and "
                      "OOM score, nothing would be clamped or skipped";
    struct rlimit own {};
    getrlimit(RLIMIT_NOFILE, &own);
    if (own.rlim_max >= std::stoull(kWanted))
      GTEST_SKIP() << "our hard NOFILE limit (" << own.rlim_max << ") is not below " << kWanted;
    hard_ = std::to_string(own.rlim_max);
  }

  std::string hard_;  // supd's hard NOFILE limit: it inherits ours
};

TEST_F(LimitsTest, ALimitAboveTheHardMaximumIsClampedAndShown) {
  WriteUnit("clamp.service", R"([Service]
ExecStart=/bin/sleep 1000
LimitNOFILE=1048576
)");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  CommandResult start = Supctl({"start", "clamp"});
  ASSERT_EQ(0, start.exit_code) << start.Describe() << SupdContext();
  const pid_t pid = WaitForRunning("clamp.service");
  ASSERT_GT(pid, 0) << SupdContext();

  // Type=simple: supd reads what the child reported while the service runs, not at its exit.
  const std::string message = "LimitNOFILE=1048576 clamped to " + hard_ + " (no CAP_SYS_RESOURCE)";
  json adjustments;
  ASSERT_TRUE(WaitFor([&] {
    auto s = Status("clamp.service");
    if (!s) return false;
    adjustments = (*s)["process"]["adjustments"];
    return adjustments.is_array() && !adjustments.empty();
  })) << SupdContext();
  // The child reports after setrlimit: what it runs with is final now.
  EXPECT_EQ(std::make_pair(hard_, hard_), ProcLimit(pid, "Max open files"));
  EXPECT_EQ(
      json::parse(R"([{"directive": "LimitNOFILE", "wanted": "1048576", "applied": ")" + hard_ +
                  R"(", "reason": "no CAP_SYS_RESOURCE", "message": ")" + message + R"("}])"),
      adjustments);
  CommandResult human = Supctl({"status", "clamp"});
  EXPECT_NE(std::string::npos, human.out.find("    Rlimits: " + message + "\n")) << human.out;
  EXPECT_EQ(1u,
            Count(SupdStderr(), "clamp.service: " + message + " for /bin/sleep, as systemd does"))
      << SupdStderr();
}

TEST_F(LimitsTest, AClampIsLoggedOncePerStart) {
  // ExecStartPre= gets the same clamp as ExecStart=: logged once for the start all the same.
  WriteUnit("twice.service", R"([Service]
Type=exec
ExecStartPre=/bin/true
ExecStart=/bin/sleep 1000
LimitNOFILE=1048576
)");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  CommandResult start = Supctl({"start", "twice"});
  ASSERT_EQ(0, start.exit_code) << start.Describe() << SupdContext();
  const std::string logged =
      "twice.service: LimitNOFILE=1048576 clamped to " + hard_ + " (no CAP_SYS_RESOURCE)";
  EXPECT_EQ(1u, Count(SupdStderr(), logged)) << SupdStderr();
  EXPECT_NE(std::string::npos, SupdStderr().find(logged + " for /bin/true, as systemd does"))
      << "the first process that got it: ExecStartPre=\n"
      << SupdStderr();

  // A new start is a new instance: logged again, and status still shows it once.
  CommandResult restart = Supctl({"restart", "twice"});
  ASSERT_EQ(0, restart.exit_code) << restart.Describe();
  EXPECT_EQ(2u, Count(SupdStderr(), logged)) << SupdStderr();
  auto s = Status("twice.service");
  ASSERT_TRUE(s);
  EXPECT_EQ(1u, (*s)["process"]["adjustments"].size()) << s->dump();
}

TEST_F(LimitsTest, AnOomScoreSupdMayNotSetIsSkippedAndShown) {
  WriteUnit("oom.service", R"([Service]
Type=exec
ExecStart=/bin/sleep 1000
OOMScoreAdjust=-999
)");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  CommandResult start = Supctl({"start", "oom"});
  ASSERT_EQ(0, start.exit_code) << start.Describe() << SupdContext();
  const pid_t pid = MainPid("oom.service");
  ASSERT_GT(pid, 0);
  const std::string score = ReadFile("/proc/" + std::to_string(pid) + "/oom_score_adj");
  if (score == "-999\n") GTEST_SKIP() << "this host let supd lower the OOM score";
  EXPECT_EQ(ReadFile("/proc/" + std::to_string(supd_pid_) + "/oom_score_adj"), score)
      << "left as inherited";

  // Type=exec: start returned after the exec-status pipe's EOF, so the note was read before.
  auto s = Status("oom.service");
  ASSERT_TRUE(s);
  const std::string reason =
      "Permission denied (no CAP_SYS_RESOURCE; as systemd, assuming a container)";
  const std::string message = "OOMScoreAdjust=-999 not applied: " + reason;
  EXPECT_EQ(json::parse(R"([{"directive": "OOMScoreAdjust", "wanted": "-999", "applied": null,
                             "reason": ")" +
                        reason + R"(", "message": ")" + message + R"("}])"),
            (*s)["process"]["adjustments"])
      << s->dump();
  CommandResult human = Supctl({"status", "oom"});
  EXPECT_NE(std::string::npos, human.out.find("   Identity: " + message + "\n")) << human.out;
  EXPECT_NE(std::string::npos,
            SupdStderr().find("oom.service: " + message + " for /bin/sleep, going on without it"))
      << SupdStderr();
}

TEST_F(LimitsTest, RequireLimitsFailsTheStartWithTheReason) {
  WriteUnit("strictnofile.service", R"([Service]
Type=exec
ExecStart=/bin/sleep 1000
LimitNOFILE=1048576
[X-Supd]
RequireLimits=yes
)");
  WriteUnit("strictoom.service", R"([Service]
Type=exec
ExecStart=/bin/sleep 1000
OOMScoreAdjust=-999
[X-Supd]
RequireLimits=yes
)");
  ASSERT_NO_FATAL_FAILURE(StartSupd());

  CommandResult start = Supctl({"start", "strictnofile"});
  EXPECT_EQ(1, start.exit_code) << start.Describe();
  const std::string why = "set LimitNOFILE=1048576 for /bin/sleep: Operation not permitted";
  EXPECT_NE(std::string::npos, start.err.find(why)) << start.Describe();
  auto s = Status("strictnofile.service");
  ASSERT_TRUE(s);
  EXPECT_EQ("failed", s->value("state", "")) << s->dump();
  EXPECT_EQ(why, (*s)["last_exit"].value("reason", "")) << s->dump();
  EXPECT_EQ(json(205), (*s)["last_exit"]["code"]) << "systemd's EXIT_LIMITS";
  EXPECT_EQ(json::array(), (*s)["process"]["adjustments"]);

  start = Supctl({"start", "strictoom"});
  EXPECT_EQ(1, start.exit_code) << start.Describe();
  const std::string oom_why =
      "set OOMScoreAdjust=-999 (write /proc/self/oom_score_adj) for /bin/sleep: Permission "
      "denied";
  EXPECT_NE(std::string::npos, start.err.find(oom_why)) << start.Describe();
  s = Status("strictoom.service");
  ASSERT_TRUE(s);
  EXPECT_EQ(oom_why, (*s)["last_exit"].value("reason", "")) << s->dump();
  EXPECT_EQ(json(206), (*s)["last_exit"]["code"]) << "systemd's EXIT_OOM_ADJUST";
}

TEST_F(LimitsTest, CheckPredictsTheClamp) {
  WriteUnit("caddy.service", R"([Service]
Type=exec
ExecStart=/bin/sleep 1000
LimitNOFILE=1048576
LimitCORE=0
)");
  WriteUnit("strict.service", R"([Service]
ExecStart=/bin/sleep 1000
LimitNOFILE=4096:1048576
[X-Supd]
RequireLimits=yes
)");
  const std::string caddy = units_dir_ + "/caddy.service";
  const std::string strict = units_dir_ + "/strict.service";
  const std::string clamp_note =
      caddy + ": LimitNOFILE=1048576 will be clamped to " + hard_ + " (no CAP_SYS_RESOURCE)\n";
  const std::string strict_note = strict +
                                  ": LimitNOFILE=4096:1048576 will fail the start: Operation not "
                                  "permitted (no CAP_SYS_RESOURCE; RequireLimits=yes)\n";

  // Offline, judged against supctl's own limits (the same as supd's here: both inherit ours).
  CommandResult offline = Supctl({"check", caddy, strict});
  EXPECT_EQ(0, offline.exit_code) << offline.Describe();
  EXPECT_EQ(clamp_note + strict_note, offline.out) << offline.Describe();

  // The daemon's check, judged against supd's own limits.
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  CommandResult online = Supctl({"check"});
  EXPECT_EQ(0, online.exit_code) << online.Describe();
  EXPECT_EQ(clamp_note + strict_note, online.out) << online.Describe();

  // What it predicted is what the start does. (Type=exec: the start returns after execve, so
  // the limits are in place.)
  ASSERT_EQ(0, Supctl({"start", "caddy"}).exit_code) << SupdContext();
  const pid_t pid = MainPid("caddy.service");
  ASSERT_GT(pid, 0);
  EXPECT_EQ(std::make_pair(hard_, hard_), ProcLimit(pid, "Max open files"));
  EXPECT_EQ(std::make_pair(std::string("0"), std::string("0")),
            ProcLimit(pid, "Max core file size"));
}

}  // namespace
}  // namespace supd::integration
