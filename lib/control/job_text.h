// The words of an operation's outcome (JobResult, lib/supervise/jobs.h), as supctl prints them:
//   "web.service failed: start limit hit: 5 starts within 10s (StartLimitBurst=5, …)"
//   "a restart of web.service is already in progress"
//   "timed out after 1s waiting for slow.service: still starting (start); the start goes on"
// and the notes a successful one carries (a skipped start's reason, a socket unit stopped while
// its service runs). These sentences are part of the interface: tests and the README quote them.
#pragma once

#include <optional>
#include <string>

#include "lib/supervise/jobs.h"

namespace supd::control {

// The error message of a failed result (REQUIRES: !r.ok()).
std::string JobErrorText(const JobResult& r);
// The note a successful result carries, if any.
std::optional<std::string> JobNoteText(const JobResult& r);

}  // namespace supd::control
