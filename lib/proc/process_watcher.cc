#include "lib/proc/process_watcher.h"

#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/signal_set.hpp>
#include <map>
#include <spdlog/spdlog.h>

namespace supd {
namespace asio = boost::asio;

namespace {

ExitStatus FromSiginfo(const siginfo_t& info) {
  switch (info.si_code) {
    case CLD_EXITED: return ExitStatus::Code(info.si_status);
    case CLD_DUMPED: return ExitStatus::Signal(info.si_status, /*core=*/true);
    default: return ExitStatus::Signal(info.si_status);
  }
}

}  // namespace

bool PidfdStillRuns(int pidfd) {
  if (pidfd < 0) return false;
  struct pollfd p {pidfd, POLLIN, 0};
  for (;;) {
    const int n = ::poll(&p, 1, 0);
    if (n < 0 && errno == EINTR) continue;
    return n == 0;  // not readable: still running
  }
}

Result<UniqueFd> OpenPidfd(pid_t pid) {
  UniqueFd fd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (!fd) return ErrnoError("pidfd_open " + std::to_string(pid));
  return fd;
}

Result<void> SignalPidfd(pid_t pid, int pidfd, int sig) {
  const int rc = pidfd >= 0
                     ? static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0))
                     : ::kill(pid, sig);
  if (rc < 0 && errno != ESRCH)
    return ErrnoError("send signal " + std::to_string(sig) + " to pid " + std::to_string(pid));
  return Ok();
}

struct ProcessWatcher::Impl {
  struct Watched {
    ExitCallback on_exit;
    std::unique_ptr<asio::posix::stream_descriptor> pidfd;  // borrows the fd: released, not closed
  };

  explicit Impl(asio::io_context& io) : io(io), sigchld(io, SIGCHLD) { WaitSigchld(); }

  ~Impl() {
    for (auto& [pid, w] : watched) {
      if (w.pidfd) (void)w.pidfd->release();  // the owner of the pidfd closes it
    }
  }

  void WaitSigchld() {
    sigchld.async_wait([this](const boost::system::error_code& ec, int) {
      if (ec) return;  // cancelled: supd is shutting down
      ReapAll();
      WaitSigchld();
    });
  }

  // Reaps every zombie child: watched ones are dispatched to their owner, others are orphans.
  void ReapAll() {
    for (;;) {
      siginfo_t info{};
      if (waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) < 0 || info.si_pid == 0) break;
      const pid_t pid = info.si_pid;
      if (watched.count(pid)) {
        Reap(pid);
        continue;
      }
      siginfo_t gone{};
      if (waitid(P_PID, pid, &gone, WEXITED | WNOHANG) < 0) break;
      ++orphans;
      spdlog::debug("reaped orphan pid {} ({})", pid, DescribeExit(FromSiginfo(gone)));
    }
    if (after_reap) after_reap();
  }

  // Reaps a watched child if it has exited, then runs its callback. `pidfd_readable`: its
  // pidfd said it exited (it may then not be our child: a MAINPID= process whose parent lives).
  void Reap(pid_t pid, bool pidfd_readable = false) {
    auto it = watched.find(pid);
    if (it == watched.end()) return;
    siginfo_t info{};
    bool status_unknown = false;
    if (waitid(P_PID, pid, &info, WEXITED | WNOHANG) < 0) {
      if (errno != ECHILD || !pidfd_readable) return;
      // Exited, but someone else is its parent: the status is not ours to know.
      spdlog::debug("pid {} exited; not a child of supd, exit status unknown", pid);
      info.si_pid = pid;
      info.si_code = CLD_EXITED;
      info.si_status = 0;
      status_unknown = true;
    }
    if (info.si_pid == 0) return;
    Watched w = std::move(it->second);
    watched.erase(it);
    if (w.pidfd) {
      w.pidfd->cancel();
      (void)w.pidfd->release();
    }
    ExitStatus st = FromSiginfo(info);
    st.unknown = status_unknown;
    w.on_exit(st);
  }

  void WaitPidfd(pid_t pid, asio::posix::stream_descriptor& sd) {
    sd.async_wait(asio::posix::stream_descriptor::wait_read,
                  [this, pid](const boost::system::error_code& ec) {
                    if (ec) return;  // cancelled: reaped through SIGCHLD, or forgotten
                    Reap(pid, /*pidfd_readable=*/true);
                    if (after_reap) after_reap();
                  });
  }

  asio::io_context& io;
  asio::signal_set sigchld;
  std::map<pid_t, Watched> watched;
  std::function<void()> after_reap;
  uint64_t orphans = 0;
};

ProcessWatcher::ProcessWatcher(asio::io_context& io) : impl_(std::make_unique<Impl>(io)) {}
ProcessWatcher::~ProcessWatcher() = default;

void ProcessWatcher::Watch(pid_t pid, int pidfd, ExitCallback on_exit) {
  // Watching a pid again replaces the old watch; its pidfd belongs to its owner: release it.
  if (auto old = impl_->watched.find(pid); old != impl_->watched.end() && old->second.pidfd) {
    old->second.pidfd->cancel();
    (void)old->second.pidfd->release();
  }
  Impl::Watched w;
  w.on_exit = std::move(on_exit);
  if (pidfd >= 0) w.pidfd = std::make_unique<asio::posix::stream_descriptor>(impl_->io, pidfd);
  auto [it, inserted] = impl_->watched.insert_or_assign(pid, std::move(w));
  if (it->second.pidfd) impl_->WaitPidfd(pid, *it->second.pidfd);
  // It may have exited already (before Watch): a SIGCHLD round will find it, and so will the
  // pidfd, which is readable for a zombie.
}

void ProcessWatcher::Forget(pid_t pid) {
  auto it = impl_->watched.find(pid);
  if (it == impl_->watched.end()) return;
  if (it->second.pidfd) {
    it->second.pidfd->cancel();
    (void)it->second.pidfd->release();
  }
  impl_->watched.erase(it);
}

void ProcessWatcher::ReapNow() { impl_->ReapAll(); }

bool ProcessWatcher::ChildWaitsToBeReaped() const {
  siginfo_t info{};
  return ::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid != 0;
}

void ProcessWatcher::SetAfterReapHook(std::function<void()> hook) {
  impl_->after_reap = std::move(hook);
}

uint64_t ProcessWatcher::orphans_reaped() const { return impl_->orphans; }

}  // namespace supd
