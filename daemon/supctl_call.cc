#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

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

// In the pager's child: the pager, else `more`, else a plain copy to the terminal. supctl has
// no other threads, so the environment is safe to read here.
[[noreturn]] void RunPager(const std::string& pager) {
  if (pager.find_first_of(" \t'\"|&;<>$") == std::string::npos) {
    execlp(pager.c_str(), pager.c_str(), static_cast<char*>(nullptr));
  } else {
    execl("/bin/sh", "sh", "-c", pager.c_str(), static_cast<char*>(nullptr));
  }
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

}  // namespace

bool ColorOn(const GlobalOptions& g) {
  return !g.no_color &&
         control::UseColor(StdoutIsTerminal(), std::getenv("NO_COLOR"), std::getenv("TERM"));
}

void StartPager(const GlobalOptions& g) {
  if (g.no_pager || !StdoutIsTerminal() || pager_pid > 0) return;
  std::string pager = "less";
  for (const char* name : {"SUPD_PAGER", "SYSTEMD_PAGER", "PAGER"}) {
    if (const char* v = std::getenv(name)) {
      pager = v;
      break;
    }
  }
  if (pager.empty() || pager == "cat") return;
  setenv("LESS", "FRXK", 0);
  auto pipe = OpenPipe("the pager");
  if (!pipe.ok()) return;  // unpaged
  std::fflush(stdout);
  const pid_t pid = fork();
  if (pid < 0) return;
  if (pid == 0) {
    if (dup2(pipe->read.get(), STDIN_FILENO) < 0) _exit(1);
    pipe->write.reset();  // the copy fallback must see the end of its input
    RunPager(pager);
  }
  pipe->read.reset();
  if (dup2(pipe->write.get(), STDOUT_FILENO) < 0) {
    // stdout is still the terminal: the pager ends on its empty input.
    pipe->write.reset();
    waitpid(pid, nullptr, 0);
    return;
  }
  pager_pid = pid;
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
