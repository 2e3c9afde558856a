// ControlServer across a daemon-reexec: a listening fd adopted as it is, and accepting paused
// (connections wait in the backlog, none refused) and resumed.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <filesystem>

#include "lib/base/unique_fd.h"
#include "lib/control/client.h"
#include "lib/control/server.h"

namespace supd::control {
namespace {

class ServerAdoptTest : public ::testing::Test {
 protected:
  ServerAdoptTest() {
    char tmpl[] = "/tmp/supd-server-adopt-test-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    path_ = dir_ + "/supd.sock";
  }
  ~ServerAdoptTest() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // Answers every request with {"pong":true}.
  static Handler Pong() {
    return [](const Request&, const Peer&, ReplyFn reply) {
      reply(Reply::Ok(nlohmann::json{{"pong", true}}));
    };
  }

  // A unix stream socket bound at path_ and listening, as a previous supd leaves it.
  UniqueFd ListeningFd() {
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path_.c_str());
    EXPECT_EQ(0, ::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)));
    EXPECT_EQ(0, ::listen(fd.get(), 16));
    return fd;
  }

  // A raw connection with a request written: connect() succeeds while the server pauses (the
  // kernel's backlog takes it).
  UniqueFd ConnectAndAsk() {
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path_.c_str());
    EXPECT_EQ(0, ::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)));
    const std::string line = "{\"id\":1,\"cmd\":\"ping\"}\n";
    EXPECT_EQ(static_cast<ssize_t>(line.size()), ::write(fd.get(), line.data(), line.size()));
    return fd;
  }

  void Poll() {
    for (int i = 0; i < 50; ++i) {
      io_.poll();
      io_.restart();
      ::usleep(1000);
    }
  }

  std::string dir_, path_;
  boost::asio::io_context io_;
};

TEST_F(ServerAdoptTest, AdoptedFdIsServed) {
  UniqueFd fd = ListeningFd();
  auto server = ControlServer::Adopt(io_, fd.release(), path_, "", Pong());
  ASSERT_TRUE(server.ok()) << server.error().message;
  UniqueFd client = ConnectAndAsk();
  Poll();
  char buf[256] = {};
  ASSERT_GT(::read(client.get(), buf, sizeof(buf) - 1), 0);
  EXPECT_EQ("{\"id\":1,\"ok\":true,\"result\":{\"pong\":true}}\n", std::string(buf));
}

TEST_F(ServerAdoptTest, NotAListeningSocketIsRefused) {
  int pair[2];
  ASSERT_EQ(0, ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair));
  UniqueFd keep(pair[1]);
  UniqueFd fd(pair[0]);
  auto server = ControlServer::Adopt(io_, fd.get(), path_, "", Pong());
  ASSERT_FALSE(server.ok());
  EXPECT_EQ("adopt control socket fd " + std::to_string(fd.get()) + " (" + path_ +
                "): not a listening unix stream socket",
            server.error().message);
}

TEST_F(ServerAdoptTest, PausedConnectionsWaitInTheBacklogUntilResumed) {
  auto server = ControlServer::Listen(io_, path_, "", Pong());
  ASSERT_TRUE(server.ok()) << server.error().message;
  (*server)->PauseAccepting();
  UniqueFd a = ConnectAndAsk();
  UniqueFd b = ConnectAndAsk();
  Poll();
  EXPECT_EQ(0u, (*server)->clients());
  (*server)->ResumeAccepting();
  Poll();
  for (const UniqueFd* c : {&a, &b}) {
    char buf[256] = {};
    ASSERT_GT(::read(c->get(), buf, sizeof(buf) - 1), 0);
    EXPECT_EQ("{\"id\":1,\"ok\":true,\"result\":{\"pong\":true}}\n", std::string(buf));
  }
  // Pause and resume again before the cancelled accept completed: still one accept at a time.
  (*server)->PauseAccepting();
  (*server)->ResumeAccepting();
  UniqueFd c = ConnectAndAsk();
  Poll();
  char buf[256] = {};
  ASSERT_GT(::read(c.get(), buf, sizeof(buf) - 1), 0);
}

TEST_F(ServerAdoptTest, NativeHandleIsTheListeningFd) {
  UniqueFd fd = ListeningFd();
  const int raw = fd.get();
  auto server = ControlServer::Adopt(io_, fd.release(), path_, "", Pong());
  ASSERT_TRUE(server.ok());
  EXPECT_EQ(raw, (*server)->native_handle());
}

}  // namespace
}  // namespace supd::control
