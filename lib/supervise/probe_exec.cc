#include "lib/supervise/probe_exec.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <string>
#include <utility>

#include "lib/health/span_text.h"
#include "lib/proc/exit_status.h"

namespace supd {
namespace {

constexpr size_t kOutputKept = 4096;

// Shared by the Check and the callbacks it registered, so that a callback that comes after the
// Check was destroyed finds `cancelled` instead of freed memory.
struct ExecState : std::enable_shared_from_this<ExecState> {
  ExecProbeDeps deps;
  std::unique_ptr<Proc> proc;
  std::unique_ptr<WatchHandle> output_watch;
  std::unique_ptr<Timer> timer;
  std::string output;
  CheckDone done;
  Usec started{0};
  Usec timeout{0};
  bool timed_out = false;
  bool finished = false;  // exited and reported, or cancelled

  void WatchOutput() {
    if (!proc || !proc->capture) return;
    std::weak_ptr<ExecState> weak = weak_from_this();
    // The old watch goes before a new one registers the same fd (epoll refuses a second).
    output_watch.reset();
    output_watch = deps.loop->WhenReadable(proc->capture.get(), [weak] {
      if (auto self = weak.lock(); self && !self->finished) self->ReadOutput(/*rearm=*/true);
    });
  }

  // Reads what the pipe holds now, keeping the last kOutputKept bytes.
  void ReadOutput(bool rearm) {
    if (!proc || !proc->capture) return;
    char buf[4096];
    // At most 64 KiB per wake-up: a probe that writes without end cannot hold the loop.
    for (int round = 0; round < 16; ++round) {
      const ssize_t n = ::read(proc->capture.get(), buf, sizeof buf);
      if (n > 0) {
        output.append(buf, static_cast<size_t>(n));
        if (output.size() > kOutputKept) output.erase(0, output.size() - kOutputKept);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n == 0) {  // every writer is gone
        output_watch.reset();
        proc->capture.reset();
        return;
      }
      break;  // EAGAIN (or an error: the exit still tells)
    }
    if (rearm) WatchOutput();
  }

  void OnTimeout() {
    if (finished || !proc) return;
    timed_out = true;
    // The whole group: a shell's children too. The exit (reaped) then reports.
    (void)deps.process->SignalGroup(proc->pid(), SIGKILL);
  }

  void OnExit(const ExitStatus& st) {
    if (finished) return;
    finished = true;
    timer.reset();
    // Whatever the probe left in its group goes with it.
    (void)deps.process->SignalGroup(proc->pid(), SIGKILL);
    ReadOutput(/*rearm=*/false);
    output_watch.reset();
    CheckResult r;
    r.latency = deps.loop->Now() - started;
    r.output = std::move(output);
    const ExecStatus& es = proc->ReadExec();
    if (timed_out) {
      r.message = "timed out after " + FormatProbeSpan(timeout);
    } else if (es.kind == ExecStatus::Kind::kFailed) {
      r.message = es.error;
    } else {
      r.ok = st.exited && st.code == 0;
      r.message = DescribeExit(st);
    }
    CheckDone cb = std::move(done);
    cb(std::move(r));  // may destroy the Check; `this` lives on in the caller's reference
  }
};

class ExecProbeCheck final : public Check {
 public:
  explicit ExecProbeCheck(std::shared_ptr<ExecState> state) : state_(std::move(state)) {}
  ~ExecProbeCheck() override {
    ExecState& st = *state_;
    if (st.finished) return;
    st.finished = true;
    st.timer.reset();
    st.output_watch.reset();
    if (st.proc) {
      // Cancelled while it runs: kill the group; the exit is reaped as an orphan.
      (void)st.deps.process->SignalGroup(st.proc->pid(), SIGKILL);
      st.deps.process->Forget(st.proc->pid());
    }
  }

 private:
  std::shared_ptr<ExecState> state_;
};

}  // namespace

std::unique_ptr<Check> StartExecProbeCheck(const ExecProbeDeps& deps, const LaunchPlan& plan,
                                           const LaunchTarget& target, Usec timeout,
                                           CheckDone done) {
  auto state = std::make_shared<ExecState>();
  state->deps = deps;
  state->done = std::move(done);
  state->started = deps.loop->Now();
  state->timeout = timeout;
  std::vector<std::string> ignored;  // the probe's output goes to the pipe, not to targets
  auto proc = deps.launcher->Launch(plan, target, &ignored);
  if (!proc.ok()) {
    // Reported as a failed check, after this call returns (the contract of Check).
    std::weak_ptr<ExecState> weak = state;
    deps.loop->Post([weak, message = proc.error().message] {
      auto self = weak.lock();
      if (!self || self->finished) return;
      self->finished = true;
      CheckResult r;
      r.message = message;
      CheckDone cb = std::move(self->done);
      cb(std::move(r));
    });
    return std::make_unique<ExecProbeCheck>(std::move(state));
  }
  state->proc = std::move(*proc);
  std::weak_ptr<ExecState> weak = state;
  deps.process->Watch(state->proc->pid(), state->proc->handle.pidfd.get(),
                      [weak](const ExitStatus& st) {
                        if (auto self = weak.lock()) self->OnExit(st);
                      });
  state->WatchOutput();
  state->timer = deps.loop->NewTimer();
  state->timer->Arm(timeout, [weak] {
    if (auto self = weak.lock()) self->OnTimeout();
  });
  return std::make_unique<ExecProbeCheck>(std::move(state));
}

}  // namespace supd
