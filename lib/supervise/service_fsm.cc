#include "lib/supervise/service_fsm.h"

#include <signal.h>
#include <string.h>

#include <algorithm>
#include <cmath>

namespace supd {
namespace {

Action Timer(Usec delay) {
  if (delay == kInfinity) return Action{Action::Kind::kDisarmTimer};
  Action a{Action::Kind::kArmTimer};
  a.delay = delay;
  return a;
}

Action Disarm() { return Action{Action::Kind::kDisarmTimer}; }

Action SignalTo(KillTarget t, int sig) {
  Action a{Action::Kind::kSignal};
  a.target = t;
  a.signal = sig;
  return a;
}

std::string FormatSpan(Usec u) {
  if (u == kInfinity) return "infinity";
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(u).count();
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

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

const char* ResultName(ServiceResult r) {
  switch (r) {
    case ServiceResult::kSuccess: return "success";
    case ServiceResult::kResources: return "resources";
    case ServiceResult::kTimeout: return "timeout";
    case ServiceResult::kExitCode: return "exit-code";
    case ServiceResult::kSignal: return "signal";
    case ServiceResult::kCoreDump: return "core-dump";
    case ServiceResult::kWatchdog: return "watchdog";
    case ServiceResult::kStartLimitHit: return "start-limit-hit";
    case ServiceResult::kExecCondition: return "exec-condition";
    case ServiceResult::kAssert: return "assert";
    case ServiceResult::kOomKill: return "oom-kill";
  }
  return "?";
}

const char* CommandListName(CommandList l) {
  switch (l) {
    case CommandList::kCondition: return "ExecCondition";
    case CommandList::kStartPre: return "ExecStartPre";
    case CommandList::kStart: return "ExecStart";
    case CommandList::kStartPost: return "ExecStartPost";
    case CommandList::kReload: return "ExecReload";
    case CommandList::kStop: return "ExecStop";
    case CommandList::kStopPost: return "ExecStopPost";
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

const std::vector<ExecCommand>& ServiceFsm::List(CommandList l) const {
  switch (l) {
    case CommandList::kCondition: return spec_->exec_condition;
    case CommandList::kStartPre: return spec_->exec_start_pre;
    case CommandList::kStart: return spec_->exec_start;
    case CommandList::kStartPost: return spec_->exec_start_post;
    case CommandList::kReload: return spec_->exec_reload;
    case CommandList::kStop: return spec_->exec_stop;
    case CommandList::kStopPost: return spec_->exec_stop_post;
  }
  return spec_->exec_start;
}

Action ServiceFsm::SpawnControl(CommandList l, size_t i) {
  control_alive_ = true;
  control_list_ = l;
  control_index_ = i;
  Action a{Action::Kind::kSpawnControl};
  a.list = l;
  a.index = i;
  return a;
}

void ServiceFsm::SetResult(ServiceResult r) {
  // The first failure is the one that explains the rest, as in systemd.
  if (result_ == ServiceResult::kSuccess) result_ = r;
}

bool ServiceFsm::IsCleanExit(const ExitStatus& st) const {
  if (st.exited) return st.code == 0 || spec_->success_exit_status.codes.count(st.code) > 0;
  if (spec_->success_exit_status.signals.count(st.signal) > 0) return true;
  // systemd treats these as a clean end of a daemon, except for oneshot services.
  if (spec_->type == ServiceType::kOneshot) return false;
  return st.signal == SIGHUP || st.signal == SIGINT || st.signal == SIGTERM || st.signal == SIGPIPE;
}

ServiceResult ServiceFsm::ResultOfExit(const ExitStatus& st) const {
  if (IsCleanExit(st)) return ServiceResult::kSuccess;
  if (st.exited) return ServiceResult::kExitCode;
  return st.core_dumped ? ServiceResult::kCoreDump : ServiceResult::kSignal;
}

bool ServiceFsm::ShouldRestart() const {
  if (condition_skipped_) return false;
  if (result_ == ServiceResult::kStartLimitHit || result_ == ServiceResult::kExecCondition ||
      result_ == ServiceResult::kAssert)
    return false;
  if (last_main_exit_) {
    const ExitStatus& st = *last_main_exit_;
    const ExitStatusSet& prevent = spec_->restart_prevent_exit_status;
    const ExitStatusSet& force = spec_->restart_force_exit_status;
    if (st.exited ? prevent.codes.count(st.code) : prevent.signals.count(st.signal)) return false;
    if (st.exited ? force.codes.count(st.code) : force.signals.count(st.signal)) return true;
  }
  switch (spec_->restart) {
    case RestartPolicy::kNo: return false;
    case RestartPolicy::kAlways: return true;
    case RestartPolicy::kOnSuccess: return result_ == ServiceResult::kSuccess;
    case RestartPolicy::kOnFailure: return result_ != ServiceResult::kSuccess;
    case RestartPolicy::kOnAbnormal:
      return result_ != ServiceResult::kSuccess && result_ != ServiceResult::kExitCode;
    case RestartPolicy::kOnWatchdog: return result_ == ServiceResult::kWatchdog;
    case RestartPolicy::kOnAbort:
      return result_ == ServiceResult::kSignal || result_ == ServiceResult::kCoreDump;
  }
  return false;
}

Usec ServiceFsm::RestartDelay() const {
  const Usec base = spec_->restart_sec;
  const Usec max = spec_->restart_max_delay;
  if (spec_->restart_steps == 0 || max == kInfinity || max <= base) return base;
  // systemd >= 254: the delay grows exponentially from RestartSec= to RestartMaxDelaySec= over
  // RestartSteps= restarts.
  const double lo = std::max<double>(static_cast<double>(base.count()), 1000.0);
  const double hi = static_cast<double>(max.count());
  const unsigned n = std::min(restart_streak_, spec_->restart_steps);
  const double f = static_cast<double>(n) / spec_->restart_steps;
  // At most `max`: near 2^63 µs the double rounds up past what int64 holds, and converting that
  // back is undefined.
  const double d = lo * std::pow(hi / lo, f);
  return d >= hi ? max : Usec(static_cast<int64_t>(d));
}

Actions ServiceFsm::KillActions(int sig, bool final_kill) const {
  Actions acts;
  switch (spec_->kill_mode) {
    case KillMode::kControlGroup:
      acts.push_back(SignalTo(KillTarget::kAll, sig));
      break;
    case KillMode::kMixed:
      if (final_kill) {
        acts.push_back(SignalTo(KillTarget::kAll, sig));
        break;
      }
      [[fallthrough]];
    case KillMode::kProcess:
      if (main_alive_) acts.push_back(SignalTo(KillTarget::kMain, sig));
      if (control_alive_) acts.push_back(SignalTo(KillTarget::kControl, sig));
      break;
    case KillMode::kNone:
      break;
  }
  return acts;
}

// ---- Commands ----

Actions ServiceFsm::Start(Usec now) {
  now_ = now;
  switch (state()) {
    case State::kStopped:
    case State::kFailed:
      return BeginStart(now, /*automatic=*/false);
    case State::kBackoff:
      return BeginStart(now, /*automatic=*/false);
    case State::kStopping:
      start_queued_ = true;
      return {};
    case State::kStarting:
    case State::kRunning:
    case State::kReloading:
      return {};
  }
  return {};
}

Actions ServiceFsm::Stop() {
  start_queued_ = false;
  if (overlap_pending_) {
    // Stop both instances at once, not one after the other.
    overlap_pending_ = false;
    Actions acts{Action{Action::Kind::kStopOldInstance}};
    Actions more = Stop();
    acts.insert(acts.end(), more.begin(), more.end());
    return acts;
  }
  switch (phase_) {
    case Phase::kDead:
      return {};
    case Phase::kBackoff:
      phase_ = Phase::kDead;
      failed_ = false;
      cause_ = "stopped while waiting to restart";
      return {Disarm()};
    case Phase::kCondition:
    case Phase::kStartPre:
    case Phase::kStart:
    case Phase::kStartPost:
      // As systemd: a start in progress is signalled; ExecStop= is for a started service.
      stop_requested_ = true;
      return EnterStopSignal(Phase::kStopSigterm, ServiceResult::kSuccess, {});
    case Phase::kReload:
      if (control_alive_) {
        // An ExecReload= is still running: signal everything, as systemd does.
        stop_requested_ = true;
        return EnterStopSignal(Phase::kStopSigterm, ServiceResult::kSuccess, {});
      }
      [[fallthrough]];
    case Phase::kRunning:
      stop_requested_ = true;
      return EnterStop(ServiceResult::kSuccess, {});
    case Phase::kStop:
    case Phase::kStopSigterm:
    case Phase::kStopSigkill:
    case Phase::kStopPost:
    case Phase::kFinalSigterm:
    case Phase::kFinalSigkill:
      stop_requested_ = true;
      return {};
  }
  return {};
}

Actions ServiceFsm::Restart(Usec now) {
  now_ = now;
  switch (state()) {
    case State::kStopped:
    case State::kFailed:
    case State::kBackoff:
      return BeginStart(now, /*automatic=*/false);
    case State::kStopping:
      stop_requested_ = true;
      start_queued_ = true;
      return {};
    case State::kStarting:
    case State::kRunning:
    case State::kReloading: {
      Actions acts = Stop();
      start_queued_ = true;
      return acts;
    }
  }
  return {};
}

std::string ServiceFsm::CanOverlapRestart() const {
  if (overlap_pending_) return "a restart is already in progress";
  // Only READY=1 says that the new instance really serves; for simple/exec "ready" is merely
  // "forked", which would stop the old one before the new one listens (and keep no instance if
  // the new one crashes at start). Those restart stop-then-start: the held socket refuses
  // nothing, requests wait for the start-up.
  if (!NotifyType()) return "overlap restarts need Type=notify (READY=1 tells when to switch)";
  if (spec_->kill_mode == KillMode::kNone) return "KillMode=none could not stop the old instance";
  if (phase_ != Phase::kRunning) return std::string("the service is ") + StateName(state());
  if (!main_alive_) return "the service has no main process";
  if (control_alive_) return "a control process is running";
  return "";
}

Actions ServiceFsm::OverlapRestart(Usec now) {
  now_ = now;
  if (!CanOverlapRestart().empty()) return {};
  {
    // The start limit first: a refused restart must leave the running instance untouched.
    const Usec interval = spec_->start_limit_interval;
    if (interval.count() > 0 && interval != kInfinity && spec_->start_limit_burst > 0) {
      std::erase_if(start_times_, [&](Usec t) { return now - t >= interval; });
      if (start_times_.size() >= spec_->start_limit_burst) {
        ++start_attempts_;
        ++overlaps_failed_;
        cause_ = "restart refused, the running instance goes on: start limit hit (" +
                 std::to_string(start_times_.size()) + " starts within " + FormatSpan(interval) +
                 ")";
        return {};
      }
    }
  }
  // The running instance leaves the FSM's hands (its processes keep running); what follows is
  // an ordinary start of a new instance.
  Actions acts{Action{Action::Kind::kDisarmWatchdog}, Action{Action::Kind::kDetachInstance}};
  main_alive_ = false;
  spawned_main_confirmed_ = false;
  overlap_pending_ = true;
  old_main_alive_ = true;
  Actions start = BeginStart(now, /*automatic=*/false);
  acts.insert(acts.end(), start.begin(), start.end());
  return acts;
}

Actions ServiceFsm::OnDetachedMainExited() {
  old_main_alive_ = false;
  return {};
}

Actions ServiceFsm::ResetFailed() {
  start_times_.clear();
  if (phase_ == Phase::kDead && failed_) {
    failed_ = false;
    result_ = ServiceResult::kSuccess;
    cause_.clear();
  }
  return {};
}

// ---- The start sequence ----

Actions ServiceFsm::BeginStart(Usec now, bool automatic) {
  ++start_attempts_;
  gave_up_ = false;
  Actions acts{Disarm()};
  const Usec interval = spec_->start_limit_interval;
  if (interval.count() > 0 && interval != kInfinity && spec_->start_limit_burst > 0) {
    std::erase_if(start_times_, [&](Usec t) { return now - t >= interval; });
    if (start_times_.size() >= spec_->start_limit_burst) {
      phase_ = Phase::kDead;
      failed_ = true;
      result_ = ServiceResult::kStartLimitHit;
      cause_ = "start limit hit: " + std::to_string(start_times_.size()) + " starts within " +
               FormatSpan(interval) + " (StartLimitBurst=" +
               std::to_string(spec_->start_limit_burst) + ", StartLimitIntervalSec=" +
               FormatSpan(interval) + ")";
      start_queued_ = false;
      return acts;
    }
    start_times_.push_back(now);
  }
  if (!automatic) restart_streak_ = 0;
  result_ = ServiceResult::kSuccess;
  failed_ = false;
  stop_requested_ = false;
  start_queued_ = false;
  last_main_exit_.reset();
  condition_skipped_ = false;
  watchdog_override_.reset();
  cause_.clear();
  acts.push_back(Action{Action::Kind::kDisarmWatchdog});
  acts.push_back(Action{Action::Kind::kResetInstance});
  acts.push_back(Action{Action::Kind::kCheckConditions});
  phase_ = Phase::kCondition;  // until OnConditionsChecked()
  return acts;
}

Actions ServiceFsm::OnConditionsChecked(bool start, bool assert_failed, const std::string& message,
                                        Usec now) {
  now_ = now;
  if (phase_ != Phase::kCondition || control_alive_) return {};
  if (!start) {
    cause_ = message;
    if (assert_failed) return EnterDead(ServiceResult::kAssert, now, {});
    // A false Condition*= is not a failure (result stays "success") and never a restart.
    condition_skipped_ = true;
    return EnterDead(ServiceResult::kSuccess, now, {});
  }
  return EnterCondition(0, {});
}

Actions ServiceFsm::EnterCondition(size_t from, Actions acts) {
  if (from >= spec_->exec_condition.size()) return EnterStartPre(0, std::move(acts));
  phase_ = Phase::kCondition;
  acts.push_back(Timer(spec_->timeout_start));
  acts.push_back(SpawnControl(CommandList::kCondition, from));
  return acts;
}

Actions ServiceFsm::EnterStartPre(size_t from, Actions acts) {
  if (from >= spec_->exec_start_pre.size()) return EnterStart(0, std::move(acts));
  phase_ = Phase::kStartPre;
  acts.push_back(Timer(spec_->timeout_start));
  acts.push_back(SpawnControl(CommandList::kStartPre, from));
  return acts;
}

Actions ServiceFsm::EnterStart(size_t from, Actions acts) {
  if (from >= spec_->exec_start.size()) return EnterStartPost(0, std::move(acts));
  phase_ = Phase::kStart;
  main_index_ = from;
  main_alive_ = true;
  acts.push_back(Timer(spec_->timeout_start));
  Action a{Action::Kind::kSpawnMain};
  a.list = CommandList::kStart;
  a.index = from;
  acts.push_back(a);
  return acts;
}

Actions ServiceFsm::EnterStartPost(size_t from, Actions acts) {
  if (from >= spec_->exec_start_post.size()) return EnterRunning(std::move(acts));
  phase_ = Phase::kStartPost;
  acts.push_back(Timer(spec_->timeout_start));
  acts.push_back(SpawnControl(CommandList::kStartPost, from));
  return acts;
}

Actions ServiceFsm::EnterRunning(Actions acts) {
  if (!main_alive_ &&
      !(spec_->type == ServiceType::kOneshot && spec_->remain_after_exit)) {
    // Nothing left to run: a oneshot that finished, or a main process that already exited.
    return EnterStop(ServiceResult::kSuccess, std::move(acts));
  }
  phase_ = Phase::kRunning;
  acts.push_back(Disarm());
  if (overlap_pending_) {
    // The new instance is ready: now, and only now, the old one is asked to stop.
    overlap_pending_ = false;
    acts.push_back(Action{Action::Kind::kStopOldInstance});
  }
  if (watchdog_interval().count() > 0 && main_alive_) {
    // systemd: the watchdog is active once the start-up is complete.
    Action w{Action::Kind::kArmWatchdog};
    w.delay = watchdog_interval();
    acts.push_back(w);
  }
  return acts;
}

bool ServiceFsm::NotifyType() const {
  return spec_->type == ServiceType::kNotify || spec_->type == ServiceType::kNotifyReload;
}

Usec ServiceFsm::watchdog_interval() const {
  if (watchdog_override_) return *watchdog_override_;
  return spec_->watchdog_sec;
}

Actions ServiceFsm::EndReload(bool failed, Actions acts) {
  ++reloads_done_;
  last_reload_failed_ = failed;
  phase_ = Phase::kRunning;
  acts.push_back(Disarm());
  return acts;
}

std::string ServiceFsm::CanReload() const {
  if (phase_ == Phase::kReload) return "a reload is already in progress";
  if (phase_ != Phase::kRunning) return std::string("the service is ") + StateName(state());
  if (spec_->exec_reload.empty() && spec_->type != ServiceType::kNotifyReload)
    return "the unit has no ExecReload= (and is not Type=notify-reload)";
  if (!main_alive_ && spec_->exec_reload.empty()) return "the service has no main process";
  return "";
}

Actions ServiceFsm::Reload() {
  if (!CanReload().empty()) return {};
  phase_ = Phase::kReload;
  reload_needs_reloading_ = false;
  Actions acts{Timer(spec_->timeout_start)};
  if (!spec_->exec_reload.empty()) {
    acts.push_back(SpawnControl(CommandList::kReload, 0));
    return acts;
  }
  // Type=notify-reload: the signal asks, RELOADING=1 … READY=1 answers; a READY=1 before the
  // RELOADING=1 (a program re-sending READY with STATUS) does not end the reload.
  reload_needs_reloading_ = true;
  acts.push_back(SignalTo(KillTarget::kMain, spec_->reload_signal));
  return acts;
}

Actions ServiceFsm::OnReloading() {
  if (phase_ == Phase::kReload) {
    reload_needs_reloading_ = false;
    return {};
  }
  if (phase_ != Phase::kRunning) return {};
  reload_needs_reloading_ = false;
  phase_ = Phase::kReload;
  return {Timer(spec_->timeout_start)};
}

Actions ServiceFsm::OnStopping() {
  // The program has begun its own shutdown: stopping, without a signal of ours; the stop
  // timeout still applies.
  if (phase_ != Phase::kRunning && phase_ != Phase::kReload && phase_ != Phase::kStartPost &&
      phase_ != Phase::kStart)
    return {};
  if (control_alive_) return {};
  phase_ = Phase::kStopSigterm;
  return {Action{Action::Kind::kDisarmWatchdog}, Timer(spec_->timeout_stop)};
}

Actions ServiceFsm::OnWatchdogPing() {
  if ((phase_ != Phase::kRunning && phase_ != Phase::kReload) || watchdog_interval().count() == 0)
    return {};
  Action w{Action::Kind::kArmWatchdog};
  w.delay = watchdog_interval();
  return {w};
}

Actions ServiceFsm::OnWatchdogUsec(Usec usec) {
  // "infinity" (USEC_INFINITY) means no watchdog, as in systemd.
  if (usec == kInfinity) usec = Usec(0);
  watchdog_override_ = usec;
  if (phase_ != Phase::kRunning && phase_ != Phase::kReload) return {};
  if (usec.count() == 0) return {Action{Action::Kind::kDisarmWatchdog}};
  Action w{Action::Kind::kArmWatchdog};
  w.delay = usec;
  return {w};
}

Actions ServiceFsm::OnExtendTimeout(Usec usec) {
  if (state() != State::kStarting && state() != State::kStopping && phase_ != Phase::kReload)
    return {};
  Action a{Action::Kind::kExtendTimer};
  a.delay = usec;
  return {a};
}

Actions ServiceFsm::OnWatchdogTimeout(Usec now, bool triggered) {
  now_ = now;
  if (phase_ != Phase::kRunning && phase_ != Phase::kReload) return {};
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(watchdog_interval());
  if (triggered) {
    cause_ = "watchdog triggered by the program (WATCHDOG=trigger), sent " +
             SigName(spec_->watchdog_signal);
  } else {
    cause_ = "watchdog timeout: no WATCHDOG=1 within " + FormatSpan(ms) + ", sent " +
             SigName(spec_->watchdog_signal);
  }
  SetResult(ServiceResult::kWatchdog);
  phase_ = Phase::kStopSigterm;
  Actions acts{Action{Action::Kind::kDisarmWatchdog}};
  Actions kills = KillActions(spec_->watchdog_signal, false);
  acts.insert(acts.end(), kills.begin(), kills.end());
  acts.push_back(Timer(spec_->timeout_stop));
  return acts;
}

// ---- The stop sequence ----

Actions ServiceFsm::EnterStop(ServiceResult r, Actions acts) {
  SetResult(r);
  acts.push_back(Action{Action::Kind::kDisarmWatchdog});
  if (spec_->exec_stop.empty()) return EnterStopSignal(Phase::kStopSigterm, r, std::move(acts));
  phase_ = Phase::kStop;
  acts.push_back(Timer(spec_->timeout_stop));
  acts.push_back(SpawnControl(CommandList::kStop, 0));
  return acts;
}

Actions ServiceFsm::EnterStopSignal(Phase p, ServiceResult r, Actions acts) {
  SetResult(r);
  acts.push_back(Action{Action::Kind::kDisarmWatchdog});
  phase_ = p;
  const bool final_kill = (p == Phase::kStopSigkill || p == Phase::kFinalSigkill);
  const int sig = final_kill ? spec_->final_kill_signal : spec_->kill_signal;
  Actions kills = KillActions(sig, final_kill);
  if (kills.empty() && spec_->kill_mode == KillMode::kNone) {
    // KillMode=none: nothing is signalled and nothing waited for; what runs, stays (systemd
    // warns about this mode for the same reason).
    main_alive_ = control_alive_ = false;
    gave_up_ = true;
    acts.push_back(Action{Action::Kind::kAbandonProcesses});
    if (p == Phase::kFinalSigterm || p == Phase::kFinalSigkill) return EnterDead(r, now_, acts);
    return EnterStopPost(0, r, std::move(acts), now_);
  }
  acts.insert(acts.end(), kills.begin(), kills.end());
  if (!final_kill && spec_->send_sighup && !kills.empty()) {
    Actions hups = KillActions(SIGHUP, false);
    acts.insert(acts.end(), hups.begin(), hups.end());
  }
  acts.push_back(Timer(spec_->timeout_stop));
  return acts;
}

Actions ServiceFsm::EnterStopPost(size_t from, ServiceResult r, Actions acts, Usec now) {
  SetResult(r);
  if (from >= spec_->exec_stop_post.size()) {
    // KillMode=mixed got here without waiting for the cgroup: SIGKILL what is left.
    if (spec_->kill_mode == KillMode::kMixed)
      return EnterStopSignal(Phase::kFinalSigkill, r, std::move(acts));
    if (from == 0) return EnterDead(r, now, std::move(acts));
    // ExecStopPost= ran: kill whatever it left behind.
    return EnterStopSignal(Phase::kFinalSigterm, r, std::move(acts));
  }
  phase_ = Phase::kStopPost;
  acts.push_back(Timer(spec_->timeout_stop));
  acts.push_back(SpawnControl(CommandList::kStopPost, from));
  return acts;
}

Actions ServiceFsm::EnterDead(ServiceResult r, Usec now, Actions acts) {
  SetResult(r);
  main_alive_ = false;
  control_alive_ = false;
  acts.push_back(Disarm());
  if (overlap_pending_) {
    overlap_pending_ = false;
    if (!stop_requested_ && !old_main_alive_) {
      // The new instance failed and the old one is gone too (it died meanwhile): nothing to go
      // back to; clean up what is left of it and let Restart= decide, as after any failure.
      ++overlaps_failed_;
      cause_ = "restart failed and the previous instance had exited: " +
               (cause_.empty() ? std::string(ResultName(result_)) : cause_);
      acts.push_back(Action{Action::Kind::kStopOldInstance});
    } else if (!stop_requested_) {
      // The new instance failed to become ready: it is gone, the old one is the service again
      // and never stopped serving.
      ++overlaps_failed_;
      cause_ = "restart failed, the previous instance keeps serving: " +
               (cause_.empty() ? std::string(ResultName(result_)) : cause_);
      result_ = ServiceResult::kSuccess;
      main_alive_ = true;
      phase_ = Phase::kRunning;
      acts.push_back(Action{Action::Kind::kReattachOldInstance});
      if (watchdog_interval().count() > 0) {
        Action w{Action::Kind::kArmWatchdog};
        w.delay = watchdog_interval();
        acts.push_back(w);
      }
      return acts;
    }
    if (stop_requested_) acts.push_back(Action{Action::Kind::kStopOldInstance});
  }
  if (start_queued_) {
    Actions more = BeginStart(now, /*automatic=*/false);
    acts.insert(acts.end(), more.begin(), more.end());
    return acts;
  }
  if (!stop_requested_ && ShouldRestart()) {
    phase_ = Phase::kBackoff;
    const Usec delay = RestartDelay();
    if (cause_.empty()) cause_ = ResultName(result_);
    acts.push_back(Timer(delay));
    return acts;
  }
  phase_ = Phase::kDead;
  failed_ = result_ != ServiceResult::kSuccess && result_ != ServiceResult::kExecCondition;
  return acts;
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
    return EnterStopPost(0, result_, {}, now);
  }
  if (spec_->kill_mode == KillMode::kMixed) return {};
  // KillMode=process/none leave the rest of the group alone: only our own processes count.
  return OnAllGone(now);
}

Actions ServiceFsm::OnAllGone(Usec now) {
  now_ = now;
  if (main_alive_ || control_alive_) return {};
  switch (phase_) {
    case Phase::kStopSigterm:
    case Phase::kStopSigkill:
      return EnterStopPost(0, result_, {}, now);
    case Phase::kFinalSigterm:
    case Phase::kFinalSigkill:
      return EnterDead(result_, now, {});
    default:
      return {};
  }
}

// ---- Outcomes ----

Actions ServiceFsm::OnSpawnFailed(const std::string& reason, Usec now) {
  now_ = now;
  cause_ = reason;
  if (main_alive_ && phase_ == Phase::kStart && !spawned_main_confirmed_) {
    main_alive_ = false;
  } else if (control_alive_) {
    control_alive_ = false;
  } else {
    return {};
  }
  switch (phase_) {
    case Phase::kCondition:
    case Phase::kStartPre:
    case Phase::kStart:
      return EnterStopSignal(Phase::kStopSigterm, ServiceResult::kResources, {});
    case Phase::kStartPost:
      return EnterStop(ServiceResult::kResources, {});
    case Phase::kStop:
      return EnterStopSignal(Phase::kStopSigterm, ServiceResult::kResources, {});
    case Phase::kStopPost:
      return EnterStopSignal(Phase::kFinalSigterm, ServiceResult::kResources, {});
    case Phase::kReload:
      return EndReload(true, {});
    default:
      return {};
  }
}

Actions ServiceFsm::OnMainSpawned() {
  spawned_main_confirmed_ = true;
  if (phase_ == Phase::kStart && spec_->type == ServiceType::kSimple)
    return EnterStartPost(0, {});
  return {};
}

Actions ServiceFsm::OnMainExecOk() {
  if (phase_ == Phase::kStart && spec_->type == ServiceType::kExec && main_alive_)
    return EnterStartPost(0, {});
  return {};
}

Actions ServiceFsm::OnReady() {
  if (phase_ == Phase::kStart && NotifyType() && main_alive_) return EnterStartPost(0, {});
  if (phase_ == Phase::kReload && !control_alive_ && !reload_needs_reloading_) {
    Actions acts = EndReload(false, {});
    if (watchdog_interval().count() > 0) {
      Action w{Action::Kind::kArmWatchdog};
      w.delay = watchdog_interval();
      acts.push_back(w);
    }
    return acts;
  }
  return {};
}

Actions ServiceFsm::OnMainExited(const ExitStatus& st, const std::string& exec_error, Usec now,
                                 const std::string& oom_reason) {
  now_ = now;
  if (!main_alive_) return {};
  main_alive_ = false;
  spawned_main_confirmed_ = false;
  last_main_exit_ = st;
  ServiceResult r = exec_error.empty() ? ResultOfExit(st) : ServiceResult::kExitCode;
  if (!oom_reason.empty()) r = ServiceResult::kOomKill;
  const bool ok = r == ServiceResult::kSuccess;
  const bool stopping = state() == State::kStopping;
  // During a stop the stop's own cause (e.g. "stop timeout") explains more than the exit does.
  if (!ok && (!stopping || cause_.empty()))
    cause_ = exec_error.empty()
                 ? "main process " + (oom_reason.empty() ? DescribeExit(st) : oom_reason)
                 : exec_error;

  switch (phase_) {
    case Phase::kStart:
      if (spec_->type == ServiceType::kOneshot) {
        const bool ignore = main_index_ < spec_->exec_start.size() &&
                            spec_->exec_start[main_index_].ignore_failure;
        if (ok || (ignore && exec_error.empty())) return EnterStart(main_index_ + 1, {});
        return EnterStopSignal(Phase::kStopSigterm, r, {});
      }
      // Died before it was ready (Type=exec/notify).
      if (ok) SetResult(ServiceResult::kSuccess);
      return EnterStopSignal(Phase::kStopSigterm, ok ? ServiceResult::kExitCode : r, {});
    case Phase::kStartPost:
      if (ok) return {};  // EnterRunning() notices the main process is gone
      return EnterStopSignal(Phase::kStopSigterm, r, {});
    case Phase::kReload:
      if (control_alive_) return EnterStopSignal(Phase::kStopSigterm, r, {});
      ++reloads_done_;
      last_reload_failed_ = true;
      return EnterStop(r, {});
    case Phase::kRunning:
      return EnterStop(r, {});
    case Phase::kStop:
    case Phase::kStopPost:
      SetResult(r);
      return {};
    case Phase::kStopSigterm:
    case Phase::kStopSigkill:
    case Phase::kFinalSigterm:
    case Phase::kFinalSigkill:
      // Dying of the signal we sent is the stop working, not a failure.
      if (!st.exited && (st.signal == spec_->kill_signal || st.signal == spec_->final_kill_signal))
        return ContinueWhenEmpty(now);
      SetResult(r);
      return ContinueWhenEmpty(now);
    default:
      return {};
  }
}

Actions ServiceFsm::OnControlExited(const ExitStatus& st, const std::string& exec_error,
                                    Usec now) {
  now_ = now;
  if (!control_alive_) return {};
  control_alive_ = false;
  const auto& list = List(control_list_);
  const bool ignore = control_index_ < list.size() && list[control_index_].ignore_failure;
  // Commands are judged by systemd's EXIT_CLEAN_COMMAND: exit 0 only; SuccessExitStatus= and
  // the "clean" daemon signals are for the main process.
  ServiceResult r = ServiceResult::kSuccess;
  if (!exec_error.empty() || (st.exited && st.code != 0)) r = ServiceResult::kExitCode;
  if (exec_error.empty() && !st.exited)
    r = st.core_dumped ? ServiceResult::kCoreDump : ServiceResult::kSignal;
  const bool ok = r == ServiceResult::kSuccess || (ignore && exec_error.empty());
  std::string what = std::string(CommandListName(control_list_)) + "=";
  if (control_index_ < list.size())
    what += list[control_index_].path + " (" + list[control_index_].source + ")";
  if (!ok) cause_ = exec_error.empty() ? what + " " + DescribeExit(st) : exec_error;
  const size_t next = control_index_ + 1;

  switch (phase_) {
    case Phase::kCondition:
      if (ok) return EnterCondition(next, {});
      if (exec_error.empty() && st.exited && st.code >= 1 && st.code <= 254) {
        // systemd: 1-254 means "skip this start", like a failed Condition*=.
        cause_ = what + " " + DescribeExit(st) + ": start skipped";
        return EnterStopSignal(Phase::kStopSigterm, ServiceResult::kExecCondition, {});
      }
      return EnterStopSignal(Phase::kStopSigterm, r, {});
    case Phase::kStartPre:
      if (ok) return EnterStartPre(next, {});
      return EnterStopSignal(Phase::kStopSigterm, r, {});
    case Phase::kStartPost:
      if (ok) return EnterStartPost(next, {});
      return EnterStop(r, {});
    case Phase::kReload:
      if (!ok) return EndReload(true, {});
      if (next < spec_->exec_reload.size()) {
        Actions acts{Timer(spec_->timeout_start)};
        acts.push_back(SpawnControl(CommandList::kReload, next));
        return acts;
      }
      if (!main_alive_) return EndReload(false, {});
      {
        Actions acts = EndReload(false, {});
        if (watchdog_interval().count() > 0) {
          Action w{Action::Kind::kArmWatchdog};
          w.delay = watchdog_interval();
          acts.push_back(w);
        }
        return acts;
      }
    case Phase::kStop:
      if (!ok) SetResult(r);
      if (next < spec_->exec_stop.size()) {
        Actions acts{Timer(spec_->timeout_stop)};
        acts.push_back(SpawnControl(CommandList::kStop, next));
        return acts;
      }
      return EnterStopSignal(Phase::kStopSigterm, result_, {});
    case Phase::kStopPost:
      if (!ok) SetResult(r);
      return EnterStopPost(next, result_, {}, now);
    case Phase::kStopSigterm:
    case Phase::kStopSigkill:
    case Phase::kFinalSigterm:
    case Phase::kFinalSigkill:
      return ContinueWhenEmpty(now);
    default:
      return {};
  }
}

Actions ServiceFsm::OnTimer(Usec now) {
  now_ = now;
  const std::string start_span = FormatSpan(spec_->timeout_start);
  const std::string stop_span = FormatSpan(spec_->timeout_stop);
  switch (phase_) {
    case Phase::kCondition:
    case Phase::kStartPre:
    case Phase::kStart:
      if (phase_ == Phase::kStart && NotifyType())
        cause_ = "start timeout: no READY=1 within " + start_span + " (TimeoutStartSec=)";
      else
        cause_ = std::string("start timeout: not ready within TimeoutStartSec=") + start_span;
      return EnterStopSignal(Phase::kStopSigterm, ServiceResult::kTimeout, {});
    case Phase::kReload: {
      // systemd: a reload that does not finish in time fails; the service keeps running.
      cause_ = "reload timeout: not done within " + start_span;
      Actions acts;
      if (control_alive_) acts.push_back(SignalTo(KillTarget::kControl, SIGKILL));
      Actions more = EndReload(true, std::move(acts));
      return more;
    }
    case Phase::kStartPost:
      cause_ = "start timeout: ExecStartPost= did not finish within TimeoutStartSec=" + start_span;
      return EnterStopSignal(Phase::kStopSigterm, ServiceResult::kTimeout, {});
    case Phase::kStop:
      cause_ = "stop timeout: ExecStop= did not finish within TimeoutStopSec=" + stop_span;
      return EnterStopSignal(Phase::kStopSigterm, ServiceResult::kTimeout, {});
    case Phase::kStopSigterm:
      cause_ = "stop timeout: processes still running " + stop_span + " after " +
               SigName(spec_->kill_signal);
      if (spec_->send_sigkill) {
        cause_ += ", sent " + SigName(spec_->final_kill_signal);
        return EnterStopSignal(Phase::kStopSigkill, ServiceResult::kTimeout, {});
      }
      cause_ += " (SendSIGKILL=no: left running)";
      main_alive_ = control_alive_ = false;
      return EnterStopPost(0, ServiceResult::kTimeout,
                           {Action{Action::Kind::kAbandonProcesses}}, now);
    case Phase::kStopSigkill:
      cause_ = "processes survived " + SigName(spec_->final_kill_signal) + "; giving up";
      main_alive_ = control_alive_ = false;
      return EnterStopPost(0, ServiceResult::kTimeout,
                           {Action{Action::Kind::kAbandonProcesses}}, now);
    case Phase::kStopPost:
      cause_ = "stop timeout: ExecStopPost= did not finish within TimeoutStopSec=" + stop_span;
      return EnterStopSignal(Phase::kFinalSigterm, ServiceResult::kTimeout, {});
    case Phase::kFinalSigterm:
      if (spec_->send_sigkill)
        return EnterStopSignal(Phase::kFinalSigkill, ServiceResult::kTimeout, {});
      cause_ = "processes still running after ExecStopPost= (SendSIGKILL=no); left running";
      main_alive_ = control_alive_ = false;
      return EnterDead(ServiceResult::kTimeout, now, {Action{Action::Kind::kAbandonProcesses}});
    case Phase::kFinalSigkill:
      cause_ = "processes survived " + SigName(spec_->final_kill_signal) + "; giving up";
      main_alive_ = control_alive_ = false;
      return EnterDead(ServiceResult::kTimeout, now, {Action{Action::Kind::kAbandonProcesses}});
    case Phase::kBackoff:
      // Counted when the restart is attempted, also if the start limit then refuses it, as
      // systemd's NRestarts.
      ++restarts_;
      ++restart_streak_;
      return BeginStart(now, /*automatic=*/true);
    case Phase::kRunning:
    case Phase::kDead:
      return {};
  }
  return {};
}

}  // namespace supd
