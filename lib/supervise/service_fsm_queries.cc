// ServiceFsm's names, observers and decisions (const: they change nothing), and the events
// with their payload as one-liners over Handle().
#include "lib/supervise/service_fsm.h"

namespace supd {
namespace {

using K = Event::Kind;

}  // namespace

const char* StateName(State s) {
  switch (s) {
    case State::kStopped: return "stopped";
    case State::kStarting: return "starting";
    case State::kRunning: return "running";
    case State::kReloading: return "reloading";
    case State::kStopping: return "stopping";
    case State::kBackoff: return "backoff";
    case State::kFailed: return "failed";
  }
  return "?";
}

const char* PhaseName(Phase p) {
  switch (p) {
    case Phase::kDead: return "dead";
    case Phase::kCondition: return "condition";
    case Phase::kStartPre: return "start-pre";
    case Phase::kStart: return "start";
    case Phase::kStartPost: return "start-post";
    case Phase::kRunning: return "running";
    case Phase::kReload: return "reload";
    case Phase::kStop: return "stop";
    case Phase::kStopSigterm: return "stop-sigterm";
    case Phase::kStopSigkill: return "stop-sigkill";
    case Phase::kStopPost: return "stop-post";
    case Phase::kFinalSigterm: return "final-sigterm";
    case Phase::kFinalSigkill: return "final-sigkill";
    case Phase::kBackoff: return "auto-restart";
  }
  return "?";
}

State ServiceFsm::state() const {
  switch (phase_) {
    case Phase::kDead: return failed_ ? State::kFailed : State::kStopped;
    case Phase::kCondition:
    case Phase::kStartPre:
    case Phase::kStart:
    case Phase::kStartPost: return State::kStarting;
    case Phase::kRunning: return State::kRunning;
    case Phase::kReload: return State::kReloading;
    case Phase::kStop:
    case Phase::kStopSigterm:
    case Phase::kStopSigkill:
    case Phase::kStopPost:
    case Phase::kFinalSigterm:
    case Phase::kFinalSigkill: return State::kStopping;
    case Phase::kBackoff: return State::kBackoff;
  }
  return State::kStopped;
}

bool ServiceFsm::waiting_for_empty() const {
  return phase_ == Phase::kStopSigterm || phase_ == Phase::kStopSigkill ||
         phase_ == Phase::kFinalSigterm || phase_ == Phase::kFinalSigkill;
}

Usec ServiceFsm::watchdog_interval() const {
  if (watchdog_override_) return *watchdog_override_;
  return spec_->watchdog_sec;
}

// ---- Decisions

NotifyVerdict ServiceFsm::AcceptsNotify(SenderRole role) const {
  // A process of an instance set aside or draining (overlap restart): its STOPPING=1 or
  // READY=1 must not steer the new instance.
  if (role == SenderRole::kPreviousInstance) return NotifyVerdict::kPreviousInstance;
  switch (spec_->notify_access) {
    case NotifyAccess::kNone: return NotifyVerdict::kAccessNone;
    case NotifyAccess::kMain:
      return role == SenderRole::kMain ? NotifyVerdict::kAccept : NotifyVerdict::kNotMain;
    case NotifyAccess::kExec:
      return role == SenderRole::kMain || role == SenderRole::kControl
                 ? NotifyVerdict::kAccept
                 : NotifyVerdict::kNotMainOrControl;
    case NotifyAccess::kAll: return NotifyVerdict::kAccept;
  }
  return NotifyVerdict::kAccessNone;
}

MainPidVerdict ServiceFsm::AcceptsMainPid(bool sender_trusted, bool pid_is_control) const {
  if (!sender_trusted) return MainPidVerdict::kUntrustedSender;
  // systemd accepts MAINPID= only while the service has a main process to replace.
  const State st = state();
  if (!main_alive_ ||
      (st != State::kStarting && st != State::kRunning && st != State::kReloading))
    return MainPidVerdict::kNoMainToReplace;
  if (pid_is_control) return MainPidVerdict::kIsControl;
  return MainPidVerdict::kAccept;
}

bool ServiceFsm::WantsActivation() const {
  const State st = state();
  return st == State::kStopped || st == State::kFailed;
}

OverlapVerdict ServiceFsm::CanOverlapRestart(bool holds_fds, bool instance_set_aside) const {
  if (overlap_pending_ || instance_set_aside) return OverlapVerdict::kInProgress;
  if (!holds_fds) return OverlapVerdict::kNoHeldFds;
  // Only READY=1 or an exec: probe of the new instance says that it really serves; for
  // simple/exec "ready" is merely "forked", which would stop the old one before the new one
  // listens (and keep no instance if the new one crashes at start), and an http/tcp probe of
  // the shared socket may be answered by the old instance. Those restart stop-then-start: the
  // held socket refuses nothing, requests wait for the start-up.
  if (!NotifyType() && !ProbeGateTellsInstances(*spec_)) return OverlapVerdict::kNotNotifyType;
  if (spec_->kill_mode == KillMode::kNone) return OverlapVerdict::kKillModeNone;
  if (phase_ != Phase::kRunning) return OverlapVerdict::kNotRunning;
  if (!main_alive_) return OverlapVerdict::kNoMainProcess;
  if (control_alive_) return OverlapVerdict::kControlRunning;
  return OverlapVerdict::kOk;
}

ReloadVerdict ServiceFsm::CanReload() const {
  if (phase_ == Phase::kReload) return ReloadVerdict::kInProgress;
  if (phase_ != Phase::kRunning) return ReloadVerdict::kNotRunning;
  if (spec_->exec_reload.empty() && spec_->type != ServiceType::kNotifyReload)
    return ReloadVerdict::kNoMechanism;
  if (!main_alive_ && spec_->exec_reload.empty()) return ReloadVerdict::kNoMainProcess;
  return ReloadVerdict::kOk;
}

Job ServiceFsm::NewJob(Job::Kind kind) const {
  Job job;
  job.kind = kind;
  job.attempts_before = start_attempts_;
  job.reloads_before = reloads_done_;
  job.overlaps_failed_before = overlaps_failed_;
  // A start of a service already starting is answered by the attempt under way; of a running
  // one, by the attempt that made it run (done at once).
  const State st = state();
  if (kind == Job::Kind::kStart && (st == State::kStarting || st == State::kRunning) &&
      start_attempts_ > 0)
    job.attempts_before = start_attempts_ - 1;
  return job;
}

JobOutcome ServiceFsm::Outcome(const Job& job, bool processes_left) const {
  using O = JobOutcome::Kind;
  const State st = state();
  JobOutcome out;
  out.state = st;
  out.result = result_;
  auto decided = [&](O kind, bool with_cause) {
    out.kind = kind;
    if (with_cause) out.cause = cause_;
    return out;
  };
  const bool dead = st == State::kStopped || st == State::kFailed;
  switch (job.kind) {
    case Job::Kind::kStop:
      return dead && !processes_left ? decided(O::kDone, false) : out;
    case Job::Kind::kReload:
      if (reloads_done_ > job.reloads_before)
        return last_reload_failed_ ? decided(O::kReloadFailed, true) : decided(O::kDone, false);
      if (st != State::kRunning && st != State::kReloading)
        return decided(O::kReloadInterrupted, false);
      return out;
    case Job::Kind::kStart:
    case Job::Kind::kRestart:
    case Job::Kind::kOverlapRestart: break;
  }
  if (start_attempts_ <= job.attempts_before) return out;  // its start has not begun
  switch (st) {
    case State::kRunning:
      if (job.kind == Job::Kind::kOverlapRestart &&
          overlaps_failed_ > job.overlaps_failed_before)
        return decided(O::kOverlapFailed, true);
      if (overlap_pending_) return out;
      return decided(O::kDone, false);
    case State::kStopped:
      // A skipped start (Condition*=, ExecCondition=) or a oneshot that finished: not a
      // failure. A stop that cancelled the start is.
      if (condition_skipped_ || result_ == ServiceResult::kExecCondition)
        return decided(O::kSkipped, true);
      if (!stop_requested_ && result_ == ServiceResult::kSuccess) return decided(O::kDone, true);
      return decided(O::kCancelledByStop, false);
    case State::kFailed: return decided(O::kFailed, true);
    case State::kBackoff: return decided(O::kWillRestart, true);
    case State::kStarting:
    case State::kReloading:
    case State::kStopping: return out;
  }
  return out;
}

// ---- The events with their payload

Actions ServiceFsm::Start(Usec now) { return Handle(Event::At(K::kStart, now)); }
Actions ServiceFsm::Stop(Usec now) { return Handle(Event::At(K::kStop, now)); }
Actions ServiceFsm::Restart(Usec now) { return Handle(Event::At(K::kRestart, now)); }
Actions ServiceFsm::OverlapRestart(Usec now) { return Handle(Event::At(K::kOverlapRestart, now)); }
Actions ServiceFsm::Reload(Usec now) { return Handle(Event::At(K::kReload, now)); }
Actions ServiceFsm::ResetFailed(Usec now) { return Handle(Event::At(K::kResetFailed, now)); }

Actions ServiceFsm::OnConditionsChecked(bool start, bool assert_failed,
                                        const std::string& message, Usec now) {
  Event e = Event::At(K::kConditionsChecked, now);
  e.start = start;
  e.assert_failed = assert_failed;
  e.message = message;
  return Handle(e);
}

Actions ServiceFsm::OnInstancePrepared(uint64_t attempt, const std::string& error, Usec now) {
  Event e = Event::At(K::kInstancePrepared, now);
  e.attempt = attempt;
  e.message = error;
  return Handle(e);
}

Actions ServiceFsm::OnSpawnFailed(const std::string& reason, Usec now) {
  Event e = Event::At(K::kSpawnFailed, now);
  e.message = reason;
  return Handle(e);
}

Actions ServiceFsm::OnMainSpawned(Usec now) { return Handle(Event::At(K::kMainSpawned, now)); }
Actions ServiceFsm::OnMainExecOk(Usec now) { return Handle(Event::At(K::kMainExecOk, now)); }

Actions ServiceFsm::OnMainExited(const ExitStatus& st, const std::string& exec_error, Usec now,
                                 const std::string& oom_reason) {
  Event e = Event::At(K::kMainExited, now);
  e.exit = st;
  e.exec_error = exec_error;
  e.oom_reason = oom_reason;
  return Handle(e);
}

Actions ServiceFsm::OnControlExited(const ExitStatus& st, const std::string& exec_error,
                                    Usec now) {
  Event e = Event::At(K::kControlExited, now);
  e.exit = st;
  e.exec_error = exec_error;
  return Handle(e);
}

Actions ServiceFsm::OnTimer(Usec now, const std::string& gate_blocker) {
  Event e = Event::At(K::kTimer, now);
  e.message = gate_blocker;
  return Handle(e);
}
Actions ServiceFsm::OnAllGone(Usec now) { return Handle(Event::At(K::kAllGone, now)); }
Actions ServiceFsm::OnDetachedMainExited(Usec now) {
  return Handle(Event::At(K::kDetachedMainExited, now));
}
Actions ServiceFsm::OnReady(Usec now) { return Handle(Event::At(K::kReady, now)); }
Actions ServiceFsm::OnReloading(Usec now) { return Handle(Event::At(K::kReloading, now)); }
Actions ServiceFsm::OnStopping(Usec now) { return Handle(Event::At(K::kStopping, now)); }
Actions ServiceFsm::OnWatchdogPing(Usec now) { return Handle(Event::At(K::kWatchdogPing, now)); }
Actions ServiceFsm::OnMainPidChanged(Usec now) {
  return Handle(Event::At(K::kMainPidChanged, now));
}

Actions ServiceFsm::OnWatchdogUsec(Usec usec, Usec now) {
  Event e = Event::At(K::kWatchdogUsec, now);
  e.usec = usec;
  return Handle(e);
}

Actions ServiceFsm::OnExtendTimeout(Usec usec, Usec now) {
  Event e = Event::At(K::kExtendTimeout, now);
  e.usec = usec;
  return Handle(e);
}

Actions ServiceFsm::OnWatchdogTimeout(Usec now, bool triggered) {
  return Handle(Event::At(triggered ? K::kWatchdogTriggered : K::kWatchdogTimeout, now));
}

bool ProbeGateTellsInstances(const ServiceSpec& spec) {
  const std::optional<ProbeSpec>& gate = spec.readiness_probe ? spec.readiness_probe
                                                              : spec.startup_probe;
  return gate && gate->kind == ProbeSpec::Kind::kExec;
}

bool ServiceFsm::wants_probes() const {
  if (!spec_->startup_probe && !spec_->readiness_probe && !spec_->liveness_probe) return false;
  if (!main_alive_) return false;
  switch (phase_) {
    case Phase::kStart:
    case Phase::kStartPost:
    case Phase::kRunning:
    case Phase::kReload: return true;
    default: return false;
  }
}

bool ServiceFsm::stop_explains_exit() const {
  if (phase_ == Phase::kStopSigkill || phase_ == Phase::kFinalSigkill) return true;
  if (phase_ != Phase::kStopSigterm) return false;
  switch (cause_.kind) {
    case Cause::Kind::kWatchdogTimeout:
    case Cause::Kind::kWatchdogTriggered:
    case Cause::Kind::kLivenessProbeFailed: return true;
    default: return false;
  }
}

bool ServiceFsm::GateNeeded() const {
  if (!spec_->startup_probe && !spec_->readiness_probe) return false;
  // In an overlap restart, a probe that the old instance may answer proves nothing of the new
  // one: READY=1 alone decides then (supctl check says so).
  return !overlap_pending_ || ProbeGateTellsInstances(*spec_);
}

Actions ServiceFsm::OnProbeGatePassed(Usec now) {
  return Handle(Event::At(K::kProbeGatePassed, now));
}
Actions ServiceFsm::OnStartupProbeFailed(const std::string& what, Usec now) {
  Event e = Event::At(K::kStartupProbeFailed, now);
  e.message = what;
  return Handle(e);
}
Actions ServiceFsm::OnLivenessProbeFailed(const std::string& what, Usec now) {
  Event e = Event::At(K::kLivenessProbeFailed, now);
  e.message = what;
  return Handle(e);
}
Actions ServiceFsm::OnReadinessChanged(bool ready, Usec now) {
  Event e = Event::At(K::kReadinessChanged, now);
  e.start = ready;
  return Handle(e);
}

}  // namespace supd
