// LogStream: the `logs` command — the last lines of services (from memory when it holds them,
// else from the files, read on the log writer's thread), and with `follow` every new line until
// the client hangs up.
//
// A follower gets its history first and then the live lines, none missing and none twice: live
// lines wait while its history is read (the read covers exactly what was queued before it).
// Live lines go out in batches (one reply per loop turn, or at kFollowBatchBytes): one reply
// and one write per line cost so much under a flooding service that new followers waited
// seconds for their first line. A reader that does not keep up (a terminal behind a service
// writing 100 MB/s) is not cut off: while more than kFollowMaxUnsent bytes wait for its socket,
// new lines are counted instead of queued, and the next reply says how many ("skipped": N).
//
// Touched only on the io_context thread; it observes the Manager for new log records.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "lib/base/result.h"
#include "lib/control/protocol.h"
#include "lib/control/server.h"
#include "lib/log/log_query.h"
#include "lib/supervise/manager.h"

namespace supd::control {

// The "args" of a logs request: {"lines":N,"since":"TIME","stream":"out|err","follow":bool}.
// "lines" defaults to 10, or to LogQuery::kMaxLines with "since". Errors name the argument.
[[nodiscard]] Result<LogQuery> ParseLogArgs(const nlohmann::json& args);

// One record on the wire: {"service","time","pid","stream","continued","text"}.
nlohmann::json RecordJson(const std::string& service, const LogRecord& r);

class LogStream : public ManagerObserver {
 public:
  static constexpr size_t kFollowBatchBytes = 64 * 1024;
  static constexpr size_t kFollowMaxUnsent = 1 << 20;
  static constexpr size_t kRecordOverhead = 128;  // a LogRecord's fields besides its text

  LogStream(boost::asio::io_context& io, Manager& manager);
  ~LogStream() override;

  // `units`: resolved service names (at least one).
  void Handle(const std::vector<std::string>& units, const LogQuery& q, const Peer& peer,
              ReplyFn reply);

  void OnLogRecord(const std::string& service, const LogRecord& record) override;

 private:
  struct Follower;
  void Queue(uint64_t id, Follower& f, const nlohmann::json& record);
  void Flush(uint64_t id, Follower& f, bool force = false);
  void OnRead(uint64_t rid, uint64_t fid,
              const std::vector<std::pair<std::string, std::vector<LogRecord>>>& per,
              const std::string& err, size_t lines);

  boost::asio::io_context& io_;
  Manager& manager_;
  std::map<uint64_t, std::unique_ptr<Follower>> followers_;
  std::map<uint64_t, ReplyFn> pending_reads_;  // plain `logs` waiting for the files
  uint64_t next_id_ = 1;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace supd::control
