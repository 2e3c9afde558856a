// The user and group database (passwd and group through NSS): the one place in supd that calls
// getpwnam_r/getpwuid_r/getgrnam_r/getgrgid_r/getgrouplist. Each lookup starts with a buffer
// that holds any ordinary entry and doubles it while libc answers ERANGE (a group with many
// members), up to a bound.
//
// Every function here may block for as long as NSS takes (NSS may be LDAP): callers on the event
// loop thread accept that today (issue 12 moves them to a worker). Thread-safe: only the
// reentrant calls are used. Not async-signal-safe: never call between fork and exec.
//
// Errors carry what the caller was doing, given as `what`: "<what>: <strerror>" when libc failed,
// "<what>: no such user" / "<what>: no such group" when the entry is not there.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/result.h"

namespace supd {

// A passwd entry, or what systemd makes of a numeric User= without one.
struct UserInfo {
  uid_t uid;
  gid_t gid;
  std::string name;
  std::string home;
  std::string shell;
};

// A group entry.
struct GroupInfo {
  gid_t gid;
  std::string name;
  std::vector<std::string> members;  // gr_mem: the users that list it as a supplementary group
};

// A user or group ID written as a number, as systemd's parse_uid() reads it (gids alike): decimal
// digits only (no sign, no spaces), no leading zero but for "0" itself, at most 4294967294, and
// neither 4294967295 nor 65535, which libc and old 16-bit tools use for "no ID". The Error's
// message is the reason, verbatim:
//   "'<text>' is not a number"
//   "'<text>': a numeric ID must not have leading zeros"
//   "'<text>' is out of range (numeric user and group IDs are 0..4294967294)"
//   "'<text>' is reserved (4294967295 and 65535 mean \"no ID\")"
[[nodiscard]] Result<uid_t> ParseUid(std::string_view text);

// The entry of `uid`/`name`, or nullopt when the database has none. Error "<what>: <strerror>"
// when the lookup itself failed.
[[nodiscard]] Result<std::optional<UserInfo>> FindUserById(uid_t uid, const std::string& what);
[[nodiscard]] Result<std::optional<UserInfo>> FindUserByName(const std::string& name,
                                                             const std::string& what);
[[nodiscard]] Result<std::optional<GroupInfo>> FindGroupById(gid_t gid, const std::string& what);
[[nodiscard]] Result<std::optional<GroupInfo>> FindGroupByName(const std::string& name,
                                                               const std::string& what);

// As FindUserByName/FindGroupByName, with a missing entry an Error: "<what>: no such user",
// "<what>: no such group".
[[nodiscard]] Result<UserInfo> UserByName(const std::string& name, const std::string& what);
[[nodiscard]] Result<GroupInfo> GroupByName(const std::string& name, const std::string& what);

// User= as systemd reads it: what ParseUid() takes is an ID, anything else a name. A numeric
// user without an entry is valid (its gid is its uid, home "/", shell "/bin/sh"); a name without
// one is not. Errors: "look up user 'bob': no such user", "look up user 'bob': <strerror>".
[[nodiscard]] Result<UserInfo> LookupUser(const std::string& name_or_uid);

// Group= as systemd reads it: what ParseUid() takes is the gid itself (no lookup), anything else
// a name. Errors: "look up group 'x': no such group", "look up group 'x': <strerror>".
[[nodiscard]] Result<gid_t> LookupGroup(const std::string& name_or_gid);

// The groups `user` belongs to (getgrouplist: its primary group and every group that lists it),
// what initgroups() would set. Error: "look up supplementary groups of 'bob': too many groups".
[[nodiscard]] Result<std::vector<gid_t>> SupplementaryGroupsOf(const UserInfo& user);

// %u and %h of a manager that runs as `uid`, as systemd's specifier_user_name() and
// get_home_dir() resolve them: the name is "root" for uid 0 and "nobody" for 65534 without a
// lookup, else the user database's name for uid, else the uid as a number ($USER is not read:
// %u must name the same user as %U). The home is $HOME (`home_env`, may be null) when it is an
// absolute path, simplified ("//" and "." components and a trailing "/" dropped), else "/root"
// for uid 0 and "/" for 65534 without a lookup, else the database's home, else "/" (systemd
// fails the specifier there).
struct ManagerUser {
  std::string name;
  std::string home;
};
ManagerUser ManagerUserSpecifiers(uid_t uid, const char* home_env);

}  // namespace supd
