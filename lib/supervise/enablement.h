// Enablement: which units are enabled, kept where systemd keeps it — links in the units
// directory. `<dir>/<target>.wants/<unit>` (and `.requires/`) link to `../<unit>` (for a
// template instance, to `../<template>`); `<dir>/<alias>` links to the unit for Alias=.
// A `*.wants/` directory written by an admin or copied from a systemd host is honoured as is
// (any link or file whose name is a valid unit name counts, wherever it points).
//
// Plain file-system work on small directories, on the calling thread (as unit loading is).
// Knows nothing of running units.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "lib/base/result.h"
#include "lib/unit/unit_deps.h"

namespace supd {

// The links of a units directory: for each target (or any unit) with a .wants/ or .requires/
// directory, the unit names in it.
struct UnitLinks {
  std::map<std::string, std::set<std::string>> wants;  // "multi-user.target" → {"web.service"}
  std::map<std::string, std::set<std::string>> requires_;  // from <unit>.requires/
  std::map<std::string, std::string> aliases;              // "www.service" → "web.service"
  // Every unit named in a .wants/ or .requires/ directory (the reverse view).
  bool Linked(const std::string& unit) const;
};

// Reads every `*.wants` and `*.requires` directory and the alias links of `units_dir`.
// Unreadable entries are skipped; `warnings` (if given) gets one line for each, with the path
// and errno's text ("read /u/a.target.wants: Permission denied").
// An alias is a link directly in `units_dir`, named as a unit, whose target's basename names
// another unit file of the directory (an instance name: its template is there); a link to
// /dev/null (masked) or to a file of the same name elsewhere (`systemctl link`) is not one.
UnitLinks ScanLinks(const std::string& units_dir, std::vector<std::string>* warnings = nullptr);

// One change to the units directory, worded as systemctl does:
//   Created symlink /u/multi-user.target.wants/web.service → /u/web.service.
//   Removed "/u/multi-user.target.wants/web.service".
struct EnableChange {
  bool created = true;  // false: removed
  std::string path;     // the link, absolute (units_dir made absolute, not resolved)
  std::string target;   // created only: the absolute path the link resolves to (the unit
                        // file; the template's for an instance's .wants link)
  std::string Text() const;
};

// `supctl enable UNIT`: applies `install` of `unit` (WantedBy=/RequiredBy= → links in the
// targets' .wants/.requires dirs, creating them; Alias= → alias links). An instance of a
// template links `<target>.wants/worker@3.service` → `../worker@.service`; a template itself
// uses DefaultInstance= (no DefaultInstance: error "… is a template; enable an instance").
// Links already right are kept silently; a different file in the way is an error naming it.
// Errors carry the path and errno's text. Returns the changes made (none: already enabled).
// A unit with an empty [Install] changes nothing and returns no change (the caller says
// "static").
// Alias= must have the unit's suffix; a template's aliases are templates; a template alias of
// an instance takes the instance (`w@3.service` → `worker@3.service`). A link is "already
// right" when its target's basename is the file it should link to, wherever it points (as
// systemd, which accepts its other unit directories: a directory copied from a systemd host).
// Everything is checked before the first change, and a failure while linking undoes the links
// and directories made: an error changes nothing.
// Also= is not followed here: the caller enables the units it names too.
[[nodiscard]] Result<std::vector<EnableChange>> EnableUnit(const std::string& units_dir,
                                                           const std::string& unit,
                                                           const InstallSection& install);

// `supctl disable UNIT`: removes every link to `unit` in any .wants/.requires directory of
// `units_dir` and its alias links (as systemctl does, whatever WantedBy=/RequiredBy= say now).
// In .wants/.requires: every entry (link or plain file, not a directory) named `unit` or one
// of its other names (its Alias= names in `install`, the alias links found), and links of
// another name whose target's basename is `unit` (not for an instance, whose file is the
// template shared with the other instances). A template stands for all its instances.
// Emptied .wants/.requires directories are kept (as systemctl does). All directories are read
// before the first removal: an unreadable one is an error that changes nothing.
// Also= is not followed here: the caller disables the units it names too.
[[nodiscard]] Result<std::vector<EnableChange>> DisableUnit(const std::string& units_dir,
                                                            const std::string& unit,
                                                            const InstallSection& install);

// systemctl is-enabled's words that apply to supd: "enabled" (linked in some .wants/.requires),
// "static" (not linked, [Install] empty), "disabled" (not linked, [Install] not empty),
// "alias" (the name is an alias link), "indirect" (not linked, [Install] only has Also=),
// "masked" (the unit file is empty or a link to /dev/null).
// Linked counts the unit's own name, its Alias= names and DefaultInstance= instance; an alias
// link to the unit is "enabled" too (systemctl). A template not linked itself but whose
// instances are is "indirect" (systemctl).
enum class EnableState { kEnabled, kStatic, kDisabled, kAlias, kIndirect, kMasked };
const char* EnableStateName(EnableState s);
// systemctl is-enabled's exit code for the state: 0 for enabled, static, alias, indirect.
bool EnableStateIsOk(EnableState s);
EnableState EnableStateOf(const std::string& unit, const InstallSection& install,
                          const UnitLinks& links, bool masked);

}  // namespace supd
