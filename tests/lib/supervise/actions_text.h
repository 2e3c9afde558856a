// Actions as a short line, for tables of expected actions in the state machines' tests:
// "disarm-watchdog signal:all:SIGTERM timer:7s". One token per action, in order:
//   spawn-main[i]  spawn:<List>[i]  signal:<main|control|all>:<SIG>  timer:<span>  disarm
//   reset  check  prepare:<attempt>  abandon  watchdog:<span>  disarm-watchdog  extend:<span>
//   detach  stop-old  reattach
#pragma once

#include <chrono>
#include <string>

#include "lib/proc/exit_status.h"
#include "lib/supervise/service_fsm.h"

namespace supd::testing_text {

inline std::string Span(Usec u) {
  using namespace std::chrono;
  if (u.count() % 1'000'000 == 0) return std::to_string(u.count() / 1'000'000) + "s";
  if (u.count() % 1000 == 0) return std::to_string(u.count() / 1000) + "ms";
  return std::to_string(u.count()) + "us";
}

inline std::string Token(const Action& a) {
  using K = Action::Kind;
  switch (a.kind) {
    case K::kSpawnMain: return "spawn-main[" + std::to_string(a.index) + "]";
    case K::kSpawnControl:
      return std::string("spawn:") + CommandListName(a.list) + "[" + std::to_string(a.index) + "]";
    case K::kSignal: {
      const char* to = a.target == KillTarget::kMain      ? "main"
                       : a.target == KillTarget::kControl ? "control"
                                                          : "all";
      return std::string("signal:") + to + ":" + SigName(a.signal);
    }
    case K::kArmTimer: return "timer:" + Span(a.delay);
    case K::kDisarmTimer: return "disarm";
    case K::kResetInstance: return "reset";
    case K::kCheckConditions: return "check";
    case K::kPrepareInstance: return "prepare:" + std::to_string(a.attempt);
    case K::kAbandonProcesses: return "abandon";
    case K::kArmWatchdog: return "watchdog:" + Span(a.delay);
    case K::kDisarmWatchdog: return "disarm-watchdog";
    case K::kExtendTimer: return "extend:" + Span(a.delay);
    case K::kDetachInstance: return "detach";
    case K::kStopOldInstance: return "stop-old";
    case K::kReattachOldInstance: return "reattach";
  }
  return "?";
}

inline std::string Describe(const Actions& acts) {
  std::string out;
  for (const Action& a : acts) {
    if (!out.empty()) out += " ";
    out += Token(a);
  }
  return out;
}

}  // namespace supd::testing_text
