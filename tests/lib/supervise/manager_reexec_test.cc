// The Manager across daemon-reexec: what one Manager saves at rest, a second one (a new host,
// the same processes) takes back and goes on with — crash loops where they were, running
// services with their pids and invocation ids, timers with the time they had left.
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstring>

#include "lib/supervise/saved_state.h"
#include "tests/lib/supervise/manager_fixture.h"

namespace supd {
namespace {

class ManagerReexecTest : public ManagerTest {
 protected:
  // Saves the running Manager's state (it must be at rest), then replaces it by a new one on a
  // new fake host that has the same processes and cgroups and a clock that went on.
  // `notify`: the new Manager takes over the old one's notify socket. The old Manager stays
  // (unused) until the end of the test: it owns the fds the state names, as a process that
  // execs does until the exec, and the new one must not see them closed.
  // `between`: runs after the save, before the new Manager reads the units directory.
  void Reexec(Usec exec_takes = 5ms, bool notify = false,
              const std::function<void()>& between = {}) {
    SavedState state;
    auto saved = manager_->SaveState(&state);
    ASSERT_TRUE(saved.ok()) << saved.error().message;
    if (between) between();
    kept_fds_ = FdsOf(state);
    const std::set<pid_t> alive = procs_->alive;
    const auto members = cgroups_->members;
    const Usec now = loop_->Now();
    old_managers_.push_back(std::move(manager_));

    testing::FakeHost fake(io_);
    fake.procs->alive = alive;
    fake.cgroups->members = members;
    fake.loop->Advance(now - fake.loop->Now() + exec_takes);
    fake.launcher->next_pid = launcher_->next_pid;
    loop_ = fake.loop;
    procs_ = fake.procs;
    cgroups_ = fake.cgroups;
    launcher_ = fake.launcher;
    ManagerConfig cfg;
    cfg.units_dir = dir_ + "/units";
    cfg.log_dir = dir_ + "/logs";
    cfg.state_dir = dir_;
    if (notify) {
      cfg.notify_socket = dir_ + "/notify";
      // A duplicate: the old Manager's reader of the same socket is in the same io_context
      // here (epoll would refuse the fd twice), not in a process that exec'd.
      cfg.adopt_notify_fd = ::fcntl(state.daemon.notify_fd, F_DUPFD, 0);
    }
    manager_ = std::make_unique<Manager>(io_, cfg, std::move(fake.parts));
    bool loaded = false;
    manager_->RestoreUnits(std::move(state), [&] { loaded = true; });
    Poll();
    ASSERT_TRUE(loaded);
  }

  ~ManagerReexecTest() override {
    // The new Manager first: it closes the fds both hold, which the old one then finds closed.
    manager_.reset();
    old_managers_.clear();
  }

  std::vector<std::unique_ptr<Manager>> old_managers_;
  std::vector<int> kept_fds_;  // FdsOf the last state saved
};

TEST_F(ManagerReexecTest, RunningServicesKeepTheirPidsInvocationAndCounters) {
  Unit("web.service", "[Service]\nExecStart=/bin/web\nRestart=always\nRestartSec=1s\n");
  ASSERT_NO_FATAL_FAILURE(Start());
  ASSERT_TRUE(StartUnit("web"));
  Exit(*Snap("web.service").main_pid, ExitStatus::Code(3));
  loop_->Advance(1s);
  Poll();
  const ServiceSnapshot before = Snap("web.service");
  ASSERT_EQ(before.state, State::kRunning);
  ASSERT_EQ(before.restarts, 1u);

  ASSERT_NO_FATAL_FAILURE(Reexec());
  const ServiceSnapshot after = Snap("web.service");
  EXPECT_EQ(after.state, State::kRunning);
  EXPECT_EQ(after.main_pid, before.main_pid);
  EXPECT_EQ(after.invocation_id, before.invocation_id);
  EXPECT_EQ(after.restarts, 1u);
  EXPECT_EQ(after.counters.restarts, before.counters.restarts);
  ASSERT_TRUE(after.last_exit);
  EXPECT_EQ(after.last_exit->status.code, 3);
  EXPECT_TRUE(launcher_->launched.empty()) << "the restore started a process";

  // Its exit is the new Manager's to see: Restart= goes on as before.
  Exit(*after.main_pid, ExitStatus::Code(1));
  EXPECT_EQ(Snap("web.service").state, State::kBackoff);
  loop_->Advance(1s);
  Poll();
  EXPECT_EQ(Snap("web.service").state, State::kRunning);
  EXPECT_EQ(Snap("web.service").restarts, 2u);
}

TEST_F(ManagerReexecTest, BackoffGoesOnWithTheTimeItHadLeft) {
  Unit("loop.service", "[Service]\nExecStart=/bin/loop\nRestart=always\nRestartSec=2s\n");
  ASSERT_NO_FATAL_FAILURE(Start());
  ASSERT_TRUE(StartUnit("loop"));
  Exit(*Snap("loop.service").main_pid, ExitStatus::Code(1));
  loop_->Advance(500ms);
  ASSERT_EQ(Snap("loop.service").state, State::kBackoff);

  ASSERT_NO_FATAL_FAILURE(Reexec(100ms));
  EXPECT_EQ(Snap("loop.service").state, State::kBackoff);
  // 1.5 s were left at the save: the restart comes then, not 2 s after the exec.
  loop_->Advance(1499ms);
  Poll();
  EXPECT_TRUE(launcher_->launched.empty()) << "restarted early";
  loop_->Advance(1ms);
  Poll();
  ASSERT_EQ(launcher_->launched.size(), 1u);
  EXPECT_EQ(Snap("loop.service").state, State::kRunning);
  EXPECT_EQ(Snap("loop.service").restarts, 1u);
}

TEST_F(ManagerReexecTest, AProcessThatExitedDuringTheExecIsSeenAtOnce) {
  Unit("web.service", "[Service]\nExecStart=/bin/web\n");
  ASSERT_NO_FATAL_FAILURE(Start());
  ASSERT_TRUE(StartUnit("web"));
  const pid_t pid = *Snap("web.service").main_pid;
  ASSERT_NO_FATAL_FAILURE(Reexec());
  Exit(pid, ExitStatus::Code(0));
  EXPECT_EQ(Snap("web.service").state, State::kStopped);
  ASSERT_TRUE(Snap("web.service").last_exit);
  EXPECT_EQ(Snap("web.service").last_exit->pid, pid);
}

TEST_F(ManagerReexecTest, FailedAndStoppedServicesStayAsTheyWereAndNothingStarts) {
  Unit("bad.service", "[Service]\nExecStart=/bin/bad\n");
  Unit("off.service", "[Service]\nExecStart=/bin/off\n[Install]\nWantedBy=multi-user.target\n");
  ASSERT_NO_FATAL_FAILURE(Start());
  ASSERT_TRUE(StartUnit("bad"));
  Exit(*Snap("bad.service").main_pid, ExitStatus::Code(2));
  ASSERT_EQ(Snap("bad.service").state, State::kFailed);
  ASSERT_EQ(Snap("off.service").state, State::kRunning);  // the preset enabled it
  ASSERT_TRUE(OpStopping("off.service", [&](JobDone d) { manager_->Stop("off", {}, d); }));

  ASSERT_NO_FATAL_FAILURE(Reexec());
  EXPECT_EQ(Snap("bad.service").state, State::kFailed);
  EXPECT_EQ(Snap("bad.service").result, ServiceResult::kExitCode);
  EXPECT_EQ(Snap("off.service").state, State::kStopped);
  EXPECT_TRUE(launcher_->launched.empty()) << "a restore starts nothing";
  EXPECT_EQ(manager_->system_state(), SystemState::kDegraded);
}

TEST_F(ManagerReexecTest, NotAtRestWhileAStartRunsItsExecStartPre) {
  Unit("slow.service", "[Service]\nExecStartPre=/bin/prep\nExecStart=/bin/slow\n");
  ASSERT_NO_FATAL_FAILURE(Start());
  bool done = false;
  manager_->Start("slow", {}, [&](const JobResult&) { done = true; });
  Poll();
  ASSERT_FALSE(done);
  const std::string why = manager_->NotAtRest();
  EXPECT_NE(why.find("slow.service"), std::string::npos) << why;
  SavedState state;
  auto r = manager_->SaveState(&state);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("not at rest"), std::string::npos) << r.error().message;
  // ExecStartPre= ends: at rest again.
  Exit(launcher_->Last("ExecStartPre=/bin/prep")->pid, ExitStatus::Code(0));
  ASSERT_TRUE(PollUntil([&] { return done; }));
  EXPECT_EQ(manager_->NotAtRest(), "");
}

TEST_F(ManagerReexecTest, ARunningServiceWhoseUnitNoLongerLoadsIsRefusedBeforeTheSave) {
  Unit("gone.service", "[Service]\nExecStart=/bin/gone\n");
  Unit("oneshot.service", "[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/true\n");
  ASSERT_NO_FATAL_FAILURE(Start());
  ASSERT_TRUE(StartUnit("gone"));
  std::filesystem::remove(dir_ + "/units/gone.service");
  SavedState state;
  auto r = manager_->SaveState(&state);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("gone.service runs, but its unit does not load now"),
            std::string::npos)
      << r.error().message;
  // Restored, it can be saved again.
  Unit("gone.service", "[Service]\nExecStart=/bin/gone\n");
  EXPECT_TRUE(manager_->SaveState(&state).ok());
}

TEST_F(ManagerReexecTest, AServiceWhoseUnitFileWentDuringTheExecIsLeftAloneNotKilled) {
  Unit("gone.service", "[Service]\nExecStart=/bin/gone\n");
  ASSERT_NO_FATAL_FAILURE(Start());
  ASSERT_TRUE(StartUnit("gone"));
  ASSERT_NO_FATAL_FAILURE(
      Reexec(5ms, false, [&] { std::filesystem::remove(dir_ + "/units/gone.service"); }));
  EXPECT_FALSE(manager_->Resolve("gone", false).ok());
  EXPECT_TRUE(procs_->signals.empty());
  EXPECT_TRUE(cgroups_->signals.empty());
}

TEST_F(ManagerReexecTest, HeldSocketsAndTheNotifySocketAreTakenOverNotBoundAgain) {
  const std::string path = dir_ + "/web.sock";
  Unit("web.socket", "[Socket]\nListenStream=" + path + "\n");
  Unit("web.service", "[Service]\nExecStart=/bin/web\n");
  ASSERT_NO_FATAL_FAILURE(Start(/*notify=*/true));
  ASSERT_TRUE(StartUnit("web"));
  const std::vector<int> passed = launcher_->Last("ExecStart=/bin/web")->fds;
  ASSERT_EQ(passed.size(), 1u);
  struct stat before {};
  ASSERT_EQ(::stat(path.c_str(), &before), 0);

  ASSERT_NO_FATAL_FAILURE(Reexec(5ms, /*notify=*/true));
  auto snaps = manager_->Snapshot({"web.socket"});
  ASSERT_TRUE(snaps.ok());
  const auto& sock = std::get<SocketSnapshot>(snaps->at(0));
  EXPECT_EQ(sock.state, SocketState::kListening);
  ASSERT_EQ(sock.listening.size(), 1u);
  EXPECT_EQ(sock.listening[0].identity, "unix:" + path);
  struct stat after {};
  ASSERT_EQ(::stat(path.c_str(), &after), 0);
  EXPECT_EQ(after.st_ino, before.st_ino) << "the socket file was bound again";
  ASSERT_FALSE(kept_fds_.empty());
  for (const int fd : kept_fds_)
    EXPECT_EQ(::fcntl(fd, F_GETFD), FD_CLOEXEC) << "fd " << fd << " must be close-on-exec again";

  // A socket unit whose file changed since it bound is refused until a daemon-reload.
  Unit("web.socket", "[Socket]\nListenStream=" + dir_ + "/other.sock\n");
  SavedState changed;
  auto r = manager_->SaveState(&changed);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("web.socket: the unit file changed"), std::string::npos)
      << r.error().message;
  Unit("web.socket", "[Socket]\nListenStream=" + path + "\n");

  // The next start of the service gets the same socket.
  Exit(*Snap("web.service").main_pid, ExitStatus::Code(0));
  ASSERT_TRUE(StartUnit("web"));
  EXPECT_EQ(launcher_->Last("ExecStart=/bin/web")->fds, passed);

  // The notify socket is read by the new Manager (a datagram from a stranger is refused).
  const uint64_t refused = manager_->notify_refused();
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::string notify = dir_ + "/notify";
  std::memcpy(addr.sun_path, notify.c_str(), notify.size() + 1);
  ASSERT_EQ(::sendto(fd, "READY=1", 7, 0, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 7);
  ::close(fd);
  EXPECT_TRUE(PollUntil([&] { return manager_->notify_refused() > refused; }));
}

}  // namespace
}  // namespace supd
