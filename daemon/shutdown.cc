#include "daemon/shutdown.h"

#include <signal.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "lib/log/output_reader.h"

namespace supd {

std::string FormatSpan(std::chrono::microseconds span) {
  using std::chrono::microseconds;
  if (span == microseconds::max()) return "infinity";
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(span).count();
  if (ms % 1000 == 0) return fmt::format("{}s", ms / 1000);
  return fmt::format("{}ms", ms);
}

Shutdown::Shutdown(boost::asio::io_context& io, Manager& manager,
                   control::RequestHandler& handler, control::ControlServer& server,
                   std::chrono::microseconds stop_timeout)
    : io_(io),
      manager_(manager),
      handler_(handler),
      server_(server),
      stop_timeout_(stop_timeout),
      cap_timer_(io),
      drain_timer_(io) {}

void Shutdown::Begin(const std::string& why, int exit_status, bool force) {
  if (begun_) {
    spdlog::info("{}: already stopping; waiting for the services to stop", why);
    return;
  }
  begun_ = true;
  exit_status_ = exit_status;
  handler_.ShuttingDown();
  if (force) {
    spdlog::info("{}: killing every service (SIGKILL), then exiting with status {}", why,
                 exit_status);
  } else {
    spdlog::info("{}: stopping all services{}", why,
                 stop_timeout_.count() > 0 && stop_timeout_ != std::chrono::microseconds::max()
                     ? fmt::format(" (at most {}: --stop-timeout)", FormatSpan(stop_timeout_))
                     : std::string());
  }
  // exit-force: SIGKILL before StopAll sends any SIGTERM. The exits are seen on later turns of
  // the loop, when every unit has its stop job: they end those stops.
  if (force) KillWhatIsLeft(why);
  manager_.StopAll([this] { OnAllStopped(); });
  if (finished_ || force) return;
  if (stop_timeout_.count() > 0 && stop_timeout_ != std::chrono::microseconds::max()) {
    cap_timer_.expires_after(stop_timeout_);
    cap_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) OnStopTimeout();
    });
  }
}

void Shutdown::OnStopTimeout() {
  if (finished_ || killed_) return;
  KillWhatIsLeft(fmt::format("stop timeout ({}) reached", FormatSpan(stop_timeout_)));
}

void Shutdown::KillWhatIsLeft(const std::string& why) {
  killed_ = true;
  const std::vector<std::string> left = manager_.KillAll(SIGKILL);
  if (!left.empty()) spdlog::warn("{}: killing what is left: {}", why, fmt::join(left, ", "));
  // SIGKILL ends every process but one stuck in the kernel (D state, a hung NFS mount): supd
  // does not wait for ever on one of those.
  cap_timer_.expires_after(kKillGrace);
  cap_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || finished_) return;
    spdlog::error("processes still there {} s after SIGKILL (stuck in the kernel?); exiting anyway",
                  kKillGrace.count());
    Finish();
  });
}

void Shutdown::OnAllStopped() {
  cap_timer_.cancel();
  // Let the output pipes drain (a Go program's last log lines), for a moment at most: a
  // leftover process could hold one open for ever.
  drain_deadline_ = std::chrono::steady_clock::now() + kDrainLimit;
  Drain();
}

void Shutdown::Drain() {
  if (finished_) return;
  if (LiveOutputReaders() > 0 && std::chrono::steady_clock::now() < drain_deadline_) {
    drain_timer_.expires_after(std::chrono::milliseconds(10));
    drain_timer_.async_wait([this](const boost::system::error_code&) { Drain(); });
    return;
  }
  spdlog::info("all services stopped; exiting with status {}", exit_status_);
  Finish();
}

void Shutdown::Finish() {
  if (finished_) return;
  finished_ = true;
  cap_timer_.cancel();
  drain_timer_.cancel();
  server_.Close();
  io_.stop();
}

}  // namespace supd
