// supd: the supervisor daemon. Argument parsing and wiring only; the work is in lib/.
#include <fcntl.h>
#include <signal.h>
#include <malloc.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdlib>
#include <filesystem>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "lib/base/event_loop.h"
#include "lib/base/unique_fd.h"
#include "lib/base/user_db.h"
#include "lib/control/event_log.h"
#include "lib/control/handler.h"
#include "lib/control/paths.h"
#include "lib/control/server.h"
#include "lib/log/daemon_log.h"
#include "lib/log/output_reader.h"
#include "lib/proc/spawn.h"
#include "lib/supervise/manager.h"
#include "lib/supervise/real_host.h"

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

}  // namespace

int main(int argc, char** argv) {
  const supd::DefaultPaths defaults = supd::GetDefaultPaths();
  CLI::App app{"supd: a supervisor for Go services that reads systemd unit files"};
  std::string units_dir = defaults.units_dir;
  std::string socket_path = defaults.control_socket;
  std::string log_dir = defaults.log_dir;
  std::string state_dir = defaults.state_dir;
  std::string log_level = "info";
  std::string admin_group = "supd";
  app.add_option("--units", units_dir, "directory of .service unit files")->capture_default_str();
  app.add_option("--control-socket", socket_path, "control socket path")->capture_default_str();
  app.add_option("--log-dir", log_dir, "directory for service logs")->capture_default_str();
  app.add_option("--state-dir", state_dir, "directory for supd's state")->capture_default_str();
  app.add_option("--log-level", log_level, "debug, info, warn or error")
      ->capture_default_str()
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical"}));
  app.add_option("--admin-group", admin_group, "group whose members may change services")
      ->capture_default_str();
  app.add_flag_callback("--version", [] {
    std::printf("supd %s\n", SUPD_VERSION);
    std::exit(0);
  }, "print the version");
  CLI11_PARSE(app, argc, argv);

  // stderr in the foreground; journald (with levels) when systemd connected stderr to it.
  supd::SetUpDaemonLog(log_level);

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

  std::string err;
  const std::string socket_dir = std::filesystem::path(socket_path).parent_path().string();
  for (const auto& [dir, mode] : {std::pair{state_dir, 0755}, std::pair{log_dir, 0750},
                                  std::pair{socket_dir, 0755}}) {
    if (!dir.empty() && !MakeDirs(dir, mode, &err)) {
      spdlog::critical("{}", err);
      return 1;
    }
  }
  // One supd per state directory: a second one would fight over the services.
  const std::string lock_path = state_dir + "/supd.lock";
  supd::UniqueFd lock(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (!lock) {
    spdlog::critical("open {}: {}", lock_path, strerror(errno));
    return 1;
  }
  if (::flock(lock.get(), LOCK_EX | LOCK_NB) < 0) {
    spdlog::critical("another supd is running with state directory {} (lock {} is held)",
                     state_dir, lock_path);
    return 1;
  }
  // Orphaned grandchildren (double-forking daemons) become our children, so we can reap them
  // and a stop can find them.
  if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
    spdlog::warn("prctl(PR_SET_CHILD_SUBREAPER): {}; orphans go to init", strerror(errno));

  boost::asio::io_context io(1);
  supd::ManagerConfig cfg;
  cfg.units_dir = units_dir;
  cfg.log_dir = log_dir;
  cfg.state_dir = state_dir;
  {
    // The notify socket sits beside the control socket: "supd.sock" → "supd.notify".
    std::string n = socket_path;
    if (n.size() > 5 && n.ends_with(".sock")) n.resize(n.size() - 5);
    cfg.notify_socket = n + ".notify";
  }
  cfg.specifiers.hostname = Hostname();
  cfg.specifiers.runtime_dir = defaults.runtime_dir;
  cfg.specifiers.uid = geteuid();
  if (auto u = supd::LookupUser(std::to_string(geteuid())); u.ok()) {
    cfg.specifiers.user_name = u->name;
    cfg.specifiers.user_home = u->home;
  }
  supd::HostParts host = supd::MakeRealHost(io, supd::CgroupTreeName(state_dir));
  std::shared_ptr<supd::BlockingWork> worker = host.worker;
  supd::Manager manager(io, cfg, std::move(host));
  supd::control::EventLog event_log(manager);
  // Requests wait until the units are loaded (SetReady below).
  supd::control::RequestHandler handler(io, manager, worker);

  auto server = supd::control::ControlServer::Listen(
      io, socket_path, admin_group,
      [&handler](const supd::control::Request& req, const supd::control::Peer& peer,
                 supd::control::ReplyFn reply) { handler.Handle(req, peer, std::move(reply)); });
  if (!server.ok()) {
    spdlog::critical("{}", server.error().message);
    return 1;
  }

  boost::asio::signal_set signals(io, SIGTERM, SIGINT, SIGHUP);
  boost::asio::steady_timer drain_timer(io);
  std::chrono::steady_clock::time_point drain_deadline;
  // Lives on main's stack for the whole run: the timer's handler refers to it, not a copy.
  std::function<void()> finish_shutdown = [&] {
    if (supd::LiveOutputReaders() > 0 && std::chrono::steady_clock::now() < drain_deadline) {
      drain_timer.expires_after(std::chrono::milliseconds(10));
      drain_timer.async_wait([&](const boost::system::error_code&) { finish_shutdown(); });
      return;
    }
    spdlog::info("all services stopped; exiting");
    (*server)->Close();
    io.stop();
  };
  bool stopping = false;
  std::function<void()> wait_signal;
  wait_signal = [&] {
    signals.async_wait([&](const boost::system::error_code& ec, int sig) {
      if (ec) return;
      if (sig == SIGHUP) {
        spdlog::info("SIGHUP: reloading units from {}", units_dir);
        sd_notify(0, "RELOADING=1");
        manager.ReloadUnits([&manager](const supd::ReloadSummary&) {
          sd_notifyf(0, "READY=1\nSTATUS=supervising %zu units", manager.service_count());
        });
      } else if (!stopping) {
        stopping = true;
        spdlog::info("{}: stopping all services", sig == SIGTERM ? "SIGTERM" : "SIGINT");
        sd_notify(0, "STOPPING=1");
        handler.ShuttingDown();
        manager.StopAll([&] {
          // Let the output pipes drain (a Go program's last log lines), for at most 2 s: a
          // leftover process could hold one open for ever.
          drain_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
          finish_shutdown();
        });
      } else {
        spdlog::info("already stopping; waiting for services to finish their stop timeouts");
      }
      wait_signal();
    });
  };
  wait_signal();

  // READY=1 waits for the units: after a SIGKILL the previous supd's services are stopped
  // first, and a manager told "ready" then would see "supervising 0 units".
  manager.LoadUnits([&] {
    handler.SetReady();
    spdlog::info("supd {} ready: units {}, control socket {}, logs {}", SUPD_VERSION, units_dir,
                 socket_path, log_dir);
    // Under systemd (Type=notify) supd tells its own manager; elsewhere these are no-ops.
    sd_notifyf(0, "READY=1\nSTATUS=supervising %zu units", manager.service_count());
  });
  // WatchdogSec= on supd's own unit: ping at half the interval from the loop, so a blocked
  // loop is exactly what the watchdog catches.
  boost::asio::steady_timer watchdog(io);
  uint64_t watchdog_usec = 0;
  std::function<void()> ping;
  if (sd_watchdog_enabled(0, &watchdog_usec) > 0 && watchdog_usec > 0) {
    ping = [&] {
      sd_notify(0, "WATCHDOG=1");
      watchdog.expires_after(std::chrono::microseconds(watchdog_usec / 2));
      watchdog.async_wait([&](const boost::system::error_code& ec) {
        if (!ec) ping();
      });
    };
    ping();
  }
  supd::RunEventLoop(io);
  return 0;
}
