// The [X-Supd] probe directives: StartupProbe=/ReadinessProbe=/LivenessProbe= targets, their
// settings, MinReadySec=, and every error they can give.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <ostream>
#include <string>
#include <vector>

#include "lib/unit/exec_command.h"
#include "lib/unit/unit_loader.h"

namespace supd {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;
using testing::ElementsAre;
using testing::IsEmpty;

SpecifierContext Ctx() {
  SpecifierContext c;
  c.hostname = "box";
  c.runtime_dir = "/run";
  c.user_name = "root";
  c.user_home = "/root";
  c.uid = 0;
  return c;
}

// Lines 1-3 are the service; the X-Supd lines start at line 4.
constexpr const char* kHead = "[Service]\nExecStart=/bin/web\n[X-Supd]\n";

ServiceSpec Load(const std::string& xsupd, const std::string& head = kHead) {
  auto r = ParseServiceText(head + xsupd, "units/web.service", "web.service", Ctx());
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? std::move(*r) : ServiceSpec{};
}

std::string LoadErr(const std::string& xsupd, const std::string& head = kHead) {
  auto r = ParseServiceText(head + xsupd, "units/web.service", "web.service", Ctx());
  EXPECT_FALSE(r.ok());
  return r.ok() ? "" : r.error().message;
}

std::vector<std::string> Warnings(const ServiceSpec& s) {
  std::vector<std::string> out;
  for (const auto& w : s.warnings) out.push_back(w.ToString());
  return out;
}

TEST(ProbeDirectives, RoleNames) {
  EXPECT_STREQ("StartupProbe", ProbeRoleName(ProbeRole::kStartup));
  EXPECT_STREQ("ReadinessProbe", ProbeRoleName(ProbeRole::kReadiness));
  EXPECT_STREQ("LivenessProbe", ProbeRoleName(ProbeRole::kLiveness));
}

TEST(ProbeDirectives, NoneByDefault) {
  ServiceSpec s = Load("");
  EXPECT_FALSE(s.startup_probe);
  EXPECT_FALSE(s.readiness_probe);
  EXPECT_FALSE(s.liveness_probe);
  EXPECT_EQ(Usec{0}, s.min_ready);
}

TEST(ProbeDirectives, HttpWithPathAndDefaults) {
  ServiceSpec s = Load("ReadinessProbe=http://127.0.0.1:8080/healthz\n");
  ASSERT_TRUE(s.readiness_probe);
  const ProbeSpec& p = *s.readiness_probe;
  EXPECT_EQ(ProbeRole::kReadiness, p.role);
  EXPECT_EQ(ProbeSpec::Kind::kHttp, p.kind);
  EXPECT_EQ("http://127.0.0.1:8080/healthz", p.target);
  EXPECT_EQ("127.0.0.1", p.host);
  EXPECT_EQ(8080, p.port);
  EXPECT_EQ("/healthz", p.path);
  EXPECT_EQ("127.0.0.1:8080", p.host_header);
  EXPECT_EQ("units/web.service:4", p.source);
  EXPECT_EQ(seconds(1), p.interval);
  EXPECT_EQ(seconds(1), p.timeout);
  EXPECT_EQ(Usec{0}, p.initial_delay);
  EXPECT_EQ(3u, p.failure_threshold);
  EXPECT_EQ(1u, p.success_threshold);
  EXPECT_FALSE(s.startup_probe);
  EXPECT_FALSE(s.liveness_probe);
  EXPECT_THAT(Warnings(s), IsEmpty());
}

TEST(ProbeDirectives, HttpWithoutPathIsSlash) {
  ServiceSpec s = Load("LivenessProbe=http://10.1.2.3:80\n");
  ASSERT_TRUE(s.liveness_probe);
  EXPECT_EQ(ProbeRole::kLiveness, s.liveness_probe->role);
  EXPECT_EQ("/", s.liveness_probe->path);
  EXPECT_EQ("10.1.2.3", s.liveness_probe->host);
  EXPECT_EQ(80, s.liveness_probe->port);
  EXPECT_EQ("10.1.2.3:80", s.liveness_probe->host_header);
}

TEST(ProbeDirectives, HttpQueryKept) {
  ServiceSpec s = Load(
      "ReadinessProbe=http://127.0.0.1:8080/healthz?full=1&x=%%20y\n"
      "LivenessProbe=http://127.0.0.1:8080?verbose\n");
  ASSERT_TRUE(s.readiness_probe);
  EXPECT_EQ("/healthz?full=1&x=%20y", s.readiness_probe->path);
  EXPECT_EQ("http://127.0.0.1:8080/healthz?full=1&x=%20y", s.readiness_probe->target);
  ASSERT_TRUE(s.liveness_probe);
  EXPECT_EQ("/?verbose", s.liveness_probe->path);
  EXPECT_EQ("127.0.0.1:8080", s.liveness_probe->host_header);
}

TEST(ProbeDirectives, HttpIpv6) {
  ServiceSpec s = Load("ReadinessProbe=http://[::1]:9000/ready\n");
  ASSERT_TRUE(s.readiness_probe);
  EXPECT_EQ("::1", s.readiness_probe->host);
  EXPECT_EQ(9000, s.readiness_probe->port);
  EXPECT_EQ("/ready", s.readiness_probe->path);
  EXPECT_EQ("[::1]:9000", s.readiness_probe->host_header);
}

TEST(ProbeDirectives, LocalhostIsLoopbackAndKeptInHostHeader) {
  ServiceSpec s = Load("ReadinessProbe=http://localhost:8080/healthz\n");
  ASSERT_TRUE(s.readiness_probe);
  EXPECT_EQ("127.0.0.1", s.readiness_probe->host);
  EXPECT_EQ("localhost:8080", s.readiness_probe->host_header);
  EXPECT_EQ("http://localhost:8080/healthz", s.readiness_probe->target);
}

TEST(ProbeDirectives, Tcp) {
  ServiceSpec s = Load("StartupProbe=tcp://127.0.0.1:5432\nLivenessProbe=tcp://[fe80::1]:22\n");
  ASSERT_TRUE(s.startup_probe);
  const ProbeSpec& p = *s.startup_probe;
  EXPECT_EQ(ProbeRole::kStartup, p.role);
  EXPECT_EQ(ProbeSpec::Kind::kTcp, p.kind);
  EXPECT_EQ("tcp://127.0.0.1:5432", p.target);
  EXPECT_EQ("127.0.0.1", p.host);
  EXPECT_EQ(5432, p.port);
  EXPECT_EQ("", p.path);
  ASSERT_TRUE(s.liveness_probe);
  EXPECT_EQ("fe80::1", s.liveness_probe->host);
  EXPECT_EQ(22, s.liveness_probe->port);
  EXPECT_EQ("units/web.service:5", s.liveness_probe->source);
}

TEST(ProbeDirectives, ExecWithQuotingAndSpecifier) {
  ServiceSpec s =
      Load("ReadinessProbe=exec:/usr/bin/check \"two words\" --unit=%n 'x y' $MAINPID ${PORT}\n");
  ASSERT_TRUE(s.readiness_probe);
  const ProbeSpec& p = *s.readiness_probe;
  EXPECT_EQ(ProbeSpec::Kind::kExec, p.kind);
  EXPECT_EQ("/usr/bin/check", p.command.path);
  EXPECT_THAT(p.command.argv, ElementsAre("/usr/bin/check", "two words", "--unit=web.service",
                                          "x y", "$MAINPID", "${PORT}"));
  EXPECT_FALSE(p.command.ignore_failure);
  EXPECT_FALSE(p.command.no_env_expand);
  EXPECT_FALSE(p.command.full_privileges);
  EXPECT_FALSE(p.command.no_setuid);
  EXPECT_EQ("units/web.service:4", p.command.source);
  EXPECT_EQ("units/web.service:4", p.source);
  EXPECT_EQ("exec:/usr/bin/check \"two words\" --unit=web.service 'x y' $MAINPID ${PORT}",
            p.target);
  // $VAR stays for the start, where it expands as in ExecStart=.
  EXPECT_THAT(
      ExpandCommand(p.command, {{"MAINPID", "42"}, {"PORT", "8080"}}),
      ElementsAre("/usr/bin/check", "two words", "--unit=web.service", "x y", "42", "8080"));
}

TEST(ProbeDirectives, ExecBareNameIsLookedUpInPath) {
  auto expected = FindExecutable("true", kExecSearchPath);
  ASSERT_TRUE(expected.ok()) << expected.error().message;
  ServiceSpec s = Load("LivenessProbe=exec:true --quick\n");
  ASSERT_TRUE(s.liveness_probe);
  EXPECT_EQ(*expected, s.liveness_probe->command.path);
  EXPECT_THAT(s.liveness_probe->command.argv, ElementsAre("true", "--quick"));
}

TEST(ProbeDirectives, EverySetting) {
  ServiceSpec s = Load(
      "ReadinessProbe=tcp://127.0.0.1:80\n"
      "ReadinessProbeIntervalSec=250ms\n"
      "ReadinessProbeTimeoutSec=100ms\n"
      "ReadinessProbeInitialDelaySec=2s\n"
      "ReadinessProbeFailureThreshold=5\n"
      "ReadinessProbeSuccessThreshold=2\n"
      "StartupProbe=tcp://127.0.0.1:80\n"
      "StartupProbeIntervalSec=1min\n"
      "StartupProbeTimeoutSec=3s\n"
      "StartupProbeInitialDelaySec=0\n"
      "StartupProbeFailureThreshold=1000000\n"
      "StartupProbeSuccessThreshold=1\n"
      "LivenessProbe=tcp://127.0.0.1:80\n"
      "LivenessProbeIntervalSec=1s 500ms\n"
      "LivenessProbeTimeoutSec=5\n"
      "LivenessProbeInitialDelaySec=10s\n"
      "LivenessProbeFailureThreshold=1\n"
      "LivenessProbeSuccessThreshold=1\n"
      "MinReadySec=3s\n");
  ASSERT_TRUE(s.readiness_probe && s.startup_probe && s.liveness_probe);
  EXPECT_EQ(milliseconds(250), s.readiness_probe->interval);
  EXPECT_EQ(milliseconds(100), s.readiness_probe->timeout);
  EXPECT_EQ(seconds(2), s.readiness_probe->initial_delay);
  EXPECT_EQ(5u, s.readiness_probe->failure_threshold);
  EXPECT_EQ(2u, s.readiness_probe->success_threshold);
  EXPECT_EQ(minutes(1), s.startup_probe->interval);
  EXPECT_EQ(seconds(3), s.startup_probe->timeout);
  EXPECT_EQ(Usec{0}, s.startup_probe->initial_delay);
  EXPECT_EQ(1000000u, s.startup_probe->failure_threshold);
  EXPECT_EQ(1u, s.startup_probe->success_threshold);
  EXPECT_EQ(milliseconds(1500), s.liveness_probe->interval);
  EXPECT_EQ(seconds(5), s.liveness_probe->timeout);
  EXPECT_EQ(seconds(10), s.liveness_probe->initial_delay);
  EXPECT_EQ(1u, s.liveness_probe->failure_threshold);
  EXPECT_EQ(1u, s.liveness_probe->success_threshold);
  EXPECT_EQ(seconds(3), s.min_ready);
  EXPECT_THAT(Warnings(s), IsEmpty());
}

TEST(ProbeDirectives, SettingsBeforeTheProbeApply) {
  ServiceSpec s = Load(
      "ReadinessProbeIntervalSec=200ms\n"
      "ReadinessProbeFailureThreshold=7\n"
      "ReadinessProbe=http://127.0.0.1:8080/healthz\n");
  ASSERT_TRUE(s.readiness_probe);
  EXPECT_EQ(milliseconds(200), s.readiness_probe->interval);
  EXPECT_EQ(7u, s.readiness_probe->failure_threshold);
  EXPECT_EQ(seconds(1), s.readiness_probe->timeout);
  EXPECT_THAT(Warnings(s), IsEmpty());
}

TEST(ProbeDirectives, SettingsFromADropinApplyToTheFilesProbe) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(testing::TempDir()) / "probe_dropin_test";
  fs::remove_all(dir);
  fs::create_directories(dir / "web.service.d");
  std::ofstream(dir / "web.service") << kHead << "ReadinessProbe=tcp://127.0.0.1:80\n";
  std::ofstream(dir / "web.service.d" / "fast.conf")
      << "[X-Supd]\nReadinessProbeIntervalSec=50ms\n";
  std::ofstream(dir / "web.service.d" / "live.conf")
      << "[X-Supd]\nLivenessProbe=tcp://127.0.0.1:81\n";
  auto s = LoadServiceFile((dir / "web.service").string(), "web.service", Ctx());
  ASSERT_TRUE(s.ok()) << s.error().message;
  ASSERT_TRUE(s->readiness_probe);
  EXPECT_EQ(milliseconds(50), s->readiness_probe->interval);
  ASSERT_TRUE(s->liveness_probe);
  EXPECT_EQ((dir / "web.service.d" / "live.conf").string() + ":2", s->liveness_probe->source);
  fs::remove_all(dir);
}

TEST(ProbeDirectives, SecondAssignmentReplacesTheFirst) {
  ServiceSpec s = Load(
      "ReadinessProbe=http://127.0.0.1:8080/a\n"
      "ReadinessProbe=exec:/bin/check\n");
  ASSERT_TRUE(s.readiness_probe);
  EXPECT_EQ(ProbeSpec::Kind::kExec, s.readiness_probe->kind);
  EXPECT_EQ("", s.readiness_probe->host);
  EXPECT_EQ("", s.readiness_probe->path);
  EXPECT_EQ("units/web.service:5", s.readiness_probe->source);
}

TEST(ProbeDirectives, EmptyAssignmentResetsTheProbe) {
  ServiceSpec s = Load(
      "LivenessProbe=http://127.0.0.1:8080/a\n"
      "LivenessProbe=\n");
  EXPECT_FALSE(s.liveness_probe);
  EXPECT_THAT(Warnings(s), IsEmpty());
}

TEST(ProbeDirectives, EmptySettingGoesBackToTheDefault) {
  ServiceSpec s = Load(
      "ReadinessProbe=tcp://127.0.0.1:80\n"
      "ReadinessProbeTimeoutSec=5s\n"
      "ReadinessProbeTimeoutSec=\n"
      "ReadinessProbeSuccessThreshold=4\n"
      "ReadinessProbeSuccessThreshold=\n"
      "MinReadySec=5s\n"
      "MinReadySec=\n");
  ASSERT_TRUE(s.readiness_probe);
  EXPECT_EQ(seconds(1), s.readiness_probe->timeout);
  EXPECT_EQ(1u, s.readiness_probe->success_threshold);
  EXPECT_EQ(Usec{0}, s.min_ready);
}

TEST(ProbeDirectives, SettingWithoutItsProbeIsAWarning) {
  ServiceSpec s = Load(
      "ReadinessProbeIntervalSec=250ms\n"
      "LivenessProbe=tcp://127.0.0.1:80\n"
      "StartupProbeFailureThreshold=10\n"
      "LivenessProbeTimeoutSec=2s\n"
      "ReadinessProbeSuccessThreshold=2\n");
  ASSERT_TRUE(s.liveness_probe);
  EXPECT_EQ(seconds(2), s.liveness_probe->timeout);
  EXPECT_THAT(Warnings(s),
              ElementsAre("units/web.service:6: StartupProbeFailureThreshold= has no effect "
                          "without StartupProbe=",
                          "units/web.service:4: ReadinessProbeIntervalSec= has no effect without "
                          "ReadinessProbe=",
                          "units/web.service:8: ReadinessProbeSuccessThreshold= has no effect "
                          "without ReadinessProbe="));
}

TEST(ProbeDirectives, ResetProbeLeavesItsSettingsWithoutEffect) {
  ServiceSpec s = Load(
      "ReadinessProbe=tcp://127.0.0.1:80\n"
      "ReadinessProbeIntervalSec=250ms\n"
      "ReadinessProbe=\n");
  EXPECT_FALSE(s.readiness_probe);
  EXPECT_THAT(Warnings(s), ElementsAre("units/web.service:5: ReadinessProbeIntervalSec= has no "
                                       "effect without ReadinessProbe="));
}

TEST(ProbeDirectives, ProbeInServiceSectionIsUnknownWithAHint) {
  ServiceSpec s = Load("", "[Service]\nExecStart=/bin/web\nReadinessProbe=tcp://127.0.0.1:80\n");
  EXPECT_FALSE(s.readiness_probe);
  EXPECT_THAT(Warnings(s),
              ElementsAre("units/web.service:3: Unknown key 'ReadinessProbe' in section "
                          "[Service], ignoring (ReadinessProbe= belongs in the [X-Supd] section)"));
}

TEST(ProbeDirectives, MinReadySec) {
  ServiceSpec s = Load("ReadinessProbe=tcp://127.0.0.1:80\nMinReadySec=1500ms\n");
  EXPECT_EQ(milliseconds(1500), s.min_ready);
  // 0 needs no probe: it is the default.
  ServiceSpec zero = Load("MinReadySec=0\n");
  EXPECT_EQ(Usec{0}, zero.min_ready);
  EXPECT_THAT(Warnings(zero), IsEmpty());
}

// Every error, verbatim, with its file:line.
struct ErrorCase {
  const char* xsupd;
  const char* message;
};

void PrintTo(const ErrorCase& c, std::ostream* os) { *os << c.xsupd; }

class ProbeDirectiveErrors : public testing::TestWithParam<ErrorCase> {};

TEST_P(ProbeDirectiveErrors, Message) {
  EXPECT_EQ(GetParam().message, LoadErr(GetParam().xsupd)) << GetParam().xsupd;
}

INSTANTIATE_TEST_SUITE_P(
    ProbeDirectives, ProbeDirectiveErrors,
    testing::Values(
        // Forms of target.
        ErrorCase{"ReadinessProbe=ftp://127.0.0.1:21/\n",
                  "units/web.service:4: Invalid ReadinessProbe= value 'ftp://127.0.0.1:21/': "
                  "expected http://HOST:PORT/PATH, tcp://HOST:PORT or exec:COMMAND"},
        ErrorCase{"ReadinessProbe=127.0.0.1:8080\n",
                  "units/web.service:4: Invalid ReadinessProbe= value '127.0.0.1:8080': "
                  "expected http://HOST:PORT/PATH, tcp://HOST:PORT or exec:COMMAND"},
        ErrorCase{"ReadinessProbe=HTTP://127.0.0.1:8080/\n",
                  "units/web.service:4: Invalid ReadinessProbe= value 'HTTP://127.0.0.1:8080/': "
                  "expected http://HOST:PORT/PATH, tcp://HOST:PORT or exec:COMMAND"},
        ErrorCase{"ReadinessProbe=https://127.0.0.1:8443/healthz\n",
                  "units/web.service:4: Invalid ReadinessProbe= value "
                  "'https://127.0.0.1:8443/healthz': https probes are not supported; probe the "
                  "plain-HTTP address or use exec:"},
        ErrorCase{"LivenessProbe=http://example.com:80/healthz\n",
                  "units/web.service:4: Invalid LivenessProbe= value "
                  "'http://example.com:80/healthz': 'example.com' is not an IP address, and supd "
                  "does not resolve names for probes: write an address (127.0.0.1, [::1]) or "
                  "localhost"},
        ErrorCase{"StartupProbe=tcp://db:5432\n",
                  "units/web.service:4: Invalid StartupProbe= value 'tcp://db:5432': 'db' is not "
                  "an IP address, and supd does not resolve names for probes: write an address "
                  "(127.0.0.1, [::1]) or localhost"},
        ErrorCase{"ReadinessProbe=http://%H:80/\n",
                  "units/web.service:4: Invalid ReadinessProbe= value 'http://%H:80/': 'box' is "
                  "not an IP address, and supd does not resolve names for probes: write an "
                  "address (127.0.0.1, [::1]) or localhost"},
        ErrorCase{"ReadinessProbe=http://127.1:80/\n",
                  "units/web.service:4: Invalid ReadinessProbe= value 'http://127.1:80/': '127.1' "
                  "is not an IP address, and supd does not resolve names for probes: write an "
                  "address (127.0.0.1, [::1]) or localhost"},
        ErrorCase{"ReadinessProbe=http://:8080/\n",
                  "units/web.service:4: Invalid ReadinessProbe= value 'http://:8080/': the host "
                  "is missing"},
        ErrorCase{"ReadinessProbe=http://[::g]:80/\n",
                  "units/web.service:4: Invalid ReadinessProbe= value 'http://[::g]:80/': '[::g]' "
                  "is not an IPv6 address"},
        ErrorCase{"ReadinessProbe=http://[::1:80/\n",
                  "units/web.service:4: Invalid ReadinessProbe= value 'http://[::1:80/': '[::1:80' "
                  "is not an IPv6 address"},
        ErrorCase{"ReadinessProbe=http://[::1]80/\n",
                  "units/web.service:4: Invalid ReadinessProbe= value 'http://[::1]80/': expected "
                  "':PORT' after '[::1]'"},
        ErrorCase{"ReadinessProbe=http://::1:80/\n",
                  "units/web.service:4: Invalid ReadinessProbe= value 'http://::1:80/': an IPv6 "
                  "address is written in brackets, as in http://[::1]:8080/"},
        ErrorCase{"ReadinessProbe=http://127.0.0.1/healthz\n",
                  "units/web.service:4: Invalid ReadinessProbe= value "
                  "'http://127.0.0.1/healthz': the port is missing (HOST:PORT)"},
        ErrorCase{"ReadinessProbe=http://127.0.0.1:/healthz\n",
                  "units/web.service:4: Invalid ReadinessProbe= value "
                  "'http://127.0.0.1:/healthz': the port is missing (HOST:PORT)"},
        ErrorCase{"ReadinessProbe=http://[::1]/\n",
                  "units/web.service:4: Invalid ReadinessProbe= value 'http://[::1]/': the port "
                  "is missing (HOST:PORT)"},
        ErrorCase{"ReadinessProbe=http://127.0.0.1:0/\n",
                  "units/web.service:4: Invalid ReadinessProbe= value 'http://127.0.0.1:0/': "
                  "port '0' is not a number from 1 to 65535"},
        ErrorCase{"ReadinessProbe=tcp://127.0.0.1:65536\n",
                  "units/web.service:4: Invalid ReadinessProbe= value 'tcp://127.0.0.1:65536': "
                  "port '65536' is not a number from 1 to 65535"},
        ErrorCase{"ReadinessProbe=tcp://127.0.0.1:-1\n",
                  "units/web.service:4: Invalid ReadinessProbe= value 'tcp://127.0.0.1:-1': "
                  "port '-1' is not a number from 1 to 65535"},
        ErrorCase{"ReadinessProbe=tcp://127.0.0.1:99999999999999999999\n",
                  "units/web.service:4: Invalid ReadinessProbe= value "
                  "'tcp://127.0.0.1:99999999999999999999': port '99999999999999999999' is not a "
                  "number from 1 to 65535"},
        ErrorCase{"ReadinessProbe=http://user:pw@127.0.0.1:80/\n",
                  "units/web.service:4: Invalid ReadinessProbe= value "
                  "'http://user:pw@127.0.0.1:80/': user information ('user@') is not supported "
                  "in a probe URL"},
        ErrorCase{"ReadinessProbe=http://127.0.0.1:80/healthz#top\n",
                  "units/web.service:4: Invalid ReadinessProbe= value "
                  "'http://127.0.0.1:80/healthz#top': a fragment ('#...') is not sent to the "
                  "server; remove it"},
        ErrorCase{"ReadinessProbe=http://127.0.0.1:80/a b\n",
                  "units/web.service:4: Invalid ReadinessProbe= value 'http://127.0.0.1:80/a b': "
                  "the path has a space, a control character or a non-ASCII byte; percent-encode "
                  "it (written %% in a unit file)"},
        ErrorCase{"ReadinessProbe=http://127.0.0.1:80/a%20b\n",
                  "units/web.service:4: Failed to resolve specifiers in ReadinessProbe=: unknown "
                  "specifier '%2' in 'http://127.0.0.1:80/a%20b'"},
        ErrorCase{"ReadinessProbe=tcp://127.0.0.1:80/\n",
                  "units/web.service:4: Invalid ReadinessProbe= value 'tcp://127.0.0.1:80/': a "
                  "tcp:// target is HOST:PORT, without a path"},
        // exec:
        ErrorCase{"ReadinessProbe=exec:-/bin/check\n",
                  "units/web.service:4: Invalid ReadinessProbe= value 'exec:-/bin/check': "
                  "prefixes (-, @, :, +, !) are not supported on probes"},
        ErrorCase{"LivenessProbe=exec:@/bin/check check\n",
                  "units/web.service:4: Invalid LivenessProbe= value 'exec:@/bin/check check': "
                  "prefixes (-, @, :, +, !) are not supported on probes"},
        ErrorCase{"ReadinessProbe=exec::/bin/check\n",
                  "units/web.service:4: Invalid ReadinessProbe= value 'exec::/bin/check': "
                  "prefixes (-, @, :, +, !) are not supported on probes"},
        ErrorCase{"ReadinessProbe=exec:+/bin/check\n",
                  "units/web.service:4: Invalid ReadinessProbe= value 'exec:+/bin/check': "
                  "prefixes (-, @, :, +, !) are not supported on probes"},
        ErrorCase{"StartupProbe=exec:!/bin/check\n",
                  "units/web.service:4: Invalid StartupProbe= value 'exec:!/bin/check': "
                  "prefixes (-, @, :, +, !) are not supported on probes"},
        ErrorCase{"ReadinessProbe=exec:\"-/bin/check\"\n",
                  "units/web.service:4: Invalid ReadinessProbe= value 'exec:\"-/bin/check\"': "
                  "prefixes (-, @, :, +, !) are not supported on probes"},
        ErrorCase{"ReadinessProbe=exec:/bin/a ; /bin/b\n",
                  "units/web.service:4: Invalid ReadinessProbe= value 'exec:/bin/a ; /bin/b': a "
                  "probe runs one command; ';' chains are not supported"},
        ErrorCase{"ReadinessProbe=exec:; /bin/b\n",
                  "units/web.service:4: Invalid ReadinessProbe= value 'exec:; /bin/b': a probe "
                  "runs one command; ';' chains are not supported"},
        ErrorCase{"ReadinessProbe=exec:\n",
                  "units/web.service:4: Invalid ReadinessProbe= value 'exec:': exec: needs a "
                  "command, as in exec:/usr/bin/check --quick"},
        ErrorCase{"ReadinessProbe=exec:bin/check\n",
                  "units/web.service:4: Neither a valid executable name nor an absolute path: "
                  "bin/check"},
        ErrorCase{"ReadinessProbe=exec:/bin/check \"unbalanced\n",
                  "units/web.service:4: Unbalanced quoting in ReadinessProbe=: /bin/check "
                  "\"unbalanced"},
        ErrorCase{"ReadinessProbe=exec:/bin/check %z\n",
                  "units/web.service:4: Failed to resolve specifiers in ReadinessProbe=: unknown "
                  "specifier '%z' in 'exec:/bin/check %z'"},
        // Time spans.
        ErrorCase{"ReadinessProbeIntervalSec=0\n",
                  "units/web.service:4: Invalid ReadinessProbeIntervalSec= value '0': must be "
                  "more than 0"},
        ErrorCase{"ReadinessProbeIntervalSec=400y\n",
                  "units/web.service:4: Invalid ReadinessProbeIntervalSec= value '400y': must be "
                  "at most a year"},
        ErrorCase{"ReadinessProbeIntervalSec=5ms\n",
                  "units/web.service:4: Invalid ReadinessProbeIntervalSec= value '5ms': must be "
                  "at least 10ms"},
        ErrorCase{"ReadinessProbeIntervalSec=infinity\n",
                  "units/web.service:4: Invalid ReadinessProbeIntervalSec= value 'infinity': "
                  "must be finite"},
        ErrorCase{"LivenessProbeTimeoutSec=0ms\n",
                  "units/web.service:4: Invalid LivenessProbeTimeoutSec= value '0ms': must be "
                  "more than 0"},
        ErrorCase{"StartupProbeTimeoutSec=infinity\n",
                  "units/web.service:4: Invalid StartupProbeTimeoutSec= value 'infinity': must "
                  "be finite"},
        ErrorCase{"ReadinessProbeTimeoutSec=1 fortnight\n",
                  "units/web.service:4: Invalid ReadinessProbeTimeoutSec= value '1 fortnight': "
                  "not a time span (as in 250ms, 1s, 1min)"},
        ErrorCase{"ReadinessProbeIntervalSec=-1s\n",
                  "units/web.service:4: Invalid ReadinessProbeIntervalSec= value '-1s': not a "
                  "time span (as in 250ms, 1s, 1min)"},
        ErrorCase{"ReadinessProbeInitialDelaySec=infinity\n",
                  "units/web.service:4: Invalid ReadinessProbeInitialDelaySec= value "
                  "'infinity': must be finite (0 for none)"},
        ErrorCase{"LivenessProbeInitialDelaySec=soon\n",
                  "units/web.service:4: Invalid LivenessProbeInitialDelaySec= value 'soon': not "
                  "a time span (as in 250ms, 1s, 1min)"},
        // Thresholds.
        ErrorCase{"ReadinessProbeFailureThreshold=0\n",
                  "units/web.service:4: Invalid ReadinessProbeFailureThreshold= value '0': not a "
                  "number from 1 to 1000000"},
        ErrorCase{"LivenessProbeFailureThreshold=1000001\n",
                  "units/web.service:4: Invalid LivenessProbeFailureThreshold= value '1000001': "
                  "not a number from 1 to 1000000"},
        ErrorCase{"StartupProbeFailureThreshold=three\n",
                  "units/web.service:4: Invalid StartupProbeFailureThreshold= value 'three': not "
                  "a number from 1 to 1000000"},
        ErrorCase{"ReadinessProbeSuccessThreshold=0\n",
                  "units/web.service:4: Invalid ReadinessProbeSuccessThreshold= value '0': not a "
                  "number from 1 to 1000000"},
        ErrorCase{"LivenessProbeSuccessThreshold=2\n",
                  "units/web.service:4: Invalid LivenessProbeSuccessThreshold= value '2': must "
                  "be 1 for LivenessProbe= (only ReadinessProbe= may need several successes)"},
        ErrorCase{"StartupProbeSuccessThreshold=2\n",
                  "units/web.service:4: Invalid StartupProbeSuccessThreshold= value '2': must be "
                  "1 for StartupProbe= (only ReadinessProbe= may need several successes)"},
        // MinReadySec=.
        ErrorCase{"LivenessProbe=tcp://127.0.0.1:80\nMinReadySec=5s\n",
                  "units/web.service:5: MinReadySec=5s needs ReadinessProbe=: it is how long the "
                  "readiness probe must keep passing"},
        ErrorCase{"MinReadySec=infinity\n",
                  "units/web.service:4: Invalid MinReadySec= value 'infinity': must be finite (0 "
                  "for none)"},
        ErrorCase{"MinReadySec=later\n",
                  "units/web.service:4: Invalid MinReadySec= value 'later': not a time span (as "
                  "in 250ms, 1s, 1min)"}));

TEST(ProbeDirectives, ProbesOnOneshotAreErrors) {
  const std::string head = "[Service]\nType=oneshot\nExecStart=/bin/job\n[X-Supd]\n";
  EXPECT_EQ(
      "units/web.service:6: LivenessProbe=tcp://127.0.0.1:80 is not allowed for Type=oneshot "
      "services: a oneshot has no long-running process to probe",
      LoadErr("LivenessProbeIntervalSec=2s\nLivenessProbe=tcp://127.0.0.1:80\n", head));
  EXPECT_EQ(
      "units/web.service:5: ReadinessProbe=exec:/bin/check is not allowed for Type=oneshot "
      "services: a oneshot has no long-running process to probe",
      LoadErr("ReadinessProbe=exec:/bin/check\n", head));
  // Type= after the probe counts too: the check is made once the whole unit is read.
  EXPECT_EQ(
      "units/web.service:2: StartupProbe=http://127.0.0.1:1/ is not allowed for Type=oneshot "
      "services: a oneshot has no long-running process to probe",
      LoadErr("",
              "[X-Supd]\nStartupProbe=http://127.0.0.1:1/\n[Service]\nExecStart=/bin/job\n"
              "Type=oneshot\n"));
  // A setting alone is only a warning, on a oneshot as elsewhere.
  ServiceSpec s = Load("StartupProbeTimeoutSec=2s\n", head);
  EXPECT_THAT(Warnings(s), ElementsAre("units/web.service:5: StartupProbeTimeoutSec= has no "
                                       "effect without StartupProbe="));
}

}  // namespace
}  // namespace supd
