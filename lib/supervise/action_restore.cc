// ActionRunner across daemon-reexec: an instance's facts out (SaveInstance) and back in
// (RestoreInstance), its output readers paused for the exec, its timers re-armed with the time
// they had left. See saved_state.h for what is kept and manager_reexec.cc for the order.
#include <spdlog/spdlog.h>

#include "lib/log/output_reader.h"
#include "lib/supervise/action_runner.h"
#include "lib/supervise/saved_state.h"
#include "lib/supervise/service.h"

namespace supd {
namespace {

SavedOutput SaveOutput(const OutputReader& reader) {
  OutputReaderExport e = reader.Export();
  return SavedOutput{e.fd, std::move(e.stream), std::move(e.pending), std::move(e.excerpt)};
}

}  // namespace

SavedInstance ActionRunner::SaveInstance(const Instance& inst) const {
  SavedInstance out;
  out.invocation_id = inst.invocation_id;
  out.started_monotonic = inst.started_monotonic;
  out.attempt = inst.attempt;
  out.user = inst.prep.user;
  out.group = inst.prep.group;
  out.groups = inst.prep.groups;
  out.unit_env = inst.prep.unit_env;
  out.env = inst.env;
  out.setup_error = inst.setup_error;
  out.limits = inst.limits;
  out.go_runtime = inst.go_runtime;
  out.output_warnings = inst.output_warnings;
  out.adjustments = inst.adjustments;
  out.cgroup = inst.cgroup;
  out.pgids = inst.pgids;
  if (inst.main) {
    const Proc& p = *inst.main;
    SavedProc sp;
    sp.pid = p.pid();
    sp.path = p.path;
    sp.working_directory = p.working_directory;
    sp.started_realtime = p.started_realtime;
    sp.exec = p.exec;
    sp.adjustments_taken = p.adjustments_taken;
    // A pipe already at EOF has nothing more to give: it is not kept.
    for (const auto* r : {p.out_reader.get(), p.err_reader.get()})
      if (r && r->Export().fd >= 0) sp.outputs.push_back(SaveOutput(*r));
    out.main = std::move(sp);
  }
  return out;
}

void ActionRunner::PauseOutputs(Service& s, bool pause) {
  if (!s.current || !s.current->main) return;
  for (auto* r : {s.current->main->out_reader.get(), s.current->main->err_reader.get()}) {
    if (!r) continue;
    if (pause) {
      r->Pause();
    } else {
      r->Resume();
    }
  }
}

void ActionRunner::RestoreInstance(Service& s, SavedInstance saved) {
  auto inst = std::make_unique<Instance>();
  inst->spec = s.spec;
  inst->invocation_id = std::move(saved.invocation_id);
  inst->started_monotonic = saved.started_monotonic;
  inst->attempt = saved.attempt;
  inst->id = next_instance_id_++;
  inst->stop_timer = env_.loop->NewTimer();
  inst->prepared = true;
  inst->prep.user = std::move(saved.user);
  inst->prep.group = saved.group;
  inst->prep.groups = std::move(saved.groups);
  inst->prep.unit_env = std::move(saved.unit_env);
  inst->env = std::move(saved.env);
  inst->setup_error = std::move(saved.setup_error);
  inst->go_runtime = std::move(saved.go_runtime);
  inst->output_warnings = std::move(saved.output_warnings);
  inst->adjustments = std::move(saved.adjustments);
  inst->cgroup = std::move(saved.cgroup);
  inst->pgids = std::move(saved.pgids);
  inst->limits = std::move(saved.limits);
  // The limits' records (v1 directories, what was written) live in the cgroup part, which
  // starts empty: writing the unit's limits again gives them back (and is what a
  // daemon-reload that changed them would do), without touching the processes.
  if (!inst->cgroup.empty() && inst->spec)
    inst->limits =
        env_.cgroups->ApplyLimits(s.name, inst->invocation_id, inst->cgroup, inst->spec->resources)
            .limits;
  OpenLog(s);
  if (saved.main) {
    SavedProc& sp = *saved.main;
    auto proc = std::make_unique<Proc>();
    proc->handle.pid = sp.pid;
    if (auto pidfd = env_.process->OpenPidfd(sp.pid); pidfd.ok()) {
      proc->handle.pidfd = std::move(*pidfd);
    } else {
      // Gone and reaped cannot be (supd is its parent and has not reaped it): without a pidfd
      // its exit is still seen through SIGCHLD.
      spdlog::warn("{}: {}", s.name, pidfd.error().message);
    }
    proc->path = std::move(sp.path);
    proc->working_directory = std::move(sp.working_directory);
    proc->started_realtime = sp.started_realtime;
    proc->exec = std::move(sp.exec);
    proc->adjustments_taken = sp.adjustments_taken;
    for (SavedOutput& o : sp.outputs) {
      if (!s.log) {  // OpenLog said why; the pipe closes and the program sees EPIPE
        spdlog::error("{}: no log to go on writing pid {}'s output to", s.name, sp.pid);
        UniqueFd drop(o.fd);
        continue;
      }
      OutputReaderExport from{o.fd, std::move(o.stream), std::move(o.pending),
                              std::move(o.excerpt)};
      const bool is_err = from.stream == "err";
      auto reader = env_.launcher->AdoptOutput(UniqueFd(o.fd), s.log, sp.pid, from);
      (is_err ? proc->err_reader : proc->out_reader) = std::move(reader);
    }
    inst->main = std::move(proc);
  }
  s.current = std::move(inst);
  if (s.current->main) Watch(s, *s.current, *s.current->main, /*is_main=*/true);
}

void ActionRunner::RestoreTimers(Service& s, std::optional<Usec> timer,
                                 std::optional<Usec> watchdog) {
  if (timer) ArmTimer(s, *timer);
  if (watchdog) ArmWatchdog(s, *watchdog);
  SyncProbes(s);
}

}  // namespace supd
