// What happened to the processes the ActionRunner started: exits, exec status, empty
// instances. Each becomes an event of the service's machine (or of an old instance's
// InstanceStop), and what it asks for is performed in turn.
#include <signal.h>

#include <algorithm>
#include <spdlog/spdlog.h>

#include "lib/log/output_reader.h"
#include "lib/supervise/action_runner.h"

namespace supd {

void ActionRunner::OnExit(const std::string& name, uint64_t instance, pid_t pid, bool is_main,
                          const ExitStatus& st) {
  Service* s = env_.find(name);
  if (!s) {
    Unindex(pid);
    return;
  }
  auto owned = [&](Instance* inst) {
    const Proc* p = inst ? (is_main ? inst->main.get() : inst->control.get()) : nullptr;
    return p && p->pid() == pid;
  };
  Instance* inst = FindInstance(*s, instance);
  if (owned(inst) && inst == s->current.get() && is_main && env_.drain_notify) {
    // "READY=1\nMAINPID=<child>" sent right before exiting must count before the exit does,
    // as systemd gives its notify fd priority over SIGCHLD. It may change the main process.
    env_.drain_notify();
    s = env_.find(name);
    if (!s) return;
    inst = FindInstance(*s, instance);
  }
  if (!owned(inst)) {
    // No longer the service's (abandoned, or a former main process after MAINPID=): reaped.
    std::erase_if(s->abandoned, [&](const std::unique_ptr<Proc>& p) { return p->pid() == pid; });
    Unindex(pid);
    spdlog::debug("{}: pid {} that supd no longer waited for {}", name, pid, DescribeExit(st));
    return;
  }
  std::unique_ptr<Proc>& slot = is_main ? inst->main : inst->control;
  std::unique_ptr<Proc> proc = std::move(slot);
  Unindex(pid);
  // Its process group, once empty, may be reused by anyone: forget it at once.
  if (!env_.process->GroupExists(pid)) std::erase(inst->pgids, pid);
  proc->exec_watch.reset();
  // Its last words go to the log before its exit is recorded (the pipe and the pidfd become
  // readable together, in no particular order).
  if (proc->out_reader) proc->out_reader->DrainNow();
  if (proc->err_reader) proc->err_reader->DrainNow();
  if (inst == s->current.get()) {
    OnCurrentExit(*s, std::move(proc), is_main, st);
  } else {
    OnOldExit(*s, *inst, pid, is_main, st);
  }
}

void ActionRunner::OnCurrentExit(Service& s, std::unique_ptr<Proc> proc, bool is_main,
                                 const ExitStatus& st) {
  const ExecStatus es = proc->ReadExec();
  TakeAdjustments(s, *s.current, *proc);
  const std::string exec_error = es.kind == ExecStatus::Kind::kFailed ? es.error : "";
  const Usec now = Now();
  if (!is_main) {
    if (!exec_error.empty() || !st.exited || st.code != 0)
      spdlog::warn("{}: control process {} ({}) {}", s.name, proc->pid(), proc->path,
                   exec_error.empty() ? DescribeExit(st) : exec_error);
    Dispatch(s, s.fsm->OnControlExited(st, exec_error, now));
    return;
  }
  if (es.kind == ExecStatus::Kind::kExecuted) Dispatch(s, s.fsm->OnMainExecOk(now));
  LastExit le;
  le.status = st;
  le.pid = proc->pid();
  if (proc->err_reader) le.excerpt = proc->err_reader->Excerpt();
  le.reason = exec_error.empty() ? DescribeExit(st) : exec_error;
  const std::string oom = OomReason(*s.current, st);
  if (!oom.empty()) {
    le.reason = oom;
    le.oom = true;
    ++s.counters.oom_kills;
  }
  if (s.fsm->stop_explains_exit()) le.stop_cause = s.fsm->cause();
  le.at_realtime = env_.loop->RealtimeUsec();
  le.at_monotonic = now.count();
  spdlog::log(s.fsm->state() == State::kStopping ? spdlog::level::info : spdlog::level::warn,
              "{}: main process {} {}", s.name, le.pid, le.reason);
  s.last_exit = std::move(le);
  if (env_.on_main_exit) env_.on_main_exit(s);
  Dispatch(s, s.fsm->OnMainExited(st, exec_error, now, oom));
}

// A process of an instance set aside (overlap restart) or being stopped on its own.
void ActionRunner::OnOldExit(Service& s, Instance& old, pid_t pid, bool is_main,
                             const ExitStatus& st) {
  spdlog::info("{}: previous instance's pid {} {}", s.name, pid, DescribeExit(st));
  if (&old == s.set_aside.get()) {
    if (is_main) {
      Dispatch(s, s.fsm->OnDetachedMainExited(Now()));
    } else {
      env_.after_change(s);
    }
    return;
  }
  if (!old.stop) return;
  if (is_main) {
    DispatchOld(s, old, old.stop->OnMainExited(Now()));
  } else {
    DispatchOld(s, old, old.stop->OnControlExited(st, "", Now()));
  }
  env_.after_change(s);
}

void ActionRunner::OnExecReadable(const std::string& name, uint64_t instance, pid_t pid) {
  Service* s = env_.find(name);
  Instance* inst = s ? FindInstance(*s, instance) : nullptr;
  if (!inst) return;
  Proc* proc = inst->main && inst->main->pid() == pid         ? inst->main.get()
               : inst->control && inst->control->pid() == pid ? inst->control.get()
                                                              : nullptr;
  if (!proc) return;
  // Done with this watch (destroying it from its own callback is fine: the callback's state
  // was moved out of it), and gone before a new one registers the same fd.
  proc->exec_watch.reset();
  const ExecStatus::Kind kind = proc->ReadExec().kind;
  TakeAdjustments(*s, *inst, *proc);
  if (kind == ExecStatus::Kind::kPending) {
    // The child's adjustments came first (or a spurious wake-up): execve is still to come.
    proc->exec_watch = env_.loop->WhenReadable(
        proc->exec_status.get(), [this, name, instance, pid] { OnExecReadable(name, instance, pid); });
    if (!proc->exec_watch)
      spdlog::warn("{}: {}", name, ErrnoError("watch the exec status of pid " +
                                               std::to_string(pid)).message);
    return;
  }
  if (kind == ExecStatus::Kind::kExecuted && inst == s->current.get() && proc == inst->main.get())
    Dispatch(*s, s->fsm->OnMainExecOk(Now()));
  // kFailed: the exit follows and carries the reason.
}

// Records and logs the adjustments `proc` reported that its instance does not have yet (the
// same clamp in ExecStartPre= and ExecStart= is logged once per start).
void ActionRunner::TakeAdjustments(Service& s, Instance& inst, Proc& proc) {
  const auto& all = proc.exec.adjustments;
  for (; proc.adjustments_taken < all.size(); ++proc.adjustments_taken) {
    const ExecAdjustment& a = all[proc.adjustments_taken];
    if (std::find(inst.adjustments.begin(), inst.adjustments.end(), a) != inst.adjustments.end())
      continue;
    spdlog::warn("{}: {} for {}{}", s.name, a.message, proc.path,
                 a.directive == "OOMScoreAdjust" ? ", going on without it" : ", as systemd does");
    inst.adjustments.push_back(a);
  }
}

// "killed by the OOM killer (MemoryMax=64M)" when the kernel's OOM killer ended the main
// process (SIGKILL and an oom_kill count in the instance's memory cgroup); when it killed
// other processes of the instance, the exit says so after its own reason. "" otherwise.
std::string ActionRunner::OomReason(const Instance& inst, const ExitStatus& st) {
  if (inst.cgroup.empty()) return "";
  const uint64_t kills = env_.cgroups->OomKills(inst.cgroup);
  if (kills == 0) return "";
  const InstanceResources* ir = env_.cgroups->Limits(inst.cgroup);
  const std::string limit =
      ir && !ir->memory_max_text.empty() ? " (MemoryMax=" + ir->memory_max_text + ")" : "";
  if (!st.exited && st.signal == SIGKILL) return "killed by the OOM killer" + limit;
  return DescribeExit(st) + "; the OOM killer killed " + std::to_string(kills) +
         " process(es) of the service" + limit;
}

// Whether nothing of the instance runs any more: its process groups are gone and its cgroup
// is empty. Unknown is not empty: better a stop that waits for its timeout than a restart on top
// of a live instance.
bool ActionRunner::InstanceEmpty(Service& s, Instance& inst) {
  if (inst.has_processes()) return false;
  // A pgid whose last member is gone may be reused by anyone: forget it at once.
  std::erase_if(inst.pgids, [this](pid_t pg) { return !env_.process->GroupExists(pg); });
  if (!inst.pgids.empty() && inst.cgroup.empty()) return false;
  if (!inst.cgroup.empty()) {
    auto empty = env_.cgroups->IsEmpty(inst.cgroup);
    if (!empty.ok()) {
      spdlog::warn("{}: {}", s.name, empty.error().message);
      return false;
    }
    if (!*empty) return false;
  }
  // A process that exited leaves its cgroup before its parent reaps it: an orphan of the
  // service (reparented to supd, the subreaper) may still be a zombie. The stop is done once
  // it is reaped, which the SIGCHLD on its way does (OnOrphansReaped looks again), so that
  // no zombie of the service outlives the answer to `stop`.
  if (env_.process->ChildWaitsToBeReaped()) {
    watching_.insert(s.name);
    return false;
  }
  return true;
}

// Tells the machine once nothing of the current instance is left.
void ActionRunner::CheckEmpty(Service& s) {
  if (!s.fsm || !s.fsm->waiting_for_empty()) return;
  if (s.fsm->main_alive() || s.fsm->control_alive()) return;  // its exit event is on the way
  if (s.current && !InstanceEmpty(s, *s.current)) {
    watching_.insert(s.name);
    return;
  }
  Actions acts = s.fsm->OnAllGone(Now());
  if (!acts.empty()) Dispatch(s, std::move(acts));
}

void ActionRunner::OnOrphansReaped() {
  const std::set<std::string> names = watching_;
  for (const auto& name : names) {
    Service* s = env_.find(name);
    if (!s) {
      watching_.erase(name);
      continue;
    }
    std::erase_if(s->stale_cgroups, [this](const std::string& cg) {
      auto empty = env_.cgroups->IsEmpty(cg);
      return empty.ok() && *empty && env_.cgroups->Remove(cg).ok();
    });
    for (size_t i = 0; i < s->draining.size(); ++i) {
      Instance& o = *s->draining[i];
      if (o.stop && !o.stop->done() && o.stop->waiting_for_empty() && InstanceEmpty(*s, o)) {
        DispatchOld(*s, o, o.stop->OnAllGone(Now()));
        env_.after_change(*s);
        break;  // DispatchOld may have forgotten instances: the next reap sees the rest
      }
    }
    if (Service* again = env_.find(name)) {
      CheckEmpty(*again);
      if (again->stale_cgroups.empty() && again->draining.empty() &&
          !(again->fsm && again->fsm->waiting_for_empty()))
        watching_.erase(name);
    }
  }
}

}  // namespace supd
