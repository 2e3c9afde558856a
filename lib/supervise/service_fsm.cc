// The transitions, one line per (phase, event) that does something; every other pair does
// nothing (a stale timer or exit, a command that is already satisfied). "stop-signal" is
// EnterStopSignal: KillSignal= per KillMode= and TimeoutStopSec=, or straight on when nothing of
// ours is left to wait for; "stop" is EnterStop: ExecStop= if any, else stop-signal.
//
// phase         | event                          | next phase and actions
// --------------+--------------------------------+---------------------------------------------
// any           | reset-failed                   | forget the start-limit history
// any           | detached main exited           | note that the set-aside instance has no main
// any           | WATCHDOG_USEC=                 | note the program's interval (running/reload
//               |                                |   also re-arm or disarm the watchdog)
// any           | main exited (ours)             | main gone; an unclean exit is the cause
//               |                                |   (a stop keeps its own cause)
// any           | control exited (ours), failed  | control gone; its failure is the cause
// any           | spawn failed                   | the reason is the cause; the process that
//               |                                |   was being spawned is gone
// any           | main/control exited (not ours),| nothing (stale)
//               | all gone with ours alive       |
// dead          | start, restart                 | condition: check-conditions (or dead-failed:
//               |                                |   start limit hit)
// dead (failed) | reset-failed                   | dead (stopped), result and cause cleared
// condition     | conditions checked: hold       | condition (preparing): timer, prepare-instance
// condition     | conditions checked: not met    | dead (skipped) / dead-failed (assert)
// condition     | instance prepared (this start) | ExecCondition=, else start-pre, start, ...
// condition     | instance prepared: error       | stop-sigterm, result resources
// condition     | ExecCondition= exited ok       | next ExecCondition= or start-pre ...
// condition     | ExecCondition= exit 1-254      | stop-sigterm, result exec-condition (skip)
// condition     | ExecCondition= failed/spawn    | stop-sigterm, result of the exit / resources
// start-pre     | ExecStartPre= exited ok        | next ExecStartPre= or start
// start-pre     | ExecStartPre= failed/spawn     | stop-sigterm
// start         | main spawned (simple)          | start-post
// start         | main execve ok (exec)          | start-post
// start         | READY=1 (notify)               | start-post
//               |                                |   (each of the three above: with a startup
//               |                                |   or readiness probe, only once the probe
//               |                                |   gate passed too)
// start         | probe gate passed              | start-post if Type= readiness was reached
// start         | startup probe failed           | stop-sigterm, result timeout
// start         | timer, waiting for the gate    | stop-sigterm, result timeout; the cause
//               |                                |   names the probe that holds the gate
// start,        | liveness probe failed          | stop-sigterm with WatchdogSignal=, result
//   start-post, |                                |   watchdog
//   running,    |                                |
//   reload      |                                |
// any           | readiness changed              | note it (status: running but not ready)
// start         | main exited (oneshot ok)       | start (next ExecStart=) or start-post
// start         | main exited (other)            | stop-sigterm (a clean exit is exit-code here)
// start         | spawn failed                   | stop-sigterm, result resources
// start-post    | ExecStartPost= exited ok       | next ExecStartPost= or running (or stop when
//               |                                |   the main process is gone)
// start-post    | ExecStartPost= failed/spawn    | stop
// start-post    | main exited unclean            | stop-sigterm
// condition..   | timer                          | stop-sigterm, result timeout
//   start-post  | stop                           | stop-sigterm (ExecStop= is for a started
//               |                                |   service); an overlap's old instance too
//               | restart                        | as stop, with the start queued
//               | EXTEND_TIMEOUT_USEC=           | extend the timer
// start,        | STOPPING=1 (no control process)| stop-sigterm without a signal, timer
//   start-post, |                                |
//   running,    |                                |
//   reload      |                                |
// running       | stop, restart                  | stop (restart: with the start queued)
// running       | overlap-restart                | detach the instance, start a new one beside
//               |                                |   (or refused by the start limit)
// running       | reload                         | reload: ExecReload= or ReloadSignal=
// running       | RELOADING=1                    | reload, timer
// running       | main exited                    | stop, result of the exit
// running,      | WATCHDOG=1                     | re-arm the watchdog
//   reload      | watchdog timeout / trigger     | stop-sigterm with WatchdogSignal=
// reload        | ExecReload= exited ok          | next ExecReload= or running
// reload        | ExecReload= failed/spawn       | running, reload failed
// reload        | READY=1 (after RELOADING=1)    | running
// reload        | RELOADING=1                    | (READY=1 now ends the reload)
// reload        | timer                          | running, reload failed (SIGKILL ExecReload=)
// reload        | main exited                    | stop (or stop-sigterm with ExecReload= on)
// reload        | stop, restart                  | stop (stop-sigterm with ExecReload= on)
// reload        | EXTEND_TIMEOUT_USEC=           | extend the timer
// stop          | ExecStop= exited               | next ExecStop= or stop-sigterm
// stop          | spawn failed, timer            | stop-sigterm (timer: result timeout)
// stop          | main exited                    | (result noted)
// stop-sigterm  | timer                          | stop-sigkill, or (SendSIGKILL=no) abandon and
//               |                                |   stop-post
// stop-sigkill  | timer                          | abandon, stop-post
// stop-sig*     | main/control exited            | on once our processes are gone (per KillMode)
// stop-sig*     | all gone                       | stop-post
// stop-post     | ExecStopPost= exited           | next ExecStopPost=, then final-sigterm (mixed:
//               |                                |   final-sigkill; none ran: dead)
// stop-post     | spawn failed, timer            | final-sigterm
// final-sigterm | timer                          | final-sigkill, or (SendSIGKILL=no) abandon, dead
// final-sigkill | timer                          | abandon, dead
// final-sig*    | main/control exited            | on once our processes are gone (per KillMode)
// final-sig*    | all gone                       | dead
// stop..final-* | start                          | (start queued)
//               | stop                           | (stop requested; an overlap's old instance
//               |                                |   stops too)
//               | restart                        | (stop requested, start queued)
//               | EXTEND_TIMEOUT_USEC=           | extend the timer
// auto-restart  | timer                          | condition (automatic restart)
// auto-restart  | start, restart                 | condition
// auto-restart  | stop                           | dead (stopped)
//
// Entering dead: a queued start begins at once; an overlap whose new instance failed goes back
// to the old instance (running) or, if that one is gone too, lets Restart= decide; Restart=
// decides between auto-restart (timer RestartSec=) and dead.
#include "lib/supervise/service_fsm.h"

#include <signal.h>

#include <chrono>
#include <utility>

namespace supd {
namespace {

using K = Event::Kind;
using AK = Action::Kind;

Action ExtendTimer(Usec usec) { return Action::WithDelay(Action::Kind::kExtendTimer, usec); }

void Append(Actions& acts, const Actions& more) {
  acts.insert(acts.end(), more.begin(), more.end());
}

}  // namespace

// ---- The entry point

Actions ServiceFsm::Handle(const Event& e) {
  if (!Record(e)) return {};
  switch (phase_) {
    case Phase::kDead: return InDead(e);
    case Phase::kCondition: return InCondition(e);
    case Phase::kStartPre: return InStartPre(e);
    case Phase::kStart: return InStart(e);
    case Phase::kStartPost: return InStartPost(e);
    case Phase::kRunning: return InRunning(e);
    case Phase::kReload: return InReload(e);
    case Phase::kStop: return InStop(e);
    case Phase::kStopSigterm:
    case Phase::kStopSigkill: return InStopSignal(e);
    case Phase::kStopPost: return InStopPost(e);
    case Phase::kFinalSigterm:
    case Phase::kFinalSigkill: return InFinalSignal(e);
    case Phase::kBackoff: return InBackoff(e);
  }
  return {};
}

// What every phase records alike before it reacts ("any" in the table above).
bool ServiceFsm::Record(const Event& e) {
  switch (e.kind) {
    case K::kStop:
      start_queued_ = false;  // a stop cancels a restart's queued start
      return true;
    case K::kResetFailed:
      // As systemd's service_reset_failed(): the start-limit history and NRestarts. (supd's
      // lifetime counters, kept by the Manager, are not the FSM's.)
      start_times_.clear();
      restarts_ = 0;
      return true;
    case K::kDetachedMainExited:
      old_main_alive_ = false;
      return true;
    case K::kMainSpawned:
      spawned_main_confirmed_ = true;
      return true;
    case K::kReadinessChanged:
      probe_ready_ = e.start;
      return true;
    case K::kProbeGatePassed:
      probe_ready_ = true;  // the gate passes only with the readiness probe passing
      return true;
    case K::kWatchdogUsec:
      // "infinity" (USEC_INFINITY) means no watchdog, as in systemd.
      watchdog_override_ = e.usec == kInfinity ? Usec(0) : e.usec;
      return true;
    case K::kSpawnFailed:
      cause_ = Cause::WithText(Cause::Kind::kSpawnFailed, e.message);
      // Which spawn failed: the main process not yet confirmed spawned, else the control one.
      if (main_alive_ && phase_ == Phase::kStart && !spawned_main_confirmed_) {
        main_alive_ = false;
        return true;
      }
      if (!control_alive_) return false;
      control_alive_ = false;
      return true;
    case K::kMainExited: {
      if (!main_alive_) return false;
      main_alive_ = false;
      spawned_main_confirmed_ = false;
      last_main_exit_ = e.exit;
      // During a stop the stop's own cause (e.g. "stop timeout") explains more than the exit.
      if (MainExitResult(e) != ServiceResult::kSuccess &&
          (state() != State::kStopping || cause_.empty())) {
        if (!e.exec_error.empty()) {
          cause_ = Cause::WithText(Cause::Kind::kExecFailed, e.exec_error);
        } else {
          cause_ = Cause::WithText(Cause::Kind::kMainExited, e.oom_reason);
          cause_.exit = e.exit;
        }
      }
      return true;
    }
    case K::kControlExited:
      if (!control_alive_) return false;
      if (!JudgeControl(e).ok) cause_ = ControlCause(e);
      control_alive_ = false;
      return true;
    case K::kAllGone:
      // Stale while an exit of our own processes is still on its way.
      return !main_alive_ && !control_alive_;
    default:
      return true;
  }
}

// ---- One function per phase

Actions ServiceFsm::InDead(const Event& e) {
  switch (e.kind) {
    case K::kStart:
    case K::kRestart: return BeginStart(e.now, /*automatic=*/false);
    case K::kResetFailed:
      if (failed_) {
        failed_ = false;
        result_ = ServiceResult::kSuccess;
        cause_ = {};
      }
      return {};
    case K::kStop: return {};  // already stopped
    default: return {};
  }
}

Actions ServiceFsm::InCondition(const Event& e) {
  switch (e.kind) {
    case K::kConditionsChecked:
      if (step_ != Step::kCheck) return {};
      if (!e.start) {
        cause_ = Cause::WithText(e.assert_failed ? Cause::Kind::kAssertFailed
                                           : Cause::Kind::kConditionNotMet,
                           e.message);
        if (e.assert_failed) return EnterDead(ServiceResult::kAssert, e.now);
        // A false Condition*= is not a failure (result stays "success") and never a restart.
        condition_skipped_ = true;
        return EnterDead(ServiceResult::kSuccess, e.now);
      }
      step_ = Step::kPrepare;
      {
        Action prepare{AK::kPrepareInstance};
        prepare.attempt = start_attempts_;
        return {Action::Timer(spec_->timeout_start), prepare};
      }
    case K::kInstancePrepared:
      if (step_ != Step::kPrepare || e.attempt != start_attempts_) return {};  // stale
      if (e.message.empty()) return EnterCondition(0, e.now);
      // As a spawn that failed: nothing of the instance runs yet.
      cause_ = Cause::WithText(Cause::Kind::kSpawnFailed, e.message);
      return EnterStopSignal(Phase::kStopSigterm, ServiceResult::kResources, e.now);
    case K::kControlExited: {
      const CommandOutcome c = JudgeControl(e);
      if (c.ok) return EnterCondition(c.next, e.now);
      if (e.exec_error.empty() && e.exit.exited && e.exit.code >= 1 && e.exit.code <= 254) {
        // systemd: 1-254 means "skip this start", like a failed Condition*=.
        cause_ = ControlCause(e);
        cause_.kind = Cause::Kind::kExecConditionSkip;
        return EnterStopSignal(Phase::kStopSigterm, ServiceResult::kExecCondition, e.now);
      }
      return EnterStopSignal(Phase::kStopSigterm, c.result, e.now);
    }
    case K::kSpawnFailed:
      return EnterStopSignal(Phase::kStopSigterm, ServiceResult::kResources, e.now);
    case K::kTimer: return StartTimedOut(e.now);
    case K::kStop:
    case K::kRestart: return StopWhileStarting(e);
    case K::kExtendTimeout: return {ExtendTimer(e.usec)};
    default: return {};  // kStart: already starting
  }
}

Actions ServiceFsm::InStartPre(const Event& e) {
  switch (e.kind) {
    case K::kControlExited: {
      const CommandOutcome c = JudgeControl(e);
      if (c.ok) return EnterStartPre(c.next, e.now);
      return EnterStopSignal(Phase::kStopSigterm, c.result, e.now);
    }
    case K::kSpawnFailed:
      return EnterStopSignal(Phase::kStopSigterm, ServiceResult::kResources, e.now);
    case K::kTimer: return StartTimedOut(e.now);
    case K::kStop:
    case K::kRestart: return StopWhileStarting(e);
    case K::kExtendTimeout: return {ExtendTimer(e.usec)};
    default: return {};
  }
}

Actions ServiceFsm::InStart(const Event& e) {
  switch (e.kind) {
    case K::kMainSpawned:
      if (spec_->type == ServiceType::kSimple) return TypeReady(e.now);
      return {};
    case K::kMainExecOk:
      if (spec_->type == ServiceType::kExec && main_alive_) return TypeReady(e.now);
      return {};
    case K::kReady:
      if (NotifyType() && main_alive_) return TypeReady(e.now);
      return {};
    case K::kProbeGatePassed:
      gate_passed_ = true;
      if (type_ready_ && main_alive_) return EnterStartPost(0, e.now);
      return {};
    case K::kStartupProbeFailed:
      cause_ = Cause::WithText(Cause::Kind::kStartupProbeFailed, e.message);
      return EnterStopSignal(Phase::kStopSigterm, ServiceResult::kTimeout, e.now);
    case K::kLivenessProbeFailed: return LivenessFailed(e);
    case K::kMainExited: {
      const ServiceResult r = MainExitResult(e);
      const bool ok = r == ServiceResult::kSuccess;
      if (spec_->type == ServiceType::kOneshot) {
        const bool ignore = main_index_ < spec_->exec_start.size() &&
                            spec_->exec_start[main_index_].ignore_failure;
        if (ok || (ignore && e.exec_error.empty())) return EnterStart(main_index_ + 1, e.now);
        return EnterStopSignal(Phase::kStopSigterm, r, e.now);
      }
      // Died before it was ready (Type=exec/notify): even a clean exit fails the start.
      return EnterStopSignal(Phase::kStopSigterm, ok ? ServiceResult::kExitCode : r, e.now);
    }
    case K::kSpawnFailed:
      return EnterStopSignal(Phase::kStopSigterm, ServiceResult::kResources, e.now);
    case K::kStopping: return StoppingOnItsOwn();
    case K::kTimer:
      if (waits_for_probe_gate() && !e.message.empty()) {
        cause_ = Cause::WithSpan(Cause::Kind::kProbeStartTimeout, spec_->timeout_start);
        cause_.text = e.message;
        return EnterStopSignal(Phase::kStopSigterm, ServiceResult::kTimeout, e.now);
      }
      return StartTimedOut(e.now);
    case K::kStop:
    case K::kRestart: return StopWhileStarting(e);
    case K::kExtendTimeout: return {ExtendTimer(e.usec)};
    case K::kMainPidChanged: return {};  // the adopted process is the main one; no step
    default: return {};
  }
}

Actions ServiceFsm::InStartPost(const Event& e) {
  switch (e.kind) {
    case K::kControlExited: {
      const CommandOutcome c = JudgeControl(e);
      if (c.ok) return EnterStartPost(c.next, e.now);
      return EnterStop(c.result, e.now);
    }
    case K::kSpawnFailed: return EnterStop(ServiceResult::kResources, e.now);
    case K::kLivenessProbeFailed: return LivenessFailed(e);
    case K::kMainExited: {
      const ServiceResult r = MainExitResult(e);
      if (r == ServiceResult::kSuccess) return {};  // EnterRunning() notices it is gone
      return EnterStopSignal(Phase::kStopSigterm, r, e.now);
    }
    case K::kStopping: return StoppingOnItsOwn();
    case K::kTimer: {
      cause_ = Cause::WithSpan(Cause::Kind::kStartPostTimeout, spec_->timeout_start);
      return EnterStopSignal(Phase::kStopSigterm, ServiceResult::kTimeout, e.now);
    }
    case K::kStop:
    case K::kRestart: return StopWhileStarting(e);
    case K::kExtendTimeout: return {ExtendTimer(e.usec)};
    case K::kMainPidChanged: return {};
    default: return {};
  }
}

Actions ServiceFsm::InRunning(const Event& e) {
  switch (e.kind) {
    case K::kStop:
      stop_requested_ = true;
      return EnterStop(ServiceResult::kSuccess, e.now);
    case K::kRestart:
      // Queued before the stop begins: a stop that ends at once (KillMode=none without
      // ExecStop=) reaches EnterDead right here and must find the start waiting there.
      start_queued_ = true;
      stop_requested_ = true;
      return EnterStop(ServiceResult::kSuccess, e.now);
    case K::kOverlapRestart: return OverlapRestartNow(e.now);
    case K::kReload:
      if (CanReload() != ReloadVerdict::kOk) return {};
      return EnterReload();
    case K::kReloading:
      reload_needs_reloading_ = false;
      phase_ = Phase::kReload;
      return {Action::Timer(spec_->timeout_start)};
    case K::kMainExited: return EnterStop(MainExitResult(e), e.now);
    case K::kStopping: return StoppingOnItsOwn();
    case K::kWatchdogPing:
    case K::kWatchdogUsec: return RearmWatchdog(e);
    case K::kWatchdogTimeout:
    case K::kWatchdogTriggered: return WatchdogFired(e);
    case K::kLivenessProbeFailed: return LivenessFailed(e);
    case K::kMainPidChanged: return {};
    // kStart: already running. kControlExited: an ExecReload= killed after its timeout.
    default: return {};
  }
}

Actions ServiceFsm::InReload(const Event& e) {
  switch (e.kind) {
    case K::kReady:
      // A READY=1 before the RELOADING=1 that answers ReloadSignal= (a program re-sending READY
      // with STATUS=) does not end the reload; nor does one while ExecReload= runs.
      if (control_alive_ || reload_needs_reloading_) return {};
      return EndReloadOk();
    case K::kReloading:
      reload_needs_reloading_ = false;
      return {};
    case K::kControlExited: {
      const CommandOutcome c = JudgeControl(e);
      if (!c.ok) return EndReload(/*failed=*/true);
      if (c.next < spec_->exec_reload.size())
        return {Action::Timer(spec_->timeout_start), SpawnControl(CommandList::kReload, c.next)};
      if (!main_alive_) return EndReload(/*failed=*/false);
      return EndReloadOk();
    }
    case K::kSpawnFailed: return EndReload(/*failed=*/true);
    case K::kMainExited: {
      const ServiceResult r = MainExitResult(e);
      if (control_alive_) return EnterStopSignal(Phase::kStopSigterm, r, e.now);
      ++reloads_done_;
      last_reload_failed_ = true;
      return EnterStop(r, e.now);
    }
    case K::kTimer: {
      // systemd: a reload that does not finish in time fails; the service keeps running.
      cause_ = Cause::WithSpan(Cause::Kind::kReloadTimeout, spec_->timeout_start);
      Actions acts;
      if (control_alive_) acts.push_back(Action::SignalTo(KillTarget::kControl, SIGKILL));
      return EndReload(/*failed=*/true, std::move(acts));
    }
    case K::kRestart:
      start_queued_ = true;
      [[fallthrough]];
    case K::kStop:
      stop_requested_ = true;
      // An ExecReload= still running: signal everything, as systemd does.
      if (control_alive_)
        return EnterStopSignal(Phase::kStopSigterm, ServiceResult::kSuccess, e.now);
      return EnterStop(ServiceResult::kSuccess, e.now);
    case K::kStopping: return StoppingOnItsOwn();
    case K::kWatchdogPing:
    case K::kWatchdogUsec: return RearmWatchdog(e);
    case K::kWatchdogTimeout:
    case K::kWatchdogTriggered: return WatchdogFired(e);
    case K::kLivenessProbeFailed: return LivenessFailed(e);
    case K::kExtendTimeout: return {ExtendTimer(e.usec)};
    case K::kMainPidChanged: return {};
    default: return {};
  }
}

Actions ServiceFsm::InStop(const Event& e) {
  switch (e.kind) {
    case K::kControlExited: {
      const CommandOutcome c = JudgeControl(e);
      if (!c.ok) SetResult(c.result);
      if (c.next < spec_->exec_stop.size())
        return {Action::Timer(spec_->timeout_stop), SpawnControl(CommandList::kStop, c.next)};
      return EnterStopSignal(Phase::kStopSigterm, result_, e.now);
    }
    case K::kSpawnFailed:
      return EnterStopSignal(Phase::kStopSigterm, ServiceResult::kResources, e.now);
    case K::kMainExited:
      SetResult(MainExitResult(e));
      return {};
    case K::kTimer:
      cause_ = Cause::WithSpan(Cause::Kind::kExecStopTimeout, spec_->timeout_stop);
      return EnterStopSignal(Phase::kStopSigterm, ServiceResult::kTimeout, e.now);
    case K::kStart:
    case K::kStop:
    case K::kRestart:
    case K::kExtendTimeout: return CommandWhileStopping(e);
    default: return {};
  }
}

Actions ServiceFsm::InStopSignal(const Event& e) {
  switch (e.kind) {
    case K::kMainExited: return MainGoneWhileSignalling(e);
    case K::kControlExited: return ContinueWhenEmpty(e.now);
    case K::kAllGone: return EnterStopPost(0, result_, e.now);
    case K::kTimer:
      if (phase_ == Phase::kStopSigkill) {
        cause_ = Cause::Of(Cause::Kind::kSurvivedFinalKill);
        cause_.final_signal = spec_->final_kill_signal;
        return EnterStopPost(0, ServiceResult::kTimeout, e.now, GiveUp());
      }
      cause_ = Cause::WithSpan(Cause::Kind::kStopTimeout, spec_->timeout_stop);
      cause_.signal = spec_->kill_signal;
      cause_.final_signal = spec_->final_kill_signal;
      cause_.send_sigkill = spec_->send_sigkill;
      if (spec_->send_sigkill)
        return EnterStopSignal(Phase::kStopSigkill, ServiceResult::kTimeout, e.now);
      return EnterStopPost(0, ServiceResult::kTimeout, e.now, GiveUp());
    case K::kStart:
    case K::kStop:
    case K::kRestart:
    case K::kExtendTimeout: return CommandWhileStopping(e);
    default: return {};
  }
}

Actions ServiceFsm::InStopPost(const Event& e) {
  switch (e.kind) {
    case K::kControlExited: {
      const CommandOutcome c = JudgeControl(e);
      if (!c.ok) SetResult(c.result);
      return EnterStopPost(c.next, result_, e.now);
    }
    case K::kSpawnFailed:
      return EnterStopSignal(Phase::kFinalSigterm, ServiceResult::kResources, e.now);
    case K::kMainExited:
      SetResult(MainExitResult(e));
      return {};
    case K::kTimer:
      cause_ = Cause::WithSpan(Cause::Kind::kExecStopPostTimeout, spec_->timeout_stop);
      return EnterStopSignal(Phase::kFinalSigterm, ServiceResult::kTimeout, e.now);
    case K::kStart:
    case K::kStop:
    case K::kRestart:
    case K::kExtendTimeout: return CommandWhileStopping(e);
    default: return {};
  }
}

Actions ServiceFsm::InFinalSignal(const Event& e) {
  switch (e.kind) {
    case K::kMainExited: return MainGoneWhileSignalling(e);
    case K::kControlExited: return ContinueWhenEmpty(e.now);
    case K::kAllGone: return EnterDead(result_, e.now);
    case K::kTimer:
      if (phase_ == Phase::kFinalSigkill) {
        cause_ = Cause::Of(Cause::Kind::kSurvivedFinalKill);
        cause_.final_signal = spec_->final_kill_signal;
        return EnterDead(ServiceResult::kTimeout, e.now, GiveUp());
      }
      if (spec_->send_sigkill)
        return EnterStopSignal(Phase::kFinalSigkill, ServiceResult::kTimeout, e.now);
      cause_ = Cause::Of(Cause::Kind::kLeftRunningAfterStopPost);
      return EnterDead(ServiceResult::kTimeout, e.now, GiveUp());
    case K::kStart:
    case K::kStop:
    case K::kRestart:
    case K::kExtendTimeout: return CommandWhileStopping(e);
    default: return {};
  }
}

Actions ServiceFsm::InBackoff(const Event& e) {
  switch (e.kind) {
    case K::kTimer:
      // Counted when the restart is attempted, also if the start limit then refuses it, as
      // systemd's NRestarts.
      ++restarts_;
      ++restart_streak_;
      return BeginStart(e.now, /*automatic=*/true);
    case K::kStart:
    case K::kRestart: return BeginStart(e.now, /*automatic=*/false);
    case K::kStop:
      phase_ = Phase::kDead;
      failed_ = false;
      cause_ = Cause::Of(Cause::Kind::kStoppedWhileWaitingToRestart);
      return {Action::Of(AK::kDisarmTimer)};
    default: return {};
  }
}

// ---- Reactions shared by several phases

Actions ServiceFsm::StopWhileStarting(const Event& e) {
  // A restart queues its start before the stop begins (the stop may end at once).
  if (e.kind == K::kRestart) start_queued_ = true;
  // As systemd: a start in progress is signalled; ExecStop= is for a started service.
  Actions acts = StopOldInstanceFirst();
  stop_requested_ = true;
  return EnterStopSignal(Phase::kStopSigterm, ServiceResult::kSuccess, e.now, std::move(acts));
}

Actions ServiceFsm::StopOldInstanceFirst() {
  // An overlap restart under way: both instances stop at once, not one after the other.
  if (!overlap_pending_) return {};
  overlap_pending_ = false;
  return {Action::Of(AK::kStopOldInstance)};
}

Actions ServiceFsm::CommandWhileStopping(const Event& e) {
  switch (e.kind) {
    case K::kStart:
      start_queued_ = true;
      return {};
    case K::kStop:
      stop_requested_ = true;
      return StopOldInstanceFirst();
    case K::kRestart:
      stop_requested_ = true;
      start_queued_ = true;
      return {};
    case K::kExtendTimeout: return {ExtendTimer(e.usec)};
    default: return {};
  }
}

Actions ServiceFsm::MainGoneWhileSignalling(const Event& e) {
  // Dying of the signal we sent is the stop working, not a failure.
  const bool our_signal = !e.exit.exited && (e.exit.signal == spec_->kill_signal ||
                                             e.exit.signal == spec_->final_kill_signal);
  if (!our_signal) SetResult(MainExitResult(e));
  return ContinueWhenEmpty(e.now);
}

Actions ServiceFsm::StartTimedOut(Usec now) {
  cause_ = Cause::WithSpan(Cause::Kind::kStartTimeout, spec_->timeout_start);
  cause_.notify_type = phase_ == Phase::kStart && NotifyType();
  return EnterStopSignal(Phase::kStopSigterm, ServiceResult::kTimeout, now);
}

Actions ServiceFsm::StoppingOnItsOwn() {
  // The program has begun its own shutdown: stopping, without a signal of ours; the stop
  // timeout still applies.
  if (control_alive_) return {};
  phase_ = Phase::kStopSigterm;
  return {Action::Of(AK::kDisarmWatchdog), Action::Timer(spec_->timeout_stop)};
}

Actions ServiceFsm::RearmWatchdog(const Event& e) const {
  // The interval of kWatchdogUsec is recorded already.
  if (e.kind == K::kWatchdogPing && watchdog_interval().count() == 0) return {};
  if (watchdog_interval().count() == 0) return {Action::Of(AK::kDisarmWatchdog)};
  return {ArmWatchdog()};
}

Actions ServiceFsm::WatchdogFired(const Event& e) {
  if (e.kind == K::kWatchdogTriggered) {
    cause_ = Cause::Of(Cause::Kind::kWatchdogTriggered);
  } else {
    // Said in whole milliseconds.
    cause_ = Cause::WithSpan(Cause::Kind::kWatchdogTimeout,
                       std::chrono::duration_cast<std::chrono::milliseconds>(watchdog_interval()));
  }
  return StopWithWatchdogSignal();
}

// A liveness probe failed FailureThreshold= times: the instance is stopped as a missed watchdog
// stops it (WatchdogSignal=, result watchdog, so Restart= decides as for a watchdog).
Actions ServiceFsm::LivenessFailed(const Event& e) {
  cause_ = Cause::WithText(Cause::Kind::kLivenessProbeFailed, e.message);
  return StopWithWatchdogSignal();
}

// The stop of a missed watchdog or a failed liveness probe, `cause_` already set.
Actions ServiceFsm::StopWithWatchdogSignal() {
  const int sig = spec_->watchdog_signal;
  cause_.signal = sig;
  SetResult(ServiceResult::kWatchdog);
  phase_ = Phase::kStopSigterm;
  Actions acts{Action::Of(AK::kDisarmWatchdog)};
  Append(acts, KillActions(sig, /*final_kill=*/false));
  acts.push_back(Action::Timer(spec_->timeout_stop));
  return acts;
}

Actions ServiceFsm::TypeReady(Usec now) {
  type_ready_ = true;
  if (GateNeeded() && !gate_passed_) return {};  // the probe gate decides
  return EnterStartPost(0, now);
}

Actions ServiceFsm::OverlapRestartNow(Usec now) {
  if (CanOverlapRestart(/*holds_fds=*/true) != OverlapVerdict::kOk) return {};
  // The start limit first: a refused restart must leave the running instance untouched.
  if (StartLimitHit(now)) {
    ++start_attempts_;
    ++overlaps_failed_;
    cause_ = Cause::Of(Cause::Kind::kStartLimitHit);
    cause_.overlap = Cause::Overlap::kRefusedStartLimit;
    cause_.count = start_times_.size();
    cause_.span = spec_->start_limit_interval;
    cause_.burst = spec_->start_limit_burst;
    return {};
  }
  // The running instance leaves the FSM's hands (its processes keep running); what follows is
  // an ordinary start of a new instance.
  Actions acts{Action::Of(AK::kDisarmWatchdog), Action::Of(AK::kDetachInstance)};
  main_alive_ = false;
  spawned_main_confirmed_ = false;
  overlap_pending_ = true;
  old_main_alive_ = true;
  return BeginStart(now, /*automatic=*/false, std::move(acts));
}

Actions ServiceFsm::ContinueWhenEmpty(Usec now) {
  if (!waiting_for_empty()) return {};
  if (main_alive_ || control_alive_) return {};
  // KillMode=control-group: everything got the signal; wait for the whole cgroup.
  if (spec_->kill_mode == KillMode::kControlGroup) return {};
  if (spec_->kill_mode == KillMode::kMixed &&
      (phase_ == Phase::kStopSigterm || phase_ == Phase::kStopSigkill)) {
    // KillMode=mixed, as systemd: once the main (and control) process is gone, on to
    // ExecStopPost=; what is left of the cgroup then gets FinalKillSignal= at once.
    return EnterStopPost(0, result_, now);
  }
  if (spec_->kill_mode == KillMode::kMixed) return {};
  // KillMode=process/none leave the rest of the group alone: only our own processes count,
  // and they are gone.
  return Handle(Event::At(K::kAllGone, now));
}

Actions ServiceFsm::GiveUp() {
  // The processes are left running; the Manager stops tracking them as main/control.
  main_alive_ = control_alive_ = false;
  return {Action::Of(AK::kAbandonProcesses)};
}

}  // namespace supd
