// Dependencies and ordering between units: the Manager's job queue.
//
// systemd builds a transaction for each operation (the unit's job plus the jobs its
// dependencies pull in), then runs each job once the jobs it is ordered after are done. supd
// does the same with one job per unit (DepJob):
//   - start:   pulls in Requires=, BindsTo=, Wants=, Upholds= (recursively); a missing or
//              unloadable required unit, or one on an ordering cycle, refuses the start; for a
//              wanted one it is logged and ignored. Conflicts= adds stops.
//   - stop:    takes along the units that Require=, BindsTo= or are PartOf= it.
//   - restart: like stop, but each stopped unit is started again.
// A start waits while a unit it is After= has a job; a stop waits while a unit that is After=
// it has a stop job (stops go in reverse order); stop halves go before starts whatever the
// direction, as in systemd. A start is done when the unit is up as `supctl start` means it:
// ready for a service (READY=1, the readiness probe, a oneshot finished), listening for a
// socket unit, active for a target. When a start fails, the waiting starts of the units that
// Require=/BindsTo=/Requisite= it fail too ("dependency").
#include <spdlog/spdlog.h>

#include <algorithm>

#include "lib/supervise/action_runner.h"
#include "lib/supervise/manager_impl.h"
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

bool Dead(State s) { return s == State::kStopped || s == State::kFailed; }

// Answers the clients of a job that is being replaced; they are moved out first, so that an
// answer that calls back cannot touch the job's list while it is walked.
void AnswerClients(std::vector<Manager::Impl::DepJob::Client>* clients, const JobResult& r) {
  std::vector<Manager::Impl::DepJob::Client> out = std::move(*clients);
  clients->clear();
  for (auto& c : out) c.done(r);
}

// The relations a job follows: what a start pulls in, what a stop or restart takes along.
constexpr Rel kPullRequired[] = {Rel::kRequires, Rel::kBindsTo};
constexpr Rel kPullWanted[] = {Rel::kWants, Rel::kUpholds};
constexpr Rel kPropagateStop[] = {Rel::kRequiredBy, Rel::kBoundBy, Rel::kConsistsOf};
constexpr Rel kRequiredByAll[] = {Rel::kRequiredBy, Rel::kBoundBy, Rel::kRequisiteOf};

}  // namespace

// ---------------------------------------------------------------- units of every type

Manager::Impl::TargetUnit* Manager::Impl::FindTarget(const std::string& name) {
  if (auto it = targets.find(name); it != targets.end()) return &it->second;
  if (!IsStandardTarget(name)) return nullptr;
  TargetUnit& t = targets[name];
  t.name = name;
  t.since_realtime = host.loop->RealtimeUsec();
  return &t;
}

void Manager::Impl::LoadTargets() {
  const auto names = catalog.ScanTargets();
  for (auto& [n, t] : targets) t.removed = t.spec != nullptr && !names.count(n);
  for (const auto& n : names) {
    auto loaded = catalog.LoadTarget(n);
    TargetUnit& t = targets[n];
    t.name = n;
    t.removed = false;
    t.path = loaded.path;
    if (t.since_realtime == 0) t.since_realtime = host.loop->RealtimeUsec();
    if (!loaded.spec) {
      t.load_error = loaded.error;
      spdlog::error("{}: {}", n, t.load_error);
      continue;
    }
    t.load_error.clear();
    for (const auto& w : loaded.spec->warnings) spdlog::warn("{}", w.ToString());
    t.spec = loaded.spec;
  }
  // A target whose file went: a standard one stays (without its file), another is forgotten
  // once it has no job.
  for (auto it = targets.begin(); it != targets.end();) {
    if (!it->second.removed) {
      ++it;
      continue;
    }
    it->second.spec.reset();
    it->second.path.clear();
    it->second.removed = false;
    if (!IsStandardTarget(it->first) && !dep_jobs.count(it->first)) {
      it = targets.erase(it);
    } else {
      ++it;
    }
  }
}

const UnitDeps* Manager::Impl::DepsOf(const std::string& name) {
  if (Service* s = Find(name)) {
    const ServiceSpec* spec = s->next_spec ? s->next_spec.get() : s->spec.get();
    return spec ? &spec->deps : nullptr;
  }
  if (auto it = targets.find(name); it != targets.end() && it->second.spec)
    return &it->second.spec->deps;
  return nullptr;
}

const InstallSection* Manager::Impl::InstallOf(const std::string& name) {
  if (Service* s = Find(name)) return s->spec ? &s->spec->install : nullptr;
  if (auto it = targets.find(name); it != targets.end() && it->second.spec)
    return &it->second.spec->install;
  if (sockets->Has(name)) {
    const SocketSnapshot snap = sockets->Snapshot(name);
    return snap.spec ? &snap.spec->install : nullptr;
  }
  return nullptr;
}

void Manager::Impl::RebuildGraph() {
  std::vector<std::string> warnings;
  links = ScanLinks(config.units_dir, &warnings);
  for (const auto& w : warnings) spdlog::warn("{}", w);
  for (const auto& [t, units] : preset_links.wants)
    links.wants[t].insert(units.begin(), units.end());
  for (const auto& [t, units] : preset_links.requires_)
    links.requires_[t].insert(units.begin(), units.end());
  // An instance named in a .wants/ directory (worker@3.service) is loaded from its template.
  for (const auto* m : {&links.wants, &links.requires_})
    for (const auto& [t, units] : *m)
      for (const auto& u : units)
        if (!Find(u) && !UnitCatalog::IsTemplate(u) && u.ends_with(".service") &&
            catalog.InstanceHasTemplate(u))
          LoadSpec(Create(u));
  std::vector<GraphUnit> units;
  // A reloaded unit's dependencies count at once, as in systemd (its other settings wait for
  // its next start).
  for (auto& [n, s] : services) {
    const ServiceSpec* spec = s->next_spec ? s->next_spec.get() : s->spec.get();
    units.push_back({n, spec ? &spec->deps : nullptr, false});
  }
  for (auto& [n, t] : targets)
    if (t.spec || !t.load_error.empty())
      units.push_back({n, t.spec ? &t.spec->deps : nullptr, true});
  for (const auto& n : sockets->Names()) units.push_back({n, nullptr, false});
  graph = DependencyGraph::Build(units, links);
  for (const auto& c : graph.cycles())
    spdlog::error("{}; its units will not start until it is broken", c.Text());
}

bool Manager::Impl::UnitExists(const std::string& name) {
  if (Find(name)) return true;
  if (sockets->Has(name)) return true;
  if (targets.count(name) || IsStandardTarget(name)) return true;
  return false;
}

bool Manager::Impl::Active(const std::string& name) {
  if (Service* s = Find(name)) return s->fsm && s->fsm->state() == State::kRunning;
  if (sockets->Has(name)) return sockets->Snapshot(name).state == SocketState::kListening;
  if (TargetUnit* t = FindTarget(name)) return t->active;
  return false;
}

bool Manager::Impl::Inactive(const std::string& name) {
  if (Service* s = Find(name)) return !s->fsm || Dead(s->fsm->state());
  if (sockets->Has(name)) return !Active(name);
  if (TargetUnit* t = FindTarget(name)) return !t->active;
  return true;
}

std::string Manager::Impl::StateWord(const std::string& name) {
  if (Service* s = Find(name)) return s->fsm ? StateName(s->fsm->state()) : "not-loaded";
  if (sockets->Has(name)) return SocketStateName(sockets->Snapshot(name).state);
  if (TargetUnit* t = FindTarget(name)) return t->active ? "active" : "inactive";
  return "not-found";
}

// ---------------------------------------------------------------- building jobs

void Manager::Impl::AttachClient(DepJob& j, const std::string& name, const JobOptions& options,
                                 JobDone done) {
  if (!done) return;
  if (options.no_block) {
    done(Answer(JobResult::Kind::kQueued, name));
    return;
  }
  DepJob::Client c;
  c.done = std::move(done);
  c.options = options;
  if (options.timeout) {
    c.timeout = host.loop->NewTimer();
    const Usec started = host.loop->Now();
    c.timeout->Arm(*options.timeout, [this, name, timer = c.timeout.get(), started] {
      auto it = dep_jobs.find(name);
      if (it == dep_jobs.end()) return;
      auto& cl = it->second.clients;
      for (auto c = cl.begin(); c != cl.end(); ++c) {
        if (c->timeout.get() != timer) continue;
        JobDone fn = std::move(c->done);
        cl.erase(c);
        JobResult r = Answer(JobResult::Kind::kTimedOut, name);
        r.waited = host.loop->Now() - started;
        if (Service* s = Find(name); s && s->fsm) {
          r.state = s->fsm->state();
          r.phase = s->fsm->phase();
        }
        fn(std::move(r));
        return;
      }
    });
  }
  j.clients.push_back(std::move(c));
}

std::string Manager::Impl::PlanStart(const std::string& name, StartPlan* plan) {
  StartPlan& tx = *plan;
  std::set<std::string> visited;
  // Adds the start of `u` and what it pulls in; returns why it cannot start ("" if it can).
  std::function<std::string(const std::string&)> add = [&](const std::string& u) -> std::string {
    if (!visited.insert(u).second) return "";
    if (!UnitExists(u)) return "Unit " + u + " not found.";
    if (Service* s = Find(u); s && !s->fsm) return u + " failed to load: " + s->load_error;
    if (auto it = targets.find(u);
        it != targets.end() && !it->second.load_error.empty() && !it->second.spec)
      return u + " failed to load: " + it->second.load_error;
    if (const OrderingCycle* c = graph.CycleOf(u)) return c->Text();
    for (Rel r : kPullRequired)
      for (const auto& d : graph.Get(u, r)) {
        // A socket unit's dependencies are not acted on (supd binds every socket unit at load).
        const std::string why = add(d);
        if (!why.empty()) return u + " " + RelName(r) + "=" + d + ": " + why;
      }
    for (Rel r : kPullWanted)
      for (const auto& d : graph.Get(u, r)) {
        const size_t mark = tx.jobs.size();
        const std::set<std::string> before = tx.starting;
        const std::string why = add(d);
        if (!why.empty()) {
          spdlog::warn("{}: {}={} is not started: {}", u, RelName(r), d, why);
          tx.jobs.resize(mark);
          tx.starting = before;
        }
      }
    for (const auto& d : graph.Get(u, Rel::kRequisite))
      if (!UnitExists(d)) return u + " Requisite=" + d + ": Unit " + d + " not found.";
    tx.jobs.emplace_back(u, DepJob::Kind::kStart);
    tx.starting.insert(u);
    return "";
  };
  if (std::string why = add(name); !why.empty()) return why;
  // Conflicts=: the units any start conflicts with stop (a conflict inside the transaction
  // refuses it, as systemd's "conflicting jobs").
  for (const auto& u : tx.starting)
    for (Rel r : {Rel::kConflicts, Rel::kConflictedBy})
      for (const auto& c : graph.Get(u, r)) {
        if (tx.starting.count(c))
          return u + " conflicts with " + c + ", which this start also needs";
        if ((Active(c) || dep_jobs.count(c)) && tx.stopping.insert(c).second)
          tx.jobs.emplace_back(c, DepJob::Kind::kStop);
      }
  return "";
}

void Manager::Impl::MergePlan(const std::string& name, const StartPlan& tx) {
  // Merge: a start joins a start (or restart) already queued, replaces a waiting stop; a unit
  // already up with no job needs none (its dependencies were still pulled in).
  for (const auto& [u, kind] : tx.jobs) {
    auto it = dep_jobs.find(u);
    if (kind == DepJob::Kind::kStart) {
      if (it == dep_jobs.end()) {
        if (Active(u) && u != name) continue;
        dep_jobs[u].kind = DepJob::Kind::kStart;
      } else if (it->second.StopHalf() && it->second.kind == DepJob::Kind::kStop) {
        AnswerClients(&it->second.clients,
                      Answer(JobResult::Kind::kReplaced, u, "the stop was replaced by a start"));
        if (!it->second.running) {
          it->second = DepJob{};
        } else {
          // A stop under way finishes; the start follows it (a restart past its stop half
          // once the stop is done).
          it->second.kind = DepJob::Kind::kRestart;
        }
      }
    } else {
      if (it == dep_jobs.end()) {
        dep_jobs[u].kind = DepJob::Kind::kStop;
      } else if (!it->second.running && !it->second.StopHalf()) {
        for (auto& c : it->second.clients)
          c.done(Answer(JobResult::Kind::kReplaced, u,
                        "the start was replaced by a stop of " + u + " (Conflicts=)"));
        it->second = DepJob{};
        it->second.kind = DepJob::Kind::kStop;
      }
    }
  }
}

void Manager::Impl::QueueStart(const std::string& name, const JobOptions& options, JobDone done) {
  StartPlan tx;
  if (const std::string why = PlanStart(name, &tx); !why.empty()) {
    if (done) done(Answer(JobResult::Kind::kDependencyFailed, name, why));
    return;
  }
  MergePlan(name, tx);
  if (auto it = dep_jobs.find(name); it != dep_jobs.end()) {
    AttachClient(it->second, name, options, std::move(done));
  } else if (done) {
    done(Answer(JobResult::Kind::kOk, name));
  }
  PumpJobs();
}

void Manager::Impl::QueueStop(const std::string& name, const JobOptions& options, JobDone done,
                              bool pump) {
  std::set<std::string> visited;
  std::vector<std::string> order;
  std::function<void(const std::string&)> add = [&](const std::string& u) {
    if (!visited.insert(u).second) return;
    order.push_back(u);
    for (Rel r : kPropagateStop)
      for (const auto& d : graph.Get(u, r))
        if (UnitExists(d) && (!Inactive(d) || dep_jobs.count(d))) add(d);
  };
  add(name);
  for (const auto& u : order) {
    auto it = dep_jobs.find(u);
    if (it == dep_jobs.end()) {
      dep_jobs[u].kind = DepJob::Kind::kStop;
      continue;
    }
    DepJob& j = it->second;
    if (j.kind == DepJob::Kind::kStop) continue;
    if (j.running && !j.StopHalf()) {
      // A start under way: the FSM's stop cancels it; its clients hear how it ended.
      j.kind = DepJob::Kind::kStop;
      j.running = false;
      AnswerClients(&j.clients, Answer(JobResult::Kind::kCancelledByStop, u));
      continue;
    }
    const bool running = j.running;
    AnswerClients(&j.clients, Answer(JobResult::Kind::kReplaced, u,
                                     "the " +
                                         std::string(j.kind == DepJob::Kind::kRestart ? "restart"
                                                                                      : "start") +
                                         " was replaced by a stop"));
    DepJob& k = dep_jobs[u];  // the answers may not touch the queue, but look again
    k = DepJob{};
    k.kind = DepJob::Kind::kStop;
    k.running = running;  // a restart's stop half under way goes on as the stop
    if (running && Find(u) && Find(u)->fsm) k.token = Find(u)->fsm->NewJob(Job::Kind::kStop);
  }
  AttachClient(dep_jobs[name], name, options, std::move(done));
  if (pump) PumpJobs();
}

bool Manager::Impl::RestartPropagates(const std::string& name) {
  for (Rel r : kPropagateStop)
    for (const auto& d : graph.Get(name, r))
      if (!Inactive(d) || dep_jobs.count(d)) return true;
  return false;
}

void Manager::Impl::QueueRestart(const std::string& name, bool hard, const JobOptions& options,
                                 JobDone done) {
  (void)hard;  // a restart through the queue is always a stop and a start
  // The start half is planned as a start is: refused the same way, pulling in the same units.
  StartPlan plan;
  if (const std::string why = PlanStart(name, &plan); !why.empty()) {
    if (done) done(Answer(JobResult::Kind::kDependencyFailed, name, why));
    return;
  }
  std::set<std::string> visited;
  std::vector<std::string> order;
  std::function<void(const std::string&)> add = [&](const std::string& u) {
    if (!visited.insert(u).second) return;
    order.push_back(u);
    for (Rel r : kPropagateStop)
      for (const auto& d : graph.Get(u, r))
        if (!Inactive(d) || dep_jobs.count(d)) add(d);
  };
  add(name);
  for (const auto& u : order) {
    DepJob& j = dep_jobs[u];
    if (j.running) {
      // Under way: it ends, then the unit starts (again).
      if (j.kind == DepJob::Kind::kStop) j.kind = DepJob::Kind::kRestart;
      continue;
    }
    j.kind = DepJob::Kind::kRestart;
    j.restart_stopped = false;
    j.count_restart = Active(u);
  }
  MergePlan(name, plan);
  AttachClient(dep_jobs[name], name, options, std::move(done));
  PumpJobs();
}

// ---------------------------------------------------------------- running jobs

bool Manager::Impl::Runnable(const std::string& name, const DepJob& j) {
  if (j.StopHalf()) {
    // Reverse order: the units ordered after this one stop first. Units on one ordering
    // cycle (they run only if started before the cycle was written) stop without waiting on
    // each other, or neither would ever stop.
    const OrderingCycle* cycle = graph.CycleOf(name);
    for (const auto& w : graph.Get(name, Rel::kBefore)) {
      if (cycle && graph.CycleOf(w) == cycle) continue;
      if (auto it = dep_jobs.find(w); it != dep_jobs.end() && it->second.StopHalf()) return false;
    }
    return true;
  }
  for (const auto& v : graph.Get(name, Rel::kAfter))
    if (dep_jobs.count(v)) return false;
  // Stops go before starts, whichever way the two are ordered.
  for (const auto& w : graph.Get(name, Rel::kBefore))
    if (auto it = dep_jobs.find(w); it != dep_jobs.end() && it->second.StopHalf()) return false;
  return true;
}

void Manager::Impl::PumpJobs() {
  if (pumping) {
    repump = true;
    return;
  }
  pumping = true;
  do {
    repump = false;
    std::vector<std::string> ready;
    for (auto& [n, j] : dep_jobs)
      if (!j.running && Runnable(n, j)) ready.push_back(n);
    for (const auto& n : ready) {
      auto it = dep_jobs.find(n);
      if (it == dep_jobs.end() || it->second.running || !Runnable(n, it->second)) continue;
      RunJob(n);
      repump = true;
    }
  } while (repump);
  pumping = false;
}

void Manager::Impl::RunJob(const std::string& name) {
  DepJob& j = dep_jobs.at(name);
  j.running = true;
  const bool stop = j.StopHalf();
  if (Service* s = Find(name)) return RunServiceJob(*s, stop);
  if (sockets->Has(name)) {
    if (stop) {
      sockets->Stop(name);
      return FinishJob(name, true, Answer(JobResult::Kind::kOk, name));
    }
    if (Active(name)) return FinishJob(name, true, Answer(JobResult::Kind::kOk, name));
    sockets->Start(name, [this, name](const std::string& err) {
      // The job may have become another meanwhile (a stop replaced the start).
      auto it = dep_jobs.find(name);
      if (it == dep_jobs.end() || !it->second.running || it->second.StopHalf()) return;
      FinishJob(name, err.empty(),
                err.empty() ? Answer(JobResult::Kind::kOk, name)
                            : Answer(JobResult::Kind::kSocketFailed, name, err));
    });
    return;
  }
  if (TargetUnit* t = FindTarget(name)) return RunTargetJob(*t, stop);
  FinishJob(name, false, Answer(JobResult::Kind::kNotFound, name, "Unit " + name + " not found."));
}

void Manager::Impl::RunServiceJob(Service& s, bool stop) {
  const std::string& name = s.name;
  DepJob& j = dep_jobs.at(name);
  if (!s.fsm)
    return FinishJob(name, false, Answer(JobResult::Kind::kNotLoaded, name, s.load_error));
  const Usec now = host.loop->Now();
  if (stop) {
    if (j.kind == DepJob::Kind::kRestart && j.count_restart)
      CountRestart(s, RestartReason::kManual);
    j.token = s.fsm->NewJob(Job::Kind::kStop);
    runner->Dispatch(s, s.fsm->Stop(now));
    return CheckJob(name);
  }
  if (shutting_down) return FinishJob(name, false, Answer(JobResult::Kind::kShuttingDown, name));
  if (const OrderingCycle* c = graph.CycleOf(name))
    return FinishJob(name, false, Answer(JobResult::Kind::kDependencyFailed, name, c->Text()));
  for (const auto& d : graph.Get(name, Rel::kRequisite))
    if (!Active(d))
      return FinishJob(name, false,
                       Answer(JobResult::Kind::kDependencyFailed, name,
                              "Requisite=" + d + " is not active (" + StateWord(d) + ")"));
  MaybeSwapSpec(s);
  if (s.fsm->state() == State::kRunning)
    return FinishJob(name, true, Answer(JobResult::Kind::kOk, name));
  j.token = s.fsm->NewJob(Job::Kind::kStart);
  StartService(s);
  CheckJob(name);
}

void Manager::Impl::RunTargetJob(TargetUnit& t, bool stop) {
  const std::string name = t.name;
  if (const OrderingCycle* c = graph.CycleOf(name); c && !stop)
    return FinishJob(name, false, Answer(JobResult::Kind::kDependencyFailed, name, c->Text()));
  if (t.active == stop) {
    t.active = !stop;
    t.since_realtime = host.loop->RealtimeUsec();
    // Told for targets with a unit file; the standard ones supd only stands in for are quiet.
    if (t.spec)
      for (ManagerObserver* o : observers)
        o->OnStateChange(name, stop ? State::kRunning : State::kStopped,
                         stop ? State::kStopped : State::kRunning, Cause{},
                         ServiceResult::kSuccess);
  }
  FinishJob(name, true, Answer(JobResult::Kind::kOk, name));
  UnitChanged(name);
}

void Manager::Impl::CheckJob(const std::string& name) {
  auto it = dep_jobs.find(name);
  if (it == dep_jobs.end() || !it->second.running) return;
  Service* s = Find(name);
  if (!s || !s->fsm) return;
  const JobOutcome o = s->fsm->Outcome(it->second.token, s->has_processes());
  if (o.kind == JobOutcome::Kind::kPending) return;
  const bool ok = o.kind == JobOutcome::Kind::kDone || o.kind == JobOutcome::Kind::kSkipped;
  FinishJob(name, ok, ResultOfOutcome(name, o));
}

void Manager::Impl::FinishJob(const std::string& name, bool ok, const JobResult& r) {
  auto it = dep_jobs.find(name);
  if (it == dep_jobs.end()) return;
  DepJob& j = it->second;
  if (j.kind == DepJob::Kind::kRestart && !j.restart_stopped) {
    // The stop half is done (a failed stop still leaves the unit stopped): now the start.
    j.restart_stopped = true;
    j.running = false;
    PumpJobs();
    return;
  }
  const bool was_start = !j.StopHalf();
  std::vector<DepJob::Client> clients = std::move(j.clients);
  dep_jobs.erase(it);
  if (was_start && !ok) FailWaitingDependents(name, r.text.empty() ? "it failed" : r.text);
  for (auto& c : clients) {
    if (Service* s = Find(name); s && s->fsm) {
      Reply(*s, std::move(c.done), r);
    } else {
      c.done(r);
    }
  }
  PumpJobs();
}

void Manager::Impl::DropJob(const std::string& name, const JobResult& r) {
  auto it = dep_jobs.find(name);
  if (it == dep_jobs.end()) return;
  std::vector<DepJob::Client> clients = std::move(it->second.clients);
  const bool start = !it->second.StopHalf();
  dep_jobs.erase(it);
  if (start) FailWaitingDependents(name, r.text.empty() ? "its unit file was removed" : r.text);
  for (auto& c : clients) c.done(r);
  PumpJobs();
}

void Manager::Impl::FailWaitingDependents(const std::string& name, const std::string& why) {
  std::vector<std::string> failed;
  for (Rel rel : kRequiredByAll)
    for (const auto& d : graph.Get(name, rel)) {
      auto it = dep_jobs.find(d);
      if (it == dep_jobs.end() || it->second.running || it->second.StopHalf()) continue;
      failed.push_back(d);
    }
  for (const auto& d : failed) {
    spdlog::warn("{}: not started: dependency {} failed", d, name);
    FinishJob(d, false,
              Answer(JobResult::Kind::kDependencyFailed, d,
                     "dependency failed: " + name + (why.empty() ? "" : " (" + why + ")")));
  }
}

// ---------------------------------------------------------------- keeping units in line

void Manager::Impl::UnitChanged(const std::string& name) {
  CheckJob(name);
  if (!upkeep_posted) {
    upkeep_posted = true;
    host.loop->Post([this] {
      upkeep_posted = false;
      CheckUpkeep();
    });
  }
}

void Manager::Impl::CheckUpkeep() {
  if (shutting_down || !units_loaded) return;
  auto inactive = [&](const std::string& u) { return Inactive(u); };
  std::vector<std::string> stop, start;
  for (const auto& u : graph.Names()) {
    if (dep_jobs.count(u) || !UnitExists(u)) continue;
    // BindsTo=: a unit stops when what it is bound to is inactive (and not about to start).
    if (!inactive(u)) {
      for (const auto& b : graph.Get(u, Rel::kBindsTo))
        if (inactive(b) && !dep_jobs.count(b)) {
          spdlog::info("{}: stopping: {} (BindsTo=) is {}", u, b, StateWord(b));
          stop.push_back(u);
          break;
        }
    }
    // Upholds=: what an active unit upholds is started whenever it is inactive (a start
    // limit still applies: a unit failed by its start limit is left alone).
    if (!inactive(u)) {
      for (const auto& h : graph.Get(u, Rel::kUpholds)) {
        if (!inactive(h) || dep_jobs.count(h) || !UnitExists(h)) continue;
        if (Service* s = Find(h); s && s->fsm &&
                                  s->fsm->result() == ServiceResult::kStartLimitHit &&
                                  s->fsm->state() == State::kFailed)
          continue;
        start.push_back(h);
      }
    }
    // StopWhenUnneeded=: stops once no active unit (or start) needs it.
    if (const UnitDeps* d = DepsOf(u); d && d->stop_when_unneeded && !inactive(u)) {
      bool needed = false;
      for (Rel r :
           {Rel::kWantedBy, Rel::kRequiredBy, Rel::kBoundBy, Rel::kRequisiteOf, Rel::kUpheldBy})
        for (const auto& n : graph.Get(u, r)) needed = needed || !inactive(n) || dep_jobs.count(n);
      if (!needed) {
        spdlog::info("{}: stopping: no longer needed (StopWhenUnneeded=)", u);
        stop.push_back(u);
      }
    }
  }
  for (const auto& u : stop)
    if (!dep_jobs.count(u)) QueueStop(u, {}, nullptr);
  for (const auto& u : start)
    if (!dep_jobs.count(u)) {
      spdlog::info("{}: starting (Upholds=)", u);
      QueueStart(u, {}, nullptr);
    }
}

// ---------------------------------------------------------------- snapshots

TargetSnapshot Manager::Impl::TargetSnapshotOf(TargetUnit& t) {
  TargetSnapshot o;
  o.name = t.name;
  o.unit_path = t.path;
  o.spec = t.spec;
  o.load_error = t.load_error;
  o.standard = IsStandardTarget(t.name);
  o.active = t.active;
  o.enable_state = EnableStateWord(t.name);
  if (const OrderingCycle* c = graph.CycleOf(t.name)) o.dependency_error = c->Text();
  if (auto it = dep_jobs.find(t.name); it != dep_jobs.end()) {
    o.job = it->second.StopHalf() ? "stop" : "start";
    for (const auto& v : graph.Get(t.name, it->second.StopHalf() ? Rel::kBefore : Rel::kAfter))
      if (dep_jobs.count(v)) o.waiting_for.push_back(v);
  }
  std::set<std::string> members;
  for (Rel r : {Rel::kRequires, Rel::kBindsTo, Rel::kWants})
    for (const auto& m : graph.Get(t.name, r)) members.insert(m);
  for (const auto& m : members) o.members.emplace_back(m, StateWord(m));
  o.since_realtime = t.since_realtime;
  return o;
}

}  // namespace supd
