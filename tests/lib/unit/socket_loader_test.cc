#include "lib/unit/socket_loader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <climits>
#include <filesystem>
#include <fstream>
#include <string>

#include "tests/lib/unit/loader_test_util.h"

namespace supd {
namespace {

using testing::ElementsAre;
using testing::IsEmpty;

SpecifierContext Ctx() { return testing_util::TestSpecifiers(); }

SocketSpec Load(const std::string& text, const std::string& name = "web.socket") {
  return testing_util::LoadOk<SocketSpec>(ParseSocketText, text, name);
}

std::string LoadErr(const std::string& text, const std::string& name = "web.socket") {
  return testing_util::LoadError(ParseSocketText, text, name);
}

using testing_util::Warnings;

std::vector<std::string> Addresses(const SocketSpec& s) {
  std::vector<std::string> out;
  for (const auto& l : s.listen) {
    out.push_back((l.kind == ListenSpec::Kind::kStream ? "stream " : "dgram ") + l.address + " @" +
                  l.source);
  }
  return out;
}

TEST(SocketLoader, Defaults) {
  SocketSpec s = Load("[Socket]\nListenStream=8080\n");
  EXPECT_EQ("web.socket", s.name);
  EXPECT_EQ("units/web.socket", s.source_path);
  EXPECT_THAT(Addresses(s), ElementsAre("stream 8080 @units/web.socket:2"));
  EXPECT_EQ("web.service", s.service);
  // As systemd: the unit name with its suffix (systemd.socket(5), FileDescriptorName=).
  EXPECT_EQ("web.socket", s.fd_name);
  EXPECT_EQ(INT_MAX, s.backlog);
  EXPECT_FALSE(s.reuse_port);
  EXPECT_EQ("default", s.bind_ipv6_only);
  EXPECT_FALSE(s.free_bind);
  EXPECT_FALSE(s.no_delay);
  EXPECT_FALSE(s.keep_alive);
  EXPECT_EQ(0666u, s.socket_mode);
  EXPECT_EQ(0755u, s.directory_mode);
  EXPECT_EQ("", s.socket_user);
  EXPECT_EQ("", s.socket_group);
  EXPECT_FALSE(s.remove_on_stop);
  EXPECT_THAT(s.warnings, IsEmpty());
}

TEST(SocketLoader, FullSocket) {
  SocketSpec s = Load(R"([Unit]
Description=Web socket on %H
Documentation=man:web(8)

[Socket]
ListenStream=127.0.0.1:80
ListenStream=[::1]:8080
ListenDatagram=0.0.0.0:53
ListenStream=%t/web/web.sock
ListenDatagram=@web-%H
Service=api.service
FileDescriptorName=http
Backlog=128
ReusePort=yes
BindIPv6Only=both
FreeBind=true
NoDelay=on
KeepAlive=1
SocketMode=0600
DirectoryMode=750
SocketUser=www-data
SocketGroup=www
RemoveOnStop=yes
Accept=no

[Install]
WantedBy=sockets.target multi-user.target
)");
  EXPECT_EQ("Web socket on box", s.description);
  EXPECT_THAT(Addresses(s), ElementsAre("stream 127.0.0.1:80 @units/web.socket:6",
                                        "stream [::1]:8080 @units/web.socket:7",
                                        "dgram 0.0.0.0:53 @units/web.socket:8",
                                        "stream /run/web/web.sock @units/web.socket:9",
                                        "dgram @web-box @units/web.socket:10"));
  EXPECT_EQ("api.service", s.service);
  EXPECT_EQ("http", s.fd_name);
  EXPECT_EQ(128, s.backlog);
  EXPECT_TRUE(s.reuse_port);
  EXPECT_EQ("both", s.bind_ipv6_only);
  EXPECT_TRUE(s.free_bind);
  EXPECT_TRUE(s.no_delay);
  EXPECT_TRUE(s.keep_alive);
  EXPECT_EQ(0600u, s.socket_mode);
  EXPECT_EQ(0750u, s.directory_mode);
  EXPECT_EQ("www-data", s.socket_user);
  EXPECT_EQ("www", s.socket_group);
  EXPECT_TRUE(s.remove_on_stop);
  EXPECT_THAT(s.install.wanted_by, ElementsAre("sockets.target", "multi-user.target"));
  EXPECT_THAT(s.warnings, IsEmpty());
}

TEST(SocketLoader, EmptyAssignmentResetsListenOfBothKinds) {
  SocketSpec s =
      Load("[Socket]\nListenStream=80\nListenDatagram=53\nListenStream=\nListenStream=8080\n");
  EXPECT_THAT(Addresses(s), ElementsAre("stream 8080 @units/web.socket:5"));
}

TEST(SocketLoader, EmptyAssignmentsRestoreDefaults) {
  SocketSpec s = Load(
      "[Socket]\nListenStream=80\nService=api.service\nService=\nFileDescriptorName=x\n"
      "FileDescriptorName=\n[Install]\nWantedBy=a.target\nWantedBy=\nWantedBy=b.target\n");
  EXPECT_EQ("web.service", s.service);
  EXPECT_EQ("web.socket", s.fd_name);
  EXPECT_THAT(s.install.wanted_by, ElementsAre("b.target"));
}

TEST(SocketLoader, ServiceDefaultOfAnInstance) {
  SocketSpec s = Load("[Socket]\nListenStream=/run/w-%i.sock\n", "worker@3.socket");
  EXPECT_EQ("worker@3.service", s.service);
  EXPECT_EQ("worker@3.socket", s.fd_name);
  EXPECT_THAT(Addresses(s), ElementsAre("stream /run/w-3.sock @units/worker@3.socket:2"));
}

TEST(SocketLoader, BindIPv6OnlyAcceptsBooleans) {
  EXPECT_EQ("ipv6-only", Load("[Socket]\nListenStream=80\nBindIPv6Only=yes\n").bind_ipv6_only);
  EXPECT_EQ("both", Load("[Socket]\nListenStream=80\nBindIPv6Only=no\n").bind_ipv6_only);
  EXPECT_EQ("ipv6-only",
            Load("[Socket]\nListenStream=80\nBindIPv6Only=ipv6-only\n").bind_ipv6_only);
  EXPECT_EQ(
      "default",
      Load("[Socket]\nListenStream=80\nBindIPv6Only=both\nBindIPv6Only=default\n").bind_ipv6_only);
}

TEST(SocketLoader, BacklogAboveIntMaxIsCapped) {
  EXPECT_EQ(INT_MAX, Load("[Socket]\nListenStream=80\nBacklog=4294967295\n").backlog);
  EXPECT_EQ(0, Load("[Socket]\nListenStream=80\nBacklog=0\n").backlog);
}

TEST(SocketLoader, AcceptYesIsRefused) {
  EXPECT_EQ(
      "units/web.socket:3: Accept=yes is not supported by supd (one service instance per "
      "connection)",
      LoadErr("[Socket]\nListenStream=80\nAccept=yes\n"));
  EXPECT_EQ("units/web.socket:3: Invalid Accept= value 'maybe'",
            LoadErr("[Socket]\nListenStream=80\nAccept=maybe\n"));
}

TEST(SocketLoader, ValidAddresses) {
  struct Case {
    std::string address;
    ListenAddress::Family family;
    std::string host;
    int port;
    std::string path;
  };
  using F = ListenAddress::Family;
  const Case cases[] = {
      {"1", F::kAnyPort, "", 1, ""},
      {"65535", F::kAnyPort, "", 65535, ""},
      {"08080", F::kAnyPort, "", 8080, ""},
      {"127.0.0.1:8080", F::kIPv4, "127.0.0.1", 8080, ""},
      {"0.0.0.0:53", F::kIPv4, "0.0.0.0", 53, ""},
      {"[::1]:8080", F::kIPv6, "::1", 8080, ""},
      {"[::]:1", F::kIPv6, "::", 1, ""},
      {"[fe80::1:2]:443", F::kIPv6, "fe80::1:2", 443, ""},
      {"[::ffff:127.0.0.1]:80", F::kIPv6, "::ffff:127.0.0.1", 80, ""},
      {"/run/web.sock", F::kUnixPath, "", 0, "/run/web.sock"},
      {"/" + std::string(106, 'a'), F::kUnixPath, "", 0, "/" + std::string(106, 'a')},
      {"@web", F::kUnixAbstract, "", 0, "web"},
      {"@" + std::string(107, 'b'), F::kUnixAbstract, "", 0, std::string(107, 'b')},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.address);
    auto a = ParseListenAddress(c.address);
    ASSERT_TRUE(a.ok()) << a.error().message;
    EXPECT_EQ(c.family, a->family);
    EXPECT_EQ(c.host, a->host);
    EXPECT_EQ(c.port, a->port);
    EXPECT_EQ(c.path, a->path);
    // And through the loader, for both kinds.
    SocketSpec s =
        Load("[Socket]\nListenStream=" + c.address + "\nListenDatagram=" + c.address + "\n");
    EXPECT_EQ(2u, s.listen.size());
  }
}

TEST(SocketLoader, InvalidAddresses) {
  const std::pair<std::string, std::string> cases[] = {
      {"0", "port must be between 1 and 65535"},
      {"65536", "port must be between 1 and 65535"},
      {"123456", "port must be between 1 and 65535"},
      {"127.0.0.1:0", "port must be between 1 and 65535"},
      {"127.0.0.1:", "port must be between 1 and 65535"},
      {"127.0.0.1:http", "port must be between 1 and 65535"},
      {"[::1]:99999", "port must be between 1 and 65535"},
      {"localhost:80", "'localhost' is not a numeric IPv4 address (IPv6: [address]:port)"},
      {"::1:80", "'::1' is not a numeric IPv4 address (IPv6: [address]:port)"},
      {"1.2.3:80", "'1.2.3' is not a numeric IPv4 address (IPv6: [address]:port)"},
      {"[zz]:80", "'zz' is not a numeric IPv6 address"},
      {"[127.0.0.1]:80", "'127.0.0.1' is not a numeric IPv6 address"},
      {"[::1]80", "expected [address]:port"},
      {"[::1]", "expected [address]:port"},
      {"[::1:80", "expected [address]:port"},
      {"web.sock", "expected a port, address:port, [address]:port, an absolute path or @name"},
      {"-80", "expected a port, address:port, [address]:port, an absolute path or @name"},
      {"/" + std::string(107, 'a'), "unix socket path is longer than 107 bytes"},
      {"@", "abstract socket name is empty"},
      {"@" + std::string(108, 'b'), "abstract socket name is longer than 107 bytes"},
  };
  for (const auto& [address, reason] : cases) {
    SCOPED_TRACE(address);
    auto a = ParseListenAddress(address);
    ASSERT_FALSE(a.ok());
    EXPECT_EQ(reason, a.error().message);
    EXPECT_EQ("units/web.socket:3: Invalid ListenStream= address '" + address + "': " + reason,
              LoadErr("[Socket]\nListenStream=80\nListenStream=" + address + "\n"));
    EXPECT_EQ("units/web.socket:2: Invalid ListenDatagram= address '" + address + "': " + reason,
              LoadErr("[Socket]\nListenDatagram=" + address + "\n"));
  }
}

TEST(SocketLoader, InterfaceScopesAreNotSupported) {
  // '%' is a specifier in a unit file, so a scope would be written "%%".
  EXPECT_EQ(
      "units/web.socket:2: Invalid ListenStream= address '[fe80::1%eth0]:80': 'fe80::1%eth0' is "
      "not a numeric IPv6 address",
      LoadErr("[Socket]\nListenStream=[fe80::1%%eth0]:80\n"));
}

TEST(SocketLoader, InvalidOptions) {
  const std::pair<std::string, std::string> cases[] = {
      {"Backlog=-1", "Invalid Backlog= value '-1'"},
      {"Backlog=lots", "Invalid Backlog= value 'lots'"},
      {"Backlog=4294967296", "Invalid Backlog= value '4294967296'"},
      {"SocketMode=0800", "Invalid SocketMode= value '0800'"},
      {"SocketMode=rw", "Invalid SocketMode= value 'rw'"},
      {"SocketMode=17777", "Invalid SocketMode= value '17777'"},
      {"SocketMode=", "Invalid SocketMode= value ''"},
      {"DirectoryMode=0x755", "Invalid DirectoryMode= value '0x755'"},
      {"ReusePort=sure", "Invalid ReusePort= value 'sure'"},
      {"FreeBind=2", "Invalid FreeBind= value '2'"},
      {"NoDelay=", "Invalid NoDelay= value ''"},
      {"KeepAlive=yess", "Invalid KeepAlive= value 'yess'"},
      {"RemoveOnStop=x", "Invalid RemoveOnStop= value 'x'"},
      {"BindIPv6Only=ipv4", "Invalid BindIPv6Only= value 'ipv4'"},
      // Once std::stoul's out_of_range at bind (supd aborted), and 4294967296 became uid 0.
      {"SocketUser=123456789012345678901",
       "Invalid SocketUser= value '123456789012345678901': '123456789012345678901' is out of "
       "range (numeric user and group IDs are 0..4294967294)"},
      {"SocketUser=4294967296",
       "Invalid SocketUser= value '4294967296': '4294967296' is out of range (numeric user and "
       "group IDs are 0..4294967294)"},
      {"SocketUser=4294967295",
       "Invalid SocketUser= value '4294967295': '4294967295' is reserved (4294967295 and 65535 "
       "mean \"no ID\")"},
      {"SocketGroup=65535",
       "Invalid SocketGroup= value '65535': '65535' is reserved (4294967295 and 65535 mean \"no "
       "ID\")"},
      {"SocketUser=0042",
       "Invalid SocketUser= value '0042': '0042': a numeric ID must not have leading zeros"},
      {"SocketUser=-1", "Invalid SocketUser= value '-1': a negative number is not an ID"},
      {"SocketGroup=a:b", "Invalid SocketGroup= value 'a:b': contains ':' or '/'"},
      {"SocketGroup=..", "Invalid SocketGroup= value '..': '.' and '..' are not names"},
      {"Service=api", "Service= value 'api' is not a .service unit name"},
      {"Service=api.socket", "Service= value 'api.socket' is not a .service unit name"},
      {"Service=api@.service", "Service= value 'api@.service' is a template; name an instance"},
      {"FileDescriptorName=a:b",
       "Invalid FileDescriptorName= value 'a:b' (at most 255 ASCII characters, no control "
       "characters, no ':')"},
      {"FileDescriptorName=" + std::string(256, 'n'),
       "Invalid FileDescriptorName= value '" + std::string(256, 'n') +
           "' (at most 255 ASCII characters, no control characters, no ':')"},
      {"ListenStream=%z",
       "Failed to resolve specifiers in ListenStream=: unknown specifier "
       "'%z' in '%z'"},
      {"ListenFIFO=/run/fifo", "ListenFIFO= is not supported by supd"},
      {"ListenSequentialPacket=/run/seq", "ListenSequentialPacket= is not supported by supd"},
  };
  for (const auto& [line, message] : cases) {
    SCOPED_TRACE(line);
    EXPECT_EQ("units/web.socket:3: " + message,
              LoadErr("[Socket]\nListenStream=80\n" + line + "\n"));
  }
}

TEST(SocketLoader, ValidOptionEdgeCases) {
  SocketSpec s = Load(
      "[Socket]\nListenStream=80\nSocketMode=7777\nDirectoryMode=0\n"
      "FileDescriptorName=with space\nSocketUser=1000\nSocketGroup=-staff\n");
  EXPECT_EQ(07777u, s.socket_mode);
  EXPECT_EQ(0u, s.directory_mode);
  EXPECT_EQ("with space", s.fd_name);
  EXPECT_EQ("1000", s.socket_user);
  // systemd's relaxed name rules: a leading '-' is fine when it is not a negative number.
  EXPECT_EQ("-staff", s.socket_group);
  EXPECT_EQ(std::string(255, 'n'),
            Load("[Socket]\nListenStream=80\nFileDescriptorName=" + std::string(255, 'n') + "\n")
                .fd_name);
}

TEST(SocketLoader, NoListenIsRefused) {
  EXPECT_EQ("units/web.socket: Unit has no ListenStream= or ListenDatagram= setting, refusing",
            LoadErr("[Socket]\nBacklog=5\n"));
  EXPECT_EQ("units/web.socket: Unit has no ListenStream= or ListenDatagram= setting, refusing",
            LoadErr("[Socket]\nListenStream=80\nListenStream=\n"));
}

TEST(SocketLoader, BadUnitNames) {
  EXPECT_EQ("'web.service' is not a .socket unit",
            LoadErr("[Socket]\nListenStream=80\n", "web.service"));
  EXPECT_EQ("Invalid unit name 'web'", LoadErr("[Socket]\nListenStream=80\n", "web"));
  EXPECT_EQ("'web@.socket' is a template; only its instances can be loaded",
            LoadErr("[Socket]\nListenStream=80\n", "web@.socket"));
}

TEST(SocketLoader, UnknownAndUnsupportedKeysWarn) {
  SocketSpec s = Load(R"([Unit]
After=network.target
ConditionPathExists=/etc/web
Frobnicate=1
[Socket]
ListenStream=80
ReceiveBuffer=1M
MaxConnections=10
Wibble=yes
WantedBy=x.target
X-Custom=ok
[Install]
UpheldBy=www.socket
[X-Supd]
Foo=bar
[Service]
ExecStart=/bin/true
)");
  EXPECT_THAT(Warnings(s),
              ElementsAre(
                  // Unit syntax: a [Service] section in a socket unit is unknown.
                  testing::HasSubstr("Service"),
                  "units/web.socket:2: After= is not supported by supd yet; ignored",
                  "units/web.socket:3: ConditionPathExists= is not supported by supd yet; ignored",
                  "units/web.socket:4: Unknown key 'Frobnicate' in section [Unit], ignoring",
                  "units/web.socket:7: ReceiveBuffer= is not supported by supd yet; ignored",
                  "units/web.socket:8: MaxConnections= is not supported by supd yet; ignored",
                  "units/web.socket:9: Unknown key 'Wibble' in section [Socket], ignoring",
                  "units/web.socket:10: Unknown key 'WantedBy' in section [Socket], ignoring "
                  "(WantedBy= belongs in the [Install] section)",
                  "units/web.socket:13: UpheldBy= is not supported by supd yet; ignored",
                  "units/web.socket:15: Unknown key 'Foo' in section [X-Supd], ignoring"));
}

TEST(SocketLoader, InstallSection) {
  SocketSpec s = Load(R"([Socket]
ListenStream=80
[Install]
WantedBy=sockets.target
RequiredBy=app.target
RequiredBy=
RequiredBy=web.service
Alias=www.socket
Alias=
Alias=http.socket bad..name
Also=a.service
Also=
Also=b.socket
)");
  EXPECT_THAT(s.install.wanted_by, ElementsAre("sockets.target"));
  EXPECT_THAT(s.install.required_by, ElementsAre("web.service"));
  EXPECT_THAT(s.install.aliases, ElementsAre("http.socket"));
  EXPECT_THAT(s.install.also, ElementsAre("a.service", "b.socket"));
  EXPECT_THAT(Warnings(s), ElementsAre("units/web.socket:10: Invalid unit name 'bad..name' in "
                                       "Alias=, ignoring"));
}

TEST(SocketLoader, DefaultInstanceIsForTemplates) {
  SocketSpec s = Load("[Socket]\nListenStream=80\n[Install]\nDefaultInstance=a\n");
  EXPECT_EQ("", s.install.default_instance);
  EXPECT_THAT(Warnings(s), ElementsAre("units/web.socket:4: DefaultInstance= only makes sense for "
                                       "template units, ignoring"));
  s = Load("[Socket]\nListenStream=80\n[Install]\nDefaultInstance=a\n", "web@1.socket");
  EXPECT_EQ("", s.install.default_instance);
  EXPECT_THAT(s.warnings, IsEmpty());
}

class SocketLoaderFiles : public testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        std::filesystem::temp_directory_path() / ("supd-socket-loader-" + std::to_string(getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void Write(const std::string& rel, const std::string& text) {
    std::filesystem::create_directories((dir_ / rel).parent_path());
    std::ofstream(dir_ / rel) << text;
  }
  std::filesystem::path dir_;
};

TEST_F(SocketLoaderFiles, LoadsFileAndDropins) {
  Write("web.socket", "[Socket]\nListenStream=80\nBacklog=10\n");
  Write("web.socket.d/20-more.conf", "[Socket]\nListenStream=\nListenStream=8080\n");
  Write("web.socket.d/10-backlog.conf", "[Socket]\nBacklog=20\nNoDelay=yes\n");
  Write("web.socket.d/30-masked.conf", "[Socket]\nBacklog=30\n");
  std::filesystem::create_symlink("/dev/null", dir_ / "web.socket.d/30-masked.conf.tmp");
  std::filesystem::rename(dir_ / "web.socket.d/30-masked.conf.tmp",
                          dir_ / "web.socket.d/30-masked.conf");
  auto r = LoadSocketFile((dir_ / "web.socket").string(), "web.socket", Ctx());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(20, r->backlog);
  EXPECT_TRUE(r->no_delay);
  ASSERT_EQ(1u, r->listen.size());
  EXPECT_EQ("8080", r->listen[0].address);
  EXPECT_EQ((dir_ / "web.socket.d/20-more.conf").string() + ":3", r->listen[0].source);
  EXPECT_THAT(r->dropin_paths, ElementsAre((dir_ / "web.socket.d/10-backlog.conf").string(),
                                           (dir_ / "web.socket.d/20-more.conf").string()));
}

TEST_F(SocketLoaderFiles, ErrorsInDropinsNameTheDropin) {
  Write("web.socket", "[Socket]\nListenStream=80\n");
  Write("web.socket.d/x.conf", "[Socket]\nAccept=true\n");
  auto r = LoadSocketFile((dir_ / "web.socket").string(), "web.socket", Ctx());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ((dir_ / "web.socket.d/x.conf").string() +
                ":2: Accept=yes is not supported by supd (one service instance per connection)",
            r.error().message);
}

TEST_F(SocketLoaderFiles, MissingAndMaskedFiles) {
  auto missing = LoadSocketFile((dir_ / "none.socket").string(), "none.socket", Ctx());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ("open " + (dir_ / "none.socket").string() + ": No such file or directory",
            missing.error().message);
  Write("empty.socket", "");
  auto masked = LoadSocketFile((dir_ / "empty.socket").string(), "empty.socket", Ctx());
  ASSERT_FALSE(masked.ok());
  EXPECT_EQ((dir_ / "empty.socket").string() +
                ": Unit empty.socket is masked (the file is empty or /dev/null)",
            masked.error().message);
}

}  // namespace
}  // namespace supd
