// `supctl show`: a unit's properties as `systemctl show` prints them (Key=value lines), with
// systemd's property names and value formats (org.freedesktop.systemd1(5); the formats of
// src/shared/bus-print-properties.c), for what supd knows of the unit.
//
// Reads one object of the "status" reply; never throws on a missing or mistyped field. Pure
// except for the local time zone, which timestamps are printed in (as systemctl prints them).
//
// A service has, in systemd's order (its Service interface, then its Unit interface):
//   Type, WatchdogUSec, MainPID, ControlPID, StatusText, StatusErrno, Result, NRestarts,
//   ExecMainExitTimestamp, ExecMainExitTimestampMonotonic, ExecMainPID, ExecMainCode,
//   ExecMainStatus, MemoryCurrent, CPUUsageNSec, TasksCurrent, Id, Names, TriggeredBy,
//   Description, LoadState, ActiveState, SubState, FragmentPath, UnitFileState,
//   StateChangeTimestamp, StateChangeTimestampMonotonic, ActiveEnterTimestamp, LoadError,
//   InvocationID.
// A socket: Listen (one line per address: "127.0.0.1:8080 (Stream)"), Result, then Id, Names,
// Triggers, Description, LoadState … ActiveEnterTimestamp, LoadError. A target: Id, Names,
// Description, LoadState … ActiveEnterTimestamp, LoadError.
// Where supd does not know a value it is not made up: ExecMainStartTimestamp, Restart= and the
// other settings are left out (unknown properties, printed by no -p); ActiveEnterTimestamp is
// the time the unit became active while it is active, and empty otherwise.
// ExecMain*: the running main process (code and status 0), or the last one's exit (code 1
// CLD_EXITED with its exit status, 2 CLD_KILLED or 3 CLD_DUMPED with the signal's number).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace supd::control {

struct Property {
  std::string name;
  std::string value;  // as printed; "" prints only when asked for (-p) or with --all
};

// Every property supd has for `unit`, in the order above.
std::vector<Property> UnitProperties(const nlohmann::json& unit);

// What systemctl shows for a name that no unit file has: LoadState=not-found, inactive/dead,
// zeros, and LoadError=org.freedesktop.systemd1.NoSuchUnit "Unit foo.service not found.".
// `name` is a full unit name ("foo.service").
std::vector<Property> NotFoundProperties(const std::string& name);

struct ShowOptions {
  // -p/--property: only these, in the order above (systemctl prints in the bus's order, not
  // the order asked); "Name=value" prints Name only when its value is that. Empty: all.
  std::vector<std::string> properties;
  bool value_only = false;  // --value: the value alone on each line
  bool all = false;         // --all: empty values too (as -p does for the properties named)
};

// One unit's lines, newline-terminated; an unknown property names nothing (systemctl).
// A value with a newline is printed as "[unprintable]", as systemctl does.
std::string FormatProperties(const std::vector<Property>& props, const ShowOptions& o);

// systemd's FORMAT_TIMESTAMP: "Thu 2026-12-03 21:35:26 UTC" in the local time zone; "" for 0.
std::string FormatSystemdTimestamp(int64_t realtime_usec);
// systemd's FORMAT_TIMESPAN(usec, 0): "0", "100ms", "1min 30s", "1.500000s", "infinity" (max).
std::string FormatSystemdTimespan(uint64_t usec);

}  // namespace supd::control
