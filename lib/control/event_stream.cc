#include "lib/control/event_stream.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "lib/base/signals.h"
#include "lib/control/cause_text.h"
#include "lib/control/json_field.h"
#include "lib/log/service_log.h"

namespace supd::control {
namespace asio = boost::asio;
using nlohmann::json;

namespace {

// j[key] as text if it is an integer, else "".
std::string Int(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer()) return "";
  return it->dump();
}

// j[key] as "a, b" if it is a list of strings.
std::string List(const json& j, const char* key) {
  std::string out;
  auto it = j.find(key);
  if (it == j.end() || !it->is_array()) return out;
  for (const json& e : *it)
    if (e.is_string()) out += (out.empty() ? "" : ", ") + e.get<std::string>();
  return out;
}

std::string InParens(const std::string& text) { return text.empty() ? "" : " (" + text + ")"; }

}  // namespace

std::string FormatEventLine(const json& e) {
  if (!e.is_object()) return "";
  std::string line = Str(e, "time");
  if (const std::string unit = Str(e, "unit"); !unit.empty()) line += " " + unit;
  const std::string kind = Str(e, "event");
  line += " " + kind;
  if (kind == "state") {
    line += " " + Str(e, "from") + " -> " + Str(e, "to") + InParens(Str(e, "cause"));
  } else if (kind == "exit") {
    line += " pid " + Int(e, "pid");
    // The reason is shown when it says more than the status does (an OOM kill, a stop's
    // timeout, an exec that failed).
    std::string plain;
    if (e.contains("signal")) {
      line += " signal " + Str(e, "signal");
      plain = "killed by signal " + Str(e, "signal");
      if (e.value("core_dumped", false)) plain += " (core dumped)";
    } else {
      line += " status " + Int(e, "code");
      plain = "exited with status " + Int(e, "code");
    }
    if (e.value("core_dumped", false)) line += " (core dumped)";
    if (const std::string reason = Str(e, "reason"); reason != plain) line += InParens(reason);
  } else if (kind == "oom") {
    line += " pid " + Int(e, "pid") + InParens(Str(e, "reason"));
  } else if (kind == "restart") {
    line += InParens(Str(e, "reason"));
  } else if (kind == "ready") {
    line += e.value("ready", false) ? " yes" : " no";
  } else if (kind == "start-limit-hit") {
    line += InParens(Str(e, "cause"));
  } else if (kind == "reload") {
    std::string what;
    for (const char* key : {"added", "changed", "removed", "failed"}) {
      if (std::string l = List(e, key); !l.empty())
        what += (what.empty() ? " " : "; ") + std::string(key) + " " + l;
    }
    line += what.empty() ? " (no changes)" : what;
  } else if (kind == "socket") {
    line += " " + Str(e, "to") + InParens(Str(e, "error"));
  } else {
    json rest = e;
    for (const char* key : {"time", "unit", "event"}) rest.erase(key);
    if (!rest.empty()) line += " " + rest.dump(-1, ' ', false, json::error_handler_t::replace);
  }
  return line;
}

struct EventStream::Subscriber {
  std::set<std::string> units;  // empty: all
  ReplyFn reply;
  std::shared_ptr<ConnectionEnd> end;
  // Events not sent yet; they go out as one reply after the handler that produced them.
  json batch = json::array();
  size_t batch_bytes = 0;
  bool flush_posted = false;
  uint64_t skipped = 0;  // counted while its socket was too far behind, not reported yet
};

EventStream::EventStream(asio::io_context& io, Manager& manager, std::function<int64_t()> now)
    : io_(io),
      manager_(manager),
      now_(now ? std::move(now) : std::function<int64_t()>(RealtimeUsec)) {
  manager_.Subscribe(this);
}

EventStream::~EventStream() {
  *alive_ = false;
  manager_.Unsubscribe(this);
}

void EventStream::Handle(const std::vector<std::string>& units, const Peer& peer, ReplyFn reply) {
  if (subscribers_.size() >= kMaxSubscribers) {
    reply(Reply::Fail(kBusy, "too many event subscribers (" + std::to_string(kMaxSubscribers) +
                                 "); try again later"));
    return;
  }
  const uint64_t id = next_id_++;
  auto s = std::make_unique<Subscriber>();
  s->units.insert(units.begin(), units.end());
  s->reply = std::move(reply);
  s->end = peer.end;
  ReplyFn ack = s->reply;  // the call may end the subscriber
  subscribers_.emplace(id, std::move(s));
  // Erased from a posted handler: the close may come from inside Emit's loop (a reply that
  // overflows the server's backlog closes the connection).
  peer.end->OnClose([this, id, alive = alive_] {
    asio::post(io_, [this, id, alive] {
      if (*alive) subscribers_.erase(id);
    });
  });
  ack(Reply::More(json{{"subscribed", true}, {"units", units}}));
}

json EventStream::Event(const std::string* unit, const char* kind) const {
  json e = json::object();
  e["time"] = FormatRfc3339(now_());
  if (unit) e["unit"] = *unit;
  e["event"] = kind;
  return e;
}

void EventStream::OnStateChange(const std::string& unit, State from, State to, const Cause& cause,
                                ServiceResult result) {
  if (subscribers_.empty()) return;
  json e = Event(&unit, "state");
  e["from"] = StateName(from);
  e["to"] = StateName(to);
  e["result"] = ResultName(result);
  // As supd's own log says it (event_log.cc): the cause explains a stop, a failure or a
  // restart; on a start it is the previous run's and would mislead.
  if (!cause.empty() && to != State::kRunning && to != State::kStarting)
    e["cause"] = FormatCause(cause);
  Emit(&unit, e);
  if (to == State::kFailed && result == ServiceResult::kStartLimitHit) {
    json hit = Event(&unit, "start-limit-hit");
    if (!cause.empty()) hit["cause"] = FormatCause(cause);
    Emit(&unit, hit);
  }
}

void EventStream::OnExit(const std::string& unit, const LastExit& exit) {
  if (subscribers_.empty()) return;
  json e = Event(&unit, "exit");
  e["pid"] = exit.pid;
  if (exit.status.exited) {
    e["code"] = exit.status.code;
  } else {
    e["signal"] = SigName(exit.status.signal);
    if (exit.status.core_dumped) e["core_dumped"] = true;
  }
  e["reason"] = exit.reason;
  if (exit.oom) e["oom"] = true;
  Emit(&unit, e);
  if (exit.oom) {
    json oom = Event(&unit, "oom");
    oom["pid"] = exit.pid;
    oom["reason"] = exit.reason;
    Emit(&unit, oom);
  }
}

void EventStream::OnRestart(const std::string& unit, RestartReason reason) {
  if (subscribers_.empty()) return;
  json e = Event(&unit, "restart");
  e["reason"] = RestartReasonName(reason);
  Emit(&unit, e);
}

void EventStream::OnReadyChange(const std::string& unit, bool ready) {
  if (subscribers_.empty()) return;
  json e = Event(&unit, "ready");
  e["ready"] = ready;
  Emit(&unit, e);
}

void EventStream::OnReload(const ReloadSummary& summary) {
  if (subscribers_.empty()) return;
  json e = Event(nullptr, "reload");
  e["added"] = summary.added;
  e["changed"] = summary.changed;
  e["removed"] = summary.removed;
  e["failed"] = summary.failed;
  Emit(nullptr, e);
}

void EventStream::OnSocketChange(const std::string& unit, SocketState to,
                                 const std::string& error) {
  if (subscribers_.empty()) return;
  json e = Event(&unit, "socket");
  e["to"] = SocketStateName(to);
  if (to == SocketState::kFailed) e["error"] = error;
  Emit(&unit, e);
}

void EventStream::Emit(const std::string* unit, const json& event) {
  // The size on the wire, measured once for every subscriber (dump as FormatReply writes it).
  const size_t bytes = event.dump(-1, ' ', false, json::error_handler_t::replace).size() + 1;
  for (auto& [id, sp] : subscribers_) {
    Subscriber& s = *sp;
    if (unit && !s.units.empty() && !s.units.count(*unit)) continue;
    if (s.end && s.end->closed()) continue;  // hung up; erased after this turn
    Queue(id, s, event, bytes);
  }
}

void EventStream::Queue(uint64_t id, Subscriber& s, const json& event, size_t bytes) {
  if (s.end && s.end->unsent() >= kMaxUnsent) {
    // Its socket is too far behind: counted, not queued (the batch goes the same way at the
    // flush). Checked here too, so that a reader that stopped long ago costs no copy.
    ++s.skipped;
  } else {
    s.batch.push_back(event);
    s.batch_bytes += bytes;
  }
  if (s.batch_bytes >= kBatchBytes) {
    Flush(id, s);
    return;
  }
  if (s.flush_posted) return;
  s.flush_posted = true;
  asio::post(io_, [this, id, alive = alive_] {
    if (!*alive) return;
    auto it = subscribers_.find(id);
    if (it == subscribers_.end()) return;  // hung up meanwhile
    it->second->flush_posted = false;
    Flush(id, *it->second);
  });
}

// Sends the batch, or (the client's socket is too far behind) counts it as skipped.
void EventStream::Flush(uint64_t id, Subscriber& s) {
  if (s.batch.empty() && s.skipped == 0) return;
  if (s.end && s.end->closed()) return;  // hung up while its batch waited
  if (s.end && s.end->unsent() >= kMaxUnsent) {
    s.skipped += s.batch.size();
    s.batch = json::array();
    s.batch_bytes = 0;
    // The count goes out as soon as the client catches up, even if nothing happens by then.
    // Posted: this runs inside the server's write completion.
    s.end->OnUnsentBelow(kMaxUnsent, [this, id, alive = alive_] {
      asio::post(io_, [this, id, alive] {
        if (!*alive) return;
        if (auto it = subscribers_.find(id); it != subscribers_.end()) Flush(id, *it->second);
      });
    });
    return;
  }
  json out = {{"events", std::move(s.batch)}};
  if (s.skipped > 0) out["skipped"] = s.skipped;
  s.batch = json::array();
  s.batch_bytes = 0;
  s.skipped = 0;
  ReplyFn reply = s.reply;  // the call may end the subscriber
  reply(Reply::More(std::move(out)));
}

}  // namespace supd::control
