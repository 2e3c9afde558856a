#include "lib/supervise/notify_router.h"

#include <algorithm>
#include <spdlog/spdlog.h>

namespace supd {
namespace {

bool HasGroup(const Instance* inst, pid_t pgid) {
  return inst && std::find(inst->pgids.begin(), inst->pgids.end(), pgid) != inst->pgids.end();
}

}  // namespace

// Which service a process belongs to, and as what. The main and control processes are known
// by pid; any other is found by its cgroup (reading /proc/PID/cgroup costs more than the rest
// of a datagram, so only then), or without cgroups by its process group.
NotifyRouter::Sender NotifyRouter::Identify(pid_t pid) {
  Sender out;
  if (const ActionRunner::Owner* o = env_.runner->OwnerOf(pid); o && o->instance != 0) {
    out.service = env_.find(o->service);
    if (out.service && out.service->current && out.service->current->id == o->instance) {
      out.role = o->is_main ? SenderRole::kMain : SenderRole::kControl;
    } else {
      out.role = SenderRole::kPreviousInstance;
    }
    return out;
  }
  if (env_.cgroups->tracking()) {
    const std::string own = env_.cgroups->CgroupOf(pid);
    out.service = env_.find(env_.cgroups->ServiceOf(own));
    if (!out.service) return out;
    const Instance* cur = out.service->current.get();
    out.role = cur && !cur->cgroup.empty() && env_.cgroups->Within(own, cur->cgroup)
                   ? SenderRole::kOtherInCurrentInstance
                   : SenderRole::kPreviousInstance;
    return out;
  }
  const pid_t pgid = env_.process->GroupOf(pid);
  if (pgid <= 0) return out;
  env_.for_each([&](Service& s) {
    if (out.service) return;
    if (HasGroup(s.current.get(), pgid)) {
      out.service = &s;
      out.role = SenderRole::kOtherInCurrentInstance;
      return;
    }
    bool old = HasGroup(s.set_aside.get(), pgid);
    for (const auto& d : s.draining) old = old || HasGroup(d.get(), pgid);
    if (old) {
      out.service = &s;
      out.role = SenderRole::kPreviousInstance;
    }
  });
  return out;
}

void NotifyRouter::Refuse(const NotifyCredentials& cred, const std::string& why) {
  ++refused_;
  const int64_t now = env_.loop->Now().count();
  if (now - refused_logged_at_ < 1000000) return;  // at most one line a second
  refused_logged_at_ = now;
  spdlog::warn("notify message from pid {} (uid {}) refused: {} ({} refused so far)", cred.pid,
               cred.uid, why, refused_);
}

void NotifyRouter::Route(const NotifyMessage& m, const NotifyCredentials& cred,
                         std::vector<UniqueFd> fds) {
  const Sender sender = Identify(cred.pid);
  Service* s = sender.service;
  if (s == nullptr || !s->fsm) {
    Refuse(cred, "the sender belongs to no service");
    return;
  }
  switch (s->fsm->AcceptsNotify(sender.role)) {
    case NotifyVerdict::kAccept: break;
    case NotifyVerdict::kPreviousInstance:
      // A process of an instance set aside or draining (overlap restart): its STOPPING=1 or
      // READY=1 must not steer the new instance.
      Refuse(cred, s->name + ": the sender belongs to a previous instance");
      return;
    case NotifyVerdict::kAccessNone:
      Refuse(cred, s->name + " has NotifyAccess=none");
      return;
    case NotifyVerdict::kNotMain:
      Refuse(cred, s->name + " has NotifyAccess=main and the sender is not its main process");
      return;
    case NotifyVerdict::kNotMainOrControl:
      Refuse(cred, s->name + " has NotifyAccess=exec and the sender is neither its main nor "
                             "its control process");
      return;
  }
  // BARRIER=1: closing the fds (when `fds` goes) is the whole answer.
  if (m.barrier) return;
  StoreFds(*s, m, fds);
  if (m.status) s->status_text = *m.status;
  if (m.errno_value) s->status_errno = *m.errno_value;
  const std::string name = s->name;
  if (m.mainpid) ChangeMainPid(*s, *m.mainpid, sender.role == SenderRole::kMain || cred.uid == 0);
  s = env_.find(name);
  if (!s) return;
  const Usec now = env_.loop->Now();
  Actions acts;
  auto add = [&](Actions more) { acts.insert(acts.end(), more.begin(), more.end()); };
  // systemd's precedence: STOPPING over READY over RELOADING.
  if (m.stopping) {
    add(s->fsm->OnStopping(now));
  } else if (m.ready) {
    if (m.reloading) add(s->fsm->OnReloading(now));
    add(s->fsm->OnReady(now));
  } else if (m.reloading) {
    add(s->fsm->OnReloading(now));
  }
  if (m.watchdog_usec) add(s->fsm->OnWatchdogUsec(*m.watchdog_usec, now));
  if (m.watchdog_ping) add(s->fsm->OnWatchdogPing(now));
  if (m.extend_timeout) add(s->fsm->OnExtendTimeout(*m.extend_timeout, now));
  env_.runner->Dispatch(*s, std::move(acts));
  if (m.watchdog_trigger) {
    if (Service* again = env_.find(name))
      env_.runner->Dispatch(*again, again->fsm->OnWatchdogTimeout(now, /*triggered=*/true));
  }
}

void NotifyRouter::StoreFds(Service& s, const NotifyMessage& m, std::vector<UniqueFd>& fds) {
  if (m.fdstore_remove && m.fdname) {
    const size_t before = s.fdstore.size();
    std::erase_if(s.fdstore, [&](const auto& e) { return e.first == *m.fdname; });
    spdlog::debug("{}: FDSTOREREMOVE: closed {} fds named {}", s.name, before - s.fdstore.size(),
                  *m.fdname);
  }
  if (!m.fdstore || fds.empty()) return;
  const std::string fdname = m.fdname.value_or("stored");
  for (auto& fd : fds) {
    if (s.fdstore.size() >= s.spec->file_descriptor_store_max) {
      spdlog::warn("{}: FDSTORE=1 refused: the store is full (FileDescriptorStoreMax={})",
                   s.name, s.spec->file_descriptor_store_max);
      break;  // the rest are closed with `fds`
    }
    s.fdstore.emplace_back(fdname, std::move(fd));
  }
}

// MAINPID=: another process of the service becomes the main one (forking-style programs).
void NotifyRouter::ChangeMainPid(Service& s, pid_t pid, bool sender_trusted) {
  Instance* cur = s.current.get();
  if (cur && cur->main && cur->main->pid() == pid) return;
  const bool is_control = cur && cur->control && cur->control->pid() == pid;
  switch (s.fsm->AcceptsMainPid(sender_trusted, is_control)) {
    case MainPidVerdict::kAccept: break;
    case MainPidVerdict::kUntrustedSender:
      spdlog::warn("{}: MAINPID={} ignored: only the main process or root may send it", s.name,
                   pid);
      return;
    case MainPidVerdict::kNoMainToReplace:
      spdlog::warn("{}: MAINPID={} ignored: the service is {} without a main process to replace",
                   s.name, pid, StateName(s.fsm->state()));
      return;
    case MainPidVerdict::kIsControl:
      spdlog::warn("{}: MAINPID={} ignored: that is the control process", s.name, pid);
      return;
  }
  if (!cur || !cur->main) return;  // the machine said there is one; guard anyway
  // A former main process named again: taken back as it is (still watched, same pidfd).
  if (env_.runner->ReadoptMain(s, pid)) {
    spdlog::info("{}: main process is again {} (MAINPID=)", s.name, pid);
    env_.runner->Dispatch(s, s.fsm->OnMainPidChanged(env_.loop->Now()));
    return;
  }
  // The pidfd first, the membership check after: a pidfd names one process for good, so a pid
  // that exits and is reused between the check and the open cannot be adopted.
  auto pidfd = env_.process->OpenPidfd(pid);
  if (!pidfd.ok()) {
    spdlog::warn("{}: MAINPID={} ignored: {}", s.name, pid, pidfd.error().message);
    return;
  }
  const Sender owner = Identify(pid);
  if (owner.service != &s || owner.role != SenderRole::kOtherInCurrentInstance ||
      !env_.process->StillRuns(pidfd->get())) {
    spdlog::warn("{}: MAINPID={} ignored: that process does not belong to the service", s.name,
                 pid);
    return;
  }
  auto proc = std::make_unique<Proc>();
  proc->handle.pid = pid;
  proc->handle.pidfd = std::move(*pidfd);
  proc->path = cur->main->path;
  proc->exec.kind = ExecStatus::Kind::kExecuted;
  proc->started_realtime = env_.loop->RealtimeUsec();
  spdlog::info("{}: main process is now {} (MAINPID=)", s.name, pid);
  env_.runner->AdoptMain(s, std::move(proc));
  env_.runner->Dispatch(s, s.fsm->OnMainPidChanged(env_.loop->Now()));
}

}  // namespace supd
