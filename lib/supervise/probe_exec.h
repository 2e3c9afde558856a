// ExecProbeCheck: one check of an exec: probe, run as the service's ExecStartPost= commands are
// (its user, its environment with $MAINPID, its cgroup: the LaunchPlan and LaunchTarget the
// ActionRunner built), the leader of its own process group, with stdout and stderr in one pipe
// of which the last 4 KiB are kept.
//
// A probe leaves nothing behind: when its process exits, times out (TimeoutSec=) or the check
// is cancelled, SIGKILL goes to its whole process group, and every process of it is reaped
// (the probe's own through ProcessControl, or as an orphan once the check is cancelled; what it
// forked is supd's orphan as a subreaper). Kubernetes' and containerd's exec probes leak both.
#pragma once

#include <memory>

#include "lib/health/probe_check.h"
#include "lib/supervise/host.h"
#include "lib/supervise/launch.h"

namespace supd {

struct ExecProbeDeps {
  Loop* loop = nullptr;
  ProcessControl* process = nullptr;
  Launcher* launcher = nullptr;
};

// Starts the check; `done` runs once on the loop, never inside this call, never after the
// returned Check is destroyed. A launch that fails is a failed check saying why.
std::unique_ptr<Check> StartExecProbeCheck(const ExecProbeDeps& deps, const LaunchPlan& plan,
                                           const LaunchTarget& target, Usec timeout,
                                           CheckDone done);

}  // namespace supd
