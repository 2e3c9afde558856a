#include "lib/base/user_db.h"

#include <grp.h>
#include <pwd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstdint>
#include <cstring>

namespace supd {
namespace {

// Enough for any ordinary entry; a group with thousands of members needs more (ERANGE).
constexpr size_t kFirstBufferSize = 16384;
// Past this an entry is not one we want: the lookup fails with ERANGE's text.
constexpr size_t kMaxBufferSize = 16 * 1024 * 1024;

UserInfo ToUserInfo(const passwd& pw) {
  return UserInfo{pw.pw_uid, pw.pw_gid, pw.pw_name, pw.pw_dir ? pw.pw_dir : "/",
                  pw.pw_shell ? pw.pw_shell : "/bin/sh"};
}

GroupInfo ToGroupInfo(const group& gr) {
  GroupInfo g{gr.gr_gid, gr.gr_name, {}};
  for (char** m = gr.gr_mem; m && *m; ++m) g.members.emplace_back(*m);
  return g;
}

// Calls `lookup(entry, buf, size, found)` (one of the get*_r functions, bound to its key) with a
// buffer that doubles on ERANGE, and converts what it finds with `convert`.
template <typename Entry, typename Info, typename Lookup, typename Convert>
Result<std::optional<Info>> Find(const std::string& what, Lookup lookup, Convert convert) {
  std::vector<char> buf(kFirstBufferSize);
  for (;;) {
    Entry entry;
    Entry* found = nullptr;
    const int rc = lookup(&entry, buf.data(), buf.size(), &found);
    if (rc == ERANGE && buf.size() < kMaxBufferSize) {
      buf.resize(buf.size() * 2);
      continue;
    }
    if (rc != 0) return ErrnoError(what, rc);
    if (found == nullptr) return std::optional<Info>();
    return std::optional<Info>(convert(entry));
  }
}

}  // namespace

Result<uid_t> ParseUid(std::string_view text) {
  static_assert(sizeof(uid_t) == sizeof(uint32_t) && sizeof(gid_t) == sizeof(uint32_t));
  const std::string quoted = "'" + std::string(text) + "'";
  for (char c : text) {
    if (c < '0' || c > '9') return Error{quoted + " is not a number"};
  }
  if (text.empty()) return Error{quoted + " is not a number"};
  if (text.size() > 1 && text[0] == '0') {
    return Error{quoted + ": a numeric ID must not have leading zeros"};
  }
  uint32_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec == std::errc::result_out_of_range) {
    return Error{quoted + " is out of range (numeric user and group IDs are 0..4294967294)"};
  }
  if (ec != std::errc() || end != text.data() + text.size()) {
    return Error{quoted + " is not a number"};
  }
  if (v == UINT32_C(0xFFFFFFFF) || v == UINT32_C(0xFFFF)) {
    return Error{quoted + " is reserved (4294967295 and 65535 mean \"no ID\")"};
  }
  return static_cast<uid_t>(v);
}

Result<std::optional<UserInfo>> FindUserById(uid_t uid, const std::string& what) {
  return Find<passwd, UserInfo>(
      what, [uid](passwd* e, char* b, size_t n, passwd** f) { return getpwuid_r(uid, e, b, n, f); },
      ToUserInfo);
}

Result<std::optional<UserInfo>> FindUserByName(const std::string& name, const std::string& what) {
  return Find<passwd, UserInfo>(
      what,
      [&name](passwd* e, char* b, size_t n, passwd** f) {
        return getpwnam_r(name.c_str(), e, b, n, f);
      },
      ToUserInfo);
}

Result<std::optional<GroupInfo>> FindGroupById(gid_t gid, const std::string& what) {
  return Find<group, GroupInfo>(
      what, [gid](group* e, char* b, size_t n, group** f) { return getgrgid_r(gid, e, b, n, f); },
      ToGroupInfo);
}

Result<std::optional<GroupInfo>> FindGroupByName(const std::string& name, const std::string& what) {
  return Find<group, GroupInfo>(
      what,
      [&name](group* e, char* b, size_t n, group** f) {
        return getgrnam_r(name.c_str(), e, b, n, f);
      },
      ToGroupInfo);
}

Result<UserInfo> UserByName(const std::string& name, const std::string& what) {
  auto found = FindUserByName(name, what);
  if (!found.ok()) return found.take_error();
  if (!*found) return Error{what + ": no such user"};
  return std::move(**found);
}

Result<GroupInfo> GroupByName(const std::string& name, const std::string& what) {
  auto found = FindGroupByName(name, what);
  if (!found.ok()) return found.take_error();
  if (!*found) return Error{what + ": no such group"};
  return std::move(**found);
}

Result<UserInfo> LookupUser(const std::string& name_or_uid) {
  const std::string what = "look up user '" + name_or_uid + "'";
  auto numeric = ParseUid(name_or_uid);
  if (!numeric.ok()) return UserByName(name_or_uid, what);
  auto found = FindUserById(*numeric, what);
  if (!found.ok()) return found.take_error();
  if (*found) return std::move(**found);
  // A numeric User= without a passwd entry is valid in systemd: no name, home "/".
  return UserInfo{*numeric, static_cast<gid_t>(*numeric), name_or_uid, "/", "/bin/sh"};
}

Result<gid_t> LookupGroup(const std::string& name_or_gid) {
  if (auto numeric = ParseUid(name_or_gid); numeric.ok()) return static_cast<gid_t>(*numeric);
  auto found = GroupByName(name_or_gid, "look up group '" + name_or_gid + "'");
  if (!found.ok()) return found.take_error();
  return found->gid;
}

Result<std::vector<gid_t>> SupplementaryGroupsOf(const UserInfo& user) {
  int n = 64;
  std::vector<gid_t> groups(n);
  for (int attempt = 0; attempt < 4; ++attempt) {
    int count = n;
    if (getgrouplist(user.name.c_str(), user.gid, groups.data(), &count) >= 0) {
      groups.resize(count);
      return groups;
    }
    n = count > n ? count : n * 4;
    groups.resize(n);
  }
  return Error{"look up supplementary groups of '" + user.name + "': too many groups"};
}

namespace {

// systemd's path_simplify(): "//" → "/", "." components dropped, no trailing "/" (but for "/"
// itself); ".." stays, as it may cross a symlink.
std::string SimplifiedPath(std::string_view p) {
  std::string out;
  size_t i = 0;
  while (i < p.size()) {
    while (i < p.size() && p[i] == '/') ++i;
    const size_t end = std::min(p.find('/', i), p.size());
    const std::string_view part = p.substr(i, end - i);
    if (!part.empty() && part != ".") out.append("/").append(part);
    i = end;
  }
  return out.empty() ? "/" : out;
}

}  // namespace

ManagerUser ManagerUserSpecifiers(uid_t uid, const char* home_env) {
  ManagerUser out;
  std::optional<UserInfo> entry;
  bool looked_up = false;
  auto lookup = [&]() -> const std::optional<UserInfo>& {
    if (!looked_up) {
      looked_up = true;
      if (auto found = FindUserById(uid, "look up uid " + std::to_string(uid)); found.ok())
        entry = std::move(*found);
    }
    return entry;
  };
  constexpr uid_t kNobody = 65534;  // systemd synthesizes its entry, as root's
  if (uid == 0) {
    out.name = "root";
  } else if (uid == kNobody) {
    out.name = "nobody";
  } else {
    out.name = lookup() ? lookup()->name : std::to_string(uid);
  }
  if (home_env != nullptr && home_env[0] == '/' && std::strlen(home_env) < PATH_MAX) {
    out.home = SimplifiedPath(home_env);
  } else if (uid == 0) {
    out.home = "/root";
  } else if (uid == kNobody) {
    out.home = "/";
  } else {
    out.home = lookup() ? lookup()->home : "/";
  }
  return out;
}

}  // namespace supd
