#include "lib/control/handler.h"

#include <sys/stat.h>

#include <boost/asio/io_context.hpp>
#include <fstream>
#include <sstream>

#include "lib/control/job_text.h"
#include "lib/control/request_args.h"
#include "lib/control/status_json.h"
#include "lib/log/log_writer.h"
#include "lib/metrics/exposition.h"

namespace supd::control {
namespace {

using nlohmann::json;

// The unit names of a request (`key`: "services", or "units" for enable and friends),
// normalised ("web" → "web.service").
Result<std::vector<std::string>> UnitArgs(const json& args, std::string_view key = "services") {
  auto names = StringListArg(args, key);
  if (!names.ok()) return names.take_error();
  std::vector<std::string> out;
  for (const auto& n : *names) {
    auto u = NormalizeUnitName(n);
    if (!u.ok()) return u.take_error();
    out.push_back(std::move(*u));
  }
  return out;
}

// Collects the outcomes of one operation on several units into one answer. `result` starts the
// answer's object (enable --now puts its "changes" there); "notes" is added.
struct Fanout {
  size_t left = 0;
  std::vector<std::string> errors;
  std::vector<std::string> notes;
  json result = json::object();
  ReplyFn reply;
  void Done(const JobResult& r) {
    if (!r.ok()) {
      errors.push_back(JobErrorText(r));
    } else if (auto note = JobNoteText(r)) {
      notes.push_back(*note);
    }
    if (--left > 0) return;
    if (errors.empty()) {
      result["notes"] = notes;
      reply(Reply::Ok(std::move(result)));
      return;
    }
    std::string all;
    for (const auto& e : errors) all += (all.empty() ? "" : "; ") + e;
    reply(Reply::Fail(kFailed, all));
  }
};

// "no_block" and "timeout_ms" of start, stop, restart, reload, and enable/disable --now.
Result<JobOptions> JobOptionsArgs(const json& args) {
  JobOptions options;
  auto no_block = BoolArg(args, "no_block", false);
  if (!no_block.ok()) return no_block.take_error();
  auto timeout = UnsignedArg(args, "timeout_ms", UINT32_MAX);
  if (!timeout.ok()) return timeout.take_error();
  options.no_block = *no_block;
  if (*timeout) options.timeout = std::chrono::milliseconds(**timeout);
  return options;
}

}  // namespace

RequestHandler::RequestHandler(boost::asio::io_context& io, Manager& manager,
                               std::shared_ptr<BlockingWork> worker)
    : manager_(manager), worker_(std::move(worker)), logs_(io, manager), events_(io, manager) {}

void RequestHandler::Handle(const Request& req, const Peer& peer, ReplyFn reply) {
  // Answered at once, also while the units load: an orchestrator's probe asks it.
  if (req.cmd == "is-system-running")
    return reply(Reply::Ok({{"state", SystemStateName(manager_.system_state())}}));
  if (ready_) return Run(req, peer, std::move(reply));
  if (shutting_down_) return reply(Reply::Fail(kFailed, "supd is shutting down"));
  if (waiting_.size() >= kMaxWaiting)
    return reply(Reply::Fail(kBusy, "supd is still loading its units; try again"));
  waiting_.emplace_back(req, peer, std::move(reply));
}

void RequestHandler::SetReady() {
  ready_ = true;
  auto waiting = std::move(waiting_);
  waiting_.clear();
  for (auto& [req, peer, reply] : waiting) Run(req, peer, std::move(reply));
}

void RequestHandler::ShuttingDown() {
  shutting_down_ = true;
  auto waiting = std::move(waiting_);
  waiting_.clear();
  for (auto& w : waiting) std::get<2>(w)(Reply::Fail(kFailed, "supd is shutting down"));
}

void RequestHandler::Run(const Request& req, const Peer& peer, ReplyFn reply) {
  const std::string& cmd = req.cmd;
  if (cmd == "ping" || cmd == "version") {
    const DaemonSnapshot d = manager_.Daemon();
    json result = DaemonJson(d);
    result["reexecs"] = reexecs_;
    result["started_realtime"] = started_realtime_ != 0 ? started_realtime_ : d.start_realtime;
    return reply(Reply::Ok(std::move(result)));
  }
  if (cmd == "status" || cmd == "list") return Status(req, peer, reply);
  if (cmd == "check") return reply(Reply::Ok(CheckJson(manager_.Check())));
  if (cmd == "cat") return Cat(req, peer, std::move(reply));
  if (cmd == "logs") return Logs(req, peer, std::move(reply));
  if (cmd == "events") return Events(req, peer, std::move(reply));
  if (cmd == "metrics") return Metrics(req, reply);
  if (cmd == "enable" || cmd == "disable") return Install(req, std::move(reply));
  if (cmd == "is-enabled") return IsEnabled(req, reply);
  if (cmd == "list-dependencies") return ListDependencies(req, reply);
  if (cmd == "daemon-reload") {
    manager_.ReloadUnits([reply = std::move(reply)](const ReloadSummary& s) {
      reply(Reply::Ok(json{{"added", s.added},
                           {"changed", s.changed},
                           {"removed", s.removed},
                           {"failed", s.failed}}));
    });
    return;
  }
  if (cmd == "daemon-reexec") return DaemonReexec(req, peer, std::move(reply));
  Operation(req, std::move(reply));
}

void RequestHandler::DaemonReexec(const Request& req, const Peer& peer, ReplyFn reply) {
  // The server refuses it to unprivileged peers already; this is the second lock on the door.
  if (!peer.privileged) {
    return reply(Reply::Fail(kPermissionDenied,
                             "permission denied: 'daemon-reexec' needs root, supd's own user or "
                             "the supd group (you are uid " +
                                 std::to_string(peer.uid) + ")"));
  }
  if (shutting_down_) return reply(Reply::Fail(kFailed, "daemon-reexec: supd is shutting down"));
  if (!reexec_) return reply(Reply::Fail(kFailed, "daemon-reexec: not available in this supd"));
  auto timeout = UnsignedArg(req.args, "timeout_ms", UINT32_MAX);
  if (!timeout.ok()) return reply(Reply::Fail(kBadRequest, timeout.error().message));
  const std::chrono::milliseconds wait =
      *timeout && **timeout > 0 ? std::chrono::milliseconds(**timeout) : kDefaultReexecTimeout;
  reexec_(wait, [reply = std::move(reply)](Result<uint64_t> decided) {
    if (!decided.ok()) return reply(Reply::Fail(kFailed, decided.error().message));
    reply(Reply::Ok(json{{"reexecs", *decided}}));
  });
}

void RequestHandler::Status(const Request& req, const Peer& peer, const ReplyFn& reply) {
  auto names = UnitArgs(req.args);
  if (!names.ok()) return reply(Reply::Fail(kNotFound, names.error().message));
  auto snaps = manager_.Snapshot(*names);
  if (!snaps.ok()) return reply(Reply::Fail(kNotFound, snaps.error().message));
  json out = json::array();
  std::vector<std::string> services;
  for (const UnitSnapshot& u : *snaps) {
    out.push_back(UnitJson(u, peer.privileged));
    if (const auto* s = std::get_if<ServiceSnapshot>(&u)) services.push_back(s->name);
  }
  // What status reports (an exit, say) is in the log files when the answer arrives: the
  // answer waits for the log writer, at most 200 ms.
  manager_.log_writer().WhenFlushed(
      manager_.LogSinks(services),
      [reply, out = std::move(out)]() mutable { reply(Reply::Ok(std::move(out))); },
      std::chrono::milliseconds(200));
}

void RequestHandler::Cat(const Request& req, const Peer& peer, ReplyFn reply) {
  auto names = UnitArgs(req.args);
  if (!names.ok()) return reply(Reply::Fail(kNotFound, names.error().message));
  std::vector<std::pair<std::string, std::string>> files;  // unit, path
  for (const auto& n : *names) {
    auto r = manager_.Resolve(n, false);
    if (!r.ok()) return reply(Reply::Fail(kNotFound, r.error().message));
    auto paths = manager_.UnitFiles(*r);
    if (!paths.ok()) return reply(Reply::Fail(kNotFound, paths.error().message));
    for (const auto& p : *paths) files.emplace_back(*r, p);
  }
  // A unit file may be anything a user pointed it at: read it off the loop.
  worker_->Run([files, privileged = peer.privileged, reply = std::move(reply), alive = alive_]() {
    json out = json::array();
    std::optional<Reply> failure;
    for (const auto& [unit, path] : files) {
      // supd reads as root: show a unit only to who could read the file itself.
      struct stat st;
      if (!privileged && (::stat(path.c_str(), &st) < 0 || (st.st_mode & S_IROTH) == 0)) {
        failure = Reply::Fail(kPermissionDenied,
                              "permission denied: " + path + " is not world-readable");
        break;
      }
      std::ifstream in(path);
      std::stringstream ss;
      ss << in.rdbuf();
      out.push_back({{"name", unit}, {"path", path}, {"text", ss.str()}});
    }
    Reply r = failure ? std::move(*failure) : Reply::Ok(std::move(out));
    return std::function<void()>([reply, r = std::move(r), alive]() mutable {
      if (*alive) reply(std::move(r));
    });
  });
}

void RequestHandler::Logs(const Request& req, const Peer& peer, ReplyFn reply) {
  auto q = ParseLogArgs(req.args);
  if (!q.ok()) return reply(Reply::Fail(kBadRequest, "logs: " + q.error().message));
  auto names = UnitArgs(req.args);
  if (!names.ok()) return reply(Reply::Fail(kNotFound, names.error().message));
  if (names->empty()) return reply(Reply::Fail(kBadRequest, "logs: name at least one service"));
  std::vector<std::string> resolved;
  for (const auto& n : *names) {
    auto r = manager_.Resolve(n, false);
    if (!r.ok()) return reply(Reply::Fail(kNotFound, r.error().message));
    resolved.push_back(*r);
  }
  logs_.Handle(resolved, *q, peer, std::move(reply));
}

// Every name is resolved before the subscription: an unknown unit is refused, not waited for.
void RequestHandler::Events(const Request& req, const Peer& peer, ReplyFn reply) {
  auto names = StringListArg(req.args, "units");
  if (!names.ok()) return reply(Reply::Fail(kBadRequest, names.error().message));
  std::vector<std::string> units;
  for (const auto& n : *names) {
    auto u = NormalizeUnitName(n);
    if (!u.ok()) return reply(Reply::Fail(kNotFound, u.error().message));
    auto r = manager_.Resolve(*u, false);
    if (!r.ok()) return reply(Reply::Fail(kNotFound, r.error().message));
    units.push_back(*r);
  }
  events_.Handle(units, peer, std::move(reply));
}

// The Prometheus exposition, as GET /metrics serves it: {"format": "text" (default) or
// "openmetrics"} → {"content_type", "text"}.
void RequestHandler::Metrics(const Request& req, const ReplyFn& reply) {
  auto format = StringArg(req.args, "format");
  if (!format.ok()) return reply(Reply::Fail(kBadRequest, "metrics: " + format.error().message));
  auto f = metrics::Format::kPrometheusText;
  if (*format && **format == "openmetrics") {
    f = metrics::Format::kOpenMetrics;
  } else if (*format && **format != "text") {
    const std::string shown =
        json((*format)->substr(0, 64)).dump(-1, ' ', false, json::error_handler_t::replace);
    return reply(Reply::Fail(
        kBadRequest, "metrics: unknown format " + shown + " (\"text\" or \"openmetrics\")"));
  }
  auto units = manager_.Snapshot({});
  if (!units.ok()) return reply(Reply::Fail(kFailed, units.error().message));
  metrics::ExpositionInput in{SUPD_VERSION, manager_.Daemon(), std::move(*units),
                              metrics::ReadSelfProcessStats()};
  reply(
      Reply::Ok(json{{"content_type", metrics::ContentType(f)}, {"text", metrics::Render(in, f)}}));
}

// start, stop, restart, reload, kill, reset-failed: each named unit, one answer for all.
void RequestHandler::Operation(const Request& req, ReplyFn reply) {
  const std::string& cmd = req.cmd;
  auto names = UnitArgs(req.args);
  if (!names.ok()) return reply(Reply::Fail(kNotFound, names.error().message));
  if (names->empty()) return reply(Reply::Fail(kBadRequest, "no service named (args.services)"));
  auto options = JobOptionsArgs(req.args);
  if (!options.ok()) return reply(Reply::Fail(kBadRequest, options.error().message));
  auto hard = BoolArg(req.args, "hard", false);
  auto sig = SignalArg(req.args, "signal", SIGTERM);
  auto whom = StringArg(req.args, "whom");
  for (const Error* e : {hard.ok() ? nullptr : &hard.error(), sig.ok() ? nullptr : &sig.error(),
                         whom.ok() ? nullptr : &whom.error()})
    if (e) return reply(Reply::Fail(kBadRequest, e->message));
  if (*whom && **whom != "all" && **whom != "main")
    return reply(Reply::Fail(kBadRequest, "\"whom\" must be \"all\" or \"main\""));
  // Every name first: an unknown one refuses the whole request before anything is done.
  const bool create = cmd == "start" || cmd == "restart";
  std::vector<std::string> units;
  for (const auto& n : *names) {
    auto r = manager_.Resolve(n, create);
    if (!r.ok()) return reply(Reply::Fail(kNotFound, r.error().message));
    units.push_back(*r);
  }
  auto fan = std::make_shared<Fanout>();
  fan->left = units.size();
  fan->reply = std::move(reply);
  for (const auto& u : units) {
    JobDone done = [fan](const JobResult& r) { fan->Done(r); };
    if (cmd == "start") {
      manager_.Start(u, *options, std::move(done));
    } else if (cmd == "stop") {
      manager_.Stop(u, *options, std::move(done));
    } else if (cmd == "restart") {
      manager_.Restart(u, *hard, *options, std::move(done));
    } else if (cmd == "reload") {
      manager_.Reload(u, *options, std::move(done));
    } else if (cmd == "kill") {
      manager_.Kill(u, *sig, *whom && **whom == "main", done);
    } else if (cmd == "reset-failed") {
      manager_.ResetFailed(u, done);
    } else {
      // ParseRequest lets only known commands through; this is a bug guard, not a feature gap.
      JobResult r;
      r.kind = JobResult::Kind::kNotFound;
      r.text = "unknown command '" + cmd + "'";
      done(r);
    }
  }
}

// enable, disable: the links first (Manager::Enable/Disable), then with "now" a start or stop
// of each unit, answered as `start` and `stop` answer, with "changes" beside "notes". A job that
// fails then fails the request; the links stay made, as systemctl leaves them.
void RequestHandler::Install(const Request& req, ReplyFn reply) {
  const bool enable = req.cmd == "enable";
  auto names = UnitArgs(req.args, "units");
  if (!names.ok()) return reply(Reply::Fail(kNotFound, names.error().message));
  if (names->empty()) return reply(Reply::Fail(kBadRequest, "no unit named (args.units)"));
  auto now = BoolArg(req.args, "now", false);
  if (!now.ok()) return reply(Reply::Fail(kBadRequest, now.error().message));
  auto options = JobOptionsArgs(req.args);
  if (!options.ok()) return reply(Reply::Fail(kBadRequest, options.error().message));
  auto changes = enable ? manager_.Enable(*names) : manager_.Disable(*names);
  if (!changes.ok()) return reply(Reply::Fail(kFailed, changes.error().message));
  json result = {{"changes", ChangesJson(*changes)}};
  if (!*now) return reply(Reply::Ok(std::move(result)));
  std::vector<std::string> units;
  for (const auto& n : *names) {
    auto r = manager_.Resolve(n, enable);
    if (!r.ok()) return reply(Reply::Fail(kNotFound, r.error().message));
    units.push_back(*r);
  }
  auto fan = std::make_shared<Fanout>();
  fan->left = units.size();
  fan->result = std::move(result);
  fan->reply = std::move(reply);
  for (const auto& u : units) {
    JobDone done = [fan](const JobResult& r) { fan->Done(r); };
    if (enable) {
      manager_.Start(u, *options, std::move(done));
    } else {
      manager_.Stop(u, *options, std::move(done));
    }
  }
}

void RequestHandler::IsEnabled(const Request& req, const ReplyFn& reply) {
  auto names = UnitArgs(req.args, "units");
  if (!names.ok()) return reply(Reply::Fail(kNotFound, names.error().message));
  if (names->empty()) return reply(Reply::Fail(kBadRequest, "no unit named (args.units)"));
  auto states = manager_.IsEnabled(*names);
  if (!states.ok()) return reply(Reply::Fail(kNotFound, states.error().message));
  reply(Reply::Ok(IsEnabledJson(*states)));
}

void RequestHandler::ListDependencies(const Request& req, const ReplyFn& reply) {
  auto name = StringArg(req.args, "unit");
  if (!name.ok()) return reply(Reply::Fail(kBadRequest, name.error().message));
  if (!*name) return reply(Reply::Fail(kBadRequest, "no unit named (args.unit)"));
  auto unit = NormalizeUnitName(**name);
  if (!unit.ok()) return reply(Reply::Fail(kNotFound, unit.error().message));
  auto reverse = BoolArg(req.args, "reverse", false);
  auto all = BoolArg(req.args, "all", false);
  for (const Error* e :
       {reverse.ok() ? nullptr : &reverse.error(), all.ok() ? nullptr : &all.error()})
    if (e) return reply(Reply::Fail(kBadRequest, e->message));
  auto tree = manager_.ListDependencies(*unit, *reverse, *all);
  if (!tree.ok()) return reply(Reply::Fail(kNotFound, tree.error().message));
  reply(Reply::Ok(DependencyJson(*tree)));
}

}  // namespace supd::control
