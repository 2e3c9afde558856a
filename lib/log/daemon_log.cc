#include "lib/log/daemon_log.h"

#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <string_view>
#include <cstdlib>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>
#include <syslog.h>

#include <mutex>
#include <string>

#include "lib/base/libsystemd.h"

namespace supd {

namespace {

// supd's own log as journal entries (MESSAGE=, PRIORITY=, SYSLOG_IDENTIFIER=), through
// libsystemd's sd_journal_sendv, loaded when supd first logs under journald. Thread-safe, as
// the stderr logger below: the loop logs, and so may the blocking worker.
class JournalSink final : public spdlog::sinks::base_sink<std::mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    static constexpr int kPriority[] = {LOG_DEBUG, LOG_DEBUG, LOG_INFO,  LOG_WARNING,
                                        LOG_ERR,   LOG_CRIT,  LOG_NOTICE};
    const auto level = static_cast<size_t>(msg.level);
    const int prio = level < std::size(kPriority) ? kPriority[level] : LOG_INFO;
    const std::string message = "MESSAGE=" + std::string(msg.payload.data(), msg.payload.size());
    const std::string priority = "PRIORITY=" + std::to_string(prio);
    static const std::string identifier = "SYSLOG_IDENTIFIER=supd";
    const iovec iov[] = {{const_cast<char*>(message.data()), message.size()},
                         {const_cast<char*>(priority.data()), priority.size()},
                         {const_cast<char*>(identifier.data()), identifier.size()}};
    if (JournalSendv(iov, 3) < 0) {
      // journald refused the entry, or libsystemd could not be loaded: the line goes to stderr,
      // which is journald's stream, with its priority as a "<N>" prefix (SyslogLevelPrefix=).
      if (!told_why_) {
        told_why_ = true;
        if (const std::string why = LibsystemdError(); !why.empty())
          std::fprintf(stderr, "<4>cannot log to journald as entries (%s); using stderr\n",
                       why.c_str());
      }
      std::fprintf(stderr, "<%d>%.*s\n", prio, static_cast<int>(msg.payload.size()),
                   msg.payload.data());
    }
  }
  void flush_() override {}

 private:
  bool told_why_ = false;  // guarded by the sink's mutex
};

}  // namespace

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
    auto sink = std::make_shared<JournalSink>();
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("supd", sink));
    where = "journal";
  } else {
    spdlog::set_default_logger(spdlog::stderr_logger_mt("supd"));
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%f%z supd[%P] %l: %v");
    where = "stderr";
  }
  spdlog::set_level(spdlog::level::from_str(level));
  return where;
}

}  // namespace supd
