#include "lib/unit/unit_trust.h"

#include <sys/stat.h>

#include <cstdio>
#include <cstring>
#include <vector>

#include "lib/base/user_db.h"

namespace supd {

namespace {

std::string Mode(mode_t m) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(m & 07777));
  return buf;
}

}  // namespace

std::optional<gid_t> PrivateGroupOf(uid_t euid, gid_t egid) {
  if (euid == 0) return std::nullopt;
  // A failed lookup: no private group (the stricter answer).
  auto user = FindUserById(euid, "look up uid " + std::to_string(euid));
  if (!user.ok() || !*user) return std::nullopt;
  auto group = FindGroupById(egid, "look up gid " + std::to_string(egid));
  if (!group.ok() || !*group) return std::nullopt;
  const std::string& name = (*user)->name;
  if (name != (*group)->name) return std::nullopt;
  for (const std::string& member : (*group)->members)
    if (member != name) return std::nullopt;
  return egid;
}

Result<void> CheckUnitFileTrust(const std::string& path, uid_t euid,
                                std::optional<gid_t> trusted_group) {
  struct stat st;
  if (::stat(path.c_str(), &st) < 0) return ErrnoError("stat " + path);
  if (st.st_uid != 0 && st.st_uid != euid) {
    return Error{path + ": refusing a unit file owned by uid " + std::to_string(st.st_uid) +
                 " (only root or supd's own user, uid " + std::to_string(euid) +
                 ", may own unit files; chown root " + path + ")"};
  }
  if (st.st_mode & S_IWOTH) {
    return Error{path + ": refusing a unit file writable by others (mode " + Mode(st.st_mode) +
                 "; chmod o-w " + path + ")"};
  }
  const bool group_trusted = st.st_gid == 0 || (trusted_group && st.st_gid == *trusted_group);
  if ((st.st_mode & S_IWGRP) && !group_trusted) {
    return Error{path + ": refusing a unit file writable by group " + std::to_string(st.st_gid) +
                 " (mode " + Mode(st.st_mode) + "; chmod g-w " + path + ")"};
  }
  return Ok();
}

Result<void> CheckUnitFilesTrust(const std::string& path, const std::vector<std::string>& dropins,
                                 uid_t euid, std::optional<gid_t> trusted_group) {
  SUPD_TRY(CheckUnitFileTrust(path, euid, trusted_group));
  for (const std::string& d : dropins) SUPD_TRY(CheckUnitFileTrust(d, euid, trusted_group));
  return Ok();
}

}  // namespace supd
