// Who may have written a unit file that supd is about to run.
//
// A unit file is a program supd runs with its own privileges (as root: anything, as any user).
// So a unit file, or one of its drop-ins, that someone else than root or supd's own user can
// change is refused, like a setuid program in a world-writable place would be: owned by another
// user, writable by others, or writable by a group other than root's. An unprivileged supd also
// trusts its own primary group: with Debian's user private groups and umask 002 a user's
// checkout is group-writable by a group that holds only that user, and such a supd can give its
// services no more than its own privileges anyway. (systemd itself only warns
// about world-writable unit files; its unit directories are root's by construction. supd's units
// directory may be anywhere, so it checks each file.)
//
// Only the daemon's loading path applies this; `supctl check FILE` does not (it runs nothing).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "lib/base/result.h"

namespace supd {

// Checks the file `path` (following symlinks: what is read counts) for a supd running as `euid`
// with primary group `egid`.
// Errors, verbatim in shape:
//   "<path>: refusing a unit file owned by uid 1000 (only root or supd's own user, uid 0, may
//    own unit files; chown root <path>)"
//   "<path>: refusing a unit file writable by others (mode 0646; chmod o-w <path>)"
//   "<path>: refusing a unit file writable by group 100 (mode 0664; chmod g-w <path>)"
//   "stat <path>: <strerror>"
[[nodiscard]] Result<void> CheckUnitFileTrust(const std::string& path, uid_t euid, gid_t egid);

// The same for a unit and all its drop-ins; the first refusal.
[[nodiscard]] Result<void> CheckUnitFilesTrust(const std::string& path,
                                               const std::vector<std::string>& dropins, uid_t euid,
                                               gid_t egid);

}  // namespace supd
