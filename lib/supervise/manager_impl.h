// The Manager's insides, shared by manager.cc (wiring, loading, snapshots) and
// manager_ops.cc (operations and jobs). Not for use outside lib/supervise/.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "lib/supervise/dependency_graph.h"
#include "lib/supervise/enablement.h"
#include "lib/supervise/manager.h"
#include "lib/supervise/saved_state.h"
#include "lib/supervise/service.h"
#include "lib/supervise/unit_catalog.h"

namespace supd {

class ActionRunner;
class JournalStreams;
class NotifyRouter;
class NotifyServer;
class SocketUnits;

struct Manager::Impl {
  Impl(boost::asio::io_context& io, ManagerConfig config, HostParts host);
  ~Impl();

  // manager.cc
  Service* Find(const std::string& name);
  Service& Create(const std::string& name);
  bool LoadSpec(Service& s);
  void MaybeSwapSpec(Service& s);
  bool Enabled(const Service& s) const;  // linked in a .wants/ or .requires/ directory
  void LoadAll(std::function<void()> loaded);
  void Reload(std::function<void(ReloadSummary)> done);
  void ForgetIfRemoved(const std::string& name);
  void AfterChange(Service& s);
  // Counts a restart of `s` and tells the observers.
  void CountRestart(Service& s, RestartReason reason);
  void CheckShutdown();
  ServiceSnapshot SnapshotOf(const Service& s) const;
  SocketSnapshot SocketSnapshotOf(const std::string& name);

  // manager_ops.cc
  struct Target {
    std::string name;
    Service* service = nullptr;  // null for a socket unit or a target
    bool is_target = false;
  };
  Result<Target> ResolveTarget(const std::string& unit, bool create_instance);
  bool Refuse(const Result<Target>& t, const JobDone& done, bool need_loaded);
  void StartService(Service& s);
  // OnFailure=/OnSuccess=: `s` went from `from` to `to`; starts the units the spec names for
  // that change (on the next loop turn), with MONITOR_* in their environment.
  // How a state change ends the service's run, for OnFailure=/OnSuccess= and
  // FailureAction=/SuccessAction=.
  enum class RunEnd { kNone, kFailed, kSucceeded };
  RunEnd EndOf(const Service& s, State from, State to) const;
  void TriggerUnits(Service& s, State from, State to);
  // FailureAction=/SuccessAction=: tells the exit handler (posted) when one fires.
  void TriggerExitAction(Service& s, State from, State to);
  void AddJob(Service& s, Job job, const JobOptions& options, JobDone done);
  void ResolveJobs(Service& s);
  // Answers a job once the service's output so far is in its log file (at most 1 s later).
  void Reply(Service& s, JobDone done, JobResult r);
  void StopAllNow(std::function<void()> done);

  // manager_deps.cc: dependencies and ordering (systemd's transactions and job queue, cut to
  // what supd's units need). A unit has at most one DepJob; a job waits (kWaiting) until the
  // units it is ordered against have no job of the kind it must follow, then runs (kRunning:
  // the service's FSM, a socket unit's bind, a target's flag) until it ends.
  struct DepJob {
    enum class Kind { kStart, kStop, kRestart } kind = Kind::kStart;
    bool running = false;
    bool restart_stopped = false;  // a restart past its stop half: now it is a start
    bool count_restart = false;    // a restart of an active unit: counted as manual
    Job token;                     // the FSM job of a running start/stop of a service
    struct Client {
      JobDone done;
      JobOptions options;
      std::unique_ptr<Timer> timeout;
    };
    std::vector<Client> clients;  // waiting for it to end (the anchors of `supctl start`)
    bool StopHalf() const { return kind == Kind::kStop || (kind == Kind::kRestart && !restart_stopped); }
  };
  // A target: active from its start until its stop (no process).
  struct TargetUnit {
    std::string name;
    std::shared_ptr<const TargetSpec> spec;  // null: a standard target without a file
    std::string path, load_error;
    bool active = false;
    bool removed = false;
    int64_t since_realtime = 0;
  };
  TargetUnit* FindTarget(const std::string& name);  // also a standard target, made on first use
  void LoadTargets();
  void RebuildGraph();
  bool UnitExists(const std::string& name);
  // systemctl's "Unit NAME not found." with what helps: the loaded name it is a typo of, or
  // where supd looked.
  std::string NotFound(const std::string& name);
  bool Active(const std::string& name);    // running (services), listening, active targets
  bool Inactive(const std::string& name);  // stopped or failed, not listening, not active
  std::string StateWord(const std::string& name);
  const UnitDeps* DepsOf(const std::string& name);
  const InstallSection* InstallOf(const std::string& name);
  // Queues a start (stop, restart) of `name` and what it pulls in, answering `done` (if set)
  // when the unit's own job ends. Returns false (and answers) when refused at once.
  void QueueStart(const std::string& name, const JobOptions& options, JobDone done);
  // `pump`: run what can run now (false: the caller queues more stops first, then pumps).
  void QueueStop(const std::string& name, const JobOptions& options, JobDone done,
                 bool pump = true);
  void QueueRestart(const std::string& name, bool hard, const JobOptions& options, JobDone done);
  // Whether a restart of `name` takes others with it (Requires=/BindsTo=/PartOf= on it).
  bool RestartPropagates(const std::string& name);
  void AttachClient(DepJob& j, const std::string& name, const JobOptions& options, JobDone done);
  void PumpJobs();
  bool Runnable(const std::string& name, const DepJob& j);
  void RunJob(const std::string& name);
  void RunServiceJob(Service& s, bool stop);
  void RunTargetJob(TargetUnit& t, bool stop);
  // A start being planned: the jobs it adds, in order, before they are merged into dep_jobs.
  struct StartPlan {
    std::vector<std::pair<std::string, DepJob::Kind>> jobs;
    std::set<std::string> starting, stopping;
  };
  // Why `name` cannot start ("" if it can), filling `plan` with what its start takes.
  std::string PlanStart(const std::string& name, StartPlan* plan);
  // Puts a planned start's jobs in the queue (joining, replacing or skipping what is there).
  void MergePlan(const std::string& name, const StartPlan& plan);
  // Removes the job of `name` (its unit went), answering its clients with `r`; the starts
  // waiting on a start of it that Require= it fail.
  void DropJob(const std::string& name, const JobResult& r);
  void CheckJob(const std::string& name);  // a running job of a service: done yet?
  void FinishJob(const std::string& name, bool ok, const JobResult& r);
  void FailWaitingDependents(const std::string& name, const std::string& why);
  // After a unit changed: BindsTo= peers, Upholds=, StopWhenUnneeded= (on the next turn).
  void UnitChanged(const std::string& name);
  void CheckUpkeep();
  void ApplyPresets();
  std::string EnableStateWord(const std::string& name);
  TargetSnapshot TargetSnapshotOf(TargetUnit& t);

  // Constant after construction (the parts are wired in the constructor).
  Manager* manager = nullptr;  // the owner, for operations the Manager starts itself
  ManagerConfig config;
  HostParts host;
  // Writes every service's log file on its own thread; declared before the services so that it
  // outlives them (and their ServiceLogs) and is joined after them.
  std::unique_ptr<LogWriter> log_writer;
  std::unique_ptr<JournalStreams> journal;
  UnitCatalog catalog;
  std::unique_ptr<NotifyServer> notify;  // null: no notify socket (see notify_error)
  std::string notify_error;
  std::unique_ptr<SocketUnits> sockets;
  std::unique_ptr<ActionRunner> runner;
  std::unique_ptr<NotifyRouter> router;

  // Touched only on the io_context thread.
  std::map<std::string, std::unique_ptr<Service>> services;
  std::map<std::string, TargetUnit> targets;
  std::map<std::string, DepJob> dep_jobs;
  UnitLinks links;         // as read from the units directory
  UnitLinks preset_links;  // presets that could not be written (a read-only directory)
  DependencyGraph graph;
  bool pumping = false, repump = false, upkeep_posted = false;
  std::set<std::string> busy;  // services not fully stopped: StopAll waits for this to empty
  std::vector<ManagerObserver*> observers;
  int64_t started_realtime = 0;  // CLOCK_REALTIME µs when the Manager was made
  bool units_loaded = false;
  // The boot's start jobs (kBootTargets) not yet done; is-system-running says "starting" until
  // they are.
  int boot_jobs_pending = 0;
  bool boot_finished = false;
  bool shutting_down = false;
  bool shutdown_done_called = false;
  std::function<void()> shutdown_done;
  std::function<void(const ExitRequest&)> exit_handler;
  // daemon-reexec (manager_reexec.cc): the main processes whose output readers PauseForExec
  // paused (empty: not paused).
  std::set<pid_t> exec_paused_pids;
  void RestoreService(SavedService& saved);
};

}  // namespace supd
