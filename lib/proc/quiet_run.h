// RunQuietly: runs a short program to completion and returns how it ended and what it printed,
// without supd's process watcher ever seeing it. For `daemon-reexec`, which asks the new supd
// binary `--version` and `--check-state=FD` before supd execs it.
//
// The program is not supd's child but a grandchild: a middle process, started by clone3 with no
// exit signal and never exec'ing (an exec resets the exit signal to SIGCHLD), forks it, reaps
// it and reports how it ended on a pipe. The kernel sends supd no SIGCHLD for the middle
// process and a waitid(P_ALL) without __WALL (the ProcessWatcher's orphan reaping) skips it, so
// nothing of supd's reaps either before this does.
//
// It blocks until the child exits (or the time limit, when it is killed): call it on the
// BlockingWork worker, never on the loop. Thread-safe (it touches nothing shared).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "lib/base/result.h"
#include "lib/proc/exit_status.h"

namespace supd {

struct QuietRun {
  std::string path;               // executable, absolute
  std::vector<std::string> argv;  // argv[0] included
  // fds the child gets as 3, 4, … (close-on-exec cleared on the copies); not owned.
  std::vector<int> pass_fds;
  std::chrono::milliseconds limit{10000};  // past it: SIGKILL, and an error
  size_t max_output = 64 * 1024;           // per stream; the rest is read and dropped
};

struct QuietRunOutput {
  ExitStatus exit;
  std::string out;  // stdout, at most max_output bytes
  std::string err;  // stderr, at most max_output bytes
};

// The child gets stdin from /dev/null, supd's environment, the default signal dispositions and
// an empty signal mask, and no fd of supd's but the passed ones.
// Errors: "run /x/supd --version: clone3: <strerror>", "run /x/supd --version: no exit within
// 10s (killed)"; an exec that fails is an exit with status 127 and the reason on stderr
// ("exec /x/supd: No such file or directory").
[[nodiscard]] Result<QuietRunOutput> RunQuietly(const QuietRun& run);

}  // namespace supd
