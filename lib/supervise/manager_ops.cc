// The Manager's typed operations (start, stop, restart, reload, kill, reset-failed) on services
// and socket units, the jobs that answer them, and the public API's forwarding.
#include <algorithm>
#include <filesystem>
#include <spdlog/spdlog.h>

#include "lib/base/closest_name.h"
#include "lib/base/signals.h"
#include "lib/log/log_writer.h"
#include "lib/log/service_log.h"
#include "lib/proc/limit_plan.h"
#include "lib/supervise/action_runner.h"
#include "lib/supervise/manager.h"
#include "lib/supervise/manager_impl.h"
#include "lib/supervise/notify_router.h"
#include "lib/supervise/probe_notes.h"
#include "lib/supervise/real_host.h"
#include "lib/supervise/socket_units.h"

namespace supd {
namespace {

JobResult Answer(JobResult::Kind kind, const std::string& unit, std::string text = "") {
  JobResult r;
  r.kind = kind;
  r.unit = unit;
  r.text = std::move(text);
  return r;
}

}  // namespace

// "web" → "web.service"; an Alias=; a template instance loaded on first use.
Result<Manager::Impl::Target> Manager::Impl::ResolveTarget(const std::string& unit,
                                                            bool create_instance) {
  std::string n = unit;
  if (n.find('.') == std::string::npos) n += ".service";
  if (!IsValidUnitName(n)) return Error{"invalid unit name \"" + unit + "\""};
  if (Service* s = Find(n)) return Target{n, s};
  if (sockets->Has(n)) return Target{n, nullptr};
  if (n.ends_with(".target")) {
    if (auto it = links.aliases.find(n); it != links.aliases.end() && FindTarget(it->second))
      return Target{it->second, nullptr, true};
    if (FindTarget(n)) return Target{n, nullptr, true};
  }
  for (auto& [name, svc] : services) {
    if (!svc->spec) continue;
    for (const auto& alias : svc->spec->install.aliases)
      if (alias == n) return Target{name, svc.get()};
  }
  if (create_instance && catalog.InstanceHasTemplate(n)) {
    Service& s = Create(n);
    if (!LoadSpec(s)) {
      Error e{s.load_error};
      services.erase(n);
      return e;
    }
    return Target{n, &s};
  }
  return Error{NotFound(n)};
}

std::string Manager::Impl::NotFound(const std::string& name) {
  std::vector<std::string> names;
  for (const auto& [n, svc] : services) {
    names.push_back(n);
    if (svc->spec)
      for (const auto& alias : svc->spec->install.aliases) names.push_back(alias);
  }
  for (auto& n : sockets->Names()) names.push_back(std::move(n));
  for (const auto& [n, target] : targets) names.push_back(n);
  if (auto close = ClosestName(name, names))
    return "Unit " + name + " not found. Did you mean " + *close + "?";
  return "Unit " + name + " not found (no unit file in " + config.units_dir + ").";
}

// Answers `done` and returns true when the target cannot be acted on.
bool Manager::Impl::Refuse(const supd::Result<Target>& t, const JobDone& done, bool need_loaded) {
  if (!t.ok()) {
    done(Answer(JobResult::Kind::kNotFound, "", t.error().message));
    return true;
  }
  if (need_loaded && t->service && !t->service->fsm) {
    done(Answer(JobResult::Kind::kNotLoaded, t->name, t->service->load_error));
    return true;
  }
  if (need_loaded && t->is_target) {
    if (TargetUnit* u = FindTarget(t->name); u && !u->spec && !u->load_error.empty()) {
      done(Answer(JobResult::Kind::kNotLoaded, t->name, u->load_error));
      return true;
    }
  }
  return false;
}

void Manager::Impl::StartService(Service& s) {
  MaybeSwapSpec(s);
  runner->Dispatch(s, s.fsm->Start(host.loop->Now()));
}

Manager::Impl::RunEnd Manager::Impl::EndOf(const Service& s, State from, State to) const {
  // systemd: failed when the unit enters failed (with Restart=, only once it gives up: supd's
  // failed state is that); succeeded when it becomes inactive with result success. A unit
  // stopped because its file was removed (daemon-reload), or by the stop of everything, did
  // neither.
  if (!s.spec || shutting_down || s.removed) return RunEnd::kNone;
  if (to == State::kFailed && from != State::kFailed) return RunEnd::kFailed;
  if (to == State::kStopped && from != State::kStopped && from != State::kFailed &&
      s.fsm->result() == ServiceResult::kSuccess)
    return RunEnd::kSucceeded;
  return RunEnd::kNone;
}

void Manager::Impl::TriggerExitAction(Service& s, State from, State to) {
  const RunEnd end = EndOf(s, from, to);
  if (end == RunEnd::kNone || !exit_handler) return;
  const bool failed = end == RunEnd::kFailed;
  const UnitAction action = failed ? s.spec->failure_action : s.spec->success_action;
  if (action == UnitAction::kNone) return;
  ExitRequest req;
  req.unit = s.name;
  req.directive = failed ? "FailureAction" : "SuccessAction";
  req.action = action;
  const auto& explicit_status =
      failed ? s.spec->failure_action_exit_status : s.spec->success_action_exit_status;
  // systemd (unit_failure_action_exit_status): the main process's exit code when it exited,
  // 255 when a signal ended it, and supd's status left as it is (0) when no main process of
  // this run ended (a failed ExecStartPre=: the last exit is an earlier run's).
  if (explicit_status) {
    req.status = *explicit_status;
  } else if (s.last_exit && s.current &&
             s.last_exit->at_monotonic >= s.current->started_monotonic) {
    req.status = s.last_exit->status.exited ? s.last_exit->status.code & 0xff : 255;
  }
  spdlog::warn("{}: {}={}: stopping supd with exit status {}", s.name, req.directive,
               UnitActionName(action), req.status);
  host.loop->Post([this, req = std::move(req)] {
    if (exit_handler) exit_handler(req);
  });
}

void Manager::Impl::TriggerUnits(Service& s, State from, State to) {
  const RunEnd end = EndOf(s, from, to);
  if (end == RunEnd::kNone) return;
  const bool failed = end == RunEnd::kFailed;
  const std::vector<std::string>& units = failed ? s.spec->on_failure : s.spec->on_success;
  if (units.empty()) return;
  const char* directive = failed ? "OnFailure" : "OnSuccess";
  // As systemd sets them for a unit started by exactly one other.
  EnvList env;
  env.emplace_back("MONITOR_SERVICE_RESULT", ResultName(s.fsm->result()));
  if (s.last_exit) {
    const ExitStatus& st = s.last_exit->status;
    env.emplace_back("MONITOR_EXIT_CODE", st.exited ? "exited" : st.core_dumped ? "dumped" : "killed");
    env.emplace_back("MONITOR_EXIT_STATUS", st.exited ? std::to_string(st.code) : SignalName(st.signal));
  }
  if (s.current && !s.current->invocation_id.empty())
    env.emplace_back("MONITOR_INVOCATION_ID", s.current->invocation_id);
  env.emplace_back("MONITOR_UNIT", s.name);
  host.loop->Post([this, from_unit = s.name, units, directive, env = std::move(env)] {
    for (const std::string& unit : units) {
      auto t = ResolveTarget(unit, /*create_instance=*/true);
      if (!t.ok()) {
        spdlog::warn("{}: {}={} not started: {}", from_unit, directive, unit, t.error().message);
        continue;
      }
      if (Service* target = t->service; target && target->fsm) {
        const State st = target->fsm->state();
        if (st != State::kStopped && st != State::kFailed && st != State::kStopping) {
          spdlog::info("{}: {}={} is already active; not started again", from_unit, directive,
                       t->name);
          continue;
        }
        // Two units triggering one before it starts: systemd then passes no MONITOR_*.
        const bool other = !target->monitor_from.empty() && target->monitor_from != from_unit;
        target->monitor_env = other ? EnvList{} : env;
        target->monitor_from = other ? std::string("*") : from_unit;
      }
      spdlog::info("{}: {}= starts {}", from_unit, directive, t->name);
      JobOptions options;
      options.no_block = true;
      manager->Start(t->name, options, [from_unit, directive, name = t->name](const JobResult& r) {
        if (!r.ok())
          spdlog::warn("{}: {}={} could not be started (see its status)", from_unit, directive,
                       name);
      });
      // Refused at once (its start limit, say): no start took the MONITOR_* variables, and the
      // next start by hand must not get them.
      if (Service* target = Find(t->name); target && target->fsm) {
        const State st = target->fsm->state();
        if (st == State::kStopped || st == State::kFailed) {
          target->monitor_env.clear();
          target->monitor_from.clear();
        }
      }
    }
  });
}

void Manager::Impl::Reply(Service& s, JobDone done, JobResult r) {
  // The answer waits until the service's output so far is in its log file (the log writer
  // thread may lag a little): after `supctl stop`, the last lines are there to read.
  if (!s.log) {
    done(std::move(r));
    return;
  }
  log_writer->WhenFlushed(
      {s.log->sink()},
      [done = std::move(done), r = std::move(r)]() mutable { done(std::move(r)); },
      std::chrono::seconds(1));  // a hung disk must not hang the answer
}

void Manager::Impl::AddJob(Service& s, Job job, const JobOptions& options, JobDone done) {
  if (options.no_block) {
    done(Answer(JobResult::Kind::kQueued, s.name));
    return;
  }
  PendingJob p;
  p.job = job;
  p.done = std::move(done);
  p.started = host.loop->Now();
  const Usec safety = SafetyDeadline(*s.spec, job.kind);
  const bool client = options.timeout && *options.timeout < safety;
  const Usec limit = client ? *options.timeout : safety;
  if (limit != kInfinity) {
    p.deadline = host.loop->NewTimer();
    p.client_deadline = client;
    p.deadline->Arm(limit, [this, name = s.name, timer = p.deadline.get()] {
      Service* sp = Find(name);
      if (!sp) return;
      for (auto it = sp->jobs.begin(); it != sp->jobs.end(); ++it) {
        if (it->deadline.get() != timer) continue;
        PendingJob j = std::move(*it);
        sp->jobs.erase(it);
        JobResult r;
        r.unit = name;
        r.state = sp->fsm->state();
        r.phase = sp->fsm->phase();
        r.waited = host.loop->Now() - j.started;
        if (j.client_deadline) {
          r.kind = JobResult::Kind::kTimedOut;
        } else {
          r.kind = JobResult::Kind::kInternalError;
          r.text = "the operation did not end within the unit's own timeouts";
          spdlog::error("{}: internal error: a job did not end within its unit's timeouts "
                        "(state {}, {}); answering its client",
                        name, StateName(r.state), PhaseName(r.phase));
        }
        j.done(std::move(r));
        return;
      }
    });
  }
  s.jobs.push_back(std::move(p));
  ResolveJobs(s);
}

void Manager::Impl::ResolveJobs(Service& s) {
  if (s.jobs.empty() || !s.fsm) return;
  std::vector<std::pair<JobDone, JobResult>> done;
  const bool left = s.has_processes();
  std::erase_if(s.jobs, [&](PendingJob& j) {
    const JobOutcome o = s.fsm->Outcome(j.job, left);
    if (o.kind == JobOutcome::Kind::kPending) return false;
    done.emplace_back(std::move(j.done), ResultOfOutcome(s.name, o));
    return true;
  });
  for (auto& [fn, r] : done) Reply(s, std::move(fn), std::move(r));
}

void Manager::Impl::StopAllNow(std::function<void()> done) {
  shutting_down = true;
  shutdown_done = [this, done = std::move(done)] {
    // An orphan that exited as its service stopped (a child of a killed shell, reparented to
    // supd) may not have been reaped yet: no zombie is left behind.
    host.process->ReapNow();
    host.cgroups->RemoveAll();
    sockets->CloseAll();
    done();
  };
  // Every unit stops, in the reverse of the order they start in (Before=/After=); units with
  // no order between them stop in parallel.
  // All stops are queued before any runs, so that each waits for the units after it.
  std::vector<std::string> names;
  for (auto& [n, s] : services)
    if (s->fsm && (!Inactive(n) || s->has_processes() || dep_jobs.count(n))) names.push_back(n);
  for (auto& [n, t] : targets)
    if (t.active || dep_jobs.count(n)) names.push_back(n);
  for (const auto& n : names)
    if (auto it = dep_jobs.find(n); it == dep_jobs.end() || !it->second.StopHalf() ||
                                    it->second.kind == DepJob::Kind::kRestart)
      QueueStop(n, {}, nullptr, /*pump=*/false);
  PumpJobs();
  CheckShutdown();
}

// ---------------------------------------------------------------- the public API

Manager::Manager(boost::asio::io_context& io, const ManagerConfig& config)
    : Manager(io, config, MakeRealHost(io, CgroupTreeName(config.state_dir))) {}

Manager::Manager(boost::asio::io_context& io, ManagerConfig config, HostParts host)
    : impl_(std::make_unique<Impl>(io, std::move(config), std::move(host))) {
  impl_->manager = this;
}

Manager::~Manager() = default;

void Manager::LoadUnits(std::function<void()> loaded) {
  // Services of a previous supd on this state directory that died without stopping them
  // (SIGKILL, crash) still run in its cgroups: stop them first, so that no service runs twice
  // and their ports are free for ours.
  impl_->host.cgroups->StopLeftovers([this, loaded = std::move(loaded)]() mutable {
    if (impl_->shutting_down) return;
    impl_->LoadAll(std::move(loaded));
  });
}

bool Manager::units_loaded() const { return impl_->units_loaded; }

void Manager::ReloadUnits(std::function<void(ReloadSummary)> done) {
  impl_->Reload(std::move(done));
}

void Manager::StopAll(std::function<void()> done) { impl_->StopAllNow(std::move(done)); }

std::vector<std::string> Manager::KillAll(int signal) {
  Impl& m = *impl_;
  std::vector<std::string> hit;
  for (auto& [n, s] : m.services) {
    if (!s->has_processes() && s->stale_cgroups.empty()) continue;
    hit.push_back(n);
    m.runner->SignalEverything(*s, signal);
  }
  return hit;
}

void Manager::SetExitHandler(std::function<void(const ExitRequest&)> handler) {
  impl_->exit_handler = std::move(handler);
}

const char* SystemStateName(SystemState s) {
  switch (s) {
    case SystemState::kInitializing: return "initializing";
    case SystemState::kStarting: return "starting";
    case SystemState::kRunning: return "running";
    case SystemState::kDegraded: return "degraded";
    case SystemState::kStopping: return "stopping";
  }
  return "unknown";
}

SystemState Manager::system_state() const {
  const Impl& m = *impl_;
  if (m.shutting_down) return SystemState::kStopping;
  if (!m.units_loaded) return SystemState::kInitializing;
  if (!m.boot_finished) return SystemState::kStarting;
  for (const auto& [n, s] : m.services)
    if (s->fsm && s->fsm->state() == State::kFailed) return SystemState::kDegraded;
  for (const auto& n : m.sockets->Names())
    if (m.sockets->StateOf(n) == SocketState::kFailed) return SystemState::kDegraded;
  return SystemState::kRunning;
}

void Manager::Start(const std::string& unit, const JobOptions& options, JobDone done) {
  Impl& m = *impl_;
  if (m.shutting_down) return done(Answer(JobResult::Kind::kShuttingDown, unit));
  auto t = m.ResolveTarget(unit, /*create_instance=*/true);
  if (m.Refuse(t, done, true)) return;
  if (t->is_target) return m.QueueStart(t->name, options, std::move(done));
  if (!t->service) {
    // As systemd: a socket unit does not bind while its service runs (it still listens on the
    // socket it inherited; a unix path would be taken from under it).
    if (Service* svc = m.Find(m.sockets->ServiceOf(t->name)); svc && svc->fsm) {
      const State st = svc->fsm->state();
      if (st != State::kStopped && st != State::kFailed && st != State::kBackoff)
        return done(Answer(JobResult::Kind::kSocketFailed, t->name,
                           "Socket service " + svc->name + " already active, refusing (stop " +
                               svc->name + " first)"));
    }
    m.sockets->Start(t->name, [name = t->name, done = std::move(done)](const std::string& err) {
      done(err.empty() ? Answer(JobResult::Kind::kOk, name)
                       : Answer(JobResult::Kind::kSocketFailed, name, err));
    });
    return;
  }
  m.QueueStart(t->name, options, std::move(done));
}

void Manager::Stop(const std::string& unit, const JobOptions& options, JobDone done) {
  Impl& m = *impl_;
  auto t = m.ResolveTarget(unit, false);
  if (m.Refuse(t, done, true)) return;
  if (t->is_target) return m.QueueStop(t->name, options, std::move(done));
  if (!t->service) {
    const std::string service = m.sockets->Stop(t->name);
    JobResult r = Answer(JobResult::Kind::kOk, t->name);
    if (Service* s = m.Find(service); s && s->fsm && s->fsm->state() != State::kStopped &&
                                      s->fsm->state() != State::kFailed)
      r.service_still_running = service;
    return done(std::move(r));
  }
  m.QueueStop(t->name, options, std::move(done));
}

void Manager::Restart(const std::string& unit, bool hard, const JobOptions& options,
                      JobDone done) {
  Impl& m = *impl_;
  if (m.shutting_down) return done(Answer(JobResult::Kind::kShuttingDown, unit));
  auto t = m.ResolveTarget(unit, true);
  if (m.Refuse(t, done, true)) return;
  // Units that Require=, BindsTo= or are PartOf= it restart with it, in order (systemd's
  // restart job: each stops, then starts again); an overlap restart applies only alone.
  if (t->is_target || m.RestartPropagates(t->name) || m.dep_jobs.count(t->name))
    return m.QueueRestart(t->name, hard, options, std::move(done));
  // Alone, a service restarts in its FSM (an overlap restart where it can), once the start it
  // includes is allowed: refused as a start would be (a cycle, a missing requirement), and
  // through the queue when it pulls in units that are not up.
  if (t->service) {
    Impl::StartPlan plan;
    if (std::string why = m.PlanStart(t->name, &plan); !why.empty())
      return done(Answer(JobResult::Kind::kDependencyFailed, t->name, std::move(why)));
    for (const auto& [u, kind] : plan.jobs)
      if (u != t->name && (kind != Impl::DepJob::Kind::kStart || !m.Active(u)))
        return m.QueueRestart(t->name, hard, options, std::move(done));
  }
  if (!t->service) {
    // A socket unit: closed and bound anew; its service keeps what it inherited.
    m.sockets->Stop(t->name);
    return Start(t->name, options, std::move(done));
  }
  Service& s = *t->service;
  const bool holds = !s.fdstore.empty() || m.sockets->HoldsFor(s.name);
  const OverlapVerdict v = s.fsm->CanOverlapRestart(holds, s.set_aside != nullptr);
  if (v == OverlapVerdict::kInProgress)
    return done(Answer(JobResult::Kind::kRestartInProgress, s.name));
  const Usec now = m.host.loop->Now();
  const State before = s.fsm->state();
  const bool active = before != State::kStopped && before != State::kFailed;
  if (!hard && v == OverlapVerdict::kOk) {
    // Sockets (or stored fds) held by supd: the new instance starts beside the old one.
    m.CountRestart(s, RestartReason::kOverlap);
    const Job job = s.fsm->NewJob(Job::Kind::kOverlapRestart);
    m.runner->Dispatch(s, s.fsm->OverlapRestart(now));
    return m.AddJob(s, job, options, std::move(done));
  }
  m.MaybeSwapSpec(s);
  // A restart of a stopped service is a start: nothing was restarted.
  if (active) m.CountRestart(s, RestartReason::kManual);
  const Job job = s.fsm->NewJob(Job::Kind::kRestart);
  m.runner->Dispatch(s, s.fsm->Restart(now));
  m.AddJob(s, job, options, std::move(done));
}

void Manager::Reload(const std::string& unit, const JobOptions& options, JobDone done) {
  Impl& m = *impl_;
  auto t = m.ResolveTarget(unit, false);
  if (m.Refuse(t, done, true)) return;
  if (!t->service) return done(Answer(JobResult::Kind::kNotApplicable, t->name, "reload"));
  Service& s = *t->service;
  if (const ReloadVerdict v = s.fsm->CanReload(); v != ReloadVerdict::kOk) {
    JobResult r = Answer(JobResult::Kind::kCannotReload, s.name);
    r.reload_verdict = v;
    r.state = s.fsm->state();
    return done(std::move(r));
  }
  const Job job = s.fsm->NewJob(Job::Kind::kReload);
  m.runner->Dispatch(s, s.fsm->Reload(m.host.loop->Now()));
  m.AddJob(s, job, options, std::move(done));
}

void Manager::Kill(const std::string& unit, int signal, bool main_only, const JobDone& done) {
  Impl& m = *impl_;
  auto t = m.ResolveTarget(unit, false);
  if (m.Refuse(t, done, true)) return;
  Service* s = t->service;
  if (!s) return done(Answer(JobResult::Kind::kNotApplicable, t->name, "kill"));
  if (!s->current || !s->current->has_processes())
    return done(Answer(JobResult::Kind::kNoProcess, t->name));
  m.runner->Signal(*s, main_only ? KillTarget::kMain : KillTarget::kAll, signal);
  done(Answer(JobResult::Kind::kOk, s->name));
}

void Manager::ResetFailed(const std::string& unit, const JobDone& done) {
  Impl& m = *impl_;
  auto t = m.ResolveTarget(unit, false);
  if (m.Refuse(t, done, true)) return;
  if (t->service) {
    m.runner->Dispatch(*t->service, t->service->fsm->ResetFailed(m.host.loop->Now()));
  } else if (!t->is_target) {
    m.sockets->ResetFailed(t->name);
  }
  done(Answer(JobResult::Kind::kOk, t->name));
}

Result<std::string> Manager::Resolve(const std::string& unit, bool create_instance) {
  auto t = impl_->ResolveTarget(unit, create_instance);
  if (!t.ok()) return t.take_error();
  return t->name;
}

Result<std::vector<UnitSnapshot>> Manager::Snapshot(const std::vector<std::string>& units) {
  Impl& m = *impl_;
  std::vector<UnitSnapshot> out;
  auto service = [&m](const Service& s) {
    ServiceSnapshot o = m.SnapshotOf(s);
    o.enable_state = m.EnableStateWord(s.name);
    return o;
  };
  auto socket = [&m](const std::string& n) {
    SocketSnapshot o = m.SocketSnapshotOf(n);
    o.enable_state = m.EnableStateWord(n);
    return o;
  };
  if (units.empty()) {
    for (const auto& [n, s] : m.services) out.emplace_back(service(*s));
    for (const auto& n : m.sockets->Names()) out.emplace_back(socket(n));
    // Targets with a unit file (a standard target without one is shown when named).
    for (auto& [n, t] : m.targets)
      if (t.spec || !t.load_error.empty()) out.emplace_back(m.TargetSnapshotOf(t));
    return out;
  }
  for (const auto& u : units) {
    auto t = m.ResolveTarget(u, false);
    if (!t.ok()) return t.take_error();
    if (t->service) {
      out.emplace_back(service(*t->service));
    } else if (t->is_target) {
      out.emplace_back(m.TargetSnapshotOf(*m.FindTarget(t->name)));
    } else {
      out.emplace_back(socket(t->name));
    }
  }
  return out;
}

DaemonSnapshot Manager::Daemon() const {
  const Impl& m = *impl_;
  DaemonSnapshot d;
  d.pid = ::getpid();
  d.start_realtime = m.started_realtime;
  const ResourceControl& rc = m.host.cgroups->resources();
  d.cgroup_mode = rc.mode();
  d.cgroup_summary = rc.Summary();
  d.controllers = rc.controllers();
  d.units_loaded = m.units_loaded;
  d.system_state = system_state();
  d.services = m.services.size();
  d.sockets = m.sockets->Names().size();
  for (const auto& [n, t] : m.targets) d.targets += t.spec || !t.load_error.empty();
  return d;
}

std::vector<UnitCheck> Manager::Check() const {
  const Impl& m = *impl_;
  std::vector<UnitCheck> out;
  // Judged against supd's own limits, which its children start with.
  const RlimitHost host = ReadRlimitHost();
  for (const auto& [n, s] : m.services) {
    UnitCheck c;
    c.name = n;
    c.path = s->unit_path;
    c.error = s->load_error;
    if (const OrderingCycle* cy = m.graph.CycleOf(n); cy && c.error.empty()) c.error = cy->Text();
    if (s->spec) {
      for (const auto& w : s->spec->warnings) c.warnings.push_back(w.ToString());
      c.limit_notes = PredictLimitNotes(s->spec->exec, s->spec->resources.require_limits, host);
      std::vector<std::string> held;
      for (const auto& sock : m.sockets->SnapshotsFor(n))
        for (const auto& l : sock.listening) held.push_back(l.identity);
      c.notes = ProbeCheckNotes(*s->spec, held);
    }
    out.push_back(std::move(c));
  }
  auto socks = m.sockets->Check();
  out.insert(out.end(), socks.begin(), socks.end());
  for (const auto& [n, t] : m.targets) {
    if (!t.spec && t.load_error.empty()) continue;
    UnitCheck c;
    c.name = n;
    c.path = t.path;
    c.error = t.load_error;
    if (const OrderingCycle* cy = m.graph.CycleOf(n); cy && c.error.empty()) c.error = cy->Text();
    if (t.spec)
      for (const auto& w : t.spec->warnings) c.warnings.push_back(w.ToString());
    out.push_back(std::move(c));
  }
  return out;
}

Result<std::vector<std::string>> Manager::UnitFiles(const std::string& unit) {
  auto t = impl_->ResolveTarget(unit, false);
  if (!t.ok()) return t.take_error();
  if (t->service) return std::vector<std::string>{t->service->unit_path};
  if (t->is_target) {
    const Impl::TargetUnit* u = impl_->FindTarget(t->name);
    if (u->path.empty()) return Error{t->name + " is one of systemd's standard targets; supd has no file for it"};
    std::vector<std::string> files{u->path};
    if (u->spec) files.insert(files.end(), u->spec->dropin_paths.begin(), u->spec->dropin_paths.end());
    return files;
  }
  return std::vector<std::string>{impl_->sockets->Snapshot(t->name).unit_path};
}

std::shared_ptr<ServiceLog> Manager::LogOf(const std::string& service, bool open_existing) {
  Impl& m = *impl_;
  Service* s = m.Find(service);
  if (!s) return nullptr;
  if (!s->log && open_existing) {
    // Never started, or its log file could not be opened: the file may still exist (from an
    // earlier supd). If it does not, there is nothing to read, and reading creates nothing.
    std::error_code ec;
    if (std::filesystem::exists(m.config.log_dir + "/" + s->name + ".log", ec))
      m.runner->OpenLog(*s);
  }
  return s->log;
}

LogWriter& Manager::log_writer() { return *impl_->log_writer; }

std::vector<std::shared_ptr<LogSink>> Manager::LogSinks(const std::vector<std::string>& units) const {
  std::vector<std::shared_ptr<LogSink>> out;
  for (const auto& [n, s] : impl_->services) {
    if (!s->log) continue;
    if (!units.empty() && std::find(units.begin(), units.end(), n) == units.end()) continue;
    out.push_back(s->log->sink());
  }
  return out;
}

void Manager::HandleNotify(const NotifyMessage& message, const NotifyCredentials& cred,
                           std::vector<UniqueFd> fds) {
  impl_->router->Route(message, cred, std::move(fds));
}
uint64_t Manager::notify_refused() const { return impl_->router->refused(); }
const std::string& Manager::notify_error() const { return impl_->notify_error; }

void Manager::Subscribe(ManagerObserver* observer) { impl_->observers.push_back(observer); }
void Manager::Unsubscribe(ManagerObserver* observer) { std::erase(impl_->observers, observer); }
size_t Manager::service_count() const { return impl_->services.size(); }

}  // namespace supd
