// Value parsers for supd's log settings in unit files ([X-Supd] LogMaxBytes=, LogMaxFiles=).
// Pure functions; errors are short reasons without file:line (the caller adds it).
#pragma once

#include <cstdint>
#include <string_view>

#include "lib/base/result.h"
#include "lib/unit/service_spec.h"

namespace supd {

// "1048576", "512K", "10M", "1G" (base 1024, as systemd's sizes), at least 1.
[[nodiscard]] Result<uint64_t> ParseByteSize(std::string_view text);

// StandardOutput=/StandardError= values: journal, journal+console, kmsg, kmsg+console (all
// journal), inherit, null, file:PATH, append:PATH, truncate:PATH (absolute). tty, socket, fd:NAME
// and the rest are refused with the reason.
[[nodiscard]] Result<ServiceSpec::Output> ParseOutputSetting(std::string_view value);

// SyslogLevel=: emerg, alert, crit, err, warning, notice, info, debug → 0..7.
[[nodiscard]] Result<int> ParseSyslogLevel(std::string_view value);

}  // namespace supd
