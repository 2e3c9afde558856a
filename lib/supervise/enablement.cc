// Enablement links, after systemd's src/shared/install.c (unit_file_enable, unit_file_disable,
// unit_file_get_state), for one units directory.

#include "lib/supervise/enablement.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <set>
#include <system_error>

#include "lib/unit/specifiers.h"
#include "lib/unit/unit_loader.h"

namespace supd {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kWantsSuffix = ".wants";
constexpr std::string_view kRequiresSuffix = ".requires";

// `dir` made absolute and without "." / ".." / a trailing slash, so that the paths in changes
// read as systemctl prints them.
std::string AbsoluteDir(const std::string& dir) {
  std::error_code ec;
  fs::path p = fs::absolute(dir, ec);
  if (ec) p = dir;  // only when the working directory is gone; the relative path still works
  std::string s = p.lexically_normal().string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

struct DirEntry {
  std::string name;
  fs::file_type type;  // of the entry itself (symlinks not followed)
};

// The entries of `dir`, or the error as "read <dir>: <errno text>".
Result<std::vector<DirEntry>> ListDir(const std::string& dir) {
  std::vector<DirEntry> out;
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
    std::error_code tec;
    fs::file_type type = it->symlink_status(tec).type();
    // Gone since readdir: not an entry any more.
    if (tec) continue;
    out.push_back({it->path().filename().string(), type});
  }
  if (ec) return ErrnoError("read " + dir, ec.value());
  return out;
}

// The target of the link at `path`, "" if it is not a link or cannot be read.
std::string LinkText(const std::string& path) {
  std::error_code ec;
  fs::path t = fs::read_symlink(path, ec);
  return ec ? std::string() : t.string();
}

std::string Basename(const std::string& link_text) {
  return fs::path(link_text).filename().string();
}

// "<x>.wants" → "<x>" (kind = wants), "<x>.requires" → "<x>"; "" for other names.
std::string DependencyDirOwner(const std::string& name, bool* is_wants) {
  for (std::string_view suffix : {kWantsSuffix, kRequiresSuffix}) {
    if (name.size() > suffix.size() && name.ends_with(suffix)) {
      std::string owner = name.substr(0, name.size() - suffix.size());
      if (!IsValidUnitName(owner)) return "";
      *is_wants = suffix == kWantsSuffix;
      return owner;
    }
  }
  return "";
}

// Whether `dir_abs/entry` (a .wants/.requires directory, links followed as systemd does) is a
// directory.
bool IsDirectory(const std::string& path) {
  std::error_code ec;
  return fs::is_directory(path, ec);
}

// The name an alias link `name` in the units directory stands for: its target's basename, when
// that names another unit file of the directory (an instance: its template is there). "" if the
// link is not an alias (a link to /dev/null masks; a link to a file elsewhere with the same name
// is that unit's file, as `systemctl link` makes).
std::string AliasTarget(const std::string& dir_abs, const std::string& name) {
  std::string text = LinkText(dir_abs + "/" + name);
  if (text.empty()) return "";
  std::string base = Basename(text);
  if (base == name || !IsValidUnitName(base)) return "";
  std::string file = TemplateNameOf(base);
  if (file.empty()) file = base;
  struct stat st {};
  if (lstat((dir_abs + "/" + file).c_str(), &st) != 0) return "";
  return base;
}

// An alias named in [Install] of `unit`, as it applies to `unit`: a template alias of an
// instance takes the instance (Alias=w@.service of worker@3.service is w@3.service).
Result<std::string> AliasFor(const std::string& unit, const std::string& alias) {
  const std::string what = "Alias=" + alias + " of " + unit;
  if (!IsValidUnitName(alias)) return Error{what + ": not a valid unit name"};
  UnitNameParts u = SplitUnitName(unit);
  UnitNameParts a = SplitUnitName(alias);
  if (a.suffix != u.suffix) {
    return Error{what + ": an alias must have the unit's suffix ." + u.suffix};
  }
  if (u.is_instance) {
    if (a.is_template) return a.prefix + "@" + u.instance + "." + a.suffix;
    if (a.is_instance && a.instance == u.instance) return alias;
    return Error{what + ": an alias of an instance must be a template or the same instance"};
  }
  if (u.is_template) {
    if (a.is_template) return alias;
    return Error{what + ": an alias of a template must be a template"};
  }
  if (a.is_template || a.is_instance) {
    return Error{what + ": an alias of a plain unit cannot be a template or an instance"};
  }
  return alias;
}

// One link EnableUnit wants in place.
struct PlannedLink {
  std::string path;       // absolute
  std::string text;       // what the link holds ("../web.service")
  std::string shown;      // the absolute path it resolves to, for EnableChange
  std::string want_base;  // an existing link with this target basename is already right
  std::string made_dir;   // the .wants/.requires directory it lives in, "" for an alias
};

// Undoes EnableUnit's work after a later step failed, so that a failed enable changes nothing.
// Best effort: the error being returned is the one that matters.
void RollBack(const std::vector<EnableChange>& made, const std::vector<std::string>& dirs) {
  for (const EnableChange& c : made) (void)unlink(c.path.c_str());
  // rmdir only removes a directory that is empty again: one we made and nothing else used.
  for (const std::string& d : dirs) (void)rmdir(d.c_str());
}

// The links `unit`'s [Install] asks for. Validates every name first, so that bad input changes
// nothing.
Result<std::vector<PlannedLink>> PlanLinks(const std::string& dir, const std::string& unit,
                                           const InstallSection& install) {
  const UnitNameParts parts = SplitUnitName(unit);
  // The name that goes into .wants/.requires, and the file it links to.
  std::string linked_name = unit;
  const bool has_deps = !install.wanted_by.empty() || !install.required_by.empty();
  if (parts.is_template && has_deps) {
    if (install.default_instance.empty()) {
      return Error{unit + " is a template; enable an instance (" + parts.prefix + "@NAME." +
                   parts.suffix + ")"};
    }
    linked_name = parts.prefix + "@" + install.default_instance + "." + parts.suffix;
    if (!IsValidUnitName(linked_name)) {
      return Error{unit + ": DefaultInstance=" + install.default_instance +
                   " does not make a valid unit name"};
    }
  }
  std::string file = TemplateNameOf(unit);
  if (file.empty()) file = unit;

  std::vector<PlannedLink> plan;
  auto add_dep = [&](const std::string& owner, std::string_view suffix,
                     const char* key) -> Result<void> {
    if (!IsValidUnitName(owner)) {
      return Error{std::string(key) + "=" + owner + " of " + unit + ": not a valid unit name"};
    }
    const std::string sub = dir + "/" + owner + std::string(suffix);
    plan.push_back({sub + "/" + linked_name, "../" + file, dir + "/" + file, file, sub});
    return Ok();
  };
  for (const std::string& t : install.wanted_by) SUPD_TRY(add_dep(t, kWantsSuffix, "WantedBy"));
  for (const std::string& t : install.required_by) {
    SUPD_TRY(add_dep(t, kRequiresSuffix, "RequiredBy"));
  }
  for (const std::string& a : install.aliases) {
    auto name = AliasFor(unit, a);
    if (!name.ok()) return name.take_error();
    // Alias=<own name> names nothing new; a link there would replace the unit file itself.
    if (*name == unit) continue;
    plan.push_back({dir + "/" + *name, unit, dir + "/" + unit, unit, ""});
  }
  return plan;
}

// The planned links not yet in place; an error for anything else in the way.
Result<std::vector<PlannedLink>> NotInPlace(std::vector<PlannedLink> plan) {
  // WantedBy=a.target listed twice (or in a drop-in too) is one link.
  std::vector<PlannedLink> todo;
  std::set<std::string> seen;
  for (PlannedLink& p : plan) {
    if (!seen.insert(p.path).second) continue;
    struct stat st {};
    if (lstat(p.path.c_str(), &st) != 0) {
      if (errno != ENOENT && errno != ENOTDIR) return ErrnoError("stat " + p.path);
      todo.push_back(std::move(p));
      continue;
    }
    std::string text = S_ISLNK(st.st_mode) ? LinkText(p.path) : "";
    // As systemd, which takes a link to the same file name (in any of its unit directories)
    // as in place: a directory copied from a systemd host links to /etc/systemd/system/...
    if (!text.empty() && Basename(text) == p.want_base) continue;
    std::string what = p.path + " exists and is not a link to " + p.shown;
    if (!text.empty()) what += " (it links to " + text + ")";
    return ErrnoError(std::move(what), EEXIST);
  }
  return todo;
}

// Makes the links (and their .wants/.requires directories); on failure undoes all of it.
Result<std::vector<EnableChange>> MakeLinks(const std::vector<PlannedLink>& todo) {
  std::vector<EnableChange> made;
  std::vector<std::string> made_dirs;
  for (const PlannedLink& p : todo) {
    if (!p.made_dir.empty() &&
        std::find(made_dirs.begin(), made_dirs.end(), p.made_dir) == made_dirs.end()) {
      if (mkdir(p.made_dir.c_str(), 0755) == 0) {
        made_dirs.push_back(p.made_dir);
      } else if (errno != EEXIST) {
        Error e = ErrnoError("create directory " + p.made_dir);
        RollBack(made, made_dirs);
        return e;
      }
    }
    if (symlink(p.text.c_str(), p.path.c_str()) != 0) {
      Error e = ErrnoError("create symlink " + p.path);
      RollBack(made, made_dirs);
      return e;
    }
    made.push_back({true, p.path, p.shown});
  }
  return made;
}

}  // namespace

bool UnitLinks::Linked(const std::string& unit) const {
  for (const auto* m : {&wants, &requires_}) {
    for (const auto& [owner, units] : *m) {
      if (units.contains(unit)) return true;
    }
  }
  return false;
}

UnitLinks ScanLinks(const std::string& units_dir, std::vector<std::string>* warnings) {
  UnitLinks links;
  const std::string dir = AbsoluteDir(units_dir);
  auto warn = [warnings](const Error& e) {
    if (warnings) warnings->push_back(e.message);
  };
  auto top = ListDir(dir);
  if (!top.ok()) {
    warn(top.error());
    return links;
  }
  for (const DirEntry& e : *top) {
    bool is_wants = false;
    std::string owner = DependencyDirOwner(e.name, &is_wants);
    if (!owner.empty()) {
      const std::string sub = dir + "/" + e.name;
      if (!IsDirectory(sub)) continue;
      auto entries = ListDir(sub);
      if (!entries.ok()) {
        warn(entries.error());
        continue;
      }
      auto& into = (is_wants ? links.wants : links.requires_)[owner];
      for (const DirEntry& w : *entries) {
        // Links (dangling or not) and plain files count, as the name is what says "wanted";
        // a subdirectory is not a unit.
        if (w.type == fs::file_type::directory || !IsValidUnitName(w.name)) continue;
        into.insert(w.name);
      }
      continue;
    }
    if (e.type != fs::file_type::symlink || !IsValidUnitName(e.name)) continue;
    std::string target = AliasTarget(dir, e.name);
    if (!target.empty()) links.aliases[e.name] = target;
  }
  return links;
}

std::string EnableChange::Text() const {
  if (created) return "Created symlink " + path + " \u2192 " + target + ".";
  return "Removed \"" + path + "\".";
}

Result<std::vector<EnableChange>> EnableUnit(const std::string& units_dir, const std::string& unit,
                                             const InstallSection& install) {
  if (!IsValidUnitName(unit)) return Error{"invalid unit name \"" + unit + "\""};
  auto plan = PlanLinks(AbsoluteDir(units_dir), unit, install);
  if (!plan.ok()) return plan.take_error();
  auto todo = NotInPlace(std::move(plan).value());
  if (!todo.ok()) return todo.take_error();
  return MakeLinks(*todo);
}

Result<std::vector<EnableChange>> DisableUnit(const std::string& units_dir, const std::string& unit,
                                              const InstallSection& install) {
  if (!IsValidUnitName(unit)) return Error{"invalid unit name \"" + unit + "\""};
  const std::string dir = AbsoluteDir(units_dir);
  const UnitNameParts parts = SplitUnitName(unit);

  // Whether a link target basename (or an entry name) stands for `unit`. A template stands
  // for all its instances (systemctl disable worker@.service disables every worker@N).
  auto is_unit = [&](const std::string& name) {
    return name == unit || (parts.is_template && TemplateNameOf(name) == unit);
  };

  auto top = ListDir(dir);
  if (!top.ok()) return top.take_error();

  // The unit's other names: Alias= as it reads now, and alias links found pointing to it.
  std::set<std::string> names = {unit};
  for (const std::string& a : install.aliases) {
    // An Alias= that enable would refuse was never linked; nothing of it to remove.
    if (auto n = AliasFor(unit, a); n.ok()) names.insert(*n);
  }
  std::vector<std::string> doomed;
  for (const DirEntry& e : *top) {
    if (e.type != fs::file_type::symlink || !IsValidUnitName(e.name) || is_unit(e.name)) continue;
    std::string target = AliasTarget(dir, e.name);
    if (target.empty() || !is_unit(target)) continue;
    names.insert(e.name);
    doomed.push_back(dir + "/" + e.name);
  }

  // All reads first: an unreadable directory fails the disable before anything is removed.
  for (const DirEntry& e : *top) {
    bool is_wants = false;
    if (DependencyDirOwner(e.name, &is_wants).empty()) continue;
    const std::string sub = dir + "/" + e.name;
    if (!IsDirectory(sub)) continue;
    auto entries = ListDir(sub);
    if (!entries.ok()) return entries.take_error();
    for (const DirEntry& w : *entries) {
      if (w.type == fs::file_type::directory || !IsValidUnitName(w.name)) continue;
      bool match = is_unit(w.name) || names.contains(w.name);
      // A link of another name to the unit's file (systemd removes those too); for an
      // instance the file is the template, shared with the other instances, so not then.
      if (!match && !parts.is_instance && w.type == fs::file_type::symlink) {
        match = is_unit(Basename(LinkText(sub + "/" + w.name)));
      }
      if (match) doomed.push_back(sub + "/" + w.name);
    }
  }

  std::sort(doomed.begin(), doomed.end());
  std::vector<EnableChange> removed;
  for (const std::string& p : doomed) {
    if (unlink(p.c_str()) != 0) {
      if (errno == ENOENT) continue;  // removed meanwhile: the goal holds
      return ErrnoError("remove " + p);
    }
    removed.push_back({false, p, ""});
  }
  return removed;
}

const char* EnableStateName(EnableState s) {
  switch (s) {
    case EnableState::kEnabled:
      return "enabled";
    case EnableState::kStatic:
      return "static";
    case EnableState::kDisabled:
      return "disabled";
    case EnableState::kAlias:
      return "alias";
    case EnableState::kIndirect:
      return "indirect";
    case EnableState::kMasked:
      return "masked";
  }
  return "unknown";
}

bool EnableStateIsOk(EnableState s) {
  return s == EnableState::kEnabled || s == EnableState::kStatic || s == EnableState::kAlias ||
         s == EnableState::kIndirect;
}

EnableState EnableStateOf(const std::string& unit, const InstallSection& install,
                          const UnitLinks& links, bool masked) {
  if (masked) return EnableState::kMasked;
  if (links.aliases.contains(unit)) return EnableState::kAlias;
  if (!IsValidUnitName(unit)) return EnableState::kDisabled;
  const UnitNameParts parts = SplitUnitName(unit);

  // The names under which the unit may be linked: its own, its Alias= names, the alias links
  // to it; a template with DefaultInstance= is enabled through that instance.
  std::set<std::string> names = {unit};
  if (parts.is_template && !install.default_instance.empty()) {
    names.insert(parts.prefix + "@" + install.default_instance + "." + parts.suffix);
  }
  for (const std::string& a : install.aliases) {
    if (auto n = AliasFor(unit, a); n.ok()) names.insert(*n);
  }
  for (const auto& [alias, target] : links.aliases) {
    // An alias link is itself an enablement (systemctl: Alias= only → "enabled" once linked).
    if (target == unit) return EnableState::kEnabled;
  }
  for (const std::string& n : names) {
    if (links.Linked(n)) return EnableState::kEnabled;
  }
  // systemctl: a template whose instances are enabled (but not by DefaultInstance=) is
  // "indirect".
  if (parts.is_template) {
    for (const auto* m : {&links.wants, &links.requires_}) {
      for (const auto& [owner, units] : *m) {
        for (const std::string& u : units) {
          if (TemplateNameOf(u) == unit) return EnableState::kIndirect;
        }
      }
    }
  }
  if (install.empty()) return EnableState::kStatic;
  if (install.wanted_by.empty() && install.required_by.empty() && install.aliases.empty()) {
    return EnableState::kIndirect;  // only Also=
  }
  return EnableState::kDisabled;
}

}  // namespace supd
