// `supctl logs -o MODE`: journalctl's output modes for supd's log records (one record on the
// wire: {"service","time","pid","stream","continued","text"}, lib/control/log_stream.h).
//
//   short           Dec 03 21:35:26 HOST web[1234]: text      (journalctl's default)
//   short-iso       2026-12-03T21:35:26+00:00 HOST web[1234]: text
//   short-precise   Dec 03 21:35:26.123456 HOST web[1234]: text
//                   (the identifier is SYSLOG_IDENTIFIER's: the unit's name without its type,
//                   where journald would have the executable's name)
//   cat             text
//   json            journalctl's field names, every value a string, one object per line:
//                   __REALTIME_TIMESTAMP, _HOSTNAME, _PID, _SYSTEMD_UNIT, SYSLOG_IDENTIFIER,
//                   _TRANSPORT ("stdout"), PRIORITY ("6": journald's default level for both
//                   streams), MESSAGE, and supd's own SUPD_STREAM ("out"/"err") and
//                   SUPD_CONTINUED ("1" on the rest of a line longer than supd's line limit).
//   json-pretty     the same, indented
//
// Times are local (the TZ environment variable), as journalctl prints them. supd's own format
// (RFC 3339 UTC, "web.service[1234] out: text") stays the default and is not a mode here.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace supd::control {

enum class LogOutput { kShort, kShortIso, kShortPrecise, kCat, kJson, kJsonPretty };

// nullopt when `name` is not one of the modes above.
std::optional<LogOutput> ParseLogOutput(std::string_view name);
// The modes' names, for the usage text: "short, short-iso, …".
std::string LogOutputNames();

// One record in `mode`, without the newline. A record without a parsable time prints its
// time field as it came.
std::string FormatLogRecord(const nlohmann::json& record, LogOutput mode,
                            const std::string& hostname);

}  // namespace supd::control
