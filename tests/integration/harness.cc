#include "tests/integration/harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

extern char** environ;

namespace supd::integration {
namespace {

namespace fs = std::filesystem;

// Closes an fd on scope exit; the harness's own small RAII, the daemon's UniqueFd is not needed.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  int get() const { return fd_; }
  void reset(int fd = -1) {
    if (fd_ >= 0) close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

std::vector<std::string> MergedEnv(const std::vector<std::string>& extra) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string kv = *e;
    std::string name = kv.substr(0, kv.find('='));
    bool overridden = std::any_of(extra.begin(), extra.end(), [&](const std::string& x) {
      return x.substr(0, x.find('=')) == name;
    });
    if (!overridden) env.push_back(kv);
  }
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

int PidfdOpen(pid_t pid) { return static_cast<int>(syscall(SYS_pidfd_open, pid, 0)); }

// Waits for `pid` (our child) to exit for at most `timeout`; true and *status set when reaped.
bool WaitPidFor(pid_t pid, Ms timeout, int* status) {
  Fd pidfd(PidfdOpen(pid));
  auto deadline = Clock::now() + timeout;
  while (true) {
    pid_t r = waitpid(pid, status, WNOHANG);
    if (r == pid) return true;
    if (r < 0 && errno != EINTR) return false;
    auto left = std::chrono::duration_cast<Ms>(deadline - Clock::now());
    if (left <= 0ms) return false;
    if (pidfd.get() >= 0) {
      pollfd p{pidfd.get(), POLLIN, 0};
      poll(&p, 1, static_cast<int>(left.count()));
    } else {
      // No pidfd (old kernel): a short poll interval, bounded by the deadline.
      std::this_thread::sleep_for(std::min<Ms>(left, 10ms));
    }
  }
}

std::string DescribeWaitStatus(int status) {
  if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    return std::string("killed by signal ") + std::to_string(WTERMSIG(status)) + " (" +
           strsignal(WTERMSIG(status)) + ")";
  }
  return "raw wait status " + std::to_string(status);
}

std::string Tail(const std::string& text, size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  return "[...]\n" + text.substr(text.size() - max_bytes);
}

}  // namespace

SpawnAttr::SpawnAttr() {
  posix_spawnattr_init(&attr);
  sigset_t empty, all;
  sigemptyset(&empty);
  sigfillset(&all);
  sigdelset(&all, SIGKILL);
  sigdelset(&all, SIGSTOP);
  posix_spawnattr_setsigmask(&attr, &empty);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
}

SpawnAttr::~SpawnAttr() { posix_spawnattr_destroy(&attr); }

std::string CommandResult::Describe() const {
  std::ostringstream os;
  if (timed_out) {
    os << "timed out";
  } else if (term_signal != 0) {
    os << "killed by signal " << term_signal;
  } else {
    os << "exit " << exit_code;
  }
  os << ", stdout: '" << Tail(out, 4000) << "', stderr: '" << Tail(err, 4000) << "'";
  return os.str();
}

CommandResult RunCommand(const std::vector<std::string>& argv_in, Ms timeout,
                         const std::vector<std::string>& extra_env) {
  CommandResult result;
  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe2: " << strerror(errno);
    return result;
  }
  Fd out_r(out_pipe[0]), out_w(out_pipe[1]), err_r(err_pipe[0]), err_w(err_pipe[1]);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_w.get(), 1);
  posix_spawn_file_actions_adddup2(&actions, err_w.get(), 2);
  SpawnAttr attr;

  std::vector<std::string> argv = argv_in;
  std::vector<std::string> env = MergedEnv(extra_env);
  auto c_argv = CStrings(argv);
  auto c_env = CStrings(env);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, argv[0].c_str(), &actions, &attr.attr, c_argv.data(), c_env.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    ADD_FAILURE() << "posix_spawn " << argv[0] << ": " << strerror(rc);
    return result;
  }
  out_w.reset();
  err_w.reset();

  auto deadline = Clock::now() + timeout;
  bool out_open = true, err_open = true;
  char buf[65536];
  while (out_open || err_open) {
    auto left = std::chrono::duration_cast<Ms>(deadline - Clock::now());
    if (left <= 0ms) {
      result.timed_out = true;
      break;
    }
    pollfd fds[2] = {{out_open ? out_r.get() : -1, POLLIN, 0},
                     {err_open ? err_r.get() : -1, POLLIN, 0}};
    int n = poll(fds, 2, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      ssize_t got = read(fds[i].fd, buf, sizeof buf);
      if (got > 0) {
        (i == 0 ? result.out : result.err).append(buf, static_cast<size_t>(got));
      } else if (got == 0 || errno != EINTR) {
        (i == 0 ? out_open : err_open) = false;
      }
    }
  }
  int status = 0;
  if (result.timed_out) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return result;
  }
  // Both pipes at EOF; the process may still be finishing (or may have passed its pipes on).
  if (!WaitPidFor(pid, std::chrono::duration_cast<Ms>(deadline - Clock::now()) + 1ms, &status)) {
    result.timed_out = true;
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return result;
  }
  if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.term_signal = WTERMSIG(status);
  }
  return result;
}

std::string GoBin(const std::string& name) { return std::string(SUPD_GO_BIN_DIR) + "/" + name; }

bool WaitFor(const std::function<bool()>& predicate, Ms timeout, Ms interval) {
  auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (predicate()) return true;
    std::this_thread::sleep_for(interval);
  }
  return predicate();
}

ProcState GetProcState(pid_t pid) {
  if (pid <= 0) return ProcState::kGone;
  std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  // "pid (comm) S ...": comm may contain spaces and parens; the state follows the last ')'.
  size_t paren = stat.rfind(')');
  if (paren == std::string::npos || paren + 2 >= stat.size()) return ProcState::kGone;
  char state = stat[paren + 2];
  if (state == 'Z' || state == 'X' || state == 'x') return ProcState::kZombie;
  return ProcState::kAlive;
}

const char* ToString(ProcState state) {
  switch (state) {
    case ProcState::kGone:
      return "gone";
    case ProcState::kZombie:
      return "zombie";
    case ProcState::kAlive:
      return "alive";
  }
  return "?";
}

std::string ProcStatusField(pid_t pid, const std::string& field) {
  std::istringstream in(ReadFile("/proc/" + std::to_string(pid) + "/status"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) {
      std::string value = line.substr(field.size() + 1);
      value.erase(0, value.find_first_not_of(" \t"));
      value.erase(value.find_last_not_of(" \t") + 1);
      return value;
    }
  }
  return "";
}

std::string ProcCmdline(pid_t pid) {
  std::string cmdline = ReadFile("/proc/" + std::to_string(pid) + "/cmdline");
  std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
  return cmdline;
}

std::vector<pid_t> ChildrenOf(pid_t ppid) {
  std::vector<pid_t> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    std::string name = entry.path().filename();
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    std::string stat = ReadFile(entry.path().string() + "/stat");
    size_t paren = stat.rfind(')');
    if (paren == std::string::npos) continue;
    std::istringstream rest(stat.substr(paren + 2));
    std::string state;
    pid_t parent = 0;
    rest >> state >> parent;
    if (parent == ppid) out.push_back(std::stoi(name));
  }
  return out;
}

bool FileExists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

std::pair<std::string, std::string> ProcLimit(pid_t pid, const std::string& name) {
  std::istringstream in(ReadFile("/proc/" + std::to_string(pid) + "/limits"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(name, 0) != 0) continue;
    std::istringstream rest(line.substr(name.size()));
    std::string soft, hard;
    rest >> soft >> hard;
    return {soft, hard};
  }
  return {"", ""};
}

void WriteFile(const std::string& path, const std::string& content, mode_t mode) {
  std::string tmp = path + ".tmp-write";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << content;
    if (!out) {
      ADD_FAILURE() << "cannot write " << tmp;
      return;
    }
  }
  if (chmod(tmp.c_str(), mode) != 0 || rename(tmp.c_str(), path.c_str()) != 0) {
    ADD_FAILURE() << "cannot install " << path << ": " << strerror(errno);
  }
}

std::vector<pid_t> ReadPids(const std::string& path) {
  std::vector<pid_t> pids;
  std::istringstream in(ReadFile(path));
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    try {
      pids.push_back(std::stoi(line));
    } catch (const std::exception&) {
      // A line being written: ignore it, callers poll.
    }
  }
  return pids;
}

int CountLines(const std::string& path) {
  std::istringstream in(ReadFile(path));
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    if (!line.empty()) ++n;
  }
  return n;
}

int FreeTcpPort() {
  Fd s(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (bind(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return -1;
  socklen_t len = sizeof addr;
  if (getsockname(s.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) return -1;
  return ntohs(addr.sin_port);
}

namespace {

// Reads from `fd` into `out` until `stop(out)` holds, EOF, error or the deadline.
// Returns true on EOF.
bool ReadUntil(int fd, std::string& out, Clock::time_point deadline,
               const std::function<bool(const std::string&)>& stop) {
  char buf[8192];
  while (!stop(out)) {
    auto left = std::chrono::duration_cast<Ms>(deadline - Clock::now());
    if (left <= 0ms) return false;
    pollfd p{fd, POLLIN, 0};
    int n = poll(&p, 1, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) continue;
    ssize_t got = read(fd, buf, sizeof buf);
    if (got > 0) {
      out.append(buf, static_cast<size_t>(got));
    } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
      return true;
    }
  }
  return false;
}

bool WriteAll(int fd, const std::string& data, Clock::time_point deadline) {
  size_t done = 0;
  while (done < data.size()) {
    auto left = std::chrono::duration_cast<Ms>(deadline - Clock::now());
    if (left <= 0ms) return false;
    pollfd p{fd, POLLOUT, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    ssize_t n = send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n > 0) {
      done += static_cast<size_t>(n);
    } else if (n < 0 && errno != EINTR && errno != EAGAIN) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::optional<std::string> HttpGet(int port, Ms timeout) {
  auto deadline = Clock::now() + timeout;
  Fd s(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (connect(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return std::nullopt;
  if (!WriteAll(s.get(), "GET / HTTP/1.0\r\nHost: localhost\r\n\r\n", deadline))
    return std::nullopt;
  std::string response;
  if (!ReadUntil(s.get(), response, deadline, [](const std::string&) { return false; })) {
    return std::nullopt;
  }
  if (response.rfind("HTTP/1.", 0) != 0 || response.find(" 200 ") == std::string::npos) {
    return std::nullopt;
  }
  size_t body = response.find("\r\n\r\n");
  if (body == std::string::npos) return std::nullopt;
  return response.substr(body + 4);
}

bool HeyInstalled() { return access("/usr/bin/hey", X_OK) == 0; }

HeyReport RunHeyDuring(const std::string& url, Ms duration, int concurrency,
                       const std::function<void()>& during, bool keepalive) {
  HeyReport report;
  int out_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe2: " << strerror(errno);
    return report;
  }
  Fd out_r(out_pipe[0]), out_w(out_pipe[1]);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_w.get(), 1);
  posix_spawn_file_actions_adddup2(&actions, out_w.get(), 2);
  SpawnAttr attr;
  std::vector<std::string> argv = {"/usr/bin/hey",
                                   "-z",
                                   std::to_string(duration.count()) + "ms",
                                   "-c",
                                   std::to_string(concurrency),
                                   "-disable-keepalive",
                                   url};
  if (keepalive) argv.erase(argv.begin() + 5);
  std::vector<std::string> env = MergedEnv({});
  auto c_argv = CStrings(argv);
  auto c_env = CStrings(env);
  pid_t pid = -1;
  const int rc =
      posix_spawn(&pid, argv[0].c_str(), &actions, &attr.attr, c_argv.data(), c_env.data());
  posix_spawn_file_actions_destroy(&actions);
  out_w.reset();
  if (rc != 0) {
    ADD_FAILURE() << "posix_spawn " << argv[0] << ": " << strerror(rc);
    during();
    return report;
  }
  during();
  // hey writes its report at the end of its run: read until EOF (bounded by a generous
  // deadline past the run, in case hey hangs).
  ReadUntil(out_r.get(), report.output, Clock::now() + duration + 60s,
            [](const std::string&) { return false; });
  int status = 0;
  if (!WaitPidFor(pid, 10s, &status)) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
  }
  // "Status code distribution:\n  [200]\t1234 responses\n..." and
  // "Error distribution:\n  [12]\tGet \"http://...\": EOF\n...".
  auto number = [](const std::string& text) {
    int n = 0;
    const char* begin = text.data();
    while (begin < text.data() + text.size() && (*begin == ' ' || *begin == '\t')) ++begin;
    std::from_chars(begin, text.data() + text.size(), n);
    return n;
  };
  std::istringstream in(report.output);
  std::string line, section;
  while (std::getline(in, line)) {
    if (line.find("Status code distribution") != std::string::npos) {
      section = "status";
      report.summarized = true;
      continue;
    }
    if (line.find("Error distribution") != std::string::npos) {
      section = "error";
      continue;
    }
    const size_t lb = line.find('['), rb = line.find(']');
    if (section.empty() || lb == std::string::npos || rb == std::string::npos || rb < lb) {
      if (line.empty() || line.find('[') == std::string::npos) section.clear();
      continue;
    }
    if (section == "status") {
      const int count = number(line.substr(rb + 1));
      (line.substr(lb + 1, rb - lb - 1) == "200" ? report.ok : report.failed) += count;
    } else {
      report.failed += number(line.substr(lb + 1, rb - lb - 1));
    }
  }
  if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0)) report.summarized = false;
  return report;
}

RawClient::RawClient(const std::string& socket_path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, socket_path.c_str(), sizeof addr.sun_path - 1);
  if (fd >= 0 && connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    fd = -1;
  }
  fd_ = fd;
}

RawClient::~RawClient() {
  if (fd_ >= 0) close(fd_);
}

bool RawClient::Send(const std::string& data, Ms timeout) {
  return fd_ >= 0 && WriteAll(fd_, data, Clock::now() + timeout);
}

std::optional<std::string> RawClient::ReadLine(Ms timeout) {
  if (fd_ < 0) return std::nullopt;
  bool eof = ReadUntil(fd_, buffer_, Clock::now() + timeout,
                       [](const std::string& buf) { return buf.find('\n') != std::string::npos; });
  size_t nl = buffer_.find('\n');
  if (nl == std::string::npos) {
    if (eof) closed_ = true;
    return std::nullopt;
  }
  std::string line = buffer_.substr(0, nl);
  buffer_.erase(0, nl + 1);
  return line;
}

std::optional<RawReply> RawControlRequest(const std::string& socket_path,
                                          const std::string& payload, Ms timeout) {
  RawClient client(socket_path);
  if (!client.connected()) return std::nullopt;
  RawReply reply;
  // The peer may answer (and close) before it has read all of an oversized request; a failed
  // write is then not an error of the exchange, the reply is what counts.
  bool wrote = client.Send(payload, timeout);
  auto line = client.ReadLine(timeout);
  if (line) {
    reply.line = *line;
  } else {
    reply.closed = client.closed() || !wrote;
  }
  return reply;
}

std::string Subst(std::string text, const std::map<std::string, std::string>& vars) {
  for (const auto& [key, value] : vars) {
    std::string pattern = "{" + key + "}";
    for (size_t pos = text.find(pattern); pos != std::string::npos;
         pos = text.find(pattern, pos + value.size())) {
      text.replace(pos, pattern.size(), value);
    }
  }
  return text;
}

// ---------------------------------------------------------------------------------------------

void SupdTest::SetUp() {
  // Whatever supd leaves behind when it exits becomes our child: see TearDown().
  ASSERT_EQ(0, prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)) << strerror(errno);
  char tmpl[] = "/tmp/supd-it-XXXXXX";
  ASSERT_NE(nullptr, mkdtemp(tmpl)) << strerror(errno);
  dir_ = tmpl;
  // 0755 so that `nobody` (User=, supctl as another user) can reach the socket and files.
  ASSERT_EQ(0, chmod(dir_.c_str(), 0755));
  units_dir_ = dir_ + "/units";
  log_dir_ = dir_ + "/logs";
  state_dir_ = dir_ + "/state";
  socket_ = dir_ + "/supd.sock";
  supd_stderr_ = dir_ + "/supd.stderr";
  for (const auto& d : {units_dir_, log_dir_, state_dir_}) {
    ASSERT_EQ(0, mkdir(d.c_str(), 0755)) << d << ": " << strerror(errno);
  }
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::cerr << "[harness] " << info->test_suite_name() << "." << info->name() << " in " << dir_
            << "\n";
}

void SupdTest::WriteUnit(const std::string& name, const std::string& content) {
  WriteFile(units_dir_ + "/" + name, Subst(content, {{"go", SUPD_GO_BIN_DIR}, {"dir", dir_}}));
}

void SupdTest::RemoveUnit(const std::string& name) {
  std::error_code ec;
  fs::remove(units_dir_ + "/" + name, ec);
}

void SupdTest::StartSupd(const SupdOptions& options) {
  ASSERT_EQ(-1, supd_pid_) << "supd already running";
  std::vector<std::string> argv = options.wrapper;
  for (const std::string& a :
       {options.binary.empty() ? std::string(SUPD_BIN) : options.binary, std::string("--units"), units_dir_, std::string("--control-socket"),
        socket_, std::string("--log-dir"), log_dir_, std::string("--state-dir"), state_dir_,
        std::string("--log-level"), std::string("debug")}) {
    argv.push_back(a);
  }
  argv.insert(argv.end(), options.extra_args.begin(), options.extra_args.end());
  // SUPD_TEST_LEAK: supd's own environment must not reach the services (envdump checks).
  std::vector<std::string> extra_env = {"SUPD_TEST_LEAK=1"};
  extra_env.insert(extra_env.end(), options.extra_env.begin(), options.extra_env.end());
  std::vector<std::string> env = MergedEnv(extra_env);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, supd_stderr_.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                   0644);
  if (options.stderr_fd >= 0) {
    posix_spawn_file_actions_adddup2(&actions, options.stderr_fd, 2);
  } else {
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
  }
  SpawnAttr attr;
  auto c_argv = CStrings(argv);
  auto c_env = CStrings(env);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, argv[0].c_str(), &actions, &attr.attr, c_argv.data(), c_env.data());
  posix_spawn_file_actions_destroy(&actions);
  ASSERT_EQ(0, rc) << "posix_spawn " << argv[0] << ": " << strerror(rc);
  supd_pid_ = pid;
  supd_own_pid_ = pid;
  supd_started_ = true;
  supd_stopped_ = false;

  CommandResult last;
  bool up = WaitFor(
      [&] {
        if (!SupdAlive()) return true;
        last = Supctl({"version"});
        return last.exit_code == 0;
      },
      options.ready_timeout, 20ms);
  ASSERT_TRUE(SupdAlive()) << "supd exited during start-up" << SupdContext();
  ASSERT_TRUE(up) << "supd did not answer `supctl version` within " << options.ready_timeout.count()
                  << " ms; last: " << last.Describe() << SupdContext();
  if (options.wrapper_forks) {
    // supd answered, so the wrapper's child has exec'd it.
    const std::vector<pid_t> children = ChildrenOf(pid);
    ASSERT_EQ(1u, children.size()) << "the wrapper " << argv[0] << " has " << children.size()
                                   << " children; expected supd alone" << SupdContext();
    supd_own_pid_ = children[0];
  }
}

void SupdTest::KillSupd() {
  ASSERT_GT(supd_pid_, 0);
  // Under a forking wrapper, supd alone: the wrapper reaps it and ends of the same signal.
  kill(supd_own_pid_, SIGKILL);
  int status = 0;
  waitpid(supd_pid_, &status, 0);
  supd_pid_ = -1;
  supd_exit_status_ = status;
  supd_stopped_ = true;
}

bool SupdTest::SupdAlive() {
  if (supd_pid_ < 0) return false;
  int status = 0;
  pid_t r = waitpid(supd_pid_, &status, WNOHANG);
  if (r == supd_pid_) {
    supd_exit_status_ = status;
    supd_pid_ = -1;
    return false;
  }
  return true;
}

int SupdTest::StopSupd(Ms timeout) {
  int status = supd_exit_status_;
  if (supd_pid_ >= 0 && SupdAlive()) {
    supd_stopped_ = true;
    kill(supd_own_pid_, SIGTERM);
    if (!WaitPidFor(supd_pid_, timeout, &status)) {
      kill(supd_own_pid_, SIGKILL);
      waitpid(supd_pid_, &status, 0);
      supd_pid_ = -1;
      supd_exit_status_ = status;
      return -2;
    }
    supd_pid_ = -1;
    supd_exit_status_ = status;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int SupdTest::WaitSupdExit(Ms timeout) {
  int status = supd_exit_status_;
  if (supd_pid_ >= 0 && !WaitPidFor(supd_pid_, timeout, &status)) return -2;
  supd_stopped_ = true;
  supd_pid_ = -1;
  supd_exit_status_ = status;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

CommandResult SupdTest::Supctl(const std::vector<std::string>& args,
                               const std::vector<std::string>& wrapper) {
  std::vector<std::string> argv = wrapper;
  argv.push_back(SUPCTL_BIN);
  argv.push_back("--socket");
  argv.push_back(socket_);
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv, 60s);
}

std::optional<nlohmann::json> SupdTest::StatusAll() {
  CommandResult r = Supctl({"status", "--json"});
  if (r.exit_code != 0) return std::nullopt;
  auto j = nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  if (!j.is_array()) return std::nullopt;
  return j;
}

std::optional<nlohmann::json> SupdTest::Status(const std::string& name) {
  CommandResult r = Supctl({"status", name, "--json"});
  if (r.exit_code != 0) return std::nullopt;
  auto j = nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  if (!j.is_array()) return std::nullopt;
  std::string full = name.find('.') == std::string::npos ? name + ".service" : name;
  for (const auto& obj : j) {
    if (obj.is_object() && obj.value("name", "") == full) return obj;
  }
  return std::nullopt;
}

std::string SupdTest::State(const std::string& name) {
  auto s = Status(name);
  if (!s || !s->contains("state") || !(*s)["state"].is_string()) return "";
  return (*s)["state"].get<std::string>();
}

pid_t SupdTest::MainPid(const std::string& name) {
  auto s = Status(name);
  if (!s || !s->contains("main_pid") || !(*s)["main_pid"].is_number_integer()) return 0;
  return (*s)["main_pid"].get<pid_t>();
}

int SupdTest::Restarts(const std::string& name) {
  auto s = Status(name);
  if (!s || !s->contains("restarts") || !(*s)["restarts"].is_number_integer()) return -1;
  return (*s)["restarts"].get<int>();
}

bool SupdTest::WaitForState(const std::string& name, const std::string& state, Ms timeout) {
  return WaitFor([&] { return State(name) == state; }, timeout);
}

pid_t SupdTest::WaitForRunning(const std::string& name, Ms timeout) {
  pid_t pid = 0;
  WaitFor(
      [&] {
        auto s = Status(name);
        if (!s || s->value("state", "") != "running") return false;
        if (!(*s)["main_pid"].is_number_integer()) return false;
        pid = (*s)["main_pid"].get<pid_t>();
        return pid > 0;
      },
      timeout);
  return pid;
}

std::string SupdTest::LogPath(const std::string& service) const {
  std::string full = service.find('.') == std::string::npos ? service + ".service" : service;
  return log_dir_ + "/" + full + ".log";
}

bool SupdTest::WaitForLog(const std::string& service, const std::string& needle, Ms timeout) {
  return WaitFor([&] { return ServiceLog(service).find(needle) != std::string::npos; }, timeout);
}

std::string SupdTest::SupdContext() const {
  std::ostringstream os;
  os << "\n--- supd (pid " << supd_pid_ << ") stderr, last part ---\n"
     << Tail(SupdStderr(), 1500) << "--- end of supd stderr ---";
  return os.str();
}

void SupdTest::KillLeftovers() {
  std::vector<pid_t> pids = tracked_pids_;
  for (const auto& f : tracked_pid_files_) {
    auto more = ReadPids(f);
    pids.insert(pids.end(), more.begin(), more.end());
  }
  std::vector<pid_t> killed;
  for (pid_t pid : pids) {
    if (GetProcState(pid) == ProcState::kAlive) {
      ADD_FAILURE() << "tracked process " << pid << " (" << ProcCmdline(pid)
                    << ") still alive at teardown; killing it";
      kill(pid, SIGKILL);
      killed.push_back(pid);
    }
  }
  // Orphans of supd are reparented to us (subreaper). Anything still our child now is a
  // process supd left behind.
  for (int round = 0; round < 3; ++round) {
    auto children = ChildrenOf(getpid());
    if (children.empty()) break;
    for (pid_t pid : children) {
      ProcState st = GetProcState(pid);
      if (st == ProcState::kAlive) {
        ADD_FAILURE() << "process " << pid << " (" << ProcCmdline(pid)
                      << ") was left running after supd exited; killing it";
        kill(pid, SIGKILL);
      } else if (st == ProcState::kZombie &&
                 std::find(killed.begin(), killed.end(), pid) == killed.end()) {
        ADD_FAILURE() << "process " << pid
                      << " was still a child of supd, unreaped, when supd exited";
      }
      int status;
      // Reaped here, whether it was a zombie or just killed (SIGKILL cannot be ignored).
      waitpid(pid, &status, 0);
    }
  }
}

void SupdTest::TearDown() {
  if (supd_started_ && !supd_stopped_ && !SupdAlive()) {
    ADD_FAILURE() << "supd exited by itself during the test: "
                  << DescribeWaitStatus(supd_exit_status_);
  }
  if (supd_pid_ >= 0 && SupdAlive()) {
    int code = StopSupd(30s);
    EXPECT_EQ(0, code) << "supd did not exit 0 within 30 s of SIGTERM"
                       << (code == -2 ? " (timed out, SIGKILLed)" : "") << ": "
                       << DescribeWaitStatus(supd_exit_status_);
  }
  KillLeftovers();
  if (HasFailure()) {
    std::cerr << "[harness] test failed; kept " << dir_ << "\n--- supd stderr, last part ---\n"
              << Tail(SupdStderr(), 8000) << "--- end of supd stderr ---\n";
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(log_dir_, ec)) {
      std::cerr << "--- " << entry.path().string() << " ---\n"
                << Tail(ReadFile(entry.path()), 3000) << "\n";
    }
  } else if (!dir_.empty()) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
}

}  // namespace supd::integration
