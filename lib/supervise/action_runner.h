// ActionRunner: carries out what the state machines decide, and feeds back what happened.
//
// A ServiceFsm's actions (spawn, signal, arm a timer, set an instance aside, …) are performed on
// the service's instances through the host interfaces (host.h, launch.h); the outcomes — a
// spawn that failed, a process that exited, an exec that succeeded, a timer that fired, an
// instance that emptied — go back to the machine as events, and the actions they bring are
// performed in turn, until the machine rests. The old instances of overlap restarts are stopped
// the same way by their own InstanceStop machines.
//
// It decides nothing: every "what next" is the machines'. It does know facts: which process is
// whose, whether a cgroup is empty, how a process ended (OOM kills included).
//
// Touched only on the io_context thread.
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>

#include "lib/supervise/host.h"
#include "lib/supervise/launch.h"
#include "lib/supervise/service.h"

namespace supd {

class LogWriter;
class SocketUnits;
struct SavedInstance;
struct LogRecord;

class ActionRunner {
 public:
  // What the runner works with; the Manager owns all of it and outlives the runner.
  struct Env {
    Loop* loop = nullptr;
    ProcessControl* process = nullptr;
    CgroupControl* cgroups = nullptr;
    Launcher* launcher = nullptr;
    BlockingWork* worker = nullptr;
    LogWriter* log_writer = nullptr;
    SocketUnits* sockets = nullptr;
    ProbeFactory make_probes;  // null: no probes run
    std::string log_dir;
    std::string notify_socket;  // "" when supd has none
    std::string notify_error;   // why
    uid_t euid = 0;
    gid_t egid = 0;
    std::string home;  // supd's $HOME
    std::function<Service*(const std::string&)> find;
    // After every change of a service (the Manager tracks states, answers jobs, arms socket
    // activation, forgets removed units).
    std::function<void(Service&)> after_change;
    // Handles the notify datagrams queued now (before a main process's exit is acted on).
    std::function<void()> drain_notify;
    std::function<void(const std::string& service, const LogRecord&)> on_log_record;
    // The main process of a service's current instance ended (s.last_exit is set).
    std::function<void(Service&)> on_main_exit;
  };

  explicit ActionRunner(Env env);

  // Performs `first` and everything the outcomes bring, then tells the Manager.
  void Dispatch(Service& s, Actions first);

  // Sends `sig` to the current instance's processes (kAll: with its cgroup or process groups,
  // and what earlier instances left behind). For the FSM's kSignal and for `supctl kill`.
  void Signal(Service& s, KillTarget target, int sig);
  // `sig` to every process the service has: each instance (current, set aside, draining) and
  // the cgroups left from before.
  void SignalEverything(Service& s, int sig);

  // The service's pid → (service, instance) index for NotifyRouter and MAINPID=.
  struct Owner {
    std::string service;
    uint64_t instance = 0;  // Instance::id
    bool is_main = false;
  };
  const Owner* OwnerOf(pid_t pid) const;
  // Takes `proc` (already watched or not) as the new main process of the current instance
  // (MAINPID=); the former one is left to exit.
  void AdoptMain(Service& s, std::unique_ptr<Proc> proc);
  // Takes a former main process (still in `abandoned`) back as the main process.
  bool ReadoptMain(Service& s, pid_t pid);

  // Tells the service's machine once nothing of its current instance is left (while it
  // waits for that), else keeps watching it.
  void CheckEmpty(Service& s);

  // The service is stopped or failed: the current instance's cgroup goes if it is empty (one
  // that still holds processes, KillMode=process leftovers, stays; a later instance keeps it as
  // stale).
  void ReleaseCgroup(Service& s);

  // After orphans were reaped: process groups may be gone and cgroups empty.
  void OnOrphansReaped();

  // daemon-reexec (action_restore.cc). The current instance as the next supd needs it (its
  // main process, output pipes, limits); output readers stop reading for the exec and go on if
  // it failed.
  SavedInstance SaveInstance(const Instance& inst) const;
  void PauseOutputs(Service& s, bool pause);
  // Re-attaches an instance a previous supd ran as the current one: watches its main process
  // (an exit during the exec is seen at once: a zombie's pidfd is readable), reads its output
  // on, re-records its limits. Probes and timers follow in RestoreTimers, once the sockets are
  // back too.
  void RestoreInstance(Service& s, SavedInstance saved);
  void RestoreTimers(Service& s, std::optional<Usec> timer, std::optional<Usec> watchdog);
  // Opens the service's log if it has none ("" or the error, also kept in s.log_error).
  void OpenLog(Service& s);

 private:
  Usec Now() const { return env_.loop->Now(); }
  void Perform(Service& s, const Action& a, Actions* more);
  void ArmTimer(Service& s, Usec delay);
  void ExtendTimer(Service& s, Usec delay);
  void ArmWatchdog(Service& s, Usec delay);

  // Probes (instance_probes.cc): the current instance is probed while its main process runs
  // and the machine is starting, running or reloading; the reports become events.
  void SyncProbes(Service& s);
  void OnProbeReport(const std::string& name, uint64_t instance, const Event& e);
  std::unique_ptr<Check> StartExecCheck(const std::string& name, uint64_t instance,
                                        const ProbeSpec& probe, CheckDone done);

  // Instances.
  void NewInstance(Service& s);
  void Prepare(Service& s, Actions* more);
  std::string ApplyPrepared(Service& s, Instance& inst);
  std::string ApplyResources(Service& s, Instance& inst);
  void DropCgroup(Service& s, const std::string& dir);
  void SetAside(Service& s);
  void TakeBack(Service& s);
  void StopOldInstance(Service& s);
  // Performs an old instance's InstanceStop actions (and what their outcomes bring); the
  // caller tells the Manager after (StopOldInstance runs inside a Dispatch, which does).
  void DispatchOld(Service& s, Instance& old, Actions acts);
  void ForgetDrained(Service& s);

  // Processes.
  // What every process of `inst` is launched with: its unit, environment, identity and cgroup.
  LaunchInput LaunchInputFor(const Instance& inst) const;
  LaunchTarget LaunchTargetFor(const Instance& inst) const;
  std::string Spawn(Service& s, Instance& inst, CommandList list, size_t index, bool is_main);
  void SignalInstance(Service& s, Instance& inst, KillTarget target, int sig, bool stale);
  void Watch(Service& s, Instance& inst, Proc& proc, bool is_main);
  void Abandon(Service& s, std::unique_ptr<Proc>& slot);
  void OnExit(const std::string& name, uint64_t instance, pid_t pid, bool is_main,
              const ExitStatus& st);
  void OnCurrentExit(Service& s, std::unique_ptr<Proc> proc, bool is_main,
                     const ExitStatus& st);
  void OnOldExit(Service& s, Instance& old, pid_t pid, bool is_main, const ExitStatus& st);
  void OnExecReadable(const std::string& name, uint64_t instance, pid_t pid);
  void TakeAdjustments(Service& s, Instance& inst, Proc& proc);
  std::string OomReason(const Instance& inst, const ExitStatus& st);
  bool InstanceEmpty(Service& s, Instance& inst);
  Instance* FindInstance(Service& s, uint64_t id);
  void Index(pid_t pid, const Service& s, const Instance& inst, bool is_main);
  void Unindex(pid_t pid);

  Env env_;
  uint64_t next_instance_id_ = 1;
  std::unordered_map<pid_t, Owner> owners_;
  // Services that wait for processes to go (a stop, draining old instances, stale cgroups):
  // checked after orphans are reaped, instead of every service.
  std::set<std::string> watching_;
};

}  // namespace supd
