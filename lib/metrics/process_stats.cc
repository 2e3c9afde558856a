// ReadSelfProcessStats: supd's own process_* metrics from procfs, as Prometheus' client
// libraries read them (client_golang's procfs: stat's utime, stime, starttime, vsize and rss;
// btime from /proc/stat; the entries of /proc/self/fd; the soft RLIMIT_NOFILE).
#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "lib/base/unique_fd.h"
#include "lib/metrics/exposition.h"

namespace supd::metrics {
namespace {

// Reads `path` into `buf` from the start, at most `size` bytes; the length, or -1.
ssize_t ReadBounded(const char* path, char* buf, size_t size) {
  UniqueFd fd(::open(path, O_RDONLY | O_CLOEXEC));
  if (!fd) return -1;
  size_t got = 0;
  while (got < size) {
    const ssize_t n = ::read(fd.get(), buf + got, size - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  return static_cast<ssize_t>(got);
}

bool ParseU64(std::string_view s, uint64_t* out) {
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

// The boot time in seconds since the epoch: the "btime" line of /proc/stat, which comes after
// a line per CPU and the interrupt counters (tens of KiB on a large machine). Read in chunks,
// giving up after 1 MiB; 0 when not found.
uint64_t ReadBootTime() {
  UniqueFd fd(::open("/proc/stat", O_RDONLY | O_CLOEXEC));
  if (!fd) return 0;
  constexpr size_t kMaxBytes = 1 << 20;
  char buf[4096];
  size_t kept = 0;  // the start of a line carried over from the last chunk
  size_t total = 0;
  bool at_line_start = true;  // buf[0] begins a line
  while (total < kMaxBytes) {
    const ssize_t n = ::read(fd.get(), buf + kept, sizeof(buf) - kept);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return 0;
    total += static_cast<size_t>(n);
    std::string_view chunk(buf, kept + static_cast<size_t>(n));
    size_t nl;
    while ((nl = chunk.find('\n')) != std::string_view::npos) {
      const std::string_view line = chunk.substr(0, nl);
      if (at_line_start && line.starts_with("btime ")) {
        uint64_t t = 0;
        return ParseU64(line.substr(6), &t) ? t : 0;
      }
      at_line_start = true;
      chunk.remove_prefix(nl + 1);
    }
    // Keep a partial line's start if it may be "btime …" (that line is short); drop a long
    // one (an "intr" line of many KiB) and skip to its end.
    if (chunk.size() < 64) {
      std::memmove(buf, chunk.data(), chunk.size());
      kept = chunk.size();
    } else {
      kept = 0;
      at_line_start = false;
    }
  }
  return 0;
}

// Open fds: the entries of /proc/self/fd but the one that reads the directory.
std::optional<uint64_t> CountOpenFds() {
  DIR* dir = ::opendir("/proc/self/fd");  // O_CLOEXEC (glibc)
  if (dir == nullptr) return std::nullopt;
  const int own = ::dirfd(dir);
  uint64_t n = 0;
  while (const dirent* e = ::readdir(dir)) {
    uint64_t fd = 0;
    if (!ParseU64(e->d_name, &fd)) continue;  // "." and ".."
    if (fd != static_cast<uint64_t>(own)) ++n;
  }
  ::closedir(dir);
  return n;
}

}  // namespace

std::optional<ProcessStats> ReadSelfProcessStats() {
  // "pid (comm) state ppid …": comm may hold spaces and parentheses; the fields after it are
  // numbers. The whole line is well under 1 KiB.
  char buf[4096];
  const ssize_t len = ReadBounded("/proc/self/stat", buf, sizeof(buf));
  if (len <= 0) return std::nullopt;
  std::string_view stat(buf, static_cast<size_t>(len));
  const size_t paren = stat.rfind(')');
  if (paren == std::string_view::npos) return std::nullopt;
  stat.remove_prefix(paren + 1);
  // Fields 3.. of proc(5): index 0 is field 3 (state).
  constexpr size_t kUtime = 14 - 3, kStime = 15 - 3, kStart = 22 - 3, kVsize = 23 - 3,
                   kRss = 24 - 3;
  uint64_t fields[kRss + 1] = {};
  size_t index = 0;
  while (index <= kRss) {
    while (!stat.empty() && stat.front() == ' ') stat.remove_prefix(1);
    if (stat.empty()) return std::nullopt;
    const size_t end = std::min(stat.find(' '), stat.size());
    const std::string_view token = stat.substr(0, end);
    // The state is a letter; every other field read here is a non-negative number.
    if (index != 0 && !ParseU64(token, &fields[index])) {
      // Fields 4..13 may be negative (tty_nr, tpgid, -1); only those this reads must parse.
      if (index == kUtime || index == kStime || index >= kStart) return std::nullopt;
    }
    stat.remove_prefix(end);
    ++index;
  }
  const long ticks = ::sysconf(_SC_CLK_TCK);
  const long page = ::sysconf(_SC_PAGESIZE);
  if (ticks <= 0 || page <= 0) return std::nullopt;

  ProcessStats p;
  p.cpu_seconds = static_cast<double>(fields[kUtime] + fields[kStime]) / static_cast<double>(ticks);
  p.virtual_bytes = fields[kVsize];
  p.resident_bytes = fields[kRss] * static_cast<uint64_t>(page);
  // Boot time does not change while supd runs: /proc/stat is read once.
  static const uint64_t boot_time = ReadBootTime();
  if (boot_time > 0)
    p.start_time_seconds = static_cast<double>(boot_time) +
                           static_cast<double>(fields[kStart]) / static_cast<double>(ticks);
  p.open_fds = CountOpenFds();
  struct rlimit rl {};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0) p.max_fds = rl.rlim_cur;
  return p;
}

}  // namespace supd::metrics
