// ServiceFsm's state across daemon-reexec: see saved_state.h.
#include "lib/supervise/saved_state.h"
#include "lib/supervise/service_fsm.h"

namespace supd {

bool ServiceFsm::AtRest() const {
  switch (phase_) {
    case Phase::kDead:
    case Phase::kBackoff: return true;
    // An overlap restart or a queued start is a move under way, not a rest.
    case Phase::kRunning: return !control_alive_ && !overlap_pending_ && !start_queued_;
    default: return false;
  }
}

SavedFsm ServiceFsm::Save() const {
  SavedFsm s;
  s.phase = static_cast<int>(phase_);
  s.failed = failed_;
  s.result = static_cast<int>(result_);
  s.main_alive = main_alive_;
  s.main_index = main_index_;
  s.stop_requested = stop_requested_;
  s.restarts = restarts_;
  s.restart_streak = restart_streak_;
  s.start_attempts = start_attempts_;
  s.spawned_main_confirmed = spawned_main_confirmed_;
  s.condition_skipped = condition_skipped_;
  s.watchdog_override = watchdog_override_;
  s.reloads_done = reloads_done_;
  s.last_reload_failed = last_reload_failed_;
  s.overlaps_failed = overlaps_failed_;
  s.probe_ready = probe_ready_;
  s.last_main_exit = last_main_exit_;
  s.start_times = start_times_;
  s.cause = cause_;
  return s;
}

Result<void> ServiceFsm::Restorable(const SavedFsm& s, const ServiceSpec& spec) {
  const auto phase = static_cast<Phase>(s.phase);
  if (phase != Phase::kDead && phase != Phase::kRunning && phase != Phase::kBackoff)
    return Error{"phase " + std::to_string(s.phase) + " is not one a state is saved in"};
  // A oneshot's main process can be any of its ExecStart= lines; others have one.
  if (s.main_alive && s.main_index >= spec.exec_start.size())
    return Error{"its main process runs ExecStart= line " + std::to_string(s.main_index + 1) +
                 ", but the unit has " + std::to_string(spec.exec_start.size())};
  if (phase == Phase::kRunning && !s.main_alive &&
      !(spec.type == ServiceType::kOneshot && spec.remain_after_exit))
    return Error{"it was running without a main process, which its unit does not allow now"};
  return {};
}

Result<void> ServiceFsm::Restore(const SavedFsm& s) {
  SUPD_TRY(Restorable(s, *spec_));
  const auto phase = static_cast<Phase>(s.phase);
  phase_ = phase;
  step_ = Step::kCheck;
  failed_ = s.failed;
  result_ = static_cast<ServiceResult>(s.result);
  main_alive_ = s.main_alive;
  control_alive_ = false;
  main_index_ = s.main_index;
  stop_requested_ = s.stop_requested;
  start_queued_ = false;
  restarts_ = s.restarts;
  restart_streak_ = s.restart_streak;
  start_attempts_ = s.start_attempts;
  spawned_main_confirmed_ = s.spawned_main_confirmed;
  condition_skipped_ = s.condition_skipped;
  watchdog_override_ = s.watchdog_override;
  reloads_done_ = s.reloads_done;
  last_reload_failed_ = s.last_reload_failed;
  reload_needs_reloading_ = false;
  overlap_pending_ = false;
  old_main_alive_ = false;
  overlaps_failed_ = s.overlaps_failed;
  type_ready_ = phase == Phase::kRunning;
  gate_passed_ = phase == Phase::kRunning;
  probe_ready_ = s.probe_ready;
  last_main_exit_ = s.last_main_exit;
  start_times_ = s.start_times;
  cause_ = s.cause;
  return {};
}

}  // namespace supd
