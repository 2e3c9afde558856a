// ServiceFsm's entry actions (what entering a phase does) and the policies they apply:
// Restart=, the start limit, KillMode=, how an exit is judged. The transitions that call them
// are in service_fsm.cc.
#include "lib/supervise/service_fsm.h"

#include <signal.h>

#include <algorithm>
#include <cmath>
#include <utility>

namespace supd {
namespace {

using AK = Action::Kind;

void Append(Actions& acts, const Actions& more) {
  acts.insert(acts.end(), more.begin(), more.end());
}

}  // namespace

// ---- Entry actions: the start sequence

Actions ServiceFsm::BeginStart(Usec now, bool automatic, Actions acts) {
  ++start_attempts_;
  acts.push_back(Action::Of(AK::kDisarmTimer));
  if (StartLimitHit(now)) {
    phase_ = Phase::kDead;
    failed_ = true;
    result_ = ServiceResult::kStartLimitHit;
    cause_ = Cause::Of(Cause::Kind::kStartLimitHit);
    cause_.count = start_times_.size();
    cause_.span = spec_->start_limit_interval;
    cause_.burst = spec_->start_limit_burst;
    start_queued_ = false;
    return acts;
  }
  if (StartLimitOn()) start_times_.push_back(now);
  if (!automatic) restart_streak_ = 0;
  result_ = ServiceResult::kSuccess;
  failed_ = false;
  stop_requested_ = false;
  start_queued_ = false;
  last_main_exit_.reset();
  condition_skipped_ = false;
  watchdog_override_.reset();
  cause_ = {};
  acts.push_back(Action::Of(AK::kDisarmWatchdog));
  acts.push_back(Action::Of(AK::kResetInstance));
  acts.push_back(Action::Of(AK::kCheckConditions));
  phase_ = Phase::kCondition;  // until kConditionsChecked
  step_ = Step::kCheck;
  return acts;
}

Actions ServiceFsm::EnterCondition(size_t from, Usec now, Actions acts) {
  if (from >= spec_->exec_condition.size()) return EnterStartPre(0, now, std::move(acts));
  phase_ = Phase::kCondition;
  step_ = Step::kExec;
  acts.push_back(Action::Timer(spec_->timeout_start));
  acts.push_back(SpawnControl(CommandList::kCondition, from));
  return acts;
}

Actions ServiceFsm::EnterStartPre(size_t from, Usec now, Actions acts) {
  if (from >= spec_->exec_start_pre.size()) return EnterStart(0, now, std::move(acts));
  phase_ = Phase::kStartPre;
  acts.push_back(Action::Timer(spec_->timeout_start));
  acts.push_back(SpawnControl(CommandList::kStartPre, from));
  return acts;
}

Actions ServiceFsm::EnterStart(size_t from, Usec now, Actions acts) {
  if (from >= spec_->exec_start.size()) return EnterStartPost(0, now, std::move(acts));
  phase_ = Phase::kStart;
  main_index_ = from;
  main_alive_ = true;
  type_ready_ = false;
  gate_passed_ = false;
  probe_ready_ = true;
  acts.push_back(Action::Timer(spec_->timeout_start));
  Action a{AK::kSpawnMain};
  a.list = CommandList::kStart;
  a.index = from;
  acts.push_back(a);
  return acts;
}

Actions ServiceFsm::EnterStartPost(size_t from, Usec now, Actions acts) {
  if (from >= spec_->exec_start_post.size()) return EnterRunning(now, std::move(acts));
  phase_ = Phase::kStartPost;
  acts.push_back(Action::Timer(spec_->timeout_start));
  acts.push_back(SpawnControl(CommandList::kStartPost, from));
  return acts;
}

Actions ServiceFsm::EnterRunning(Usec now, Actions acts) {
  if (!main_alive_ && !(spec_->type == ServiceType::kOneshot && spec_->remain_after_exit)) {
    // Nothing left to run: a oneshot that finished, or a main process that already exited.
    return EnterStop(ServiceResult::kSuccess, now, std::move(acts));
  }
  phase_ = Phase::kRunning;
  acts.push_back(Action::Of(AK::kDisarmTimer));
  if (overlap_pending_) {
    // The new instance is ready: now, and only now, the old one is asked to stop.
    overlap_pending_ = false;
    acts.push_back(Action::Of(AK::kStopOldInstance));
  }
  // systemd: the watchdog is active once the start-up is complete.
  if (watchdog_interval().count() > 0 && main_alive_) acts.push_back(ArmWatchdog());
  return acts;
}

// ---- Entry actions: reload

Actions ServiceFsm::EnterReload() {
  phase_ = Phase::kReload;
  reload_needs_reloading_ = false;
  Actions acts{Action::Timer(spec_->timeout_start)};
  if (!spec_->exec_reload.empty()) {
    acts.push_back(SpawnControl(CommandList::kReload, 0));
    return acts;
  }
  // Type=notify-reload: the signal asks, RELOADING=1 … READY=1 answers.
  reload_needs_reloading_ = true;
  acts.push_back(Action::SignalTo(KillTarget::kMain, spec_->reload_signal));
  return acts;
}

Actions ServiceFsm::EndReload(bool failed, Actions acts) {
  ++reloads_done_;
  last_reload_failed_ = failed;
  phase_ = Phase::kRunning;
  acts.push_back(Action::Of(AK::kDisarmTimer));
  return acts;
}

Actions ServiceFsm::EndReloadOk() {
  Actions acts = EndReload(/*failed=*/false);
  if (watchdog_interval().count() > 0) acts.push_back(ArmWatchdog());
  return acts;
}

// ---- Entry actions: the stop sequence

Actions ServiceFsm::EnterStop(ServiceResult r, Usec now, Actions acts) {
  SetResult(r);
  acts.push_back(Action::Of(AK::kDisarmWatchdog));
  if (spec_->exec_stop.empty())
    return EnterStopSignal(Phase::kStopSigterm, r, now, std::move(acts));
  phase_ = Phase::kStop;
  acts.push_back(Action::Timer(spec_->timeout_stop));
  acts.push_back(SpawnControl(CommandList::kStop, 0));
  return acts;
}

Actions ServiceFsm::EnterStopSignal(Phase p, ServiceResult r, Usec now, Actions acts) {
  SetResult(r);
  acts.push_back(Action::Of(AK::kDisarmWatchdog));
  phase_ = p;
  const bool final_kill = p == Phase::kStopSigkill || p == Phase::kFinalSigkill;
  if (spec_->kill_mode == KillMode::kNone) {
    // KillMode=none: nothing is signalled and nothing waited for; what runs, stays (systemd
    // warns about this mode for the same reason).
    Append(acts, GiveUp());
    if (p == Phase::kFinalSigterm || p == Phase::kFinalSigkill)
      return EnterDead(r, now, std::move(acts));
    return EnterStopPost(0, r, now, std::move(acts));
  }
  const Actions kills =
      KillActions(final_kill ? spec_->final_kill_signal : spec_->kill_signal, final_kill);
  Append(acts, kills);
  if (!final_kill && spec_->send_sighup && !kills.empty())
    Append(acts, KillActions(SIGHUP, /*final_kill=*/false));
  acts.push_back(Action::Timer(spec_->timeout_stop));
  // Nothing of ours left to wait for (KillMode=process, or mixed before its final kill, after
  // the main process died on its own): go on at once, as systemd does when it signalled
  // nothing. What KillMode=process leaves in the cgroup is not waited for.
  if (!main_alive_ && !control_alive_) Append(acts, ContinueWhenEmpty(now));
  return acts;
}

Actions ServiceFsm::EnterStopPost(size_t from, ServiceResult r, Usec now, Actions acts) {
  SetResult(r);
  if (from >= spec_->exec_stop_post.size()) {
    // KillMode=mixed got here without waiting for the cgroup: SIGKILL what is left.
    if (spec_->kill_mode == KillMode::kMixed)
      return EnterStopSignal(Phase::kFinalSigkill, r, now, std::move(acts));
    if (from == 0) return EnterDead(r, now, std::move(acts));
    // ExecStopPost= ran: kill whatever it left behind.
    return EnterStopSignal(Phase::kFinalSigterm, r, now, std::move(acts));
  }
  phase_ = Phase::kStopPost;
  acts.push_back(Action::Timer(spec_->timeout_stop));
  acts.push_back(SpawnControl(CommandList::kStopPost, from));
  return acts;
}

Actions ServiceFsm::EnterDead(ServiceResult r, Usec now, Actions acts) {
  SetResult(r);
  main_alive_ = false;
  control_alive_ = false;
  acts.push_back(Action::Of(AK::kDisarmTimer));
  if (overlap_pending_) {
    overlap_pending_ = false;
    if (!stop_requested_ && old_main_alive_) {
      // The new instance failed to become ready: it is gone, the old one is the service again
      // and never stopped serving.
      ++overlaps_failed_;
      cause_.overlap = Cause::Overlap::kOldKeepsServing;
      cause_.result = result_;
      result_ = ServiceResult::kSuccess;
      main_alive_ = true;
      phase_ = Phase::kRunning;
      acts.push_back(Action::Of(AK::kReattachOldInstance));
      if (watchdog_interval().count() > 0) acts.push_back(ArmWatchdog());
      return acts;
    }
    if (!stop_requested_) {
      // The new instance failed and the old one is gone too (it died meanwhile): nothing to go
      // back to; clean up what is left of it and let Restart= decide, as after any failure.
      ++overlaps_failed_;
      cause_.overlap = Cause::Overlap::kOldGone;
      cause_.result = result_;
    }
    acts.push_back(Action::Of(AK::kStopOldInstance));
  }
  if (start_queued_) return BeginStart(now, /*automatic=*/false, std::move(acts));
  if (!stop_requested_ && ShouldRestart()) {
    phase_ = Phase::kBackoff;
    if (cause_.empty()) {
      cause_ = Cause::Of(Cause::Kind::kResult);
      cause_.result = result_;
    }
    acts.push_back(Action::Timer(RestartDelay()));
    return acts;
  }
  phase_ = Phase::kDead;
  failed_ = result_ != ServiceResult::kSuccess && result_ != ServiceResult::kExecCondition;
  return acts;
}

// ---- Pure helpers

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
  Action a{AK::kSpawnControl};
  a.list = l;
  a.index = i;
  return a;
}

Action ServiceFsm::ArmWatchdog() const {
  Action w{AK::kArmWatchdog};
  w.delay = watchdog_interval();
  return w;
}

ServiceFsm::CommandOutcome ServiceFsm::JudgeControl(const Event& e) const {
  const auto& list = List(control_list_);
  const bool ignore = control_index_ < list.size() && list[control_index_].ignore_failure;
  // Commands are judged by systemd's EXIT_CLEAN_COMMAND: exit 0 only; SuccessExitStatus= and
  // the "clean" daemon signals are for the main process.
  CommandOutcome c;
  if (!e.exec_error.empty() || (e.exit.exited && e.exit.code != 0))
    c.result = ServiceResult::kExitCode;
  if (e.exec_error.empty() && !e.exit.exited)
    c.result = e.exit.core_dumped ? ServiceResult::kCoreDump : ServiceResult::kSignal;
  c.ok = c.result == ServiceResult::kSuccess || (ignore && e.exec_error.empty());
  c.next = control_index_ + 1;
  return c;
}

Cause ServiceFsm::ControlCause(const Event& e) const {
  if (!e.exec_error.empty()) return Cause::WithText(Cause::Kind::kExecFailed, e.exec_error);
  Cause c{Cause::Kind::kControlFailed};
  c.exit = e.exit;
  c.list = control_list_;
  c.index = control_index_;
  const auto& list = List(control_list_);
  if (control_index_ < list.size()) {
    c.path = list[control_index_].path;
    c.source = list[control_index_].source;
  }
  return c;
}

ServiceResult ServiceFsm::MainExitResult(const Event& e) const {
  if (!e.oom_reason.empty()) return ServiceResult::kOomKill;
  return e.exec_error.empty() ? ResultOfExit(e.exit) : ServiceResult::kExitCode;
}

bool ServiceFsm::StartLimitOn() const {
  const Usec interval = spec_->start_limit_interval;
  return interval.count() > 0 && interval != kInfinity && spec_->start_limit_burst > 0;
}

bool ServiceFsm::StartLimitHit(Usec now) {
  if (!StartLimitOn()) return false;
  const Usec interval = spec_->start_limit_interval;
  std::erase_if(start_times_, [&](Usec t) { return now - t >= interval; });
  return start_times_.size() >= spec_->start_limit_burst;
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

bool ServiceFsm::NotifyType() const {
  return spec_->type == ServiceType::kNotify || spec_->type == ServiceType::kNotifyReload;
}

Actions KillActionsFor(KillMode mode, int sig, bool final_kill, bool main_alive,
                       bool control_alive) {
  Actions acts;
  switch (mode) {
    case KillMode::kControlGroup:
      acts.push_back(Action::SignalTo(KillTarget::kAll, sig));
      break;
    case KillMode::kMixed:
      if (final_kill) {
        acts.push_back(Action::SignalTo(KillTarget::kAll, sig));
        break;
      }
      [[fallthrough]];
    case KillMode::kProcess:
      if (main_alive) acts.push_back(Action::SignalTo(KillTarget::kMain, sig));
      if (control_alive) acts.push_back(Action::SignalTo(KillTarget::kControl, sig));
      break;
    case KillMode::kNone:
      break;
  }
  return acts;
}

Actions ServiceFsm::KillActions(int sig, bool final_kill) const {
  return KillActionsFor(spec_->kill_mode, sig, final_kill, main_alive_, control_alive_);
}

}  // namespace supd
