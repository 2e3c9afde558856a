#include "lib/log/service_log.h"

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

namespace supd {

std::string FormatRfc3339(int64_t realtime_usec) {
  const time_t secs = static_cast<time_t>(realtime_usec / 1000000);
  struct tm tm;
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(realtime_usec % 1000000));
  return buf;
}

int64_t RealtimeUsec() {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

int64_t MonotonicUsec() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

Result<std::unique_ptr<ServiceLog>> ServiceLog::Open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0) return ErrnoError("open log file " + path);
  return std::unique_ptr<ServiceLog>(new ServiceLog(path, UniqueFd(fd)));
}

void ServiceLog::Write(pid_t pid, std::string_view stream, std::string_view text) {
  std::string line = FormatRfc3339(RealtimeUsec());
  line += ' ';
  line += std::to_string(pid);
  line += ' ';
  line += stream;
  line += ": ";
  for (unsigned char c : text) {
    if (c == '\\') {
      line += "\\\\";
    } else if (c < 0x20 && c != '\t') {
      char esc[8];
      std::snprintf(esc, sizeof(esc), "\\x%02x", c);
      line += esc;
    } else {
      line += static_cast<char>(c);
    }
  }
  line += '\n';
  size_t off = 0;
  while (off < line.size()) {
    const ssize_t n = ::write(fd_.get(), line.data() + off, line.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      write_error_ = "write " + path_ + ": " + std::string(strerror(errno));
      break;
    }
    off += static_cast<size_t>(n);
  }
  if (off == line.size()) write_error_.clear();
  line.pop_back();
  // The tail is for status replies: a few lines, each kept short.
  constexpr size_t kTailLineMax = 1024;
  if (line.size() > kTailLineMax) {
    line.resize(kTailLineMax);
    line += "…";
  }
  tail_.push_back(std::move(line));
  if (tail_.size() > kTailLines) tail_.pop_front();
}

}  // namespace supd
