// libsystemd's journal calls, loaded the first time supd needs them rather than linked: supd
// talks to journald only when a unit sends its output there (StandardOutput=journal, where
// journald runs) or supd itself runs under journald, and otherwise does not map libsystemd and
// the six libraries it pulls in (~1 MiB of supd's memory where nothing else maps them: a
// container, say). supd's own sd_notify messages do not need it (lib/base/sd_notify.h).
//
// The calls behave as libsystemd's own; when the library cannot be loaded they fail with
// -ENOSYS and LibsystemdError() says why. Loading happens once, from any thread.
#pragma once

#include <sys/uio.h>

#include <string>

namespace supd {

// sd_journal_stream_fd(identifier, priority, level_prefix): a stream connected to journald, or
// -errno.
int JournalStreamFd(const std::string& identifier, int priority, bool level_prefix);

// sd_journal_sendv(iov, n): one structured entry to journald, or -errno.
int JournalSendv(const struct iovec* iov, int n);

// Why libsystemd could not be loaded, "" when it was. Loads it if nothing did yet.
std::string LibsystemdError();

}  // namespace supd
