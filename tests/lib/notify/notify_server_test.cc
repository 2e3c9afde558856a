#include "lib/notify/notify_server.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <vector>

namespace supd {
namespace {

using namespace std::chrono_literals;

int CountOpenFds() {
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) {
    (void)e;
    ++n;
  }
  return n;
}

bool IsOpen(int fd) { return fcntl(fd, F_GETFD) >= 0; }

struct Received {
  NotifyMessage message;
  NotifyCredentials cred;
  size_t fd_count = 0;
};

class NotifyServerTest : public testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/supd-notify-test-XXXXXX";
    ASSERT_NE(nullptr, mkdtemp(tmpl));
    dir_ = tmpl;
    path_ = dir_ + "/notify";
  }
  void TearDown() override {
    server_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  // Binds path_ with a handler that records each message and lets keep_ decide which fds to
  // keep (by index); the others are dropped with the vector.
  void BindServer() {
    auto r = NotifyServer::Bind(
        io_, path_,
        [this](const NotifyMessage& m, const NotifyCredentials& c, std::vector<UniqueFd> fds) {
          got_.push_back(Received{m, c, fds.size()});
          if (keep_ && !fds.empty()) kept_.push_back(std::move(fds[0]));
        });
    ASSERT_TRUE(r.ok()) << r.error().message;
    server_ = std::move(*r);
  }

  // Runs the loop, one handler at a time, until pred() holds after one of them, or the deadline
  // passes, or the loop has no work left (then nothing more can happen). The deadline is long:
  // it bounds a wait for something that must happen and costs nothing when it does.
  bool RunUntil(const std::function<bool()>& pred, std::chrono::milliseconds deadline = 30s) {
    const auto end = std::chrono::steady_clock::now() + deadline;
    while (!pred()) {
      if (std::chrono::steady_clock::now() >= end) return false;
      if (io_.run_one_until(end) == 0 && io_.stopped()) {
        io_.restart();
        return pred();
      }
    }
    return true;
  }

  // Sends one datagram to `to` (path, or '@' + abstract name) with `fds`; true on success.
  static bool Send(const std::string& to, std::string_view data, const std::vector<int>& fds = {}) {
    UniqueFd s(socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!s) return false;
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, to.data(), to.size());
    if (to[0] == '@') addr.sun_path[0] = '\0';
    iovec iov{const_cast<char*>(data.data()), data.size()};
    msghdr msg{};
    msg.msg_name = &addr;
    msg.msg_namelen = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + to.size());
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    std::vector<char> control;
    if (!fds.empty()) {
      control.resize(CMSG_SPACE(sizeof(int) * fds.size()));
      msg.msg_control = control.data();
      msg.msg_controllen = control.size();
      cmsghdr* c = CMSG_FIRSTHDR(&msg);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
      std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
    }
    return sendmsg(s.get(), &msg, MSG_NOSIGNAL) == static_cast<ssize_t>(data.size());
  }

  // n fds open on /dev/null, owned by the test.
  static std::vector<UniqueFd> DevNulls(size_t n) {
    std::vector<UniqueFd> out;
    for (size_t i = 0; i < n; ++i) out.emplace_back(open("/dev/null", O_RDONLY | O_CLOEXEC));
    return out;
  }
  static std::vector<int> Raw(const std::vector<UniqueFd>& fds) {
    std::vector<int> out;
    for (const auto& f : fds) out.push_back(f.get());
    return out;
  }

  boost::asio::io_context io_;
  std::string dir_, path_;
  std::unique_ptr<NotifyServer> server_;
  std::vector<Received> got_;
  bool keep_ = false;
  std::vector<UniqueFd> kept_;
};

TEST_F(NotifyServerTest, PlainMessageWithCredentials) {
  BindServer();
  EXPECT_EQ(path_, server_->path());
  struct stat st;
  ASSERT_EQ(0, stat(path_.c_str(), &st));
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(0666u, st.st_mode & 07777);

  ASSERT_TRUE(Send(path_, "READY=1\nSTATUS=up and running"));
  ASSERT_TRUE(RunUntil([&] { return got_.size() == 1; }));
  EXPECT_TRUE(got_[0].message.ready);
  EXPECT_EQ("up and running", got_[0].message.status);
  EXPECT_EQ(getpid(), got_[0].cred.pid);
  EXPECT_EQ(geteuid(), got_[0].cred.uid);
  EXPECT_EQ(getegid(), got_[0].cred.gid);
  EXPECT_EQ(0u, got_[0].fd_count);
  EXPECT_EQ(1u, server_->received());
  EXPECT_EQ(0u, server_->dropped());
}

TEST_F(NotifyServerTest, ManyDatagramsInOrder) {
  BindServer();
  // In bursts of 8: the kernel queues at most net.unix.max_dgram_qlen (10 by default)
  // datagrams for a receiver, then a blocking sender waits, and ours runs on this thread.
  const int n = 200;
  for (int i = 0; i < n; ++i) {
    ASSERT_TRUE(Send(path_, "STATUS=tick " + std::to_string(i)));
    if (i % 8 == 7 || i == n - 1) {
      ASSERT_TRUE(RunUntil([&] { return got_.size() == static_cast<size_t>(i + 1); }));
    }
  }
  for (int i = 0; i < n; ++i) EXPECT_EQ("tick " + std::to_string(i), got_[i].message.status);
}

TEST_F(NotifyServerTest, FdsArriveAndThoseNotKeptAreClosed) {
  BindServer();
  keep_ = true;
  const int before = CountOpenFds();
  {
    std::vector<UniqueFd> fds = DevNulls(3);
    ASSERT_TRUE(Send(path_, "FDSTORE=1\nFDNAME=db", Raw(fds)));
  }  // our copies are closed: only what the server received remains
  ASSERT_TRUE(RunUntil([&] { return got_.size() == 1; }));
  EXPECT_EQ(3u, got_[0].fd_count);
  EXPECT_TRUE(got_[0].message.fdstore);
  EXPECT_EQ("db", got_[0].message.fdname);
  ASSERT_EQ(1u, kept_.size());
  EXPECT_TRUE(IsOpen(kept_[0].get()));
  EXPECT_EQ(FD_CLOEXEC, fcntl(kept_[0].get(), F_GETFD) & FD_CLOEXEC);  // MSG_CMSG_CLOEXEC
  EXPECT_EQ(before + 1, CountOpenFds());  // the one kept; the two dropped are closed
  kept_.clear();
  EXPECT_EQ(before, CountOpenFds());
}

TEST_F(NotifyServerTest, SixteenFdsAreAccepted) {
  BindServer();
  const int before = CountOpenFds();
  {
    std::vector<UniqueFd> fds = DevNulls(NotifyServer::kMaxFds);
    ASSERT_TRUE(Send(path_, "FDSTORE=1", Raw(fds)));
  }
  ASSERT_TRUE(RunUntil([&] { return got_.size() == 1; }));
  EXPECT_EQ(NotifyServer::kMaxFds, got_[0].fd_count);
  EXPECT_EQ(before, CountOpenFds());
}

TEST_F(NotifyServerTest, TooManyFdsDroppedWithoutLeak) {
  BindServer();
  const int before = CountOpenFds();
  {
    std::vector<UniqueFd> fds = DevNulls(20);
    ASSERT_TRUE(Send(path_, "FDSTORE=1", Raw(fds)));
  }
  ASSERT_TRUE(RunUntil([&] { return server_->dropped() == 1; }));
  EXPECT_TRUE(got_.empty());
  EXPECT_EQ(before, CountOpenFds());
  // Still serving.
  ASSERT_TRUE(Send(path_, "READY=1"));
  ASSERT_TRUE(RunUntil([&] { return got_.size() == 1; }));
}

TEST_F(NotifyServerTest, OversizedDatagramDropped) {
  BindServer();
  const int before = CountOpenFds();
  {
    std::vector<UniqueFd> fds = DevNulls(2);
    ASSERT_TRUE(Send(path_, "STATUS=" + std::string(5000, 'x'), Raw(fds)));
  }
  ASSERT_TRUE(Send(path_, "READY=1\nSTATUS=" + std::string(4096 - 15, 'y')));  // exactly 4096
  ASSERT_TRUE(RunUntil([&] { return got_.size() == 1; }));
  EXPECT_EQ(1u, server_->dropped());
  EXPECT_EQ(2u, server_->received());
  EXPECT_TRUE(got_[0].message.ready);
  EXPECT_EQ(4096u - 15, got_[0].message.status->size());
  EXPECT_EQ(before, CountOpenFds());
}

TEST_F(NotifyServerTest, GarbageNeverStopsTheServer) {
  BindServer();
  const int before = CountOpenFds();
  std::mt19937 rng(42);
  int sent = 0;
  for (int i = 0; i < 200; ++i) {
    std::string junk(1 + rng() % 300, '\0');
    for (char& c : junk) c = static_cast<char>(rng() % 256);
    if (Send(path_, junk)) ++sent;
    if (i % 8 == 7) {  // see ManyDatagramsInOrder
      ASSERT_TRUE(RunUntil([&] { return server_->received() == static_cast<uint64_t>(sent); }));
    }
  }
  ASSERT_TRUE(Send(path_, std::string_view("READY=1\0", 8)));  // NUL byte: dropped
  ASSERT_TRUE(Send(path_, "\n"));                              // parses to nothing: delivered
  ASSERT_TRUE(Send(path_, "READY=1"));
  ASSERT_TRUE(RunUntil([&] { return server_->received() == static_cast<uint64_t>(sent) + 3; }));
  EXPECT_TRUE(got_.back().message.ready);
  EXPECT_EQ(server_->received(), got_.size() + server_->dropped());
  EXPECT_GE(server_->dropped(), 1u);
  EXPECT_EQ(before, CountOpenFds());
}

TEST_F(NotifyServerTest, HandlerExceptionIsContained) {
  auto r = NotifyServer::Bind(
      io_, path_, [this](const NotifyMessage& m, const NotifyCredentials&, std::vector<UniqueFd>) {
        got_.push_back(Received{m, {}, 0});
        if (m.status == "boom") throw std::runtime_error("boom");
      });
  ASSERT_TRUE(r.ok()) << r.error().message;
  server_ = std::move(*r);
  ASSERT_TRUE(Send(path_, "STATUS=boom"));
  ASSERT_TRUE(Send(path_, "STATUS=after"));
  ASSERT_TRUE(RunUntil([&] { return got_.size() == 2; }));
  EXPECT_EQ("after", got_[1].message.status);
}

TEST_F(NotifyServerTest, StaleSocketIsReplaced) {
  BindServer();
  server_.reset();
  ASSERT_TRUE(std::filesystem::exists(path_));  // the file stays behind, as after a crash
  BindServer();
  ASSERT_TRUE(Send(path_, "READY=1"));
  ASSERT_TRUE(RunUntil([&] { return got_.size() == 1; }));
}

TEST_F(NotifyServerTest, DestroyedWithDatagramsPendingIsSafe) {
  BindServer();
  ASSERT_TRUE(Send(path_, "READY=1"));
  io_.poll();  // may or may not have seen it yet
  const size_t seen = got_.size();
  ASSERT_TRUE(Send(path_, "READY=1"));
  server_.reset();
  // Whatever completions were queued must find the server gone. run_for() returns as soon as
  // the loop has no work left; a stopped loop proves that every queued completion has run.
  io_.run_for(30s);
  EXPECT_TRUE(io_.stopped()) << "the destroyed server left work on the loop";
  EXPECT_EQ(seen, got_.size());
}

TEST_F(NotifyServerTest, AbstractSocket) {
  path_ = "@supd-notify-test-" + std::to_string(getpid());
  BindServer();
  ASSERT_TRUE(Send(path_, "WATCHDOG=1"));
  ASSERT_TRUE(RunUntil([&] { return got_.size() == 1; }));
  EXPECT_TRUE(got_[0].message.watchdog_ping);
}

TEST_F(NotifyServerTest, BindErrorsNameThePathAndErrno) {
  auto handler = [](const NotifyMessage&, const NotifyCredentials&, std::vector<UniqueFd>) {};
  std::string missing = dir_ + "/no/such/dir/notify";
  auto r1 = NotifyServer::Bind(io_, missing, handler);
  ASSERT_FALSE(r1.ok());
  EXPECT_EQ("bind notify socket " + missing + ": No such file or directory", r1.error().message);

  std::string file = dir_ + "/regular";
  std::ofstream(file) << "not a socket";
  auto r2 = NotifyServer::Bind(io_, file, handler);
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ("bind notify socket " + file + ": File exists", r2.error().message);
  EXPECT_TRUE(std::filesystem::is_regular_file(file));  // not deleted

  std::string abstract = "@supd-notify-test-dup-" + std::to_string(getpid());
  auto first = NotifyServer::Bind(io_, abstract, handler);
  ASSERT_TRUE(first.ok()) << first.error().message;
  auto r3 = NotifyServer::Bind(io_, abstract, handler);
  ASSERT_FALSE(r3.ok());
  EXPECT_EQ("bind notify socket " + abstract + ": Address already in use", r3.error().message);

  std::string long_path = "/tmp/" + std::string(120, 'x');
  auto r4 = NotifyServer::Bind(io_, long_path, handler);
  ASSERT_FALSE(r4.ok());
  EXPECT_EQ("bind notify socket " + long_path + ": File name too long", r4.error().message);
}

}  // namespace
}  // namespace supd
