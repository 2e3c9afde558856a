#include "lib/control/log_stream.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "lib/control/request_args.h"
#include "lib/log/log_writer.h"
#include "lib/log/service_log.h"

namespace supd::control {
namespace asio = boost::asio;
using nlohmann::json;

Result<LogQuery> ParseLogArgs(const json& args) {
  LogQuery q;
  auto since = StringArg(args, "since");
  if (!since.ok()) return since.take_error();
  if (*since) {
    auto t = ParseRfc3339(**since);
    if (!t)
      return Error{"since: '" + **since +
                   "' is not a time (use 2026-11-22T07:00:00Z, 2026-11-22 07:00:00 or 2026-11-22)"};
    q.since_usec = *t;
    q.lines = LogQuery::kMaxLines;
  }
  auto lines = UnsignedArg(args, "lines", UINT64_MAX);
  if (!lines.ok()) return lines.take_error();
  if (*lines) q.lines = static_cast<size_t>(std::min<uint64_t>(**lines, LogQuery::kMaxLines));
  auto stream = StringArg(args, "stream");
  if (!stream.ok()) return stream.take_error();
  if (*stream) {
    if (**stream != "out" && **stream != "err")
      return Error{"stream: expected \"out\" or \"err\", not \"" + **stream + "\""};
    q.stream = **stream;
  }
  auto follow = BoolArg(args, "follow", false);
  if (!follow.ok()) return follow.take_error();
  q.follow = *follow;
  return q;
}

json RecordJson(const std::string& service, const LogRecord& r) {
  return json{{"service", service}, {"time", r.time},           {"pid", r.pid},
              {"stream", r.stream}, {"continued", r.continued}, {"text", r.text}};
}

namespace {

json MergedJson(const std::vector<std::pair<std::string, std::vector<LogRecord>>>& per,
                size_t lines) {
  MergedLog m = MergeRecords(per, lines);
  json arr = json::array();
  for (const auto& [service, r] : m.records) arr.push_back(RecordJson(service, r));
  return json{{"lines", std::move(arr)}, {"truncated", m.truncated}};
}

}  // namespace

struct LogStream::Follower {
  std::set<std::string> services;
  LogQuery query;
  ReplyFn reply;
  std::shared_ptr<ConnectionEnd> end;
  // The history is being read from the files: live records wait here meanwhile (bounded by
  // kFollowMaxUnsent; the rest are counted in skipped_pending, reported after them).
  bool history_pending = false;
  std::vector<std::pair<std::string, LogRecord>> buffered;
  size_t buffered_bytes = 0;
  uint64_t skipped_pending = 0;
  // Live records not sent yet; they go out as one reply after the handler that produced them.
  json batch = json::array();
  size_t batch_bytes = 0;
  bool flush_posted = false;
  uint64_t skipped = 0;
};

LogStream::LogStream(asio::io_context& io, Manager& manager) : io_(io), manager_(manager) {
  manager_.Subscribe(this);
}

LogStream::~LogStream() {
  *alive_ = false;
  manager_.Unsubscribe(this);
}

void LogStream::OnLogRecord(const std::string& service, const LogRecord& r) {
  if (followers_.empty()) return;
  std::optional<json> record;  // made once for all followers
  for (auto& [id, fp] : followers_) {
    Follower& f = *fp;
    if (!f.services.count(service) || !f.query.Matches(r)) continue;
    if (f.history_pending) {
      if (f.buffered_bytes >= kFollowMaxUnsent) {
        ++f.skipped_pending;
        continue;
      }
      f.buffered_bytes += r.text.size() + kRecordOverhead;
      f.buffered.emplace_back(service, r);
      continue;
    }
    if (!record) record = RecordJson(service, r);
    f.batch_bytes += r.text.size() + kRecordOverhead;
    Queue(id, f, *record);
  }
}

void LogStream::Queue(uint64_t id, Follower& f, const json& record) {
  f.batch.push_back(record);
  if (f.batch_bytes >= kFollowBatchBytes) {
    Flush(id, f);
    return;
  }
  if (f.flush_posted) return;
  f.flush_posted = true;
  asio::post(io_, [this, id, alive = alive_] {
    if (!*alive) return;
    auto it = followers_.find(id);
    if (it == followers_.end()) return;  // hung up meanwhile
    it->second->flush_posted = false;
    Flush(id, *it->second);
  });
}

// Sends the batch, or (the client's socket is too far behind) counts it as skipped. `force`:
// send whatever is unsent (the lines buffered during a history read, which is bounded).
void LogStream::Flush(uint64_t id, Follower& f, bool force) {
  if (f.batch.empty() && f.skipped == 0) return;
  if (!force && f.end && f.end->unsent() >= kFollowMaxUnsent) {
    f.skipped += f.batch.size();
    f.batch = json::array();
    f.batch_bytes = 0;
    // The count goes out as soon as the client catches up, even if the service is quiet by
    // then. Posted: this runs inside the server's write completion.
    f.end->OnUnsentBelow(kFollowMaxUnsent, [this, id, alive = alive_] {
      asio::post(io_, [this, id, alive] {
        if (!*alive) return;
        if (auto it = followers_.find(id); it != followers_.end()) Flush(id, *it->second);
      });
    });
    return;
  }
  json out = {{"lines", std::move(f.batch)}};
  if (f.skipped > 0) out["skipped"] = f.skipped;
  f.batch = json::array();
  f.batch_bytes = 0;
  f.skipped = 0;
  ReplyFn reply = f.reply;  // the call may end the follower
  reply(Reply::More(std::move(out)));
}

void LogStream::Handle(const std::vector<std::string>& units, const LogQuery& q,
                       const Peer& peer, ReplyFn reply) {
  std::vector<std::pair<std::string, std::vector<LogRecord>>> memory;
  std::vector<std::shared_ptr<LogSink>> sinks;
  std::vector<std::string> sink_names;
  bool complete = true;
  for (const std::string& name : units) {
    std::shared_ptr<ServiceLog> log = manager_.LogOf(name, /*open_existing=*/true);
    if (!log) continue;  // never wrote anything: nothing to read
    bool c = false;
    memory.emplace_back(name, RecentFromMemory(*log, q, &c));
    complete = complete && c;
    sinks.push_back(log->sink());
    sink_names.push_back(name);
  }
  uint64_t fid = 0;
  if (q.follow) {
    fid = next_id_++;
    auto f = std::make_unique<Follower>();
    f->services.insert(units.begin(), units.end());
    f->query = q;
    f->reply = reply;
    f->history_pending = !complete;
    f->end = peer.end;
    followers_.emplace(fid, std::move(f));
    // Erased from a posted handler: the close may come from inside OnLogRecord's loop.
    peer.end->OnClose([this, fid, alive = alive_] {
      asio::post(io_, [this, fid, alive] {
        if (*alive) followers_.erase(fid);
      });
    });
  }
  if (complete) {
    json res = MergedJson(memory, q.lines);
    reply(q.follow ? Reply::More(std::move(res)) : Reply::Ok(std::move(res)));
    return;
  }
  const uint64_t rid = next_id_++;
  if (!q.follow) pending_reads_.emplace(rid, reply);
  manager_.log_writer().RunAfterFlush(
      sinks, [this, rid, fid, sinks, sink_names, q, alive = alive_]() -> std::function<void()> {
        // On the writer thread: only the files and the data captured here.
        std::vector<std::pair<std::string, std::vector<LogRecord>>> per;
        std::string err;
        for (size_t i = 0; i < sinks.size(); ++i)
          per.emplace_back(sink_names[i], ReadLastRecords(sinks[i]->Files(), q, &err));
        return [this, rid, fid, per = std::move(per), err, lines = q.lines, alive]() {
          if (*alive) OnRead(rid, fid, per, err, lines);
        };
      });
}

void LogStream::OnRead(uint64_t rid, uint64_t fid,
                       const std::vector<std::pair<std::string, std::vector<LogRecord>>>& per,
                       const std::string& err, size_t lines) {
  json res = MergedJson(per, lines);
  if (!err.empty()) res["error"] = err;
  if (fid) {
    auto it = followers_.find(fid);
    if (it == followers_.end()) return;  // hung up meanwhile
    Follower& f = *it->second;
    f.history_pending = false;
    auto buffered = std::move(f.buffered);
    f.buffered.clear();
    f.buffered_bytes = 0;
    ReplyFn reply = f.reply;  // the call may end the follower (erased in a posted handler)
    reply(Reply::More(std::move(res)));
    // The lines that came meanwhile follow the history whole (the history itself may be over
    // the unsent limit); those that did not fit in the buffer were after them.
    for (auto& [name, r] : buffered) f.batch.push_back(RecordJson(name, r));
    Flush(fid, f, /*force=*/true);
    f.skipped += f.skipped_pending;
    f.skipped_pending = 0;
    Flush(fid, f);  // tells of those now, or once the client has caught up
    return;
  }
  auto it = pending_reads_.find(rid);
  if (it == pending_reads_.end()) return;
  ReplyFn reply = std::move(it->second);
  pending_reads_.erase(it);
  reply(Reply::Ok(std::move(res)));
}

}  // namespace supd::control
