// InstanceStop: the stop of ONE old instance of an overlap restart, as a pure machine.
//
// An overlap restart sets the running instance aside and, once the new one is ready, stops it
// beside the new one (ServiceFsm's kStopOldInstance). That instance was started with the spec
// in force then, which a daemon-reload may have replaced since: it is stopped with THAT spec
// (the Manager keeps it with the instance), as the service's own stop would: ExecStop= commands
// one by one (each within TimeoutStopSec=; a failed one, unless '-', goes straight on to the
// signal, as systemd does), then KillSignal= per KillMode= (and SIGHUP after it with
// SendSIGHUP=), then after TimeoutStopSec= FinalKillSignal= (SendSIGKILL=yes), then after
// another TimeoutStopSec= the processes are abandoned. KillMode=mixed sends FinalKillSignal= to
// the whole instance as soon as its main process is gone, as the service's stop does.
//
// ExecStopPost= is NOT run: the service did not stop (its new instance runs), and
// ExecStopPost= is the service's "after it stopped" hook.
//
// Like ServiceFsm it makes no system call: its actions (the same Action kinds: kSpawnControl
// with list kStop and the ExecStop= index, kSignal to kMain/kControl/kAll — of this instance,
// not of the service —, kArmTimer/kDisarmTimer for the instance's own timer,
// kAbandonProcesses) are performed by the Manager, which feeds the outcomes back as events.
#pragma once

#include "lib/supervise/service_fsm.h"

namespace supd {

class InstanceStop {
 public:
  enum class Step {
    kNotBegun,
    kExecStop,     // an ExecStop= command runs
    kSignal,       // KillSignal= sent, waiting for the processes to go
    kFinalSignal,  // FinalKillSignal= sent, waiting
    kDone,         // nothing left to wait for (gone, or abandoned)
  };

  // `spec`: the spec the instance was started with; must outlive this machine.
  explicit InstanceStop(const ServiceSpec* spec) : spec_(spec) {}

  // Starts the stop. `main_alive`: the instance's main process still runs. (It has no control
  // process: an overlap restart begins only without one.)
  Actions Begin(bool main_alive, Usec now);

  // The events that concern an instance: kControlExited (exit, exec_error), kSpawnFailed (the
  // ExecStop= could not be spawned), kMainExited, kTimer, kAllGone (every process of the
  // instance is gone). Others, and any event once done() or before Begin(), give no action.
  Actions Handle(const Event& e);

  Actions OnControlExited(const ExitStatus& st, const std::string& exec_error, Usec now);
  Actions OnSpawnFailed(const std::string& reason, Usec now);
  Actions OnMainExited(Usec now);
  Actions OnTimer(Usec now);
  Actions OnAllGone(Usec now);

  Step step() const { return step_; }
  bool done() const { return step_ == Step::kDone; }
  // The Manager must send kAllGone as soon as the instance is empty (possibly at once).
  bool waiting_for_empty() const {
    return step_ == Step::kSignal || step_ == Step::kFinalSignal;
  }
  bool main_alive() const { return main_alive_; }
  bool control_alive() const { return control_alive_; }
  // The processes were left running (KillMode=none, SendSIGKILL=no, or they survived).
  bool abandoned() const { return abandoned_; }

 private:
  Actions EnterExecStop(size_t index);
  Actions EnterSignal(Usec now);
  Actions EnterFinalSignal(Usec now);
  Actions EnterDone(Actions acts);
  Actions Abandon();
  Actions ContinueWhenEmpty(Usec now);
  Actions KillActions(int sig, bool final_kill) const;
  Actions ControlExited(const Event& e);
  bool CommandFailed(const Event& e) const;

  const ServiceSpec* spec_;  // not owned
  Step step_ = Step::kNotBegun;
  bool main_alive_ = false;
  bool control_alive_ = false;
  size_t stop_index_ = 0;  // the ExecStop= running (kExecStop)
  bool abandoned_ = false;
};

}  // namespace supd
