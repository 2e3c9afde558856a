// The Manager across daemon-reexec: when it may be saved (at rest), saving it, and a new
// supd's Manager taking it back. The daemon's side (checking the new binary, the memfd, the
// exec) is in daemon/reexec.cc; the wire format in saved_state.cc.
//
// At rest means no move is under way that a state could not carry: no job queued or running,
// every service stopped, failed, running without a control process or waiting to restart, no
// old instance of an overlap restart still there, no client waiting on a service. Those are
// the states whose whole future is in a few fields and a timer; the others (a start in
// ExecStartPre=, a stop waiting for SIGTERM to work) last at most their timeouts, and the
// daemon waits for them to end instead of carrying them.
#include <fcntl.h>

#include <spdlog/spdlog.h>

#include "lib/log/log_writer.h"
#include "lib/log/output_reader.h"
#include "lib/log/service_log.h"
#include "lib/notify/notify_server.h"
#include "lib/supervise/action_runner.h"
#include "lib/supervise/manager_impl.h"
#include "lib/supervise/notify_router.h"
#include "lib/supervise/saved_state.h"
#include "lib/supervise/socket_units.h"

namespace supd {
namespace {

constexpr std::chrono::milliseconds kFlushLimit{2000};

// What keeps one service from being saved now ("" if nothing).
std::string BusyWith(const Service& s, const std::set<pid_t>& paused) {
  if (!s.fsm) return "";
  if (!s.fsm->AtRest())
    return s.name + " is " + StateName(s.fsm->state()) + " (" + PhaseName(s.fsm->phase()) + ")";
  if (s.set_aside || !s.draining.empty()) return s.name + " is stopping an old instance";
  if (!s.jobs.empty()) return "a client waits on " + s.name;
  if (s.current && s.current->control) return s.name + " runs a control process";
  if (s.current && s.current->main) {
    const Proc& p = *s.current->main;
    if (p.exec_watch || p.exec.kind == ExecStatus::Kind::kPending)
      return s.name + "'s main process (pid " + std::to_string(p.pid()) +
             ") has not reached execve() yet";
    if (!paused.empty() && !paused.count(p.pid()))
      return s.name + " started pid " + std::to_string(p.pid()) + " while the logs were flushed";
  }
  return "";
}

// The fds of `state` go to the services again only through explicit dup2: close-on-exec, as
// supd keeps every fd of its own.
void CloseOnExecAgain(const SavedState& state) {
  for (const int fd : FdsOf(state))
    if (::fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
      spdlog::warn("{}", ErrnoError("set FD_CLOEXEC on kept fd " + std::to_string(fd)).message);
}

// Output readers the state would not carry: those of processes that are not a current main
// (a main that exited and left a daemon holding its pipe, an exited control process's). The exec
// would close their pipes under whoever still writes to them.
size_t UncarriedReaders(const std::map<std::string, std::unique_ptr<Service>>& services) {
  std::set<const OutputReader*> carried;
  for (const auto& [name, s] : services) {
    if (!s->current || !s->current->main) continue;
    for (const auto* r : {s->current->main->out_reader.get(), s->current->main->err_reader.get()})
      if (r) carried.insert(r);
  }
  const size_t live = LiveOutputReaders();
  return live > carried.size() ? live - carried.size() : 0;
}

}  // namespace

std::string Manager::NotAtRest() const {
  const Impl& m = *impl_;
  if (!m.units_loaded) return "the units are still loading";
  if (m.shutting_down) return "supd is stopping";
  std::vector<std::string> busy;
  if (const size_t n = UncarriedReaders(m.services); n > 0)
    busy.push_back(std::to_string(n) + " output pipe(s) of processes that are no service's main "
                   "process are still open (a daemon that outlived its service's main process?)");
  // A main process paused for the exec that exited meanwhile: its last lines went to the log
  // after the flush began.
  for (const pid_t pid : m.exec_paused_pids)
    if (pid != 0 && !m.runner->OwnerOf(pid))
      busy.push_back("pid " + std::to_string(pid) + " exited while the logs were flushed");
  for (const auto& [name, job] : m.dep_jobs)
    busy.push_back(std::string("a ") + (job.running ? "running" : "queued") + " job of " + name);
  for (const auto& [name, s] : m.services)
    if (std::string why = BusyWith(*s, m.exec_paused_pids); !why.empty())
      busy.push_back(std::move(why));
  std::string out;
  for (size_t i = 0; i < busy.size() && i < 5; ++i) out += (i ? "; " : "") + busy[i];
  if (busy.size() > 5) out += "; and " + std::to_string(busy.size() - 5) + " more";
  return out;
}

void Manager::PauseForExec(std::function<void()> flushed) {
  Impl& m = *impl_;
  m.exec_paused_pids.clear();
  std::vector<std::shared_ptr<LogSink>> sinks;
  for (auto& [name, s] : m.services) {
    if (s->current && s->current->main) {
      m.runner->PauseOutputs(*s, true);
      m.exec_paused_pids.insert(s->current->main->pid());
    }
    if (s->log) {
      (void)s->log->Flush();  // what the readers formatted, into the writer's queue
      sinks.push_back(s->log->sink());
    }
  }
  // Never empty while paused: a pid no process has marks "paused" for BusyWith.
  m.exec_paused_pids.insert(0);
  m.log_writer->WhenFlushed(sinks, std::move(flushed), kFlushLimit);
}

void Manager::ResumeAfterFailedExec() {
  Impl& m = *impl_;
  m.exec_paused_pids.clear();
  for (auto& [name, s] : m.services) m.runner->PauseOutputs(*s, false);
}

Result<void> Manager::SaveState(SavedState* state) {
  Impl& m = *impl_;
  if (std::string why = NotAtRest(); !why.empty()) return Error{"not at rest: " + why};
  // The next supd reads the unit files again: one deleted or broken since the last
  // daemon-reload would leave its service's processes unsupervised after the exec. Refused
  // now, with the unit named, while nothing has changed yet.
  if (std::string changed = m.sockets->ChangedOnDisk(m.catalog); !changed.empty())
    return Error{changed + ": the unit file changed since its sockets were bound (or no longer "
                 "loads): run daemon-reload first"};
  for (const auto& [name, sp] : m.services) {
    const Service& s = *sp;
    if (!s.fsm || !s.has_processes()) continue;
    const auto loaded = m.catalog.LoadService(name);
    if (!loaded.spec)
      return Error{name + " runs, but its unit does not load now (" + loaded.error +
                   "): fix it, or stop the service, first"};
    if (auto r = ServiceFsm::Restorable(s.fsm->Save(), *loaded.spec); !r.ok())
      return Error{name + " runs, but its unit file changed so that it cannot be taken over (" +
                   r.error().message + "): stop or restart it first"};
  }
  state->boot_finished = m.boot_finished;
  state->daemon.started_realtime = m.started_realtime;
  state->daemon.notify_fd = m.notify ? m.notify->fd() : -1;
  state->daemon.notify_refused = m.router->refused();
  for (const auto& [name, sp] : m.services) {
    const Service& s = *sp;
    if (!s.fsm) continue;  // never loaded: nothing to carry, its file is read again
    SavedService out;
    out.name = s.name;
    out.fsm = s.fsm->Save();
    if (s.current) out.current = m.runner->SaveInstance(*s.current);
    out.stale_cgroups = s.stale_cgroups;
    if (s.timer->armed()) out.timer_remaining = s.timer->remaining();
    if (s.watchdog->armed()) out.watchdog_remaining = s.watchdog->remaining();
    for (const auto& [fd_name, fd] : s.fdstore) out.fdstore.emplace_back(fd_name, fd.get());
    out.status_text = s.status_text;
    out.status_errno = s.status_errno;
    out.last_exit = s.last_exit;
    out.last_state = static_cast<int>(s.last_state);
    out.last_ready = s.last_ready;
    out.counters = s.counters;
    if (s.backoff_reason) out.backoff_reason = static_cast<int>(*s.backoff_reason);
    out.seen_restarts = s.seen_restarts;
    out.monitor_env = s.monitor_env;
    out.monitor_from = s.monitor_from;
    out.since_realtime = s.since_realtime;
    out.since_monotonic = s.since_monotonic;
    state->services.push_back(std::move(out));
  }
  state->sockets = m.sockets->Save();
  for (const auto& [name, t] : m.targets)
    if (t.active) state->targets.push_back(SavedTarget{name, t.active, t.since_realtime});
  return {};
}

// One saved service back: its unit (as the file says now), its machine, its instance, what
// its program said. Its timers wait for RestoreTimers (the sockets first). A service that
// cannot be taken back is left running unsupervised (never killed), its kept fds closed.
void Manager::Impl::RestoreService(SavedService& saved) {
  const std::string& name = saved.name;
  const bool has_main = saved.current && saved.current->main;
  const auto give_up = [&](const std::string& why) {
    spdlog::error("{}: not taken over: {}{}", name, why,
                  has_main ? "; pid " + std::to_string(saved.current->main->pid) +
                                 " and its other processes run on unsupervised"
                           : "");
    for (const auto& [fd_name, fd] : saved.fdstore) UniqueFd closing(fd);
    if (has_main)
      for (const SavedOutput& o : saved.current->main->outputs) UniqueFd closing(o.fd);
  };
  Service* s = Find(name);
  if (!s) {
    // A template's instance, or a unit whose file is gone.
    s = &Create(name);
    if (!LoadSpec(*s)) {
      services.erase(name);
      return give_up("its unit does not load now");
    }
  }
  if (!s->fsm) return give_up("its unit does not load now: " + s->load_error);
  if (saved.fsm.main_alive != has_main)
    return give_up(has_main ? "a main process the state machine did not count"
                            : "the state machine counts a main process the state lacks");
  if (auto r = s->fsm->Restore(saved.fsm); !r.ok()) return give_up(r.error().message);
  if (saved.current) runner->RestoreInstance(*s, std::move(*saved.current));
  s->stale_cgroups = std::move(saved.stale_cgroups);
  for (auto& [fd_name, fd] : saved.fdstore) s->fdstore.emplace_back(fd_name, UniqueFd(fd));
  s->status_text = std::move(saved.status_text);
  s->status_errno = saved.status_errno;
  s->last_exit = std::move(saved.last_exit);
  s->last_state = static_cast<State>(saved.last_state);
  s->last_ready = saved.last_ready;
  s->counters = saved.counters;
  if (saved.backoff_reason) s->backoff_reason = static_cast<RestartReason>(*saved.backoff_reason);
  s->seen_restarts = saved.seen_restarts;
  s->monitor_env = std::move(saved.monitor_env);
  s->monitor_from = std::move(saved.monitor_from);
  s->since_realtime = saved.since_realtime;
  s->since_monotonic = saved.since_monotonic;
}

void Manager::RestoreUnits(SavedState state, std::function<void()> loaded) {
  Impl& m = *impl_;
  CloseOnExecAgain(state);
  m.started_realtime = state.daemon.started_realtime;
  m.router->RestoreRefused(state.daemon.notify_refused);
  // First every service and its processes, before the loop runs: a process that exited during
  // the exec is a zombie that only its watch may reap (a SIGCHLD round would take it as an
  // orphan and its exit status would be lost).
  for (const auto& n : m.catalog.ScanServices())
    if (!UnitCatalog::IsTemplate(n)) m.LoadSpec(m.Create(n));
  for (SavedService& saved : state.services) m.RestoreService(saved);
  m.sockets->Adopt(std::move(state.sockets));
  auto timers = std::make_shared<std::vector<SavedService>>(std::move(state.services));
  m.sockets->Sync(m.catalog, [this, timers, targets = std::move(state.targets),
                              boot_finished = state.boot_finished,
                              loaded = std::move(loaded)](const SocketUnits::SyncResult&) {
    Impl& m = *impl_;
    if (m.shutting_down) return;
    m.LoadTargets();
    for (const SavedTarget& t : targets)
      if (Impl::TargetUnit* tu = m.FindTarget(t.name)) {
        tu->active = t.active;
        tu->since_realtime = t.since_realtime;
      }
    m.RebuildGraph();
    m.units_loaded = true;
    m.boot_finished = boot_finished;
    m.boot_jobs_pending = 0;
    for (const SavedService& saved : *timers)
      if (Service* s = m.Find(saved.name); s && s->fsm)
        m.runner->RestoreTimers(*s, saved.timer_remaining, saved.watchdog_remaining);
    // Each service as it is now (readiness, socket activation, busy, a process already gone).
    for (auto& [name, s] : m.services) m.AfterChange(*s);
    // SIGCHLDs of the exec's moment are gone with the old image: reap what exited meanwhile
    // (watched processes through their watch, the others as orphans).
    m.host.process->ReapNow();
    m.sockets->ArmActivation();
    spdlog::info("restored {} services and {} socket units from the previous supd",
                 timers->size(), m.sockets->Names().size());
    loaded();
  });
}

}  // namespace supd
