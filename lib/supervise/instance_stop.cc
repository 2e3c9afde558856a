// The table, as in service_fsm.cc ("signal" is KillSignal= per KillMode=, SIGHUP after it with
// SendSIGHUP=, and the timer; with nothing of ours left it goes on at once):
//
// step          | event                           | next step and actions
// --------------+---------------------------------+------------------------------------------
// not begun     | Begin()                         | exec-stop: timer, ExecStop=[0]; or signal
// exec-stop     | ExecStop= exited ok (or '-')    | exec-stop: timer, next ExecStop=; or signal
// exec-stop     | ExecStop= failed / spawn failed | signal (the rest of ExecStop= is skipped)
// exec-stop     | timer                           | signal (the ExecStop= process included)
// exec-stop     | main exited                     | (noted)
// signal        | main/control exited             | control-group: wait for all gone; mixed:
//               |                                 |   final-signal once both are gone;
//               |                                 |   process: done once both are gone
// signal        | timer                           | final-signal (SendSIGKILL=yes), else
//               |                                 |   abandon, done
// final-signal  | main/control exited             | process: done once both are gone
// final-signal  | timer                           | abandon, done
// signal,       | all gone                        | done
//   final-signal|                                 |
// any           | KillMode=none at the signal     | abandon, done
//
// Entering done disarms the instance's timer.
#include "lib/supervise/instance_stop.h"

#include <signal.h>

namespace supd {
namespace {

using K = Event::Kind;
using AK = Action::Kind;

void Append(Actions& acts, const Actions& more) {
  acts.insert(acts.end(), more.begin(), more.end());
}

}  // namespace

Actions InstanceStop::Begin(bool main_alive, Usec now) {
  if (step_ != Step::kNotBegun) return {};
  main_alive_ = main_alive;
  if (!spec_->exec_stop.empty()) return EnterExecStop(0);
  return EnterSignal(now);
}

Actions InstanceStop::Handle(const Event& e) {
  if (step_ == Step::kNotBegun || step_ == Step::kDone) return {};
  switch (e.kind) {
    case K::kControlExited:
      if (!control_alive_) return {};
      control_alive_ = false;
      return ControlExited(e);
    case K::kSpawnFailed:
      // The ExecStop= could not be spawned: a failed ExecStop=.
      if (step_ != Step::kExecStop || !control_alive_) return {};
      control_alive_ = false;
      return EnterSignal(e.now);
    case K::kMainExited:
      if (!main_alive_) return {};
      main_alive_ = false;
      return ContinueWhenEmpty(e.now);
    case K::kTimer:
      switch (step_) {
        case Step::kExecStop: return EnterSignal(e.now);
        case Step::kSignal:
          if (spec_->send_sigkill) return EnterFinalSignal(e.now);
          return EnterDone(Abandon());
        case Step::kFinalSignal: return EnterDone(Abandon());
        case Step::kNotBegun:
        case Step::kDone: return {};
      }
      return {};
    case K::kAllGone:
      // Stale while an exit of the main or control process is still on its way.
      if (!waiting_for_empty() || main_alive_ || control_alive_) return {};
      return EnterDone({});
    default: return {};
  }
}

Actions InstanceStop::ControlExited(const Event& e) {
  if (step_ != Step::kExecStop) return ContinueWhenEmpty(e.now);  // ExecStop= got the signal
  // systemd: a failed ExecStop= ends the ExecStop= list and goes on to the signal.
  if (CommandFailed(e)) return EnterSignal(e.now);
  if (stop_index_ + 1 < spec_->exec_stop.size()) return EnterExecStop(stop_index_ + 1);
  return EnterSignal(e.now);
}

bool InstanceStop::CommandFailed(const Event& e) const {
  // As ServiceFsm judges commands: exit 0 only; '-' forgives a failure but not an exec error.
  const bool clean = e.exec_error.empty() && e.exit.exited && e.exit.code == 0;
  const bool ignore = stop_index_ < spec_->exec_stop.size() &&
                      spec_->exec_stop[stop_index_].ignore_failure && e.exec_error.empty();
  return !clean && !ignore;
}

Actions InstanceStop::EnterExecStop(size_t index) {
  step_ = Step::kExecStop;
  stop_index_ = index;
  control_alive_ = true;
  return {Action::Timer(spec_->timeout_stop),
          Action::Spawn(AK::kSpawnControl, CommandList::kStop, index)};
}

Actions InstanceStop::EnterSignal(Usec now) {
  step_ = Step::kSignal;
  // KillMode=none: nothing is signalled and nothing waited for (ServiceFsm refuses to overlap
  // such a service, but a reload may have changed the unit since).
  if (spec_->kill_mode == KillMode::kNone) return EnterDone(Abandon());
  Actions acts = KillActions(spec_->kill_signal, /*final_kill=*/false);
  if (spec_->send_sighup && !acts.empty()) Append(acts, KillActions(SIGHUP, false));
  acts.push_back(Action::Timer(spec_->timeout_stop));
  Append(acts, ContinueWhenEmpty(now));
  return acts;
}

Actions InstanceStop::EnterFinalSignal(Usec now) {
  step_ = Step::kFinalSignal;
  Actions acts = KillActions(spec_->final_kill_signal, /*final_kill=*/true);
  acts.push_back(Action::Timer(spec_->timeout_stop));
  Append(acts, ContinueWhenEmpty(now));
  return acts;
}

Actions InstanceStop::EnterDone(Actions acts) {
  step_ = Step::kDone;
  acts.push_back(Action::Of(AK::kDisarmTimer));
  return acts;
}

Actions InstanceStop::Abandon() {
  main_alive_ = control_alive_ = false;
  abandoned_ = true;
  return {Action::Of(AK::kAbandonProcesses)};
}

Actions InstanceStop::ContinueWhenEmpty(Usec now) {
  if (!waiting_for_empty() || main_alive_ || control_alive_) return {};
  switch (spec_->kill_mode) {
    case KillMode::kControlGroup: return {};  // everything got the signal: wait for all gone
    case KillMode::kMixed:
      // As the service's stop: once the main process is gone, the rest gets FinalKillSignal=.
      if (step_ == Step::kSignal) return EnterFinalSignal(now);
      return {};
    case KillMode::kProcess:
    case KillMode::kNone:
      // Only the main and control processes count, and they are gone.
      return EnterDone({});
  }
  return {};
}

Actions InstanceStop::KillActions(int sig, bool final_kill) const {
  return KillActionsFor(spec_->kill_mode, sig, final_kill, main_alive_, control_alive_);
}

Actions InstanceStop::OnControlExited(const ExitStatus& st, const std::string& exec_error,
                                      Usec now) {
  Event e = Event::At(K::kControlExited, now);
  e.exit = st;
  e.exec_error = exec_error;
  return Handle(e);
}

Actions InstanceStop::OnSpawnFailed(const std::string& reason, Usec now) {
  Event e = Event::At(K::kSpawnFailed, now);
  e.message = reason;
  return Handle(e);
}

Actions InstanceStop::OnMainExited(Usec now) { return Handle(Event::At(K::kMainExited, now)); }
Actions InstanceStop::OnTimer(Usec now) { return Handle(Event::At(K::kTimer, now)); }
Actions InstanceStop::OnAllGone(Usec now) { return Handle(Event::At(K::kAllGone, now)); }

}  // namespace supd
