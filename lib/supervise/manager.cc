// The Manager: owns the services and the parts that run them, and offers typed operations.
// Loading (unit_catalog, socket_units), performing actions (action_runner), notify datagrams
// (notify_router) and jobs (jobs) each have their own file; this one wires them and keeps the
// services' records.
#include "lib/supervise/manager.h"

#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <map>
#include <set>
#include <spdlog/spdlog.h>

#include "lib/log/journal.h"
#include "lib/log/log_writer.h"
#include "lib/log/service_log.h"
#include "lib/notify/notify_server.h"
#include "lib/supervise/action_runner.h"
#include "lib/supervise/manager_impl.h"
#include "lib/supervise/notify_router.h"
#include "lib/supervise/socket_units.h"
#include "lib/supervise/unit_catalog.h"
#include "lib/unit/unit_trust.h"

namespace supd {

const char* RestartReasonName(RestartReason r) {
  switch (r) {
    case RestartReason::kExit: return "exit";
    case RestartReason::kSignal: return "signal";
    case RestartReason::kWatchdog: return "watchdog";
    case RestartReason::kOom: return "oom";
    case RestartReason::kLiveness: return "liveness";
    case RestartReason::kTimeout: return "timeout";
    case RestartReason::kManual: return "manual";
    case RestartReason::kOverlap: return "overlap";
  }
  return "?";
}

Manager::Impl::Impl(boost::asio::io_context& io, ManagerConfig cfg, HostParts h)
    : config(std::move(cfg)),
      host(std::move(h)),
      log_writer(std::make_unique<LogWriter>(io)),
      journal(SystemJournal()),
      catalog(config.units_dir, config.specifiers, ::geteuid(),
              PrivateGroupOf(::geteuid(), ::getegid())) {
  started_realtime = host.loop->RealtimeUsec();
  SocketUnits::Hooks hooks;
  hooks.wants_activation = [this](const std::string& service) {
    Service* s = Find(service);
    return !shutting_down && s && s->fsm && s->fsm->WantsActivation();
  };
  hooks.activate = [this](const std::string&, const std::string& service) {
    if (Service* s = Find(service)) StartService(*s);
  };
  hooks.changed = [this](const std::string& unit, SocketState to, const std::string& error) {
    for (ManagerObserver* o : observers) o->OnSocketChange(unit, to, error);
    UnitChanged(unit);
  };
  hooks.is_enabled = [this](const std::string& unit) { return links.Linked(unit); };
  sockets = std::make_unique<SocketUnits>(*host.loop, *host.worker, std::move(hooks));
  if (!config.notify_socket.empty()) {
    auto route = [this](const NotifyMessage& m, const NotifyCredentials& cred,
                        std::vector<UniqueFd> fds) { router->Route(m, cred, std::move(fds)); };
    auto server = config.adopt_notify_fd >= 0
                      ? NotifyServer::Adopt(io, UniqueFd(config.adopt_notify_fd),
                                            config.notify_socket, route)
                      : NotifyServer::Bind(io, config.notify_socket, route);
    if (server.ok()) {
      notify = std::move(*server);
    } else {
      notify_error = server.error().message;
      spdlog::error("{}; Type=notify services cannot start", notify_error);
    }
  }
  ActionRunner::Env env;
  env.loop = host.loop.get();
  env.process = host.process.get();
  env.cgroups = host.cgroups.get();
  env.launcher = host.launcher.get();
  env.worker = host.worker.get();
  env.make_probes = host.probes;
  env.log_writer = log_writer.get();
  env.sockets = sockets.get();
  env.log_dir = config.log_dir;
  env.notify_socket = notify ? notify->path() : "";
  env.notify_error = config.notify_socket.empty() ? "supd runs without one" : notify_error;
  env.euid = ::geteuid();
  env.egid = ::getegid();
  if (const char* home = ::getenv("HOME")) env.home = home;
  env.find = [this](const std::string& n) { return Find(n); };
  env.after_change = [this](Service& s) { AfterChange(s); };
  env.on_main_exit = [this](Service& s) {
    for (ManagerObserver* o : observers) o->OnExit(s.name, *s.last_exit);
  };
  env.drain_notify = [this] {
    if (notify) notify->Drain();
  };
  env.on_log_record = [this](const std::string& service, const LogRecord& r) {
    for (ManagerObserver* o : observers) o->OnLogRecord(service, r);
  };
  runner = std::make_unique<ActionRunner>(std::move(env));
  NotifyRouter::Env renv;
  renv.loop = host.loop.get();
  renv.process = host.process.get();
  renv.cgroups = host.cgroups.get();
  renv.runner = runner.get();
  renv.find = [this](const std::string& n) { return Find(n); };
  renv.for_each = [this](const std::function<void(Service&)>& fn) {
    for (auto& [n, s] : services) fn(*s);
  };
  router = std::make_unique<NotifyRouter>(std::move(renv));
  host.process->OnOrphansReaped([this] { runner->OnOrphansReaped(); });
}

Manager::Impl::~Impl() = default;

Service* Manager::Impl::Find(const std::string& name) {
  auto it = services.find(name);
  return it == services.end() ? nullptr : it->second.get();
}

// ---------------------------------------------------------------- loading

Service& Manager::Impl::Create(const std::string& name) {
  auto s = std::make_unique<Service>();
  s->name = name;
  s->is_instance = !TemplateNameOf(name).empty();
  s->timer = host.loop->NewTimer();
  s->watchdog = host.loop->NewTimer();
  s->since_realtime = host.loop->RealtimeUsec();
  s->since_monotonic = host.loop->Now().count();
  s->counters.created_realtime = s->since_realtime;
  Service& ref = *s;
  services[name] = std::move(s);
  return ref;
}

// (Re)loads the unit file of `s`. On failure the service keeps the spec it had.
bool Manager::Impl::LoadSpec(Service& s) {
  auto loaded = catalog.LoadService(s.name);
  s.unit_path = loaded.path;
  if (!loaded.spec) {
    s.load_error = loaded.error;
    spdlog::error("{}: {}", s.name, s.load_error);
    return false;
  }
  s.load_error.clear();
  for (const auto& w : loaded.spec->warnings) spdlog::warn("{}", w.ToString());
  if (!s.fsm) {
    s.spec = loaded.spec;
    s.fsm = std::make_unique<ServiceFsm>(s.spec.get());
  } else {
    s.next_spec = loaded.spec;
    MaybeSwapSpec(s);
  }
  return true;
}

// A reloaded unit takes effect while the service is dead or waiting to restart.
void Manager::Impl::MaybeSwapSpec(Service& s) {
  if (!s.next_spec || !s.fsm) return;
  const Phase p = s.fsm->phase();
  if (p != Phase::kDead && p != Phase::kBackoff) return;
  s.spec = std::move(s.next_spec);
  s.next_spec.reset();
  s.fsm->SetSpec(s.spec.get());
}

bool Manager::Impl::Enabled(const Service& s) const { return links.Linked(s.name); }

namespace {
// What supd starts when it starts: systemd's default.target (which wants multi-user.target)
// and multi-user.target, with everything they pull in.
constexpr const char* kBootTargets[] = {"default.target", "multi-user.target"};
}  // namespace

void Manager::Impl::LoadAll(std::function<void()> loaded) {
  sockets->Sync(catalog, [this, loaded = std::move(loaded)](const SocketUnits::SyncResult&) {
    if (shutting_down) return;
    for (const auto& n : catalog.ScanServices()) {
      if (UnitCatalog::IsTemplate(n)) continue;
      LoadSpec(Create(n));
    }
    LoadTargets();
    ApplyPresets();
    RebuildGraph();
    units_loaded = true;
    size_t target_files = 0;
    for (const auto& [n, t] : targets) target_files += t.spec || !t.load_error.empty();
    spdlog::info("loaded {} units from {}",
                 services.size() + sockets->Names().size() + target_files, config.units_dir);
    sockets->ArmActivation();
    boot_jobs_pending = static_cast<int>(std::size(kBootTargets));
    for (const char* t : kBootTargets)
      QueueStart(t, {}, [this, t](const JobResult& r) {
        if (!r.ok()) spdlog::warn("{}: not every unit it pulls in started (see their status)", t);
        if (--boot_jobs_pending == 0) boot_finished = true;
      });
    loaded();
  });
}

void Manager::Impl::Reload(std::function<void(ReloadSummary)> done) {
  // Still stopping what a previous supd left: the units load (from the directory as it is
  // then) once that is done; loading now would start services twice.
  if (!units_loaded) {
    spdlog::info("reload: units load once the previous supd's leftovers are stopped");
    done({});
    return;
  }
  sockets->Sync(catalog, [this, done = std::move(done)](SocketUnits::SyncResult sr) {
    ReloadSummary sum;
    sum.added = std::move(sr.added);
    sum.changed = std::move(sr.changed);
    sum.removed = std::move(sr.removed);
    sum.failed = std::move(sr.failed);
    const auto names = catalog.ScanServices();
    std::vector<std::string> started;
    for (const auto& n : names) {
      if (UnitCatalog::IsTemplate(n)) continue;
      if (Service* s = Find(n)) {
        s->removed = false;
        if (!LoadSpec(*s)) sum.failed.push_back(n);
      } else if (LoadSpec(Create(n))) {
        sum.added.push_back(n);
        started.push_back(n);
      } else {
        sum.failed.push_back(n);
      }
    }
    LoadTargets();
    RebuildGraph();
    std::vector<std::string> gone;
    for (auto& [name, s] : services) {
      const std::string file = s->is_instance ? TemplateNameOf(name) : name;
      if (names.count(file)) {
        if (s->is_instance) LoadSpec(*s);
        continue;
      }
      gone.push_back(name);
    }
    for (const auto& n : gone) {
      Service* s = Find(n);
      spdlog::info("{}: unit file removed; stopping and forgetting it", n);
      s->removed = true;
      sum.removed.push_back(n);
      // A start waiting for its turn never runs now.
      if (auto it = dep_jobs.find(n); it != dep_jobs.end() && !it->second.running) {
        JobResult removed;
        removed.kind = JobResult::Kind::kUnitRemoved;
        removed.unit = n;
        DropJob(n, removed);
      }
      if (s->fsm) {
        runner->Dispatch(*s, s->fsm->Stop(host.loop->Now()));
      } else {
        ForgetIfRemoved(n);
      }
    }
    for (const auto& n : started) {
      Service* s = Find(n);
      if (s && s->fsm && Enabled(*s) && !shutting_down) QueueStart(n, {}, nullptr);
    }
    spdlog::info("reloaded units: {} added, {} changed, {} removed, {} failed to load",
                 sum.added.size(), sum.changed.size(), sum.removed.size(), sum.failed.size());
    for (ManagerObserver* o : observers) o->OnReload(sum);
    done(std::move(sum));
  });
}

void Manager::Impl::ForgetIfRemoved(const std::string& name) {
  host.loop->Post([this, name] {
    Service* s = Find(name);
    if (!s || !s->removed) return;
    if (s->fsm && s->fsm->state() != State::kStopped && s->fsm->state() != State::kFailed)
      return;
    if (s->has_processes() || !s->abandoned.empty()) return;
    for (auto& j : s->jobs) {
      JobResult r;
      r.kind = JobResult::Kind::kUnitRemoved;
      r.unit = name;
      j.done(std::move(r));
    }
    JobResult removed;
    removed.kind = JobResult::Kind::kUnitRemoved;
    removed.unit = name;
    DropJob(name, removed);
    busy.erase(name);
    services.erase(name);
    CheckShutdown();
  });
}

// ---------------------------------------------------------------- after every change

namespace {

// Why a service in backoff will restart: how its last run ended.
RestartReason BackoffReason(ServiceResult result, const Cause& cause) {
  switch (result) {
    case ServiceResult::kOomKill: return RestartReason::kOom;
    case ServiceResult::kWatchdog:
      return cause.kind == Cause::Kind::kLivenessProbeFailed ? RestartReason::kLiveness
                                                             : RestartReason::kWatchdog;
    case ServiceResult::kTimeout: return RestartReason::kTimeout;
    case ServiceResult::kSignal:
    case ServiceResult::kCoreDump: return RestartReason::kSignal;
    default: return RestartReason::kExit;
  }
}

}  // namespace

void Manager::Impl::CountRestart(Service& s, RestartReason reason) {
  ++s.counters.restarts.at(static_cast<size_t>(reason));
  for (ManagerObserver* o : observers) o->OnRestart(s.name, reason);
}

void Manager::Impl::AfterChange(Service& s) {
  if (!s.fsm) return;
  const State st = s.fsm->state();
  // An automatic restart began (the FSM counts it when the delay is over, also when the start
  // limit then refuses it); reset-failed sets the FSM's count back.
  if (const unsigned n = s.fsm->restarts(); n != s.seen_restarts) {
    for (unsigned i = s.seen_restarts; i < n; ++i)
      CountRestart(s, s.backoff_reason.value_or(RestartReason::kExit));
    s.seen_restarts = n;
  }
  // The reason of the restart that will follow, from how the run that ended went; also when a
  // start failed at once and went back to backoff within one dispatch (no state change seen).
  if (st == State::kBackoff) s.backoff_reason = BackoffReason(s.fsm->result(), s.fsm->cause());
  if (st != s.last_state) {
    const State from = s.last_state;
    s.last_state = st;
    s.since_realtime = host.loop->RealtimeUsec();
    s.since_monotonic = host.loop->Now().count();
    for (ManagerObserver* o : observers)
      o->OnStateChange(s.name, from, st, s.fsm->cause(), s.fsm->result());
    TriggerUnits(s, from, st);
    TriggerExitAction(s, from, st);
  }
  // While supd stops everything, nothing restarts (systemd: no automatic restart with a stop
  // job pending): a service killed before its stop job ran (the SIGKILL of --stop-timeout or
  // exit-force) stops here. The nested AfterChange of the Dispatch does the rest.
  if (shutting_down && st == State::kBackoff) {
    runner->Dispatch(s, s.fsm->Stop(host.loop->Now()));
    return;
  }
  if (const bool ready = st == State::kRunning && s.fsm->ready() && s.fsm->probe_ready();
      ready != s.last_ready) {
    s.last_ready = ready;
    for (ManagerObserver* o : observers) o->OnReadyChange(s.name, ready);
  }
  const bool dead = st == State::kStopped || st == State::kFailed;
  if (dead) {
    MaybeSwapSpec(s);
    if (!s.fdstore.empty()) {
      spdlog::info("{}: stopped; closing {} stored fds", s.name, s.fdstore.size());
      s.fdstore.clear();
    }
    // A service that hit its start limit stops its socket units' activation (systemd's
    // service-start-limit-hit), or a waiting connection would activate it for ever.
    if (st == State::kFailed && s.fsm->result() == ServiceResult::kStartLimitHit)
      sockets->ServiceHitStartLimit(s.name);
    sockets->ArmActivation(s.name);  // arms only what is not armed yet
    runner->ReleaseCgroup(s);
  }
  ResolveJobs(s);
  UnitChanged(s.name);
  runner->CheckEmpty(s);
  if (s.removed) ForgetIfRemoved(s.name);
  // Busy: not yet stopped, or some process of it still runs. (CheckEmpty may have moved the
  // service on, through a nested AfterChange: look again.)
  const State now = s.fsm->state();
  if ((now != State::kStopped && now != State::kFailed) || s.has_processes()) {
    busy.insert(s.name);
  } else {
    busy.erase(s.name);
  }
  CheckShutdown();
}

void Manager::Impl::CheckShutdown() {
  if (!shutting_down || shutdown_done_called || !busy.empty()) return;
  shutdown_done_called = true;
  host.loop->Post(shutdown_done);
}

// ---------------------------------------------------------------- snapshots

ServiceSnapshot Manager::Impl::SnapshotOf(const Service& s) const {
  ServiceSnapshot o;
  o.name = s.name;
  o.unit_path = s.unit_path;
  o.spec = s.spec;
  o.load_error = s.load_error;
  o.changed_on_disk = s.next_spec != nullptr;
  o.enabled = Enabled(s);
  if (const OrderingCycle* c = graph.CycleOf(s.name)) o.dependency_error = c->Text();
  if (auto it = dep_jobs.find(s.name); it != dep_jobs.end()) {
    const bool stop = it->second.StopHalf();
    o.job = it->second.kind == DepJob::Kind::kRestart ? "restart" : stop ? "stop" : "start";
    if (!it->second.running)
      for (const auto& v : graph.Get(s.name, stop ? Rel::kBefore : Rel::kAfter))
        if (dep_jobs.count(v)) o.waiting_for.push_back(v);
  }
  o.loaded = s.fsm != nullptr;
  o.cgroup_tracking = host.cgroups->tracking();
  o.cgroup_mode = host.cgroups->resources().mode();
  o.tracking_error = host.cgroups->tracking_error();
  o.since_realtime = s.since_realtime;
  o.since_monotonic = s.since_monotonic;
  o.sockets = sockets->SnapshotsFor(s.name);
  for (auto& sock : o.sockets) sock.service_state = s.fsm ? s.fsm->state() : State::kFailed;
  if (s.log) {
    o.log_path = s.log->path();
    o.log_stats = s.log->stats();
  }
  o.log_error = s.log_error;
  if (!s.fsm) return o;
  const ServiceFsm& f = *s.fsm;
  o.state = f.state();
  o.phase = f.phase();
  o.result = f.result();
  o.cause = f.cause();
  o.ready = f.ready() && f.probe_ready();
  if (s.current && s.current->probes) {
    o.probes = s.current->probes->Snapshot();
  } else if (s.spec) {
    for (const auto* p : {&s.spec->startup_probe, &s.spec->readiness_probe, &s.spec->liveness_probe})
      if (*p) o.probes.push_back(ProbeInfo{**p, false, {}});
  }
  o.restarts = f.restarts();
  o.counters = s.counters;
  o.watchdog = f.watchdog_interval();
  o.status_text = s.status_text;
  o.status_errno = s.status_errno;
  o.last_exit = s.last_exit;
  if (const Instance* i = s.current.get()) {
    if (i->main) {
      o.main_pid = i->main->pid();
      o.main_start_realtime = i->main->started_realtime;
    }
    if (i->control) o.control_pid = i->control->pid();
    o.invocation_id = i->invocation_id;
    o.cgroup = i->cgroup;
    o.limits = i->limits;
    o.go_runtime = i->go_runtime;
    o.output_warnings = i->output_warnings;
    o.process_adjustments = i->adjustments;
    if (!i->cgroup.empty()) o.stats = host.cgroups->Stats(i->cgroup);
  }
  if (s.set_aside) {
    PreviousInstance p;
    if (s.set_aside->main) p.main_pid = s.set_aside->main->pid();
    o.previous_instances.push_back(p);
  }
  for (const auto& d : s.draining) {
    PreviousInstance p;
    if (d->main) p.main_pid = d->main->pid();
    p.draining = true;
    o.previous_instances.push_back(p);
  }
  for (const auto& [name, fd] : s.fdstore) o.fdstore.push_back(name);
  if (s.log) o.log_tail = s.log->Tail();
  return o;
}

SocketSnapshot Manager::Impl::SocketSnapshotOf(const std::string& name) {
  SocketSnapshot o = sockets->Snapshot(name);
  if (const Service* s = Find(o.service); s && s->fsm) o.service_state = s->fsm->state();
  return o;
}

}  // namespace supd
