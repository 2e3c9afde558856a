#include "lib/base/sd_notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string>

#include "lib/base/unique_fd.h"

namespace supd {
namespace {

// Sets an environment variable for one test and puts the old value back.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    had_ = std::getenv(name) != nullptr;
    setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (had_)
      setenv(name_, old_.c_str(), 1);
    else
      unsetenv(name_);
  }

 private:
  const char* name_;
  std::string old_;
  bool had_ = false;
};

TEST(SdNotify, NotifyReachesTheAbstractSocketInNotifySocket) {
  UniqueFd sock(socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(sock);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  // An abstract address, as systemd's own: nothing to clean up.
  const std::string name = "supd-sd-notify-test-" + std::to_string(getpid());
  std::memcpy(addr.sun_path + 1, name.data(), name.size());
  const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
  ASSERT_EQ(0, bind(sock.get(), reinterpret_cast<sockaddr*>(&addr), len)) << strerror(errno);
  ScopedEnv env("NOTIFY_SOCKET", "@" + name);
  EXPECT_EQ(1, NotifySupervisor("READY=1\nSTATUS=supervising 3 units"));
  char buf[256];
  const ssize_t n = recv(sock.get(), buf, sizeof(buf), MSG_DONTWAIT);
  ASSERT_GT(n, 0) << strerror(errno);
  EXPECT_EQ("READY=1\nSTATUS=supervising 3 units", std::string(buf, static_cast<size_t>(n)));
}

TEST(SdNotify, NotifyReachesASocketPath) {
  char dir[] = "/tmp/supd-sd-notify-XXXXXX";
  ASSERT_NE(nullptr, mkdtemp(dir));
  const std::string path = std::string(dir) + "/notify";
  UniqueFd sock(socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  ASSERT_EQ(0, bind(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)));
  {
    ScopedEnv env("NOTIFY_SOCKET", path);
    EXPECT_EQ(1, NotifySupervisor("WATCHDOG=1"));
  }
  char buf[64];
  const ssize_t n = recv(sock.get(), buf, sizeof(buf), MSG_DONTWAIT);
  EXPECT_EQ("WATCHDOG=1", std::string(buf, static_cast<size_t>(n > 0 ? n : 0)));
  unlink(path.c_str());
  rmdir(dir);
}

TEST(SdNotify, AnAddressLibsystemdRefusesIsEinvalAndNoSocketIsNothing) {
  for (const char* bad : {"", "@", "/", "relative/path", "vsock:2:1234"}) {
    ScopedEnv env("NOTIFY_SOCKET", bad);
    EXPECT_EQ(-EINVAL, NotifySupervisor("READY=1")) << bad;
  }
  // sun_path holds 108 bytes: a path needs its NUL, an abstract name does not.
  {
    ScopedEnv longest_path("NOTIFY_SOCKET", "/" + std::string(106, 'x'));
    EXPECT_EQ(-ENOENT, NotifySupervisor("READY=1"));  // taken, and not there
  }
  {
    ScopedEnv too_long_path("NOTIFY_SOCKET", "/" + std::string(107, 'x'));
    EXPECT_EQ(-EINVAL, NotifySupervisor("READY=1"));
  }
  {
    ScopedEnv longest_abstract("NOTIFY_SOCKET", "@" + std::string(107, 'x'));
    EXPECT_EQ(-ECONNREFUSED, NotifySupervisor("READY=1"));  // taken, and nobody listens
  }
  {
    ScopedEnv too_long_abstract("NOTIFY_SOCKET", "@" + std::string(108, 'x'));
    EXPECT_EQ(-EINVAL, NotifySupervisor("READY=1"));
  }
  {
    ScopedEnv gone("NOTIFY_SOCKET", "/nonexistent-dir/notify");
    EXPECT_EQ(-ENOENT, NotifySupervisor("READY=1"));
  }
}

TEST(SdNotify, WithoutNotifySocketNothingIsSent) {
  ScopedEnv env("NOTIFY_SOCKET", "");
  unsetenv("NOTIFY_SOCKET");  // the ScopedEnv puts back what was there
  EXPECT_EQ(0, NotifySupervisor("READY=1"));
}

TEST(SdNotify, WatchdogIsForThisProcessOnlyAndItsNumbersAreChecked) {
  uint64_t usec = 7;
  {
    ScopedEnv usec_env("WATCHDOG_USEC", "3000000");
    ScopedEnv pid_env("WATCHDOG_PID", std::to_string(getpid()));
    EXPECT_EQ(1, SupervisorWatchdog(&usec));
    EXPECT_EQ(3000000u, usec);
  }
  {
    // WATCHDOG_PID names another process (supd's child inherited it): not ours to ping.
    ScopedEnv usec_env("WATCHDOG_USEC", "5000000");
    ScopedEnv pid_env("WATCHDOG_PID", std::to_string(getpid() + 1));
    usec = 7;
    EXPECT_EQ(0, SupervisorWatchdog(&usec));
    EXPECT_EQ(7u, usec);
  }
  for (const char* bad : {"", "0", "-1", "12x", "99999999999999999999999",
                          "18446744073709551615"}) {
    ScopedEnv usec_env("WATCHDOG_USEC", bad);
    EXPECT_EQ(-EINVAL, SupervisorWatchdog(&usec)) << bad;
  }
  ScopedEnv usec_env("WATCHDOG_USEC", "1000");
  ScopedEnv pid_env("WATCHDOG_PID", "abc");
  EXPECT_EQ(-EINVAL, SupervisorWatchdog(&usec));
}

}  // namespace
}  // namespace supd
