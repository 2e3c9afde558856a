// Performing actions: spawns, signals, timers, instances. The outcomes of processes (exits,
// exec status, emptiness) are in action_outcomes.cc.
#include "lib/supervise/action_runner.h"

#include <fcntl.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <deque>
#include <spdlog/spdlog.h>

#include "lib/base/unique_fd.h"
#include "lib/log/log_writer.h"
#include "lib/log/service_log.h"
#include "lib/supervise/socket_units.h"
#include "lib/unit/values.h"

#ifndef GRND_INSECURE  // Linux 5.6; glibc headers before 2.32 lack the name
#define GRND_INSECURE 0x0004
#endif

namespace supd {
namespace {

// 16 random bytes as libsystemd's random_bytes() gets them, never blocking and never failing:
// getrandom(GRND_INSECURE) (5.6+), else getrandom(GRND_NONBLOCK), else /dev/urandom, and as the
// last resort the clock, the pid and a counter (unique, if not random).
void RandomBytes(std::array<uint8_t, 16>* out) {
  for (int flags : {GRND_INSECURE, GRND_NONBLOCK}) {
    ssize_t n;
    do n = getrandom(out->data(), out->size(), flags);
    while (n < 0 && errno == EINTR);
    if (n == static_cast<ssize_t>(out->size())) return;
  }
  if (UniqueFd fd(::open("/dev/urandom", O_RDONLY | O_CLOEXEC)); fd) {
    ssize_t n;
    do n = ::read(fd.get(), out->data(), out->size());
    while (n < 0 && errno == EINTR);
    if (n == static_cast<ssize_t>(out->size())) return;
  }
  static uint64_t counter = 0;
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  const uint64_t a =
      static_cast<uint64_t>(ts.tv_sec) * 1000000000u + static_cast<uint64_t>(ts.tv_nsec);
  const uint64_t b = (static_cast<uint64_t>(getpid()) << 32) ^ ++counter;
  std::memcpy(out->data(), &a, 8);
  std::memcpy(out->data() + 8, &b, 8);
}

// A random 128-bit id in systemd's form (sd_id128_randomize: a v4 UUID, 32 lowercase hex
// digits, no dashes).
std::string NewInvocationId() {
  std::array<uint8_t, 16> id{};
  RandomBytes(&id);
  id[6] = static_cast<uint8_t>((id[6] & 0x0F) | 0x40);  // version 4
  id[8] = static_cast<uint8_t>((id[8] & 0x3F) | 0x80);  // variant DCE
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(32, '0');
  for (size_t i = 0; i < id.size(); ++i) {
    out[2 * i] = kHex[id[i] >> 4];
    out[2 * i + 1] = kHex[id[i] & 0x0F];
  }
  return out;
}

}  // namespace

ActionRunner::ActionRunner(Env env) : env_(std::move(env)) {}

void ActionRunner::Dispatch(Service& s, Actions first) {
  std::deque<Action> q(first.begin(), first.end());
  while (!q.empty()) {
    const Action a = q.front();
    q.pop_front();
    Actions more;
    Perform(s, a, &more);
    q.insert(q.end(), more.begin(), more.end());
  }
  SyncProbes(s);
  env_.after_change(s);
}

void ActionRunner::Perform(Service& s, const Action& a, Actions* more) {
  ServiceFsm& fsm = *s.fsm;
  switch (a.kind) {
    case Action::Kind::kSpawnMain:
    case Action::Kind::kSpawnControl: {
      const bool is_main = a.kind == Action::Kind::kSpawnMain;
      const std::string err = s.current ? Spawn(s, *s.current, a.list, a.index, is_main)
                                        : "internal error: no instance to spawn into";
      if (!err.empty()) {
        spdlog::error("{}: {}", s.name, err);
        *more = fsm.OnSpawnFailed(err, Now());
      } else if (is_main) {
        *more = fsm.OnMainSpawned(Now());
      }
      break;
    }
    case Action::Kind::kSignal: Signal(s, a.target, a.signal); break;
    case Action::Kind::kArmTimer: ArmTimer(s, a.delay); break;
    case Action::Kind::kDisarmTimer: s.timer->Cancel(); break;
    case Action::Kind::kExtendTimer: ExtendTimer(s, a.delay); break;
    case Action::Kind::kArmWatchdog: ArmWatchdog(s, a.delay); break;
    case Action::Kind::kDisarmWatchdog: s.watchdog->Cancel(); break;
    case Action::Kind::kResetInstance: NewInstance(s); break;
    case Action::Kind::kCheckConditions: Prepare(s, more); break;
    case Action::Kind::kPrepareInstance: {
      // The worker already prepared it with the conditions (Prepare); what is left is on the
      // loop: cgroup, limits, environment, log.
      const std::string err =
          s.current ? ApplyPrepared(s, *s.current) : "internal error: no instance to prepare";
      *more = fsm.OnInstancePrepared(a.attempt, err, Now());
      break;
    }
    case Action::Kind::kAbandonProcesses:
      if (s.current) {
        Abandon(s, s.current->main);
        Abandon(s, s.current->control);
      }
      break;
    case Action::Kind::kDetachInstance: SetAside(s); break;
    case Action::Kind::kStopOldInstance: StopOldInstance(s); break;
    case Action::Kind::kReattachOldInstance: TakeBack(s); break;
  }
}

void ActionRunner::ArmTimer(Service& s, Usec delay) {
  s.timer->Arm(delay, [this, name = s.name] {
    Service* sp = env_.find(name);
    if (!sp || !sp->fsm) return;
    // A start that times out waiting for its probes says which probe held it.
    const ProbeSet* probes = sp->current ? sp->current->probes.get() : nullptr;
    Dispatch(*sp, sp->fsm->OnTimer(Now(), probes ? probes->GateBlocker() : ""));
  });
}

// EXTEND_TIMEOUT_USEC=: not earlier than now + delay; never shortened, and no timeout where
// there was none (TimeoutStartSec=infinity).
void ActionRunner::ExtendTimer(Service& s, Usec delay) {
  if (!s.timer->armed()) return;
  if (delay == kInfinity) {
    s.timer->Cancel();
    return;
  }
  if (s.timer->remaining() < delay) ArmTimer(s, delay);
}

void ActionRunner::ArmWatchdog(Service& s, Usec delay) {
  s.watchdog->Arm(delay, [this, name = s.name] {
    Service* sp = env_.find(name);
    if (!sp || !sp->fsm) return;
    spdlog::warn("{}: watchdog timeout", name);
    Dispatch(*sp, sp->fsm->OnWatchdogTimeout(Now()));
  });
}

// ---------------------------------------------------------------- instances

// A new start begins: a new instance with the unit in force now (a reload takes effect here,
// also for a restart, which never passes through "dead").
void ActionRunner::NewInstance(Service& s) {
  if (s.next_spec) {
    s.spec = std::move(s.next_spec);
    s.next_spec.reset();
    s.fsm->SetSpec(s.spec.get());
  }
  if (s.current) {
    // What the machine stopped waiting for stays watched (reaped) but is no longer its.
    Abandon(s, s.current->main);
    Abandon(s, s.current->control);
    DropCgroup(s, s.current->cgroup);
  }
  auto inst = std::make_unique<Instance>();
  inst->spec = s.spec;
  inst->invocation_id = NewInvocationId();
  inst->started_monotonic = Now().count();
  inst->attempt = s.fsm->start_attempts();
  inst->id = next_instance_id_++;
  inst->stop_timer = env_.loop->NewTimer();
  s.current = std::move(inst);
  s.status_text.clear();
  s.status_errno = 0;
}

// The blocking part of a start, on the worker: conditions, NSS lookups, EnvironmentFile=. A
// unit that needs none of them (no Condition*=, User=, Group=, SupplementaryGroups=,
// EnvironmentFile=) is prepared at once on the loop: nothing of it can block, and a crash loop's
// respawn does not wait for a thread hop. `more` gets the machine's answer in that case.
void ActionRunner::Prepare(Service& s, Actions* more) {
  if (!s.current) return;
  const ServiceSpec& spec = *s.spec;
  const bool blocking = !spec.conditions.empty() || !spec.user.empty() || !spec.group.empty() ||
                        !spec.exec.supplementary_groups.empty() ||
                        !spec.environment_files.empty();
  if (!blocking) {
    s.current->prep = PrepareInstance(spec, env_.euid);
    *more = s.fsm->OnConditionsChecked(true, false, "", Now());
    return;
  }
  const uint64_t id = s.current->id;
  env_.worker->Run([this, spec = s.spec, euid = env_.euid, name = s.name, id] {
    auto prep = std::make_shared<PreparedInstance>(PrepareInstance(*spec, euid));
    return std::function<void()>([this, prep, name, id] {
      Service* sp = env_.find(name);
      // A later start (or none) replaced the instance meanwhile: this answer is stale.
      if (!sp || !sp->fsm || !sp->current || sp->current->id != id) return;
      sp->current->prep = std::move(*prep);
      const ConditionResult& c = sp->current->prep.conditions;
      if (!c.start) spdlog::info("{}: {}", sp->name, c.message);
      Dispatch(*sp, sp->fsm->OnConditionsChecked(c.start, c.assert_failed, c.message, Now()));
    });
  });
}

// Everything of a start that needs no blocking call, once it is prepared: the sockets, the
// cgroup and its limits, the environment, the log. Returns why the start cannot go on.
std::string ActionRunner::ApplyPrepared(Service& s, Instance& inst) {
  inst.prepared = true;
  std::string error = inst.prep.error;
  // The service is started only on all of its sockets.
  std::string socket_error;
  (void)env_.sockets->FdsFor(s.name, &socket_error);
  if (error.empty()) error = socket_error;
  if (env_.cgroups->tracking()) {
    // One cgroup per instance under the service's: during an overlap restart the old and the
    // new instance are told apart exactly.
    auto cg = env_.cgroups->CreateInstance(s.name, inst.invocation_id);
    if (cg.ok()) {
      inst.cgroup = *cg;
    } else if (error.empty()) {
      error = "create cgroup: " + cg.error().message;
    }
  }
  inst.env = BuildEnvironment(inst.invocation_id, inst.prep);
  // OnFailure=/OnSuccess= of another unit started this one: MONITOR_* for this start only,
  // under the unit's own Environment= (systemd merges them in that order too).
  for (auto& [k, v] : s.monitor_env) {
    const bool set = std::any_of(inst.env.begin(), inst.env.end(),
                                 [&k = k](const auto& kv) { return kv.first == k; });
    if (!set) inst.env.emplace_back(std::move(k), std::move(v));
  }
  s.monitor_env.clear();
  s.monitor_from.clear();
  const std::string refusal = ApplyResources(s, inst);
  if (error.empty()) error = refusal;
  OpenLog(s);
  inst.setup_error = error;
  return error;
}

// The unit's cgroup limits on the new instance (reported per limit; RequireLimits=yes turns an
// unenforced one into the start's error), and GoRuntime=auto's GOMAXPROCS/GOMEMLIMIT added to
// its environment. Returns the refusal of RequireLimits=yes ("" if none).
std::string ActionRunner::ApplyResources(Service& s, Instance& inst) {
  const ResourceLimits& limits = inst.spec->resources;
  const InstanceResources& ir =
      env_.cgroups->ApplyLimits(s.name, inst.invocation_id, inst.cgroup, limits);
  inst.limits = ir.limits;
  for (const LimitReport& l : inst.limits)
    if (!l.enforced)
      spdlog::warn("{}: {}={} is not enforced: {}", s.name, l.directive, l.value, l.detail);
  inst.go_runtime = GoRuntimeStatus{};
  inst.go_runtime.mode = limits.go_runtime;
  bool has_procs = false, has_mem = false;
  for (const auto& [k, v] : inst.env) {
    if (k == "GOMAXPROCS" || k == "GOMEMLIMIT") inst.go_runtime.from_unit.emplace_back(k, v);
    has_procs = has_procs || k == "GOMAXPROCS";
    has_mem = has_mem || k == "GOMEMLIMIT";
  }
  inst.go_runtime.set_by_supd = GoRuntimeEnv(limits, PhysicalMemoryBytes(), has_procs, has_mem);
  for (const auto& kv : inst.go_runtime.set_by_supd) inst.env.push_back(kv);
  return ir.refusal;
}

void ActionRunner::OpenLog(Service& s) {
  const ServiceSpec* spec = s.spec.get();
  const LogFileLimits limits = spec ? LogFileLimits{spec->log_max_bytes, spec->log_max_files}
                                    : LogFileLimits{};
  if (s.log) {
    s.log->sink()->SetLimits(limits);
    return;
  }
  auto sink = env_.log_writer->Open(env_.log_dir + "/" + s.name + ".log", limits);
  if (!sink.ok()) {
    // Output then goes to supd's own stderr: never lost, and the reason is in status.
    s.log_error = sink.error().message;
    spdlog::error("{}: {}", s.name, s.log_error);
    return;
  }
  s.log = std::make_shared<ServiceLog>(std::move(*sink));
  s.log->on_record = [this, name = s.name](const LogRecord& r) { env_.on_log_record(name, r); };
  s.log_error.clear();
}

// An instance's cgroup that is no longer current: removed when empty, else kept as stale
// (signalled with the service, removed once empty).
void ActionRunner::DropCgroup(Service& s, const std::string& dir) {
  if (dir.empty()) return;
  auto empty = env_.cgroups->IsEmpty(dir);
  if (empty.ok() && *empty && env_.cgroups->Remove(dir).ok()) return;
  s.stale_cgroups.push_back(dir);
  watching_.insert(s.name);
}

void ActionRunner::ReleaseCgroup(Service& s) {
  Instance* inst = s.current.get();
  if (!inst || inst->cgroup.empty() || inst->has_processes() || !s.abandoned.empty()) return;
  auto empty = env_.cgroups->IsEmpty(inst->cgroup);
  if (empty.ok() && *empty && env_.cgroups->Remove(inst->cgroup).ok()) inst->cgroup.clear();
}

// Overlap restart: the running instance is set aside, still serving, while a new one starts.
void ActionRunner::SetAside(Service& s) {
  if (!s.current) return;
  spdlog::info("{}: starting a new instance beside pid {}, which keeps serving", s.name,
               s.current->main ? s.current->main->pid() : 0);
  s.set_aside = std::move(s.current);
  s.set_aside->probes.reset();  // an overlap restart probes the new instance only
}

// The new instance failed and its processes are gone: the one set aside is the service again.
void ActionRunner::TakeBack(Service& s) {
  if (!s.set_aside) return;
  if (s.current) {
    Abandon(s, s.current->main);
    Abandon(s, s.current->control);
    DropCgroup(s, s.current->cgroup);
  }
  s.current = std::move(s.set_aside);
  for (Proc* p : {s.current->main.get(), s.current->control.get()})
    if (p) Index(p->pid(), s, *s.current, p == s.current->main.get());
}

// The old instance of an overlap restart is stopped as it was started: its own unit's
// ExecStop=, KillSignal=, TimeoutStopSec= (InstanceStop decides).
void ActionRunner::StopOldInstance(Service& s) {
  if (!s.set_aside) return;
  std::unique_ptr<Instance> old = std::move(s.set_aside);
  spdlog::info("{}: stopping the previous instance (pid {})", s.name,
               old->main ? old->main->pid() : 0);
  old->stop.emplace(old->spec.get());
  Instance& ref = *old;
  s.draining.push_back(std::move(old));
  watching_.insert(s.name);
  DispatchOld(s, ref, ref.stop->Begin(ref.main != nullptr, Now()));
}

void ActionRunner::DispatchOld(Service& s, Instance& old, Actions first) {
  std::deque<Action> q(first.begin(), first.end());
  const uint64_t id = old.id;
  while (!q.empty()) {
    const Action a = q.front();
    q.pop_front();
    Actions more;
    switch (a.kind) {
      case Action::Kind::kSpawnControl:
        if (const std::string err = Spawn(s, old, a.list, a.index, false); !err.empty()) {
          spdlog::warn("{}: previous instance: {}", s.name, err);
          more = old.stop->OnSpawnFailed(err, Now());
        }
        break;
      case Action::Kind::kSignal: SignalInstance(s, old, a.target, a.signal, false); break;
      case Action::Kind::kArmTimer:
        old.stop_timer->Arm(a.delay, [this, name = s.name, id] {
          Service* sp = env_.find(name);
          Instance* o = sp ? FindInstance(*sp, id) : nullptr;
          if (!o || !o->stop) return;
          DispatchOld(*sp, *o, o->stop->OnTimer(Now()));
          env_.after_change(*sp);
        });
        break;
      case Action::Kind::kDisarmTimer: old.stop_timer->Cancel(); break;
      case Action::Kind::kAbandonProcesses:
        spdlog::warn("{}: giving up on the previous instance (still running)", s.name);
        Abandon(s, old.main);
        Abandon(s, old.control);
        if (!old.cgroup.empty()) s.stale_cgroups.push_back(std::exchange(old.cgroup, ""));
        old.pgids.clear();
        break;
      default:
        break;  // InstanceStop asks for nothing else
    }
    q.insert(q.end(), more.begin(), more.end());
  }
  if (Instance* o = FindInstance(s, id); o && o->stop && !o->stop->done() &&
                                           o->stop->waiting_for_empty() && InstanceEmpty(s, *o))
    DispatchOld(s, *o, o->stop->OnAllGone(Now()));
  ForgetDrained(s);
}

// Old instances whose stop is done: forgotten (their empty cgroups removed).
void ActionRunner::ForgetDrained(Service& s) {
  std::erase_if(s.draining, [&](std::unique_ptr<Instance>& o) {
    if (!o->stop || !o->stop->done() || o->has_processes()) return false;
    DropCgroup(s, o->cgroup);
    spdlog::info("{}: previous instance is gone", s.name);
    return true;
  });
}

Instance* ActionRunner::FindInstance(Service& s, uint64_t id) {
  if (s.current && s.current->id == id) return s.current.get();
  if (s.set_aside && s.set_aside->id == id) return s.set_aside.get();
  for (auto& d : s.draining)
    if (d->id == id) return d.get();
  return nullptr;
}

// ---------------------------------------------------------------- processes

LaunchInput ActionRunner::LaunchInputFor(const Instance& inst) const {
  LaunchInput in;
  in.spec = inst.spec.get();
  in.env = &inst.env;
  in.prepared = &inst.prep;
  in.notify_socket = env_.notify_socket;
  in.notify_error = env_.notify_error;
  in.euid = env_.euid;
  in.egid = env_.egid;
  in.home = env_.home;
  in.require_limits = inst.spec->resources.require_limits;
  return in;
}

LaunchTarget ActionRunner::LaunchTargetFor(const Instance& inst) const {
  LaunchTarget target;
  target.spec = inst.spec.get();
  target.cgroup = inst.cgroup;
  if (const InstanceResources* ir =
          inst.cgroup.empty() ? nullptr : env_.cgroups->Limits(inst.cgroup))
    for (const auto& [controller, dir] : ir->v1_dirs) target.v1_cgroups.push_back(dir);
  return target;
}

std::string ActionRunner::Spawn(Service& s, Instance& inst, CommandList list, size_t index,
                                bool is_main) {
  if (!inst.prepared) return "internal error: the instance was not prepared";
  if (!inst.setup_error.empty()) return inst.setup_error;
  LaunchInput in = LaunchInputFor(inst);
  in.list = list;
  in.index = index;
  in.is_main = is_main;
  if (is_main) {
    std::string ignored;  // checked at preparation
    in.fds = env_.sockets->FdsFor(s.name, &ignored);
    // Then the fd store, as systemd orders them.
    for (const auto& [name, fd] : s.fdstore) in.fds.push_back(PassedFd{fd.get(), name});
    if (&inst == s.current.get()) in.watchdog = s.fsm->watchdog_interval();
  } else if (inst.main) {
    in.main_pid = inst.main->pid();
  }
  if (list == CommandList::kStop || list == CommandList::kStopPost) {
    StopEnvironment stop;
    // An old instance of an overlap restart ends without a result of the service's.
    stop.service_result = &inst == s.current.get() ? ResultName(s.fsm->result()) : "success";
    if (s.last_exit && s.last_exit->at_monotonic >= inst.started_monotonic &&
        &inst == s.current.get()) {
      const ExitStatus& st = s.last_exit->status;
      stop.exit_code = st.exited ? "exited" : st.core_dumped ? "dumped" : "killed";
      stop.exit_status = st.exited ? std::to_string(st.code) : SignalName(st.signal);
    }
    in.stop = std::move(stop);
  }
  auto plan = BuildLaunch(in);
  if (!plan.ok()) return plan.error().message;
  LaunchTarget target = LaunchTargetFor(inst);
  target.log = s.log;
  auto proc = env_.launcher->Launch(*plan, target, &inst.output_warnings);
  if (!proc.ok()) return proc.error().message;
  Proc& p = **proc;
  p.started_realtime = env_.loop->RealtimeUsec();
  inst.pgids.push_back(p.pid());
  spdlog::debug("{}: spawned {} pid {}", s.name, plan->what, p.pid());
  std::unique_ptr<Proc>& slot = is_main ? inst.main : inst.control;
  Abandon(s, slot);  // never expected: the machines spawn into a free slot
  slot = std::move(*proc);
  Watch(s, inst, *slot, is_main);
  return "";
}

void ActionRunner::Watch(Service& s, Instance& inst, Proc& proc, bool is_main) {
  const pid_t pid = proc.pid();
  Index(pid, s, inst, is_main);
  env_.process->Watch(pid, proc.handle.pidfd.get(),
                      [this, name = s.name, id = inst.id, pid, is_main](const ExitStatus& st) {
                        OnExit(name, id, pid, is_main, st);
                      });
  // Execve done (Type=exec readiness) or the child failed, and what the host did not give as
  // asked (a clamped limit): the exec-status pipe tells, for every process.
  if (proc.exec_status) {
    proc.exec_watch = env_.loop->WhenReadable(
        proc.exec_status.get(),
        [this, name = s.name, id = inst.id, pid] { OnExecReadable(name, id, pid); });
    // Without it the exit still tells how the process ended (and Type=exec waits for it).
    if (!proc.exec_watch)
      spdlog::warn("{}: {}", s.name, ErrnoError("watch the exec status of pid " +
                                                 std::to_string(pid)).message);
  }
}

void ActionRunner::Signal(Service& s, KillTarget target, int sig) {
  if (s.current) SignalInstance(s, *s.current, target, sig, /*stale=*/true);
}

void ActionRunner::SignalEverything(Service& s, int sig) {
  if (s.current) {
    SignalInstance(s, *s.current, KillTarget::kAll, sig, /*stale=*/true);
  } else {
    for (const auto& cg : s.stale_cgroups) (void)env_.cgroups->Signal(cg, sig);
  }
  if (s.set_aside) SignalInstance(s, *s.set_aside, KillTarget::kAll, sig, false);
  for (auto& d : s.draining) SignalInstance(s, *d, KillTarget::kAll, sig, false);
}

void ActionRunner::SignalInstance(Service& s, Instance& inst, KillTarget target, int sig,
                                  bool stale) {
  auto report = [&](const Result<void>& r) {
    if (!r.ok()) spdlog::warn("{}: {}", s.name, r.error().message);
  };
  if ((target == KillTarget::kMain || target == KillTarget::kAll) && inst.main)
    report(env_.process->Signal(inst.main->handle, sig));
  if ((target == KillTarget::kControl || target == KillTarget::kAll) && inst.control)
    report(env_.process->Signal(inst.control->handle, sig));
  if (target != KillTarget::kAll) return;
  if (!inst.cgroup.empty()) {
    report(env_.cgroups->Signal(inst.cgroup, sig));
  } else {
    // A group whose last member is gone may be anyone's by now: forget it before signalling.
    std::erase_if(inst.pgids, [this](pid_t pg) { return !env_.process->GroupExists(pg); });
    for (pid_t pg : inst.pgids) report(env_.process->SignalGroup(pg, sig));
  }
  if (stale)
    for (const auto& cg : s.stale_cgroups) report(env_.cgroups->Signal(cg, sig));
}

void ActionRunner::Abandon(Service& s, std::unique_ptr<Proc>& slot) {
  if (!slot) return;
  spdlog::warn("{}: no longer waiting for pid {} ({})", s.name, slot->pid(), slot->path);
  slot->exec_watch.reset();
  Owner& o = owners_[slot->pid()];
  o = Owner{s.name, 0, false};  // instance 0: abandoned
  s.abandoned.push_back(std::move(slot));
}

void ActionRunner::AdoptMain(Service& s, std::unique_ptr<Proc> proc) {
  Instance& inst = *s.current;
  if (inst.main) {
    // A process the main one started (a tableflip-style handover) writes to the pipes it
    // inherited: their readers are the new main's too (a daemon-reexec carries them with it).
    if (!proc->out_reader) proc->out_reader = inst.main->out_reader;
    if (!proc->err_reader) proc->err_reader = inst.main->err_reader;
    spdlog::debug("{}: former main process {} is left to exit", s.name, inst.main->pid());
    Unindex(inst.main->pid());
    Owner& o = owners_[inst.main->pid()];
    o = Owner{s.name, 0, false};
    s.abandoned.push_back(std::move(inst.main));
  }
  inst.main = std::move(proc);
  Watch(s, inst, *inst.main, true);
}

bool ActionRunner::ReadoptMain(Service& s, pid_t pid) {
  for (auto it = s.abandoned.begin(); it != s.abandoned.end(); ++it) {
    if ((*it)->pid() != pid) continue;
    std::unique_ptr<Proc> back = std::move(*it);
    s.abandoned.erase(it);
    Instance& inst = *s.current;
    if (inst.main) {
      owners_[inst.main->pid()] = Owner{s.name, 0, false};
      s.abandoned.push_back(std::move(inst.main));
    }
    inst.main = std::move(back);
    // Watched again for this instance: its exit must reach the machine (it may have been
    // abandoned by an earlier instance, whose id its old watch carries).
    Watch(s, inst, *inst.main, true);
    return true;
  }
  return false;
}

void ActionRunner::Index(pid_t pid, const Service& s, const Instance& inst, bool is_main) {
  owners_[pid] = Owner{s.name, inst.id, is_main};
}

void ActionRunner::Unindex(pid_t pid) { owners_.erase(pid); }

const ActionRunner::Owner* ActionRunner::OwnerOf(pid_t pid) const {
  auto it = owners_.find(pid);
  return it == owners_.end() ? nullptr : &it->second;
}

}  // namespace supd
