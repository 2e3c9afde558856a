// What the lib/health/ tests share: running a loop until something holds, probe specs built by
// hand, and a fake check the test completes itself.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "lib/health/probe_check.h"
#include "lib/unit/service_spec.h"

namespace supd::testing_health {

using namespace std::chrono_literals;

// Runs `io` one handler at a time until pred() holds, the deadline passes or the loop runs out
// of work. The deadline bounds a wait for what must happen; it costs nothing when it does.
inline bool RunUntil(boost::asio::io_context& io, const std::function<bool()>& pred,
                     std::chrono::milliseconds deadline = 20s) {
  const auto end = std::chrono::steady_clock::now() + deadline;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= end) return false;
    // A loop that ran out of work stops itself; work posted since needs it restarted.
    if (io.stopped()) io.restart();
    if (io.run_one_until(end) == 0 && io.stopped()) return pred();
  }
  return true;
}

inline ProbeSpec ExecSpec(ProbeRole role, const std::string& target = "exec:/bin/check") {
  ProbeSpec s;
  s.role = role;
  s.kind = ProbeSpec::Kind::kExec;
  s.target = target;
  s.interval = 10ms;
  s.timeout = 1s;
  s.failure_threshold = 1;
  s.success_threshold = 1;
  return s;
}

// Checks started through Starter() that stay under way until the test completes them.
class FakeChecks {
 public:
  struct Entry {
    ProbeRole role;
    CheckDone done;
    std::shared_ptr<bool> live;  // false once the Check is destroyed
    bool completed = false;
    std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  };

  explicit FakeChecks(boost::asio::io_context& io) : io_(io) {}

  ExecCheckStarter Starter() {
    return [this](const ProbeSpec& spec, CheckDone done) -> std::unique_ptr<Check> {
      auto live = std::make_shared<bool>(true);
      entries_.push_back(Entry{spec.role, std::move(done), live});
      return std::make_unique<Handle>(live);
    };
  }

  // Under way (started, neither completed nor destroyed) for `role`.
  int Pending(ProbeRole role) const {
    int n = 0;
    for (const Entry& e : entries_) n += e.role == role && *e.live && !e.completed;
    return n;
  }
  int Started(ProbeRole role) const {
    int n = 0;
    for (const Entry& e : entries_) n += e.role == role;
    return n;
  }
  const std::vector<Entry>& entries() const { return entries_; }
  int PendingAll() const {
    int n = 0;
    for (const Entry& e : entries_) n += *e.live && !e.completed;
    return n;
  }

  // Completes the oldest check under way for `role`, on the loop as a real one would. False if
  // there was none.
  bool Complete(ProbeRole role, bool ok, const std::string& message) {
    for (Entry& e : entries_) {
      if (e.role != role || !*e.live || e.completed) continue;
      e.completed = true;
      CheckResult r;
      r.ok = ok;
      r.message = message;
      r.latency = 1ms;
      boost::asio::post(io_, [live = e.live, done = e.done, r]() mutable {
        if (*live) done(r);
      });
      return true;
    }
    return false;
  }

 private:
  class Handle : public Check {
   public:
    explicit Handle(std::shared_ptr<bool> live) : live_(std::move(live)) {}
    ~Handle() override { *live_ = false; }

   private:
    std::shared_ptr<bool> live_;
  };

  boost::asio::io_context& io_;
  std::vector<Entry> entries_;
};

}  // namespace supd::testing_health
