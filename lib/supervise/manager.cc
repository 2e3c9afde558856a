#include "lib/supervise/manager.h"

#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <algorithm>
#include <cstdio>
#include <deque>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <spdlog/spdlog.h>
#include <sstream>

#include "lib/cgroup/cgroup.h"
#include "lib/cgroup/leftovers.h"
#include "lib/cgroup/resource_control.h"
#include "lib/cgroup/resource_status.h"
#include "lib/control/request_args.h"
#include "lib/log/log_query.h"
#include "lib/log/journal.h"
#include "lib/log/log_writer.h"
#include "lib/log/output_target.h"
#include "lib/log/output_reader.h"
#include "lib/log/service_log.h"
#include "lib/notify/notify_message.h"
#include "lib/notify/notify_server.h"
#include "lib/proc/process_settings.h"
#include "lib/proc/process_watcher.h"
#include "lib/proc/spawn.h"
#include "lib/socket/listener.h"
#include "lib/supervise/service_fsm.h"
#include "lib/unit/socket_loader.h"
#include "lib/unit/unit_trust.h"
#include "lib/unit/values.h"

namespace supd {
namespace asio = boost::asio;
using control::Reply;
using control::ReplyFn;
using nlohmann::json;

namespace {

// systemd's default PATH for services (with /sbin:/bin for hosts without merged /usr).
constexpr const char* kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

Usec Now() { return Usec(MonotonicUsec()); }

// Asio converts to the steady clock's nanoseconds: a delay near Usec::max() would overflow into
// the past and fire at once. Nothing supd waits for is longer than this.
Usec ClampDelay(Usec d) {
  constexpr Usec kMax = std::chrono::hours(24 * 365);
  return d > kMax ? kMax : d;
}

std::string NewInvocationId() {
  std::random_device rd;
  std::string id;
  static const char* hex = "0123456789abcdef";
  for (int i = 0; i < 16; ++i) {
    const unsigned b = rd() & 0xff;
    id += hex[b >> 4];
    id += hex[b & 0xf];
  }
  return id;
}

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

struct Manager::Impl {
  struct Proc {
    SpawnedProcess sp;
    std::string path;
    std::string working_directory;
    std::unique_ptr<asio::posix::stream_descriptor> exec_wait;  // for Type=exec readiness
    // Its stdout/stderr readers (null when output goes elsewhere): drained at exit, and the
    // stderr one gives the crash excerpt.
    std::shared_ptr<OutputReader> out_reader, err_reader;
    // The exec-status pipe is read once; what it said is kept here.
    ExecStatus exec;
    ExecStatus ReadExec() {
      if (exec.kind == ExecStatus::Kind::kPending)
        exec = ReadExecStatus(sp.exec_status.get(), path, working_directory);
      return exec;
    }
  };

  struct LastExit {
    ExitStatus status;
    std::string reason;
    pid_t pid = 0;
    std::vector<std::string> excerpt;  // the instance's last stderr lines
    int64_t at_realtime = 0;
    int64_t at_monotonic = 0;
  };

  struct Waiter {
    enum class Kind { kStart, kStop, kReload } kind;
    uint64_t attempts_before;
    std::function<void(bool ok, std::string message)> done;
    uint64_t overlaps_failed_before = UINT64_MAX;  // an overlap restart: did its new instance fail
  };

  // An instance set aside by an overlap restart: still serving until the new one is ready, then
  // stopped (KillSignal=, TimeoutStopSec=, then SIGKILL) on its own, beside the new instance.
  struct OldInstance {
    explicit OldInstance(asio::io_context& io) : timer(io) {}
    std::unique_ptr<Proc> main;
    std::unique_ptr<Proc> control;
    std::string cgroup;          // its own instance cgroup ("" without cgroup tracking)
    std::vector<pid_t> pgids;
    asio::steady_timer timer;    // TimeoutStopSec= of its stop
    uint64_t id = 0;             // for the timer's handler (an address could be reused)
    bool killed = false;         // FinalKillSignal= sent
  };
  uint64_t next_old_instance_id = 1;

  struct Service {
    explicit Service(asio::io_context& io) : timer(io), watchdog(io) {}
    std::unique_ptr<OldInstance> detached;               // set aside, still serving
    // Instance cgroups that still held processes when a new instance began (KillMode=process
    // leftovers, survivors of SIGKILL): signalled with the service, removed once empty.
    std::vector<std::string> stale_cgroups;
    std::vector<std::unique_ptr<OldInstance>> draining;  // asked to stop, not gone yet
    std::string name;
    std::string unit_path;
    bool is_instance = false;
    std::shared_ptr<ServiceSpec> spec;       // what the FSM uses
    std::shared_ptr<ServiceSpec> next_spec;  // from a reload, used from the next start on
    std::string load_error;                  // the last load failed (spec may be an older one)
    std::unique_ptr<ServiceFsm> fsm;         // null until a spec loaded once

    std::unique_ptr<Proc> main;
    std::unique_ptr<Proc> control;
    // Processes the FSM stopped waiting for (KillMode=none, survived SIGKILL): still watched so
    // that they are reaped and their pidfd stays valid, but no longer the service's.
    std::vector<std::unique_ptr<Proc>> abandoned;
    std::vector<pid_t> pgids;  // process groups of this instance's processes
    std::string cgroup;        // the service's cgroup directory; "" without cgroup tracking
    asio::steady_timer timer;
    uint64_t timer_gen = 0;  // bumped on every arm/disarm: a stale expiry is ignored
    bool timer_armed = false;
    asio::steady_timer watchdog;
    uint64_t watchdog_gen = 0;
    // FDSTORE=1: fds the program parked, by name, handed to its next instance; emptied when the
    // service stops (not when it restarts).
    std::vector<std::pair<std::string, UniqueFd>> fdstore;
    std::string status_text;  // STATUS= from the program
    int status_errno = 0;     // ERRNO= from the program (0: none)

    std::string invocation_id;
    int64_t started_monotonic = 0;  // when the current start began
    std::vector<std::string> env;  // the environment of the current instance, "K=V"
    EnvList env_pairs;             // the same, for $VAR expansion
    std::string setup_error;       // EnvironmentFile=/User= failed for this start
    std::optional<UserInfo> user;
    std::vector<LimitReport> limits;  // how the unit's limits were applied to this instance
    GoRuntimeStatus go_runtime;       // GOMAXPROCS/GOMEMLIMIT of this instance

    std::optional<LastExit> last_exit;
    State last_state = State::kStopped;
    int64_t since_realtime = RealtimeUsec();
    int64_t since_monotonic = MonotonicUsec();
    std::vector<Waiter> waiters;
    std::shared_ptr<ServiceLog> log;
    std::string log_error;
    std::vector<std::string> output_warnings;  // from the last spawn's output targets
    bool removed = false;  // its unit file is gone: forget it once stopped
  };

  Impl(asio::io_context& io, ManagerConfig cfg)
      : io(io), config(std::move(cfg)), watcher(io),
        trusted_group(PrivateGroupOf(::geteuid(), ::getegid())) {
    // One subtree per state directory, so that two supd instances never share service cgroups
    // and a restarted supd finds its predecessor's.
    uint32_t h = 2166136261u;  // FNV-1a
    for (unsigned char c : config.state_dir) h = (h ^ c) * 16777619u;
    char name[32];
    std::snprintf(name, sizeof(name), "supd-%08x", h);
    auto tree = CgroupTree::Create(name);
    if (tree.ok()) {
      cgroups = std::move(*tree);
      spdlog::info("tracking service processes in cgroups under {}", cgroups->path());
    } else {
      spdlog::warn("cgroup tracking unavailable ({}); using process groups: a process that "
                   "leaves its process group (setsid) escapes a stop",
                   tree.error().message);
      cgroup_error = tree.error().message;
    }
    resources = ResourceControl::Setup(name, cgroups ? cgroups->path() : "", cgroup_error);
    spdlog::info("resource control: {}", resources.Summary());
    if (!config.notify_socket.empty()) {
      auto server = NotifyServer::Bind(
          io, config.notify_socket,
          [this](const NotifyMessage& m, const NotifyCredentials& cred, std::vector<UniqueFd> fds) {
            OnNotify(m, cred, std::move(fds));
          });
      if (server.ok()) {
        notify = std::move(*server);
      } else {
        notify_error = server.error().message;
        spdlog::error("{}; Type=notify services cannot start", notify_error);
      }
    }
    watcher.SetAfterReapHook([this] {
      std::vector<std::string> names;
      for (auto& [name, s] : services) names.push_back(name);
      for (auto& name : names) {
        Service* s = Find(name);
        if (!s) continue;
        // A pgid whose last member is gone may be reused by anyone: forget it at once.
        std::erase_if(s->pgids, [](pid_t pg) { return !ProcessGroupExists(pg); });
        std::erase_if(s->stale_cgroups, [this](const std::string& cg) {
          auto empty = CgroupIsEmpty(cg);
          return empty.ok() && *empty && RemoveInstanceCgroup(cg).ok();
        });
        if (!s->draining.empty()) {
          CheckDrained(*s);
          if (s->draining.empty()) AfterChange(*s);
        }
        CheckEmpty(*s);
      }
    });
  }

  // Removes an instance's (empty) cgroup, and its v1 companions with it.
  Result<void> RemoveInstanceCgroup(const std::string& dir) {
    auto r = RemoveCgroup(dir);
    if (r.ok()) resources.Release(dir);
    return r;
  }

  Service* Find(const std::string& name) {
    auto it = services.find(name);
    return it == services.end() ? nullptr : it->second.get();
  }

  // ---------------------------------------------------------------- loading

  std::string UnitPathFor(const std::string& name) const {
    const std::string tmpl = TemplateNameOf(name);
    return config.units_dir + "/" + (tmpl.empty() ? name : tmpl);
  }

  // (Re)loads the unit file of `s`. On failure the service keeps the spec it had.
  bool LoadSpec(Service& s) {
    s.unit_path = UnitPathFor(s.name);
    auto r = LoadServiceFile(s.unit_path, s.name, config.specifiers);
    if (r.ok()) {
      if (auto trust =
              CheckUnitFilesTrust(r->source_path, r->dropin_paths, ::geteuid(), trusted_group);
          !trust.ok())
        r = trust.take_error();
    }
    if (!r.ok()) {
      s.load_error = r.error().message;
      spdlog::error("{}: {}", s.name, s.load_error);
      return false;
    }
    s.load_error.clear();
    auto spec = std::make_shared<ServiceSpec>(std::move(r).value());
    for (const auto& w : spec->warnings) spdlog::warn("{}", w.ToString());
    if (!s.fsm) {
      s.spec = spec;
      s.fsm = std::make_unique<ServiceFsm>(s.spec.get());
    } else {
      s.next_spec = spec;
      MaybeSwapSpec(s);
    }
    return true;
  }

  void MaybeSwapSpec(Service& s) {
    if (!s.next_spec || !s.fsm) return;
    const Phase p = s.fsm->phase();
    if (p != Phase::kDead && p != Phase::kBackoff) return;
    s.spec = std::move(s.next_spec);
    s.next_spec.reset();
    s.fsm->SetSpec(s.spec.get());
  }

  Service& Create(const std::string& name) {
    auto s = std::make_unique<Service>(io);
    s->name = name;
    s->is_instance = !TemplateNameOf(name).empty();
    Service& ref = *s;
    services[name] = std::move(s);
    return ref;
  }

  // Unit file names in the units directory: regular .service files and templates.
  std::set<std::string> ScanUnitsDir(const std::string& suffix = ".service") {
    std::set<std::string> names;
    DIR* d = opendir(config.units_dir.c_str());
    if (d == nullptr) {
      spdlog::error("read units directory {}: {}", config.units_dir, strerror(errno));
      return names;
    }
    while (struct dirent* e = readdir(d)) {
      std::string n = e->d_name;
      if (!EndsWith(n, suffix)) continue;
      if (suffix == ".service" && !IsValidUnitName(n)) continue;
      struct stat st;
      const std::string path = config.units_dir + "/" + n;
      if (stat(path.c_str(), &st) < 0) {
        spdlog::error("{}: {}", path, strerror(errno));
        continue;
      }
      if (S_ISDIR(st.st_mode)) continue;
      names.insert(n);
    }
    closedir(d);
    return names;
  }

  static bool IsTemplate(const std::string& n) { return EndsWith(n, "@.service"); }
  static bool Enabled(const Service& s) {
    return s.spec && (!s.spec->wanted_by.empty() || !s.spec->required_by.empty());
  }

  // ---------------------------------------------------------------- sockets

  // A .socket unit: supd binds its sockets once and holds them for as long as the unit exists,
  // across every stop, start and restart of its service.
  struct SocketUnit {
    std::shared_ptr<SocketSpec> spec;
    std::vector<BoundSocket> bound;  // empty if load or bind failed
    std::string error;               // why there is nothing bound ("" if all is well)
    // Socket activation on demand: while the service is down, a wait for the first connection
    // (on duplicates of the held fds, so that dropping the waits closes nothing of ours).
    std::vector<std::unique_ptr<asio::posix::stream_descriptor>> activation;
  };

  // An enabled socket unit ([Install]) starts its service at the first connection, as systemd
  // does: the connection waits in the backlog meanwhile.
  void ArmActivation(const std::string& socket_name) {
    auto it = sockets.find(socket_name);
    if (it == sockets.end() || shutting_down) return;
    SocketUnit& u = it->second;
    if (!u.spec || u.spec->wanted_by.empty() || u.bound.empty() || !u.activation.empty()) return;
    Service* s = Find(u.spec->service);
    if (!s || !s->fsm) return;
    const State st = s->fsm->state();
    if (st != State::kStopped && st != State::kFailed) return;
    for (const auto& b : u.bound) {
      const int dup = fcntl(b.fd.get(), F_DUPFD_CLOEXEC, 3);
      if (dup < 0) {
        spdlog::warn("{}: dup for activation: {}", socket_name, strerror(errno));
        continue;
      }
      auto sd = std::make_unique<asio::posix::stream_descriptor>(io, dup);
      sd->async_wait(asio::posix::stream_descriptor::wait_read,
                     [this, socket_name](const boost::system::error_code& ec) {
                       if (ec) return;
                       OnActivation(socket_name);
                     });
      // Asio made the open file non-blocking for its wait; it is shared with the socket the
      // service will get, which systemd passes as it was bound (blocking): put that back. The
      // wait needs only readiness, never a read.
      const int fl = fcntl(dup, F_GETFL);
      if (fl >= 0 && (fl & O_NONBLOCK)) fcntl(dup, F_SETFL, fl & ~O_NONBLOCK);
      u.activation.push_back(std::move(sd));
    }
  }

  void OnActivation(const std::string& socket_name) {
    auto it = sockets.find(socket_name);
    if (it == sockets.end()) return;
    // Drop the waits now (so that a start that ends at once can re-arm them), destroying them
    // later: this handler belongs to one of them.
    auto gone = std::make_shared<std::vector<std::unique_ptr<asio::posix::stream_descriptor>>>(
        std::move(it->second.activation));
    it->second.activation.clear();
    asio::post(io, [gone] {});
    Service* s = Find(it->second.spec->service);
    if (!s || !s->fsm || shutting_down) return;
    const State st = s->fsm->state();
    if (st != State::kStopped && st != State::kFailed) return;
    spdlog::info("{}: connection waiting; starting {}", socket_name, s->name);
    MaybeSwapSpec(*s);
    Dispatch(*s, s->fsm->Start(Now()));
  }

  void ArmActivationFor(const std::string& service) {
    for (const auto& [n, u] : sockets)
      if (u.spec && u.spec->service == service) ArmActivation(n);
  }

  void LoadSocketUnits() {
    for (const auto& n : ScanUnitsDir(".socket")) {
      if (sockets.count(n)) continue;  // already bound: kept as it is (see ReloadUnits)
      SocketUnit u;
      auto spec = LoadSocketFile(config.units_dir + "/" + n, n, config.specifiers);
      if (spec.ok()) {
        if (auto trust = CheckUnitFilesTrust(spec->source_path, spec->dropin_paths,
                                             ::geteuid(), trusted_group);
            !trust.ok())
          spec = trust.take_error();
      }
      if (!spec.ok()) {
        u.error = spec.error().message;
        spdlog::error("{}", u.error);
        sockets[n] = std::move(u);
        continue;
      }
      u.spec = std::make_shared<SocketSpec>(std::move(*spec));
      for (const auto& w : u.spec->warnings) spdlog::warn("{}", w.ToString());
      auto bound = BindAll(*u.spec);
      if (bound.ok()) {
        u.bound = std::move(*bound);
        for (const auto& b : u.bound)
          spdlog::info("{}: listening on {} for {}", n, b.identity, u.spec->service);
      } else {
        u.error = bound.error().message;
        spdlog::error("{}", u.error);
      }
      sockets[n] = std::move(u);
    }
  }

  // RemoveOnStop=: a unix socket file goes with its socket unit (when supd stops or the unit is
  // removed by a reload); without it the file stays, as in systemd.
  static void RemoveSocketFiles(const SocketUnit& u) {
    if (!u.spec || !u.spec->remove_on_stop) return;
    for (const auto& b : u.bound) {
      for (const char* prefix : {"unix:/", "unix-dgram:/"}) {
        const std::string p(prefix);
        if (b.identity.rfind(p, 0) == 0) ::unlink(b.identity.substr(p.size() - 1).c_str());
      }
    }
  }

  // The socket units whose Service= is `service`, in name order (the fds' order).
  std::vector<const SocketUnit*> SocketsOf(const std::string& service) const {
    std::vector<const SocketUnit*> out;
    for (const auto& [n, u] : sockets) {
      const std::string target =
          u.spec ? u.spec->service : n.substr(0, n.size() - std::string(".socket").size()) + ".service";
      if (target == service) out.push_back(&u);
    }
    return out;
  }

  void LoadUnits() {
    LoadSocketUnits();
    for (const auto& n : ScanUnitsDir()) {
      if (IsTemplate(n)) continue;
      Service& s = Create(n);
      LoadSpec(s);
    }
    spdlog::info("loaded {} units from {}", services.size(), config.units_dir);
    for (const auto& [n, u] : sockets) ArmActivation(n);
    for (auto& [name, s] : services) {
      if (s->fsm && Enabled(*s)) Dispatch(*s, s->fsm->Start(Now()));
    }
  }

  void ReloadUnits() {
    // Still stopping what a previous supd left: the units are loaded (from the directory as it
    // is then) once that is done; loading now would start services twice.
    if (leftovers && leftovers->pending()) {
      spdlog::info("reload: units load once the previous supd's leftovers are stopped");
      return;
    }
    // New .socket units are bound; existing ones keep their sockets (a changed address takes a
    // restart of supd for now); removed ones are closed once nothing uses them.
    LoadSocketUnits();
    const auto socket_names = ScanUnitsDir(".socket");
    std::erase_if(sockets, [&](const auto& kv) {
      if (socket_names.count(kv.first)) return false;
      RemoveSocketFiles(kv.second);
      return true;
    });
    const auto names = ScanUnitsDir();
    std::vector<std::string> added;
    for (const auto& n : names) {
      if (IsTemplate(n)) continue;
      if (Service* s = Find(n)) {
        s->removed = false;
        LoadSpec(*s);
      } else {
        Service& created = Create(n);
        if (LoadSpec(created)) added.push_back(n);
      }
    }
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
      if (s->fsm) {
        Dispatch(*s, s->fsm->Stop());
      } else {
        ForgetIfRemoved(n);
      }
    }
    for (const auto& n : added) {
      Service* s = Find(n);
      if (s && Enabled(*s) && !shutting_down) Dispatch(*s, s->fsm->Start(Now()));
    }
    spdlog::info("reloaded units: {} added, {} removed", added.size(), gone.size());
  }

  void ForgetIfRemoved(const std::string& name) {
    asio::post(io, [this, name] {
      Service* s = Find(name);
      if (!s || !s->removed) return;
      if (s->fsm && (s->fsm->state() != State::kStopped && s->fsm->state() != State::kFailed))
        return;
      if (s->main || s->control || s->detached || !s->draining.empty() || !s->abandoned.empty())
        return;
      for (auto& w : s->waiters) w.done(false, name + ": unit file was removed");
      services.erase(name);
    });
  }

  // ---------------------------------------------------------------- actions

  void Dispatch(Service& s, Actions first) {
    std::deque<Action> q(first.begin(), first.end());
    while (!q.empty()) {
      const Action a = q.front();
      q.pop_front();
      Actions more;
      switch (a.kind) {
        case Action::Kind::kSpawnMain:
        case Action::Kind::kSpawnControl: {
          const bool is_main = a.kind == Action::Kind::kSpawnMain;
          std::string err = SpawnOne(s, a.list, a.index, is_main);
          if (!err.empty()) {
            spdlog::error("{}: {}", s.name, err);
            more = s.fsm->OnSpawnFailed(err, Now());
          } else if (is_main) {
            more = s.fsm->OnMainSpawned();
          }
          break;
        }
        case Action::Kind::kSignal:
          SendSignal(s, a.target, a.signal);
          break;
        case Action::Kind::kArmTimer:
          ArmTimer(s, a.delay);
          break;
        case Action::Kind::kDisarmTimer:
          ++s.timer_gen;
          s.timer_armed = false;
          s.timer.cancel();
          break;
        case Action::Kind::kResetInstance:
          ResetInstance(s);
          break;
        case Action::Kind::kArmWatchdog: {
          const uint64_t gen = ++s.watchdog_gen;
          s.watchdog.expires_after(ClampDelay(a.delay));
          const std::string name = s.name;
          s.watchdog.async_wait([this, name, gen](const boost::system::error_code& ec) {
            if (ec) return;
            Service* sp = Find(name);
            if (!sp || sp->watchdog_gen != gen || !sp->fsm) return;
            spdlog::warn("{}: watchdog timeout", name);
            Dispatch(*sp, sp->fsm->OnWatchdogTimeout(Now()));
          });
          break;
        }
        case Action::Kind::kDisarmWatchdog:
          ++s.watchdog_gen;
          s.watchdog.cancel();
          break;
        case Action::Kind::kExtendTimer: {
          // EXTEND_TIMEOUT_USEC=: not earlier than now + delay; never shortened, and no timeout
          // where there was none (TimeoutStartSec=infinity).
          if (!s.timer_armed) break;
          if (a.delay == kInfinity) {
            ++s.timer_gen;
            s.timer_armed = false;
            s.timer.cancel();
            break;
          }
          const auto wanted = asio::steady_timer::clock_type::now() + ClampDelay(a.delay);
          if (s.timer.expiry() < wanted) ArmTimer(s, a.delay);
          break;
        }
        case Action::Kind::kDetachInstance: {
          auto old = std::make_unique<OldInstance>(io);
          old->main = std::move(s.main);
          old->control = std::move(s.control);
          old->cgroup = std::move(s.cgroup);
          old->pgids = std::move(s.pgids);
          s.cgroup.clear();
          s.pgids.clear();
          spdlog::info("{}: starting a new instance beside pid {}, which keeps serving", s.name,
                       old->main ? old->main->sp.pid : 0);
          s.detached = std::move(old);
          break;
        }
        case Action::Kind::kStopOldInstance:
          StopOldInstance(s);
          break;
        case Action::Kind::kReattachOldInstance:
          if (s.detached) {
            // The new instance is all gone (its cgroup empty): the old one is the service again.
            if (!s.cgroup.empty()) (void)RemoveInstanceCgroup(s.cgroup);
            s.main = std::move(s.detached->main);
            s.control = std::move(s.detached->control);
            s.cgroup = std::move(s.detached->cgroup);
            s.pgids = std::move(s.detached->pgids);
            s.detached.reset();
            spdlog::warn("{}: {}", s.name, s.fsm->cause());
          }
          break;
        case Action::Kind::kAbandonProcesses:
          Abandon(s, s.main);
          Abandon(s, s.control);
          break;
        case Action::Kind::kCheckConditions: {
          ConditionResult c = EvaluateConditions(*s.spec);
          if (!c.start) spdlog::info("{}: {}", s.name, c.message);
          more = s.fsm->OnConditionsChecked(c.start, c.assert_failed, c.message, Now());
          break;
        }
      }
      q.insert(q.end(), more.begin(), more.end());
    }
    AfterChange(s);
  }

  void SignalOld(const Service& s, OldInstance& o, int sig, bool all) {
    auto report = [&](const Result<void>& r) {
      if (!r.ok()) spdlog::warn("{}: {}", s.name, r.error().message);
    };
    if (o.main) report(SignalProcess(o.main->sp, sig));
    if (o.control) report(SignalProcess(o.control->sp, sig));
    if (!all) return;
    if (!o.cgroup.empty()) {
      report(SignalCgroup(o.cgroup, sig));
    } else {
      for (pid_t pg : o.pgids) report(SignalProcessGroup(pg, sig));
    }
  }

  // The old instance of an overlap restart is stopped as a stop would: KillSignal= per
  // KillMode=, then after TimeoutStopSec= FinalKillSignal= to all of it.
  void StopOldInstance(Service& s) {
    if (!s.detached) return;
    std::unique_ptr<OldInstance> o = std::move(s.detached);
    const ServiceSpec& spec = *s.spec;
    spdlog::info("{}: stopping the previous instance (pid {})", s.name,
                 o->main ? o->main->sp.pid : 0);
    if (spec.kill_mode != KillMode::kNone)
      SignalOld(s, *o, spec.kill_signal, spec.kill_mode == KillMode::kControlGroup);
    o->id = next_old_instance_id++;
    ArmOldInstanceTimer(s, *o);
    s.draining.push_back(std::move(o));
    CheckDrained(s);
  }

  // TimeoutStopSec= for an old instance: then FinalKillSignal= (SendSIGKILL=yes), and if it
  // survives another TimeoutStopSec= (or may not be killed), it is given up on: abandoned,
  // still reaped, no longer holding up a stop or supd's exit — as the FSM does for an instance.
  void ArmOldInstanceTimer(Service& s, OldInstance& o) {
    const std::string name = s.name;
    const uint64_t id = o.id;
    o.timer.expires_after(ClampDelay(s.spec->timeout_stop));
    o.timer.async_wait([this, name, id](const boost::system::error_code& ec) {
      if (ec) return;
      Service* sp = Find(name);
      if (!sp) return;
      for (auto it = sp->draining.begin(); it != sp->draining.end(); ++it) {
        OldInstance& d = **it;
        if (d.id != id) continue;
        if (!d.killed && sp->spec->send_sigkill) {
          spdlog::warn("{}: previous instance still running after TimeoutStopSec=; killing it",
                       name);
          d.killed = true;
          SignalOld(*sp, d, sp->spec->final_kill_signal, true);
          ArmOldInstanceTimer(*sp, d);
          return;
        }
        spdlog::warn("{}: giving up on the previous instance (still running)", name);
        if (d.main) sp->abandoned.push_back(std::move(d.main));
        if (d.control) sp->abandoned.push_back(std::move(d.control));
        if (!d.cgroup.empty()) sp->stale_cgroups.push_back(d.cgroup);
        sp->draining.erase(it);
        AfterChange(*sp);
        return;
      }
    });
  }

  // Forgets old instances that are all gone.
  void CheckDrained(Service& s) {
    std::erase_if(s.draining, [&](std::unique_ptr<OldInstance>& o) {
      if (o->main || o->control) return false;
      if (!o->cgroup.empty()) {
        auto empty = CgroupIsEmpty(o->cgroup);
        if (!empty.ok() || !*empty) return false;
        (void)RemoveInstanceCgroup(o->cgroup);  // best effort: an empty instance cgroup
      } else {
        std::erase_if(o->pgids, [](pid_t pg) { return !ProcessGroupExists(pg); });
        if (!o->pgids.empty()) return false;
      }
      o->timer.cancel();
      spdlog::info("{}: previous instance is gone", s.name);
      return true;
    });
  }

  // Whether pid is a process of an instance set aside or draining; if so, forgets it there.
  bool ForgetOldProcess(Service& s, pid_t pid) {
    auto take = [&](std::unique_ptr<Proc>& p) {
      if (!p || p->sp.pid != pid) return false;
      ReleaseProc(*p);
      p.reset();
      return true;
    };
    if (s.detached && take(s.detached->main)) {
      Dispatch(s, s.fsm->OnDetachedMainExited());
      return true;
    }
    if (s.detached && take(s.detached->control)) return true;
    for (auto& d : s.draining)
      if (take(d->main) || take(d->control)) return true;
    return false;
  }

  void Abandon(Service& s, std::unique_ptr<Proc>& slot) {
    if (!slot) return;
    spdlog::warn("{}: no longer waiting for pid {} ({})", s.name, slot->sp.pid, slot->path);
    s.abandoned.push_back(std::move(slot));
  }

  void ArmTimer(Service& s, Usec delay) {
    const uint64_t gen = ++s.timer_gen;
    s.timer_armed = true;
    s.timer.expires_after(ClampDelay(delay));
    const std::string name = s.name;
    s.timer.async_wait([this, name, gen](const boost::system::error_code& ec) {
      if (ec) return;
      Service* sp = Find(name);
      if (!sp || sp->timer_gen != gen || !sp->fsm) return;
      sp->timer_armed = false;
      if (sp->fsm->phase() == Phase::kBackoff) MaybeSwapSpec(*sp);
      Dispatch(*sp, sp->fsm->OnTimer(Now()));
    });
  }

  void ResetInstance(Service& s) {
    // A unit changed by a reload takes effect here, at the start of a new instance, when none of
    // the old one's processes is left (also for a restart, which never passes through "dead").
    if (s.next_spec) {
      s.spec = std::move(s.next_spec);
      s.next_spec.reset();
      s.fsm->SetSpec(s.spec.get());
    }
    s.invocation_id = NewInvocationId();
    s.setup_error.clear();
    for (const SocketUnit* u : SocketsOf(s.name)) {
      // The service is started only on all of its sockets.
      if (!u->error.empty() && s.setup_error.empty()) s.setup_error = u->error;
    }
    s.status_text.clear();
    s.status_errno = 0;
    if (cgroups) {
      // One cgroup per instance under the service's: during an overlap restart the old and the
      // new instance are told apart exactly. A previous instance's is removed if empty.
      if (!s.cgroup.empty()) {
        auto empty = CgroupIsEmpty(s.cgroup);
        if (empty.ok() && *empty) {
          (void)RemoveInstanceCgroup(s.cgroup);
        } else {
          s.stale_cgroups.push_back(s.cgroup);
        }
      }
      s.cgroup.clear();
      auto parent = cgroups->ServiceCgroup(s.name);
      auto cg = parent.ok() ? cgroups->ServiceCgroup(s.name + "/" + s.invocation_id) : parent;
      if (cg.ok()) {
        s.cgroup = *cg;
      } else {
        s.setup_error = "create cgroup: " + cg.error().message;
      }
    }
    s.started_monotonic = MonotonicUsec();
    s.pgids.clear();
    s.user.reset();
    const ServiceSpec& spec = *s.spec;

    // The environment systemd gives a service: PATH, INVOCATION_ID, the user's identity when
    // User= is set, then Environment= and EnvironmentFile= (later wins).
    EnvList pairs{{"PATH", kDefaultPath}, {"INVOCATION_ID", s.invocation_id}};
    if (!spec.user.empty()) {
      auto u = LookupUser(spec.user);
      if (!u.ok()) {
        s.setup_error = "User=" + spec.user + ": " + u.error().message;
      } else {
        s.user = *u;
        pairs.push_back({"HOME", u->home});
        pairs.push_back({"USER", u->name});
        pairs.push_back({"LOGNAME", u->name});
        pairs.push_back({"SHELL", u->shell});
      }
    }
    auto unit_env = ResolveUnitEnvironment(spec);
    if (!unit_env.ok()) {
      if (s.setup_error.empty()) s.setup_error = unit_env.error().message;
    } else {
      for (auto& kv : *unit_env) pairs.push_back(kv);
    }
    // Later assignments win; keep the first position of each name.
    std::map<std::string, size_t> index;
    s.env_pairs.clear();
    for (auto& [k, v] : pairs) {
      auto it = index.find(k);
      if (it == index.end()) {
        index[k] = s.env_pairs.size();
        s.env_pairs.push_back({k, v});
      } else {
        s.env_pairs[it->second].second = v;
      }
    }
    ApplyResources(s, index);
    s.env.clear();
    for (auto& [k, v] : s.env_pairs) s.env.push_back(k + "=" + v);

    const LogFileLimits limits{spec.log_max_bytes, spec.log_max_files};
    if (s.log) s.log->sink()->SetLimits(limits);
    if (!s.log) {
      auto sink = log_writer->Open(config.log_dir + "/" + s.name + ".log", limits);
      if (sink.ok()) {
        s.log = std::make_shared<ServiceLog>(std::move(*sink));
        const std::string name = s.name;
        s.log->on_record = [this, name](const LogRecord& r) { OnLogRecord(name, r); };
        s.log_error.clear();
      } else {
        // Output then goes to supd's own stderr: never lost, and the reason is in status.
        s.log_error = sink.error().message;
        spdlog::error("{}: {}", s.name, s.log_error);
      }
    }
  }

  // The unit's cgroup limits on the new instance (reported per limit; RequireLimits=yes turns
  // an unenforced one into the start's error), and GoRuntime=auto's GOMAXPROCS/GOMEMLIMIT
  // added to its environment. `index`: the position of each variable in s.env_pairs.
  void ApplyResources(Service& s, const std::map<std::string, size_t>& index) {
    const ResourceLimits& limits = s.spec->resources;
    const InstanceResources& ir =
        resources.Apply(s.name, s.invocation_id, s.cgroup, limits);
    s.limits = ir.limits;
    for (const LimitReport& l : s.limits)
      if (!l.enforced)
        spdlog::warn("{}: {}={} is not enforced: {}", s.name, l.directive, l.value, l.detail);
    if (!ir.refusal.empty() && s.setup_error.empty()) s.setup_error = ir.refusal;
    s.go_runtime = GoRuntimeStatus{};
    s.go_runtime.mode = limits.go_runtime;
    for (const char* var : {"GOMAXPROCS", "GOMEMLIMIT"})
      if (auto it = index.find(var); it != index.end())
        s.go_runtime.from_unit.emplace_back(var, s.env_pairs[it->second].second);
    s.go_runtime.set_by_supd = GoRuntimeEnv(limits, PhysicalMemoryBytes(), index.count("GOMAXPROCS"),
                                            index.count("GOMEMLIMIT"));
    for (const auto& kv : s.go_runtime.set_by_supd) s.env_pairs.push_back(kv);
  }

  // Spawns one command of `s`; returns "" on success or the reason it could not.
  std::string SpawnOne(Service& s, CommandList list, size_t index, bool is_main) {
    const ServiceSpec& spec = *s.spec;
    const std::vector<ExecCommand>* cmds = nullptr;
    switch (list) {
      case CommandList::kCondition: cmds = &spec.exec_condition; break;
      case CommandList::kStartPre: cmds = &spec.exec_start_pre; break;
      case CommandList::kStart: cmds = &spec.exec_start; break;
      case CommandList::kStartPost: cmds = &spec.exec_start_post; break;
      case CommandList::kReload: cmds = &spec.exec_reload; break;
      case CommandList::kStop: cmds = &spec.exec_stop; break;
      case CommandList::kStopPost: cmds = &spec.exec_stop_post; break;
    }
    if (index >= cmds->size()) return "internal error: no command " + std::to_string(index);
    const ExecCommand& cmd = (*cmds)[index];
    const std::string what = std::string(CommandListName(list)) + "=" + cmd.path;
    if (!s.setup_error.empty()) return s.setup_error;

    SpawnPlan plan;
    plan.path = cmd.path;
    EnvList env = s.env_pairs;
    std::vector<std::string> envv = s.env;
    auto add_env = [&](const std::string& k, const std::string& v) {
      env.push_back({k, v});
      envv.push_back(k + "=" + v);
    };
    if (!is_main && s.main) add_env("MAINPID", std::to_string(s.main->sp.pid));
    const bool notify_type =
        spec.type == ServiceType::kNotify || spec.type == ServiceType::kNotifyReload;
    if (notify_type && !notify)
      return "Type=notify needs the notify socket: " + notify_error;
    if (notify && (notify_type || spec.notify_access != NotifyAccess::kNone))
      add_env("NOTIFY_SOCKET", notify->path());
    if (is_main) {
      // Socket activation, byte-for-byte as systemd: fds from 3 on, LISTEN_FDS, LISTEN_PID (the
      // child's own pid), LISTEN_FDNAMES.
      std::string names;
      for (const SocketUnit* u : SocketsOf(s.name)) {
        for (const auto& b : u->bound) {
          plan.pass_fds.push_back(b.fd.get());
          if (!names.empty()) names += ':';
          names += b.fd_name;
        }
      }
      // Then the fd store, as systemd orders them.
      for (const auto& [name, fd] : s.fdstore) {
        plan.pass_fds.push_back(fd.get());
        if (!names.empty()) names += ':';
        names += name;
      }
      if (!plan.pass_fds.empty()) {
        add_env("LISTEN_FDS", std::to_string(plan.pass_fds.size()));
        add_env("LISTEN_FDNAMES", names);
        plan.own_pid_env.push_back("LISTEN_PID");
      }
    }
    if (is_main && s.fsm->watchdog_interval().count() > 0 &&
        s.fsm->watchdog_interval() != kInfinity) {
      add_env("WATCHDOG_USEC", std::to_string(s.fsm->watchdog_interval().count()));
      plan.own_pid_env.push_back("WATCHDOG_PID");
    }
    if (list == CommandList::kStop || list == CommandList::kStopPost) {
      // As systemd: how the service ended, for ExecStop= and ExecStopPost=.
      add_env("SERVICE_RESULT", ResultName(s.fsm->result()));
      if (s.last_exit && s.last_exit->at_monotonic >= s.started_monotonic) {
        const ExitStatus& st = s.last_exit->status;
        add_env("EXIT_CODE", st.exited ? "exited" : st.core_dumped ? "dumped" : "killed");
        add_env("EXIT_STATUS",
                st.exited ? std::to_string(st.code) : SignalName(st.signal));
      }
    }
    plan.argv = ExpandCommand(cmd, env);
    if (plan.argv.empty())
      return what + " (" + cmd.source + "): command line is empty after variable expansion";
    plan.env = std::move(envv);

    // '+' and '!' commands keep supd's identity (systemd's "full privileges" / "no setuid").
    const std::vector<std::string>& extra_groups = spec.exec.supplementary_groups;
    if (!cmd.full_privileges && !cmd.no_setuid &&
        (s.user || !spec.group.empty() || !extra_groups.empty())) {
      uid_t uid = s.user ? s.user->uid : geteuid();
      gid_t gid = s.user ? s.user->gid : getegid();
      if (!spec.group.empty()) {
        auto g = LookupGroup(spec.group);
        if (!g.ok()) return "Group=" + spec.group + ": " + g.error().message;
        gid = *g;
      }
      // Unprivileged supd running a unit with its own User=: nothing to switch.
      const bool same = uid == geteuid() && gid == getegid();
      if (!same || geteuid() == 0) {
        plan.uid = uid;
        plan.gid = gid;
      }
      // Root sets the groups of User= (none without it) plus SupplementaryGroups=; an
      // unprivileged supd only tries when SupplementaryGroups= asks, and then fails loudly.
      if (geteuid() == 0 || !extra_groups.empty()) {
        auto groups =
            PlanSupplementaryGroups(s.user && geteuid() == 0 ? &*s.user : nullptr, extra_groups);
        if (!groups.ok()) return groups.error().message;
        plan.groups = std::move(*groups);
      }
    }
    if (auto settings = PlanExecSettings(spec.exec, cmd.full_privileges, &plan); !settings.ok())
      return settings.error().message;
    plan.working_directory = spec.working_directory;
    if (plan.working_directory == "~") {
      plan.working_directory = s.user ? s.user->home : (getenv("HOME") ? getenv("HOME") : "/");
    }
    plan.working_directory_optional = spec.working_directory_optional;

    // StandardOutput=/StandardError=: supd's log (a pipe per stream), journald, a file, null.
    auto targets = OpenOutputTargets(spec, journal.get());
    if (!targets.ok()) return targets.error().message;
    s.output_warnings = targets->warnings;
    const bool out_log = targets->out_to_log && s.log;
    const bool err_log = targets->err_to_log && s.log;
    int out_pipe[2] = {-1, -1};
    int err_pipe[2] = {-1, -1};
    if (out_log && pipe2(out_pipe, O_CLOEXEC) < 0)
      return ErrnoError("pipe2 for stdout of " + what).message;
    UniqueFd out_r(out_pipe[0]), out_w(out_pipe[1]);
    if (err_log && pipe2(err_pipe, O_CLOEXEC) < 0)
      return ErrnoError("pipe2 for stderr of " + what).message;
    UniqueFd err_r(err_pipe[0]), err_w(err_pipe[1]);
    // Bound for the log but it could not be opened: supd's own stderr (the reason is in status).
    plan.stdout_fd = out_log ? out_w.get()
                     : targets->out_to_log ? STDERR_FILENO
                     : targets->out        ? targets->out.get()
                                           : -1;
    plan.stderr_fd = err_log ? err_w.get()
                     : targets->err_to_log ? STDERR_FILENO
                     : targets->err        ? targets->err.get()
                                           : -1;

    UniqueFd cgroup_procs, cgroup_dir;
    if (!s.cgroup.empty()) {
      auto fd = OpenCgroupProcs(s.cgroup);
      if (!fd.ok()) return fd.error().message;
      cgroup_procs = std::move(*fd);
      plan.cgroup_procs_fd = cgroup_procs.get();
      auto dir = OpenCgroupDir(s.cgroup);
      if (!dir.ok()) return dir.error().message;
      cgroup_dir = std::move(*dir);
      plan.cgroup_dir_fd = cgroup_dir.get();
    }
    std::vector<UniqueFd> v1_procs;  // the instance's v1 cgroups (hybrid host), entered in the child
    if (const InstanceResources* ir = s.cgroup.empty() ? nullptr : resources.Find(s.cgroup)) {
      for (const auto& [controller, dir] : ir->v1_dirs) {
        auto fd = OpenCgroupProcs(dir);
        if (!fd.ok()) return fd.error().message;
        plan.extra_cgroup_procs_fds.push_back(fd->get());
        v1_procs.push_back(std::move(*fd));
      }
    }
    auto spawned = Spawn(plan);
    if (!spawned.ok()) return spawned.error().message;
    auto proc = std::make_unique<Proc>();
    proc->sp = std::move(*spawned);
    proc->path = cmd.path;
    proc->working_directory = plan.working_directory;
    const pid_t pid = proc->sp.pid;
    if (out_log) proc->out_reader = OutputReader::Start(io, std::move(out_r), s.log, pid, "out");
    if (err_log) proc->err_reader = OutputReader::Start(io, std::move(err_r), s.log, pid, "err");
    s.pgids.push_back(pid);
    spdlog::debug("{}: spawned {} pid {}", s.name, what, pid);

    const std::string name = s.name;
    watcher.Watch(pid, proc->sp.pidfd.get(),
                  [this, name, pid, is_main](const ExitStatus& st) { OnExit(name, pid, is_main, st); });
    if (is_main && (spec.type == ServiceType::kExec || spec.type == ServiceType::kNotify)) {
      // Readiness of Type=exec: the exec-status pipe reaches EOF once execve succeeded.
      proc->exec_wait = std::make_unique<asio::posix::stream_descriptor>(io, proc->sp.exec_status.get());
      proc->exec_wait->async_wait(
          asio::posix::stream_descriptor::wait_read,
          [this, name, pid](const boost::system::error_code& ec) {
            if (ec) return;
            OnExecStatusReadable(name, pid);
          });
    }
    std::unique_ptr<Proc>& slot = is_main ? s.main : s.control;
    Abandon(s, slot);  // never expected: the FSM spawns into a free slot
    slot = std::move(proc);
    return "";
  }

  void OnExecStatusReadable(const std::string& name, pid_t pid) {
    Service* s = Find(name);
    if (!s || !s->main || s->main->sp.pid != pid) return;
    const ExecStatus st = s->main->ReadExec();
    if (st.kind == ExecStatus::Kind::kExecuted) Dispatch(*s, s->fsm->OnMainExecOk());
    // kFailed: the exit follows and carries the reason. kPending: spurious wake-up; the exit
    // will tell.
  }

  static void ReleaseProc(Proc& p) {
    if (p.exec_wait) {
      p.exec_wait->cancel();
      (void)p.exec_wait->release();  // the UniqueFd in p.sp owns it
    }
  }

  void OnExit(const std::string& name, pid_t pid, bool is_main, const ExitStatus& st) {
    Service* s = Find(name);
    if (!s) return;
    std::unique_ptr<Proc>& slot = is_main ? s->main : s->control;
    if (!slot || slot->sp.pid != pid) {
      if (ForgetOldProcess(*s, pid)) {
        spdlog::info("{}: previous instance's pid {} {}", s->name, pid, DescribeExit(st));
        CheckDrained(*s);
        AfterChange(*s);
        return;
      }
      std::erase_if(s->abandoned, [&](const std::unique_ptr<Proc>& p) {
        if (p->sp.pid != pid) return false;
        ReleaseProc(*p);
        return true;
      });
      return;
    }
    if (is_main && notify) {
      // "READY=1\nMAINPID=<child>" sent right before exiting must count before the exit does,
      // as systemd gives its notify fd priority over SIGCHLD. It may change s->main.
      notify->Drain();
      s = Find(name);
      if (!s) return;
      if (!s->main || s->main->sp.pid != pid) {
        // No longer the main process (MAINPID= moved it to `abandoned`): just forget it.
        std::erase_if(s->abandoned, [&](const std::unique_ptr<Proc>& p) {
          if (p->sp.pid != pid) return false;
          ReleaseProc(*p);
          return true;
        });
        spdlog::debug("{}: former main process {} exited", name, pid);
        return;
      }
    }
    std::unique_ptr<Proc>& live_slot = is_main ? s->main : s->control;
    std::unique_ptr<Proc> proc = std::move(live_slot);
    ReleaseProc(*proc);
    // Its last words go to the log before its exit is recorded (the pipe and the pidfd become
    // readable together, in no particular order).
    if (proc->out_reader) proc->out_reader->DrainNow();
    if (proc->err_reader) proc->err_reader->DrainNow();
    const ExecStatus es = proc->ReadExec();
    const std::string exec_error = es.kind == ExecStatus::Kind::kFailed ? es.error : "";
    const Usec now = Now();
    if (is_main) {
      if (es.kind == ExecStatus::Kind::kExecuted && s->fsm->phase() == Phase::kStart &&
          (s->spec->type == ServiceType::kExec || s->spec->type == ServiceType::kNotify)) {
        Dispatch(*s, s->fsm->OnMainExecOk());
      }
      LastExit le;
      le.status = st;
      le.pid = pid;
      if (proc->err_reader) le.excerpt = proc->err_reader->Excerpt();
      le.reason = exec_error.empty() ? DescribeExit(st) : exec_error;
      const std::string oom = OomReason(*s, st);
      if (!oom.empty()) le.reason = oom;
      const Phase p = s->fsm->phase();
      if ((p == Phase::kStopSigkill || p == Phase::kFinalSigkill) && !s->fsm->cause().empty())
        le.reason += " (" + s->fsm->cause() + ")";
      le.at_realtime = RealtimeUsec();
      le.at_monotonic = now.count();
      spdlog::log(s->fsm->state() == State::kStopping ? spdlog::level::info : spdlog::level::warn,
                  "{}: main process {} {}", s->name, pid, le.reason);
      s->last_exit = le;
      Dispatch(*s, s->fsm->OnMainExited(st, exec_error, now, oom));
    } else {
      if (!exec_error.empty() || !st.exited || st.code != 0)
        spdlog::warn("{}: control process {} ({}) {}", s->name, pid, proc->path,
                     exec_error.empty() ? DescribeExit(st) : exec_error);
      Dispatch(*s, s->fsm->OnControlExited(st, exec_error, now));
    }
  }

  // "killed by the OOM killer (MemoryMax=64M)" when the kernel's OOM killer ended the main
  // process (SIGKILL and an oom_kill count in the instance's memory cgroup); when it killed
  // other processes of the instance, the exit says so after its own reason. "" otherwise.
  std::string OomReason(const Service& s, const ExitStatus& st) {
    if (s.cgroup.empty()) return "";
    const uint64_t kills = resources.OomKills(s.cgroup);
    if (kills == 0) return "";
    const InstanceResources* ir = resources.Find(s.cgroup);
    const std::string limit =
        ir && !ir->memory_max_text.empty() ? " (MemoryMax=" + ir->memory_max_text + ")" : "";
    if (!st.exited && st.signal == SIGKILL) return "killed by the OOM killer" + limit;
    return DescribeExit(st) + "; the OOM killer killed " + std::to_string(kills) +
           " process(es) of the service" + limit;
  }

  // Which service a process belongs to: its main or control process, its cgroup, or one of its
  // process groups. nullptr if none.
  // `own` caches the process's cgroup (CgroupOfPid): read here only when the pid is no main or
  // control process, because reading /proc/PID/cgroup costs more than all the rest of a notify
  // datagram (on a hybrid host it lists every hierarchy): a flood from a main process was
  // absorbed at 62k datagrams/s with it, 300k/s without.
  Service* ServiceOfPid(pid_t pid, std::optional<std::string>& own, bool* is_main,
                        bool* is_control) {
    *is_main = *is_control = false;
    for (auto& [n, s] : services) {
      if (s->main && s->main->sp.pid == pid) {
        *is_main = true;
        return s.get();
      }
      if (s->control && s->control->sp.pid == pid) {
        *is_control = true;
        return s.get();
      }
    }
    if (cgroups) {
      if (!own) own = CgroupOfPid(pid);
      // The service's cgroup or one below it (any of its instances).
      for (auto& [n, s] : services)
        if (CgroupPathWithin(*own, cgroups->path() + "/" + n, cgroups->mount())) return s.get();
      return nullptr;
    }
    const pid_t pgid = getpgid(pid);
    for (auto& [n, s] : services) {
      if (pgid > 0 && std::find(s->pgids.begin(), s->pgids.end(), pgid) != s->pgids.end())
        return s.get();
    }
    return nullptr;
  }

  // Whether pid belongs to the service's current instance (not to one an overlap restart set
  // aside): its instance cgroup, or without cgroups one of its process groups.
  bool InCurrentInstance(const Service& s, pid_t pid, std::optional<std::string>& own) {
    if (cgroups) {
      if (!own) own = CgroupOfPid(pid);
      return CgroupPathWithin(*own, s.cgroup, cgroups->mount());
    }
    const pid_t pgid = getpgid(pid);
    return pgid > 0 && std::find(s.pgids.begin(), s.pgids.end(), pgid) != s.pgids.end();
  }

  void RefuseNotify(const NotifyCredentials& cred, const std::string& why) {
    ++notify_refused;
    const int64_t now = MonotonicUsec();
    if (now - notify_refused_logged_at < 1000000) return;  // at most one line a second
    notify_refused_logged_at = now;
    spdlog::warn("notify message from pid {} (uid {}) refused: {} ({} refused so far)", cred.pid,
                 cred.uid, why, notify_refused);
  }

  void OnNotify(const NotifyMessage& m, const NotifyCredentials& cred, std::vector<UniqueFd> fds) {
    bool is_main = false, is_control = false;
    std::optional<std::string> own;
    Service* s = ServiceOfPid(cred.pid, own, &is_main, &is_control);
    if (s == nullptr || !s->fsm) {
      RefuseNotify(cred, "the sender belongs to no service");
      return;
    }
    if (!is_main && !is_control && !InCurrentInstance(*s, cred.pid, own)) {
      // A process of an instance set aside or draining (overlap restart): its STOPPING=1 or
      // READY=1 must not steer the new instance.
      RefuseNotify(cred, s->name + ": the sender belongs to a previous instance");
      return;
    }
    switch (s->spec->notify_access) {
      case NotifyAccess::kNone:
        RefuseNotify(cred, s->name + " has NotifyAccess=none");
        return;
      case NotifyAccess::kMain:
        if (!is_main) {
          RefuseNotify(cred, s->name + " has NotifyAccess=main and the sender is not its main "
                                       "process");
          return;
        }
        break;
      case NotifyAccess::kExec:
        if (!is_main && !is_control) {
          RefuseNotify(cred, s->name + " has NotifyAccess=exec and the sender is neither its "
                                       "main nor its control process");
          return;
        }
        break;
      case NotifyAccess::kAll:
        break;
    }
    // BARRIER=1: closing the fds (when `fds` goes) is the whole answer.
    if (m.barrier) return;
    if (m.fdstore_remove && m.fdname) {
      const size_t before = s->fdstore.size();
      std::erase_if(s->fdstore, [&](const auto& e) { return e.first == *m.fdname; });
      spdlog::debug("{}: FDSTOREREMOVE: closed {} fds named {}", s->name,
                    before - s->fdstore.size(), *m.fdname);
    }
    if (m.fdstore && !fds.empty()) {
      const std::string name = m.fdname.value_or("stored");
      for (auto& fd : fds) {
        if (s->fdstore.size() >= s->spec->file_descriptor_store_max) {
          spdlog::warn("{}: FDSTORE=1 refused: the store is full (FileDescriptorStoreMax={})",
                       s->name, s->spec->file_descriptor_store_max);
          break;  // the rest are closed with `fds`
        }
        s->fdstore.emplace_back(name, std::move(fd));
      }
    }
    if (m.status) s->status_text = *m.status;
    if (m.errno_value) s->status_errno = *m.errno_value;
    if (m.mainpid) ChangeMainPid(*s, *m.mainpid, is_main || cred.uid == 0);
    Actions acts;
    auto add = [&](Actions more) { acts.insert(acts.end(), more.begin(), more.end()); };
    // systemd's precedence: STOPPING over READY over RELOADING.
    if (m.stopping) {
      add(s->fsm->OnStopping());
    } else if (m.ready) {
      if (m.reloading) add(s->fsm->OnReloading());
      add(s->fsm->OnReady());
    } else if (m.reloading) {
      add(s->fsm->OnReloading());
    }
    if (m.watchdog_usec) add(s->fsm->OnWatchdogUsec(*m.watchdog_usec));
    if (m.watchdog_ping) add(s->fsm->OnWatchdogPing());
    if (m.extend_timeout) add(s->fsm->OnExtendTimeout(*m.extend_timeout));
    Dispatch(*s, std::move(acts));
    if (m.watchdog_trigger) {
      if (Service* again = Find(s->name))
        Dispatch(*again, again->fsm->OnWatchdogTimeout(Now(), /*triggered=*/true));
    }
  }

  // MAINPID=: another process of the service becomes the main one (forking-style programs).
  void ChangeMainPid(Service& s, pid_t pid, bool sender_trusted) {
    if (!sender_trusted) {
      spdlog::warn("{}: MAINPID={} ignored: only the main process or root may send it", s.name,
                   pid);
      return;
    }
    if (s.main && s.main->sp.pid == pid) return;
    // systemd accepts MAINPID= only while the service has a main process to replace.
    const State st = s.fsm->state();
    if (!s.fsm->main_alive() || !s.main ||
        (st != State::kStarting && st != State::kRunning && st != State::kReloading)) {
      spdlog::warn("{}: MAINPID={} ignored: the service is {} without a main process to replace",
                   s.name, pid, StateName(st));
      return;
    }
    if (s.control && s.control->sp.pid == pid) {
      spdlog::warn("{}: MAINPID={} ignored: that is the control process", s.name, pid);
      return;
    }
    // A former main process named again: take it back as it is (still watched, same pidfd).
    for (auto it = s.abandoned.begin(); it != s.abandoned.end(); ++it) {
      if ((*it)->sp.pid != pid) continue;
      std::unique_ptr<Proc> back = std::move(*it);
      s.abandoned.erase(it);
      s.abandoned.push_back(std::move(s.main));
      s.main = std::move(back);
      spdlog::info("{}: main process is again {} (MAINPID=)", s.name, pid);
      return;
    }
    bool is_main = false, is_control = false;
    std::optional<std::string> own;
    if (ServiceOfPid(pid, own, &is_main, &is_control) != &s || !InCurrentInstance(s, pid, own)) {
      spdlog::warn("{}: MAINPID={} ignored: that process does not belong to the service", s.name,
                   pid);
      return;
    }
    const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
    if (pidfd < 0) {
      spdlog::warn("{}: MAINPID={} ignored: {}", s.name, pid,
                   ErrnoError("pidfd_open").message);
      return;
    }
    auto proc = std::make_unique<Proc>();
    proc->sp.pid = pid;
    proc->sp.pidfd.reset(pidfd);
    proc->path = s.main ? s.main->path : "";
    proc->exec.kind = ExecStatus::Kind::kExecuted;
    spdlog::info("{}: main process is now {} (MAINPID=)", s.name, pid);
    // The old main process is no longer the service's main: its exit is just reaped.
    if (s.main) {
      spdlog::debug("{}: former main process {} is left to exit", s.name, s.main->sp.pid);
      s.abandoned.push_back(std::move(s.main));
    }
    const std::string name = s.name;
    watcher.Watch(pid, pidfd,
                  [this, name, pid](const ExitStatus& st) { OnExit(name, pid, true, st); });
    s.main = std::move(proc);
  }

  void SendSignal(Service& s, KillTarget target, int sig) {
    auto report = [&](const Result<void>& r) {
      if (!r.ok()) spdlog::warn("{}: {}", s.name, r.error().message);
    };
    switch (target) {
      case KillTarget::kMain:
        if (s.main) report(SignalProcess(s.main->sp, sig));
        break;
      case KillTarget::kControl:
        if (s.control) report(SignalProcess(s.control->sp, sig));
        break;
      case KillTarget::kAll:
        if (s.main) report(SignalProcess(s.main->sp, sig));
        if (s.control) report(SignalProcess(s.control->sp, sig));
        if (!s.cgroup.empty()) {
          report(SignalCgroup(s.cgroup, sig));
        } else {
          for (pid_t pg : s.pgids) report(SignalProcessGroup(pg, sig));
        }
        for (const auto& cg : s.stale_cgroups) report(SignalCgroup(cg, sig));
        break;
    }
  }

  // Tells the FSM once nothing of the instance is left.
  void CheckEmpty(Service& s) {
    if (!s.fsm || !s.fsm->waiting_for_empty() || s.main || s.control) return;
    if (s.fsm->main_alive() || s.fsm->control_alive()) return;  // its exit event is on the way
    std::erase_if(s.pgids, [](pid_t pg) { return !ProcessGroupExists(pg); });
    if (!s.pgids.empty()) return;
    if (!s.cgroup.empty()) {
      auto empty = CgroupIsEmpty(s.cgroup);
      if (!empty.ok()) {
        // Unknown is not empty: better a stop that waits for its timeout than a restart on top
        // of a live instance.
        spdlog::warn("{}: {}", s.name, empty.error().message);
        return;
      }
      if (!*empty) return;
    }
    Actions acts = s.fsm->OnAllGone(Now());
    if (!acts.empty()) Dispatch(s, std::move(acts));
  }

  void AfterChange(Service& s) {
    const State st = s.fsm->state();
    if (st != s.last_state) {
      spdlog::info("{}: {} -> {}{}", s.name, StateName(s.last_state), StateName(st),
                   s.fsm->cause().empty() || st == State::kRunning || st == State::kStarting
                       ? ""
                       : " (" + s.fsm->cause() + ")");
      s.last_state = st;
      s.since_realtime = RealtimeUsec();
      s.since_monotonic = MonotonicUsec();
    }
    if (st == State::kStopped || st == State::kFailed) {
      MaybeSwapSpec(s);
      if (!s.fdstore.empty()) {
        spdlog::info("{}: stopped; closing {} stored fds", s.name, s.fdstore.size());
        s.fdstore.clear();
      }
      ArmActivationFor(s.name);  // idempotent: arms only what is not armed yet
      // An empty cgroup is removed; one that still holds processes (KillMode=process) stays.
      auto empty = s.cgroup.empty() ? Result<bool>(false) : CgroupIsEmpty(s.cgroup);
      if (empty.ok() && *empty && !s.main && !s.control && s.abandoned.empty() &&
          RemoveInstanceCgroup(s.cgroup).ok())
        s.cgroup.clear();
    }
    ResolveWaiters(s);
    CheckEmpty(s);
    if (s.removed) ForgetIfRemoved(s.name);
    if (shutting_down && !shutdown_done_called && AllDead()) {
      shutdown_done_called = true;
      asio::post(io, shutdown_done);
    }
  }

  bool AllDead() const {
    for (auto& [n, s] : services) {
      if (!s->fsm) continue;
      const State st = s->fsm->state();
      if (st != State::kStopped && st != State::kFailed) return false;
      if (s->main || s->control || s->detached || !s->draining.empty()) return false;
    }
    return true;
  }

  void ResolveWaiters(Service& s) {
    if (s.waiters.empty()) return;
    const State st = s.fsm->state();
    std::vector<Waiter> keep;
    using Outcome = std::pair<bool, std::string>;
    std::vector<std::pair<Waiter, Outcome>> done;
    for (auto& w : s.waiters) {
      if (w.kind == Waiter::Kind::kStop) {
        if ((st == State::kStopped || st == State::kFailed) && !s.main && !s.control &&
            !s.detached && s.draining.empty()) {
          done.emplace_back(std::move(w), Outcome{true, ""});
        } else {
          keep.push_back(std::move(w));
        }
        continue;
      }
      if (w.kind == Waiter::Kind::kReload) {
        if (s.fsm->reloads_done() > w.attempts_before) {
          if (s.fsm->last_reload_failed())
            done.emplace_back(std::move(w),
                              Outcome{false, s.name + ": reload failed: " + s.fsm->cause()});
          else
            done.emplace_back(std::move(w), Outcome{true, ""});
        } else if (st != State::kRunning && st != State::kReloading) {
          done.emplace_back(
              std::move(w),
              Outcome{false, s.name + ": reload interrupted: the service is " + StateName(st)});
        } else {
          keep.push_back(std::move(w));
        }
        continue;
      }
      if (s.fsm->start_attempts() <= w.attempts_before) {
        keep.push_back(std::move(w));
        continue;
      }
      switch (st) {
        case State::kRunning:
          if (w.overlaps_failed_before != UINT64_MAX &&
              s.fsm->overlaps_failed() > w.overlaps_failed_before) {
            done.emplace_back(std::move(w), Outcome{false, s.name + ": " + s.fsm->cause()});
          } else if (s.fsm->overlap_pending()) {
            keep.push_back(std::move(w));
          } else {
            done.emplace_back(std::move(w), Outcome{true, ""});
          }
          break;
        case State::kStopped:
          // A skipped start (Condition*=) or a oneshot that finished: not a failure. A stop
          // that cancelled the start is.
          if (s.fsm->condition_skipped() || s.fsm->result() == ServiceResult::kExecCondition ||
              (!s.fsm->stop_requested() && s.fsm->result() == ServiceResult::kSuccess)) {
            done.emplace_back(std::move(w), Outcome{true, s.fsm->cause()});
          } else {
            done.emplace_back(std::move(w),
                              Outcome{false, s.name + ": the start was cancelled by a stop"});
          }
          break;
        case State::kFailed:
          done.emplace_back(
              std::move(w),
              Outcome{false, s.name + " failed: " +
                                 (s.fsm->cause().empty() ? std::string(ResultName(s.fsm->result()))
                                                         : s.fsm->cause())});
          break;
        case State::kBackoff:
          done.emplace_back(
              std::move(w),
              Outcome{false, s.name + " failed to start and will be restarted: " + s.fsm->cause()});
          break;
        default:
          keep.push_back(std::move(w));
      }
    }
    s.waiters = std::move(keep);
    for (auto& [w, r] : done) w.done(r.first, r.second);
  }

  // ---------------------------------------------------------------- status

  json StatusOf(const Service& s, bool privileged) const {
    json j;
    j["name"] = s.name;
    j["unit_path"] = s.unit_path;
    j["description"] = s.spec ? s.spec->description : "";
    j["load_error"] = s.load_error.empty() ? json(nullptr) : json(s.load_error);
    j["enabled"] = Enabled(s);
    if (!s.fsm) {
      j["state"] = "failed";
      j["sub_state"] = "not-loaded";
      j["result"] = "resources";
      j["main_pid"] = nullptr;
      j["control_pid"] = nullptr;
      j["ready"] = false;
      j["restarts"] = 0;
      j["status_text"] = "";
      j["since"] = FormatRfc3339(s.since_realtime);
      j["last_exit"] = nullptr;
      j["warnings"] = json::array();
      j["cause"] = s.load_error;
      return j;
    }
    j["state"] = StateName(s.fsm->state());
    j["sub_state"] = PhaseName(s.fsm->phase());
    j["result"] = ResultName(s.fsm->result());
    j["main_pid"] = s.main ? json(s.main->sp.pid) : json(nullptr);
    j["control_pid"] = s.control ? json(s.control->sp.pid) : json(nullptr);
    j["ready"] = s.fsm->ready();
    j["restarts"] = s.fsm->restarts();
    j["status_text"] = s.status_text;
    if (s.status_errno != 0) {
      const char* name = strerrorname_np(s.status_errno);
      j["status_errno"] = s.status_errno;
      j["status_errno_name"] = name ? name : "";
    }
    j["since"] = FormatRfc3339(s.since_realtime);
    j["since_monotonic_usec"] = s.since_monotonic;
    if (s.fsm->watchdog_interval().count() > 0)
      j["watchdog_usec"] = s.fsm->watchdog_interval().count();
    j["cause"] = s.fsm->cause();
    j["invocation_id"] = s.invocation_id;
    j["type"] = [&] {
      switch (s.spec->type) {
        case ServiceType::kSimple: return "simple";
        case ServiceType::kExec: return "exec";
        case ServiceType::kOneshot: return "oneshot";
        case ServiceType::kNotify: return "notify";
        case ServiceType::kNotifyReload: return "notify-reload";
      }
      return "simple";
    }();
    if (s.last_exit) {
      const LastExit& le = *s.last_exit;
      j["last_exit"] = {
          {"pid", le.pid},
          {"code", le.status.exited ? json(le.status.code) : json(nullptr)},
          {"signal", le.status.exited ? json(nullptr) : json(SigName(le.status.signal))},
          {"at", FormatRfc3339(le.at_realtime)},
          {"at_monotonic_usec", le.at_monotonic},
          {"reason", le.reason},
      };
      // Log content: for privileged peers only, like the log file (0640) and `logs`.
      j["last_exit"]["stderr_excerpt"] = privileged ? json(le.excerpt) : json(nullptr);
    } else {
      j["last_exit"] = nullptr;
    }
    json warnings = json::array();
    for (const auto& w : s.spec->warnings) warnings.push_back(w.ToString());
    if (!s.load_error.empty())
      warnings.push_back("unit file changed but failed to load; still using the previous version: " +
                         s.load_error);
    if (s.next_spec) warnings.push_back("unit file changed; takes effect at the next start");
    if (!s.log_error.empty()) warnings.push_back(s.log_error + " (output goes to supd's stderr)");
    for (const auto& w : s.output_warnings) warnings.push_back(w);
    std::optional<LogWriteStats> log_stats;
    if (s.log) log_stats = s.log->stats();
    if (log_stats && (log_stats->failing || log_stats->dropped_lines > 0))
      warnings.push_back(std::string(log_stats->failing ? "log writes failing: "
                                                        : "log writes failed earlier: ") +
                         log_stats->last_error + " (at " + FormatRfc3339(log_stats->last_error_at) +
                         "); " + std::to_string(log_stats->dropped_lines) + " lines dropped");
    j["warnings"] = warnings;
    j["log_file"] = s.log ? json(s.log->path()) : json(nullptr);
    if (log_stats) {
      j["log"] = {{"file", s.log->path()},
                  {"max_bytes", s.spec->log_max_bytes},
                  {"max_files", s.spec->log_max_files},
                  {"rotations", log_stats->rotations},
                  {"write_failing", log_stats->failing},
                  {"dropped_lines", log_stats->dropped_lines},
                  {"last_write_error", log_stats->last_error.empty()
                                           ? json(nullptr)
                                           : json(log_stats->last_error)},
                  {"last_write_error_at", log_stats->last_error.empty()
                                              ? json(nullptr)
                                              : json(FormatRfc3339(log_stats->last_error_at))}};
    } else {
      j["log"] = nullptr;
    }
    j["cgroup"] = s.cgroup.empty() ? json(nullptr) : json(s.cgroup);
    j["resources"] = ServiceResourcesJson(resources, s.cgroup, s.limits,
                                          s.spec->resources.require_limits, s.go_runtime);
    j["process"] = ProcessSettingsJson(*s.spec);
    // During an overlap restart: the instance still serving, then those being stopped.
    json old = json::array();
    if (s.detached)
      old.push_back({{"pid", s.detached->main ? json(s.detached->main->sp.pid) : json(nullptr)},
                     {"role", "serving until the new instance is ready"}});
    for (const auto& d : s.draining)
      old.push_back({{"pid", d->main ? json(d->main->sp.pid) : json(nullptr)},
                     {"role", "draining"}});
    j["previous_instances"] = old;
    json socks = json::array();
    for (const auto& [n, u] : sockets) {
      const std::string target =
          u.spec ? u.spec->service : n.substr(0, n.size() - std::string(".socket").size()) + ".service";
      if (target != s.name) continue;
      json listen = json::array();
      for (const auto& b : u.bound) listen.push_back({{"listen", b.identity}, {"name", b.fd_name}});
      socks.push_back({{"unit", n},
                       {"listening", listen},
                       {"error", u.error.empty() ? json(nullptr) : json(u.error)}});
    }
    j["sockets"] = socks;
    json store = json::array();
    for (const auto& [name, fd] : s.fdstore) store.push_back(name);
    j["fdstore"] = store;
    if (!cgroups) j["tracking"] = "process-group (" + cgroup_error + ")";
    else j["tracking"] = "cgroup";
    // The log file is 0640: its lines are not for every local user either.
    json tail = json::array();
    if (s.log && privileged)
      for (const auto& l : s.log->Tail()) tail.push_back(l);
    j["log_tail"] = tail;
    return j;
  }

  // ---------------------------------------------------------------- requests

  // Finds a service by name, loading a template instance on first use.
  Service* Resolve(const std::string& raw, std::string* err, bool create_instance) {
    auto n = control::NormalizeServiceName(raw);
    if (!n.ok()) {
      *err = n.error().message;
      return nullptr;
    }
    if (Service* s = Find(*n)) return s;
    // [Install] Alias=: another name for the same service.
    for (auto& [name, svc] : services) {
      if (!svc->spec) continue;
      for (const auto& alias : svc->spec->aliases)
        if (alias == *n) return svc.get();
    }
    if (create_instance && !TemplateNameOf(*n).empty() && !IsTemplate(*n)) {
      struct stat st;
      if (stat(UnitPathFor(*n).c_str(), &st) == 0) {
        Service& s = Create(*n);
        if (!LoadSpec(s)) {
          *err = s.load_error;
          services.erase(*n);
          return nullptr;
        }
        return &s;
      }
    }
    *err = "no such service: " + *n + " (no unit file in " + config.units_dir + ")";
    return nullptr;
  }

  std::vector<std::string> ServiceArgs(const json& args) {
    // Cannot fail: ParseRequest refused any other type of "services" (control::CheckArgs).
    auto names = control::StringListArg(args, "services");
    return names.ok() ? std::move(*names) : std::vector<std::string>{};
  }

  // What the unit sets of the processes' identity, rlimits and capabilities, for status; null
  // where it sets nothing (limits: only the Limit*= it names).
  static json ProcessSettingsJson(const ServiceSpec& spec) {
    const ExecSettings& e = spec.exec;
    json limits = json::object();
    for (int r = 0; r < kResourceLimitCount; ++r)
      if (e.limits[static_cast<size_t>(r)])
        limits[std::string(ResourceLimitDirective(r))] =
            FormatResourceLimit(*e.limits[static_cast<size_t>(r)]);
    char umask[8];
    std::snprintf(umask, sizeof(umask), "%04o", static_cast<unsigned>(e.umask));
    return json{
        {"user", spec.user.empty() ? json(nullptr) : json(spec.user)},
        {"group", spec.group.empty() ? json(nullptr) : json(spec.group)},
        {"supplementary_groups", e.supplementary_groups},
        {"limits", std::move(limits)},
        {"umask", umask},
        {"nice", e.nice ? json(*e.nice) : json(nullptr)},
        {"oom_score_adjust", e.oom_score_adjust ? json(*e.oom_score_adjust) : json(nullptr)},
        // null: the whole set, as inherited.
        {"capability_bounding_set", e.capability_bounding_set == kAllCapabilities
                                        ? json(nullptr)
                                        : json(FormatCapabilitySet(e.capability_bounding_set))},
        {"ambient_capabilities", FormatCapabilitySet(e.ambient_capabilities)},
        {"no_new_privileges", e.no_new_privileges},
    };
  }

  // Every named service, in order; nullopt after replying "not found" for the first unknown name.
  std::optional<std::vector<Service*>> ResolveAll(const std::vector<std::string>& names,
                                                  bool create_instance, const ReplyFn& reply) {
    std::vector<Service*> out;
    for (const auto& n : names) {
      std::string err;
      Service* s = Resolve(n, &err, create_instance);
      if (!s) {
        reply(Reply::Fail(control::kNotFound, err));
        return std::nullopt;
      }
      out.push_back(s);
    }
    return out;
  }

  // Runs `op` on each named service and replies once all are done.
  using DoneFn = std::function<void(bool, std::string)>;
  void ForEachService(const json& args, ReplyFn reply, bool create_instance,
                      const std::function<void(Service&, DoneFn)>& op) {
    const auto names = ServiceArgs(args);
    if (names.empty()) {
      reply(Reply::Fail(control::kBadRequest, "no service named (args.services)"));
      return;
    }
    auto resolved = ResolveAll(names, create_instance, reply);
    if (!resolved) return;
    const std::vector<Service*>& targets = *resolved;
    for (Service* s : targets) {
      if (!s->fsm) {
        reply(Reply::Fail(control::kFailed, s->name + " failed to load: " + s->load_error));
        return;
      }
    }
    struct Pending {
      size_t left;
      std::vector<std::string> errors;
      std::vector<std::string> notes;
      ReplyFn reply;
    };
    auto pending = std::make_shared<Pending>(Pending{targets.size(), {}, {}, std::move(reply)});
    for (Service* s : targets) {
      op(*s, [pending](bool ok, const std::string& msg) {
        if (!ok) {
          pending->errors.push_back(msg);
        } else if (!msg.empty()) {
          pending->notes.push_back(msg);
        }
        if (--pending->left > 0) return;
        if (!pending->errors.empty()) {
          std::string all;
          for (auto& e : pending->errors) all += (all.empty() ? "" : "; ") + e;
          pending->reply(Reply::Fail(control::kFailed, all));
        } else {
          pending->reply(Reply::Ok(json{{"notes", pending->notes}}));
        }
      });
    }
  }

  void AddWaiter(Service& s, Waiter::Kind kind, uint64_t before, DoneFn done) {
    // The answer waits until the service's output so far is in its log file (the log writer
    // thread may lag a little): after `supctl stop`, the last lines are there to read.
    const std::string name = s.name;
    DoneFn after_log = [this, name, done = std::move(done)](bool ok, std::string msg) {
      Service* sv = Find(name);
      if (!sv || !sv->log) {
        done(ok, std::move(msg));
        return;
      }
      AfterLogFlush({sv->log->sink()},
                    [done, ok, msg = std::move(msg)]() mutable { done(ok, std::move(msg)); });
    };
    s.waiters.push_back(Waiter{kind, before, std::move(after_log)});
    ResolveWaiters(s);
  }

  // Runs `fn` on the loop once every record queued so far for `sinks` is in their files, or
  // after `max_wait` if one is given (a hung disk must not hang status). `fn` stays on the loop
  // thread (kept here by id): the writer thread never holds a reply.
  std::map<uint64_t, std::function<void()>> after_flush;
  void AfterLogFlush(const std::vector<std::shared_ptr<LogSink>>& sinks, std::function<void()> fn,
                     std::optional<std::chrono::milliseconds> max_wait = std::nullopt) {
    if (sinks.empty()) {
      fn();
      return;
    }
    const uint64_t id = next_log_request++;
    after_flush.emplace(id, std::move(fn));
    auto run = [this, id] {
      auto it = after_flush.find(id);
      if (it == after_flush.end()) return;  // the other of flush and timeout came first
      auto f = std::move(it->second);
      after_flush.erase(it);
      f();
    };
    if (max_wait) {
      auto timer = std::make_shared<asio::steady_timer>(io, *max_wait);
      timer->async_wait([run, timer](const boost::system::error_code& ec) {
        if (!ec) run();
      });
    }
    log_writer->RunAfterFlush(sinks, [run]() -> std::function<void()> { return run; });
  }

  // ---------------------------------------------------------------- logs

  // A `logs --follow` client: gets every new record of its services until it hangs up.
  struct Follower {
    std::set<std::string> services;
    LogQuery query;
    ReplyFn reply;
    // The history is being read from the files: live records wait here meanwhile, so that
    // none is missing or sent twice (the read covers exactly what was queued before it).
    bool history_pending = false;
    std::vector<std::pair<std::string, LogRecord>> buffered;
    // Of records (text plus kRecordOverhead each); past kFollowMaxUnsent, live records are
    // counted in skipped_pending instead, reported after the buffered ones.
    size_t buffered_bytes = 0;
    uint64_t skipped_pending = 0;
    // Live records not sent yet, each serialised once for all followers, comma-separated. They
    // go out as one reply after the handler that produced them (one read of a pipe gives
    // hundreds), or at once past kFollowBatchBytes: one reply and one write per record cost so
    // much under a flooding service that new followers waited seconds for their first line.
    std::string batch;
    size_t batch_records = 0;
    bool flush_posted = false;
    // A reader that does not keep up (a terminal behind a service writing 100 MB/s) is not cut
    // off: while more than kFollowMaxUnsent bytes wait for its socket, new records are counted
    // instead of queued, and the next reply says how many ("skipped":N).
    std::shared_ptr<control::ConnectionEnd> end;
    uint64_t skipped = 0;
  };
  static constexpr size_t kFollowBatchBytes = 64 * 1024;
  static constexpr size_t kFollowMaxUnsent = 1 << 20;
  static constexpr size_t kRecordOverhead = 128;  // a LogRecord's fields besides its text
  std::map<uint64_t, Follower> followers;
  std::map<uint64_t, ReplyFn> pending_log_reads;  // plain `logs` waiting for the files
  uint64_t next_log_request = 1;

  void OnLogRecord(const std::string& name, const LogRecord& r) {
    if (followers.empty()) return;
    std::string text;  // the record as JSON, made once
    for (auto& [id, f] : followers) {
      if (!f.services.count(name) || !f.query.Matches(r)) continue;
      if (f.history_pending) {
        if (f.buffered_bytes >= kFollowMaxUnsent) {
          ++f.skipped_pending;
          continue;
        }
        f.buffered_bytes += r.text.size() + kRecordOverhead;
        f.buffered.emplace_back(name, r);
        continue;
      }
      if (text.empty()) text = RecordText(name, r);
      QueueForFollower(id, f, text);
    }
  }

  static std::string RecordText(const std::string& name, const LogRecord& r) {
    return RecordJson(name, r).dump(-1, ' ', false, json::error_handler_t::replace);
  }

  void QueueForFollower(uint64_t fid, Follower& f, const std::string& record_text) {
    if (!f.batch.empty()) f.batch += ',';
    f.batch += record_text;
    ++f.batch_records;
    if (f.batch.size() >= kFollowBatchBytes) {
      FlushFollower(fid, f);
      return;
    }
    if (f.flush_posted) return;
    f.flush_posted = true;
    asio::post(io, [this, fid] {
      auto it = followers.find(fid);
      if (it == followers.end()) return;  // hung up meanwhile
      it->second.flush_posted = false;
      FlushFollower(fid, it->second);
    });
  }

  // Sends the batch, or (the client's socket is too far behind) counts it as skipped. `force`:
  // send whatever is unsent (the lines buffered during a history read, which is bounded).
  void FlushFollower(uint64_t fid, Follower& f, bool force = false) {
    if (f.batch.empty() && f.skipped == 0) return;
    if (!force && f.end && f.end->unsent() >= kFollowMaxUnsent) {
      f.skipped += f.batch_records;
      f.batch.clear();
      f.batch_records = 0;
      // The count goes out as soon as the client catches up, even if the service is quiet
      // by then. Posted: this runs inside the server's write completion.
      f.end->OnUnsentBelow(kFollowMaxUnsent, [this, fid] {
        asio::post(io, [this, fid] {
          if (auto it = followers.find(fid); it != followers.end())
            FlushFollower(fid, it->second);
        });
      });
      return;
    }
    std::string raw = "{\"lines\":[";
    raw += f.batch;
    raw += "]";
    if (f.skipped > 0) raw += ",\"skipped\":" + std::to_string(f.skipped);
    raw += "}";
    f.batch.clear();
    f.batch_records = 0;
    f.skipped = 0;
    ReplyFn reply = f.reply;  // the call may end the follower
    reply(Reply::MoreRaw(std::move(raw)));
  }

  // `logs`: the last lines from memory when it holds them, else from the files (read on the
  // log writer thread, which also makes sure every queued line is in them first).
  void HandleLogs(const control::Request& req, const control::Peer& peer, ReplyFn reply) {
    auto q = ParseLogQuery(req.args);
    if (!q.ok()) {
      reply(Reply::Fail(control::kBadRequest, "logs: " + q.error().message));
      return;
    }
    const auto names = ServiceArgs(req.args);
    if (names.empty()) {
      reply(Reply::Fail(control::kBadRequest, "logs: name at least one service"));
      return;
    }
    std::vector<std::pair<std::string, std::vector<LogRecord>>> memory;
    std::vector<std::shared_ptr<LogSink>> sinks;
    std::vector<std::string> sink_names;
    std::vector<std::string> followed;
    bool complete = true;
    auto resolved = ResolveAll(names, /*create_instance=*/false, reply);
    if (!resolved) return;
    for (Service* s : *resolved) {
      followed.push_back(s->name);
      if (!s->log) {
        // Never started, or its log file could not be opened: the file may still exist (from an
        // earlier supd). If it does not, there is nothing to read, and reading creates nothing.
        const std::string path = config.log_dir + "/" + s->name + ".log";
        struct stat st;
        if (::stat(path.c_str(), &st) < 0 && errno == ENOENT) continue;
        auto sink = log_writer->Open(path,
                                     s->spec ? LogFileLimits{s->spec->log_max_bytes,
                                                             s->spec->log_max_files}
                                             : LogFileLimits{});
        if (!sink.ok()) continue;
        s->log = std::make_shared<ServiceLog>(std::move(*sink));
        const std::string name = s->name;
        s->log->on_record = [this, name](const LogRecord& r) { OnLogRecord(name, r); };
      }
      bool c = false;
      memory.emplace_back(s->name, RecentFromMemory(*s->log, *q, &c));
      complete = complete && c;
      sinks.push_back(s->log->sink());
      sink_names.push_back(s->name);
    }
    uint64_t fid = 0;
    if (q->follow) {
      fid = next_log_request++;
      Follower f;
      f.services.insert(followed.begin(), followed.end());
      f.query = *q;
      f.reply = reply;
      f.history_pending = !complete;
      f.end = peer.end;
      followers.emplace(fid, std::move(f));
      // Erased from a posted handler: the close may come from inside OnLogRecord's loop.
      peer.end->OnClose([this, fid] { asio::post(io, [this, fid] { followers.erase(fid); }); });
    }
    if (complete) {
      json res = MergeRecords(memory, q->lines);
      reply(q->follow ? Reply::More(std::move(res)) : Reply::Ok(std::move(res)));
      return;
    }
    const uint64_t rid = next_log_request++;
    if (!q->follow) pending_log_reads.emplace(rid, reply);
    log_writer->RunAfterFlush(
        sinks, [this, rid, fid, sinks, sink_names, q = *q]() -> std::function<void()> {
          // On the writer thread: only the files and the data captured here.
          std::vector<std::pair<std::string, std::vector<LogRecord>>> per;
          std::string err;
          for (size_t i = 0; i < sinks.size(); ++i)
            per.emplace_back(sink_names[i], ReadLastRecords(sinks[i]->Files(), q, &err));
          return [this, rid, fid, per = std::move(per), err, lines = q.lines]() {
            OnLogsRead(rid, fid, per, err, lines);
          };
        });
  }

  void OnLogsRead(uint64_t rid, uint64_t fid,
                  const std::vector<std::pair<std::string, std::vector<LogRecord>>>& per,
                  const std::string& err, size_t lines) {
    json res = MergeRecords(per, lines);
    if (!err.empty()) res["error"] = err;
    if (fid) {
      auto it = followers.find(fid);
      if (it == followers.end()) return;  // hung up meanwhile
      Follower& f = it->second;
      f.history_pending = false;
      auto buffered = std::move(f.buffered);
      f.buffered.clear();
      f.buffered_bytes = 0;
      ReplyFn reply = f.reply;  // the call may end the follower (erased in a posted handler)
      reply(Reply::More(std::move(res)));
      // The lines that came meanwhile follow the history whole (the history itself may be over
      // the unsent limit); those that did not fit in the buffer were after them.
      for (auto& [name, r] : buffered) {
        if (!f.batch.empty()) f.batch += ',';
        f.batch += RecordText(name, r);
        ++f.batch_records;
      }
      FlushFollower(fid, f, /*force=*/true);
      f.skipped += f.skipped_pending;
      f.skipped_pending = 0;
      FlushFollower(fid, f);  // tells of those now, or once the client has caught up
      return;
    }
    auto it = pending_log_reads.find(rid);
    if (it == pending_log_reads.end()) return;
    ReplyFn reply = std::move(it->second);
    pending_log_reads.erase(it);
    reply(Reply::Ok(std::move(res)));
  }

  void HandleRequest(const control::Request& req, const control::Peer& peer, ReplyFn reply) {
    const std::string& cmd = req.cmd;
    if (cmd == "logs") {
      HandleLogs(req, peer, std::move(reply));
      return;
    }
    if (cmd == "ping" || cmd == "version") {
      reply(Reply::Ok(json{
          {"version", SUPD_VERSION}, {"pid", getpid()}, {"cgroups", ResourceHostJson(resources)}}));
      return;
    }
    if (cmd == "status" || cmd == "list") {
      json out = json::array();
      const auto names = ServiceArgs(req.args);
      std::vector<std::shared_ptr<LogSink>> sinks;
      if (names.empty()) {
        for (auto& [n, s] : services) {
          out.push_back(StatusOf(*s, peer.privileged));
          if (s->log) sinks.push_back(s->log->sink());
        }
      } else {
        auto resolved = ResolveAll(names, /*create_instance=*/false, reply);
        if (!resolved) return;
        for (Service* s : *resolved) {
          out.push_back(StatusOf(*s, peer.privileged));
          if (s->log) sinks.push_back(s->log->sink());
        }
      }
      // What status reports (an exit, say) is in the log files when the answer arrives: the
      // answer waits for the log writer, at most 200 ms.
      AfterLogFlush(sinks, [reply, out = std::move(out)]() mutable { reply(Reply::Ok(std::move(out))); },
                    std::chrono::milliseconds(200));
      return;
    }
    if (cmd == "check") {
      json out = json::array();
      for (auto& [n, s] : services) {
        json w = json::array();
        if (s->spec)
          for (const auto& d : s->spec->warnings) w.push_back(d.ToString());
        out.push_back({{"name", n},
                       {"path", s->unit_path},
                       {"error", s->load_error.empty() ? json(nullptr) : json(s->load_error)},
                       {"warnings", w}});
      }
      reply(Reply::Ok(out));
      return;
    }
    if (cmd == "cat") {
      const auto names = ServiceArgs(req.args);
      json out = json::array();
      auto resolved = ResolveAll(names, /*create_instance=*/false, reply);
      if (!resolved) return;
      for (Service* s : *resolved) {
        // supd reads as root: show a unit only to who could read the file itself.
        struct stat st;
        if (!peer.privileged &&
            (stat(s->unit_path.c_str(), &st) < 0 || (st.st_mode & S_IROTH) == 0)) {
          reply(Reply::Fail(control::kPermissionDenied,
                            "permission denied: " + s->unit_path + " is not world-readable"));
          return;
        }
        std::ifstream in(s->unit_path);
        std::stringstream ss;
        ss << in.rdbuf();
        out.push_back({{"name", s->name}, {"path", s->unit_path}, {"text", ss.str()}});
      }
      reply(Reply::Ok(out));
      return;
    }
    if (cmd == "daemon-reload") {
      ReloadUnits();
      reply(Reply::Ok());
      return;
    }
    if (cmd == "start" || cmd == "restart") {
      if (shutting_down) {
        reply(Reply::Fail(control::kFailed, "supd is shutting down"));
        return;
      }
      const bool restart = cmd == "restart";
      auto hard_arg = control::BoolArg(req.args, "hard", false);
      if (!hard_arg.ok()) {
        reply(Reply::Fail(control::kBadRequest, hard_arg.error().message));
        return;
      }
      const bool hard = *hard_arg;
      ForEachService(req.args, std::move(reply), /*create_instance=*/true,
                     [this, restart, hard](Service& s, DoneFn done) {
                       if (restart && (s.fsm->overlap_pending() || s.detached)) {
                         done(false, "a restart of " + s.name + " is already in progress");
                         return;
                       }
                       // Sockets held by supd: overlap the new instance with the old one.
                       // Sockets held by supd, or fds parked in its store.
                       bool has_sockets = !s.fdstore.empty();
                       for (const SocketUnit* u : SocketsOf(s.name))
                         if (!u->bound.empty()) has_sockets = true;
                       if (restart && !hard && has_sockets &&
                           s.fsm->CanOverlapRestart().empty()) {
                         const uint64_t before = s.fsm->start_attempts();
                         const uint64_t failed_before = s.fsm->overlaps_failed();
                         Dispatch(s, s.fsm->OverlapRestart(Now()));
                         s.waiters.push_back(
                             Waiter{Waiter::Kind::kStart, before, std::move(done)});
                         s.waiters.back().overlaps_failed_before = failed_before;
                         ResolveWaiters(s);
                         return;
                       }
                       MaybeSwapSpec(s);
                       const uint64_t before = s.fsm->start_attempts();
                       const State st = s.fsm->state();
                       if (!restart && st == State::kRunning) {
                         done(true, "");
                         return;
                       }
                       const uint64_t wait_after =
                           (!restart && st == State::kStarting) ? before - 1 : before;
                       Dispatch(s, restart ? s.fsm->Restart(Now()) : s.fsm->Start(Now()));
                       AddWaiter(s, Waiter::Kind::kStart, wait_after, std::move(done));
                     });
      return;
    }
    if (cmd == "stop") {
      ForEachService(req.args, std::move(reply), false, [this](Service& s, DoneFn done) {
        Dispatch(s, s.fsm->Stop());
        AddWaiter(s, Waiter::Kind::kStop, 0, std::move(done));
      });
      return;
    }
    if (cmd == "reload") {
      ForEachService(req.args, std::move(reply), false, [this](Service& s, DoneFn done) {
        const std::string why = s.fsm->CanReload();
        if (!why.empty()) {
          done(false, s.name + " cannot be reloaded: " + why);
          return;
        }
        const uint64_t before = s.fsm->reloads_done();
        Dispatch(s, s.fsm->Reload());
        AddWaiter(s, Waiter::Kind::kReload, before, std::move(done));
      });
      return;
    }
    if (cmd == "reset-failed") {
      ForEachService(req.args, std::move(reply), false, [this](Service& s, const DoneFn& done) {
        Dispatch(s, s.fsm->ResetFailed());
        done(true, "");
      });
      return;
    }
    if (cmd == "kill") {
      auto sig_arg = control::SignalArg(req.args, "signal", SIGTERM);
      auto whom = control::StringArg(req.args, "whom");
      if (!sig_arg.ok() || !whom.ok() || (*whom && **whom != "all" && **whom != "main")) {
        reply(Reply::Fail(control::kBadRequest, !sig_arg.ok() ? sig_arg.error().message
                                                : "\"whom\" must be \"all\" or \"main\""));
        return;
      }
      const int sig = *sig_arg;
      const bool main_only = *whom && **whom == "main";
      ForEachService(req.args, std::move(reply), false,
                     [this, sig, main_only](Service& s, const DoneFn& done) {
                       if (!s.main && !s.control) {
                         done(false, s.name + " has no running process");
                         return;
                       }
                       SendSignal(s, main_only ? KillTarget::kMain : KillTarget::kAll, sig);
                       done(true, "");
                     });
      return;
    }
    // ParseRequest lets only the commands above through; this is a bug guard, not a feature gap.
    reply(Reply::Fail(control::kUnknownCommand, "unknown command '" + cmd + "'"));
  }

  void StopAll(std::function<void()> done) {
    shutting_down = true;
    shutdown_done = [this, done = std::move(done)] {
      if (cgroups) cgroups->RemoveAll();
      resources.RemoveAll();
      for (const auto& [n, u] : sockets) RemoveSocketFiles(u);
      done();
    };
    std::vector<std::string> names;
    for (auto& [n, s] : services) names.push_back(n);
    for (const auto& n : names) {
      Service* s = Find(n);
      if (s && s->fsm) Dispatch(*s, s->fsm->Stop());
    }
    if (!shutdown_done_called && AllDead()) {
      shutdown_done_called = true;
      asio::post(io, shutdown_done);
    }
  }

  asio::io_context& io;
  ManagerConfig config;
  // Writes every service's log file on its own thread; declared early so that it outlives the
  // services (and their ServiceLogs) and is joined after them.
  std::unique_ptr<LogWriter> log_writer = std::make_unique<LogWriter>(io);
  std::unique_ptr<JournalStreams> journal = SystemJournal();
  ProcessWatcher watcher;
  // Besides root's, the group that may have write access to unit files (lib/unit/unit_trust.h).
  const std::optional<gid_t> trusted_group;
  std::unique_ptr<NotifyServer> notify;  // null: no notify socket (see notify_error)
  std::string notify_error;
  uint64_t notify_refused = 0;           // datagrams from processes not allowed to send
  int64_t notify_refused_logged_at = 0;  // for rate-limiting that log line
  std::optional<CgroupTree> cgroups;  // unset: process groups only
  std::unique_ptr<LeftoverStopper> leftovers;  // a previous supd's services, stopped at start
  std::string cgroup_error;           // why there is no cgroup tracking
  ResourceControl resources;          // limits: where each controller is, per-instance state
  std::map<std::string, std::unique_ptr<Service>> services;
  std::map<std::string, SocketUnit> sockets;  // by unit name; bound once, held
  bool shutting_down = false;
  bool shutdown_done_called = false;
  std::function<void()> shutdown_done;
};

Manager::Manager(asio::io_context& io, ManagerConfig config)
    : impl_(std::make_unique<Impl>(io, std::move(config))) {}
Manager::~Manager() = default;
void Manager::LoadUnits(std::function<void()> loaded) {
  if (!impl_->cgroups) {
    impl_->LoadUnits();
    loaded();
    return;
  }
  // Services of a previous supd on this state directory that died without stopping them
  // (SIGKILL, crash) still run in its cgroups: stop them first, so that no service runs twice
  // and their ports are free for ours.
  impl_->leftovers = std::make_unique<LeftoverStopper>(
      impl_->io, impl_->cgroups->path(), [this, loaded = std::move(loaded)] {
        if (impl_->shutting_down) return;
        impl_->LoadUnits();
        loaded();
      });
}
void Manager::ReloadUnits() { impl_->ReloadUnits(); }
void Manager::StopAll(std::function<void()> done) { impl_->StopAll(std::move(done)); }
void Manager::HandleRequest(const control::Request& req, const control::Peer& peer,
                            control::ReplyFn reply) {
  impl_->HandleRequest(req, peer, std::move(reply));
}
size_t Manager::service_count() const { return impl_->services.size(); }

}  // namespace supd
