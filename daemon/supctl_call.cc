#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/supctl.h"
#include "lib/base/unique_fd.h"
#include "lib/control/client.h"
#include "lib/control/dependency_tree.h"

namespace supd::supctl {

namespace {

// Whether standard output was a terminal when supctl started (before a pager replaced it).
bool StdoutIsTerminal() {
  static const bool tty = isatty(STDOUT_FILENO) == 1;
  return tty;
}

pid_t pager_pid = -1;

void WaitForPager() {
  if (pager_pid <= 0) return;
  std::fflush(stdout);
  UniqueFd(STDOUT_FILENO).reset();  // the pager sees the end of its input
  while (waitpid(pager_pid, nullptr, 0) < 0 && errno == EINTR) {
  }
  pager_pid = -1;
}

// The pager's words: split on blanks, or "sh -c TEXT" when it needs a shell (quotes, pipes…).
std::vector<std::string> PagerArgv(const std::string& pager) {
  if (pager.find_first_of("'\"\\|&;<>$`*?()") != std::string::npos) return {"sh", "-c", pager};
  std::vector<std::string> argv;
  std::istringstream words(pager);
  for (std::string w; words >> w;) argv.push_back(w);
  return argv;
}

// In the pager's child: the pager, else `more`, else a plain copy to the terminal. supctl has
// no other threads, so allocating here is safe.
[[noreturn]] void RunPager(const std::vector<std::string>& argv, pid_t parent) {
  // Gone with supctl (killed by Ctrl-C, say), not left reading the terminal.
  if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent) _exit(0);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  if (!argv.empty()) execvp(args[0], args.data());
  execlp("more", "more", static_cast<char*>(nullptr));
  char buf[65536];
  for (;;) {
    const ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) _exit(0);
    for (ssize_t off = 0; off < n;) {
      const ssize_t w = write(STDOUT_FILENO, buf + off, static_cast<size_t>(n - off));
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) _exit(1);
      off += w;
    }
  }
}

// Run by sudo, pkexec or set-uid: the pager must not give the user a shell (systemd's
// CVE-2023-26604). $SUPD_PAGERSECURE (or $SYSTEMD_PAGERSECURE) =1/0 overrides.
bool PagerMustBeSecure() {
  for (const char* name : {"SUPD_PAGERSECURE", "SYSTEMD_PAGERSECURE"}) {
    if (const char* v = std::getenv(name); v && *v) return std::string_view(v) != "0";
  }
  return std::getenv("SUDO_UID") || std::getenv("PKEXEC_UID") || getuid() != geteuid();
}

}  // namespace

bool ColorOn(const GlobalOptions& g) {
  return !g.no_color &&
         control::UseColor(StdoutIsTerminal(), std::getenv("NO_COLOR"), std::getenv("TERM"));
}

void StartPager(const GlobalOptions& g) {
  if (g.no_pager || !StdoutIsTerminal() || pager_pid > 0) return;
  if (const char* term = std::getenv("TERM"); term && std::string_view(term) == "dumb") return;
  std::string pager = "less";
  for (const char* name : {"SUPD_PAGER", "SYSTEMD_PAGER", "PAGER"}) {
    if (const char* v = std::getenv(name)) {
      pager = v;
      break;
    }
  }
  std::vector<std::string> argv = PagerArgv(pager);
  if (argv.empty() || argv == std::vector<std::string>{"cat"}) return;
  if (PagerMustBeSecure()) {
    // Only less, in its secure mode (no shell, no editor, no log file).
    if (argv.front() != "less") return;
    setenv("LESSSECURE", "1", 1);
  }
  // less's options are supctl's, as systemd sets them: $SUPD_LESS, else $SYSTEMD_LESS, else
  // FRXK (K: Ctrl-C quits it, which a user's own $LESS might not allow).
  const char* less = std::getenv("SUPD_LESS");
  if (!less) less = std::getenv("SYSTEMD_LESS");
  setenv("LESS", less ? less : "FRXK", 1);
  setenv("LESSCHARSET", "utf-8", 0);  // supctl prints UTF-8 (●, ×, │) whatever the locale
  auto pipe = OpenPipe("the pager");
  if (!pipe.ok()) return;  // unpaged
  std::fflush(stdout);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) return;
  if (pid == 0) {
    if (pipe->read.get() == STDIN_FILENO) {
      // supctl was started with stdin closed: the pipe took fd 0, close-on-exec.
      if (fcntl(STDIN_FILENO, F_SETFD, 0) < 0) _exit(1);
      (void)pipe->read.release();
    } else if (dup2(pipe->read.get(), STDIN_FILENO) < 0) {
      _exit(1);
    }
    pipe->write.reset();  // the copy fallback must see the end of its input
    RunPager(argv, parent);
  }
  pipe->read.reset();
  if (dup2(pipe->write.get(), STDOUT_FILENO) < 0) {
    // stdout is still the terminal: the pager ends on its empty input.
    pipe->write.reset();
    waitpid(pid, nullptr, 0);
    return;
  }
  pager_pid = pid;
  // A user who quits the pager early ends supctl's output, not supctl with SIGPIPE.
  signal(SIGPIPE, SIG_IGN);
  std::atexit(WaitForPager);
}

Outcome Call(const std::string& socket, const std::string& cmd, const nlohmann::json& args,
             std::optional<std::chrono::milliseconds> wait) {
  auto client = control::Client::Connect(socket);
  if (!client.ok()) {
    std::fprintf(stderr, "supctl: supd is not reachable: %s\n", client.error().message.c_str());
    return {kExitUnreachable, nullptr};
  }
  if (wait) client->SetTimeout(*wait);
  auto r = client->Call(cmd, args);
  if (!r.ok()) {
    std::fprintf(stderr, "supctl: %s\n", r.error().message.c_str());
    return {kExitUnreachable, nullptr};
  }
  const auto ok = r->find("ok");
  if (ok == r->end() || !ok->is_boolean() || !ok->get<bool>()) {
    std::string message = "failed";
    if (auto e = r->find("error"); e != r->end() && e->is_object())
      if (auto m = e->find("message"); m != e->end() && m->is_string()) message = *m;
    std::fprintf(stderr, "supctl: %s\n", message.c_str());
    return {kExitFailed, *r};
  }
  return {kExitOk, *r};
}

}  // namespace supd::supctl
