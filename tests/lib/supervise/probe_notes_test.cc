// What `supctl check` notes about probes of a held socket: which held socket answers a probe's
// address (same address, or a wildcard of a family that serves it), and the note's three
// wordings, by what can gate an overlap restart.
#include "lib/supervise/probe_notes.h"

#include <gtest/gtest.h>

namespace supd {
namespace {

ProbeSpec Net(ProbeRole role, ProbeSpec::Kind kind, const std::string& host, uint16_t port) {
  ProbeSpec p;
  p.role = role;
  p.kind = kind;
  p.host = host;
  p.port = port;
  const std::string addr =
      (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
  p.target = kind == ProbeSpec::Kind::kHttp ? "http://" + addr + "/healthz" : "tcp://" + addr;
  if (kind == ProbeSpec::Kind::kHttp) p.path = "/healthz";
  p.source = "web.service:9";
  return p;
}

ProbeSpec Http(const std::string& host, uint16_t port = 8080) {
  return Net(ProbeRole::kReadiness, ProbeSpec::Kind::kHttp, host, port);
}

ProbeSpec Tcp(const std::string& host, uint16_t port = 8080) {
  return Net(ProbeRole::kReadiness, ProbeSpec::Kind::kTcp, host, port);
}

ProbeSpec Exec(ProbeRole role) {
  ProbeSpec p;
  p.role = role;
  p.kind = ProbeSpec::Kind::kExec;
  p.target = "exec:/bin/check";
  p.command.path = "/bin/check";
  p.command.argv = {"/bin/check"};
  p.source = "web.service:10";
  return p;
}

using Held = std::vector<std::string>;

// ---- HeldSocketProbed

TEST(HeldSocketProbedTest, TheSameAddressAndPort) {
  EXPECT_EQ(HeldSocketProbed(Http("127.0.0.1"), {"tcp:127.0.0.1:8080"}), "tcp:127.0.0.1:8080");
  EXPECT_EQ(HeldSocketProbed(Tcp("127.0.0.1"), {"tcp:127.0.0.1:8080"}), "tcp:127.0.0.1:8080");
}

TEST(HeldSocketProbedTest, AnIpv4WildcardServesAnIpv4Probe) {
  EXPECT_EQ(HeldSocketProbed(Http("127.0.0.1"), {"tcp:0.0.0.0:8080"}), "tcp:0.0.0.0:8080");
  EXPECT_EQ(HeldSocketProbed(Tcp("10.1.2.3"), {"tcp:0.0.0.0:8080"}), "tcp:0.0.0.0:8080");
}

TEST(HeldSocketProbedTest, AnIpv6WildcardServesBothFamilies) {
  // A bare port binds [::] dual-stack: it also accepts IPv4 connections.
  EXPECT_EQ(HeldSocketProbed(Http("127.0.0.1"), {"tcp6:[::]:8080"}), "tcp6:[::]:8080");
  EXPECT_EQ(HeldSocketProbed(Http("::1"), {"tcp6:[::]:8080"}), "tcp6:[::]:8080");
}

TEST(HeldSocketProbedTest, AnIpv6ProbeOfTheSameAddress) {
  EXPECT_EQ(HeldSocketProbed(Http("::1"), {"tcp6:[::1]:8080"}), "tcp6:[::1]:8080");
  EXPECT_EQ(HeldSocketProbed(Tcp("::1"), {"tcp6:[::1]:8080"}), "tcp6:[::1]:8080");
}

TEST(HeldSocketProbedTest, AnIpv4WildcardDoesNotServeIpv6) {
  EXPECT_EQ(HeldSocketProbed(Http("::1"), {"tcp:0.0.0.0:8080"}), "");
  EXPECT_EQ(HeldSocketProbed(Tcp("::1"), {"tcp:0.0.0.0:8080"}), "");
}

TEST(HeldSocketProbedTest, OtherAddressesDoNotMatch) {
  EXPECT_EQ(HeldSocketProbed(Http("127.0.0.1"), {"tcp:127.0.0.2:8080"}), "");
  EXPECT_EQ(HeldSocketProbed(Http("127.0.0.1"), {"tcp6:[::1]:8080"}), "");
  EXPECT_EQ(HeldSocketProbed(Http("::1"), {"tcp:127.0.0.1:8080"}), "");
}

TEST(HeldSocketProbedTest, ADifferentPortDoesNotMatch) {
  EXPECT_EQ(HeldSocketProbed(Http("127.0.0.1", 8081), {"tcp:127.0.0.1:8080"}), "");
  EXPECT_EQ(HeldSocketProbed(Http("127.0.0.1", 8081), {"tcp:0.0.0.0:8080"}), "");
  EXPECT_EQ(HeldSocketProbed(Http("127.0.0.1", 8081), {"tcp6:[::]:8080"}), "");
  // A port that is a prefix or suffix of the held one's is another port.
  EXPECT_EQ(HeldSocketProbed(Http("127.0.0.1", 80), {"tcp:127.0.0.1:8080"}), "");
  EXPECT_EQ(HeldSocketProbed(Http("127.0.0.1", 808), {"tcp:127.0.0.1:8080"}), "");
}

TEST(HeldSocketProbedTest, UnixAndDatagramSocketsAreNeverProbed) {
  EXPECT_EQ(HeldSocketProbed(Http("127.0.0.1"),
                             {"unix:/run/web.sock", "unix:@web", "unix-dgram:/run/web.dgram",
                              "udp:127.0.0.1:8080", "udp6:[::]:8080"}),
            "");
}

TEST(HeldSocketProbedTest, TheFirstHeldSocketThatAnswersAmongOthers) {
  const Held held = {"unix:/run/web.sock", "tcp:127.0.0.1:9090", "tcp6:[::]:8080",
                     "tcp:0.0.0.0:8080"};
  EXPECT_EQ(HeldSocketProbed(Http("127.0.0.1"), held), "tcp6:[::]:8080");
  EXPECT_EQ(HeldSocketProbed(Tcp("127.0.0.1", 9090), held), "tcp:127.0.0.1:9090");
  EXPECT_EQ(HeldSocketProbed(Tcp("127.0.0.1", 7070), held), "");
}

TEST(HeldSocketProbedTest, AnExecProbeNever) {
  ProbeSpec p = Exec(ProbeRole::kReadiness);
  // Even with an address left in the fields: an exec probe connects to nothing.
  p.host = "127.0.0.1";
  p.port = 8080;
  EXPECT_EQ(HeldSocketProbed(p, {"tcp:127.0.0.1:8080", "tcp:0.0.0.0:8080", "tcp6:[::]:8080"}),
            "");
}

TEST(HeldSocketProbedTest, NothingHeld) { EXPECT_EQ(HeldSocketProbed(Http("127.0.0.1"), {}), ""); }

// ---- ProbeCheckNotes

ServiceSpec Web(ServiceType type) {
  ServiceSpec s;
  s.name = "web.service";
  s.type = type;
  return s;
}

const char kPrefix[] =
    "ReadinessProbe=http://127.0.0.1:8080/healthz (web.service:9) probes tcp:127.0.0.1:8080, a "
    "socket supd holds for every instance: it cannot tell a new instance from the old one. ";

TEST(ProbeCheckNotesTest, SimpleServiceRestartsStopFirst) {
  ServiceSpec s = Web(ServiceType::kSimple);
  s.readiness_probe = Http("127.0.0.1");
  EXPECT_EQ(ProbeCheckNotes(s, {"tcp:127.0.0.1:8080"}),
            std::vector<std::string>{
                std::string(kPrefix) +
                "A restart stops the old instance first (requests wait on the socket) and ends "
                "once the new one passes the probe."});
}

TEST(ProbeCheckNotesTest, NotifyServiceOverlapsOnReadyOnly) {
  for (ServiceType t : {ServiceType::kNotify, ServiceType::kNotifyReload}) {
    ServiceSpec s = Web(t);
    s.readiness_probe = Http("127.0.0.1");
    EXPECT_EQ(ProbeCheckNotes(s, {"tcp:127.0.0.1:8080"}),
              std::vector<std::string>{
                  std::string(kPrefix) +
                  "An overlap restart waits for READY=1 only; an exec: readiness probe (it gets "
                  "the new instance's $MAINPID) would gate it."});
  }
}

TEST(ProbeCheckNotesTest, AnExecReadinessProbeGatesWhileTheStartupProbeHitsTheSocket) {
  ServiceSpec s = Web(ServiceType::kNotify);
  s.startup_probe = Net(ProbeRole::kStartup, ProbeSpec::Kind::kTcp, "127.0.0.1", 8080);
  s.readiness_probe = Exec(ProbeRole::kReadiness);
  EXPECT_EQ(ProbeCheckNotes(s, {"tcp6:[::]:8080"}),
            std::vector<std::string>{
                "StartupProbe=tcp://127.0.0.1:8080 (web.service:9) probes tcp6:[::]:8080, a "
                "socket supd holds for every instance: it cannot tell a new instance from the "
                "old one. And a tcp:// probe of it always passes, even before the service accepts a "
                "connection: probe with http:// or exec: instead."});
}

TEST(ProbeCheckNotesTest, OneNotePerProbeOfAHeldSocketStartupFirst) {
  ServiceSpec s = Web(ServiceType::kSimple);
  s.startup_probe = Net(ProbeRole::kStartup, ProbeSpec::Kind::kTcp, "127.0.0.1", 8080);
  s.readiness_probe = Http("127.0.0.1", 9090);
  const auto notes = ProbeCheckNotes(s, {"tcp:0.0.0.0:8080", "tcp:0.0.0.0:9090"});
  ASSERT_EQ(notes.size(), 2u);
  EXPECT_TRUE(notes[0].starts_with("StartupProbe=tcp://127.0.0.1:8080 (web.service:9) probes "
                                   "tcp:0.0.0.0:8080, "))
      << notes[0];
  EXPECT_TRUE(notes[1].starts_with("ReadinessProbe=http://127.0.0.1:9090/healthz (web.service:9) "
                                   "probes tcp:0.0.0.0:9090, "))
      << notes[1];
}

TEST(ProbeCheckNotesTest, NoNoteWithoutAProbeOfAHeldSocket) {
  ServiceSpec s = Web(ServiceType::kSimple);
  EXPECT_TRUE(ProbeCheckNotes(s, {"tcp:127.0.0.1:8080"}).empty()) << "no probes";
  s.readiness_probe = Http("127.0.0.1", 9090);
  EXPECT_TRUE(ProbeCheckNotes(s, {"tcp:127.0.0.1:8080"}).empty()) << "another port";
  EXPECT_TRUE(ProbeCheckNotes(s, {}).empty()) << "no held sockets";
  s.readiness_probe = Http("::1");
  EXPECT_TRUE(ProbeCheckNotes(s, {"tcp:0.0.0.0:8080"}).empty()) << "IPv6 probe, IPv4 socket";
  s.readiness_probe = Exec(ProbeRole::kReadiness);
  EXPECT_TRUE(ProbeCheckNotes(s, {"tcp:127.0.0.1:8080"}).empty()) << "exec probe";
}

TEST(ProbeCheckNotesTest, ALivenessProbeOfAHeldSocketGetsNoNote) {
  // Liveness gates nothing: that the old instance may answer it is no restart's concern.
  ServiceSpec s = Web(ServiceType::kSimple);
  s.liveness_probe = Net(ProbeRole::kLiveness, ProbeSpec::Kind::kHttp, "127.0.0.1", 8080);
  EXPECT_TRUE(ProbeCheckNotes(s, {"tcp:127.0.0.1:8080"}).empty());
}

}  // namespace
}  // namespace supd
