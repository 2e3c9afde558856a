#include "lib/supervise/saved_state.h"

#include <algorithm>

#include "lib/base/state_codec.h"

// The wire format: the 8 bytes "SUPDSTAT", a u32 format, a u32 length (little-endian), then
// that many bytes: SavedState's fields as a record (lib/base/state_codec.h). The length makes a
// state cut short at a field's end a refused state, not one with its last services missing. Each
// struct lists its fields once, below, for both directions. Tags are never reused: a field that
// goes keeps its tag unused, a field that comes takes the next tag of its struct (an older supd of
// the same format skips it), a field that changes meaning bumps kSavedStateFormat.
namespace supd {

namespace {

constexpr std::string_view kMagic = "SUPDSTAT";
constexpr size_t kFormatAt = kMagic.size();
constexpr size_t kLengthAt = kFormatAt + sizeof(uint32_t);
constexpr size_t kHeaderBytes = kLengthAt + sizeof(uint32_t);

bool IsSavedPhase(int64_t v) {
  return v == static_cast<int>(Phase::kDead) || v == static_cast<int>(Phase::kRunning) ||
         v == static_cast<int>(Phase::kBackoff);
}

constexpr StateCheck kSavedPhase{IsSavedPhase, "a phase a state is saved in"};
constexpr StateCheck kState = EnumCheck<State::kFailed>("a service state");
constexpr StateCheck kServiceResult = EnumCheck<ServiceResult::kOomKill>("a service result");
constexpr StateCheck kCauseKind = EnumCheck<Cause::Kind::kResult>("a cause");
constexpr StateCheck kOverlap = EnumCheck<Cause::Overlap::kRefusedStartLimit>("an overlap cause");
constexpr StateCheck kCommandList = EnumCheck<CommandList::kStopPost>("a command list");
constexpr StateCheck kRestartReason = EnumCheck<RestartReason::kOverlap>("a restart reason");
constexpr StateCheck kSocketState = EnumCheck<SocketState::kFailed>("a socket state");
constexpr StateCheck kExecKind = EnumCheck<ExecStatus::Kind::kFailed>("an exec outcome");
constexpr StateCheck kGoRuntimeMode = EnumCheck<GoRuntimeMode::kOff>("a GoRuntime= mode");
constexpr StateCheck kPid{[](int64_t v) { return v > 0; }, "a pid"};
constexpr StateCheck kFd{[](int64_t v) { return v >= 0; }, "an fd"};
constexpr StateCheck kFdOrNone{[](int64_t v) { return v >= -1; }, "an fd or -1 (none)"};
constexpr StateCheck kTimeLeft{[](int64_t v) { return v >= 0; }, "a time left (>= 0)"};

}  // namespace

// The fields of each struct, in the order of saved_state.h (and of the headers it names).
// They are in namespace supd, not a file-local one, so that the codec finds them by
// argument-dependent lookup.

template <typename Io>
void StateFields(Io& io, FieldsOf<Io, ExitStatus> s) {
  io.Field(1, "exited", s.exited);
  io.Field(2, "code", s.code);
  io.Field(3, "signal", s.signal);
  io.Field(4, "core_dumped", s.core_dumped);
  io.Field(5, "unknown", s.unknown);
}

template <typename Io>
void StateFields(Io& io, FieldsOf<Io, Cause> c) {
  io.Field(1, "kind", c.kind, kCauseKind);
  io.Field(2, "overlap", c.overlap, kOverlap);
  io.Field(3, "exit", c.exit);
  io.Field(4, "text", c.text);
  io.Field(5, "list", c.list, kCommandList);
  io.Field(6, "index", c.index);
  io.Field(7, "path", c.path);
  io.Field(8, "source", c.source);
  io.Field(9, "span", c.span);
  io.Field(10, "count", c.count);
  io.Field(11, "burst", c.burst);
  io.Field(12, "signal", c.signal);
  io.Field(13, "final_signal", c.final_signal);
  io.Field(14, "notify_type", c.notify_type);
  io.Field(15, "send_sigkill", c.send_sigkill);
  io.Field(16, "result", c.result, kServiceResult);
}

template <typename Io>
void StateFields(Io& io, FieldsOf<Io, SavedFsm> f) {
  io.Field(1, "phase", f.phase, kSavedPhase);
  io.Field(2, "failed", f.failed);
  io.Field(3, "result", f.result, kServiceResult);
  io.Field(4, "main_alive", f.main_alive);
  io.Field(5, "main_index", f.main_index);
  io.Field(6, "stop_requested", f.stop_requested);
  io.Field(7, "restarts", f.restarts);
  io.Field(8, "restart_streak", f.restart_streak);
  io.Field(9, "start_attempts", f.start_attempts);
  io.Field(10, "spawned_main_confirmed", f.spawned_main_confirmed);
  io.Field(11, "condition_skipped", f.condition_skipped);
  io.Field(12, "watchdog_override", f.watchdog_override);
  io.Field(13, "reloads_done", f.reloads_done);
  io.Field(14, "last_reload_failed", f.last_reload_failed);
  io.Field(15, "overlaps_failed", f.overlaps_failed);
  io.Field(16, "probe_ready", f.probe_ready);
  io.Field(17, "last_main_exit", f.last_main_exit);
  io.Field(18, "start_times", f.start_times);
  io.Field(19, "cause", f.cause);
}

template <typename Io>
void StateFields(Io& io, FieldsOf<Io, SavedOutput> o) {
  io.Field(1, "fd", o.fd, kFd);
  io.Field(2, "stream", o.stream);
  io.Field(3, "pending", o.pending);
  io.Field(4, "excerpt", o.excerpt);
}

template <typename Io>
void StateFields(Io& io, FieldsOf<Io, ExecAdjustment> a) {
  io.Field(1, "directive", a.directive);
  io.Field(2, "wanted", a.wanted);
  io.Field(3, "applied", a.applied);
  io.Field(4, "reason", a.reason);
  io.Field(5, "message", a.message);
}

template <typename Io>
void StateFields(Io& io, FieldsOf<Io, ExecStatus> e) {
  io.Field(1, "kind", e.kind, kExecKind);
  io.Field(2, "error", e.error);
  io.Field(3, "adjustments", e.adjustments);
}

template <typename Io>
void StateFields(Io& io, FieldsOf<Io, SavedProc> p) {
  io.Field(1, "pid", p.pid, kPid);
  io.Field(2, "path", p.path);
  io.Field(3, "working_directory", p.working_directory);
  io.Field(4, "started_realtime", p.started_realtime);
  io.Field(5, "exec", p.exec);
  io.Field(6, "adjustments_taken", p.adjustments_taken);
  io.Field(7, "outputs", p.outputs);
}

template <typename Io>
void StateFields(Io& io, FieldsOf<Io, UserInfo> u) {
  io.Field(1, "uid", u.uid);
  io.Field(2, "gid", u.gid);
  io.Field(3, "name", u.name);
  io.Field(4, "home", u.home);
  io.Field(5, "shell", u.shell);
}

template <typename Io>
void StateFields(Io& io, FieldsOf<Io, LimitReport> l) {
  io.Field(1, "directive", l.directive);
  io.Field(2, "value", l.value);
  io.Field(3, "enforced", l.enforced);
  io.Field(4, "detail", l.detail);
}

// An environment variable, a GoRuntime= setting.
template <typename Io>
void StateFields(Io& io, FieldsOf<Io, std::pair<std::string, std::string>> v) {
  io.Field(1, "name", v.first);
  io.Field(2, "value", v.second);
}

// A stored fd (FDSTORE=1).
template <typename Io>
void StateFields(Io& io, FieldsOf<Io, std::pair<std::string, int>> v) {
  io.Field(1, "name", v.first);
  io.Field(2, "fd", v.second, kFd);
}

template <typename Io>
void StateFields(Io& io, FieldsOf<Io, GoRuntimeStatus> g) {
  io.Field(1, "mode", g.mode, kGoRuntimeMode);
  io.Field(2, "set_by_supd", g.set_by_supd);
  io.Field(3, "from_unit", g.from_unit);
}

template <typename Io>
void StateFields(Io& io, FieldsOf<Io, SavedInstance> i) {
  io.Field(1, "invocation_id", i.invocation_id);
  io.Field(2, "started_monotonic", i.started_monotonic);
  io.Field(3, "attempt", i.attempt);
  io.Field(4, "user", i.user);
  io.Field(5, "group", i.group);
  io.Field(6, "groups", i.groups);
  io.Field(7, "unit_env", i.unit_env);
  io.Field(8, "env", i.env);
  io.Field(9, "setup_error", i.setup_error);
  io.Field(10, "limits", i.limits);
  io.Field(11, "go_runtime", i.go_runtime);
  io.Field(12, "output_warnings", i.output_warnings);
  io.Field(13, "adjustments", i.adjustments);
  io.Field(14, "cgroup", i.cgroup);
  io.Field(15, "pgids", i.pgids, kPid);
  io.Field(16, "main", i.main);
}

template <typename Io>
void StateFields(Io& io, FieldsOf<Io, UnitCounters> c) {
  io.Field(1, "restarts", c.restarts);
  io.Field(2, "oom_kills", c.oom_kills);
  io.Field(3, "probe_failures", c.probe_failures);
  io.Field(4, "created_realtime", c.created_realtime);
}

template <typename Io>
void StateFields(Io& io, FieldsOf<Io, LastExit> e) {
  io.Field(1, "status", e.status);
  io.Field(2, "reason", e.reason);
  io.Field(3, "stop_cause", e.stop_cause);
  io.Field(4, "pid", e.pid, kPid);
  io.Field(5, "excerpt", e.excerpt);
  io.Field(6, "oom", e.oom);
  io.Field(7, "at_realtime", e.at_realtime);
  io.Field(8, "at_monotonic", e.at_monotonic);
}

template <typename Io>
void StateFields(Io& io, FieldsOf<Io, SavedService> s) {
  io.Field(1, "name", s.name);
  io.Field(2, "fsm", s.fsm);
  io.Field(3, "current", s.current);
  io.Field(4, "stale_cgroups", s.stale_cgroups);
  io.Field(5, "timer_remaining", s.timer_remaining, kTimeLeft);
  io.Field(6, "watchdog_remaining", s.watchdog_remaining, kTimeLeft);
  io.Field(7, "fdstore", s.fdstore);
  io.Field(8, "status_text", s.status_text);
  io.Field(9, "status_errno", s.status_errno);
  io.Field(10, "last_exit", s.last_exit);
  io.Field(11, "last_state", s.last_state, kState);
  io.Field(12, "last_ready", s.last_ready);
  io.Field(13, "counters", s.counters);
  io.Field(14, "backoff_reason", s.backoff_reason, kRestartReason);
  io.Field(15, "seen_restarts", s.seen_restarts);
  io.Field(16, "monitor_env", s.monitor_env);
  io.Field(17, "monitor_from", s.monitor_from);
  io.Field(18, "since_realtime", s.since_realtime);
  io.Field(19, "since_monotonic", s.since_monotonic);
}

template <typename Io>
void StateFields(Io& io, FieldsOf<Io, SavedSocket> s) {
  io.Field(1, "identity", s.identity);
  io.Field(2, "fd", s.fd, kFd);
}

template <typename Io>
void StateFields(Io& io, FieldsOf<Io, SavedSocketUnit> u) {
  io.Field(1, "name", u.name);
  io.Field(2, "state", u.state, kSocketState);
  io.Field(3, "error", u.error);
  io.Field(4, "stopped_by_request", u.stopped_by_request);
  io.Field(5, "activations", u.activations);
  io.Field(6, "since_realtime", u.since_realtime);
  io.Field(7, "sockets", u.sockets);
}

template <typename Io>
void StateFields(Io& io, FieldsOf<Io, SavedTarget> t) {
  io.Field(1, "name", t.name);
  io.Field(2, "active", t.active);
  io.Field(3, "since_realtime", t.since_realtime);
}

template <typename Io>
void StateFields(Io& io, FieldsOf<Io, SavedDaemon> d) {
  io.Field(1, "reexecs", d.reexecs);
  io.Field(2, "control_fd", d.control_fd, kFd);
  io.Field(3, "notify_fd", d.notify_fd, kFdOrNone);
  io.Field(4, "metrics_fd", d.metrics_fd, kFdOrNone);
  io.Field(5, "started_realtime", d.started_realtime);
  io.Field(6, "notify_refused", d.notify_refused);
}

// `format` is the header's, not a field.
template <typename Io>
void StateFields(Io& io, FieldsOf<Io, SavedState> s) {
  io.Field(1, "writer_version", s.writer_version);
  io.Field(2, "daemon", s.daemon);
  io.Field(3, "boot_finished", s.boot_finished);
  io.List(4, "service", s.services);
  io.List(5, "socket unit", s.sockets);
  io.List(6, "target", s.targets);
}

std::vector<int> FdsOf(const SavedState& state) {
  std::vector<int> fds;
  for (const SavedService& s : state.services) {
    if (s.current && s.current->main) {
      for (const SavedOutput& o : s.current->main->outputs) fds.push_back(o.fd);
    }
    for (const auto& [name, fd] : s.fdstore) fds.push_back(fd);
  }
  for (const SavedSocketUnit& u : state.sockets) {
    for (const SavedSocket& socket : u.sockets) fds.push_back(socket.fd);
  }
  for (int fd : {state.daemon.control_fd, state.daemon.notify_fd, state.daemon.metrics_fd}) {
    if (fd >= 0) fds.push_back(fd);
  }
  return fds;
}

std::string EncodeSavedState(const SavedState& state) {
  const std::string fields = EncodeFields(state);
  std::string out(kMagic);
  AppendLittleEndian(&out, kSavedStateFormat);
  AppendLittleEndian(&out, static_cast<uint32_t>(fields.size()));
  return out + fields;
}

Result<SavedState> DecodeSavedState(std::string_view bytes) {
  const auto refuse = [](const std::string& why) { return Error{"saved state: " + why}; };
  if (bytes.size() > kMaxSavedStateBytes) {
    return refuse(std::to_string(bytes.size()) + " bytes, more than the " +
                  std::to_string(kMaxSavedStateBytes) + " this supd reads");
  }
  if (bytes.substr(0, kMagic.size()) != kMagic) {
    return refuse("not a supd state (it does not start with \"SUPDSTAT\")");
  }
  if (bytes.size() < kHeaderBytes) {
    return refuse("the header is cut short: " + std::to_string(bytes.size()) + " bytes of " +
                  std::to_string(kHeaderBytes));
  }
  SavedState state;
  // The format first: a newer one may frame the rest otherwise.
  state.format = LoadLittleEndian<uint32_t>(bytes.substr(kFormatAt));
  if (state.format > kSavedStateFormat) {
    return refuse("format " + std::to_string(state.format) + " is newer than this supd reads (" +
                  std::to_string(kSavedStateFormat) + ")");
  }
  if (state.format == 0) {
    return refuse("format 0 is not a format (this supd reads " + std::to_string(kSavedStateFormat) +
                  ")");
  }
  const auto length = LoadLittleEndian<uint32_t>(bytes.substr(kLengthAt));
  const std::string_view fields = bytes.substr(kHeaderBytes);
  if (fields.size() != length) {
    return refuse(std::to_string(fields.size()) + " bytes of fields, the header says " +
                  std::to_string(length));
  }
  if (auto decoded = DecodeFields(fields, &state); !decoded.ok()) {
    return refuse(decoded.error().message);
  }
  // Each fd has one owner in the new supd: an fd named twice would be closed twice.
  std::vector<int> fds = FdsOf(state);
  std::sort(fds.begin(), fds.end());
  if (auto twice = std::adjacent_find(fds.begin(), fds.end()); twice != fds.end()) {
    return refuse("fd " + std::to_string(*twice) + " is named twice");
  }
  return state;
}

}  // namespace supd
