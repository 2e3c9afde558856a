#include "lib/health/prober.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <utility>

namespace supd {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;

int64_t RealtimeNowUsec() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A check whose result is known before it starts (an exec probe where none can run): posted,
// so that `done` is not called from inside the start, and dropped if the Check goes first.
class FixedResultCheck : public Check {
 public:
  FixedResultCheck(asio::io_context& io, CheckResult r, CheckDone done)
      : live_(std::make_shared<bool>(true)) {
    asio::post(io, [live = live_, r = std::move(r), done = std::move(done)]() mutable {
      if (*live) done(std::move(r));
    });
  }
  ~FixedResultCheck() override { *live_ = false; }

 private:
  std::shared_ptr<bool> live_;  // false once the Check is destroyed
};

}  // namespace

struct Prober::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::io_context& io, const ProbeSpec& spec, StartCheck start,
       std::function<void(const ProbeStatus&)> on_change)
      : spec(spec),
        start(std::move(start)),
        on_change(std::move(on_change)),
        tracker(spec),
        timer(io) {}

  void Schedule(Clock::time_point at);
  void RunCheck();
  void OnResult(const CheckResult& r);
  void Stop();

  // Constant after construction.
  const ProbeSpec spec;
  const StartCheck start;
  const std::function<void(const ProbeStatus&)> on_change;
  std::function<void(const CheckResult&)> on_result;
  // Touched only on the io_context's thread.
  ProbeTracker tracker;
  asio::steady_timer timer;
  std::unique_ptr<Check> check;  // the check under way; null between checks
  Clock::time_point last_start;  // of the last check: the next is due an interval later
  bool started = false;
  bool stopped = false;  // by Stop() or the Prober's destruction: no check starts again
};

void Prober::Impl::Schedule(Clock::time_point at) {
  timer.expires_at(at);
  // The handler holds the Impl weakly: a wait cancelled by Stop() or the Prober's destruction
  // finds it stopped or gone.
  timer.async_wait([weak = weak_from_this()](const error_code& ec) {
    auto self = weak.lock();
    if (ec || !self || self->stopped) return;
    self->RunCheck();
  });
}

void Prober::Impl::RunCheck() {
  last_start = Clock::now();
  check = start([weak = weak_from_this()](const CheckResult& r) {
    // Kept alive across on_change, which may destroy the Prober.
    auto self = weak.lock();
    if (!self || self->stopped) return;
    self->OnResult(r);
  });
}

void Prober::Impl::OnResult(const CheckResult& r) {
  // The Check is done: it may be destroyed here, inside its own callback (its contract).
  check.reset();
  const bool changed = tracker.Record(r, RealtimeNowUsec());
  if (on_result) on_result(r);
  // Measured from the start of the check that ended: a check longer than the interval is
  // followed at once by the next, never overlapped by it.
  const Clock::time_point next = last_start + spec.interval;
  Schedule(std::max(next, Clock::now()));
  if (changed && on_change) on_change(tracker.status());  // last: it may destroy the Prober
}

void Prober::Impl::Stop() {
  stopped = true;
  timer.cancel();
  check.reset();
}

Prober::Prober(asio::io_context& io, const ProbeSpec& spec, StartCheck start,
               std::function<void(const ProbeStatus&)> on_change)
    : impl_(std::make_shared<Impl>(io, spec, std::move(start), std::move(on_change))) {}

Prober::~Prober() { impl_->Stop(); }

void Prober::Start() {
  if (impl_->started || impl_->stopped) return;
  impl_->started = true;
  impl_->Schedule(Clock::now() + impl_->spec.initial_delay);
}

void Prober::Stop() { impl_->Stop(); }

const ProbeStatus& Prober::status() const { return impl_->tracker.status(); }

const ProbeSpec& Prober::spec() const { return impl_->spec; }

void Prober::OnEveryResult(std::function<void(const CheckResult&)> cb) {
  impl_->on_result = std::move(cb);
}

Prober::StartCheck CheckStarterFor(asio::io_context& io, const ProbeSpec& spec,
                                   const ExecCheckStarter& exec) {
  switch (spec.kind) {
    case ProbeSpec::Kind::kHttp:
      return [&io, spec](CheckDone done) { return StartHttpCheck(io, spec, std::move(done)); };
    case ProbeSpec::Kind::kTcp:
      return [&io, spec](CheckDone done) { return StartTcpCheck(io, spec, std::move(done)); };
    case ProbeSpec::Kind::kExec:
      break;
  }
  if (exec) return [exec, spec](CheckDone done) { return exec(spec, std::move(done)); };
  return [&io](CheckDone done) -> std::unique_ptr<Check> {
    CheckResult r;
    r.message = "exec probes are not available here";
    return std::make_unique<FixedResultCheck>(io, std::move(r), std::move(done));
  };
}

}  // namespace supd
