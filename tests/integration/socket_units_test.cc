// Socket units are units: `supctl start|stop|restart|status NAME.socket` as with systemctl, and
// a daemon-reload applies a changed socket unit, keeping the sockets that did not change.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "tests/integration/harness.h"

namespace supd::integration {
namespace {

using nlohmann::json;

class SocketUnitsTest : public SupdTest {
 protected:
  // The inodes of the sockets supd holds open ("socket:[123]" → 123).
  // The TCP sockets supd holds in LISTEN state, as "socket:[inode]". Connections (a control
  // client's, closed a moment after its answer) and datagram sockets are not counted: they
  // come and go on their own.
  std::set<std::string> SupdSockets() {
    std::set<std::string> listening;
    for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
      std::ifstream in(table);
      std::string line;
      std::getline(in, line);  // the header
      while (std::getline(in, line)) {
        std::istringstream fields(line);
        std::string sl, local, remote, st, queues, tr, retr, uid, timeout, inode;
        fields >> sl >> local >> remote >> st >> queues >> tr >> retr >> uid >> timeout >> inode;
        if (st == "0A") listening.insert("socket:[" + inode + "]");
      }
    }
    std::set<std::string> out;
    std::error_code ec;
    for (auto& e : std::filesystem::directory_iterator(
             "/proc/" + std::to_string(supd_pid_) + "/fd", ec)) {
      std::error_code ec2;
      const std::string t = std::filesystem::read_symlink(e.path(), ec2).string();
      if (listening.count(t)) out.insert(t);
    }
    return out;
  }
  // Whether something accepts TCP connections on 127.0.0.1:port right now.
  static bool Connects(int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
    ::close(fd);
    return ok;
  }
  std::string Port(int p) { return std::to_string(p); }
};

TEST_F(SocketUnitsTest, StatusShowsASocketUnitAndListIncludesIt) {
  const int port = FreeTcpPort();
  WriteUnit("web.socket", Subst(R"([Unit]
Description=the web socket
[Socket]
ListenStream=127.0.0.1:{port}
FileDescriptorName=http
)",
                                {{"port", Port(port)}}));
  WriteUnit("web.service", "[Service]\nType=notify\nExecStart={go}/activated\n");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  auto st = Status("web.socket");
  ASSERT_TRUE(st) << SupdContext();
  EXPECT_EQ("socket", (*st)["unit_type"]) << st->dump();
  EXPECT_EQ("listening", (*st)["state"]) << st->dump();
  EXPECT_EQ("the web socket", (*st)["description"]) << st->dump();
  EXPECT_EQ("web.service", (*st)["service"]) << st->dump();
  EXPECT_EQ("stopped", (*st)["service_state"]) << st->dump();
  ASSERT_EQ(1u, (*st)["listening"].size()) << st->dump();
  EXPECT_EQ("tcp:127.0.0.1:" + Port(port), (*st)["listening"][0]["listen"]);
  EXPECT_EQ("http", (*st)["listening"][0]["name"]);
  EXPECT_TRUE((*st)["error"].is_null()) << st->dump();
  auto all = StatusAll();
  ASSERT_TRUE(all);
  bool listed = false;
  for (const auto& u : *all) listed = listed || u.value("name", "") == "web.socket";
  EXPECT_TRUE(listed) << all->dump();
  // The text form, as systemctl status shows a socket.
  CommandResult r = Supctl({"status", "web.socket"});
  EXPECT_EQ(0, r.exit_code) << r.Describe();
  EXPECT_NE(std::string::npos, r.out.find("web.socket - the web socket")) << r.out;
  EXPECT_NE(std::string::npos, r.out.find("listening")) << r.out;
  EXPECT_NE(std::string::npos, r.out.find("tcp:127.0.0.1:" + Port(port))) << r.out;
  EXPECT_NE(std::string::npos, r.out.find("web.service")) << r.out;
}

TEST_F(SocketUnitsTest, StopClosesTheSocketStartBindsItAgain) {
  const int port = FreeTcpPort();
  WriteUnit("web.socket", Subst("[Socket]\nListenStream=127.0.0.1:{port}\n[Install]\n"
                                "WantedBy=sockets.target\n",
                                {{"port", Port(port)}}));
  WriteUnit("web.service", "[Service]\nType=notify\nExecStart={go}/activated\n");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  ASSERT_TRUE(HttpGet(port, 10s)) << "activation" << SupdContext();
  // activated serves before it sends READY=1: "running" may come a moment after the answer.
  ASSERT_TRUE(WaitForState("web.service", "running")) << SupdContext();
  // Stopping the socket while its service runs: the service keeps the socket it inherited,
  // and supctl says so, as systemctl does.
  CommandResult r = Supctl({"stop", "web.socket"});
  EXPECT_EQ(0, r.exit_code) << r.Describe();
  EXPECT_NE(std::string::npos, r.err.find("web.service")) << r.Describe();
  EXPECT_NE(std::string::npos, r.err.find("still running")) << r.Describe();
  EXPECT_EQ("stopped", State("web.socket"));
  EXPECT_TRUE(HttpGet(port)) << "the running service lost its inherited socket";
  ASSERT_EQ(0, Supctl({"stop", "web"}).exit_code);
  EXPECT_FALSE(Connects(port)) << "the port is still open with the socket unit stopped";
  EXPECT_EQ("stopped", State("web.service")) << "a connection started the service";
  // Started again: listening, and the next connection activates the service again.
  r = Supctl({"start", "web.socket"});
  EXPECT_EQ(0, r.exit_code) << r.Describe();
  EXPECT_EQ("listening", State("web.socket"));
  EXPECT_TRUE(HttpGet(port, 10s)) << SupdContext();
  EXPECT_TRUE(WaitForState("web.service", "running")) << SupdContext();
  // A start of the socket while its service runs is refused, as systemd refuses it ("Socket
  // service web.service already active, refusing"): the service still listens on the socket
  // it inherited. A restart stops the socket unit and is refused the same way; the service is
  // untouched and still serves. Once the service is stopped, it binds.
  const pid_t pid = MainPid("web.service");
  r = Supctl({"restart", "web.socket"});
  EXPECT_EQ(1, r.exit_code) << r.Describe();
  EXPECT_NE(std::string::npos, r.err.find("Socket service web.service already active, refusing"))
      << r.Describe();
  EXPECT_EQ("stopped", State("web.socket"));
  EXPECT_EQ(pid, MainPid("web.service"));
  EXPECT_TRUE(HttpGet(port)) << SupdContext();
  ASSERT_EQ(0, Supctl({"stop", "web"}).exit_code);
  EXPECT_EQ(0, Supctl({"restart", "web.socket"}).exit_code) << SupdContext();
  EXPECT_EQ("listening", State("web.socket"));
  EXPECT_TRUE(HttpGet(port, 10s)) << SupdContext();
}

TEST_F(SocketUnitsTest, StartOfASocketWhosePortIsTakenFailsWithTheAddress) {
  const int port = FreeTcpPort();
  WriteUnit("web.socket", Subst("[Socket]\nListenStream=127.0.0.1:{port}\n",
                                {{"port", Port(port)}}));
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  ASSERT_EQ(0, Supctl({"stop", "web.socket"}).exit_code);
  // Someone else takes the port meanwhile.
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(0, ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)));
  ASSERT_EQ(0, ::listen(fd, 1));
  CommandResult r = Supctl({"start", "web.socket"});
  EXPECT_EQ(1, r.exit_code) << r.Describe();
  EXPECT_NE(std::string::npos, r.err.find("bind 127.0.0.1:" + Port(port) +
                                          ": Address already in use"))
      << r.Describe();
  auto st = Status("web.socket");
  ASSERT_TRUE(st);
  EXPECT_EQ("failed", (*st)["state"]) << st->dump();
  EXPECT_NE(std::string::npos, (*st)["error"].get<std::string>().find("Address already in use"));
  ::close(fd);
  EXPECT_EQ(0, Supctl({"start", "web.socket"}).exit_code) << SupdContext();
  EXPECT_EQ("listening", State("web.socket"));
}

TEST_F(SocketUnitsTest, DaemonReloadAppliesAChangedSocketUnitKeepingUnchangedSockets) {
  const int kept = FreeTcpPort();
  const int gone = FreeTcpPort();
  WriteUnit("web.socket", Subst("[Socket]\nListenStream=127.0.0.1:{a}\nListenStream=127.0.0.1:{b}\n",
                                {{"a", Port(kept)}, {"b", Port(gone)}}));
  WriteUnit("web.service", "[Service]\nType=notify\nExecStart={go}/activated\n");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  ASSERT_EQ(0, Supctl({"start", "web"}).exit_code) << SupdContext();
  ASSERT_TRUE(HttpGet(kept));
  const auto before = SupdSockets();
  const int added = FreeTcpPort();
  WriteUnit("web.socket", Subst("[Socket]\nListenStream=127.0.0.1:{a}\nListenStream=127.0.0.1:{c}\n",
                                {{"a", Port(kept)}, {"c", Port(added)}}));
  ASSERT_EQ(0, Supctl({"daemon-reload"}).exit_code) << SupdContext();
  auto st = Status("web.socket");
  ASSERT_TRUE(st);
  ASSERT_EQ(2u, (*st)["listening"].size()) << st->dump();
  EXPECT_EQ("tcp:127.0.0.1:" + Port(kept), (*st)["listening"][0]["listen"]) << st->dump();
  EXPECT_EQ("tcp:127.0.0.1:" + Port(added), (*st)["listening"][1]["listen"]) << st->dump();
  // The unchanged socket is the same open socket (never closed, so never refused anyone).
  const auto after = SupdSockets();
  size_t same = 0;
  for (const auto& s : before) same += after.count(s);
  EXPECT_GE(same, 1u) << "the unchanged socket was closed and bound again";
  // The running service keeps what it has; its next instance gets the new set.
  ASSERT_EQ(0, Supctl({"restart", "--hard", "web"}).exit_code) << SupdContext();
  EXPECT_TRUE(WaitFor([&] { return HttpGet(added).has_value(); })) << SupdContext();
  EXPECT_TRUE(HttpGet(kept));
  EXPECT_FALSE(Connects(gone)) << "the removed address still listens";
  // A socket unit that no longer parses keeps its sockets, and status says why.
  WriteUnit("web.socket", "[Socket]\nListenStream=not an address\n");
  ASSERT_EQ(0, Supctl({"daemon-reload"}).exit_code) << SupdContext();
  st = Status("web.socket");
  ASSERT_TRUE(st);
  EXPECT_EQ("listening", (*st)["state"]) << st->dump();
  EXPECT_EQ(2u, (*st)["listening"].size()) << st->dump();
  EXPECT_TRUE((*st)["load_error"].is_string()) << st->dump();
  EXPECT_TRUE(HttpGet(kept));
}

// A socket unit activates its service again and again: after each stop of the service, the next
// connection starts it. (Review finding: the waits were torn down fds first, which left their
// epoll entries behind and broke the second activation.)
TEST_F(SocketUnitsTest, ActivationWorksAfterEveryStop) {
  const int port = FreeTcpPort();
  WriteUnit("web.socket", Subst("[Socket]\nListenStream=127.0.0.1:{port}\n[Install]\n"
                                "WantedBy=sockets.target\n",
                                {{"port", Port(port)}}));
  WriteUnit("web.service", "[Service]\nType=notify\nExecStart={go}/activated\n");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  for (int round = 0; round < 5; ++round) {
    ASSERT_EQ("stopped", State("web.service")) << "round " << round;
    ASSERT_TRUE(HttpGet(port, 30s)) << "round " << round << ": no activation\n" << SupdContext();
    ASSERT_EQ(0, Supctl({"stop", "web"}).exit_code) << SupdContext();
  }
  auto st = Status("web.socket");
  ASSERT_TRUE(st);
  EXPECT_EQ(5, (*st)["activations"]) << st->dump();
  EXPECT_EQ(std::string::npos, SupdStderr().find("internal error")) << SupdStderr();
}

// A service that never accepts the waiting connection (it fails at once) must not be activated
// for ever: past TriggerLimitBurst= the socket unit fails, as systemd's does, and supd rests.
TEST_F(SocketUnitsTest, AConnectionNobodyAcceptsHitsTheTriggerLimit) {
  const int port = FreeTcpPort();
  WriteUnit("web.socket", Subst("[Socket]\nListenStream=127.0.0.1:{port}\n[Install]\n"
                                "WantedBy=sockets.target\n",
                                {{"port", Port(port)}}));
  WriteUnit("web.service", "[Unit]\nStartLimitIntervalSec=0\n[Service]\nExecStart=/bin/false\n");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(0, ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)));
  EXPECT_TRUE(WaitFor([&] { return State("web.socket") == "failed"; }, 30s)) << SupdContext();
  auto st = Status("web.socket");
  ASSERT_TRUE(st);
  EXPECT_NE(std::string::npos, (*st)["error"].get<std::string>().find("trigger limit hit"))
      << st->dump();
  EXPECT_EQ(20, (*st)["activations"]) << st->dump();
  ::close(fd);
  // Started again, it listens; the limit starts over.
  EXPECT_EQ(0, Supctl({"reset-failed", "web.socket"}).exit_code);
  EXPECT_EQ("stopped", State("web.socket"));
  EXPECT_EQ(0, Supctl({"start", "web.socket"}).exit_code) << SupdContext();
  EXPECT_EQ("listening", State("web.socket"));
}

// A reload that adds an address that cannot be bound changes nothing: the sockets that were
// open stay open and keep serving. (Review finding: they were closed.)
TEST_F(SocketUnitsTest, AReloadWhoseNewAddressCannotBeBoundKeepsTheOldSockets) {
  const int port = FreeTcpPort();
  WriteUnit("web.socket", Subst("[Socket]\nListenStream=127.0.0.1:{port}\n",
                                {{"port", Port(port)}}));
  WriteUnit("web.service", "[Service]\nType=notify\nExecStart={go}/activated\n");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  // Someone else holds the port the reload will add.
  const int taken = FreeTcpPort();
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(taken));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(0, ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)));
  ASSERT_EQ(0, ::listen(fd, 1));
  const auto before = SupdSockets();
  WriteUnit("web.socket", Subst("[Socket]\nListenStream=127.0.0.1:{a}\nListenStream=127.0.0.1:{b}\n",
                                {{"a", Port(port)}, {"b", Port(taken)}}));
  ASSERT_EQ(0, Supctl({"daemon-reload"}).exit_code) << SupdContext();
  auto st = Status("web.socket");
  ASSERT_TRUE(st);
  EXPECT_EQ("listening", (*st)["state"]) << st->dump();
  ASSERT_EQ(1u, (*st)["listening"].size()) << st->dump();
  EXPECT_NE(std::string::npos,
            (*st)["load_error"].get<std::string>().find("changes not applied")) << st->dump();
  EXPECT_EQ(before, SupdSockets()) << "the sockets that were open changed";
  ASSERT_EQ(0, Supctl({"start", "web"}).exit_code) << SupdContext();
  EXPECT_TRUE(HttpGet(port, 30s)) << SupdContext();
  ::close(fd);
}

}  // namespace
}  // namespace supd::integration
