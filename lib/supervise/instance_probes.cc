// The probes of the current instance: made and dropped as the service's machine wants them,
// their reports turned into the machine's events, exec: checks launched like ExecStartPost=.
#include <spdlog/spdlog.h>

#include <string>
#include <utility>

#include "lib/supervise/action_runner.h"
#include "lib/supervise/probe_exec.h"

namespace supd {
namespace {

// "ReadinessProbe=http://127.0.0.1:8080/healthz"
std::string ProbeName(const ProbeSpec& p) {
  return std::string(ProbeRoleName(p.role)) + "=" + p.target;
}

// "LivenessProbe=http://…/healthz failed 3 times: timed out after 1s"
std::string FailureText(const ProbeInfo& p) {
  std::string text = ProbeName(p.spec) + " failed " +
                     std::to_string(p.status.consecutive_failures) +
                     (p.status.consecutive_failures == 1 ? " time" : " times");
  // Not its output: the cause goes to every peer, the output only to privileged ones (status).
  if (p.status.last_failure) text += ": " + p.status.last_failure->message;
  return text;
}

}  // namespace

void ActionRunner::SyncProbes(Service& s) {
  if (!s.current) return;
  Instance& inst = *s.current;
  if (!s.fsm->wants_probes()) {
    inst.probes.reset();
    return;
  }
  if (inst.probes || !env_.make_probes) return;
  const std::string name = s.name;
  const uint64_t id = inst.id;
  ProbeSet::Callbacks cb;
  cb.gate_passed = [this, name, id] {
    OnProbeReport(name, id, Event::At(Event::Kind::kProbeGatePassed, Now()));
  };
  cb.startup_failed = [this, name, id](const ProbeInfo& p) {
    Event e = Event::At(Event::Kind::kStartupProbeFailed, Now());
    e.message = FailureText(p);
    OnProbeReport(name, id, e);
  };
  cb.liveness_failed = [this, name, id](const ProbeInfo& p) {
    Event e = Event::At(Event::Kind::kLivenessProbeFailed, Now());
    e.message = FailureText(p);
    OnProbeReport(name, id, e);
  };
  cb.readiness_changed = [this, name, id](bool ready, const ProbeInfo&) {
    Event e = Event::At(Event::Kind::kReadinessChanged, Now());
    e.start = ready;
    OnProbeReport(name, id, e);
  };
  // Every change of a probe's state, once: not every check.
  cb.transition = [name](const ProbeInfo& p) {
    const ProbeStatus& st = p.status;
    if (st.state == ProbeState::kFailing) {
      spdlog::warn("{}: {} is failing: {}", name, ProbeName(p.spec),
                   st.last_failure ? st.last_failure->message : std::string("?"));
    } else {
      spdlog::info("{}: {} is {}", name, ProbeName(p.spec), ProbeStateName(st.state));
    }
  };
  cb.checked = [this, name](ProbeRole role, bool ok) {
    if (ok) return;
    if (Service* s = env_.find(name)) ++s->counters.probe_failures.at(static_cast<size_t>(role));
  };
  ExecCheckStarter exec = [this, name, id](const ProbeSpec& p, CheckDone done) {
    return StartExecCheck(name, id, p, std::move(done));
  };
  inst.probes = env_.make_probes(*inst.spec, std::move(exec), std::move(cb));
  inst.probes->Start();
}

void ActionRunner::OnProbeReport(const std::string& name, uint64_t instance, const Event& e) {
  Service* s = env_.find(name);
  // Reports of an instance that is no longer the service's current one are stale.
  if (!s || !s->fsm || !s->current || s->current->id != instance) return;
  Dispatch(*s, s->fsm->Handle(e));
}

std::unique_ptr<Check> ActionRunner::StartExecCheck(const std::string& name, uint64_t instance,
                                                    const ProbeSpec& probe, CheckDone done) {
  auto fail = [this](std::string message, CheckDone cb) -> std::unique_ptr<Check> {
    // Reported after this call, as every check's result.
    struct Failed final : Check {};
    env_.loop->Post([cb = std::move(cb), message = std::move(message)] {
      CheckResult r;
      r.message = message;
      cb(std::move(r));
    });
    return std::make_unique<Failed>();
  };
  Service* s = env_.find(name);
  if (!s || !s->current || s->current->id != instance)
    return fail("the instance is gone", std::move(done));
  Instance& inst = *s->current;
  if (!inst.prepared || !inst.setup_error.empty())
    return fail(inst.setup_error.empty() ? "the instance was not prepared" : inst.setup_error,
                std::move(done));
  LaunchInput in = LaunchInputFor(inst);
  in.command = &probe.command;
  in.command_what = ProbeName(probe);
  if (inst.main) in.main_pid = inst.main->pid();
  auto plan = BuildLaunch(in);
  if (!plan.ok()) return fail(plan.error().message, std::move(done));
  LaunchTarget target = LaunchTargetFor(inst);
  target.capture_output = true;
  ExecProbeDeps deps{env_.loop, env_.process, env_.launcher};
  return StartExecProbeCheck(deps, *plan, target, probe.timeout, std::move(done));
}

}  // namespace supd
