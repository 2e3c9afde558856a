// How a process ended, and how supd says it to a human.
#pragma once

#include <string>

namespace supd {

// Exactly one of: exited (code valid) or killed (signal valid).
struct ExitStatus {
  bool exited = true;
  int code = 0;
  int signal = 0;
  bool core_dumped = false;
  static ExitStatus Code(int c) { return ExitStatus{true, c, 0, false}; }
  static ExitStatus Signal(int s, bool core = false) { return ExitStatus{false, 0, s, core}; }
};

// "exited with status 3" / "killed by signal SIGSEGV (core dumped)".
std::string DescribeExit(const ExitStatus& st);

// "SIGTERM" for 15; "signal 99" for numbers without a name.
std::string SigName(int sig);

}  // namespace supd
