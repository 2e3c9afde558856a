// ServiceFsm: the life cycle of one service as a pure state machine.
//
// Events go in (commands, process exits, timers, sd_notify messages), each with the time it
// happened; actions come out (spawn this command, send this signal, arm the timer). It makes no
// system calls, owns no process, fd or timer, reads no clock and words no sentence: the Manager
// performs the actions and feeds the outcomes back as events, and control/ words the Cause.
// Every decision about a service is a const query of the machine (may this datagram steer it,
// may this MAINPID= replace its main process, does a connection start it, may a restart overlap,
// is a client's job done): the Manager supplies facts, the machine decides.
//
// The meaning follows systemd's service.c: ExecCondition= → ExecStartPre= → ExecStart= →
// (ready per Type=) → ExecStartPost= → running; stop is ExecStop= → KillSignal= → (TimeoutStopSec=)
// → FinalKillSignal= → ExecStopPost=; after the main process dies on its own, Restart= decides
// between backoff (auto-restart after RestartSec=), stopped and failed. Readiness follows Type=
// (spawned, execve done, READY=1); sd_notify's STOPPING/RELOADING/WATCHDOG and `reload` come in
// as events too, and the watchdog is a second timer of its own. The table of transitions is at
// the top of service_fsm.cc.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "lib/base/result.h"
#include "lib/proc/exit_status.h"
#include "lib/supervise/cause.h"
#include "lib/unit/service_spec.h"

namespace supd {

struct SavedFsm;  // saved_state.h

// The states the design and `supctl status` name.
enum class State { kStopped, kStarting, kRunning, kReloading, kStopping, kBackoff, kFailed };
const char* StateName(State s);

// Where inside its state the service is; finer than State, as systemd's sub-states.
enum class Phase {
  kDead,         // stopped or failed
  kCondition,    // checking Condition*=, preparing the instance, running ExecCondition=
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

// ServiceResult, ResultName(), CommandList and CommandListName() are in cause.h.

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
    kCheckConditions,  // evaluate Condition*=/Assert*=, answer with kConditionsChecked
    // Look up User=/Group=/SupplementaryGroups= and read EnvironmentFile= for start `attempt`
    // (off the loop: NSS may block), answer with kInstancePrepared carrying the same attempt.
    kPrepareInstance,
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
  uint64_t attempt = 0;  // kPrepareInstance

  static Action Of(Kind k) { return Action{k}; }
  // kArmTimer after `delay`; kDisarmTimer for an infinite one (no timeout).
  static Action Timer(Usec delay) {
    if (delay == kInfinity) return Action{Kind::kDisarmTimer};
    Action a{Kind::kArmTimer};
    a.delay = delay;
    return a;
  }
  static Action SignalTo(KillTarget t, int sig) {
    Action a{Kind::kSignal};
    a.target = t;
    a.signal = sig;
    return a;
  }
  static Action Spawn(Kind k, CommandList l, size_t i) {
    Action a{k};
    a.list = l;
    a.index = i;
    return a;
  }
  static Action WithDelay(Kind k, Usec delay) {
    Action a{k};
    a.delay = delay;
    return a;
  }

  bool operator==(const Action&) const = default;
};
using Actions = std::vector<Action>;

// The signals KillMode= sends at one step of a stop: `sig` to the whole cgroup, or to the main
// and control processes that are alive. `final_kill`: the SIGKILL step, which KillMode=mixed
// sends to all. Shared by a service's machine and the stop of an old instance.
Actions KillActionsFor(KillMode mode, int sig, bool final_kill, bool main_alive,
                       bool control_alive);

// Whether the probe gate of `spec` (its readiness probe, else its startup probe) can tell a new
// instance from an old one that serves on the same held sockets: only an exec: probe can (it
// gets the new instance's $MAINPID); an http:// or tcp:// probe of a shared address may be
// answered by the old instance. False without such a probe.
bool ProbeGateTellsInstances(const ServiceSpec& spec);

// One input of the machine. `now` is CLOCK_MONOTONIC when it happened; the payload fields a
// kind does not name keep their defaults.
struct Event {
  enum class Kind {
    // Commands.
    kStart, kStop, kRestart, kOverlapRestart, kReload, kResetFailed,
    // Outcomes of actions.
    kConditionsChecked,  // start, assert_failed, message
    kInstancePrepared,   // attempt, message (the error; "" = prepared)
    kSpawnFailed,        // message: why the last kSpawnMain/kSpawnControl could not be done
    kMainSpawned,        // the kSpawnMain just asked for was forked (Type=simple readiness)
    kMainExecOk,         // the main process passed execve() (Type=exec readiness)
    kMainExited,         // exit, exec_error, oom_reason
    kControlExited,      // exit, exec_error
    kTimer,              // the service's timer fired
    kAllGone,            // every process of the instance is gone (see waiting_for_empty())
    kDetachedMainExited, // the main process of the instance set aside by an overlap exited
    // sd_notify, already accepted with AcceptsNotify().
    kReady, kReloading, kStopping, kWatchdogPing,
    kWatchdogUsec,       // usec: a new interval (0 or infinity = off)
    kExtendTimeout,      // usec
    kMainPidChanged,     // MAINPID=: the Manager adopted another main process (AcceptsMainPid)
    // The watchdog timer fired; WATCHDOG=trigger.
    kWatchdogTimeout, kWatchdogTriggered,
    // The current instance's probes (lib/health/probe_set.h), as the Manager relays them.
    kProbeGatePassed,      // startup/readiness probes passed: ready as far as probes go
    kStartupProbeFailed,   // message: "StartupProbe=… failed 3 times: <last result>"
    kLivenessProbeFailed,  // message: "LivenessProbe=… failed 3 times: <last result>"
    kReadinessChanged,     // start: the readiness probe passes again (true) or fails (false)
  };
  Kind kind;
  Usec now{0};
  bool start = false;          // kConditionsChecked: the conditions hold
  bool assert_failed = false;  // kConditionsChecked: it was an Assert*= that failed
  // See the kinds; for kTimer, what holds the probe gate shut (ProbeSet::GateBlocker()), so
  // that a start timeout can say which probe the service never passed.
  std::string message{};
  // kMainExited/kControlExited: set when the process never reached execve() (the spawner's
  // step and errno: "exec /usr/bin/x: No such file or directory").
  std::string exec_error{};
  // kMainExited: the kernel's OOM killer killed a process of the instance; it replaces the
  // exit's description in the cause, and the result is systemd's "oom-kill" (what OOMPolicy=stop,
  // systemd's default, gives) unless the exit was the stop working.
  std::string oom_reason{};
  ExitStatus exit{};
  Usec usec{0};
  uint64_t attempt = 0;

  static Event At(Kind k, Usec now) {
    Event e{k};
    e.now = now;
    return e;
  }
};

// Who sent an sd_notify datagram, as the Manager found out from its credentials.
enum class SenderRole { kMain, kControl, kOtherInCurrentInstance, kPreviousInstance };
enum class NotifyVerdict { kAccept, kPreviousInstance, kAccessNone, kNotMain, kNotMainOrControl };
enum class MainPidVerdict { kAccept, kUntrustedSender, kNoMainToReplace, kIsControl };
enum class OverlapVerdict {
  kOk, kNoHeldFds, kInProgress, kNotNotifyType, kKillModeNone, kNotRunning, kNoMainProcess,
  kControlRunning,
};
enum class ReloadVerdict { kOk, kInProgress, kNotRunning, kNoMechanism, kNoMainProcess };

// A client's start/stop/reload waiting for its answer. Made by ServiceFsm::NewJob() right
// before the command goes to Handle(): the counters say which start or reload is "its" one.
struct Job {
  enum class Kind { kStart, kRestart, kOverlapRestart, kStop, kReload } kind = Kind::kStart;
  uint64_t attempts_before = 0;         // start_attempts() to wait past
  uint64_t reloads_before = 0;          // reloads_done() when queued
  uint64_t overlaps_failed_before = 0;  // overlaps_failed() when queued (overlap only)
};

struct JobOutcome {
  enum class Kind {
    kPending,            // not decided yet: ask again after the next event
    kDone,               // succeeded; `cause` may carry a note (a oneshot that finished)
    kSkipped,            // succeeded without running: a Condition*= or ExecCondition= said no;
                         // `cause` says why
    kFailed,             // `cause`, or `result` when the cause is empty
    kWillRestart,        // the start failed and Restart= will try again; `cause`
    kCancelledByStop,    // a stop came before the start was done
    kOverlapFailed,      // the new instance failed, the old one serves on; `cause`
    kReloadFailed,       // `cause`
    kReloadInterrupted,  // the service left running/reloading: `state`
  };
  Kind kind = Kind::kPending;
  Cause cause;
  ServiceResult result = ServiceResult::kSuccess;
  State state = State::kStopped;
};

class ServiceFsm {
 public:
  // `spec` must outlive the FSM or be replaced with SetSpec().
  explicit ServiceFsm(const ServiceSpec* spec) : spec_(spec) {}

  // A changed unit file takes effect at the next start; the manager swaps the spec while the
  // service is dead (or keeps the old spec alive until then).
  void SetSpec(const ServiceSpec* spec) { spec_ = spec; }
  const ServiceSpec& spec() const { return *spec_; }

  // The one entry point: the event, in the current phase, gives the next phase and the actions
  // to perform in order. Events a phase does not react to give no action (stale timers and
  // exits are normal: they race with the machine's own moves).
  Actions Handle(const Event& e);

  // --- Events with their payload, as one-liners over Handle().
  Actions Start(Usec now);
  Actions Stop(Usec now);
  Actions Restart(Usec now);  // stop (if needed) then start, as `systemctl restart`
  // Overlap restart: start a new instance beside the running one (which keeps serving on the
  // sockets supd holds) and stop the old one only once the new one is ready. Empty unless
  // CanOverlapRestart(true) is kOk; a start limit refusal counts as a failed overlap.
  Actions OverlapRestart(Usec now);
  // `supctl reload`: ExecReload= or, for Type=notify-reload, ReloadSignal=. Empty when the
  // service cannot be reloaded now (see CanReload()).
  Actions Reload(Usec now);
  // Clears failed state and the start-limit history, as `systemctl reset-failed`.
  Actions ResetFailed(Usec now);
  Actions OnConditionsChecked(bool start, bool assert_failed, const std::string& message,
                              Usec now);
  Actions OnInstancePrepared(uint64_t attempt, const std::string& error, Usec now);
  Actions OnSpawnFailed(const std::string& reason, Usec now);
  Actions OnMainSpawned(Usec now);
  Actions OnMainExecOk(Usec now);
  Actions OnMainExited(const ExitStatus& st, const std::string& exec_error, Usec now,
                       const std::string& oom_reason = "");
  Actions OnControlExited(const ExitStatus& st, const std::string& exec_error, Usec now);
  // `gate_blocker`: what holds the probe gate shut, if anything (see Event::message).
  Actions OnTimer(Usec now, const std::string& gate_blocker = "");
  Actions OnAllGone(Usec now);
  Actions OnDetachedMainExited(Usec now);
  Actions OnReady(Usec now);      // READY=1 (Type=notify readiness; end of a reload)
  Actions OnReloading(Usec now);  // RELOADING=1: the program reloads on its own
  Actions OnStopping(Usec now);   // STOPPING=1: the program is shutting down on its own
  Actions OnWatchdogPing(Usec now);  // WATCHDOG=1
  Actions OnWatchdogUsec(Usec usec, Usec now);   // WATCHDOG_USEC=
  Actions OnExtendTimeout(Usec usec, Usec now);  // EXTEND_TIMEOUT_USEC=
  Actions OnMainPidChanged(Usec now);
  // The watchdog timer fired (or WATCHDOG=trigger).
  Actions OnWatchdogTimeout(Usec now, bool triggered = false);
  // Probe reports about the current instance (see Event::Kind).
  Actions OnProbeGatePassed(Usec now);
  Actions OnStartupProbeFailed(const std::string& what, Usec now);
  Actions OnLivenessProbeFailed(const std::string& what, Usec now);
  Actions OnReadinessChanged(bool ready, Usec now);

  // --- daemon-reexec (service_fsm_saved.cc): the machine's state, in the phases a state is
  // saved in (dead, running without a control process, backoff), and back. Restore() checks the
  // saved phase against those and the spec (a main index past its ExecStart= list) and changes
  // nothing on error.
  SavedFsm Save() const;
  [[nodiscard]] Result<void> Restore(const SavedFsm& saved);
  // Whether Restore() would take `saved` with `spec` as the unit ("" or why not).
  [[nodiscard]] static Result<void> Restorable(const SavedFsm& saved, const ServiceSpec& spec);
  // Whether the machine is in a phase a state can be saved in.
  bool AtRest() const;

  // --- Decisions (const: asking changes nothing).
  // May a datagram from `role` steer the service? A previous instance's sender is refused
  // whatever NotifyAccess= says; then NotifyAccess= decides.
  NotifyVerdict AcceptsNotify(SenderRole role) const;
  // May MAINPID= replace the main process? `sender_trusted`: the sender is the main process or
  // root; `pid_is_control`: the named pid is the control process. (Whether the pid belongs to
  // the service's current instance is the Manager's fact to check.)
  MainPidVerdict AcceptsMainPid(bool sender_trusted, bool pid_is_control) const;
  // Does a connection on a held socket start the service (it is stopped or failed)?
  bool WantsActivation() const;
  // May `restart` overlap the new instance with the old one? `holds_fds`: supd holds sockets or
  // fd-store fds for the service (without, kNoHeldFds: a plain restart is the answer);
  // `instance_set_aside`: the Manager still has an instance set aside (kInProgress).
  OverlapVerdict CanOverlapRestart(bool holds_fds, bool instance_set_aside = false) const;
  ReloadVerdict CanReload() const;
  // The job a client's command starts, with the counters as they are now: call it right before
  // handing the command to Handle(). A start of a service already starting waits for the
  // attempt under way; of a running one it is done at once. (A start of a reloading service
  // waits for a next start, as today's Manager does.)
  Job NewJob(Job::Kind kind) const;
  // Whether `job` is done and how. `processes_left`: the Manager still has some process of the
  // service (current instance, an instance set aside or draining) — a stop is done only once
  // none is left.
  JobOutcome Outcome(const Job& job, bool processes_left) const;

  // --- Observers.
  State state() const;
  Phase phase() const { return phase_; }
  ServiceResult result() const { return result_; }
  // Why the service is failed/stopped/restarting; empty when there is nothing to say.
  const Cause& cause() const { return cause_; }
  // The last start was skipped because a Condition*= did not hold.
  bool condition_skipped() const { return condition_skipped_; }
  // Waiting for kInstancePrepared (phase kCondition).
  bool preparing() const { return phase_ == Phase::kCondition && step_ == Step::kPrepare; }
  bool ready() const { return phase_ == Phase::kRunning; }
  // The readiness probe's verdict on the running instance (true without a readiness probe):
  // running but not ready is "up, do not send it traffic", never a reason to restart.
  bool probe_ready() const { return probe_ready_; }
  // The current instance is to be probed now: the unit has probes, its main process runs, and
  // the machine is starting (from the main process on), running or reloading.
  bool wants_probes() const;
  // A main process that exits now was ended by the stop, and the stop's cause says why better
  // than its exit does: the stop's SIGKILL (after a timeout), or WatchdogSignal= sent for a
  // missed watchdog or a failed liveness probe (Go's SIGABRT exit status 2 says nothing).
  bool stop_explains_exit() const;
  // A start waits for the probe gate (ProbeSet's gate_passed) besides Type= readiness.
  bool waits_for_probe_gate() const {
    return phase_ == Phase::kStart && type_ready_ && GateNeeded() && !gate_passed_;
  }
  bool main_alive() const { return main_alive_; }
  bool control_alive() const { return control_alive_; }
  CommandList control_list() const { return control_list_; }
  size_t control_index() const { return control_index_; }
  // True when the FSM waits for kAllGone: the manager must tell it as soon as the instance's
  // processes are all gone (possibly at once).
  bool waiting_for_empty() const;
  unsigned restarts() const { return restarts_; }
  // Counts every start attempt (also those the start limit refused).
  uint64_t start_attempts() const { return start_attempts_; }
  bool start_queued() const { return start_queued_; }
  // The current/last stop was asked for by a command (not a crash or a failed start).
  bool stop_requested() const { return stop_requested_; }
  // Counts reloads that finished (ok or not), and whether the last one failed.
  uint64_t reloads_done() const { return reloads_done_; }
  bool last_reload_failed() const { return last_reload_failed_; }
  // The watchdog interval in force (WatchdogSec= or the program's WATCHDOG_USEC=), 0 = off.
  Usec watchdog_interval() const;
  // An overlap restart is under way (new instance starting, old one serving).
  bool overlap_pending() const { return overlap_pending_; }
  // Counts overlap restarts whose new instance failed (the old one kept serving).
  uint64_t overlaps_failed() const { return overlaps_failed_; }

 private:
  using K = Event::Kind;
  // Inside Phase::kCondition: which answer the machine waits for.
  enum class Step { kCheck, kPrepare, kExec };

  // What each phase reacts to: one function per phase (the stop phases that differ only by
  // their signal share one).
  Actions InDead(const Event& e);
  Actions InCondition(const Event& e);
  Actions InStartPre(const Event& e);
  Actions InStart(const Event& e);
  Actions InStartPost(const Event& e);
  Actions InRunning(const Event& e);
  Actions InReload(const Event& e);
  Actions InStop(const Event& e);
  Actions InStopSignal(const Event& e);  // stop-sigterm, stop-sigkill
  Actions InStopPost(const Event& e);
  Actions InFinalSignal(const Event& e);  // final-sigterm, final-sigkill
  Actions InBackoff(const Event& e);

  // Bookkeeping every phase does alike before its own reaction; false: the event is stale.
  bool Record(const Event& e);

  // Entry actions of the phases, appended to `acts`.
  Actions BeginStart(Usec now, bool automatic, Actions acts = {});
  Actions EnterCondition(size_t from, Usec now, Actions acts = {});
  Actions EnterStartPre(size_t from, Usec now, Actions acts = {});
  Actions EnterStart(size_t from, Usec now, Actions acts = {});
  Actions EnterStartPost(size_t from, Usec now, Actions acts = {});
  Actions EnterRunning(Usec now, Actions acts);
  Actions EnterReload();
  Actions EndReload(bool failed, Actions acts = {});
  Actions EndReloadOk();  // EndReload() and the watchdog re-armed
  Actions EnterStop(ServiceResult r, Usec now, Actions acts = {});
  Actions EnterStopSignal(Phase p, ServiceResult r, Usec now, Actions acts = {});
  Actions EnterStopPost(size_t from, ServiceResult r, Usec now, Actions acts = {});
  Actions EnterDead(ServiceResult r, Usec now, Actions acts = {});

  // Reactions several phases share.
  Actions StopWhileStarting(const Event& e);  // stop or restart
  Actions StopOldInstanceFirst();
  Actions CommandWhileStopping(const Event& e);  // start/stop/restart/extend while stopping
  Actions MainGoneWhileSignalling(const Event& e);
  Actions StartTimedOut(Usec now);
  Actions StoppingOnItsOwn();
  Actions RearmWatchdog(const Event& e) const;  // WATCHDOG=1, WATCHDOG_USEC=
  Actions WatchdogFired(const Event& e);
  Actions LivenessFailed(const Event& e);
  Actions StopWithWatchdogSignal();
  Actions TypeReady(Usec now);  // Type='s readiness reached in kStart; the gate may hold it
  // The start of this instance must also pass the probe gate: the unit has a startup or
  // readiness probe, and (in an overlap restart) that probe can tell the new instance from
  // the old one (ProbeGateTellsInstances).
  bool GateNeeded() const;
  Actions OverlapRestartNow(Usec now);
  Actions ContinueWhenEmpty(Usec now);
  Actions GiveUp();

  // Pure helpers.
  struct CommandOutcome {
    bool ok = true;  // succeeded, or failed with '-' (ignore_failure)
    ServiceResult result = ServiceResult::kSuccess;
    size_t next = 0;  // the index of the next command of the list
  };
  CommandOutcome JudgeControl(const Event& e) const;
  Cause ControlCause(const Event& e) const;
  ServiceResult MainExitResult(const Event& e) const;
  bool StartLimitOn() const;
  bool StartLimitHit(Usec now);  // forgets starts older than the interval
  void SetResult(ServiceResult r);
  bool ShouldRestart() const;
  Usec RestartDelay() const;
  bool IsCleanExit(const ExitStatus& st) const;
  ServiceResult ResultOfExit(const ExitStatus& st) const;
  bool NotifyType() const;
  const std::vector<ExecCommand>& List(CommandList l) const;
  Action SpawnControl(CommandList l, size_t i);
  Actions KillActions(int sig, bool final_kill) const;
  Action ArmWatchdog() const;

  const ServiceSpec* spec_;  // not owned

  Phase phase_ = Phase::kDead;
  Step step_ = Step::kCheck;   // meaningful in kCondition only
  bool failed_ = false;        // in kDead: failed (true) or stopped
  ServiceResult result_ = ServiceResult::kSuccess;
  bool main_alive_ = false;
  bool control_alive_ = false;
  CommandList control_list_ = CommandList::kStart;
  size_t control_index_ = 0;
  size_t main_index_ = 0;      // which ExecStart= the main process runs (oneshot: several)
  bool stop_requested_ = false;  // the current stop was asked for (no auto-restart)
  bool start_queued_ = false;    // start once the current stop is done
  unsigned restarts_ = 0;        // automatic restarts since load or reset-failed (NRestarts)
  unsigned restart_streak_ = 0;  // consecutive automatic restarts, for RestartSteps=
  uint64_t start_attempts_ = 0;
  bool spawned_main_confirmed_ = false;  // kMainSpawned seen for the current main process
  bool condition_skipped_ = false;  // this start was skipped by a false Condition*=
  std::optional<Usec> watchdog_override_;  // WATCHDOG_USEC= from the program, this start only
  uint64_t reloads_done_ = 0;
  bool last_reload_failed_ = false;
  bool reload_needs_reloading_ = false;  // ReloadSignal= sent: READY=1 counts after RELOADING=1
  bool overlap_pending_ = false;         // an old instance is set aside, serving
  bool old_main_alive_ = false;          // ... and its main process still runs
  uint64_t overlaps_failed_ = 0;
  bool type_ready_ = false;   // in kStart: Type= readiness seen (spawned, execve, READY=1)
  bool gate_passed_ = false;  // in kStart: kProbeGatePassed seen for this instance
  bool probe_ready_ = true;   // the last kReadinessChanged (reset at each start)
  std::optional<ExitStatus> last_main_exit_;  // of the current start, for Restart*ExitStatus=
  std::vector<Usec> start_times_;  // starts inside StartLimitIntervalSec=
  Cause cause_;
};

}  // namespace supd
