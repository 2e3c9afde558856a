// Every phase × every event, asserting the actions and where the machine ends up.
//
// A setup drives a fresh machine into one phase (for one spec). The table lists, per setup, the
// events that do something, with the expected actions (tests/lib/supervise/actions_text.h) and
// the next place ("stopped"/"failed" for dead, "condition/check|prepare|exec" inside the
// condition phase, else the phase's name). Every event kind the table does not list for a setup
// is sent too and must do nothing: no action, same place. Further rows use variant payloads
// (a clean exit, a failing command, ...).
//
// The expectations come from systemd's service.c and the machine's own table (service_fsm.cc),
// written by hand, not recorded.
#include <signal.h>

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "lib/supervise/service_fsm.h"
#include "tests/lib/supervise/actions_text.h"

namespace supd {
namespace {

using namespace std::chrono_literals;
using testing_text::Describe;
using K = Event::Kind;

ExecCommand Cmd(const std::string& path) {
  ExecCommand c;
  c.path = path;
  c.argv = {path};
  c.source = "t.service:1";
  return c;
}

// Timeouts that tell the timers apart: start 5s, stop 7s, restart 3s, watchdog 11s.
ServiceSpec Base() {
  ServiceSpec s;
  s.name = "t.service";
  s.exec_start = {Cmd("/bin/main")};
  s.timeout_start = 5s;
  s.timeout_stop = 7s;
  s.restart_sec = 3s;
  s.start_limit_interval = 0s;  // off: no row depends on it
  return s;
}

// Type=simple with one command in every list.
ServiceSpec Full() {
  ServiceSpec s = Base();
  s.exec_condition = {Cmd("/bin/cond")};
  s.exec_start_pre = {Cmd("/bin/pre")};
  s.exec_start_post = {Cmd("/bin/post")};
  s.exec_reload = {Cmd("/bin/reload")};
  s.exec_stop = {Cmd("/bin/stop")};
  s.exec_stop_post = {Cmd("/bin/stoppost")};
  return s;
}

ServiceSpec Bare() {  // only ExecStart=, Restart=always
  ServiceSpec s = Base();
  s.restart = RestartPolicy::kAlways;
  return s;
}

ServiceSpec Notify() {
  ServiceSpec s = Base();
  s.type = ServiceType::kNotify;
  s.watchdog_sec = 11s;
  return s;
}

ServiceSpec Oneshot() {
  ServiceSpec s = Base();
  s.type = ServiceType::kOneshot;
  s.exec_start = {Cmd("/bin/a"), Cmd("/bin/b")};
  return s;
}

ServiceSpec WithKillMode(KillMode m) {
  ServiceSpec s = Base();
  s.kill_mode = m;
  return s;
}

// The canonical event of each kind, and variants, by name.
Event Make(const std::string& name, const ServiceFsm& fsm, Usec now) {
  static const std::map<std::string, K> kinds = {
      {"start", K::kStart},
      {"stop", K::kStop},
      {"restart", K::kRestart},
      {"overlap-restart", K::kOverlapRestart},
      {"reload", K::kReload},
      {"reset-failed", K::kResetFailed},
      {"conditions-checked", K::kConditionsChecked},
      {"instance-prepared", K::kInstancePrepared},
      {"spawn-failed", K::kSpawnFailed},
      {"main-spawned", K::kMainSpawned},
      {"main-exec-ok", K::kMainExecOk},
      {"main-exited", K::kMainExited},
      {"control-exited", K::kControlExited},
      {"timer", K::kTimer},
      {"all-gone", K::kAllGone},
      {"detached-main-exited", K::kDetachedMainExited},
      {"ready", K::kReady},
      {"reloading", K::kReloading},
      {"stopping", K::kStopping},
      {"watchdog-ping", K::kWatchdogPing},
      {"watchdog-usec", K::kWatchdogUsec},
      {"extend-timeout", K::kExtendTimeout},
      {"main-pid-changed", K::kMainPidChanged},
      {"watchdog-timeout", K::kWatchdogTimeout},
      {"watchdog-triggered", K::kWatchdogTriggered},
      // Variants.
      {"conditions-not-met", K::kConditionsChecked},
      {"assert-failed", K::kConditionsChecked},
      {"prepared-error", K::kInstancePrepared},
      {"prepared-stale", K::kInstancePrepared},
      {"main-exit-0", K::kMainExited},
      {"main-sigterm", K::kMainExited},
      {"control-exit-1", K::kControlExited},
      {"control-exit-255", K::kControlExited},
  };
  Event e = Event::At(kinds.at(name), now);
  e.start = true;
  e.attempt = fsm.start_attempts();
  e.exit = ExitStatus::Code(e.kind == K::kMainExited ? 1 : 0);
  e.usec = e.kind == K::kWatchdogUsec ? 2s : 30s;
  if (e.kind == K::kSpawnFailed) e.message = "fork: Resource temporarily unavailable";
  if (name == "conditions-not-met") {
    e.start = false;
    e.message = "ConditionPathExists=/x was not met";
  }
  if (name == "assert-failed") {
    e.start = false;
    e.assert_failed = true;
    e.message = "AssertPathExists=/x failed";
  }
  if (name == "prepared-error") e.message = "User=nobody2: no such user";
  if (name == "prepared-stale") e.attempt = fsm.start_attempts() - 1;
  if (name == "main-exit-0") e.exit = ExitStatus::Code(0);
  if (name == "main-sigterm") e.exit = ExitStatus::Signal(SIGTERM);
  if (name == "control-exit-1") e.exit = ExitStatus::Code(1);
  if (name == "control-exit-255") e.exit = ExitStatus::Code(255);
  return e;
}

const std::vector<std::string>& AllKinds() {
  static const std::vector<std::string> names = {
      "start", "stop", "restart", "overlap-restart", "reload", "reset-failed",
      "conditions-checked", "instance-prepared", "spawn-failed", "main-spawned", "main-exec-ok",
      "main-exited", "control-exited", "timer", "all-gone", "detached-main-exited", "ready",
      "reloading", "stopping", "watchdog-ping", "watchdog-usec", "extend-timeout",
      "main-pid-changed", "watchdog-timeout", "watchdog-triggered"};
  return names;
}

std::string Where(const ServiceFsm& fsm) {
  if (fsm.phase() == Phase::kDead) return StateName(fsm.state());
  if (fsm.phase() == Phase::kCondition) {
    if (fsm.preparing()) return "condition/prepare";
    return fsm.control_alive() ? "condition/exec" : "condition/check";
  }
  return PhaseName(fsm.phase());
}

struct Setup {
  std::function<ServiceSpec()> spec;
  std::vector<std::string> steps;  // events, from a fresh machine
  std::string where;               // where the steps lead
};

const std::vector<std::string> kToRunning = {"start", "conditions-checked", "instance-prepared",
                                             "control-exited", "control-exited", "main-spawned",
                                             "control-exited"};

std::vector<std::string> Then(std::vector<std::string> steps,
                              const std::vector<std::string>& more) {
  steps.insert(steps.end(), more.begin(), more.end());
  return steps;
}

const std::map<std::string, Setup>& Setups() {
  static const auto* setups = new std::map<std::string, Setup>{
      // Every phase, Type=simple with every command list.
      {"full/stopped", {Full, {}, "stopped"}},
      {"full/failed", {Full, {"start", "assert-failed"}, "failed"}},
      {"full/condition-check", {Full, {"start"}, "condition/check"}},
      {"full/condition-prepare", {Full, {"start", "conditions-checked"}, "condition/prepare"}},
      {"full/condition-exec",
       {Full, {"start", "conditions-checked", "instance-prepared"}, "condition/exec"}},
      {"full/start-pre",
       {Full, {"start", "conditions-checked", "instance-prepared", "control-exited"},
        "start-pre"}},
      {"full/start",
       {Full,
        {"start", "conditions-checked", "instance-prepared", "control-exited", "control-exited"},
        "start"}},
      {"full/start-post",
       {Full,
        {"start", "conditions-checked", "instance-prepared", "control-exited", "control-exited",
         "main-spawned"},
        "start-post"}},
      {"full/running", {Full, kToRunning, "running"}},
      {"full/reload", {Full, Then(kToRunning, {"reload"}), "reload"}},
      {"full/stop", {Full, Then(kToRunning, {"stop"}), "stop"}},
      {"full/stop-sigterm", {Full, Then(kToRunning, {"stop", "control-exited"}), "stop-sigterm"}},
      {"full/stop-sigkill",
       {Full, Then(kToRunning, {"stop", "control-exited", "timer"}), "stop-sigkill"}},
      {"full/stop-post",
       {Full, Then(kToRunning, {"stop", "control-exited", "main-sigterm", "all-gone"}),
        "stop-post"}},
      {"full/final-sigterm",
       {Full,
        Then(kToRunning, {"stop", "control-exited", "main-sigterm", "all-gone", "control-exited"}),
        "final-sigterm"}},
      {"full/final-sigkill",
       {Full,
        Then(kToRunning,
             {"stop", "control-exited", "main-sigterm", "all-gone", "control-exited", "timer"}),
        "final-sigkill"}},
      // Restart=always: the crash, the stop without ExecStop=, the back-off.
      {"bare/stop-sigterm",
       {Bare,
        {"start", "conditions-checked", "instance-prepared", "main-spawned", "main-exited"},
        "stop-sigterm"}},
      {"bare/auto-restart",
       {Bare,
        {"start", "conditions-checked", "instance-prepared", "main-spawned", "main-exited",
         "all-gone"},
        "auto-restart"}},
      // Type=notify with WatchdogSec=11s.
      {"notify/start",
       {Notify, {"start", "conditions-checked", "instance-prepared", "main-spawned"}, "start"}},
      {"notify/running",
       {Notify, {"start", "conditions-checked", "instance-prepared", "main-spawned", "ready"},
        "running"}},
      {"notify/reload",
       {Notify,
        {"start", "conditions-checked", "instance-prepared", "main-spawned", "ready",
         "reloading"},
        "reload"}},
      // Type=oneshot with two ExecStart=.
      {"oneshot/start",
       {Oneshot, {"start", "conditions-checked", "instance-prepared", "main-spawned"}, "start"}},
      // KillMode=.
      {"process/stop-sigterm",
       {[] { return WithKillMode(KillMode::kProcess); },
        {"start", "conditions-checked", "instance-prepared", "main-spawned", "stop"},
        "stop-sigterm"}},
      {"mixed/stop-sigterm",
       {[] { return WithKillMode(KillMode::kMixed); },
        {"start", "conditions-checked", "instance-prepared", "main-spawned", "stop"},
        "stop-sigterm"}},
      {"mixed/final-sigkill",
       {[] { return WithKillMode(KillMode::kMixed); },
        {"start", "conditions-checked", "instance-prepared", "main-spawned", "stop",
         "main-sigterm"},
        "final-sigkill"}},
      {"none/running",
       {[] { return WithKillMode(KillMode::kNone); },
        {"start", "conditions-checked", "instance-prepared", "main-spawned"},
        "running"}},
  };
  return *setups;
}

struct Row {
  const char* setup;
  const char* event;
  const char* actions;
  const char* next;
};

// Shorthands for action lines that recur.
#define SIGTERM_ALL "disarm-watchdog signal:all:SIGTERM timer:7s"
#define SIGKILL_ALL "disarm-watchdog signal:all:SIGKILL timer:7s"
#define WATCHDOG_FIRED "disarm-watchdog signal:all:SIGABRT timer:7s"
#define BEGIN_START "disarm disarm-watchdog reset check"
#define EXEC_STOP "disarm-watchdog timer:7s spawn:ExecStop[0]"
#define STOP_NO_EXEC_STOP "disarm-watchdog disarm-watchdog signal:all:SIGTERM timer:7s"
#define ON_ITS_OWN "disarm-watchdog timer:7s"

const Row kRows[] = {
    // dead (stopped): a start begins with the condition check.
    {"full/stopped", "start", BEGIN_START, "condition/check"},
    {"full/stopped", "restart", BEGIN_START, "condition/check"},
    // dead (failed): the same, and reset-failed makes it stopped.
    {"full/failed", "start", BEGIN_START, "condition/check"},
    {"full/failed", "restart", BEGIN_START, "condition/check"},
    {"full/failed", "reset-failed", "", "stopped"},

    // condition, checking Condition*=.
    {"full/condition-check", "conditions-checked", "timer:5s prepare:1", "condition/prepare"},
    {"full/condition-check", "conditions-not-met", "disarm", "stopped"},
    {"full/condition-check", "assert-failed", "disarm", "failed"},
    {"full/condition-check", "timer", SIGTERM_ALL, "stop-sigterm"},
    {"full/condition-check", "stop", SIGTERM_ALL, "stop-sigterm"},
    {"full/condition-check", "restart", SIGTERM_ALL, "stop-sigterm"},
    {"full/condition-check", "extend-timeout", "extend:30s", "condition/check"},
    // condition, preparing the instance.
    {"full/condition-prepare", "instance-prepared", "timer:5s spawn:ExecCondition[0]",
     "condition/exec"},
    {"full/condition-prepare", "prepared-error", SIGTERM_ALL, "stop-sigterm"},
    {"full/condition-prepare", "prepared-stale", "", "condition/prepare"},
    {"full/condition-prepare", "timer", SIGTERM_ALL, "stop-sigterm"},
    {"full/condition-prepare", "stop", SIGTERM_ALL, "stop-sigterm"},
    {"full/condition-prepare", "restart", SIGTERM_ALL, "stop-sigterm"},
    {"full/condition-prepare", "extend-timeout", "extend:30s", "condition/prepare"},
    // condition, ExecCondition= running.
    {"full/condition-exec", "control-exited", "timer:5s spawn:ExecStartPre[0]", "start-pre"},
    {"full/condition-exec", "control-exit-1", SIGTERM_ALL, "stop-sigterm"},    // skip
    {"full/condition-exec", "control-exit-255", SIGTERM_ALL, "stop-sigterm"},  // failure
    {"full/condition-exec", "spawn-failed", SIGTERM_ALL, "stop-sigterm"},
    {"full/condition-exec", "timer", SIGTERM_ALL, "stop-sigterm"},
    {"full/condition-exec", "stop", SIGTERM_ALL, "stop-sigterm"},
    {"full/condition-exec", "restart", SIGTERM_ALL, "stop-sigterm"},
    {"full/condition-exec", "extend-timeout", "extend:30s", "condition/exec"},

    // start-pre.
    {"full/start-pre", "control-exited", "timer:5s spawn-main[0]", "start"},
    {"full/start-pre", "control-exit-1", SIGTERM_ALL, "stop-sigterm"},
    {"full/start-pre", "spawn-failed", SIGTERM_ALL, "stop-sigterm"},
    {"full/start-pre", "timer", SIGTERM_ALL, "stop-sigterm"},
    {"full/start-pre", "stop", SIGTERM_ALL, "stop-sigterm"},
    {"full/start-pre", "restart", SIGTERM_ALL, "stop-sigterm"},
    {"full/start-pre", "extend-timeout", "extend:30s", "start-pre"},

    // start (Type=simple, before the spawn is confirmed).
    {"full/start", "main-spawned", "timer:5s spawn:ExecStartPost[0]", "start-post"},
    {"full/start", "main-exited", SIGTERM_ALL, "stop-sigterm"},
    {"full/start", "main-exit-0", SIGTERM_ALL, "stop-sigterm"},  // not ready yet: exit-code
    {"full/start", "spawn-failed", SIGTERM_ALL, "stop-sigterm"},
    {"full/start", "stopping", ON_ITS_OWN, "stop-sigterm"},
    {"full/start", "timer", SIGTERM_ALL, "stop-sigterm"},
    {"full/start", "stop", SIGTERM_ALL, "stop-sigterm"},
    {"full/start", "restart", SIGTERM_ALL, "stop-sigterm"},
    {"full/start", "extend-timeout", "extend:30s", "start"},

    // start-post.
    {"full/start-post", "control-exited", "disarm", "running"},
    {"full/start-post", "control-exit-1", EXEC_STOP, "stop"},
    {"full/start-post", "spawn-failed", EXEC_STOP, "stop"},
    {"full/start-post", "main-exited", SIGTERM_ALL, "stop-sigterm"},
    {"full/start-post", "main-exit-0", "", "start-post"},  // running notices it later
    {"full/start-post", "timer", SIGTERM_ALL, "stop-sigterm"},
    {"full/start-post", "stop", SIGTERM_ALL, "stop-sigterm"},
    {"full/start-post", "restart", SIGTERM_ALL, "stop-sigterm"},
    {"full/start-post", "extend-timeout", "extend:30s", "start-post"},

    // running.
    {"full/running", "stop", EXEC_STOP, "stop"},
    {"full/running", "restart", EXEC_STOP, "stop"},
    {"full/running", "reload", "timer:5s spawn:ExecReload[0]", "reload"},
    {"full/running", "reloading", "timer:5s", "reload"},
    {"full/running", "main-exited", EXEC_STOP, "stop"},
    {"full/running", "stopping", ON_ITS_OWN, "stop-sigterm"},
    {"full/running", "watchdog-usec", "watchdog:2s", "running"},
    {"full/running", "watchdog-timeout", WATCHDOG_FIRED, "stop-sigterm"},
    {"full/running", "watchdog-triggered", WATCHDOG_FIRED, "stop-sigterm"},

    // reload (ExecReload= running).
    {"full/reload", "control-exited", "disarm", "running"},
    {"full/reload", "control-exit-1", "disarm", "running"},  // reload failed
    {"full/reload", "spawn-failed", "disarm", "running"},
    {"full/reload", "reloading", "", "reload"},
    {"full/reload", "main-exited", SIGTERM_ALL, "stop-sigterm"},
    {"full/reload", "timer", "signal:control:SIGKILL disarm", "running"},
    {"full/reload", "stop", SIGTERM_ALL, "stop-sigterm"},
    {"full/reload", "restart", SIGTERM_ALL, "stop-sigterm"},
    {"full/reload", "watchdog-usec", "watchdog:2s", "reload"},
    {"full/reload", "watchdog-timeout", WATCHDOG_FIRED, "stop-sigterm"},
    {"full/reload", "watchdog-triggered", WATCHDOG_FIRED, "stop-sigterm"},
    {"full/reload", "extend-timeout", "extend:30s", "reload"},

    // stop (ExecStop= running).
    {"full/stop", "control-exited", SIGTERM_ALL, "stop-sigterm"},
    {"full/stop", "control-exit-1", SIGTERM_ALL, "stop-sigterm"},
    {"full/stop", "spawn-failed", SIGTERM_ALL, "stop-sigterm"},
    {"full/stop", "main-exited", "", "stop"},  // the result is noted
    {"full/stop", "timer", SIGTERM_ALL, "stop-sigterm"},
    {"full/stop", "start", "", "stop"},    // queued
    {"full/stop", "stop", "", "stop"},
    {"full/stop", "restart", "", "stop"},  // queued
    {"full/stop", "extend-timeout", "extend:30s", "stop"},

    // stop-sigterm (control-group: the whole cgroup must go).
    {"full/stop-sigterm", "main-exited", "", "stop-sigterm"},
    {"full/stop-sigterm", "main-sigterm", "", "stop-sigterm"},
    {"full/stop-sigterm", "timer", SIGKILL_ALL, "stop-sigkill"},
    {"full/stop-sigterm", "start", "", "stop-sigterm"},
    {"full/stop-sigterm", "stop", "", "stop-sigterm"},
    {"full/stop-sigterm", "restart", "", "stop-sigterm"},
    {"full/stop-sigterm", "extend-timeout", "extend:30s", "stop-sigterm"},

    // stop-sigkill.
    {"full/stop-sigkill", "timer", "abandon timer:7s spawn:ExecStopPost[0]", "stop-post"},
    {"full/stop-sigkill", "main-exited", "", "stop-sigkill"},
    {"full/stop-sigkill", "start", "", "stop-sigkill"},
    {"full/stop-sigkill", "stop", "", "stop-sigkill"},
    {"full/stop-sigkill", "restart", "", "stop-sigkill"},
    {"full/stop-sigkill", "extend-timeout", "extend:30s", "stop-sigkill"},

    // stop-post.
    {"full/stop-post", "control-exited", SIGTERM_ALL, "final-sigterm"},
    {"full/stop-post", "control-exit-1", SIGTERM_ALL, "final-sigterm"},
    {"full/stop-post", "spawn-failed", SIGTERM_ALL, "final-sigterm"},
    {"full/stop-post", "timer", SIGTERM_ALL, "final-sigterm"},
    {"full/stop-post", "start", "", "stop-post"},
    {"full/stop-post", "stop", "", "stop-post"},
    {"full/stop-post", "restart", "", "stop-post"},
    {"full/stop-post", "extend-timeout", "extend:30s", "stop-post"},

    // final-sigterm, final-sigkill.
    {"full/final-sigterm", "all-gone", "disarm", "stopped"},
    {"full/final-sigterm", "timer", SIGKILL_ALL, "final-sigkill"},
    {"full/final-sigterm", "start", "", "final-sigterm"},
    {"full/final-sigterm", "stop", "", "final-sigterm"},
    {"full/final-sigterm", "restart", "", "final-sigterm"},
    {"full/final-sigterm", "extend-timeout", "extend:30s", "final-sigterm"},
    {"full/final-sigkill", "all-gone", "disarm", "failed"},  // needing SIGKILL: timeout
    {"full/final-sigkill", "timer", "abandon disarm", "failed"},
    {"full/final-sigkill", "start", "", "final-sigkill"},
    {"full/final-sigkill", "stop", "", "final-sigkill"},
    {"full/final-sigkill", "restart", "", "final-sigkill"},
    {"full/final-sigkill", "extend-timeout", "extend:30s", "final-sigkill"},

    // Restart=always after a crash: stop-sigterm without ExecStop=, then auto-restart.
    {"bare/stop-sigterm", "all-gone", "disarm timer:3s", "auto-restart"},
    {"bare/stop-sigterm", "timer", SIGKILL_ALL, "stop-sigkill"},
    {"bare/stop-sigterm", "start", "", "stop-sigterm"},
    {"bare/stop-sigterm", "stop", "", "stop-sigterm"},
    {"bare/stop-sigterm", "restart", "", "stop-sigterm"},
    {"bare/stop-sigterm", "extend-timeout", "extend:30s", "stop-sigterm"},
    {"bare/auto-restart", "timer", BEGIN_START, "condition/check"},
    {"bare/auto-restart", "start", BEGIN_START, "condition/check"},
    {"bare/auto-restart", "restart", BEGIN_START, "condition/check"},
    {"bare/auto-restart", "stop", "disarm", "stopped"},

    // Type=notify: READY=1 is the readiness; the watchdog runs once running.
    {"notify/start", "ready", "disarm watchdog:11s", "running"},
    {"notify/start", "main-exited", SIGTERM_ALL, "stop-sigterm"},
    {"notify/start", "stopping", ON_ITS_OWN, "stop-sigterm"},
    {"notify/start", "timer", SIGTERM_ALL, "stop-sigterm"},
    {"notify/start", "stop", SIGTERM_ALL, "stop-sigterm"},
    {"notify/start", "restart", SIGTERM_ALL, "stop-sigterm"},
    {"notify/start", "extend-timeout", "extend:30s", "start"},
    {"notify/running", "overlap-restart",
     "disarm-watchdog detach disarm disarm-watchdog reset check", "condition/check"},
    {"notify/running", "reloading", "timer:5s", "reload"},
    {"notify/running", "watchdog-ping", "watchdog:11s", "running"},
    {"notify/running", "watchdog-usec", "watchdog:2s", "running"},
    {"notify/running", "watchdog-timeout", WATCHDOG_FIRED, "stop-sigterm"},
    {"notify/running", "watchdog-triggered", WATCHDOG_FIRED, "stop-sigterm"},
    {"notify/running", "stop", STOP_NO_EXEC_STOP, "stop-sigterm"},
    {"notify/running", "restart", STOP_NO_EXEC_STOP, "stop-sigterm"},
    {"notify/running", "main-exited", STOP_NO_EXEC_STOP, "stop-sigterm"},
    {"notify/running", "stopping", ON_ITS_OWN, "stop-sigterm"},
    {"notify/reload", "ready", "disarm watchdog:11s", "running"},
    {"notify/reload", "reloading", "", "reload"},
    {"notify/reload", "timer", "disarm", "running"},
    {"notify/reload", "main-exited", STOP_NO_EXEC_STOP, "stop-sigterm"},
    {"notify/reload", "stop", STOP_NO_EXEC_STOP, "stop-sigterm"},
    {"notify/reload", "restart", STOP_NO_EXEC_STOP, "stop-sigterm"},
    {"notify/reload", "stopping", ON_ITS_OWN, "stop-sigterm"},
    {"notify/reload", "watchdog-ping", "watchdog:11s", "reload"},
    {"notify/reload", "watchdog-usec", "watchdog:2s", "reload"},
    {"notify/reload", "watchdog-timeout", WATCHDOG_FIRED, "stop-sigterm"},
    {"notify/reload", "watchdog-triggered", WATCHDOG_FIRED, "stop-sigterm"},
    {"notify/reload", "extend-timeout", "extend:30s", "reload"},

    // Type=oneshot: each ExecStart= in turn.
    {"oneshot/start", "main-exit-0", "timer:5s spawn-main[1]", "start"},
    {"oneshot/start", "main-exited", SIGTERM_ALL, "stop-sigterm"},
    {"oneshot/start", "stopping", ON_ITS_OWN, "stop-sigterm"},
    {"oneshot/start", "timer", SIGTERM_ALL, "stop-sigterm"},
    {"oneshot/start", "stop", SIGTERM_ALL, "stop-sigterm"},
    {"oneshot/start", "restart", SIGTERM_ALL, "stop-sigterm"},
    {"oneshot/start", "extend-timeout", "extend:30s", "start"},

    // KillMode=process: only the main (and control) process counts.
    {"process/stop-sigterm", "main-exited", "disarm", "failed"},
    {"process/stop-sigterm", "main-sigterm", "disarm", "stopped"},
    {"process/stop-sigterm", "timer", "disarm-watchdog signal:main:SIGKILL timer:7s",
     "stop-sigkill"},
    {"process/stop-sigterm", "start", "", "stop-sigterm"},
    {"process/stop-sigterm", "stop", "", "stop-sigterm"},
    {"process/stop-sigterm", "restart", "", "stop-sigterm"},
    {"process/stop-sigterm", "extend-timeout", "extend:30s", "stop-sigterm"},
    // KillMode=mixed: the main process gets KillSignal=, then the rest FinalKillSignal=.
    {"mixed/stop-sigterm", "main-exited", SIGKILL_ALL, "final-sigkill"},
    {"mixed/stop-sigterm", "main-sigterm", SIGKILL_ALL, "final-sigkill"},
    {"mixed/stop-sigterm", "timer", SIGKILL_ALL, "stop-sigkill"},
    {"mixed/stop-sigterm", "start", "", "stop-sigterm"},
    {"mixed/stop-sigterm", "stop", "", "stop-sigterm"},
    {"mixed/stop-sigterm", "restart", "", "stop-sigterm"},
    {"mixed/stop-sigterm", "extend-timeout", "extend:30s", "stop-sigterm"},
    {"mixed/final-sigkill", "all-gone", "disarm", "stopped"},
    {"mixed/final-sigkill", "timer", "abandon disarm", "failed"},
    {"mixed/final-sigkill", "start", "", "final-sigkill"},
    {"mixed/final-sigkill", "stop", "", "final-sigkill"},
    {"mixed/final-sigkill", "restart", "", "final-sigkill"},
    {"mixed/final-sigkill", "extend-timeout", "extend:30s", "final-sigkill"},
    // KillMode=none: nothing is signalled or waited for.
    {"none/running", "stop", "disarm-watchdog disarm-watchdog abandon disarm", "stopped"},
    {"none/running", "restart",
     "disarm-watchdog disarm-watchdog abandon disarm " BEGIN_START, "condition/check"},
    {"none/running", "main-exited", "disarm-watchdog disarm-watchdog abandon disarm", "failed"},
    {"none/running", "reloading", "timer:5s", "reload"},
    {"none/running", "stopping", ON_ITS_OWN, "stop-sigterm"},
    {"none/running", "watchdog-usec", "watchdog:2s", "running"},
    {"none/running", "watchdog-timeout", ON_ITS_OWN, "stop-sigterm"},  // nothing to signal
    {"none/running", "watchdog-triggered", ON_ITS_OWN, "stop-sigterm"},
};

struct Machine {
  explicit Machine(ServiceSpec s) : spec(std::move(s)), fsm(&spec) {}
  ServiceSpec spec;
  ServiceFsm fsm;
  Usec now{1'000'000'000};
};

std::unique_ptr<Machine> Drive(const std::string& setup_name) {
  const Setup& setup = Setups().at(setup_name);
  auto m = std::make_unique<Machine>(setup.spec());
  for (const std::string& step : setup.steps) m->fsm.Handle(Make(step, m->fsm, m->now));
  EXPECT_EQ(Where(m->fsm), setup.where) << setup_name << ": the setup went elsewhere";
  return m;
}

// "actions -> next" after sending `event` to a machine in `setup`.
std::string Outcome(const std::string& setup, const std::string& event) {
  auto m = Drive(setup);
  const Actions acts = m->fsm.Handle(Make(event, m->fsm, m->now));
  return Describe(acts) + " -> " + Where(m->fsm);
}

TEST(FsmTableTest, TheCanonicalEventsCoverEveryKind) {
  std::set<K> seen;
  for (const auto& n : AllKinds()) seen.insert(Make(n, ServiceFsm(nullptr), Usec(0)).kind);
  EXPECT_EQ(seen.size(), static_cast<size_t>(K::kWatchdogTriggered) + 1);
}

TEST(FsmTableTest, EveryRowNamesASetupAndAnEvent) {
  const ServiceSpec spec = Base();
  const ServiceFsm fsm(&spec);
  for (const Row& r : kRows) {
    EXPECT_EQ(Setups().count(r.setup), 1u) << r.setup;
    EXPECT_NO_THROW(Make(r.event, fsm, Usec(0))) << r.event;
  }
}

TEST(FsmTableTest, EveryListedTransition) {
  for (const Row& r : kRows) {
    EXPECT_EQ(Outcome(r.setup, r.event), std::string(r.actions) + " -> " + r.next)
        << "in " << r.setup << " on " << r.event;
  }
}

TEST(FsmTableTest, EveryOtherEventDoesNothing) {
  for (const auto& [name, setup] : Setups()) {
    for (const std::string& event : AllKinds()) {
      bool listed = false;
      for (const Row& r : kRows) listed |= (name == r.setup && event == r.event);
      if (listed) continue;
      EXPECT_EQ(Outcome(name, event), " -> " + setup.where) << "in " << name << " on " << event;
    }
  }
}

}  // namespace
}  // namespace supd
