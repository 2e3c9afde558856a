// Condition*= and Assert*= evaluation, after systemd's condition.c.

#include "lib/unit/conditions.h"

#include <fnmatch.h>
#include <glob.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "lib/base/user_db.h"
#include "lib/unit/unit_loader.h"
#include "lib/unit/values.h"

extern char** environ;

namespace supd {
namespace {

constexpr std::string_view kSupported[] = {
    "PathExists",
    "PathExistsGlob",
    "PathIsDirectory",
    "PathIsSymbolicLink",
    "FileNotEmpty",
    "DirectoryNotEmpty",
    "FileIsExecutable",
    "PathIsReadWrite",
    "User",
    "Host",
    "Environment",
};

constexpr std::string_view kPathTypes[] = {
    "PathExists",   "PathExistsGlob",    "PathIsDirectory",  "PathIsSymbolicLink",
    "FileNotEmpty", "DirectoryNotEmpty", "FileIsExecutable", "PathIsReadWrite",
};

constexpr std::string_view kKnownUnsupported[] = {
    "ACPower",           "Architecture",       "Capability",    "ControlGroupController",
    "CPUFeature",        "CPUPressure",        "CPUs",          "Credential",
    "FirstBoot",         "Firmware",           "Group",         "IOPressure",
    "KernelCommandLine", "KernelModuleLoaded", "KernelVersion", "Memory",
    "MemoryPressure",    "NeedsUpdate",        "OSRelease",     "PathIsEncrypted",
    "PathIsMountPoint",  "Security",           "Version",       "Virtualization",
};

template <size_t N>
bool Contains(const std::string_view (&list)[N], std::string_view s) {
  for (std::string_view x : list) {
    if (x == s) return true;
  }
  return false;
}

// systemd's dir_is_empty(..., ignore_hidden_or_backup=true).
bool IsHiddenOrBackup(std::string_view name) {
  if (name.empty() || name[0] == '.') return true;
  for (std::string_view suffix :
       {"~", ".rpmnew", ".rpmsave", ".rpmorig", ".dpkg-old", ".dpkg-new", ".dpkg-tmp", ".dpkg-dist",
        ".dpkg-bak", ".dpkg-backup", ".dpkg-remove", ".ucf-new", ".ucf-old", ".ucf-dist", ".swp",
        ".bak", ".old", ".new"}) {
    if (name.ends_with(suffix)) {
      return true;
    }
  }
  return false;
}

bool DirectoryNotEmpty(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;  // not a directory, or unreadable: not "not empty"
  for (fs::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
    if (!IsHiddenOrBackup(it->path().filename().string())) return true;
  }
  return false;
}

bool PathIsReadWrite(const std::string& path) {
  struct statvfs sv;
  if (statvfs(path.c_str(), &sv) < 0) return errno != ENOENT;
  if (sv.f_flag & ST_RDONLY) return false;
  // A read-only bind mount of a writable file system shows up only through access().
  if (access(path.c_str(), W_OK) < 0 && errno == EROFS) return false;
  return true;
}

bool UserMatches(const std::string& value) {
  uid_t uid = getuid(), euid = geteuid();
  if (value == "@system") {
    // systemd's default SYSTEM_UID_MAX.
    return uid <= 999 || euid <= 999;
  }
  // systemd's condition_test_user(): what parse_uid() takes is an ID; all else ("0042",
  // "4294967296" among it) a name, which no user has.
  if (auto id = ParseUid(value); id.ok()) return *id == uid || *id == euid;
  // A failed lookup is a user that does not match, as in systemd.
  auto user = UserByName(value, "ConditionUser=");
  return user.ok() && (user->uid == uid || user->uid == euid);
}

bool HostMatches(const std::string& value) {
  // A 128-bit id (32 hex digits) is compared with /etc/machine-id; anything else is a host name
  // glob, matched case-insensitively.
  if (value.size() == 32 &&
      value.find_first_not_of("0123456789abcdefABCDEF") == std::string::npos) {
    std::ifstream in("/etc/machine-id");
    std::string id;
    std::getline(in, id);
    return strcasecmp(id.c_str(), value.c_str()) == 0;
  }
  char host[HOST_NAME_MAX + 1] = {};
  if (gethostname(host, sizeof host - 1) < 0) return false;
  return fnmatch(value.c_str(), host, FNM_CASEFOLD) == 0;
}

bool EnvironmentMatches(const std::string& value) {
  bool has_eq = value.find('=') != std::string::npos;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    if (has_eq) {
      if (entry == value) return true;
    } else if (entry.size() > value.size() && entry.starts_with(value) &&
               entry[value.size()] == '=') {
      return true;
    }
  }
  return false;
}

bool TestRaw(std::string_view type, const std::string& v) {
  struct stat st;
  if (type == "PathExists") return access(v.c_str(), F_OK) == 0;
  if (type == "PathExistsGlob") {
    glob_t g{};
    int r = glob(v.c_str(), GLOB_NOSORT | GLOB_BRACE, nullptr, &g);
    bool found = r == 0 && g.gl_pathc > 0;
    globfree(&g);
    return found;
  }
  if (type == "PathIsDirectory") return stat(v.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
  if (type == "PathIsSymbolicLink") return lstat(v.c_str(), &st) == 0 && S_ISLNK(st.st_mode);
  if (type == "FileNotEmpty") {
    return stat(v.c_str(), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0;
  }
  if (type == "DirectoryNotEmpty") return DirectoryNotEmpty(v);
  if (type == "FileIsExecutable") {
    return stat(v.c_str(), &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111) != 0;
  }
  if (type == "PathIsReadWrite") return PathIsReadWrite(v);
  if (type == "User") return UserMatches(v);
  if (type == "Host") return HostMatches(v);
  if (type == "Environment") return EnvironmentMatches(v);
  return false;  // not reached: the loader only keeps supported types
}

std::string_view TypeOf(const Condition& c) {
  std::string_view name = c.name;
  name.remove_prefix(c.is_assert ? 6 : 9);  // "Assert" / "Condition"
  return name;
}

std::string Describe(const Condition& c) {
  return c.name + "=" + (c.trigger ? "|" : "") + (c.negate ? "!" : "") + c.value;
}

// systemd's condition_test_list(): every non-trigger condition must hold, and if there are
// trigger conditions, at least one of them must. Returns "" if the list passes, otherwise
// why it did not.
std::string TestList(const ServiceSpec& spec, bool asserts) {
  std::string failed_triggers;
  bool any_trigger = false, trigger_ok = false;
  for (const Condition& c : spec.conditions) {
    if (c.is_assert != asserts) continue;
    bool ok = TestCondition(c);
    if (!c.trigger) {
      if (!ok) return Describe(c) + " was not met (" + c.source + ")";
      continue;
    }
    any_trigger = true;
    trigger_ok = trigger_ok || ok;
    if (!failed_triggers.empty()) failed_triggers += ", ";
    failed_triggers += Describe(c) + " (" + c.source + ")";
  }
  if (any_trigger && !trigger_ok)
    return "None of the trigger conditions were met: " + failed_triggers;
  return "";
}

}  // namespace

bool IsSupportedConditionType(std::string_view type) { return Contains(kSupported, type); }
bool IsKnownUnsupportedConditionType(std::string_view type) {
  return Contains(kKnownUnsupported, type);
}
bool ConditionTakesPath(std::string_view type) { return Contains(kPathTypes, type); }

bool TestCondition(const Condition& c) {
  bool r = TestRaw(TypeOf(c), c.value);
  return c.negate ? !r : r;
}

ConditionResult EvaluateConditions(const ServiceSpec& spec) {
  ConditionResult result;
  std::string why = TestList(spec, /*asserts=*/false);
  if (!why.empty()) {
    result.start = false;
    result.message = std::move(why);
    return result;
  }
  why = TestList(spec, /*asserts=*/true);
  if (!why.empty()) {
    result.start = false;
    result.assert_failed = true;
    result.message = std::move(why);
  }
  return result;
}

}  // namespace supd
