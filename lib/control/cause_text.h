// The words for what the state machine says as data: a Cause, a refused reload or overlap
// restart, a client's job outcome. The sentences are an interface (supctl prints them, the
// README and the integration tests quote them); lib/supervise/cause.h lists each one.
#pragma once

#include <string>

#include "lib/supervise/cause.h"
#include "lib/supervise/service_fsm.h"

namespace supd::control {

// "90s", "1500ms", "infinity": a span as the causes print it (whole milliseconds).
std::string FormatSpan(Usec span);

// The sentence for `cause`; "" when it is empty.
std::string FormatCause(const Cause& cause);

// Why a reload cannot run now ("" for kOk): "a reload is already in progress", "the service is
// <state>", ... `state` is the service's state when it was asked.
std::string FormatReloadVerdict(ReloadVerdict verdict, State state);

// Why a restart cannot overlap the old instance with the new one ("" for kOk).
std::string FormatOverlapVerdict(OverlapVerdict verdict, State state);

// The answer to a client whose job on `unit` is decided: ok, and the message (on success a
// note, often ""). REQUIRES: outcome.kind != kPending.
struct JobAnswer {
  bool ok = false;
  std::string message;
};
JobAnswer FormatJobOutcome(const std::string& unit, const JobOutcome& outcome);

}  // namespace supd::control
