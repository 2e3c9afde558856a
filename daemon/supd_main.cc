// supd: the supervisor daemon. Argument parsing and wiring only; the work is in lib/.
#include <fcntl.h>
#include <signal.h>
#include <malloc.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <thread>

#include "daemon/reexec.h"
#include "daemon/shutdown.h"
#include "lib/base/event_loop.h"
#include "lib/base/sd_notify.h"
#include "lib/base/unique_fd.h"
#include "lib/base/user_db.h"
#include "lib/control/event_log.h"
#include "lib/control/handler.h"
#include "lib/control/paths.h"
#include "lib/control/server.h"
#include "lib/log/daemon_log.h"
#include "lib/metrics/collect.h"
#include "lib/metrics/exposition.h"
#include "lib/metrics/http_server.h"
#include "lib/metrics/textfile.h"
#include "lib/proc/spawn.h"
#include "lib/supervise/manager.h"
#include "lib/supervise/real_host.h"
#include "lib/unit/unit_loader.h"

namespace {

// Creates dir (and parents) with `mode` for the last component if it does not exist.
bool MakeDirs(const std::string& dir, mode_t mode, std::string* err) {
  std::error_code ec;
  if (std::filesystem::is_directory(dir, ec)) return true;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    *err = "create directory " + dir + ": " + ec.message();
    return false;
  }
  ::chmod(dir.c_str(), mode);
  return true;
}

std::string Hostname() {
  char buf[256] = {};
  if (gethostname(buf, sizeof(buf) - 1) < 0) return "localhost";
  return buf;
}

struct Options {
  std::string units_dir;
  std::string socket_path;
  std::string log_dir;
  std::string state_dir;
  std::string log_level = "info";
  std::string admin_group = "supd";
  std::string metrics_listen;   // "" = no metrics listener
  std::string metrics_textfile; // "" = no textfile
  unsigned metrics_textfile_interval = 15;  // seconds
  std::string stop_timeout_text = "25s";
  std::chrono::microseconds stop_timeout{std::chrono::seconds(25)};  // 0: no cap
  // daemon-reexec (daemon/reexec.h): the state handed over, the old binary, a dry run.
  int deserialize_fd = -1;
  int fallback_fd = -1;
  int check_state_fd = -1;
};

// The command line, over the defaults: nullopt to go on, or the exit code (--help, --version,
// a bad option).
std::optional<int> ParseOptions(int argc, char** argv, const supd::DefaultPaths& defaults,
                                Options* o) {
  CLI::App app{"supd: a supervisor for Go services that reads systemd unit files"};
  o->units_dir = defaults.units_dir;
  o->socket_path = defaults.control_socket;
  o->log_dir = defaults.log_dir;
  o->state_dir = defaults.state_dir;
  app.add_option("--units", o->units_dir, "directory of .service unit files")
      ->capture_default_str();
  app.add_option("--control-socket", o->socket_path, "control socket path")->capture_default_str();
  app.add_option("--log-dir", o->log_dir, "directory for service logs")->capture_default_str();
  app.add_option("--state-dir", o->state_dir, "directory for supd's state")->capture_default_str();
  app.add_option("--log-level", o->log_level, "debug, info, warn or error")
      ->capture_default_str()
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical"}));
  app.add_option("--admin-group", o->admin_group, "group whose members may change services")
      ->capture_default_str();
  app.add_option("--metrics-listen", o->metrics_listen,
                 "serve Prometheus metrics at http://ADDRESS:PORT/metrics (an IP address: "
                 "127.0.0.1:9464, [::1]:9464)");
  app.add_option("--metrics-textfile", o->metrics_textfile,
                 "write the metrics to DIR/supd.prom for node_exporter's textfile collector");
  app.add_option("--metrics-textfile-interval", o->metrics_textfile_interval,
                 "seconds between rewrites of DIR/supd.prom")
      ->capture_default_str()
      ->check(CLI::Range(1u, 86400u));
  app.add_option("--stop-timeout", o->stop_timeout_text,
                 "cap on the whole stop of supd (SIGTERM, FailureAction=exit): past it, what is "
                 "left gets SIGKILL. A time span (25s, 1min 30s); 0 or infinity: no cap")
      ->capture_default_str();
  app.add_option(supd::kDeserializeOption, o->deserialize_fd,
                 "(set by daemon-reexec) take over the state the previous supd left in FD")
      ->check(CLI::NonNegativeNumber);
  app.add_option(supd::kFallbackOption, o->fallback_fd,
                 "(set by daemon-reexec) the previous supd's binary, exec'd back if this one "
                 "cannot take over")
      ->check(CLI::NonNegativeNumber);
  app.add_option(supd::kCheckStateOption, o->check_state_fd,
                 "read the state in FD as --deserialize would, print what it holds and exit (0: "
                 "readable)")
      ->check(CLI::NonNegativeNumber);
  app.add_flag_callback("--version", [] {
    std::printf("supd %s\n", SUPD_VERSION);
    std::exit(0);
  }, "print the version");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  auto span = supd::ParseTimeSpan(o->stop_timeout_text);
  if (!span.ok()) {
    std::fprintf(stderr, "--stop-timeout %s: %s\n", o->stop_timeout_text.c_str(),
                 span.error().message.c_str());
    return 2;
  }
  o->stop_timeout = *span;
  // Absolute from here on: services get paths derived from them (NOTIFY_SOCKET beside the
  // control socket) and may run in another working directory.
  for (std::string* path : {&o->units_dir, &o->socket_path, &o->log_dir, &o->state_dir}) {
    if (path->empty()) continue;
    std::error_code ec;
    auto absolute = std::filesystem::absolute(*path, ec);
    if (ec) {
      std::fprintf(stderr, "making %s absolute: %s\n", path->c_str(), ec.message().c_str());
      return 2;
    }
    *path = absolute.lexically_normal().string();
  }
  return std::nullopt;
}

// What supd sets for itself: SIGPIPE, the heap, its fd limit, and that it is a subreaper.
void SetUpProcess() {
  // Writes to a client that hung up must be errors, not a dead supd.
  signal(SIGPIPE, SIG_IGN);
  // A long-running daemon should give back what a burst (a big status reply) took: return
  // freed memory above 64 KiB to the kernel instead of keeping it in the heap.
  mallopt(M_TRIM_THRESHOLD, 64 * 1024);
  mallopt(M_MMAP_THRESHOLD, 64 * 1024);
  // Each running process costs supd a few fds (pidfd, pipes): lift the soft limit to the hard
  // one. Children get the usual 1024 back (see lib/proc/spawn.cc), as systemd does.
  if (struct rlimit rl; getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
      spdlog::warn("setrlimit(RLIMIT_NOFILE, {}): {}", rl.rlim_max, strerror(errno));
  }
  // Orphaned grandchildren (double-forking daemons) become our children, so we can reap them
  // and a stop can find them.
  if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
    spdlog::warn("prctl(PR_SET_CHILD_SUBREAPER): {}; orphans go to init", strerror(errno));
}

// The state directory's lock. A predecessor that was just killed may hold it for a moment
// more (its open files are released as it exits, and a supervisor restarts supd at once): wait
// for it up to 3 s, saying so, before concluding that another supd runs. Before the event loop
// exists, so the waiting blocks nothing else.
bool TakeLock(const supd::UniqueFd& lock, const std::string& state_dir,
              const std::string& lock_path) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  bool said = false;
  while (::flock(lock.get(), LOCK_EX | LOCK_NB) < 0) {
    if (errno != EWOULDBLOCK && errno != EINTR) {
      spdlog::critical("lock {}: {}", lock_path, strerror(errno));
      return false;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      spdlog::critical("another supd is running with state directory {} (lock {} is held)",
                       state_dir, lock_path);
      return false;
    }
    if (!said) {
      spdlog::info("lock {} is held; waiting up to 3 s for the supd holding it to exit",
                   lock_path);
      said = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

// Creates the directories supd writes to and takes the state directory's lock into *lock;
// false (after logging why) when supd cannot go on.
bool PrepareDirectories(const Options& o, supd::UniqueFd* lock) {
  std::string err;
  const std::string socket_dir = std::filesystem::path(o.socket_path).parent_path().string();
  for (const auto& [dir, mode] :
       {std::pair{o.state_dir, 0755}, std::pair{o.log_dir, 0750}, std::pair{socket_dir, 0755}}) {
    if (!dir.empty() && !MakeDirs(dir, mode, &err)) {
      spdlog::critical("{}", err);
      return false;
    }
  }
  // One supd per state directory: a second one would fight over the services.
  const std::string lock_path = o.state_dir + "/supd.lock";
  lock->reset(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (!*lock) {
    spdlog::critical("open {}: {}", lock_path, strerror(errno));
    return false;
  }
  return TakeLock(*lock, o.state_dir, lock_path);
}

// A message to the manager that runs supd, if any; a failure is logged once (a Type=notify
// start that times out, or a watchdog that fires, must have a reason in supd's log).
void Notify(const std::string& state) {
  static bool warned = false;
  const int r = supd::NotifySupervisor(state);
  if (r < 0 && !warned) {
    warned = true;
    spdlog::warn("cannot notify the service manager at NOTIFY_SOCKET={}: {}",
                 std::getenv("NOTIFY_SOCKET"), std::strerror(-r));
  }
}

supd::ManagerConfig MakeManagerConfig(const Options& o, const supd::DefaultPaths& defaults) {
  supd::ManagerConfig cfg;
  cfg.units_dir = o.units_dir;
  cfg.log_dir = o.log_dir;
  cfg.state_dir = o.state_dir;
  // The notify socket sits beside the control socket: "supd.sock" → "supd.notify".
  std::string n = o.socket_path;
  if (n.size() > 5 && n.ends_with(".sock")) n.resize(n.size() - 5);
  cfg.notify_socket = n + ".notify";
  cfg.specifiers.hostname = Hostname();
  cfg.specifiers.runtime_dir = defaults.runtime_dir;
  cfg.specifiers.uid = geteuid();
  // Root's %u and %h need no user database (and supd as PID 1 must not wait on one).
  auto user = supd::ManagerUserSpecifiers(geteuid(), std::getenv("HOME"));
  cfg.specifiers.user_name = std::move(user.name);
  cfg.specifiers.user_home = std::move(user.home);
  return cfg;
}

// supd's own signals: SIGHUP reloads the units; SIGTERM and SIGINT stop everything (Shutdown).
class DaemonSignals {
 public:
  DaemonSignals(boost::asio::io_context& io, supd::Manager& manager, supd::Shutdown& shutdown,
                const std::string& units_dir)
      : manager_(manager),
        shutdown_(shutdown),
        units_dir_(units_dir),
        signals_(io, SIGTERM, SIGINT, SIGHUP) {}

  void Wait() {
    signals_.async_wait([this](const boost::system::error_code& ec, int sig) {
      if (ec) return;
      OnSignal(sig);
      Wait();
    });
  }

 private:
  void OnSignal(int sig) {
    if (sig == SIGHUP) {
      spdlog::info("SIGHUP: reloading units from {}", units_dir_);
      Notify("RELOADING=1");
      manager_.ReloadUnits([this](const supd::ReloadSummary&) {
        // Before the units are loaded, READY=1 comes from LoadUnits in main, not from here.
        if (manager_.units_loaded())
          Notify(fmt::format("READY=1\nSTATUS=supervising {} units", manager_.service_count()));
      });
      return;
    }
    if (!shutdown_.begun()) Notify("STOPPING=1");
    shutdown_.Begin(sig == SIGTERM ? "SIGTERM" : "SIGINT", 0, false);
  }

  supd::Manager& manager_;
  supd::Shutdown& shutdown_;
  const std::string& units_dir_;
  boost::asio::signal_set signals_;
};

// WatchdogSec= on supd's own unit: pings at half the interval from the loop, so a blocked loop
// is exactly what the watchdog catches. Does nothing without one.
class OwnWatchdog {
 public:
  explicit OwnWatchdog(boost::asio::io_context& io) : timer_(io) {
    if (supd::SupervisorWatchdog(&usec_) > 0 && usec_ > 0) Ping();
  }

 private:
  void Ping() {
    Notify("WATCHDOG=1");
    // At most a ping a day: a WatchdogSec= of years must not overflow the timer's nanoseconds.
    constexpr uint64_t kDayUsec = 24ull * 3600 * 1000 * 1000;
    timer_.expires_after(std::chrono::microseconds(std::min(usec_ / 2, kDayUsec)));
    timer_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) Ping();
    });
  }

  boost::asio::steady_timer timer_;
  uint64_t usec_ = 0;
};

// A unit's FailureAction=/SuccessAction= ends supd with its status; /healthz and /readyz (when
// there is a metrics listener) say supd's state.
void WireExitAndHealth(supd::Manager& manager, supd::Shutdown& shutdown,
                       supd::metrics::MetricsHttpServer* metrics_http) {
  manager.SetExitHandler([&shutdown](const supd::ExitRequest& req) {
    if (!shutdown.begun()) Notify("STOPPING=1");
    shutdown.Begin(fmt::format("{}: {}={}", req.unit, req.directive,
                               supd::UnitActionName(req.action)),
                   req.status, req.action == supd::UnitAction::kExitForce);
  });
  if (!metrics_http) return;
  metrics_http->SetHealth([&manager] {
    const supd::SystemState st = manager.system_state();
    return supd::metrics::Health{supd::SystemStateName(st), st == supd::SystemState::kRunning};
  });
}

// `supd --check-state=FD`: what a daemon-reexec's dry run asks of the new binary.
int CheckState(int fd) {
  auto line = supd::CheckStateLine(fd);
  if (!line.ok()) {
    std::fprintf(stderr, "%s\n", line.error().message.c_str());
    return 1;
  }
  std::printf("%s\n", line->c_str());
  return 0;
}

// What the previous supd handed over (--deserialize), if anything. A state that cannot be read
// sends supd back to the previous binary (FailBeforeAnswering): it never returns then.
std::optional<supd::SavedState> TakeOverState(const Options& o,
                                              const std::vector<std::string>& args) {
  if (o.deserialize_fd < 0) return std::nullopt;
  auto state = supd::ReadSavedState(o.deserialize_fd);
  if (!state.ok()) {
    supd::FailBeforeAnswering("read the state (fd " + std::to_string(o.deserialize_fd) +
                                  "): " + state.error().message,
                              o.fallback_fd, args, {o.deserialize_fd});
  }
  spdlog::info("daemon-reexec: taking over from supd {} ({} services, {} socket units)",
               state->writer_version, state->services.size(), state->sockets.size());
  return std::move(*state);
}

// The metrics listener of --metrics-listen (the one the previous supd had, when it handed one
// over). Null without the option.
supd::Result<std::unique_ptr<supd::metrics::MetricsHttpServer>> MakeMetricsServer(
    boost::asio::io_context& io, const Options& o, supd::Manager& manager, int adopt_fd) {
  if (o.metrics_listen.empty()) return std::unique_ptr<supd::metrics::MetricsHttpServer>();
  // Rendered on the loop at each scrape (a few ms for 100 services).
  auto render = [&manager](std::string_view accept) {
    const supd::metrics::Format f = supd::metrics::NegotiateFormat(accept);
    return supd::metrics::Rendered{supd::metrics::ContentType(f),
                                   supd::metrics::Render(supd::metrics::Collect(manager, true), f)};
  };
  if (adopt_fd >= 0)
    return supd::metrics::MetricsHttpServer::Adopt(io, adopt_fd, o.metrics_listen, render);
  return supd::metrics::MetricsHttpServer::Listen(io, o.metrics_listen, render);
}

// The control socket: bound anew, or the one the previous supd handed over.
supd::Result<std::unique_ptr<supd::control::ControlServer>> MakeControlServer(
    boost::asio::io_context& io, const Options& o, const std::optional<supd::SavedState>& saved,
    supd::control::RequestHandler& handler) {
  auto handle = [&handler](const supd::control::Request& req, const supd::control::Peer& peer,
                           supd::control::ReplyFn reply) {
    handler.Handle(req, peer, std::move(reply));
  };
  if (saved) {
    return supd::control::ControlServer::Adopt(io, saved->daemon.control_fd, o.socket_path,
                                               o.admin_group, handle);
  }
  return supd::control::ControlServer::Listen(io, o.socket_path, o.admin_group, handle);
}

// --metrics-textfile's writer; null without the option.
supd::Result<std::unique_ptr<supd::metrics::TextfileWriter>> MakeTextfile(
    boost::asio::io_context& io, const std::shared_ptr<supd::BlockingWork>& worker,
    const Options& o, supd::Manager& manager) {
  if (o.metrics_textfile.empty()) return std::unique_ptr<supd::metrics::TextfileWriter>();
  return supd::metrics::TextfileWriter::Start(
      io, worker, o.metrics_textfile, std::chrono::seconds(o.metrics_textfile_interval),
      [&manager] {
        return supd::metrics::Render(supd::metrics::Collect(manager, false),
                                     supd::metrics::Format::kPrometheusText);
      });
}

// Loads the units, or takes over the previous supd's (after a daemon-reexec); then answers
// requests and tells the service manager READY=1.
void StartUnits(supd::Manager& manager, supd::control::RequestHandler& handler, const Options& o,
                std::optional<supd::SavedState> saved, const std::vector<int>& state_fds,
                uint64_t reexecs) {
  std::string how;
  if (saved && o.fallback_fd >= 0) how = fmt::format(" (daemon-reexec #{})", reexecs);
  if (saved && o.fallback_fd < 0) how = " (the same binary again: a daemon-reexec failed)";
  // READY=1 waits for the units: after a SIGKILL the previous supd's services are stopped
  // first, and a manager told "ready" then would see "supervising 0 units".
  auto loaded = [&manager, &handler, &o, how] {
    // The line comes before the first answer: SetReady answers the waiting requests at once.
    spdlog::info("supd {} ready{}: units {}, control socket {}, logs {}", SUPD_VERSION, how,
                 o.units_dir, o.socket_path, o.log_dir);
    handler.SetReady();
    // Under systemd (Type=notify) supd tells its own manager; elsewhere these are no-ops.
    Notify(fmt::format("READY=1\nSTATUS=supervising {} units", manager.service_count()));
  };
  if (!saved) {
    supd::UnblockDaemonSignals();  // blocked while the threads were made (main)
    return manager.LoadUnits(loaded);
  }
  // The point of no return: from here on this supd owns the state's fds.
  supd::SetCloseOnExec(state_fds);
  supd::UniqueFd state_fd(o.deserialize_fd), old_binary(o.fallback_fd);
  // Signals sent during the exec were held (BlockDaemonSignals): the handlers take them now.
  supd::UnblockDaemonSignals();
  manager.RestoreUnits(std::move(*saved), loaded);
}

}  // namespace

int main(int argc, char** argv) {
  const supd::DefaultPaths defaults = supd::GetDefaultPaths();
  Options options;
  if (auto exit_code = ParseOptions(argc, argv, defaults, &options)) return *exit_code;
  if (options.check_state_fd >= 0) return CheckState(options.check_state_fd);
  // stderr in the foreground; journald (with levels) when systemd connected stderr to it.
  supd::SetUpDaemonLog(options.log_level);
  const std::vector<std::string> args(argv, argv + argc);
  // After a daemon-reexec: the previous supd's state. Until this supd answers, a failure
  // sends it back to the previous binary with that state (FailBeforeAnswering).
  std::optional<supd::SavedState> saved = TakeOverState(options, args);
  std::vector<int> state_fds;
  if (saved) {
    state_fds = supd::FdsOf(*saved);
    state_fds.push_back(options.deserialize_fd);
  }
  auto fail = [&](const std::string& why) {
    if (saved) supd::FailBeforeAnswering(why, options.fallback_fd, args, state_fds);
    return 1;
  };
  SetUpProcess();
  supd::UniqueFd lock;
  if (!PrepareDirectories(options, &lock))
    return fail("cannot use the state directory or take its lock (see above)");
  boost::asio::io_context io(1);
  supd::ManagerConfig cfg = MakeManagerConfig(options, defaults);
  if (saved) cfg.adopt_notify_fd = saved->daemon.notify_fd;
  // Only the loop thread takes supd's signals: its other threads are made with them blocked
  // (one taken by another thread right before a daemon-reexec would be lost with the old image).
  supd::BlockDaemonSignals();
  supd::HostParts host = supd::MakeRealHost(io, supd::CgroupTreeName(options.state_dir));
  std::shared_ptr<supd::BlockingWork> worker = host.worker;
  supd::Manager manager(io, std::move(cfg), std::move(host));
  if (saved && saved->daemon.notify_fd >= 0 && !manager.notify_error().empty())
    return fail("take over the notify socket: " + manager.notify_error());
  supd::control::EventLog event_log(manager);
  // Requests wait until the units are loaded (SetReady below).
  supd::control::RequestHandler handler(io, manager, worker);

  auto server = MakeControlServer(io, options, saved, handler);
  if (!server.ok()) {
    spdlog::critical("{}", server.error().message);
    return fail(server.error().message);
  }
  auto metrics_http =
      MakeMetricsServer(io, options, manager, saved ? saved->daemon.metrics_fd : -1);
  if (!metrics_http.ok()) {
    spdlog::critical("{}", metrics_http.error().message);
    return fail(metrics_http.error().message);
  }
  auto textfile = MakeTextfile(io, worker, options, manager);
  if (!textfile.ok()) {
    spdlog::critical("{}", textfile.error().message);
    return fail(textfile.error().message);
  }
  supd::Shutdown shutdown(io, manager, handler, **server, options.stop_timeout);
  WireExitAndHealth(manager, shutdown, metrics_http->get());
  DaemonSignals signals(io, manager, shutdown, options.units_dir);
  signals.Wait();

  // This supd's line: a new binary after a daemon-reexec counts one more; the old binary
  // exec'd back (no --reexec-fallback) does not (daemon/reexec.h).
  const uint64_t reexecs =
      saved ? saved->daemon.reexecs + (options.fallback_fd >= 0 ? 1 : 0) : 0;
  const int64_t started = saved ? saved->daemon.started_realtime : manager.Daemon().start_realtime;
  handler.SetDaemonLine(reexecs, started);
  supd::Reexec reexec(io,
                      {&manager, server->get(), metrics_http->get(), worker,
                       [&shutdown] { return shutdown.begun(); }},
                      args, supd::OwnExecutable(), reexecs, started);
  handler.SetReexec([&reexec](std::chrono::milliseconds timeout,
                              supd::control::RequestHandler::ReexecDecided decided) {
    reexec.Request(timeout, std::move(decided));
  });

  StartUnits(manager, handler, options, std::move(saved), state_fds, reexecs);
  OwnWatchdog watchdog(io);
  supd::RunEventLoop(io);
  return shutdown.exit_status();
}
