#include "lib/supervise/socket_units.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "lib/socket/socket_info.h"

namespace supd {

struct SocketUnits::Unit {
  std::string name;
  std::string path;
  std::shared_ptr<const SocketSpec> spec;  // null until it loaded once
  std::string load_error;
  SocketState state = SocketState::kStopped;
  std::string error;                 // kFailed: why
  std::vector<BoundSocket> bound;    // while listening, in spec->listen's order
  std::vector<std::string> notes;    // what a reload could not apply in place
  bool stopped_by_request = false;   // `stop`: a reload keeps it stopped
  uint64_t gen = 0;                  // bumped by every change; stale async results are dropped
  uint64_t activations = 0;
  int64_t since_realtime = 0;
  // Waits for a first connection (on duplicates of the held fds, so that dropping them closes
  // nothing the service gets). A handle borrows its fd: the fds are declared first, so that
  // the handles go first (a closed fd cannot be taken out of epoll, and its entry would stay).
  struct Activation {
    std::vector<UniqueFd> fds;
    std::vector<std::unique_ptr<WatchHandle>> handles;
  };
  Activation activation;
  std::vector<Usec> triggers;  // activation times within TriggerLimitIntervalSec=

  std::string Service() const {
    if (spec) return spec->service;
    return name.substr(0, name.size() - std::string(".socket").size()) + ".service";
  }
};

namespace {

// RemoveOnStop=: a unix socket file goes with its socket; without it the file stays, as in
// systemd.
void RemoveSocketFile(const SocketSpec* spec, const BoundSocket& b) {
  if (!spec || !spec->remove_on_stop) return;
  for (const std::string prefix : {"unix:/", "unix-dgram:/"}) {
    if (b.identity.starts_with(prefix)) ::unlink(b.identity.substr(prefix.size() - 1).c_str());
  }
}

bool NeedsOwner(const SocketSpec& s) { return !s.socket_user.empty() || !s.socket_group.empty(); }

// Everything of a socket unit that decides how its sockets are bound.
bool SameSetup(const SocketSpec& a, const SocketSpec& b) {
  if (a.listen.size() != b.listen.size()) return false;
  for (size_t i = 0; i < a.listen.size(); ++i)
    if (a.listen[i].kind != b.listen[i].kind || a.listen[i].address != b.listen[i].address)
      return false;
  return a.service == b.service && a.fd_name == b.fd_name && a.backlog == b.backlog &&
         a.reuse_port == b.reuse_port && a.bind_ipv6_only == b.bind_ipv6_only &&
         a.free_bind == b.free_bind && a.no_delay == b.no_delay && a.keep_alive == b.keep_alive &&
         a.socket_mode == b.socket_mode && a.directory_mode == b.directory_mode &&
         a.socket_user == b.socket_user && a.socket_group == b.socket_group &&
         a.remove_on_stop == b.remove_on_stop;
}

// Options of a kept socket that only a new bind could change.
std::vector<std::string> NeedRebind(const SocketSpec& from, const SocketSpec& to) {
  std::vector<std::string> out;
  if (from.reuse_port != to.reuse_port) out.emplace_back("ReusePort=");
  if (from.free_bind != to.free_bind) out.emplace_back("FreeBind=");
  if (from.bind_ipv6_only != to.bind_ipv6_only) out.emplace_back("BindIPv6Only=");
  if (from.directory_mode != to.directory_mode) out.emplace_back("DirectoryMode=");
  return out;
}

}  // namespace

const char* SocketStateName(SocketState s) {
  switch (s) {
    case SocketState::kListening: return "listening";
    case SocketState::kStopped: return "stopped";
    case SocketState::kFailed: return "failed";
  }
  return "?";
}

SocketUnits::SocketUnits(Loop& loop, BlockingWork& worker, Hooks hooks)
    : loop_(loop), worker_(worker), hooks_(std::move(hooks)) {}

SocketUnits::~SocketUnits() { *alive_ = false; }

std::vector<std::string> SocketUnits::Names() const {
  std::vector<std::string> out;
  for (const auto& [n, u] : units_) out.push_back(n);
  return out;
}

void SocketUnits::SetState(Unit& u, SocketState s, std::string error) {
  const bool changed = u.state != s || u.error != error;
  u.state = s;
  u.error = std::move(error);
  ++u.gen;
  if (!changed) return;
  u.since_realtime = loop_.RealtimeUsec();
  if (hooks_.changed) hooks_.changed(u.name, s, u.error);
}

// Looks up the owners of the units that need one, on the worker; `then` runs on the loop.
void SocketUnits::Resolve(std::vector<std::shared_ptr<const SocketSpec>> specs,
                          std::function<void(std::map<std::string, Result<SocketOwner>>)> then) {
  std::erase_if(specs, [](const auto& s) { return !NeedsOwner(*s); });
  if (specs.empty()) {
    then({});
    return;
  }
  worker_.Run([specs = std::move(specs), then = std::move(then), alive = alive_]() mutable {
    auto owners = std::make_shared<std::map<std::string, Result<SocketOwner>>>();
    for (const auto& s : specs) owners->emplace(s->name, ResolveSocketOwner(*s));
    return std::function<void()>([owners, then = std::move(then), alive] {
      if (*alive) then(std::move(*owners));
    });
  });
}

void SocketUnits::Bind(Unit& u, const SocketOwner& owner) {
  auto bound = BindAll(*u.spec, owner);
  if (!bound.ok()) {
    spdlog::error("{}", bound.error().message);
    SetState(u, SocketState::kFailed, bound.error().message);
    return;
  }
  u.bound = std::move(*bound);
  u.notes.clear();
  for (const auto& b : u.bound)
    spdlog::info("{}: listening on {} for {}", u.name, b.identity, u.spec->service);
  SetState(u, SocketState::kListening, "");
}

std::vector<SavedSocketUnit> SocketUnits::Save() const {
  std::vector<SavedSocketUnit> out;
  for (const auto& [name, u] : units_) {
    SavedSocketUnit su;
    su.name = name;
    su.state = static_cast<int>(u->state);
    su.error = u->error;
    su.stopped_by_request = u->stopped_by_request;
    su.activations = u->activations;
    su.since_realtime = u->since_realtime;
    for (const auto& b : u->bound) su.sockets.push_back(SavedSocket{b.identity, b.fd.get()});
    out.push_back(std::move(su));
  }
  return out;
}

std::string SocketUnits::ChangedOnDisk(const UnitCatalog& catalog) const {
  std::string out;
  for (const auto& [name, u] : units_) {
    if (u->state != SocketState::kListening || !u->spec) continue;
    const auto loaded = catalog.LoadSocket(name);
    if (!loaded.spec || !SameSetup(*u->spec, *loaded.spec)) out += (out.empty() ? "" : ", ") + name;
  }
  return out;
}

void SocketUnits::Adopt(std::vector<SavedSocketUnit> saved) {
  for (auto& su : saved) {
    std::string name = su.name;
    adopted_.insert_or_assign(std::move(name), std::move(su));
  }
}

// A re-executed supd's first Sync: the unit as the previous supd left it (a file that changed
// meanwhile is then applied as a reload applies it).
void SocketUnits::TakeOver(Unit& u, std::shared_ptr<const SocketSpec> spec) {
  auto it = adopted_.find(u.name);
  if (it == adopted_.end()) return;
  SavedSocketUnit saved = std::move(it->second);
  adopted_.erase(it);
  u.spec = std::move(spec);
  u.state = static_cast<SocketState>(saved.state);
  u.error = std::move(saved.error);
  u.stopped_by_request = saved.stopped_by_request;
  u.activations = saved.activations;
  u.since_realtime = saved.since_realtime;
  for (SavedSocket& sock : saved.sockets)
    u.bound.push_back(BoundSocket{std::move(sock.identity), u.spec->fd_name, UniqueFd(sock.fd)});
  if (u.state == SocketState::kListening && u.bound.empty()) u.state = SocketState::kStopped;
  for (const auto& b : u.bound)
    spdlog::info("{}: holding {} for {} again (daemon-reexec)", u.name, b.identity, u.spec->service);
}

// Units a previous supd held whose file is gone now: closed, as a reload closes them.
void SocketUnits::CloseUnclaimed() {
  for (auto& [name, saved] : adopted_) {
    spdlog::info("{}: unit file gone; closing the {} sockets it held", name, saved.sockets.size());
    for (const SavedSocket& sock : saved.sockets) UniqueFd closing(sock.fd);
  }
  adopted_.clear();
}

// The handles first, then the fds they borrow.
void SocketUnits::DropActivation(Unit& u) {
  u.activation.handles.clear();
  u.activation.fds.clear();
}

void SocketUnits::Close(Unit& u) {
  DropActivation(u);
  for (const auto& b : u.bound) RemoveSocketFile(u.spec.get(), b);
  u.bound.clear();
}

// A listening unit whose file changed: keeps each socket whose address stays, binds the new
// ones, closes the gone ones. If a new one cannot be bound, nothing changes (the old set stays,
// and status says why).
void SocketUnits::ApplyChanged(Unit& u, std::shared_ptr<const SocketSpec> spec,
                               const SocketOwner& owner) {
  // Which old socket each new address keeps (npos: a new bind), decided before anything moves.
  constexpr size_t kNew = static_cast<size_t>(-1);
  std::vector<size_t> source(spec->listen.size(), kNew);
  std::vector<bool> taken(u.bound.size(), false);
  for (size_t n = 0; n < spec->listen.size(); ++n) {
    const ListenSpec& l = spec->listen[n];
    for (size_t i = 0; i < u.bound.size() && i < u.spec->listen.size(); ++i) {
      const ListenSpec& old = u.spec->listen[i];
      if (!taken[i] && old.kind == l.kind && old.address == l.address) {
        source[n] = i;
        taken[i] = true;
        break;
      }
    }
  }
  // The new addresses first: if one cannot be bound, nothing of the old set has been touched.
  std::vector<std::optional<BoundSocket>> fresh(spec->listen.size());
  for (size_t n = 0; n < spec->listen.size(); ++n) {
    if (source[n] != kNew) continue;
    auto b = BindListen(*spec, spec->listen[n], owner);
    if (!b.ok()) {
      for (const auto& f : fresh)
        if (f) RemoveSocketFile(spec.get(), *f);
      const std::string why = "changes not applied, the previous sockets stay: " +
                              b.error().message;
      spdlog::error("{}: {}", u.name, why);
      u.load_error = why;
      return;  // `fresh` closes what it bound
    }
    fresh[n] = std::move(*b);
  }
  std::vector<BoundSocket> next;
  std::vector<std::string> notes;
  for (size_t n = 0; n < spec->listen.size(); ++n) {
    if (source[n] == kNew) {
      next.push_back(std::move(*fresh[n]));
      continue;
    }
    BoundSocket kept = std::move(u.bound[source[n]]);
    kept.fd_name = spec->fd_name;
    if (auto r = ReapplyListenOptions(*spec, spec->listen[n], owner, kept); !r.ok())
      notes.push_back(r.error().message);
    next.push_back(std::move(kept));
  }
  for (const std::string& d : NeedRebind(*u.spec, *spec))
    notes.push_back(d + " changed: takes effect when " + u.name + " is restarted");
  for (size_t i = 0; i < u.bound.size(); ++i) {
    if (taken[i]) continue;
    spdlog::info("{}: no longer listening on {}", u.name, u.bound[i].identity);
    RemoveSocketFile(u.spec.get(), u.bound[i]);
  }
  DropActivation(u);  // it waits on duplicates of the old set
  u.bound = std::move(next);
  u.spec = std::move(spec);
  u.notes = std::move(notes);
  ++u.gen;
  for (const auto& b : u.bound) spdlog::info("{}: listening on {}", u.name, b.identity);
}

void SocketUnits::DropRemoved(const std::set<std::string>& names, SyncResult& result) {
  for (auto it = units_.begin(); it != units_.end();) {
    if (names.count(it->first)) {
      ++it;
      continue;
    }
    spdlog::info("{}: unit file removed; closing its sockets", it->first);
    Close(*it->second);
    result.removed.push_back(it->first);
    it = units_.erase(it);
  }
}

void SocketUnits::Sync(const UnitCatalog& catalog, std::function<void(SyncResult)> done) {
  auto result = std::make_shared<SyncResult>();
  const auto names = catalog.ScanSockets();
  DropRemoved(names, *result);
  // What to bind (new units, failed ones) and what to change, once the owners are known.
  struct Pending {
    std::string name;
    std::shared_ptr<const SocketSpec> spec;
    bool changed = false;  // an applied change of a listening unit
    uint64_t gen = 0;
  };
  auto pending = std::make_shared<std::vector<Pending>>();
  std::vector<std::shared_ptr<const SocketSpec>> to_resolve;
  for (const auto& name : names) {
    auto loaded = catalog.LoadSocket(name);
    auto& slot = units_[name];
    const bool fresh = !slot;
    if (fresh) {
      slot = std::make_unique<Unit>();
      slot->name = name;
      result->added.push_back(name);
    }
    Unit& u = *slot;
    u.path = loaded.path;
    if (!loaded.spec) {
      spdlog::error("{}", loaded.error);
      u.load_error = loaded.error;
      result->failed.push_back(name);
      if (!u.spec) SetState(u, SocketState::kFailed, loaded.error);
      continue;
    }
    u.load_error.clear();
    for (const auto& w : loaded.spec->warnings) spdlog::warn("{}", w.ToString());
    if (fresh) TakeOver(u, loaded.spec);  // daemon-reexec; then compared as any unit
    const bool same = u.spec && SameSetup(*u.spec, *loaded.spec);
    if (!fresh && !same) result->changed.push_back(name);
    if (same) {
      u.spec = loaded.spec;  // description, [Install], warnings
      // A unit that failed to bind tries again; the others stay as they are.
      if (u.state != SocketState::kFailed || u.stopped_by_request) continue;
    } else if (u.stopped_by_request) {
      u.spec = loaded.spec;  // in force at its next start
      u.notes.clear();
      continue;
    }
    const bool apply = u.spec && u.state == SocketState::kListening && !same;
    if (!apply) u.spec = loaded.spec;
    pending->push_back(Pending{name, loaded.spec, apply, u.gen});
    to_resolve.push_back(loaded.spec);
  }
  CloseUnclaimed();
  Resolve(std::move(to_resolve),
          [this, pending, result, done = std::move(done)](
              std::map<std::string, Result<SocketOwner>> owners) {
            for (const Pending& p : *pending) {
              auto it = units_.find(p.name);
              if (it == units_.end() || it->second->gen != p.gen) continue;  // changed meanwhile
              Unit& u = *it->second;
              SocketOwner owner;
              if (auto o = owners.find(p.name); o != owners.end()) {
                if (!o->second.ok()) {
                  spdlog::error("{}", o->second.error().message);
                  if (p.changed) {
                    u.load_error = "changes not applied: " + o->second.error().message;
                  } else {
                    SetState(u, SocketState::kFailed, o->second.error().message);
                  }
                  continue;
                }
                owner = *o->second;
              }
              if (p.changed) {
                ApplyChanged(u, p.spec, owner);
              } else {
                Bind(u, owner);
              }
            }
            ArmActivation();
            done(std::move(*result));
          });
}

void SocketUnits::Start(const std::string& name, std::function<void(std::string)> done) {
  auto it = units_.find(name);
  if (it == units_.end()) {
    done("no such socket unit: " + name);
    return;
  }
  Unit& u = *it->second;
  if (!u.spec) {
    done(u.load_error.empty() ? u.error : u.load_error);
    return;
  }
  u.stopped_by_request = false;
  if (u.state == SocketState::kListening) {
    done("");
    return;
  }
  const uint64_t gen = ++u.gen;
  Resolve({u.spec}, [this, name, gen, done = std::move(done)](
                        std::map<std::string, Result<SocketOwner>> owners) {
    auto it = units_.find(name);
    if (it == units_.end() || it->second->gen != gen) {
      done(name + ": changed while starting; try again");
      return;
    }
    Unit& u = *it->second;
    SocketOwner owner;
    if (auto o = owners.find(name); o != owners.end()) {
      if (!o->second.ok()) {
        SetState(u, SocketState::kFailed, o->second.error().message);
        done(u.error);
        return;
      }
      owner = *o->second;
    }
    Bind(u, owner);
    ArmActivation(u.Service());
    done(u.state == SocketState::kListening ? "" : u.error);
  });
}

std::string SocketUnits::Stop(const std::string& name) {
  auto it = units_.find(name);
  if (it == units_.end()) return "";
  Unit& u = *it->second;
  u.stopped_by_request = true;
  if (!u.bound.empty()) spdlog::info("{}: closing its sockets", name);
  Close(u);
  SetState(u, SocketState::kStopped, "");
  return u.Service();
}

SocketState SocketUnits::StateOf(const std::string& name) const {
  auto it = units_.find(name);
  return it == units_.end() ? SocketState::kStopped : it->second->state;
}

std::string SocketUnits::ServiceOf(const std::string& name) const {
  auto it = units_.find(name);
  return it == units_.end() ? "" : it->second->Service();
}

std::vector<PassedFd> SocketUnits::FdsFor(const std::string& service, std::string* error) const {
  std::vector<PassedFd> out;
  for (const auto& [n, u] : units_) {
    if (u->Service() != service) continue;
    if (u->state == SocketState::kFailed && error->empty()) *error = u->error;
    if (u->state != SocketState::kListening) continue;
    for (const auto& b : u->bound) out.push_back(PassedFd{b.fd.get(), b.fd_name});
  }
  return out;
}

bool SocketUnits::HoldsFor(const std::string& service) const {
  for (const auto& [n, u] : units_)
    if (u->Service() == service && u->state == SocketState::kListening && !u->bound.empty())
      return true;
  return false;
}

void SocketUnits::ArmActivation(const std::string& service) {
  for (auto& [name, up] : units_) {
    Unit& u = *up;
    if (!service.empty() && u.Service() != service) continue;
    if (!IsEnabled(u.name) || u.state != SocketState::kListening || u.bound.empty()) continue;
    if (!u.activation.handles.empty() || !hooks_.wants_activation(u.Service())) continue;
    for (const auto& b : u.bound) {
      UniqueFd dup(::fcntl(b.fd.get(), F_DUPFD_CLOEXEC, 3));
      if (!dup) {
        spdlog::warn("{}: {}", name, ErrnoError("dup for activation").message);
        continue;
      }
      auto handle = loop_.WhenReadable(dup.get(), [this, n = name] { OnActivation(n); });
      if (!handle) {
        spdlog::warn("{}: cannot wait for a connection on {}", name, ErrnoError("epoll").message);
        continue;
      }
      u.activation.fds.push_back(std::move(dup));
      u.activation.handles.push_back(std::move(handle));
    }
  }
}

void SocketUnits::OnActivation(const std::string& name) {
  auto it = units_.find(name);
  if (it == units_.end()) return;
  Unit& u = *it->second;
  // Drop the waits now (a start that ends at once may re-arm them), destroying them later
  // (handles before fds, as Activation's order says): this call comes from one of them.
  auto gone = std::make_shared<Unit::Activation>(std::move(u.activation));
  u.activation = Unit::Activation{};
  loop_.Post([gone] {
    gone->handles.clear();
    gone->fds.clear();
  });
  const std::string service = u.Service();
  if (!hooks_.wants_activation(service)) return;
  // TriggerLimitIntervalSec=/TriggerLimitBurst=: a connection that a failing service never
  // accepts would activate it for ever; past the limit the socket unit fails, as systemd's.
  const SocketSpec& spec = *u.spec;
  if (spec.trigger_limit_interval.count() > 0 && spec.trigger_limit_burst > 0) {
    const Usec now = loop_.Now();
    if (spec.trigger_limit_interval != kInfinity)
      std::erase_if(u.triggers, [&](Usec t) { return now - t >= spec.trigger_limit_interval; });
    if (u.triggers.size() >= spec.trigger_limit_burst) {
      Fail(u, fmt::format("trigger limit hit: {} activations within {} s (TriggerLimitBurst={}, "
                          "TriggerLimitIntervalSec=); the socket unit stops, as systemd's",
                          u.triggers.size(),
                          std::chrono::duration<double>(spec.trigger_limit_interval).count(),
                          spec.trigger_limit_burst));
      return;
    }
    u.triggers.push_back(now);
  }
  ++u.activations;
  spdlog::info("{}: connection waiting; starting {}", name, service);
  hooks_.activate(name, service);
}

// The socket unit fails: its sockets close (the waiting connections are refused), as systemd's
// socket_enter_dead(); `start` binds them again.
void SocketUnits::Fail(Unit& u, std::string why) {
  spdlog::error("{}: {}", u.name, why);
  Close(u);
  u.triggers.clear();
  SetState(u, SocketState::kFailed, std::move(why));
}

void SocketUnits::ServiceHitStartLimit(const std::string& service) {
  for (auto& [n, u] : units_)
    if (u->Service() == service && u->state == SocketState::kListening && IsEnabled(u->name))
      Fail(*u, service + " hit its start limit; the socket unit stops, as systemd's "
                         "(service-start-limit-hit)");
}

void SocketUnits::ResetFailed(const std::string& name) {
  auto it = units_.find(name);
  if (it == units_.end() || it->second->state != SocketState::kFailed) return;
  it->second->triggers.clear();
  SetState(*it->second, SocketState::kStopped, "");
}

bool SocketUnits::IsEnabled(const std::string& name) const {
  if (hooks_.is_enabled) return hooks_.is_enabled(name);
  auto it = units_.find(name);
  return it != units_.end() && it->second->spec && !it->second->spec->install.wanted_by.empty();
}

SocketSnapshot SocketUnits::Snapshot(const std::string& name) const {
  SocketSnapshot s;
  auto it = units_.find(name);
  if (it == units_.end()) return s;
  const Unit& u = *it->second;
  s.name = u.name;
  s.unit_path = u.path;
  s.spec = u.spec;
  s.load_error = u.load_error;
  s.enabled = IsEnabled(u.name);
  s.state = u.state;
  s.error = u.error;
  s.service = u.Service();
  s.activations = u.activations;
  s.since_realtime = u.since_realtime;
  s.notes = u.notes;
  for (const auto& b : u.bound) {
    HeldSocketInfo h;
    h.identity = b.identity;
    h.fd_name = b.fd_name;
    if (auto q = ListenQueueOf(b.fd.get())) {
      h.queued = q->queued;
      h.backlog = q->backlog;
    }
    s.listening.push_back(std::move(h));
  }
  return s;
}

std::vector<SocketSnapshot> SocketUnits::SnapshotsFor(const std::string& service) const {
  std::vector<SocketSnapshot> out;
  for (const auto& [n, u] : units_)
    if (u->Service() == service) out.push_back(Snapshot(n));
  return out;
}

std::vector<UnitCheck> SocketUnits::Check() const {
  std::vector<UnitCheck> out;
  for (const auto& [n, u] : units_) {
    UnitCheck c;
    c.name = n;
    c.path = u->path;
    c.error = u->load_error;
    if (u->spec)
      for (const auto& w : u->spec->warnings) c.warnings.push_back(w.ToString());
    out.push_back(std::move(c));
  }
  return out;
}

void SocketUnits::CloseAll() {
  for (auto& [n, u] : units_) Close(*u);
}

}  // namespace supd
