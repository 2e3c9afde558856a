// ServiceFsm: the life cycle of one service as a pure state machine.
//
// Events go in (commands, process exits, timers), actions come out (spawn this command, send
// this signal, arm the timer). It makes no system calls and owns no process, fd or timer: the
// Manager performs the actions and feeds the outcomes back as events. That keeps every
// transition, including odd orders of events, a plain unit test.
//
// The meaning follows systemd's service.c: ExecCondition= → ExecStartPre= → ExecStart= →
// (ready per Type=) → ExecStartPost= → running; stop is ExecStop= → KillSignal= → (TimeoutStopSec=)
// → FinalKillSignal= → ExecStopPost=; after the main process dies on its own, Restart= decides
// between backoff (auto-restart after RestartSec=), stopped and failed. Readiness follows Type=
// (spawned, execve done, READY=1); sd_notify's STOPPING/RELOADING/WATCHDOG and `reload` come in
// as events too, and the watchdog is a second timer of its own.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "lib/proc/exit_status.h"
#include "lib/unit/service_spec.h"

namespace supd {

// The states the design and `supctl status` name.
enum class State { kStopped, kStarting, kRunning, kReloading, kStopping, kBackoff, kFailed };
const char* StateName(State s);

// Where inside its state the service is; finer than State, as systemd's sub-states.
enum class Phase {
  kDead,         // stopped or failed
  kCondition,    // running ExecCondition= commands
  kStartPre,     // running ExecStartPre= commands
  kStart,        // main process spawned, not ready yet (or oneshot's ExecStart= running)
  kStartPost,    // running ExecStartPost= commands
  kRunning,      // ready (oneshot with RemainAfterExit=: "exited", no process)
  kReload,       // ExecReload= running, or ReloadSignal= sent / RELOADING=1: until READY=1
  kStop,         // running ExecStop= commands
  kStopSigterm,  // KillSignal= sent, waiting for the processes to go
  kStopSigkill,  // FinalKillSignal= sent, waiting
  kStopPost,     // running ExecStopPost= commands
  kFinalSigterm, // killing what ExecStopPost= left behind
  kFinalSigkill,
  kBackoff,      // waiting RestartSec= before an automatic restart
};
const char* PhaseName(Phase p);

// Why the service last stopped or failed, with systemd's names ("success", "exit-code", ...).
enum class ServiceResult {
  kSuccess, kResources, kTimeout, kExitCode, kSignal, kCoreDump, kWatchdog, kStartLimitHit,
  kExecCondition, kAssert, kOomKill,
};
const char* ResultName(ServiceResult r);


// Which command list a control process runs.
enum class CommandList { kCondition, kStartPre, kStart, kStartPost, kReload, kStop, kStopPost };
const char* CommandListName(CommandList l);  // "ExecStartPre" ...

// Who receives a signal.
enum class KillTarget {
  kMain,     // the main process only
  kControl,  // the running control process only
  kAll,      // every process of the instance (process group today, cgroup later)
};

struct Action {
  enum class Kind {
    kSpawnMain,     // spawn spec.exec_start[index] as the main process
    kSpawnControl,  // spawn <list>[index] as the control process
    kSignal,        // send signal to target
    kArmTimer,      // (re)arm the service's one timer to fire after `delay`
    kDisarmTimer,
    kResetInstance, // a new start begins: forget the old instance (new invocation id)
    kCheckConditions,  // evaluate Condition*=/Assert*=, answer with OnConditionsChecked()
    kAbandonProcesses, // the FSM no longer waits for the instance's processes (KillMode=none,
                       // or they survived SIGKILL): stop tracking them as main/control
    kArmWatchdog,      // (re)arm the watchdog timer to fire after `delay`
    kDisarmWatchdog,
    kExtendTimer,      // EXTEND_TIMEOUT_USEC=: the timer fires no earlier than `delay` from now
    // Overlap restart (sockets held by supd): the running instance is set aside, still serving,
    // while a new one starts; once the new one is ready the old one is stopped, and if the new
    // one fails the old one becomes the service's instance again.
    kDetachInstance,
    kStopOldInstance,
    kReattachOldInstance,
  };
  Kind kind;
  CommandList list = CommandList::kStart;
  size_t index = 0;
  KillTarget target = KillTarget::kMain;
  int signal = 0;
  Usec delay{0};

  bool operator==(const Action&) const = default;
};
using Actions = std::vector<Action>;

class ServiceFsm {
 public:
  // `spec` must outlive the FSM or be replaced with SetSpec().
  explicit ServiceFsm(const ServiceSpec* spec) : spec_(spec) {}

  // A changed unit file takes effect at the next start; the manager swaps the spec while the
  // service is dead (or keeps the old spec alive until then).
  void SetSpec(const ServiceSpec* spec) { spec_ = spec; }
  const ServiceSpec& spec() const { return *spec_; }

  // --- Commands. `now` is a monotonic clock reading.
  Actions Start(Usec now);
  Actions Stop();
  Actions Restart(Usec now);  // stop (if needed) then start, as `systemctl restart`
  // Overlap restart: start a new instance beside the running one (which keeps serving on the
  // sockets supd holds) and stop the old one only once the new one is ready. Empty unless
  // CanOverlapRestart() is "".
  Actions OverlapRestart(Usec now);
  std::string CanOverlapRestart() const;
  // The main process of the instance set aside by an overlap restart exited.
  Actions OnDetachedMainExited();
  // An overlap restart is under way (new instance starting, old one serving).
  bool overlap_pending() const { return overlap_pending_; }
  // Counts overlap restarts whose new instance failed (the old one kept serving).
  uint64_t overlaps_failed() const { return overlaps_failed_; }
  // Clears failed state and the start-limit history, as `systemctl reset-failed`.
  Actions ResetFailed();

  // --- Outcomes of actions and of the world.
  // The spawn the last kSpawnMain/kSpawnControl asked for could not be done (fork failed, the
  // command line expanded to nothing, ...). `reason` is shown as the failure.
  Actions OnSpawnFailed(const std::string& reason, Usec now);
  // The condition check that kCheckConditions asked for.
  Actions OnConditionsChecked(bool start, bool assert_failed, const std::string& message,
                              Usec now);
  // The kSpawnMain just asked for was forked (Type=simple readiness).
  Actions OnMainSpawned();
  // The main process passed execve() (Type=exec readiness).
  Actions OnMainExecOk();
  // sd_notify messages, already checked against NotifyAccess= by the manager.
  Actions OnReady();            // READY=1 (Type=notify readiness; end of a reload)
  Actions OnReloading();        // RELOADING=1: the program reloads on its own
  Actions OnStopping();         // STOPPING=1: the program is shutting down on its own
  Actions OnWatchdogPing();     // WATCHDOG=1
  Actions OnWatchdogUsec(Usec usec);  // WATCHDOG_USEC=: a new interval (0 = off)
  Actions OnExtendTimeout(Usec usec);  // EXTEND_TIMEOUT_USEC=
  // The watchdog timer fired (or WATCHDOG=trigger).
  Actions OnWatchdogTimeout(Usec now, bool triggered = false);
  // `supctl reload`: ExecReload= or, for Type=notify-reload, ReloadSignal=. Empty when the
  // service cannot be reloaded now (see CanReload()).
  Actions Reload();
  // Why a reload cannot run now ("" if it can).
  std::string CanReload() const;
  // Counts reloads that finished (ok or not), and whether the last one failed.
  uint64_t reloads_done() const { return reloads_done_; }
  bool last_reload_failed() const { return last_reload_failed_; }
  // The watchdog interval in force (WatchdogSec= or the program's WATCHDOG_USEC=), 0 = off.
  Usec watchdog_interval() const;
  // The main process exited. `exec_error` is set when it never reached execve() (the spawner's
  // step and errno: "exec /usr/bin/x: No such file or directory").
  // `oom_reason`, when set, says the kernel's OOM killer killed a process of the instance: it
  // replaces the exit's description in the cause, and the result is systemd's "oom-kill"
  // (what OOMPolicy=stop, systemd's default, gives) unless the exit was the stop working.
  Actions OnMainExited(const ExitStatus& st, const std::string& exec_error, Usec now,
                       const std::string& oom_reason = "");
  Actions OnControlExited(const ExitStatus& st, const std::string& exec_error, Usec now);
  Actions OnTimer(Usec now);
  // Every process of the instance is gone (meaningful while waiting_for_empty()).
  Actions OnAllGone(Usec now);

  // --- Observers.
  State state() const;
  Phase phase() const { return phase_; }
  ServiceResult result() const { return result_; }
  // The last start was skipped because a Condition*= did not hold.
  bool condition_skipped() const { return condition_skipped_; }
  bool ready() const { return phase_ == Phase::kRunning; }
  bool main_alive() const { return main_alive_; }
  bool control_alive() const { return control_alive_; }
  CommandList control_list() const { return control_list_; }
  size_t control_index() const { return control_index_; }
  // True when the FSM waits for OnAllGone(): the manager must tell it as soon as the instance's
  // processes are all gone (possibly at once).
  bool waiting_for_empty() const;
  unsigned restarts() const { return restarts_; }
  // Counts every start attempt (also those the start limit refused): a client waiting for "its"
  // start compares it with the value before its request.
  uint64_t start_attempts() const { return start_attempts_; }
  bool start_queued() const { return start_queued_; }
  // The current/last stop was asked for by a command (not a crash or a failed start).
  bool stop_requested() const { return stop_requested_; }
  // A human sentence on why the service is failed/stopped/restarting, "" when nothing to say.
  const std::string& cause() const { return cause_; }

 private:
  Actions BeginStart(Usec now, bool automatic);
  Actions BeginStop();  // Stop() without forgetting a queued start
  Actions EnterCondition(size_t from, Actions acts);
  Actions EnterStartPre(size_t from, Actions acts);
  Actions EnterStart(size_t from, Actions acts);
  Actions EnterStartPost(size_t from, Actions acts);
  Actions EnterRunning(Actions acts);
  Actions EndReload(bool failed, Actions acts);
  bool NotifyType() const;
  Actions EnterStop(ServiceResult r, Actions acts);
  Actions EnterStopSignal(Phase p, ServiceResult r, Actions acts);
  Actions EnterStopPost(size_t from, ServiceResult r, Actions acts, Usec now);
  Actions EnterDead(ServiceResult r, Usec now, Actions acts);
  Actions ContinueWhenEmpty(Usec now);
  void SetResult(ServiceResult r);
  bool ShouldRestart() const;
  Usec RestartDelay() const;
  bool IsCleanExit(const ExitStatus& st) const;
  ServiceResult ResultOfExit(const ExitStatus& st) const;
  const std::vector<ExecCommand>& List(CommandList l) const;
  Action SpawnControl(CommandList l, size_t i);
  Actions KillActions(int sig, bool final_kill) const;

  const ServiceSpec* spec_;  // not owned

  Phase phase_ = Phase::kDead;
  bool failed_ = false;        // in kDead: failed (true) or stopped
  ServiceResult result_ = ServiceResult::kSuccess;
  bool main_alive_ = false;
  bool control_alive_ = false;
  CommandList control_list_ = CommandList::kStart;
  size_t control_index_ = 0;
  size_t main_index_ = 0;      // which ExecStart= the main process runs (oneshot: several)
  bool stop_requested_ = false;  // the current stop was asked for (no auto-restart)
  bool start_queued_ = false;    // start once the current stop is done
  unsigned restarts_ = 0;        // automatic restarts since load (systemd's NRestarts)
  unsigned restart_streak_ = 0;  // consecutive automatic restarts, for RestartSteps=
  uint64_t start_attempts_ = 0;
  bool spawned_main_confirmed_ = false;
  bool condition_skipped_ = false;  // this start was skipped by a false Condition*=
  bool gave_up_ = false;            // processes were abandoned during the last stop
  Usec now_{0};                     // the latest clock reading an event brought
  std::optional<Usec> watchdog_override_;  // WATCHDOG_USEC= from the program, this start only
  uint64_t reloads_done_ = 0;
  bool reload_needs_reloading_ = false;  // ReloadSignal= sent: READY=1 counts after RELOADING=1
  bool overlap_pending_ = false;         // an old instance is set aside, serving
  bool old_main_alive_ = false;          // ... and its main process still runs
  uint64_t overlaps_failed_ = 0;
  bool last_reload_failed_ = false;  // OnMainSpawned() seen for the current main process
  std::optional<ExitStatus> last_main_exit_;  // of the current start, for Restart*ExitStatus=
  std::vector<Usec> start_times_;  // starts inside StartLimitIntervalSec=
  std::string cause_;
};

}  // namespace supd
