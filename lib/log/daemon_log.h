// supd's own log (spdlog): to stderr with a timestamp in the foreground, or straight to journald
// with a priority per level when supd's stderr is a journald stream (systemd sets
// JOURNAL_STREAM=<dev>:<inode> for a service whose output goes to the journal; NOTIFY_SOCKET
// alone does not say where stderr goes, so it is not used for this).
//
// The logger is single-threaded: only the io_context thread logs (the LogWriter thread never
// does).
#pragma once

#include <string>

namespace supd {

// Whether `fd` is the stream named by `journal_stream` ("<dev>:<inode>", JOURNAL_STREAM's
// format); false for null or anything unparsable.
bool FdIsJournalStream(const char* journal_stream, int fd);

// Installs the default logger at `level` ("debug", "info", …). Returns "journal" or "stderr".
std::string SetUpDaemonLog(const std::string& level);

}  // namespace supd
