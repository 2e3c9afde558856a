#include "daemon/reexec.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <linux/close_range.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "daemon/shutdown.h"
#include "lib/proc/quiet_run.h"

extern char** environ;

namespace supd {
namespace {

std::string ErrnoText(int err) { return std::strerror(err); }

// "--deserialize=5" or "--deserialize" (the value then is the next argument).
bool IsOption(const std::string& arg, std::string_view option, bool* takes_next) {
  if (arg == option) {
    *takes_next = true;
    return true;
  }
  *takes_next = false;
  return arg.size() > option.size() && arg.compare(0, option.size(), option) == 0 &&
         arg[option.size()] == '=';
}

std::vector<std::string> Without(const std::vector<std::string>& argv,
                                 std::initializer_list<std::string_view> options) {
  std::vector<std::string> out;
  for (size_t i = 0; i < argv.size(); ++i) {
    bool skip = false, takes_next = false;
    if (i > 0) {
      for (auto option : options) skip = skip || IsOption(argv[i], option, &takes_next);
    }
    if (!skip) {
      out.push_back(argv[i]);
    } else if (takes_next) {
      ++i;
    }
  }
  return out;
}

std::vector<char*> CArgv(const std::vector<std::string>& argv) {
  std::vector<char*> out;
  out.reserve(argv.size() + 1);
  for (const auto& a : argv) out.push_back(const_cast<char*>(a.c_str()));
  out.push_back(nullptr);
  return out;
}

// Close-on-exec on every fd from 3 up (Asio opens its sockets without it), then off on `keep`.
// False (errno set) if a step failed.
bool KeepOnly(const std::vector<int>& keep) {
  if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) < 0) return false;
  for (int fd : keep) {
    if (fcntl(fd, F_SETFD, 0) < 0) return false;
  }
  return true;
}

// The first line of a child's output, for an error message.
std::string FirstLine(const std::string& text) {
  std::string line = text.substr(0, text.find('\n'));
  if (line.size() > 200) line.resize(200);
  return line;
}

// What a check of the new binary says: the first line it printed when it exited 0, else why
// not.
Result<std::string> Judge(const std::string& what, const Result<QuietRunOutput>& r) {
  if (!r.ok()) return r.error();
  if (!r->exit.exited || r->exit.code != 0) {
    const std::string err = FirstLine(r->err.empty() ? r->out : r->err);
    return Error{
        fmt::format("{} {}{}", what, DescribeExit(r->exit), err.empty() ? "" : ": " + err)};
  }
  return FirstLine(r->out);
}

}  // namespace

Reexec::Reexec(boost::asio::io_context& io, Parts parts, std::vector<std::string> argv,
               std::string exe, uint64_t reexecs, int64_t started_realtime)
    : parts_(std::move(parts)),
      argv_(std::move(argv)),
      exe_(std::move(exe)),
      reexecs_(reexecs),
      started_realtime_(started_realtime),
      rest_timer_(io) {}

Reexec::~Reexec() { *alive_ = false; }

void Reexec::Request(std::chrono::milliseconds timeout,
                     control::RequestHandler::ReexecDecided decided) {
  if (pending_) return decided(Error{"daemon-reexec: one is already in progress"});
  if (parts_.stopping && parts_.stopping())
    return decided(Error{"daemon-reexec: supd is shutting down"});
  if (exe_.empty())
    return decided(Error{"daemon-reexec: the path supd runs from is not known (/proc/self/exe)"});
  pending_ = true;
  state_checked_ = false;
  draining_ = false;
  decided_ = std::move(decided);
  timeout_ = timeout;
  deadline_ = std::chrono::steady_clock::now() + timeout;
  spdlog::info("daemon-reexec: checking {} --version", exe_);
  QuietRun run;
  run.path = exe_;
  run.argv = {exe_, "--version"};
  run.limit = kCheckLimit;
  parts_.worker->Run([run, alive = alive_, this]() -> std::function<void()> {
    auto version = Judge("daemon-reexec: new binary " + run.path + ": --version", RunQuietly(run));
    return [version = std::move(version), alive, this] {
      if (*alive) OnVersion(version);
    };
  });
}

void Reexec::OnVersion(Result<std::string> version) {
  if (!version.ok()) return Fail(version.error().message);
  if (!version->starts_with("supd ")) {
    return Fail(
        fmt::format("daemon-reexec: new binary {}: --version said \"{}\", not \"supd "
                    "VERSION\"",
                    exe_, *version));
  }
  spdlog::debug("daemon-reexec: {} --version: {}", exe_, *version);
  WaitForRest();
}

void Reexec::WaitForRest() {
  if (parts_.stopping && parts_.stopping()) return Fail("daemon-reexec: supd is shutting down");
  const std::string busy = parts_.manager->NotAtRest();
  if (busy.empty() && !state_checked_) return CheckState();
  if (busy.empty()) {
    // Accepted connections finish first; a stream (or the request's own connection) does not.
    if (!draining_) {
      draining_ = true;
      drain_deadline_ = std::chrono::steady_clock::now() + kDrainLimit;
      parts_.control->PauseAccepting();
      spdlog::debug("daemon-reexec: at rest; new control connections wait in the backlog");
    }
    if (parts_.control->clients() <= 1 || std::chrono::steady_clock::now() >= drain_deadline_)
      return Exec();
  } else if (draining_) {
    draining_ = false;
    parts_.control->ResumeAccepting();
  }
  if (!busy.empty() && std::chrono::steady_clock::now() >= deadline_) {
    return Fail(fmt::format("daemon-reexec: supd was not at rest within {}: {}",
                            FormatSpan(timeout_), busy));
  }
  rest_timer_.expires_after(kRestTick);
  rest_timer_.async_wait([this, alive = alive_](const boost::system::error_code& ec) {
    if (!ec && *alive) WaitForRest();
  });
}

// The daemon's part of a state: the supd line's count and start, its listening sockets.
void Reexec::FillDaemon(SavedState* state) const {
  state->writer_version = SUPD_VERSION;
  state->daemon.reexecs = reexecs_;
  state->daemon.started_realtime = started_realtime_;
  state->daemon.control_fd = parts_.control->native_handle();
  state->daemon.metrics_fd = parts_.metrics ? parts_.metrics->native_handle() : -1;
}

// The dry run: the state as it is now, read by the new binary.
void Reexec::CheckState() {
  SavedState state;
  if (auto saved = parts_.manager->SaveState(&state); !saved.ok())
    return Fail("daemon-reexec: save the state for the dry run: " + saved.error().message);
  FillDaemon(&state);
  auto memfd = StateMemfd(EncodeSavedState(state));
  if (!memfd.ok()) return Fail("daemon-reexec: " + memfd.error().message);
  spdlog::debug("daemon-reexec: at rest; dry run of {} {}=3", exe_, kCheckStateOption);
  auto fd = std::make_shared<UniqueFd>(std::move(*memfd));
  QuietRun run;
  run.path = exe_;
  run.argv = {exe_, std::string(kCheckStateOption) + "=3"};
  run.pass_fds = {fd->get()};
  run.limit = kCheckLimit;
  parts_.worker->Run([run, fd, alive = alive_, this]() -> std::function<void()> {
    auto line =
        Judge("daemon-reexec: new binary " + run.path + ": " + run.argv[1], RunQuietly(run));
    return [line = std::move(line), alive, this] {
      if (*alive) OnStateChecked(line);
    };
  });
}

void Reexec::OnStateChecked(const Result<std::string>& line) {
  if (!line.ok()) return Fail(line.error().message);
  spdlog::debug("daemon-reexec: {} reads the state: {}", exe_, *line);
  state_checked_ = true;
  WaitForRest();  // the check took time: is supd still at rest?
}

// At rest, and the accepted control connections done: the services' output stops being read
// and what was read goes to the log files (the loop turns meanwhile), then ExecFlushed.
void Reexec::Exec() {
  spdlog::debug("daemon-reexec: pausing the services' output ({} control connections open)",
                parts_.control->clients());
  parts_.manager->PauseForExec([this, alive = alive_] {
    if (*alive) ExecFlushed();
  });
}

// From here to execve, nothing returns to the loop: no handler can change what was saved.
void Reexec::ExecFlushed() {
  if (const std::string busy = parts_.manager->NotAtRest(); !busy.empty()) {
    // Something moved while the logs were flushed (a crash, a restart): wait for rest again.
    spdlog::debug("daemon-reexec: no longer at rest ({}); waiting again", busy);
    parts_.manager->ResumeAfterFailedExec();
    return WaitForRest();
  }
  // From here a SIGTERM or SIGHUP stays pending, and the next supd (or this one, resumed)
  // takes it once its handlers are in place.
  BlockDaemonSignals();
  SavedState state;
  if (auto saved = parts_.manager->SaveState(&state); !saved.ok())
    return Resume("save the state: " + saved.error().message);
  FillDaemon(&state);
  const std::string bytes = EncodeSavedState(state);
  auto memfd = StateMemfd(bytes);
  if (!memfd.ok()) return Resume(memfd.error().message);
  spdlog::debug("daemon-reexec: state saved: {} bytes in memfd {}", bytes.size(), memfd->get());
  // The running binary, for the next supd to exec back if it cannot take over (O_PATH: it may
  // have no read permission; the file may be gone from its path already).
  UniqueFd exe_fd(::open("/proc/self/exe", O_PATH | O_CLOEXEC));
  if (!exe_fd) return Resume("open /proc/self/exe: " + ErrnoText(errno));
  std::vector<int> keep = FdsOf(state);
  keep.push_back(memfd->get());
  keep.push_back(exe_fd.get());
  const std::vector<std::string> argv = ExecArgv(argv_, memfd->get(), exe_fd.get());
  std::vector<char*> cargv = CArgv(argv);
  const std::vector<std::string> back = ExecArgv(argv_, memfd->get(), -1);
  std::vector<char*> cback = CArgv(back);
  spdlog::info("daemon-reexec: exec'ing {} ({} services, {} bytes of state, {} fds kept)", exe_,
               state.services.size(), bytes.size(), keep.size());
  // The answer goes out now (Asio writes at once when the socket takes it); the client then
  // pings until the next supd (or this one, resumed) answers.
  auto decided = std::move(decided_);
  decided_ = nullptr;
  decided(reexecs_);
  spdlog::debug("daemon-reexec: answered; execve {} {}", exe_, fmt::join(argv, " "));
  spdlog::default_logger()->flush();
  if (!KeepOnly(keep)) {
    const int err = errno;
    return Resume("clear close-on-exec on the fds to keep: " + ErrnoText(err));
  }
  ::execve(exe_.c_str(), cargv.data(), environ);
  const int exec_err = errno;
  spdlog::error("daemon-reexec: execve {}: {}; exec'ing the running binary back", exe_,
                ErrnoText(exec_err));
  spdlog::default_logger()->flush();
  ::syscall(SYS_execveat, exe_fd.get(), "", cback.data(), environ, AT_EMPTY_PATH);
  const int back_err = errno;
  Resume(fmt::format("execve {}: {}; execveat of the running binary: {}", exe_, ErrnoText(exec_err),
                     ErrnoText(back_err)));
}

// The exec did not happen: supd goes on as it was.
void Reexec::Resume(const std::string& why) {
  // Close-on-exec back on everything (also on what Asio opened without it).
  syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
  UnblockDaemonSignals();
  parts_.manager->ResumeAfterFailedExec();
  parts_.control->ResumeAccepting();
  spdlog::critical("daemon-reexec: {}; supd goes on with the binary it runs", why);
  pending_ = false;
  draining_ = false;
  // Before the answer: the client is told why; after it: the next ping's count tells.
  if (decided_) {
    auto decided = std::move(decided_);
    decided_ = nullptr;
    decided(Error{"daemon-reexec: " + why});
  }
}

void Reexec::Fail(const std::string& why) {
  spdlog::error("{}", why);
  pending_ = false;
  if (draining_ && parts_.control) parts_.control->ResumeAccepting();
  draining_ = false;
  auto decided = std::move(decided_);
  decided_ = nullptr;
  if (decided) decided(Error{why});
}

std::string OwnExecutable() {
  char buf[4096];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return "";
  std::string path(buf, static_cast<size_t>(n));
  constexpr std::string_view kDeleted = " (deleted)";
  if (path.ends_with(kDeleted)) path.resize(path.size() - kDeleted.size());
  return path;
}

std::vector<std::string> ExecArgv(const std::vector<std::string>& argv, int state_fd, int exe_fd) {
  std::vector<std::string> out =
      Without(argv, {kDeserializeOption, kFallbackOption, kCheckStateOption});
  out.push_back(fmt::format("{}={}", kDeserializeOption, state_fd));
  if (exe_fd >= 0) out.push_back(fmt::format("{}={}", kFallbackOption, exe_fd));
  return out;
}

std::vector<std::string> FallbackArgv(const std::vector<std::string>& argv) {
  return Without(argv, {kFallbackOption});
}

Result<UniqueFd> StateMemfd(const std::string& bytes) {
  UniqueFd fd(::memfd_create("supd-state", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!fd) return ErrnoError("memfd_create for the state");
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd.get(), bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError(fmt::format("write {} bytes of state to a memfd", bytes.size()));
    done += static_cast<size_t>(n);
  }
  // Sealed: nobody, not even supd, changes it between the writer and the reader.
  if (::fcntl(fd.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
    return ErrnoError("seal the state memfd");
  return fd;
}

Result<SavedState> ReadSavedState(int fd) {
  const std::string what = "read state fd " + std::to_string(fd);
  struct stat st {};
  if (::fstat(fd, &st) < 0) return ErrnoError(what);
  if (st.st_size < 0 || static_cast<uint64_t>(st.st_size) > kMaxSavedStateBytes)
    return Error{
        fmt::format("{}: {} bytes, over the limit of {}", what, st.st_size, kMaxSavedStateBytes)};
  std::string bytes(static_cast<size_t>(st.st_size), '\0');
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n =
        ::pread(fd, bytes.data() + done, bytes.size() - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError(what);
    if (n == 0)
      return Error{fmt::format("{}: {} bytes of {} (it shrank)", what, done, bytes.size())};
    done += static_cast<size_t>(n);
  }
  return DecodeSavedState(bytes);
}

Result<std::string> CheckStateLine(int fd) {
  auto state = ReadSavedState(fd);
  if (!state.ok()) return state.take_error();
  return fmt::format("state format {} from supd {}: {} services, {} socket units", state->format,
                     state->writer_version, state->services.size(), state->sockets.size());
}

void SetCloseOnExec(const std::vector<int>& fds) {
  for (int fd : fds) {
    if (::fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
      spdlog::warn("daemon-reexec: set close-on-exec on fd {}: {}", fd, ErrnoText(errno));
  }
}

void FailBeforeAnswering(const std::string& why, int fallback_fd,
                         const std::vector<std::string>& argv, const std::vector<int>& keep) {
  spdlog::critical("daemon-reexec: {}", why);
  if (fallback_fd >= 0) {
    spdlog::critical("daemon-reexec: exec'ing the previous binary back (fd {}) with the same state",
                     fallback_fd);
    spdlog::default_logger()->flush();
    const std::vector<std::string> args = FallbackArgv(argv);
    std::vector<char*> cargs = CArgv(args);
    // What this supd took over so far must reach the old binary again; the binary's own fd
    // need not (an ELF binary runs from an fd that closes at exec).
    for (int fd : keep) (void)::fcntl(fd, F_SETFD, 0);
    (void)::fcntl(fallback_fd, F_SETFD, FD_CLOEXEC);
    ::syscall(SYS_execveat, fallback_fd, "", cargs.data(), environ, AT_EMPTY_PATH);
    spdlog::critical("daemon-reexec: execveat of the previous binary (fd {}): {}", fallback_fd,
                     ErrnoText(errno));
  }
  spdlog::critical(
      "daemon-reexec: exiting with status 1; the services keep running, "
      "unsupervised");
  spdlog::default_logger()->flush();
  std::_Exit(1);
}

namespace {
sigset_t DaemonSignals() {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&set, sig);
  return set;
}
}  // namespace

void BlockDaemonSignals() {
  const sigset_t set = DaemonSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

void UnblockDaemonSignals() {
  const sigset_t set = DaemonSignals();
  pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
}

}  // namespace supd
