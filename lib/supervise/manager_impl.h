// The Manager's insides, shared by manager.cc (wiring, loading, snapshots) and
// manager_ops.cc (operations and jobs). Not for use outside lib/supervise/.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "lib/supervise/manager.h"
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
  static bool Enabled(const Service& s);
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
    Service* service = nullptr;  // null for a socket unit
  };
  Result<Target> ResolveTarget(const std::string& unit, bool create_instance);
  bool Refuse(const Result<Target>& t, const JobDone& done, bool need_loaded);
  void StartService(Service& s);
  // OnFailure=/OnSuccess=: `s` went from `from` to `to`; starts the units the spec names for
  // that change (on the next loop turn), with MONITOR_* in their environment.
  void TriggerUnits(Service& s, State from, State to);
  void AddJob(Service& s, Job job, const JobOptions& options, JobDone done);
  void ResolveJobs(Service& s);
  // Answers a job once the service's output so far is in its log file (at most 1 s later).
  void Reply(Service& s, JobDone done, JobResult r);
  void StopAllNow(std::function<void()> done);

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
  std::set<std::string> busy;  // services not fully stopped: StopAll waits for this to empty
  std::vector<ManagerObserver*> observers;
  int64_t started_realtime = 0;  // CLOCK_REALTIME µs when the Manager was made
  bool units_loaded = false;
  bool shutting_down = false;
  bool shutdown_done_called = false;
  std::function<void()> shutdown_done;
};

}  // namespace supd
