// SocketUnits: the .socket units, as units — each one listening, stopped or failed, holding
// the sockets it bound for as long as it listens, across every stop, start and restart of its
// service.
//
//   - Sync() (supd's start, daemon-reload) loads the units directory's socket units: a new one
//     is bound; a changed one keeps every socket whose address did not change (never closed, so
//     it never refuses a connection), binds the new addresses and closes the gone ones; one that
//     no longer loads keeps what it holds (status says why); a removed one is closed.
//   - Start/Stop/Restart as `systemctl start|stop|restart x.socket`: stop closes the sockets (a
//     running service keeps the fds it inherited, and the caller says so, as systemctl warns).
//   - An enabled socket unit ([Install] WantedBy=) starts its service at the first connection
//     while the service is down: the connection waits in the backlog meanwhile.
//   - FdsFor() gives a service the fds of its listening socket units, in unit-name order, for
//     LISTEN_FDS.
// The owner lookups of SocketUser=/SocketGroup= (NSS) run on the BlockingWork worker; binding
// runs on the loop.
//
// Not responsible for: starting services (the `activate` hook does), the socket syscalls
// themselves (lib/socket/listener.h).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "lib/socket/listener.h"
#include "lib/supervise/host.h"
#include "lib/supervise/launch.h"
#include "lib/supervise/saved_state.h"
#include "lib/supervise/snapshot.h"
#include "lib/supervise/unit_catalog.h"

namespace supd {

class SocketUnits {
 public:
  struct Hooks {
    // Whether a waiting connection should start `service` now (loaded, stopped or failed).
    std::function<bool(const std::string& service)> wants_activation;
    // A connection waits on a socket of `socket`: start `service`.
    std::function<void(const std::string& socket, const std::string& service)> activate;
    // A socket unit changed state (for the log and observers).
    std::function<void(const std::string& socket, SocketState to, const std::string& error)>
        changed;
    // Whether a socket unit is enabled (linked: lib/supervise/enablement.h). Unset: it has
    // [Install] WantedBy=.
    std::function<bool(const std::string& socket)> is_enabled;
  };
  struct SyncResult {
    std::vector<std::string> added, changed, removed, failed;
  };

  SocketUnits(Loop& loop, BlockingWork& worker, Hooks hooks);
  ~SocketUnits();
  SocketUnits(const SocketUnits&) = delete;
  SocketUnits& operator=(const SocketUnits&) = delete;

  // See the file comment. `done` runs on the loop once every unit has settled.
  void Sync(const UnitCatalog& catalog, std::function<void(SyncResult)> done);

  bool Has(const std::string& name) const { return units_.count(name) > 0; }
  std::vector<std::string> Names() const;

  // Binds (a listening unit: nothing to do). `done(error)`: "" when listening.
  void Start(const std::string& name, std::function<void(std::string error)> done);
  // Closes the sockets (the files of RemoveOnStop= go). Returns the service it feeds.
  std::string Stop(const std::string& name);

  // The fds a new main process of `service` inherits (borrowed: valid until the next Sync,
  // Stop or Start), in unit-name order; `error` gets the first bind error of a socket unit of
  // the service ("" when none failed): the service is not started without its sockets.
  std::vector<PassedFd> FdsFor(const std::string& service, std::string* error) const;
  bool HoldsFor(const std::string& service) const;  // some socket unit of it listens

  // The service hit its start limit: its enabled, listening socket units fail (systemd's
  // service-start-limit-hit), so that a waiting connection does not activate it for ever.
  void ServiceHitStartLimit(const std::string& service);
  // A failed socket unit becomes stopped (reset-failed); `start` binds it again.
  void ResetFailed(const std::string& name);
  // The state of a socket unit (kStopped if there is no such unit).
  SocketState StateOf(const std::string& name) const;
  // The service a socket unit passes its sockets to.
  std::string ServiceOf(const std::string& name) const;

  // Arms the activation waits of the enabled socket units of `service` (or of all units when
  // `service` is empty) that are not armed yet.
  void ArmActivation(const std::string& service = "");

  SocketSnapshot Snapshot(const std::string& name) const;
  bool IsEnabled(const std::string& name) const;
  std::vector<SocketSnapshot> SnapshotsFor(const std::string& service) const;
  std::vector<UnitCheck> Check() const;

  // supd's exit: closes every socket, removing the files of RemoveOnStop= units.
  void CloseAll();

  // daemon-reexec. Save(): every unit's state and the fds it holds (kept across exec).
  // Adopt(): before the first Sync() of a re-executed supd, the units as they were; that Sync
  // takes each one's held fds instead of binding (a unit whose file changed meanwhile keeps
  // them until the next daemon-reload applies the change, as a running unit's sockets do).
  std::vector<SavedSocketUnit> Save() const;
  // The listening units whose file now asks for other sockets than those held (changed since
  // the last Sync): a re-executed supd could not tell, so daemon-reexec refuses until a
  // daemon-reload applied the change. "" when none.
  std::string ChangedOnDisk(const UnitCatalog& catalog) const;
  void Adopt(std::vector<SavedSocketUnit> saved);

  struct Unit;  // socket_units.cc

 private:
  void Bind(Unit& u, const SocketOwner& owner);
  void ApplyChanged(Unit& u, std::shared_ptr<const SocketSpec> spec, const SocketOwner& owner);
  void Close(Unit& u);
  void TakeOver(Unit& u, std::shared_ptr<const SocketSpec> spec);
  void CloseUnclaimed();
  // Closes and forgets the units whose file is no longer among `names`.
  void DropRemoved(const std::set<std::string>& names, SyncResult& result);
  void DropActivation(Unit& u);
  void Fail(Unit& u, std::string why);
  void SetState(Unit& u, SocketState s, std::string error);
  void OnActivation(const std::string& name);
  void Resolve(std::vector<std::shared_ptr<const SocketSpec>> specs,
               std::function<void(std::map<std::string, Result<SocketOwner>>)> then);

  Loop& loop_;
  BlockingWork& worker_;
  Hooks hooks_;
  std::map<std::string, std::unique_ptr<Unit>> units_;
  std::map<std::string, SavedSocketUnit> adopted_;  // Adopt(), until the next Sync()
  // Guards callbacks from the worker against a SocketUnits that is gone.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace supd
