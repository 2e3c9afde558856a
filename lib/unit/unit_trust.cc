#include "lib/unit/unit_trust.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <cstring>
#include <vector>

#include "lib/base/user_db.h"

namespace supd {

namespace {

std::string Mode(mode_t m) { return fmt::format("{:04o}", static_cast<unsigned>(m & 07777)); }

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
    return Error{fmt::format(
        "{0}: refusing a unit file owned by uid {1} (only root or supd's own user, uid {2}, may "
        "own unit files; chown root {0})",
        path, st.st_uid, euid)};
  }
  if (st.st_mode & S_IWOTH) {
    return Error{
        fmt::format("{0}: refusing a unit file writable by others (mode {1}; chmod o-w {0})", path,
                    Mode(st.st_mode))};
  }
  const bool group_trusted = st.st_gid == 0 || (trusted_group && st.st_gid == *trusted_group);
  if ((st.st_mode & S_IWGRP) && !group_trusted) {
    return Error{
        fmt::format("{0}: refusing a unit file writable by group {1} (mode {2}; chmod g-w {0})",
                    path, st.st_gid, Mode(st.st_mode))};
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
