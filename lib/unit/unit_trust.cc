#include "lib/unit/unit_trust.h"

#include <sys/stat.h>

#include <cstdio>

namespace supd {

namespace {

std::string Mode(mode_t m) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(m & 07777));
  return buf;
}

}  // namespace

Result<void> CheckUnitFileTrust(const std::string& path, uid_t euid, gid_t egid) {
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
  const bool trusted_group = st.st_gid == 0 || (euid != 0 && st.st_gid == egid);
  if ((st.st_mode & S_IWGRP) && !trusted_group) {
    return Error{path + ": refusing a unit file writable by group " + std::to_string(st.st_gid) +
                 " (mode " + Mode(st.st_mode) + "; chmod g-w " + path + ")"};
  }
  return Ok();
}

Result<void> CheckUnitFilesTrust(const std::string& path, const std::vector<std::string>& dropins,
                                 uid_t euid, gid_t egid) {
  SUPD_TRY(CheckUnitFileTrust(path, euid, egid));
  for (const std::string& d : dropins) SUPD_TRY(CheckUnitFileTrust(d, euid, egid));
  return Ok();
}

}  // namespace supd
