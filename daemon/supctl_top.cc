// `supctl top`: supd's units, refreshed, on the whole terminal (lib/control/top_view.h draws
// the frame). Plain ANSI: the alternate screen, a hidden cursor, no echo and no line editing;
// all of it is put back however top ends (q, Ctrl-C, SIGTERM, SIGHUP, an error, supd gone),
// and then the reason is printed. Ctrl-Z gives the terminal back to the shell while top is
// stopped; fg brings the view back. One connection; per refresh one `status` and one `version`
// request and a read of /proc/<supd's pid>/stat; no log file is read.
//
// --once prints one frame and exits. CPU% needs two samples: --once takes them 200 ms apart,
// so its CPU% is the use over those 200 ms. The interactive view shows "-" until its second
// sample.
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>

#include "daemon/supctl.h"
#include "lib/base/unique_fd.h"
#include "lib/control/client.h"
#include "lib/control/top_view.h"
#include "lib/unit/unit_loader.h"

namespace supd::supctl {
namespace {

using std::chrono::milliseconds;
using Sort = control::TopSort;

struct TopArgs {
  bool once = false;
  std::string sort = "cpu";
  std::string interval = "1s";
};

int64_t NowUsec(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000 + ts.tv_nsec / 1000;
}

// supd's figures from /proc; nullopt when they cannot be read or the pid is not a supd's (supd
// in another pid namespace).
std::optional<control::ProcFigures> ReadSupdProc(const nlohmann::json& version) {
  if (!version.is_object() || !version.contains("pid") || !version["pid"].is_number_unsigned())
    return std::nullopt;
  std::ifstream in("/proc/" + std::to_string(version["pid"].get<uint64_t>()) + "/stat");
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  const long ticks = sysconf(_SC_CLK_TCK);
  const long page = sysconf(_SC_PAGESIZE);
  if (ticks <= 0 || page <= 0) return std::nullopt;
  auto f =
      control::ParseProcStat(text.str(), static_cast<uint64_t>(ticks), static_cast<uint64_t>(page));
  if (!f || f->comm.rfind("supd", 0) != 0) return std::nullopt;
  return f;
}

// One connection to supd, opened again once when it breaks (a daemon-reexec closes it).
class Sampler {
 public:
  Sampler(std::string socket, milliseconds timeout)
      : socket_(std::move(socket)), timeout_(timeout) {}

  // A sample, or why there is none; `*unreachable` tells whether supd could not be reached.
  Result<control::TopSample> Take(bool* unreachable) {
    *unreachable = false;
    for (int attempt = 0;; ++attempt) {
      if (!client_) {
        auto c = control::Client::Connect(socket_);
        if (!c.ok()) {
          *unreachable = true;
          return Error{"supd is not reachable: " + c.error().message};
        }
        client_.emplace(std::move(*c));
        client_->SetTimeout(timeout_);
      }
      control::TopSample s;
      auto status = client_->Call("status", nlohmann::json::object());
      auto version = status.ok() ? client_->Call("version", nlohmann::json::object()) : status;
      if (!status.ok() || !version.ok()) {
        client_.reset();
        if (attempt == 0) continue;
        *unreachable = true;
        return Error{"supd went away: " + (status.ok() ? version : status).error().message};
      }
      for (const nlohmann::json* r : {&*status, &*version}) {
        if (r->value("ok", false)) continue;
        std::string message = "failed";
        if (auto e = r->find("error"); e != r->end() && e->is_object())
          if (auto m = e->find("message"); m != e->end() && m->is_string()) message = *m;
        return Error{message};
      }
      s.units = (*status)["result"];
      s.version = (*version)["result"];
      s.supd = ReadSupdProc(s.version);
      s.monotonic_usec = NowUsec(CLOCK_MONOTONIC);
      s.realtime_usec = NowUsec(CLOCK_REALTIME);
      return s;
    }
  }

 private:
  std::string socket_;
  milliseconds timeout_;
  std::optional<control::Client> client_;
};

// Writes all of `data` to standard output (false when it cannot: the terminal is gone).
bool WriteOut(std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = write(STDOUT_FILENO, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// The terminal in top's modes while it lives; its destructor puts back what was there.
class Screen {
 public:
  // Sets the modes (again, after a stop: the shell had the terminal meanwhile). False when
  // they cannot be set; the terminal is then as it was.
  bool Enter() {
    if (!entered_ && tcgetattr(STDIN_FILENO, &saved_) != 0) return false;
    termios raw = saved_;
    // No echo and no line editing; signals stay on (Ctrl-C is a SIGINT, Ctrl-Z a SIGTSTP, both
    // read from the signalfd).
    raw.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO);
    raw.c_cc[VMIN] = 1;
    raw.c_cc[VTIME] = 0;
    if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) != 0) return false;
    entered_ = true;
    WriteOut("\x1b[?1049h\x1b[?25l");
    return true;
  }
  void Leave() {
    if (!entered_) return;
    entered_ = false;
    // Cursor shown, normal screen back, then the modes (TCSAFLUSH: keys typed meanwhile are
    // not left for the shell).
    WriteOut("\x1b[0m\x1b[?25h\x1b[?1049l");
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_);
  }
  ~Screen() { Leave(); }

 private:
  termios saved_{};  // the modes before Enter; valid while entered_
  bool entered_ = false;
};

struct Size {
  size_t width = 80;
  size_t height = 24;
};

Size TerminalSize() {
  winsize ws{};
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) != 0 || ws.ws_col == 0 || ws.ws_row == 0) return {};
  return {ws.ws_col, ws.ws_row};
}

// Each line at its row, the row cleared first (clearing after the text would erase the last
// column of a full line on some terminals); below the frame, cleared. No newline is written,
// so the screen never scrolls.
std::string Paint(const std::vector<std::string>& lines, size_t rows) {
  std::string out = "\x1b[H";
  for (size_t i = 0; i < lines.size(); ++i)
    out += "\x1b[" + std::to_string(i + 1) + ";1H\x1b[2K" + lines[i];
  // A move below the last row stops at it: clearing from there would erase the frame's end.
  if (lines.size() < rows) out += "\x1b[" + std::to_string(lines.size() + 1) + ";1H\x1b[J";
  return out;
}

std::optional<Sort> SortForKey(char key) {
  switch (key) {
    case 'c':
    case 'P':
      return Sort::kCpu;
    case 'm':
    case 'M':
      return Sort::kMemory;
    case 'r':
    case 'R':
      return Sort::kRestarts;
    case 'n':
    case 'N':
      return Sort::kName;
    default:
      return std::nullopt;
  }
}

int Once(Sampler* sampler, Sort sort, bool color) {
  bool unreachable = false;
  auto first = sampler->Take(&unreachable);
  if (first.ok()) {
    std::this_thread::sleep_for(milliseconds(200));
    auto second = sampler->Take(&unreachable);
    if (second.ok()) {
      control::TopOptions o;
      o.sort = sort;
      o.color = color;
      o.width = 0;
      if (isatty(STDOUT_FILENO) == 1) o.width = TerminalSize().width;
      for (const auto& line : control::TopFrame(*second, &*first, o))
        std::printf("%s\n", line.c_str());
      return kExitOk;
    }
    first = std::move(second);
  }
  std::fprintf(stderr, "supctl: %s\n", first.error().message.c_str());
  return unreachable ? kExitUnreachable : kExitFailed;
}

// Why the interactive view ended: printed after the terminal is back; the exit code.
struct Ending {
  int code = kExitOk;
  std::string reason;  // "" for q and Ctrl-C
};

// What the view shows; `dirty` when it must be drawn again.
struct View {
  Sort sort;
  Size size;
  bool dirty = true;
};

// A signal read from the signalfd: how top ends, or nullopt when it goes on.
std::optional<Ending> OnSignal(int sig, Screen* screen, View* view) {
  if (sig == SIGWINCH) {
    view->size = TerminalSize();
    view->dirty = true;
    return std::nullopt;
  }
  if (sig == SIGTSTP || sig == SIGCONT) {
    // Ctrl-Z: the terminal back to the shell, then stopped as the default action would stop
    // us; continued (by fg, or after a stop from elsewhere), the view again.
    if (sig == SIGTSTP) {
      screen->Leave();
      raise(SIGSTOP);
    }
    if (!screen->Enter())
      return Ending{kExitFailed,
                    std::string("setting the terminal's modes again: ") + std::strerror(errno)};
    view->size = TerminalSize();
    view->dirty = true;
    return std::nullopt;
  }
  if (sig == SIGINT) return Ending{};
  return Ending{128 + sig, std::string("ended by SIG") + sigabbrev_np(sig)};
}

// Keys read from the terminal: how top ends, or nullopt when it goes on.
std::optional<Ending> OnKeys(std::string_view keys, View* view) {
  for (char key : keys) {
    // An escape sequence (an arrow key, F1 = ESC O P) is not a key of ours: the rest of the
    // read is skipped.
    if (key == '\x1b') break;
    if (key == 'q' || key == 'Q') return Ending{};
    if (key == '\x0c') view->dirty = true;  // Ctrl-L
    if (auto s = SortForKey(key)) {
      view->sort = *s;
      view->dirty = true;
    }
  }
  return std::nullopt;
}

Ending Loop(Screen* screen, Sampler* sampler, int signal_fd, milliseconds interval, Sort sort,
            bool color, control::TopSample first) {
  using Clock = std::chrono::steady_clock;
  std::optional<control::TopSample> previous;
  control::TopSample current = std::move(first);
  View view{sort, TerminalSize()};
  Clock::time_point next = Clock::now() + interval;
  for (;;) {
    if (view.dirty) {
      control::TopOptions o;
      o.sort = view.sort;
      o.color = color;
      o.width = view.size.width;
      o.height = view.size.height;
      o.hint = std::string("keys: q quit, sort by c cpu, m memory, r restarts, n name  (sort: ") +
               control::TopSortName(view.sort) + ")";
      if (!WriteOut(Paint(control::TopFrame(current, previous ? &*previous : nullptr, o),
                          view.size.height)))
        return {kExitFailed, std::string("writing to the terminal: ") + std::strerror(errno)};
      view.dirty = false;
    }
    const auto wait = std::chrono::duration_cast<milliseconds>(next - Clock::now());
    pollfd fds[2] = {{STDIN_FILENO, POLLIN, 0}, {signal_fd, POLLIN, 0}};
    const int n = poll(fds, 2, static_cast<int>(std::max<int64_t>(wait.count(), 0)));
    if (n < 0 && errno != EINTR)
      return {kExitFailed, std::string("poll on the terminal: ") + std::strerror(errno)};
    if (n > 0 && (fds[1].revents & POLLIN)) {
      signalfd_siginfo si{};
      if (read(signal_fd, &si, sizeof si) == static_cast<ssize_t>(sizeof si))
        if (auto end = OnSignal(static_cast<int>(si.ssi_signo), screen, &view)) return *end;
    }
    if (n > 0 && (fds[0].revents & POLLIN)) {
      char keys[64];
      const ssize_t got = read(STDIN_FILENO, keys, sizeof keys);
      if (got == 0) return {kExitOk, "the terminal closed"};
      if (got < 0 && errno != EINTR && errno != EAGAIN)
        return {kExitFailed, std::string("reading the terminal: ") + std::strerror(errno)};
      if (got > 0)
        if (auto end = OnKeys(std::string_view(keys, static_cast<size_t>(got)), &view)) return *end;
    } else if (n > 0 && (fds[0].revents & (POLLHUP | POLLERR))) {
      return {kExitOk, "the terminal closed"};
    }
    if (Clock::now() >= next) {
      bool unreachable = false;
      auto s = sampler->Take(&unreachable);
      if (!s.ok()) return {unreachable ? kExitUnreachable : kExitFailed, s.error().message};
      previous = std::move(current);
      current = std::move(*s);
      next = Clock::now() + interval;
      view.dirty = true;
    }
  }
}

int Interactive(Sampler* sampler, milliseconds interval, Sort sort, bool color) {
  if (isatty(STDIN_FILENO) != 1 || isatty(STDOUT_FILENO) != 1) {
    std::fprintf(stderr,
                 "supctl: top needs a terminal on standard input and output; --once prints one "
                 "frame\n");
    return kExitUsage;
  }
  // The signals that end or resize the view come through a signalfd, read in the poll loop;
  // blocked, they cannot interrupt a write half done.
  sigset_t set;
  sigemptyset(&set);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGWINCH, SIGTSTP, SIGCONT}) sigaddset(&set, sig);
  sigset_t old;
  if (sigprocmask(SIG_BLOCK, &set, &old) != 0) {
    std::fprintf(stderr, "supctl: blocking signals for top: %s\n", std::strerror(errno));
    return kExitFailed;
  }
  UniqueFd signal_fd(signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!signal_fd) {
    std::fprintf(stderr, "supctl: signalfd for top: %s\n", std::strerror(errno));
    return kExitFailed;
  }
  // The first sample before the screen changes: an unreachable supd is said on the plain
  // terminal.
  bool unreachable = false;
  auto first = sampler->Take(&unreachable);
  if (!first.ok()) {
    std::fprintf(stderr, "supctl: %s\n", first.error().message.c_str());
    return unreachable ? kExitUnreachable : kExitFailed;
  }
  Ending end;
  {
    Screen screen;
    if (!screen.Enter()) {
      std::fprintf(stderr, "supctl: setting the terminal's modes for top: %s\n",
                   std::strerror(errno));
      return kExitFailed;
    }
    end = Loop(&screen, sampler, signal_fd.get(), interval, sort, color, std::move(*first));
  }
  if (!end.reason.empty()) std::fprintf(stderr, "supctl: top: %s\n", end.reason.c_str());
  return end.code;
}

int Top(const TopArgs& a, const GlobalOptions& g) {
  const std::optional<Sort> sort = control::ParseTopSort(a.sort);
  auto span = ParseTimeSpan(a.interval);
  if (!sort || !span.ok() || *span == kInfinity || *span < milliseconds(100)) {
    std::fprintf(stderr, "supctl: top: --interval: '%s' is not a time span of 100ms or more\n",
                 a.interval.c_str());
    return kExitUsage;
  }
  Sampler sampler(g.socket, g.timeout.value_or(std::chrono::seconds(10)));
  const milliseconds interval = std::chrono::duration_cast<milliseconds>(*span);
  if (a.once) return Once(&sampler, *sort, ColorOn(g));
  return Interactive(&sampler, interval, *sort, ColorOn(g));
}

}  // namespace

void AddTopVerbs(CLI::App& app, Verbs* verbs) {
  auto args = std::make_shared<TopArgs>();
  CLI::App* top = app.add_subcommand(
      "top", "show the units' state, CPU and memory, refreshed (q quits; c, m, r, n sort)");
  top->add_flag("--once", args->once,
                "print one frame and exit (CPU% over 200 ms between two samples)");
  top->add_option("--sort", args->sort, "cpu, memory, restarts or name")
      ->check(CLI::IsMember({"cpu", "memory", "restarts", "name"}))
      ->capture_default_str();
  top->add_option("--interval", args->interval, "time between refreshes (at least 100ms)")
      ->capture_default_str();
  verbs->push_back({top, [args](const GlobalOptions& g) { return Top(*args, g); }});
}

}  // namespace supd::supctl
