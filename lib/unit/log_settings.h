// Value parsers for supd's log settings in unit files ([X-Supd] LogMaxBytes=, LogMaxFiles=).
// Pure functions; errors are short reasons without file:line (the caller adds it).
#pragma once

#include <cstdint>
#include <string_view>

#include "lib/base/result.h"

namespace supd {

// "1048576", "512K", "10M", "1G" (base 1024, as systemd's sizes), at least 1.
[[nodiscard]] Result<uint64_t> ParseByteSize(std::string_view text);

}  // namespace supd
