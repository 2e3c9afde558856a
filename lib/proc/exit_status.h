// How a process ended, and how supd says it to a human.
#pragma once

#include <string>

#include "lib/base/signals.h"  // SigName(): how DescribeExit() names a signal

namespace supd {

// Exactly one of: exited (code valid) or killed (signal valid).
struct ExitStatus {
  bool exited = true;
  int code = 0;
  int signal = 0;
  bool core_dumped = false;
  // The process was not supd's child (a MAINPID= process whose parent reaped it): it is gone,
  // but how it ended is not known; counted as a clean exit, as systemd does for such processes.
  bool unknown = false;
  static ExitStatus Code(int c) { return ExitStatus{true, c, 0, false, false}; }
  static ExitStatus Signal(int s, bool core = false) { return ExitStatus{false, 0, s, core, false}; }
};

// "exited with status 3" / "killed by signal SIGSEGV (core dumped)".
std::string DescribeExit(const ExitStatus& st);

}  // namespace supd
