// systemctl's query verbs over supd's units: list-units, list-unit-files, is-active and
// is-failed, laid out and worded as systemctl does (src/systemctl/systemctl-list-units.c,
// systemctl-list-unit-files.c, systemctl-is-active.c). `show` is in unit_properties.h.
//
// Everything here reads the "status" reply (an array of unit objects, lib/control/status_json.h)
// and never throws on a missing or mistyped field (json_field.h). Pure: no I/O, no clock.
//
// supd's states in systemd's words (UnitView):
//   service   stopped → inactive/dead        starting → activating/<phase> (condition, start-pre,
//             start, start-post)             running → active/running (a oneshot without a main
//             process: active/exited)        reloading → reloading/reload
//             stopping → deactivating/<phase> backoff → activating/auto-restart
//             failed → failed/failed
//   socket    listening → active/listening (active/running while its service runs)
//             stopped → inactive/dead        failed → failed/failed
//   target    active → active/active         inactive → inactive/dead
//   not loadable (loaded false): LOAD masked (the file is empty or links to /dev/null),
//             not-found (the file is gone) or bad-setting (any other load error), and
//             inactive/dead as systemd shows such a unit, whatever supd's own "failed" says.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace supd::control {

// One unit as systemctl names its states.
struct UnitView {
  std::string id;           // "web.service"
  std::string load;         // loaded, not-found, bad-setting, masked
  std::string active;       // active, reloading, inactive, failed, activating, deactivating
  std::string sub;          // running, dead, auto-restart, listening, exited, …
  std::string job;          // "start" or "stop" while it waits for other units, else ""
  std::string description;  // the unit's Description=, or its name when it has none (systemd)
};
UnitView ViewOf(const nlohmann::json& unit);

// Splits comma-separated option values ("failed,running" given once or repeated, as systemctl
// takes --state= and --property=) into words, dropping empty ones.
std::vector<std::string> SplitCommas(const std::vector<std::string>& values);

// What `list-units` and `list-unit-files` select: `patterns` are shell globs on the unit's name
// (fnmatch), `types` unit types ("service", "socket", "target"), `states` words that must match
// (list-units: LOAD, ACTIVE or SUB; list-unit-files: the unit file state).
struct UnitFilter {
  std::vector<std::string> patterns;
  std::vector<std::string> types;
  std::vector<std::string> states;
};

struct ListUnitsOptions {
  UnitFilter filter;
  bool all = false;    // --all: inactive units too
  bool legend = true;  // false: --no-legend (no header, no legend)
  bool color = false;
};

// `list-units`, newline-terminated lines:
//     UNIT           LOAD   ACTIVE SUB     DESCRIPTION
//   ● crash.service  loaded failed failed  Crashes
//     web.service    loaded active running Web
//
//   LOAD   = Reflects whether the unit definition was properly loaded.
//   ACTIVE = The high-level unit activation state, i.e. generalization of SUB.
//   SUB    = The low-level unit activation state, values depend on unit type.
//   2 loaded units listed. Pass --all to see loaded but inactive units, too.
//   To show all installed unit files use 'supctl list-unit-files'.
// Columns as wide as their widest cell, one space apart, the last one not padded. Without --all
// and --state, inactive units without a job are left out (systemctl's rule). The JOB column
// shows only when a unit waits with a job. Sorted by type, then name, case ignored. The legend
// (three LOAD/ACTIVE/SUB lines only when a unit is listed) ends with the count; with --all or
// --state=inactive the "Pass --all" sentence is left out, with another --state the second line
// too. With colour: a failed unit's ● and its UNIT, ACTIVE and SUB cells red; a unit that did
// not load: a yellow ● and LOAD red; the count bold (red when 0).
std::string FormatListUnits(const nlohmann::json& units, const ListUnitsOptions& o);

struct ListUnitFilesOptions {
  UnitFilter filter;
  bool legend = true;
  bool color = false;
};

// `list-unit-files`: UNIT FILE and STATE (the is-enabled word) for each unit that has a file,
// then a blank line and "N unit files listed." (not with --no-legend). systemctl's PRESET column
// is left out: supd has no presets (no *.preset files, no `preset` verb). With colour the state
// is green for enabled and alias, red for disabled and masked. `count`: how many were listed
// (systemctl exits 1 when none).
std::string FormatListUnitFiles(const nlohmann::json& units, const ListUnitFilesOptions& o,
                                size_t* count);

// is-active and is-failed. Per unit, the ActiveState word they print (an unknown unit is
// "inactive" and not found); the exit code as systemctl's: 0 when any unit is in a wanted state
// (is-active: active or reloading; is-failed: failed), else 4 when every unit was not found
// (LSB "status unknown"), else 3 for is-active (LSB "not running") and 1 for is-failed.
struct ActiveCheck {
  std::string word;
  bool not_found = false;
};
ActiveCheck CheckOf(const nlohmann::json& unit);
inline ActiveCheck UnknownUnit() { return {"inactive", true}; }
int IsActiveExitCode(const std::vector<ActiveCheck>& checks);
int IsFailedExitCode(const std::vector<ActiveCheck>& checks);

}  // namespace supd::control
