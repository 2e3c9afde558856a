// Who may have written a unit file that supd is about to run.
//
// A unit file is a program supd runs with its own privileges (as root: anything, as any user).
// So a unit file, or one of its drop-ins, that someone else than root or supd's own user can
// change is refused, like a setuid program in a world-writable place would be: owned by another
// user, writable by others, or writable by a group other than root's. An unprivileged supd also
// trusts its own primary group when that group is private to its user (PrivateGroupOf): with
// Debian's user private groups and umask 002 a user's checkout is group-writable by a group that
// holds only that user. A shared primary group (openSUSE's "users") is not trusted: any member
// could make supd run a program as its user. (systemd itself only warns
// about world-writable unit files; its unit directories are root's by construction. supd's units
// directory may be anywhere, so it checks each file.)
//
// Only the daemon's loading path applies this; `supctl check FILE` does not (it runs nothing).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "lib/base/result.h"

namespace supd {

// The group an unprivileged supd (uid `euid`, primary group `egid`) may trust besides root's:
// `egid` when it is a user private group (named as the user and without other members); nullopt
// for root, or if it is not, or cannot be looked up. Reads the user and group databases.
std::optional<gid_t> PrivateGroupOf(uid_t euid, gid_t egid);

// Checks the file `path` (following symlinks: what is read counts) for a supd running as `euid`
// that trusts `trusted_group` (from PrivateGroupOf) besides root's group.
// Errors, verbatim in shape:
//   "<path>: refusing a unit file owned by uid 1000 (only root or supd's own user, uid 0, may
//    own unit files; chown root <path>)"
//   "<path>: refusing a unit file writable by others (mode 0646; chmod o-w <path>)"
//   "<path>: refusing a unit file writable by group 100 (mode 0664; chmod g-w <path>)"
//   "stat <path>: <strerror>"
[[nodiscard]] Result<void> CheckUnitFileTrust(const std::string& path, uid_t euid,
                                              std::optional<gid_t> trusted_group);

// The same for a unit and all its drop-ins; the first refusal.
[[nodiscard]] Result<void> CheckUnitFilesTrust(const std::string& path,
                                               const std::vector<std::string>& dropins, uid_t euid,
                                               std::optional<gid_t> trusted_group);

}  // namespace supd
