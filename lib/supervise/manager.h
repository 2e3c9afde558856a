// Manager: owns every unit supd supervises and offers typed operations on them.
//
// It loads the units directory (UnitCatalog), holds the sockets of socket units (SocketUnits),
// runs each service's state machine (ServiceFsm) through the ActionRunner, routes sd_notify
// datagrams (NotifyRouter), and answers operations once they are done (Jobs). It knows nothing
// of the control protocol or of JSON: lib/control/ calls it through this API and words the
// answers; what it tells is plain data (snapshot.h, jobs.h).
//
// Everything runs on one io_context thread; nothing here blocks (NSS lookups and file reads of
// a start run on the BlockingWork worker). Not thread-safe: call it from the loop only.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "lib/base/result.h"
#include "lib/base/unique_fd.h"
#include "lib/notify/notify_message.h"
#include "lib/notify/notify_server.h"
#include "lib/supervise/dependency_graph.h"
#include "lib/supervise/enablement.h"
#include "lib/supervise/host.h"
#include "lib/supervise/jobs.h"
#include "lib/supervise/launch.h"
#include "lib/supervise/snapshot.h"
#include "lib/unit/unit_loader.h"

namespace boost::asio {
class io_context;
}

namespace supd {

class LogSink;
struct SavedState;
class LogWriter;
class ServiceLog;
struct LogRecord;

struct ManagerConfig {
  std::string units_dir;
  std::string log_dir;
  std::string state_dir;
  std::string notify_socket;  // where services send sd_notify datagrams ("" = none)
  // daemon-reexec: the notify socket a previous supd bound at notify_socket, taken over
  // instead of binding (-1: bind).
  int adopt_notify_fd = -1;
  SpecifierContext specifiers;
};

// The host side of a Manager. The default (MakeRealHost) is the real kernel on the io_context;
// tests pass fakes. The Manager owns them.
struct HostParts {
  std::unique_ptr<Loop> loop;
  std::unique_ptr<ProcessControl> process;
  std::unique_ptr<CgroupControl> cgroups;
  std::unique_ptr<Launcher> launcher;
  std::shared_ptr<BlockingWork> worker;  // shared: lib/control/ uses it too
  // Null: probes never report (a unit with a startup or readiness probe then never becomes
  // ready); tests that do not probe leave it so.
  ProbeFactory probes;
};

// What a daemon-reload did.
struct ReloadSummary {
  std::vector<std::string> added, changed, removed;  // unit names
  std::vector<std::string> failed;                   // units whose file did not load
};

// Told what happens, for the log, `supctl events` and metrics. Callbacks run on the loop, after
// the change; an observer must not call back into the Manager from inside them.
// For one crash with Restart=, the order is: OnExit, OnStateChange(… → backoff), and when the
// restart delay is over OnRestart, OnStateChange(backoff → starting).
class ManagerObserver {
 public:
  virtual ~ManagerObserver() = default;
  virtual void OnStateChange(const std::string& unit, State from, State to, const Cause& cause,
                             ServiceResult result) {}
  // The main process of a service's current instance ended (exit.oom: an OOM kill).
  virtual void OnExit(const std::string& unit, const LastExit& exit) {}
  // A restart begins: an automatic one once its delay is over (the reason is how the last run
  // ended), or one asked for (manual, overlap). Counted in UnitCounters::restarts first.
  virtual void OnRestart(const std::string& unit, RestartReason reason) {}
  // A service became ready (running, and its readiness probe passes) or stopped being ready.
  virtual void OnReadyChange(const std::string& unit, bool ready) {}
  // A daemon-reload (SIGHUP or `supctl daemon-reload`) was applied.
  virtual void OnReload(const ReloadSummary& summary) {}
  // A socket unit started or stopped listening, or failed.
  virtual void OnSocketChange(const std::string& unit, SocketState to, const std::string& error) {}
  // One record of a service's output, right after it was queued for the log file.
  virtual void OnLogRecord(const std::string& service, const LogRecord& record) {}
};

using UnitSnapshot = std::variant<ServiceSnapshot, SocketSnapshot, TargetSnapshot>;

// A unit's FailureAction= or SuccessAction= fired: supd as a whole is to exit.
struct ExitRequest {
  std::string unit;
  const char* directive = "FailureAction";  // or "SuccessAction"
  UnitAction action = UnitAction::kExit;    // kExit or kExitForce
  int status = 0;                           // supd's exit status, 0..255
};

class Manager {
 public:
  Manager(boost::asio::io_context& io, const ManagerConfig& config);
  Manager(boost::asio::io_context& io, ManagerConfig config, HostParts host);
  ~Manager();
  Manager(const Manager&) = delete;
  Manager& operator=(const Manager&) = delete;

  // Reads the units directory and starts what is enabled ([Install] WantedBy=). When a previous
  // supd on this state directory left services running (it was SIGKILLed), they are stopped
  // first; `loaded` runs on the loop once the units are loaded (not if supd is shut down
  // before).
  void LoadUnits(std::function<void()> loaded);
  bool units_loaded() const;
  // SIGHUP / daemon-reload: new units load (and start if enabled), removed ones stop and are
  // forgotten, changed services take effect at their next start, changed socket units are
  // applied at once (unchanged sockets stay open).
  // `done` runs on the loop once applied (socket units may need the worker first).
  void ReloadUnits(std::function<void(ReloadSummary)> done);
  // Stops every service in parallel, each with its own timeouts; `done` runs once all are
  // stopped. Start requests are refused from then on.
  void StopAll(std::function<void()> done);
  // Sends `signal` to every process of every service (each instance, and cgroups left from
  // before): the end of a stop that took too long, or FailureAction=exit-force. Returns the
  // services that had processes. Their state machines then see the exits as usual.
  std::vector<std::string> KillAll(int signal);
  // Runs `handler` (posted on the loop) when a unit's FailureAction=/SuccessAction= fires.
  // Not while supd is stopping: a unit that fails or stops during the stop of everything asks
  // nothing more.
  void SetExitHandler(std::function<void(const ExitRequest&)> handler);
  // What `supctl is-system-running` and /readyz say.
  SystemState system_state() const;

  // daemon-reexec (manager_reexec.cc; the daemon's side is daemon/reexec.cc).
  // What keeps the units from being saved now ("" when at rest): "web.service is starting
  // (start-pre); a queued job of db.service".
  std::string NotAtRest() const;
  // Stops reading the services' output (what they write meanwhile stays in the pipes) and
  // runs `flushed` on the loop once what was read is in the log files (at most ~2 s later).
  // The loop runs in between: ask NotAtRest() again before SaveState.
  void PauseForExec(std::function<void()> flushed);
  void ResumeAfterFailedExec();
  // Fills the units' part of `state` (services, sockets, targets, boot_finished, the notify
  // socket). Fails, changing nothing, when not at rest.
  [[nodiscard]] Result<void> SaveState(SavedState* state);
  // A re-executed supd, instead of LoadUnits: loads the units directory and takes back what
  // `state` holds (processes, pipes, held sockets, fd stores, timers with the time they had
  // left); starts and stops nothing. `loaded` runs on the loop once done.
  void RestoreUnits(SavedState state, std::function<void()> loaded);

  // Operations on one unit: "web", "web.service", "web.socket", "worker@3", or an Alias=.
  // `done` runs exactly once, on the loop (possibly before the call returns).
  void Start(const std::string& unit, const JobOptions& options, JobDone done);
  void Stop(const std::string& unit, const JobOptions& options, JobDone done);
  // `hard`: stop, then start, even where an overlap restart is possible.
  void Restart(const std::string& unit, bool hard, const JobOptions& options, JobDone done);
  void Reload(const std::string& unit, const JobOptions& options, JobDone done);
  // `main_only`: only the main process (kill-whom main), else every process of the service.
  void Kill(const std::string& unit, int signal, bool main_only, const JobDone& done);
  void ResetFailed(const std::string& unit, const JobDone& done);

  // Enablement (lib/supervise/enablement.h) of each named unit ("web" = "web.service"); the
  // dependency graph is rebuilt at once, so a start of a target then pulls the unit in. Fails
  // on the first unit that is not found or cannot be changed (the changes so far stay made
  // and are returned in the error's text, as systemctl leaves them).
  [[nodiscard]] Result<std::vector<EnableChange>> Enable(const std::vector<std::string>& units);
  [[nodiscard]] Result<std::vector<EnableChange>> Disable(const std::vector<std::string>& units);
  // The canonical name and enablement state of each named unit; a unit without a file:
  // error "Unit NAME not found."
  [[nodiscard]] Result<std::vector<std::pair<std::string, EnableState>>> IsEnabled(
      const std::vector<std::string>& units);
  // `list-dependencies`: the tree below (or, reverse, above) `unit`, each node with its state
  // word (TargetSnapshot::members' words).
  struct DependencyNode {
    std::string name;
    std::string state;
    std::vector<DependencyNode> children;
  };
  [[nodiscard]] Result<DependencyNode> ListDependencies(const std::string& unit, bool reverse,
                                                        bool all);

  // The canonical name of a unit ("web" → "web.service"), loading a template instance on first
  // use when `create_instance`. Errors: a bad name, "Unit … not found.", a failed load.
  [[nodiscard]] Result<std::string> Resolve(const std::string& unit, bool create_instance);
  // Snapshots of the named units, or of every unit (services, then socket units, each in name
  // order, then targets) when `units` is empty. Fails on the first name that is not a unit.
  [[nodiscard]] Result<std::vector<UnitSnapshot>> Snapshot(const std::vector<std::string>& units);
  DaemonSnapshot Daemon() const;
  std::vector<UnitCheck> Check() const;
  // The file a unit was loaded from, and its drop-ins, for `cat`.
  [[nodiscard]] Result<std::vector<std::string>> UnitFiles(const std::string& unit);

  // A service's log (memory and file). `open_existing`: open it if a file exists from before
  // (never creates one). Null when there is none.
  std::shared_ptr<ServiceLog> LogOf(const std::string& service, bool open_existing);
  LogWriter& log_writer();
  // The log sinks of `units` (all when empty), for answers that wait for the writer.
  std::vector<std::shared_ptr<LogSink>> LogSinks(const std::vector<std::string>& units) const;

  // One sd_notify datagram, as the notify socket hands it over (public for tests, which have
  // no real senders).
  void HandleNotify(const NotifyMessage& message, const NotifyCredentials& cred,
                    std::vector<UniqueFd> fds);
  uint64_t notify_refused() const;
  // Why supd has no notify socket ("" when it has one, or none was asked for).
  const std::string& notify_error() const;

  void Subscribe(ManagerObserver* observer);
  void Unsubscribe(ManagerObserver* observer);

  size_t service_count() const;

  struct Impl;  // manager.cc; the parts in lib/supervise/ see it

 private:
  std::unique_ptr<Impl> impl_;
};

// The real host on `io` (lib/proc, lib/cgroup): what Manager(io, config) uses. `tree_name` is
// the cgroup subtree of this supd (one per state directory).
HostParts MakeRealHost(boost::asio::io_context& io, const std::string& tree_name);

}  // namespace supd
