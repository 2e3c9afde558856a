// JournalStreams: the boundary to journald (libsystemd's sd_journal_stream_fd), so that the
// rest of supd, and its tests, can check what would be sent without a running journald.
//
// A stream fd from journald becomes the service's stdout/stderr directly: journald reads it
// itself (SYSLOG_IDENTIFIER=, the default PRIORITY=, and "<N>" line prefixes when
// level_prefix is set, exactly as under systemd); supd does not see those lines.
#pragma once

#include <memory>
#include <string>

#include "lib/base/result.h"
#include "lib/base/unique_fd.h"
#include "lib/unit/service_spec.h"

namespace supd {

// What one stream asks journald for.
struct JournalStreamRequest {
  std::string identifier;   // SyslogIdentifier=, or the unit name without ".service"
  int priority = 6;         // SyslogLevel=
  bool level_prefix = true; // SyslogLevelPrefix=
  bool operator==(const JournalStreamRequest&) const = default;
};

JournalStreamRequest JournalRequestFor(const ServiceSpec& spec);

class JournalStreams {
 public:
  virtual ~JournalStreams() = default;
  // "" when journald can take streams; else why not (shown in status).
  virtual std::string Unavailable() const = 0;
  // A new stream to journald (a unix stream socket, O_CLOEXEC).
  [[nodiscard]] virtual Result<UniqueFd> Open(const JournalStreamRequest& request) = 0;
};

// journald through libsystemd; available when /run/systemd/journal/stdout exists. `socket`
// is for tests.
std::unique_ptr<JournalStreams> SystemJournal(
    std::string socket = "/run/systemd/journal/stdout");

}  // namespace supd
