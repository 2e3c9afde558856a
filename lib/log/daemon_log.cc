#include "lib/log/daemon_log.h"

#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <string_view>
#include <cstdlib>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/sinks/systemd_sink.h>
#include <spdlog/spdlog.h>

namespace supd {

bool FdIsJournalStream(const char* journal_stream, int fd) {
  if (!journal_stream) return false;
  // "DEVICE:INODE", both decimal (systemd.exec(5)).
  const std::string_view text(journal_stream);
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos) return false;
  unsigned long long dev = 0, ino = 0;
  const char* end = text.data() + text.size();
  auto d = std::from_chars(text.data(), text.data() + colon, dev);
  if (d.ec != std::errc() || d.ptr != text.data() + colon || colon == 0) return false;
  auto i = std::from_chars(text.data() + colon + 1, end, ino);
  if (i.ec != std::errc() || i.ptr != end || colon + 1 == text.size()) return false;
  struct stat st;
  if (::fstat(fd, &st) < 0) return false;
  return static_cast<unsigned long long>(st.st_dev) == dev &&
         static_cast<unsigned long long>(st.st_ino) == ino;
}

std::string SetUpDaemonLog(const std::string& level) {
  std::string where;
  if (FdIsJournalStream(std::getenv("JOURNAL_STREAM"), STDERR_FILENO)) {
    // journald adds its own timestamp and pid; the level becomes PRIORITY=.
    auto sink = std::make_shared<spdlog::sinks::systemd_sink_st>("supd");
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("supd", sink));
    where = "journal";
  } else {
    spdlog::set_default_logger(spdlog::stderr_logger_st("supd"));
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%f%z supd[%P] %l: %v");
    where = "stderr";
  }
  spdlog::set_level(spdlog::level::from_str(level));
  return where;
}

}  // namespace supd
