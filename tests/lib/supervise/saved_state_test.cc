#include "lib/supervise/saved_state.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "lib/base/state_codec.h"

namespace supd {
namespace {

using std::string_literals::operator""s;

// Every field set, none to its default, so that a field the codec forgot shows.
Cause FullCause(int seed) {
  Cause c;
  c.kind = Cause::Kind::kControlFailed;
  c.overlap = Cause::Overlap::kOldGone;
  c.exit = ExitStatus{false, 3 + seed, 9, true, true};
  c.text = "text " + std::to_string(seed);
  c.list = CommandList::kStopPost;
  c.index = 2;
  c.path = "/bin/stop";
  c.source = "web.service:12";
  c.span = Usec(90'000'000);
  c.count = 5;
  c.burst = 6;
  c.signal = 15;
  c.final_signal = 9;
  c.notify_type = true;
  c.send_sigkill = false;
  c.result = ServiceResult::kOomKill;
  return c;
}

SavedService FullService(int n) {
  const int fd = 100 + 10 * n;
  SavedService s;
  s.name = "svc" + std::to_string(n) + ".service";
  SavedFsm& f = s.fsm;
  f.phase = static_cast<int>(Phase::kBackoff);
  f.failed = true;
  f.result = static_cast<int>(ServiceResult::kWatchdog);
  f.main_alive = true;
  f.main_index = 3;
  f.stop_requested = true;
  f.restarts = 7;
  f.restart_streak = 4;
  f.start_attempts = 11;
  f.spawned_main_confirmed = true;
  f.condition_skipped = true;
  f.watchdog_override = Usec(2'000'000);
  f.reloads_done = 2;
  f.last_reload_failed = true;
  f.overlaps_failed = 1;
  f.probe_ready = false;
  f.last_main_exit = ExitStatus::Signal(11, true);
  f.start_times = {Usec(1), Usec(2), Usec(3'000'000'000'000)};
  f.cause = FullCause(n);

  SavedInstance& i = s.current.emplace();
  i.invocation_id = "0123456789abcdef0123456789abcdef";
  i.started_monotonic = 123456789;
  i.attempt = 2;
  i.user = UserInfo{1000, 1001, "app", "/home/app", "/bin/sh"};
  i.group = 1002;
  i.groups = std::vector<gid_t>{5, 6};
  i.unit_env = {{"A", "1"}, {"B", "two=2"}};
  i.env = {{"PATH", "/usr/bin"}, {"EMPTY", ""}};
  i.setup_error = "no such user";
  i.limits = {LimitReport{"MemoryMax", "64M", true, "memory.max=67108864"}};
  i.go_runtime.mode = GoRuntimeMode::kOff;
  i.go_runtime.set_by_supd = {{"GOMEMLIMIT", "60MiB"}};
  i.go_runtime.from_unit = {{"GOMAXPROCS", "2"}};
  i.output_warnings = {"log file: Permission denied"};
  i.adjustments = {ExecAdjustment{"LimitNOFILE", "1048576", "20000", "no CAP_SYS_RESOURCE",
                                  "LimitNOFILE=1048576 clamped to 20000 (no CAP_SYS_RESOURCE)"}};
  i.cgroup = "/sys/fs/cgroup/supd/svc";
  i.pgids = {4000 + n, 4100 + n};
  SavedProc& p = i.main.emplace();
  p.pid = 4000 + n;
  p.path = "/usr/bin/app";
  p.working_directory = "/srv";
  p.started_realtime = 1'700'000'000'000'000;
  p.exec.kind = ExecStatus::Kind::kFailed;
  p.exec.error = "exec /usr/bin/app: No such file or directory";
  p.exec.adjustments = i.adjustments;
  p.adjustments_taken = 1;
  p.outputs = {SavedOutput{fd, "stdout", "half a li", {"line 1", "line 2"}},
               SavedOutput{fd + 1, "stderr", "", {"panic: x"}}};

  s.stale_cgroups = {"/sys/fs/cgroup/supd/old"};
  s.timer_remaining = Usec(250'000);
  s.watchdog_remaining = Usec(1'500'000);
  s.fdstore = {{"db", fd + 2}, {"cache", fd + 3}};
  s.status_text = "serving 12 requests";
  s.status_errno = 5;
  LastExit& e = s.last_exit.emplace();
  e.status = ExitStatus::Code(2);
  e.reason = "exited with status 2";
  e.stop_cause = FullCause(n + 1);
  e.pid = 3999;
  e.excerpt = {"err 1", "err 2"};
  e.oom = true;
  e.at_realtime = 1'700'000'000'000'001;
  e.at_monotonic = 99;
  s.last_state = static_cast<int>(State::kBackoff);
  s.last_ready = true;
  s.counters.restarts = {1, 2, 3, 4, 5, 6, 7, 8};
  s.counters.oom_kills = 9;
  s.counters.probe_failures = {10, 11, 12};
  s.counters.created_realtime = 1'600'000'000'000'000;
  s.backoff_reason = static_cast<int>(RestartReason::kOverlap);
  s.seen_restarts = 6;
  s.monitor_env = {{"MONITOR_SERVICE_RESULT", "exit-code"}};
  s.monitor_from = "other.service";
  s.since_realtime = 1'700'000'000'000'002;
  s.since_monotonic = 100;
  return s;
}

SavedState FullState() {
  SavedState st;
  st.writer_version = "0.1.0";
  st.daemon = SavedDaemon{3, 4, 5, 6, 1'500'000'000'000'000, 17};
  st.boot_finished = true;
  st.services = {FullService(0), FullService(1)};
  SavedSocketUnit u;
  u.name = "web.socket";
  u.state = static_cast<int>(SocketState::kFailed);
  u.error = "bind: Address already in use";
  u.stopped_by_request = true;
  u.activations = 3;
  u.since_realtime = 42;
  u.sockets = {SavedSocket{"tcp:127.0.0.1:8080", 7}, SavedSocket{"unix:/run/web.sock", 8}};
  st.sockets = {u};
  st.targets = {SavedTarget{"multi-user.target", true, 43}};
  return st;
}

// systemd's CVE-2018-15686: a STATUS= text that wrote state lines of its own. Here a text
// holding newlines, NULs, a header and field bytes must stay one string.
std::string TrickyText() {
  std::string any;
  for (int c = 0; c < 256; ++c) any.push_back(static_cast<char>(c));
  const std::string fake_field = "\x01\x00\x05\x00\x00\x00"s + "evil.";
  return "ok\nfsm.phase=1\n\0"s + fake_field + "SUPDSTAT\x02\x00\x00\x00"s + any;
}

SavedState TrickyTextState() {
  const std::string tricky = TrickyText();
  SavedState st = FullState();
  st.services[0].status_text = tricky;
  st.services[0].current->main->outputs[0].pending = tricky;
  st.services[0].current->main->outputs[1].excerpt = {tricky, "", tricky};
  st.services[1].last_exit->reason = tricky;
  st.services[1].name = tricky;
  return st;
}

// A running service with one process and its two pipes, nothing else set.
SavedState OneRunningService() {
  SavedState st;
  st.writer_version = "0.1.0";
  st.daemon.control_fd = 3;
  SavedService& s = st.services.emplace_back();
  s.name = "web.service";
  s.fsm.phase = static_cast<int>(Phase::kRunning);
  s.last_state = static_cast<int>(State::kRunning);
  SavedProc& p = s.current.emplace().main.emplace();
  p.pid = 1234;
  p.path = "/usr/bin/web";
  p.exec.kind = ExecStatus::Kind::kExecuted;
  p.outputs = {SavedOutput{10, "stdout", "", {}}, SavedOutput{11, "stderr", "", {}}};
  return st;
}

// Written by hand as a later supd of the same format would: an unknown field in the daemon's
// record, in a target and after the last known field; no services or sockets field at all.
std::string LaterSupdState() {
  const auto field = [](uint16_t tag, const std::string& payload) {
    std::string out;
    AppendLittleEndian(&out, tag);
    AppendLittleEndian(&out, static_cast<uint32_t>(payload.size()));
    return out + payload;
  };
  const auto u32 = [](uint32_t v) {
    std::string out;
    AppendLittleEndian(&out, v);
    return out;
  };
  const std::string target = field(1, "a.target") + field(2, "\x01") + field(9, "future");
  const std::string fields = field(1, "9.9.9") + field(2, field(2, u32(3)) + field(40, "later")) +
                             field(6, u32(1) + u32(static_cast<uint32_t>(target.size())) + target) +
                             field(7, "later");
  return "SUPDSTAT"s + u32(1) + u32(static_cast<uint32_t>(fields.size())) + fields;
}

SavedState RoundTrip(const SavedState& st) {
  auto back = DecodeSavedState(EncodeSavedState(st));
  EXPECT_TRUE(back.ok()) << back.error().message;
  return back.ok() ? std::move(back).value() : SavedState{};
}

std::string DecodeError(const std::string& bytes) {
  auto r = DecodeSavedState(bytes);
  return r.ok() ? "(decoded)" : r.error().message;
}
std::string DecodeError(const SavedState& st) { return DecodeError(EncodeSavedState(st)); }

void ExpectSameExit(const ExitStatus& a, const ExitStatus& b) {
  EXPECT_EQ(a.exited, b.exited);
  EXPECT_EQ(a.code, b.code);
  EXPECT_EQ(a.signal, b.signal);
  EXPECT_EQ(a.core_dumped, b.core_dumped);
  EXPECT_EQ(a.unknown, b.unknown);
}

void ExpectSameCause(const Cause& a, const Cause& b) {
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.overlap, b.overlap);
  ExpectSameExit(a.exit, b.exit);
  EXPECT_EQ(a.text, b.text);
  EXPECT_EQ(a.list, b.list);
  EXPECT_EQ(a.index, b.index);
  EXPECT_EQ(a.path, b.path);
  EXPECT_EQ(a.source, b.source);
  EXPECT_EQ(a.span, b.span);
  EXPECT_EQ(a.count, b.count);
  EXPECT_EQ(a.burst, b.burst);
  EXPECT_EQ(a.signal, b.signal);
  EXPECT_EQ(a.final_signal, b.final_signal);
  EXPECT_EQ(a.notify_type, b.notify_type);
  EXPECT_EQ(a.send_sigkill, b.send_sigkill);
  EXPECT_EQ(a.result, b.result);
}

void ExpectSameFsm(const SavedFsm& a, const SavedFsm& b) {
  EXPECT_EQ(a.phase, b.phase);
  EXPECT_EQ(a.failed, b.failed);
  EXPECT_EQ(a.result, b.result);
  EXPECT_EQ(a.main_alive, b.main_alive);
  EXPECT_EQ(a.main_index, b.main_index);
  EXPECT_EQ(a.stop_requested, b.stop_requested);
  EXPECT_EQ(a.restarts, b.restarts);
  EXPECT_EQ(a.restart_streak, b.restart_streak);
  EXPECT_EQ(a.start_attempts, b.start_attempts);
  EXPECT_EQ(a.spawned_main_confirmed, b.spawned_main_confirmed);
  EXPECT_EQ(a.condition_skipped, b.condition_skipped);
  EXPECT_EQ(a.watchdog_override, b.watchdog_override);
  EXPECT_EQ(a.reloads_done, b.reloads_done);
  EXPECT_EQ(a.last_reload_failed, b.last_reload_failed);
  EXPECT_EQ(a.overlaps_failed, b.overlaps_failed);
  EXPECT_EQ(a.probe_ready, b.probe_ready);
  ASSERT_EQ(a.last_main_exit.has_value(), b.last_main_exit.has_value());
  if (a.last_main_exit) ExpectSameExit(*a.last_main_exit, *b.last_main_exit);
  EXPECT_EQ(a.start_times, b.start_times);
  ExpectSameCause(a.cause, b.cause);
}

void ExpectSameProc(const SavedProc& a, const SavedProc& b) {
  EXPECT_EQ(a.pid, b.pid);
  EXPECT_EQ(a.path, b.path);
  EXPECT_EQ(a.working_directory, b.working_directory);
  EXPECT_EQ(a.started_realtime, b.started_realtime);
  EXPECT_EQ(a.exec.kind, b.exec.kind);
  EXPECT_EQ(a.exec.error, b.exec.error);
  EXPECT_EQ(a.exec.adjustments, b.exec.adjustments);
  EXPECT_EQ(a.adjustments_taken, b.adjustments_taken);
  ASSERT_EQ(a.outputs.size(), b.outputs.size());
  for (size_t k = 0; k < a.outputs.size(); ++k) {
    EXPECT_EQ(a.outputs[k].fd, b.outputs[k].fd);
    EXPECT_EQ(a.outputs[k].stream, b.outputs[k].stream);
    EXPECT_EQ(a.outputs[k].pending, b.outputs[k].pending);
    EXPECT_EQ(a.outputs[k].excerpt, b.outputs[k].excerpt);
  }
}

void ExpectSameInstance(const SavedInstance& a, const SavedInstance& b) {
  EXPECT_EQ(a.invocation_id, b.invocation_id);
  EXPECT_EQ(a.started_monotonic, b.started_monotonic);
  EXPECT_EQ(a.attempt, b.attempt);
  ASSERT_EQ(a.user.has_value(), b.user.has_value());
  if (a.user) {
    EXPECT_EQ(a.user->uid, b.user->uid);
    EXPECT_EQ(a.user->gid, b.user->gid);
    EXPECT_EQ(a.user->name, b.user->name);
    EXPECT_EQ(a.user->home, b.user->home);
    EXPECT_EQ(a.user->shell, b.user->shell);
  }
  EXPECT_EQ(a.group, b.group);
  EXPECT_EQ(a.groups, b.groups);
  EXPECT_EQ(a.unit_env, b.unit_env);
  EXPECT_EQ(a.env, b.env);
  EXPECT_EQ(a.setup_error, b.setup_error);
  ASSERT_EQ(a.limits.size(), b.limits.size());
  for (size_t k = 0; k < a.limits.size(); ++k) {
    EXPECT_EQ(a.limits[k].directive, b.limits[k].directive);
    EXPECT_EQ(a.limits[k].value, b.limits[k].value);
    EXPECT_EQ(a.limits[k].enforced, b.limits[k].enforced);
    EXPECT_EQ(a.limits[k].detail, b.limits[k].detail);
  }
  EXPECT_EQ(a.go_runtime.mode, b.go_runtime.mode);
  EXPECT_EQ(a.go_runtime.set_by_supd, b.go_runtime.set_by_supd);
  EXPECT_EQ(a.go_runtime.from_unit, b.go_runtime.from_unit);
  EXPECT_EQ(a.output_warnings, b.output_warnings);
  EXPECT_EQ(a.adjustments, b.adjustments);
  EXPECT_EQ(a.cgroup, b.cgroup);
  EXPECT_EQ(a.pgids, b.pgids);
  ASSERT_EQ(a.main.has_value(), b.main.has_value());
  if (a.main) ExpectSameProc(*a.main, *b.main);
}

void ExpectSameService(const SavedService& a, const SavedService& b) {
  EXPECT_EQ(a.name, b.name);
  ExpectSameFsm(a.fsm, b.fsm);
  ASSERT_EQ(a.current.has_value(), b.current.has_value());
  if (a.current) ExpectSameInstance(*a.current, *b.current);
  EXPECT_EQ(a.stale_cgroups, b.stale_cgroups);
  EXPECT_EQ(a.timer_remaining, b.timer_remaining);
  EXPECT_EQ(a.watchdog_remaining, b.watchdog_remaining);
  EXPECT_EQ(a.fdstore, b.fdstore);
  EXPECT_EQ(a.status_text, b.status_text);
  EXPECT_EQ(a.status_errno, b.status_errno);
  ASSERT_EQ(a.last_exit.has_value(), b.last_exit.has_value());
  if (a.last_exit) {
    ExpectSameExit(a.last_exit->status, b.last_exit->status);
    EXPECT_EQ(a.last_exit->reason, b.last_exit->reason);
    ExpectSameCause(a.last_exit->stop_cause, b.last_exit->stop_cause);
    EXPECT_EQ(a.last_exit->pid, b.last_exit->pid);
    EXPECT_EQ(a.last_exit->excerpt, b.last_exit->excerpt);
    EXPECT_EQ(a.last_exit->oom, b.last_exit->oom);
    EXPECT_EQ(a.last_exit->at_realtime, b.last_exit->at_realtime);
    EXPECT_EQ(a.last_exit->at_monotonic, b.last_exit->at_monotonic);
  }
  EXPECT_EQ(a.last_state, b.last_state);
  EXPECT_EQ(a.last_ready, b.last_ready);
  EXPECT_EQ(a.counters.restarts, b.counters.restarts);
  EXPECT_EQ(a.counters.oom_kills, b.counters.oom_kills);
  EXPECT_EQ(a.counters.probe_failures, b.counters.probe_failures);
  EXPECT_EQ(a.counters.created_realtime, b.counters.created_realtime);
  EXPECT_EQ(a.backoff_reason, b.backoff_reason);
  EXPECT_EQ(a.seen_restarts, b.seen_restarts);
  EXPECT_EQ(a.monitor_env, b.monitor_env);
  EXPECT_EQ(a.monitor_from, b.monitor_from);
  EXPECT_EQ(a.since_realtime, b.since_realtime);
  EXPECT_EQ(a.since_monotonic, b.since_monotonic);
}

void ExpectSameState(const SavedState& a, const SavedState& b) {
  EXPECT_EQ(a.format, b.format);
  EXPECT_EQ(a.writer_version, b.writer_version);
  EXPECT_EQ(a.daemon.reexecs, b.daemon.reexecs);
  EXPECT_EQ(a.daemon.control_fd, b.daemon.control_fd);
  EXPECT_EQ(a.daemon.notify_fd, b.daemon.notify_fd);
  EXPECT_EQ(a.daemon.metrics_fd, b.daemon.metrics_fd);
  EXPECT_EQ(a.daemon.started_realtime, b.daemon.started_realtime);
  EXPECT_EQ(a.daemon.notify_refused, b.daemon.notify_refused);
  EXPECT_EQ(a.boot_finished, b.boot_finished);
  ASSERT_EQ(a.services.size(), b.services.size());
  for (size_t k = 0; k < a.services.size(); ++k) ExpectSameService(a.services[k], b.services[k]);
  ASSERT_EQ(a.sockets.size(), b.sockets.size());
  for (size_t k = 0; k < a.sockets.size(); ++k) {
    const SavedSocketUnit& x = a.sockets[k];
    const SavedSocketUnit& y = b.sockets[k];
    EXPECT_EQ(x.name, y.name);
    EXPECT_EQ(x.state, y.state);
    EXPECT_EQ(x.error, y.error);
    EXPECT_EQ(x.stopped_by_request, y.stopped_by_request);
    EXPECT_EQ(x.activations, y.activations);
    EXPECT_EQ(x.since_realtime, y.since_realtime);
    ASSERT_EQ(x.sockets.size(), y.sockets.size());
    for (size_t j = 0; j < x.sockets.size(); ++j) {
      EXPECT_EQ(x.sockets[j].identity, y.sockets[j].identity);
      EXPECT_EQ(x.sockets[j].fd, y.sockets[j].fd);
    }
  }
  ASSERT_EQ(a.targets.size(), b.targets.size());
  for (size_t k = 0; k < a.targets.size(); ++k) {
    EXPECT_EQ(a.targets[k].name, b.targets[k].name);
    EXPECT_EQ(a.targets[k].active, b.targets[k].active);
    EXPECT_EQ(a.targets[k].since_realtime, b.targets[k].since_realtime);
  }
}

TEST(SavedState, RoundTripsEveryField) {
  const SavedState st = FullState();
  const SavedState back = RoundTrip(st);
  ExpectSameState(st, back);
  // And the same bytes again.
  EXPECT_EQ(EncodeSavedState(st), EncodeSavedState(back));
}

TEST(SavedState, RoundTripsAnEmptyDaemon) {
  SavedState st;
  st.daemon.control_fd = 3;
  ExpectSameState(st, RoundTrip(st));
}

TEST(SavedState, StartsWithMagicFormatAndLength) {
  SavedState st;
  st.daemon.control_fd = 3;
  const std::string bytes = EncodeSavedState(st);
  ASSERT_GE(bytes.size(), 16u);
  EXPECT_EQ("SUPDSTAT\x01\x00\x00\x00"s, bytes.substr(0, 12));
  EXPECT_EQ(bytes.size() - 16, LoadLittleEndian<uint32_t>(bytes.substr(12)));
}

TEST(SavedState, TextWithAnyBytesRoundTripsAsItself) {
  const SavedState st = TrickyTextState();
  EXPECT_EQ(TrickyText(), st.services[0].status_text);
  ExpectSameState(st, RoundTrip(st));
}

TEST(SavedState, CutShortAtAnyByteIsRefused) {
  const std::string bytes = EncodeSavedState(FullState());
  for (size_t n = 0; n < bytes.size(); ++n) {
    ASSERT_FALSE(DecodeSavedState(bytes.substr(0, n)).ok()) << n << " of " << bytes.size();
  }
  EXPECT_EQ("saved state: the header is cut short: 11 bytes of 16",
            DecodeError(bytes.substr(0, 11)));
  EXPECT_EQ("saved state: 10 bytes of fields, the header says " + std::to_string(bytes.size() - 16),
            DecodeError(bytes.substr(0, 26)));
  // Longer than its header says is refused too.
  EXPECT_FALSE(DecodeSavedState(bytes + "x").ok());
}

TEST(SavedState, RefusesANewerFormatWithBothVersions) {
  SavedState st;
  st.daemon.control_fd = 3;
  std::string bytes = EncodeSavedState(st);
  bytes[8] = 2;
  EXPECT_EQ("saved state: format 2 is newer than this supd reads (1)", DecodeError(bytes));
  // Whatever follows: a newer format may frame its fields otherwise.
  EXPECT_EQ("saved state: format 2 is newer than this supd reads (1)",
            DecodeError(bytes.substr(0, 12) + "\xff\xff\xff\xff garbage"s));
  bytes[8] = 0;
  EXPECT_EQ("saved state: format 0 is not a format (this supd reads 1)", DecodeError(bytes));
}

TEST(SavedState, RefusesWhatIsNotAState) {
  EXPECT_EQ("saved state: not a supd state (it does not start with \"SUPDSTAT\")",
            DecodeError("SUPDSTA"));
  EXPECT_EQ("saved state: not a supd state (it does not start with \"SUPDSTAT\")",
            DecodeError("#!/bin/sh\n"));
  const std::string huge(kMaxSavedStateBytes + 1, 'x');
  EXPECT_EQ("saved state: 67108865 bytes, more than the 67108864 this supd reads",
            DecodeError(huge));
}

TEST(SavedState, RefusesEnumsOutOfRangeNamingTheField) {
  {
    SavedState st = FullState();
    st.services[1].fsm.phase = static_cast<int>(Phase::kStart);
    EXPECT_EQ("saved state: service 1: field fsm.phase: 3 is not a phase a state is saved in",
              DecodeError(st));
  }
  {
    SavedState st = FullState();
    st.services[0].fsm.result = 11;
    EXPECT_EQ("saved state: service 0: field fsm.result: 11 is not a service result",
              DecodeError(st));
  }
  {
    SavedState st = FullState();
    st.services[0].fsm.cause.kind = static_cast<Cause::Kind>(24);
    EXPECT_EQ("saved state: service 0: field fsm.cause.kind: 24 is not a cause", DecodeError(st));
  }
  {
    SavedState st = FullState();
    st.services[0].last_exit->stop_cause.overlap = static_cast<Cause::Overlap>(-1);
    EXPECT_EQ(
        "saved state: service 0: field last_exit.stop_cause.overlap: -1 is not an overlap "
        "cause",
        DecodeError(st));
  }
  {
    SavedState st = FullState();
    st.services[0].fsm.cause.list = static_cast<CommandList>(7);
    EXPECT_EQ("saved state: service 0: field fsm.cause.list: 7 is not a command list",
              DecodeError(st));
  }
  {
    SavedState st = FullState();
    st.services[0].last_state = 7;
    EXPECT_EQ("saved state: service 0: field last_state: 7 is not a service state",
              DecodeError(st));
  }
  {
    SavedState st = FullState();
    st.services[0].backoff_reason = 8;
    EXPECT_EQ("saved state: service 0: field backoff_reason: 8 is not a restart reason",
              DecodeError(st));
  }
  {
    SavedState st = FullState();
    st.sockets[0].state = 3;
    EXPECT_EQ("saved state: socket unit 0: field state: 3 is not a socket state", DecodeError(st));
  }
  {
    SavedState st = FullState();
    st.services[1].current->main->exec.kind = static_cast<ExecStatus::Kind>(3);
    EXPECT_EQ("saved state: service 1: field current.main.exec.kind: 3 is not an exec outcome",
              DecodeError(st));
  }
  {
    SavedState st = FullState();
    st.services[0].current->go_runtime.mode = static_cast<GoRuntimeMode>(2);
    EXPECT_EQ("saved state: service 0: field current.go_runtime.mode: 2 is not a GoRuntime= mode",
              DecodeError(st));
  }
}

TEST(SavedState, RefusesPidsAndFdsThatCannotBe) {
  {
    SavedState st = FullState();
    st.services[0].current->main->pid = 0;
    EXPECT_EQ("saved state: service 0: field current.main.pid: 0 is not a pid", DecodeError(st));
  }
  {
    SavedState st = FullState();
    st.services[1].current->pgids[1] = -4;
    EXPECT_EQ("saved state: service 1: field current.pgids[1]: -4 is not a pid", DecodeError(st));
  }
  {
    SavedState st = FullState();
    st.services[0].current->main->outputs[1].fd = -1;
    EXPECT_EQ("saved state: service 0: field current.main.outputs[1].fd: -1 is not an fd",
              DecodeError(st));
  }
  {
    SavedState st = FullState();
    st.services[0].fdstore[0].second = -1;
    EXPECT_EQ("saved state: service 0: field fdstore[0].fd: -1 is not an fd", DecodeError(st));
  }
  {
    SavedState st = FullState();
    st.daemon.control_fd = -1;
    EXPECT_EQ("saved state: field daemon.control_fd: -1 is not an fd", DecodeError(st));
  }
  {
    // -1 is "none" for the notify and metrics sockets; below that nothing.
    SavedState st = FullState();
    st.daemon.notify_fd = -1;
    st.daemon.metrics_fd = -1;
    EXPECT_TRUE(DecodeSavedState(EncodeSavedState(st)).ok());
    st.daemon.metrics_fd = -2;
    EXPECT_EQ("saved state: field daemon.metrics_fd: -2 is not an fd or -1 (none)",
              DecodeError(st));
  }
  {
    SavedState st = FullState();
    st.services[1].timer_remaining = Usec(-1);
    EXPECT_EQ("saved state: service 1: field timer_remaining: -1 is not a time left (>= 0)",
              DecodeError(st));
  }
  {
    SavedState st = FullState();
    st.sockets[0].sockets[1].fd = st.services[1].fdstore[0].second;
    EXPECT_EQ("saved state: fd 112 is named twice", DecodeError(st));
  }
}

TEST(SavedState, SkipsFieldsALaterSupdAddedAndKeepsDefaultsForAbsentOnes) {
  auto st = DecodeSavedState(LaterSupdState());
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ("9.9.9", st->writer_version);
  EXPECT_EQ(3, st->daemon.control_fd);
  EXPECT_EQ(-1, st->daemon.notify_fd);
  EXPECT_TRUE(st->services.empty());
  ASSERT_EQ(1u, st->targets.size());
  EXPECT_EQ("a.target", st->targets[0].name);
  EXPECT_TRUE(st->targets[0].active);
  EXPECT_EQ(0, st->targets[0].since_realtime);
}

TEST(SavedState, RefusesAStateWithoutItsControlSocket) {
  // An absent field is its default, checked as a written one: the daemon's record left out
  // means a control_fd of -1.
  EXPECT_EQ("saved state: field daemon.control_fd: absent, and its default -1 is not an fd",
            DecodeError("SUPDSTAT\x01\x00\x00\x00\x00\x00\x00\x00"s));
}

TEST(SavedState, FdsOfNamesEveryKeptFdInOrder) {
  const SavedState st = FullState();
  EXPECT_EQ((std::vector<int>{100, 101, 102, 103, 110, 111, 112, 113, 7, 8, 4, 5, 6}), FdsOf(st));
  SavedState none;
  none.daemon.control_fd = 3;
  EXPECT_EQ(std::vector<int>{3}, FdsOf(none));
}

// The fuzz target's seeds (tests/fuzz/corpus/saved_state/), written when SUPD_SAVED_STATE_SEEDS
// names a directory:
//   SUPD_SAVED_STATE_SEEDS=tests/fuzz/corpus/saved_state build/tests/supd_unit_tests
//   --gtest_filter=SavedState.FuzzSeeds
TEST(SavedState, FuzzSeeds) {
  SavedState empty;
  empty.daemon.control_fd = 3;
  std::string newer = EncodeSavedState(empty);
  newer[8] = 2;
  const std::vector<std::pair<std::string, std::string>> seeds = {
      {"full", EncodeSavedState(FullState())},
      {"empty", EncodeSavedState(empty)},
      {"one-running-service", EncodeSavedState(OneRunningService())},
      {"tricky-text", EncodeSavedState(TrickyTextState())},
      {"later-supd", LaterSupdState()},
      {"newer-format", newer},
      {"no-daemon-record", "SUPDSTAT\x01\x00\x00\x00\x00\x00\x00\x00"s},
  };
  const auto refused = [](const std::string& name) {
    return name == "newer-format" || name == "no-daemon-record";
  };
  const char* dir = std::getenv("SUPD_SAVED_STATE_SEEDS");
  for (const auto& [name, bytes] : seeds) {
    EXPECT_EQ(!refused(name), DecodeSavedState(bytes).ok()) << name;
    if (dir == nullptr) continue;
    std::ofstream out(std::string(dir) + "/" + name, std::ios::binary | std::ios::trunc);
    out << bytes;
    ASSERT_TRUE(out.good()) << dir << "/" << name;
  }
}

}  // namespace
}  // namespace supd
