// Where a service's stdout and stderr go, from StandardOutput=/StandardError=: supd's log file
// (through a pipe the caller makes), journald, a file, or /dev/null. Opens files and journald
// streams in supd (as root, like systemd) before the spawn.
#pragma once

#include <string>
#include <vector>

#include "lib/base/result.h"
#include "lib/base/unique_fd.h"
#include "lib/log/journal.h"
#include "lib/unit/service_spec.h"

namespace supd {

struct OutputTargets {
  // to_log: the stream goes to supd's log file through a pipe (fd unset). Otherwise `fd` is
  // what the child gets, or unset for /dev/null.
  bool out_to_log = false, err_to_log = false;
  UniqueFd out, err;
  // Said in status: e.g. journal asked for but journald not running.
  std::vector<std::string> warnings;
};

// `journal` may be null (no journald support at all).
[[nodiscard]] Result<OutputTargets> OpenOutputTargets(const ServiceSpec& spec,
                                                      JournalStreams* journal);

}  // namespace supd
