#include "lib/log/journal.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "lib/base/libsystemd.h"

namespace supd {

JournalStreamRequest JournalRequestFor(const ServiceSpec& spec) {
  JournalStreamRequest r;
  r.identifier = spec.syslog_identifier;
  if (r.identifier.empty()) {
    r.identifier = spec.name;
    const std::string suffix = ".service";
    if (r.identifier.size() > suffix.size() && r.identifier.ends_with(suffix))
      r.identifier.resize(r.identifier.size() - suffix.size());
  }
  r.priority = spec.syslog_level;
  r.level_prefix = spec.syslog_level_prefix;
  return r;
}

namespace {

class SystemJournalStreams : public JournalStreams {
 public:
  explicit SystemJournalStreams(std::string socket) : socket_(std::move(socket)) {}
  std::string Unavailable() const override {
    struct stat st;
    if (::stat(socket_.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) return "";
    return "journald is not running (no socket " + socket_ + ")";
  }
  Result<UniqueFd> Open(const JournalStreamRequest& r) override {
    // sd_journal_stream_fd connects to the fixed path /run/systemd/journal/stdout.
    const int fd = JournalStreamFd(r.identifier, r.priority, r.level_prefix);
    if (fd == -ENOSYS && !LibsystemdError().empty())
      return Error{"journald output needs libsystemd.so.0 (" + LibsystemdError() + ")", ENOSYS};
    if (fd < 0)
      return Error{"connect to journald (" + socket_ + "): " + std::strerror(-fd), -fd};
    // libsystemd leaves the fd inheritable; only the spawn plan may pass it on.
    (void)::fcntl(fd, F_SETFD, FD_CLOEXEC);  // cannot fail on a valid fd
    return UniqueFd(fd);
  }

 private:
  std::string socket_;
};

}  // namespace

std::unique_ptr<JournalStreams> SystemJournal(std::string socket) {
  return std::make_unique<SystemJournalStreams>(std::move(socket));
}

}  // namespace supd
