// OutputReader: reads one process's stdout or stderr pipe on the io_context and writes each
// line to the service's ServiceLog. Lines longer than kMaxLine are split; a last line without
// newline is written at EOF. It keeps itself alive until EOF (a daemonized grandchild may hold
// the pipe longer than the service runs) and keeps the ServiceLog alive with it.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "lib/base/unique_fd.h"
#include "lib/log/service_log.h"

namespace boost::asio {
class io_context;
}

namespace supd {

// Starts reading `read_end` (ownership taken) until EOF.
void StartOutputReader(boost::asio::io_context& io, UniqueFd read_end,
                       std::shared_ptr<ServiceLog> log, pid_t pid, std::string stream);

inline constexpr size_t kMaxLine = 48 * 1024;  // systemd's LineMax= default

// Readers that have not reached EOF yet (supd's shutdown waits for them, briefly, so that a
// service's last lines reach its log).
size_t LiveOutputReaders();

}  // namespace supd
