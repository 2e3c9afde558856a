#include "lib/proc/quiet_run.h"

#include <errno.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <linux/close_range.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/base/unique_fd.h"

extern char** environ;

namespace supd {
namespace {

#ifndef P_PIDFD
constexpr idtype_t P_PIDFD = static_cast<idtype_t>(3);
#endif

// The kernel's struct clone_args up to set_tid_size (Linux 5.5); see lib/proc/spawn.cc.
struct CloneArgs {
  uint64_t flags;
  uint64_t pidfd;
  uint64_t child_tid;
  uint64_t parent_tid;
  uint64_t exit_signal;
  uint64_t stack;
  uint64_t stack_size;
  uint64_t tls;
};
constexpr uint64_t kClonePidfd = 0x00001000;

// Async-signal-safe: writes `text` to fd, best effort.
void ChildWrite(int fd, const char* text) {
  ssize_t n = ::write(fd, text, strlen(text));
  (void)n;
}

// From clone to execve: only async-signal-safe calls (supd has other threads).
[[noreturn]] void RunChild(const char* path, char* const* argv, const std::vector<int>& pass,
                           int devnull, int out, int err) {
  // supd's handlers (Asio's signal pipe) must not run here; then nothing stays blocked.
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) sigaction(sig, &dfl, nullptr);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  if (dup2(devnull, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0) _exit(127);
  syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
  // The passed fds become 3, 4, …: first above that range (a source may sit where another
  // goes), then into place; F_SETFD covers an fd that already was at its place.
  const int npass = static_cast<int>(pass.size());
  int moved[16];
  if (npass > 16) _exit(127);
  for (int i = 0; i < npass; ++i) {
    moved[i] = fcntl(pass[i], F_DUPFD_CLOEXEC, 3 + npass);
    if (moved[i] < 0) _exit(127);
  }
  for (int i = 0; i < npass; ++i) {
    if (dup2(moved[i], 3 + i) < 0 || fcntl(3 + i, F_SETFD, 0) < 0) _exit(127);
  }
  execve(path, argv, environ);
  const int e = errno;
  ChildWrite(2, "exec ");
  ChildWrite(2, path);
  ChildWrite(2, ": ");
  ChildWrite(2, strerrordesc_np(e));
  ChildWrite(2, "\n");
  _exit(127);
}

// clone3 as fork, without glibc's fork handlers (other threads of supd may hold their locks).
pid_t RawClone(uint64_t flags, int* pidfd, int exit_signal) {
  CloneArgs args{};
  args.flags = flags;
  args.pidfd = reinterpret_cast<uint64_t>(pidfd);
  args.exit_signal = static_cast<uint64_t>(exit_signal);
  return static_cast<pid_t>(syscall(SYS_clone3, &args, sizeof(args)));
}

// What the middle process tells the caller, on the status pipe: the program's pid as soon as
// it runs, then how it ended.
struct MiddleReport {
  int32_t pid = 0;
  int32_t code = 0;    // si_code
  int32_t status = 0;  // si_status
};

// The middle process: the program's parent, so that it is never supd's child. Its own exit
// signal is 0 and it never execs (an exec would make it SIGCHLD again): supd's SIGCHLD reaping
// never sees it, and it reaps the program itself.
[[noreturn]] void RunMiddle(const char* path, char* const* argv, const std::vector<int>& pass,
                            int devnull, int out, int err, int report) {
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) sigaction(sig, &dfl, nullptr);
  MiddleReport r;
  r.pid = RawClone(0, nullptr, SIGCHLD);
  if (r.pid == 0) RunChild(path, argv, pass, devnull, out, err);
  if (r.pid < 0) _exit(127);
  ssize_t n = ::write(report, &r, sizeof(r));
  siginfo_t info{};
  while (::waitid(P_PID, static_cast<id_t>(r.pid), &info, WEXITED) < 0) {
    if (errno != EINTR) _exit(127);
  }
  r.code = info.si_code;
  r.status = info.si_status;
  n = ::write(report, &r, sizeof(r));
  (void)n;
  _exit(0);
}

ExitStatus StatusOf(const MiddleReport& r) {
  if (r.code == CLD_EXITED) return ExitStatus::Code(r.status);
  return ExitStatus::Signal(r.status, r.code == CLD_DUMPED);
}

// Appends what `fd` holds now to *to (up to max; the rest is dropped). False at EOF or error.
bool Drain(int fd, size_t max, std::string* to) {
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n > 0) {
      to->append(buf, std::min(static_cast<size_t>(n), max - std::min(max, to->size())));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return n < 0 && errno == EAGAIN;
  }
}

// Reads the program's output until the middle process exited (and the pipes are at EOF or, once
// it exited, empty: a process the program left may hold them) or the time limit: true when the
// limit was reached.
Result<bool> ReadUntilExit(int pidfd, int out, int err, const QuietRun& run,
                           QuietRunOutput* result) {
  const auto deadline = std::chrono::steady_clock::now() + run.limit;
  bool out_open = true, err_open = true, exited = false;
  while (!exited || out_open || err_open) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return true;
    pollfd fds[3] = {
        {pidfd, POLLIN, 0}, {out_open ? out : -1, POLLIN, 0}, {err_open ? err : -1, POLLIN, 0}};
    const int n = ::poll(fds, 3, exited ? 0 : static_cast<int>(left.count()));
    if (n < 0 && errno != EINTR) return ErrnoError("poll");
    if (out_open && (exited || fds[1].revents != 0))
      out_open = Drain(out, run.max_output, &result->out);
    if (err_open && (exited || fds[2].revents != 0))
      err_open = Drain(err, run.max_output, &result->err);
    if (exited) break;
    if (fds[0].revents != 0) exited = true;
  }
  return false;
}

}  // namespace

Result<QuietRunOutput> RunQuietly(const QuietRun& run) {
  std::string what = "run";
  for (const auto& a : run.argv) what += " " + (&a == &run.argv.front() ? run.path : a);
  // Everything the child touches is built before clone.
  std::vector<char*> argv;
  for (const auto& a : run.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  UniqueFd devnull(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!devnull) return ErrnoError(what + ": open /dev/null");
  auto out = OpenPipe(what);
  if (!out.ok()) return out.take_error();
  auto err = OpenPipe(what);
  if (!err.ok()) return err.take_error();
  auto report = OpenPipe(what);
  if (!report.ok()) return report.take_error();

  // Every signal blocked across clone, as Spawn does: a signal before the child reset its
  // handlers would run supd's in the child.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  int pidfd_raw = -1;
  // No exit signal: no SIGCHLD, and the process watcher's waitid(P_ALL) skips it.
  const pid_t pid = RawClone(kClonePidfd, &pidfd_raw, 0);
  if (pid == 0) {
    RunMiddle(run.path.c_str(), argv.data(), run.pass_fds, devnull.get(), out->write.get(),
              err->write.get(), report->write.get());
  }
  const int clone_errno = errno;
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (pid < 0) return ErrnoError(what + ": clone3", clone_errno);
  UniqueFd pidfd(pidfd_raw);
  out->write.reset();
  err->write.reset();
  report->write.reset();
  for (int fd : {out->read.get(), err->read.get(), report->read.get()})
    fcntl(fd, F_SETFL, O_NONBLOCK);

  QuietRunOutput result;
  auto timed_out = ReadUntilExit(pidfd.get(), out->read.get(), err->read.get(), run, &result);
  if (!timed_out.ok()) return Error{what + ": " + timed_out.error().message};
  MiddleReport r;
  if (*timed_out) {
    // The program's pid stays its own until the middle process reaps it: no other process
    // can have it when it is killed.
    if (::read(report->read.get(), &r, sizeof(r)) == sizeof(r) && r.pid > 0) {
      ::kill(r.pid, SIGKILL);
    } else {
      syscall(SYS_pidfd_send_signal, pidfd.get(), SIGKILL, nullptr, 0);
    }
  }
  siginfo_t info{};
  while (::waitid(P_PIDFD, static_cast<id_t>(pidfd.get()), &info, WEXITED | __WALL) < 0) {
    if (errno != EINTR) return ErrnoError(what + ": waitid");
  }
  if (*timed_out)
    return Error{fmt::format("{}: no exit within {}s (killed)", what,
                             std::chrono::duration<double>(run.limit).count())};
  MiddleReport started, ended;
  if (::read(report->read.get(), &started, sizeof(started)) != sizeof(started) ||
      ::read(report->read.get(), &ended, sizeof(ended)) != sizeof(ended)) {
    return Error{what + ": " +
                 (info.si_code == CLD_EXITED && info.si_status == 0
                      ? std::string("no exit status")
                      : "could not start (" +
                            DescribeExit(StatusOf({0, info.si_code, info.si_status})) + ")")};
  }
  result.exit = StatusOf(ended);
  return result;
}

}  // namespace supd
