// Binding real sockets on loopback and in a temporary directory.
//
// A ListenSpec's port must be 1..65535 (as in systemd), so these tests cannot ask for port 0.
// FreePort() finds a free port by binding port 0 and closing it; another process could take
// it in between, which on a test machine is unlikely enough (the integration tests do the same).

#include "lib/socket/listener.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

namespace supd {
namespace {

int FreePort(int family = AF_INET, int type = SOCK_STREAM) {
  UniqueFd fd(socket(family, type | SOCK_CLOEXEC, 0));
  EXPECT_TRUE(fd);
  sockaddr_storage ss{};
  socklen_t len;
  if (family == AF_INET) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
    sin->sin_family = AF_INET;
    sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    len = sizeof(sockaddr_in);
  } else {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_addr = in6addr_loopback;
    len = sizeof(sockaddr_in6);
  }
  EXPECT_EQ(0, bind(fd.get(), reinterpret_cast<sockaddr*>(&ss), len));
  EXPECT_EQ(0, getsockname(fd.get(), reinterpret_cast<sockaddr*>(&ss), &len));
  return ntohs(family == AF_INET ? reinterpret_cast<sockaddr_in*>(&ss)->sin_port
                                 : reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
}

bool HaveIpv6Loopback() {
  UniqueFd fd(socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return false;
  sockaddr_in6 sin6{};
  sin6.sin6_family = AF_INET6;
  sin6.sin6_addr = in6addr_loopback;
  return bind(fd.get(), reinterpret_cast<sockaddr*>(&sin6), sizeof(sin6)) == 0;
}

SocketSpec Spec(std::vector<std::string> streams, std::vector<std::string> datagrams = {}) {
  SocketSpec s;
  s.name = "web.socket";
  s.fd_name = "http";
  s.backlog = 16;
  for (auto& a : streams) s.listen.push_back({ListenSpec::Kind::kStream, a, "web.socket:1"});
  for (auto& a : datagrams) s.listen.push_back({ListenSpec::Kind::kDatagram, a, "web.socket:2"});
  return s;
}

int GetOpt(int fd, int level, int opt) {
  int v = -1;
  socklen_t len = sizeof(v);
  EXPECT_EQ(0, getsockopt(fd, level, opt, &v, &len)) << std::strerror(errno);
  return v;
}

bool IsCloexec(int fd) { return (fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0; }

bool IsListening(int fd) { return GetOpt(fd, SOL_SOCKET, SO_ACCEPTCONN) == 1; }

// Connects to 127.0.0.1:port over TCP; true if the kernel accepted the connection.
bool ConnectTcp4(int port) {
  UniqueFd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sin.sin_port = htons(static_cast<uint16_t>(port));
  return connect(fd.get(), reinterpret_cast<sockaddr*>(&sin), sizeof(sin)) == 0;
}

class ListenerTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = (std::filesystem::temp_directory_path() / ("supd-listener-" + std::to_string(getpid())))
               .string();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(ListenerTest, TcpOnLoopback) {
  const int port = FreePort();
  SocketSpec spec = Spec({"127.0.0.1:" + std::to_string(port)});
  auto b = BindListen(spec, spec.listen[0]);
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ("tcp:127.0.0.1:" + std::to_string(port), b->identity);
  EXPECT_EQ("http", b->fd_name);
  ASSERT_TRUE(b->fd);
  EXPECT_TRUE(IsCloexec(b->fd.get()));
  EXPECT_TRUE(IsListening(b->fd.get()));
  EXPECT_EQ(1, GetOpt(b->fd.get(), SOL_SOCKET, SO_REUSEADDR));
  EXPECT_EQ(0, GetOpt(b->fd.get(), SOL_SOCKET, SO_REUSEPORT));
  EXPECT_EQ(0, GetOpt(b->fd.get(), IPPROTO_TCP, TCP_NODELAY));
  EXPECT_EQ(0, GetOpt(b->fd.get(), SOL_SOCKET, SO_KEEPALIVE));
  EXPECT_EQ(SOCK_STREAM, GetOpt(b->fd.get(), SOL_SOCKET, SO_TYPE));
  // Blocking, as systemd passes listening sockets.
  EXPECT_EQ(0, fcntl(b->fd.get(), F_GETFL) & O_NONBLOCK);
  EXPECT_TRUE(ConnectTcp4(port));
}

TEST_F(ListenerTest, OptionsAreApplied) {
  const int port = FreePort();
  SocketSpec spec = Spec({"127.0.0.1:" + std::to_string(port)});
  spec.reuse_port = true;
  spec.no_delay = true;
  spec.keep_alive = true;
  spec.free_bind = true;
  auto b = BindListen(spec, spec.listen[0]);
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(1, GetOpt(b->fd.get(), SOL_SOCKET, SO_REUSEPORT));
  EXPECT_EQ(1, GetOpt(b->fd.get(), IPPROTO_TCP, TCP_NODELAY));
  EXPECT_EQ(1, GetOpt(b->fd.get(), SOL_SOCKET, SO_KEEPALIVE));
  EXPECT_EQ(1, GetOpt(b->fd.get(), IPPROTO_IP, IP_FREEBIND));
}

TEST_F(ListenerTest, PortInUseGivesTheExactError) {
  const int port = FreePort();
  SocketSpec spec = Spec({"127.0.0.1:" + std::to_string(port)});
  auto first = BindListen(spec, spec.listen[0]);
  ASSERT_TRUE(first.ok()) << first.error().message;
  auto second = BindListen(spec, spec.listen[0]);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ("web.socket: bind 127.0.0.1:" + std::to_string(port) + ": Address already in use",
            second.error().message);
  EXPECT_EQ(EADDRINUSE, second.error().sys_errno);
}

TEST_F(ListenerTest, PrivilegedPortAsNonRoot) {
  if (geteuid() == 0) GTEST_SKIP() << "root may bind ports below 1024";
  int start = 1024;
  std::ifstream("/proc/sys/net/ipv4/ip_unprivileged_port_start") >> start;
  if (start <= 1) GTEST_SKIP() << "net.ipv4.ip_unprivileged_port_start lets anyone bind port 1";
  SocketSpec spec = Spec({"127.0.0.1:1"});
  auto b = BindListen(spec, spec.listen[0]);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ("web.socket: bind 127.0.0.1:1: Permission denied", b.error().message);
}

TEST_F(ListenerTest, UnavailableAddress) {
  // 192.0.2.0/24 is TEST-NET-1: not configured on this host.
  SocketSpec spec = Spec({"192.0.2.1:8080"});
  auto b = BindListen(spec, spec.listen[0]);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ("web.socket: bind 192.0.2.1:8080: Cannot assign requested address", b.error().message);
  // FreeBind= allows it.
  spec.free_bind = true;
  auto freebind = BindListen(spec, spec.listen[0]);
  EXPECT_TRUE(freebind.ok()) << freebind.error().message;
}

TEST_F(ListenerTest, Ipv6Loopback) {
  if (!HaveIpv6Loopback()) GTEST_SKIP() << "no IPv6 loopback on this host";
  const int port = FreePort(AF_INET6);
  SocketSpec spec = Spec({"[0:0::1]:" + std::to_string(port)});
  spec.bind_ipv6_only = "ipv6-only";
  auto b = BindListen(spec, spec.listen[0]);
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ("tcp6:[::1]:" + std::to_string(port), b->identity);  // canonical form
  EXPECT_EQ(1, GetOpt(b->fd.get(), IPPROTO_IPV6, IPV6_V6ONLY));
  EXPECT_TRUE(IsListening(b->fd.get()));
}

TEST_F(ListenerTest, BarePortIsDualStackWhereIpv6Exists) {
  const int port = FreePort();
  SocketSpec spec = Spec({std::to_string(port)});
  spec.bind_ipv6_only = "both";
  auto b = BindListen(spec, spec.listen[0]);
  ASSERT_TRUE(b.ok()) << b.error().message;
  if (b->identity.rfind("tcp6:", 0) == 0) {
    EXPECT_EQ("tcp6:[::]:" + std::to_string(port), b->identity);
    EXPECT_EQ(0, GetOpt(b->fd.get(), IPPROTO_IPV6, IPV6_V6ONLY));
  } else {
    EXPECT_EQ("tcp:0.0.0.0:" + std::to_string(port), b->identity);
  }
  // Reachable over IPv4 either way (v4-mapped on the IPv6 socket).
  EXPECT_TRUE(ConnectTcp4(port));
}

TEST_F(ListenerTest, Datagram) {
  const int port = FreePort(AF_INET, SOCK_DGRAM);
  SocketSpec spec = Spec({}, {"127.0.0.1:" + std::to_string(port)});
  auto b = BindListen(spec, spec.listen[0]);
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ("udp:127.0.0.1:" + std::to_string(port), b->identity);
  EXPECT_EQ(SOCK_DGRAM, GetOpt(b->fd.get(), SOL_SOCKET, SO_TYPE));
  EXPECT_TRUE(IsCloexec(b->fd.get()));
  // A datagram sent to it arrives.
  UniqueFd client(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sin.sin_port = htons(static_cast<uint16_t>(port));
  ASSERT_EQ(4, sendto(client.get(), "ping", 4, 0, reinterpret_cast<sockaddr*>(&sin), sizeof(sin)));
  char buf[8] = {};
  EXPECT_EQ(4, recv(b->fd.get(), buf, sizeof(buf), MSG_DONTWAIT));
  EXPECT_STREQ("ping", buf);
}

TEST_F(ListenerTest, UnixSocketWithModeAndParents) {
  const std::string path = dir_ + "/a/b/web.sock";
  SocketSpec spec = Spec({path});
  spec.socket_mode = 0600;
  spec.directory_mode = 0710;
  auto b = BindListen(spec, spec.listen[0]);
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ("unix:" + path, b->identity);
  EXPECT_TRUE(IsCloexec(b->fd.get()));
  EXPECT_TRUE(IsListening(b->fd.get()));
  struct stat st {};
  ASSERT_EQ(0, lstat(path.c_str(), &st));
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(0600u, st.st_mode & 07777);
  ASSERT_EQ(0, stat((dir_ + "/a").c_str(), &st));
  EXPECT_EQ(0710u, st.st_mode & 07777);
  ASSERT_EQ(0, stat((dir_ + "/a/b").c_str(), &st));
  EXPECT_EQ(0710u, st.st_mode & 07777);
  // The existing temp dir was left alone.
  ASSERT_EQ(0, stat(dir_.c_str(), &st));
  EXPECT_NE(0710u, st.st_mode & 07777);
}

TEST_F(ListenerTest, UnixSocketOwner) {
  const std::string path = dir_ + "/owned.sock";
  SocketSpec spec = Spec({path});
  spec.socket_user = std::to_string(getuid());
  spec.socket_group = std::to_string(getgid());
  auto b = BindListen(spec, spec.listen[0]);
  ASSERT_TRUE(b.ok()) << b.error().message;
  struct stat st {};
  ASSERT_EQ(0, lstat(path.c_str(), &st));
  EXPECT_EQ(getuid(), st.st_uid);
  EXPECT_EQ(getgid(), st.st_gid);

  const std::string path2 = dir_ + "/nobody.sock";
  SocketSpec unknown = Spec({path2});
  unknown.socket_user = "no-such-user-supd-test";
  auto e = BindListen(unknown, unknown.listen[0]);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ("web.socket: SocketUser= 'no-such-user-supd-test': no such user", e.error().message);
  EXPECT_FALSE(std::filesystem::exists(path2)) << "the socket file is removed on failure";
  unknown.socket_user.clear();
  unknown.socket_group = "no-such-group-supd-test";
  e = BindListen(unknown, unknown.listen[0]);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ("web.socket: SocketGroup= 'no-such-group-supd-test': no such group", e.error().message);
}

// A numeric SocketUser=/SocketGroup= outside uid_t once threw std::out_of_range out of
// std::stoul (supd aborted at start), and 4294967296 wrapped to uid 0 (the socket became root's).
TEST_F(ListenerTest, BadNumericOwnerIsAnErrorNotACrashOrRoot) {
  const std::string path = dir_ + "/bad.sock";
  const std::pair<const char*, const char*> users[] = {
      {"123456789012345678901",
       "web.socket: SocketUser= '123456789012345678901': '123456789012345678901' is out of "
       "range (numeric user and group IDs are 0..4294967294)"},
      {"4294967296",
       "web.socket: SocketUser= '4294967296': '4294967296' is out of range (numeric user and "
       "group IDs are 0..4294967294)"},
      {"4294967295",
       "web.socket: SocketUser= '4294967295': '4294967295' is reserved (4294967295 and 65535 "
       "mean \"no ID\")"},
  };
  for (const auto& [user, message] : users) {
    SCOPED_TRACE(user);
    SocketSpec spec = Spec({path});
    spec.socket_user = user;
    auto b = BindListen(spec, spec.listen[0]);
    ASSERT_FALSE(b.ok());
    EXPECT_EQ(message, b.error().message);
    EXPECT_FALSE(std::filesystem::exists(path)) << "the socket file is removed on failure";
  }
  SocketSpec group = Spec({path});
  group.socket_group = "4294967296";
  auto b = BindListen(group, group.listen[0]);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(
      "web.socket: SocketGroup= '4294967296': '4294967296' is out of range (numeric user and "
      "group IDs are 0..4294967294)",
      b.error().message);
}

TEST_F(ListenerTest, StaleUnixSocketIsReplacedButOtherFilesAreNot) {
  const std::string path = dir_ + "/web.sock";
  SocketSpec spec = Spec({path});
  {
    auto old = BindListen(spec, spec.listen[0]);  // closed at the end of the scope: stale file
    ASSERT_TRUE(old.ok()) << old.error().message;
  }
  ASSERT_TRUE(std::filesystem::exists(path));
  auto b = BindListen(spec, spec.listen[0]);
  EXPECT_TRUE(b.ok()) << b.error().message;

  const std::string file = dir_ + "/regular";
  std::ofstream(file) << "data";
  SocketSpec on_file = Spec({file});
  auto e = BindListen(on_file, on_file.listen[0]);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ("web.socket: bind " + file + ": Address already in use", e.error().message);
  std::ifstream in(file);
  std::string content;
  in >> content;
  EXPECT_EQ("data", content) << "a regular file is never unlinked";
}

TEST_F(ListenerTest, UnixDatagramAndAbstract) {
  const std::string path = dir_ + "/dgram.sock";
  const std::string abstract = "@supd-listener-test-" + std::to_string(getpid());
  SocketSpec spec = Spec({abstract}, {path});
  auto all = BindAll(spec);
  ASSERT_TRUE(all.ok()) << all.error().message;
  ASSERT_EQ(2u, all->size());
  EXPECT_EQ("unix:" + abstract, (*all)[0].identity);
  EXPECT_TRUE(IsListening((*all)[0].fd.get()));
  EXPECT_EQ("unix-dgram:" + path, (*all)[1].identity);
  EXPECT_EQ(SOCK_DGRAM, GetOpt((*all)[1].fd.get(), SOL_SOCKET, SO_TYPE));
  // The abstract name is exactly the name (no trailing NULs): a client can connect by it.
  UniqueFd client(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un sun{};
  sun.sun_family = AF_UNIX;
  std::string name = abstract.substr(1);
  std::memcpy(sun.sun_path + 1, name.data(), name.size());
  EXPECT_EQ(0, connect(client.get(), reinterpret_cast<sockaddr*>(&sun),
                       static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size())))
      << std::strerror(errno);
  // The same abstract name again is in use.
  auto again = BindListen(spec, spec.listen[0]);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ("web.socket: bind " + abstract + ": Address already in use", again.error().message);
}

TEST_F(ListenerTest, BindAllInOrderAndRollsBack) {
  const int port = FreePort();
  const std::string path = dir_ + "/first.sock";
  SocketSpec ok = Spec({path, "127.0.0.1:" + std::to_string(port)});
  {
    auto all = BindAll(ok);
    ASSERT_TRUE(all.ok()) << all.error().message;
    ASSERT_EQ(2u, all->size());
    EXPECT_EQ("unix:" + path, (*all)[0].identity);
    EXPECT_EQ("tcp:127.0.0.1:" + std::to_string(port), (*all)[1].identity);
    for (const auto& s : *all) EXPECT_TRUE(IsCloexec(s.fd.get()));

    // While those are held: a spec whose second address is taken binds nothing.
    const int port2 = FreePort();
    const std::string path2 = dir_ + "/second.sock";
    SocketSpec clash =
        Spec({"127.0.0.1:" + std::to_string(port2), path2, "127.0.0.1:" + std::to_string(port)});
    auto failed = BindAll(clash);
    ASSERT_FALSE(failed.ok());
    EXPECT_EQ("web.socket: bind 127.0.0.1:" + std::to_string(port) + ": Address already in use",
              failed.error().message);
    EXPECT_FALSE(ConnectTcp4(port2)) << "the first socket of the failed spec was closed";
    EXPECT_FALSE(std::filesystem::exists(path2)) << "its socket file was removed";
    EXPECT_TRUE(std::filesystem::exists(path)) << "the other spec's file is untouched";
  }
}

TEST_F(ListenerTest, BindAllRefusesTheSamePathTwice) {
  const std::string path = dir_ + "/dup.sock";
  SocketSpec spec = Spec({path}, {path});
  auto all = BindAll(spec);
  ASSERT_FALSE(all.ok());
  EXPECT_EQ("web.socket: " + path + " is listed twice", all.error().message);
}

TEST_F(ListenerTest, UncheckedAddressIsAnError) {
  SocketSpec spec = Spec({"127.0.0.1:0"});
  auto b = BindListen(spec, spec.listen[0]);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ("web.socket: invalid address '127.0.0.1:0': port must be between 1 and 65535",
            b.error().message);
}

TEST_F(ListenerTest, MkdirFailureNamesTheDirectory) {
  const std::string file = dir_ + "/file";
  std::ofstream(file) << "x";
  SocketSpec spec = Spec({file + "/sub/web.sock"});
  auto b = BindListen(spec, spec.listen[0]);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ("web.socket: mkdir " + file + "/sub: Not a directory", b.error().message);
}

}  // namespace
}  // namespace supd
