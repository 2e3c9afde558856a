#include "lib/health/probe_set.h"

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <optional>
#include <utility>

#include "lib/health/prober.h"
#include "lib/health/span_text.h"

namespace supd {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;

// "pending: no result yet", "failing: HTTP 503 Service Unavailable".
std::string StateText(const ProbeSpec& spec, const ProbeStatus& s) {
  std::string out = ProbeStateName(s.state);
  out += ": ";
  if (s.state == ProbeState::kPending && s.consecutive_successes > 0)
    return out + "passed " + std::to_string(s.consecutive_successes) +
           " of SuccessThreshold=" + std::to_string(spec.success_threshold);
  if (s.last_failure) return out + s.last_failure->message;
  return out + "no result yet";
}

// A MinReadySec= this long (or infinity) is never reached: steady_clock would overflow first.
constexpr Usec kNeverReady = std::chrono::hours(24 * 365 * 10);

}  // namespace

struct ProbeSet::Impl : std::enable_shared_from_this<Impl> {
  enum Slot { kStartup, kReadiness, kLiveness, kSlots };

  struct Probe {
    std::unique_ptr<Prober> prober;
    bool running = false;
  };

  Impl(asio::io_context& io, const ServiceSpec& spec, ExecCheckStarter exec, Callbacks cb)
      : io(io),
        exec(std::move(exec)),
        callbacks(std::move(cb)),
        min_ready(spec.min_ready),
        min_ready_timer(io) {}

  void Create(Slot slot, const std::optional<ProbeSpec>& spec);
  void Run(Slot slot);
  void StopAll();
  void OnChange(Slot slot);
  // Each calls a callback last: it may destroy the ProbeSet.
  void OnStartup(const ProbeInfo& info);
  void OnReadiness(const ProbeInfo& info);
  void PassGate();
  ProbeInfo Info(Slot slot) const;
  std::string Blocker(Slot slot) const;

  asio::io_context& io;
  const ExecCheckStarter exec;
  const Callbacks callbacks;
  const Usec min_ready;
  std::array<Probe, kSlots> probes;
  asio::steady_timer min_ready_timer;            // armed while readiness passes for MinReadySec=
  std::optional<Clock::time_point> ready_since;  // readiness passing before the gate, since
  uint64_t ready_streak = 0;  // readiness passing streaks ended before the gate (see OnReadiness)
  bool started = false;
  bool startup_passed = false;
  bool gate = false;
  bool destroyed = false;  // the ProbeSet is gone; a callback running now returns after it
};

void ProbeSet::Impl::Create(Slot slot, const std::optional<ProbeSpec>& spec) {
  if (!spec) return;
  probes[slot].prober =
      std::make_unique<Prober>(io, *spec, CheckStarterFor(io, *spec, exec),
                               [weak = weak_from_this(), slot](const ProbeStatus&) {
                                 // Kept alive across the callbacks, which may destroy the ProbeSet.
                                 if (auto self = weak.lock(); self && !self->destroyed)
                                   self->OnChange(slot);
                               });
  if (callbacks.checked) {
    const ProbeRole role = spec->role;
    probes[slot].prober->OnEveryResult(
        [checked = callbacks.checked, role](const CheckResult& r) { checked(role, r.ok); });
  }
}

void ProbeSet::Impl::Run(Slot slot) {
  if (!probes[slot].prober) return;
  probes[slot].prober->Start();
  probes[slot].running = true;
}

void ProbeSet::Impl::StopAll() {
  for (Probe& p : probes) {
    if (p.prober) p.prober->Stop();
    p.running = false;
  }
  min_ready_timer.cancel();
}

ProbeInfo ProbeSet::Impl::Info(Slot slot) const {
  return ProbeInfo{probes[slot].prober->spec(), probes[slot].running,
                   probes[slot].prober->status()};
}

void ProbeSet::Impl::OnChange(Slot slot) {
  const ProbeInfo info = Info(slot);
  if (callbacks.transition) {
    callbacks.transition(info);
    if (destroyed) return;
  }
  switch (slot) {
    case kStartup:
      OnStartup(info);
      return;
    case kReadiness:
      OnReadiness(info);
      return;
    case kLiveness:
      if (info.status.state == ProbeState::kFailing && callbacks.liveness_failed)
        callbacks.liveness_failed(info);
      return;
    case kSlots:
      return;
  }
}

void ProbeSet::Impl::OnStartup(const ProbeInfo& info) {
  if (info.status.state == ProbeState::kFailing) {
    // Before it ever passed (once it passes it stops): the start failed, nothing runs on.
    StopAll();
    if (callbacks.startup_failed) callbacks.startup_failed(info);
    return;
  }
  if (info.status.state != ProbeState::kPassing) return;
  // Kubernetes stops the startup probe once it succeeded; the others begin now.
  startup_passed = true;
  probes[kStartup].prober->Stop();
  probes[kStartup].running = false;
  Run(kReadiness);
  Run(kLiveness);
  if (!probes[kReadiness].prober) PassGate();
}

void ProbeSet::Impl::OnReadiness(const ProbeInfo& info) {
  const bool passing = info.status.state == ProbeState::kPassing;
  if (gate) {
    if (info.status.state != ProbeState::kPending && callbacks.readiness_changed)
      callbacks.readiness_changed(passing, info);
    return;
  }
  if (!passing) {
    // MinReadySec= counts again from the next pass.
    ready_since.reset();
    ++ready_streak;
    min_ready_timer.cancel();
    // Said before the gate too: an instance that runs without waiting for the gate (an
    // overlap restart whose probe cannot tell instances apart) is then not ready. Last: the
    // callback may destroy the set.
    if (info.status.state == ProbeState::kFailing && callbacks.readiness_changed)
      callbacks.readiness_changed(false, info);
    return;
  }
  if (min_ready <= Usec(0)) return PassGate();
  ready_since = Clock::now();
  if (min_ready >= kNeverReady) return;  // MinReadySec=infinity: the gate stays closed
  min_ready_timer.expires_at(*ready_since + min_ready);
  // The streak, not only the timer's error, says whether this wait still counts: a wait that
  // expired just before a cancel() runs with no error.
  min_ready_timer.async_wait([weak = weak_from_this(), streak = ready_streak](const error_code&) {
    auto self = weak.lock();
    if (!self || self->destroyed || self->gate || self->ready_streak != streak) return;
    self->PassGate();
  });
}

void ProbeSet::Impl::PassGate() {
  gate = true;
  ready_since.reset();
  if (callbacks.gate_passed) callbacks.gate_passed();
}

std::string ProbeSet::Impl::Blocker(Slot slot) const {
  static constexpr std::array<ProbeRole, kSlots> kRoles = {
      ProbeRole::kStartup, ProbeRole::kReadiness, ProbeRole::kLiveness};
  const Prober& p = *probes[slot].prober;
  std::string out = std::string(ProbeRoleName(kRoles[slot])) + "=" + p.spec().target + " ";
  if (slot == kReadiness && ready_since) {
    const auto since = std::chrono::duration_cast<Usec>(Clock::now() - *ready_since);
    return out + "passing for " + FormatProbeSpan(since) +
           " of MinReadySec=" + FormatProbeSpan(min_ready);
  }
  return out + StateText(p.spec(), p.status());
}

ProbeSet::ProbeSet(asio::io_context& io, const ServiceSpec& spec, ExecCheckStarter exec,
                   Callbacks callbacks)
    : impl_(std::make_shared<Impl>(io, spec, std::move(exec), std::move(callbacks))) {
  impl_->Create(Impl::kStartup, spec.startup_probe);
  impl_->Create(Impl::kReadiness, spec.readiness_probe);
  impl_->Create(Impl::kLiveness, spec.liveness_probe);
}

ProbeSet::~ProbeSet() {
  impl_->destroyed = true;
  impl_->StopAll();
}

void ProbeSet::Start() {
  if (impl_->started) return;
  impl_->started = true;
  if (impl_->probes[Impl::kStartup].prober) {
    impl_->Run(Impl::kStartup);
    return;
  }
  impl_->Run(Impl::kReadiness);
  impl_->Run(Impl::kLiveness);
}

bool ProbeSet::HasGate(const ServiceSpec& spec) {
  return spec.startup_probe.has_value() || spec.readiness_probe.has_value();
}

bool ProbeSet::gate_passed() const { return impl_->gate; }

std::string ProbeSet::GateBlocker() const {
  if (impl_->gate) return "";
  if (impl_->probes[Impl::kStartup].prober && !impl_->startup_passed)
    return impl_->Blocker(Impl::kStartup);
  if (impl_->probes[Impl::kReadiness].prober) return impl_->Blocker(Impl::kReadiness);
  return "";
}

std::vector<ProbeInfo> ProbeSet::Snapshot() const {
  std::vector<ProbeInfo> out;
  for (int slot = 0; slot < Impl::kSlots; ++slot)
    if (impl_->probes[slot].prober) out.push_back(impl_->Info(static_cast<Impl::Slot>(slot)));
  return out;
}

}  // namespace supd
