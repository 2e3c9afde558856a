#include "lib/health/prober.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <vector>

#include "tests/lib/health/health_test_util.h"

namespace supd {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;
using testing_health::RunUntil;
using namespace std::chrono_literals;

// Checks that take `duration` each (a timer) and pass or fail as `ok(n)` says for the n-th
// (from 0). Records when each started and ended, and how many ran at once at most.
class TimedChecks {
 public:
  TimedChecks(asio::io_context& io, Clock::duration duration) : io_(io), duration_(duration) {}

  std::function<bool(int)> ok = [](int) { return true; };
  std::vector<Clock::time_point> starts, ends;
  int in_flight = 0;
  int max_in_flight = 0;
  int cancelled = 0;

  Prober::StartCheck Starter() {
    return [this](CheckDone done) -> std::unique_ptr<Check> {
      const int n = static_cast<int>(starts.size());
      starts.push_back(Clock::now());
      max_in_flight = std::max(max_in_flight, ++in_flight);
      auto state = std::make_shared<State>(io_, duration_);
      state->timer.async_wait([this, state, n, done = std::move(done)](const error_code& ec) {
        if (ec || state->over) return;
        state->over = true;
        --in_flight;
        ends.push_back(Clock::now());
        CheckResult r;
        r.ok = ok(n);
        r.message = r.ok ? "HTTP 200" : "HTTP 500 check " + std::to_string(n);
        done(r);
      });
      return std::make_unique<Handle>(this, state);
    };
  }

 private:
  struct State {
    State(asio::io_context& io, Clock::duration d) : timer(io, d) {}
    asio::steady_timer timer;
    bool over = false;  // completed or cancelled
  };
  class Handle : public Check {
   public:
    Handle(TimedChecks* owner, std::shared_ptr<State> s) : owner_(owner), s_(std::move(s)) {}
    ~Handle() override {
      if (s_->over) return;
      s_->over = true;
      s_->timer.cancel();
      --owner_->in_flight;
      ++owner_->cancelled;
    }

   private:
    TimedChecks* owner_;
    std::shared_ptr<State> s_;
  };

  asio::io_context& io_;
  Clock::duration duration_;
};

ProbeSpec Spec(Usec interval, Usec initial_delay = Usec(0)) {
  ProbeSpec s;
  s.kind = ProbeSpec::Kind::kExec;
  s.target = "exec:/bin/true";
  s.interval = interval;
  s.initial_delay = initial_delay;
  s.failure_threshold = 2;
  return s;
}

TEST(ProberTest, InitialDelayThenAnIntervalBetweenStarts) {
  asio::io_context io;
  TimedChecks checks(io, 0ms);
  Prober p(io, Spec(30ms, 80ms), checks.Starter(), nullptr);
  const auto begun = Clock::now();
  p.Start();
  ASSERT_TRUE(RunUntil(io, [&] { return checks.starts.size() >= 5; }));
  EXPECT_GE(checks.starts[0] - begun, 80ms);
  for (size_t i = 1; i < checks.starts.size(); ++i)
    EXPECT_GE(checks.starts[i] - checks.starts[i - 1], 30ms) << "check " << i;
  EXPECT_GE(p.status().checks, 4u);
  EXPECT_EQ(ProbeState::kPassing, p.status().state);
}

TEST(ProberTest, ASlowCheckIsNeverOverlapped) {
  asio::io_context io;
  TimedChecks checks(io, 40ms);  // longer than the interval
  Prober p(io, Spec(10ms), checks.Starter(), nullptr);
  p.Start();
  ASSERT_TRUE(RunUntil(io, [&] { return checks.ends.size() >= 4; }));
  EXPECT_EQ(1, checks.max_in_flight);
  for (size_t i = 1; i < checks.starts.size(); ++i)
    EXPECT_GE(checks.starts[i], checks.ends[i - 1])
        << "check " << i << " began before the last ended";
}

TEST(ProberTest, ReportsEachChangeOfState) {
  asio::io_context io;
  TimedChecks checks(io, 0ms);
  checks.ok = [](int n) { return n == 0 || n >= 3; };  // + - - + ...: passing, failing, passing
  std::vector<ProbeState> changes;
  Prober p(io, Spec(1ms), checks.Starter(),
           [&](const ProbeStatus& s) { changes.push_back(s.state); });
  p.Start();
  ASSERT_TRUE(RunUntil(io, [&] { return checks.ends.size() >= 6; }));
  EXPECT_EQ(
      (std::vector<ProbeState>{ProbeState::kPassing, ProbeState::kFailing, ProbeState::kPassing}),
      changes);
  ASSERT_TRUE(p.status().last_failure);
  EXPECT_EQ("HTTP 500 check 2", p.status().last_failure->message);
}

TEST(ProberTest, OnChangeMayDestroyTheProber) {
  asio::io_context io;
  TimedChecks checks(io, 0ms);
  std::unique_ptr<Prober> p;
  ProbeState seen = ProbeState::kPending;
  p = std::make_unique<Prober>(io, Spec(1ms), checks.Starter(), [&](const ProbeStatus& s) {
    seen = s.state;
    p.reset();
  });
  p->Start();
  ASSERT_TRUE(RunUntil(io, [&] { return p == nullptr; }));
  EXPECT_EQ(ProbeState::kPassing, seen);
  const size_t started = checks.starts.size();
  // Nothing of the Prober is left to run (the next check's timer included): the loop runs dry.
  io.restart();
  io.run_for(2s);
  EXPECT_EQ(started, checks.starts.size());
  EXPECT_EQ(0, checks.in_flight);
}

TEST(ProberTest, StopCancelsTheCheckUnderWay) {
  asio::io_context io;
  TimedChecks checks(io, 1h);
  Prober p(io, Spec(1ms), checks.Starter(), nullptr);
  p.Start();
  ASSERT_TRUE(RunUntil(io, [&] { return checks.in_flight == 1; }));
  p.Stop();
  EXPECT_EQ(1, checks.cancelled);
  EXPECT_EQ(0, checks.in_flight);
  io.restart();
  io.poll();
  EXPECT_EQ(1u, checks.starts.size());
  EXPECT_EQ(0u, p.status().checks);
}

TEST(ProberTest, DestructionCancelsTheCheckUnderWay) {
  asio::io_context io;
  TimedChecks checks(io, 1h);
  {
    Prober p(io, Spec(1ms), checks.Starter(), nullptr);
    p.Start();
    ASSERT_TRUE(RunUntil(io, [&] { return checks.in_flight == 1; }));
  }
  EXPECT_EQ(1, checks.cancelled);
}

TEST(ProberTest, ExecWithoutAStarterFailsEveryCheck) {
  asio::io_context io;
  ProbeSpec spec = Spec(1ms);
  spec.failure_threshold = 1;
  std::vector<ProbeState> changes;
  Prober p(io, spec, CheckStarterFor(io, spec, nullptr),
           [&](const ProbeStatus& s) { changes.push_back(s.state); });
  p.Start();
  ASSERT_TRUE(RunUntil(io, [&] { return p.status().checks >= 3; }));
  EXPECT_EQ(std::vector<ProbeState>{ProbeState::kFailing}, changes);
  ASSERT_TRUE(p.status().last_failure);
  EXPECT_EQ("exec probes are not available here", p.status().last_failure->message);
}

TEST(ProberTest, CheckStarterForExecPassesTheSpec) {
  asio::io_context io;
  testing_health::FakeChecks fake(io);
  ProbeSpec spec = testing_health::ExecSpec(ProbeRole::kLiveness);
  Prober p(io, spec, CheckStarterFor(io, spec, fake.Starter()), nullptr);
  p.Start();
  ASSERT_TRUE(RunUntil(io, [&] { return fake.Pending(ProbeRole::kLiveness) == 1; }));
  ASSERT_TRUE(fake.Complete(ProbeRole::kLiveness, true, "exited with status 0"));
  ASSERT_TRUE(RunUntil(io, [&] { return p.status().checks == 1; }));
  EXPECT_EQ(ProbeState::kPassing, p.status().state);
}

TEST(ProberTest, CheckStarterForTcpConnects) {
  asio::io_context io;
  asio::ip::tcp::socket refusing(io);
  refusing.open(asio::ip::tcp::v4());
  refusing.bind({asio::ip::make_address("127.0.0.1"), 0});
  ProbeSpec spec = Spec(1ms);
  spec.kind = ProbeSpec::Kind::kTcp;
  spec.host = "127.0.0.1";
  spec.port = refusing.local_endpoint().port();
  Prober p(io, spec, CheckStarterFor(io, spec, nullptr), nullptr);
  p.Start();
  ASSERT_TRUE(RunUntil(io, [&] { return p.status().checks >= 1; }));
  ASSERT_TRUE(p.status().last_failure);
  EXPECT_EQ("connect to 127.0.0.1:" + std::to_string(spec.port) + ": Connection refused",
            p.status().last_failure->message);
}

}  // namespace
}  // namespace supd
