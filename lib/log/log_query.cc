#include "lib/log/log_query.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "lib/base/unique_fd.h"

namespace supd {
using nlohmann::json;

Result<LogQuery> ParseLogQuery(const json& args) {
  LogQuery q;
  if (args.contains("since") && !args["since"].is_null()) {
    if (!args["since"].is_string()) return Error{"since: expected a time string"};
    auto t = ParseRfc3339(args["since"].get<std::string>());
    if (!t)
      return Error{"since: '" + args["since"].get<std::string>() +
                   "' is not a time (use 2026-11-22T07:00:00Z, 2026-11-22 07:00:00 or 2026-11-22)"};
    q.since_usec = *t;
    q.lines = LogQuery::kMaxLines;
  }
  if (args.contains("lines") && !args["lines"].is_null()) {
    const json& lines = args["lines"];
    // As JSON holds it: an unsigned count past INT64_MAX is "as many as allowed", not negative.
    if (lines.is_number_unsigned()) {
      q.lines = static_cast<size_t>(
          std::min<uint64_t>(lines.get<uint64_t>(), LogQuery::kMaxLines));
    } else if (lines.is_number_integer() && lines.get<int64_t>() >= 0) {
      q.lines = static_cast<size_t>(
          std::min<int64_t>(lines.get<int64_t>(), static_cast<int64_t>(LogQuery::kMaxLines)));
    } else {
      return Error{"lines: expected a number ≥ 0"};
    }
  }
  if (args.contains("stream") && !args["stream"].is_null()) {
    if (!args["stream"].is_string()) return Error{"stream: expected \"out\" or \"err\""};
    q.stream = args["stream"].get<std::string>();
    if (q.stream != "out" && q.stream != "err")
      return Error{"stream: expected \"out\" or \"err\", not \"" + q.stream + "\""};
  }
  if (args.contains("follow") && !args["follow"].is_null()) {
    if (!args["follow"].is_boolean()) return Error{"follow: expected true or false"};
    q.follow = args["follow"].get<bool>();
  }
  return q;
}

std::vector<LogRecord> RecentFromMemory(const ServiceLog& log, const LogQuery& q, bool* complete) {
  std::vector<LogRecord> out;
  const auto& recent = log.recent();
  *complete = false;
  for (auto it = recent.rbegin(); it != recent.rend() && out.size() < q.lines; ++it) {
    if (q.since_usec && it->time_usec < *q.since_usec) {
      *complete = true;  // memory reaches back past `since`
      break;
    }
    if (q.Matches(*it)) out.push_back(*it);
  }
  if (out.size() >= q.lines) *complete = true;
  std::reverse(out.begin(), out.end());
  return out;
}

std::vector<LogRecord> ReadLastRecords(const std::vector<std::string>& files, const LogQuery& q,
                                       std::string* error) {
  std::vector<LogRecord> out;  // newest first until the end
  bool done = q.lines == 0;
  // Returns false once the search is over.
  auto take = [&](std::string_view line) {
    auto r = ParseLogLine(line);
    if (!r) return true;  // not a record (a line cut by a full disk): skipped
    if (q.since_usec && r->time_usec < *q.since_usec) return false;
    if (!q.Matches(*r)) return true;
    out.push_back(std::move(*r));
    return out.size() < q.lines;
  };
  constexpr size_t kChunk = 64 * 1024;
  std::string chunk(kChunk, '\0');
  for (const std::string& path : files) {
    if (done) break;
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno != ENOENT) *error = "open " + path + ": " + std::strerror(errno);
      break;
    }
    UniqueFd owned(fd);
    struct stat st;
    if (::fstat(fd, &st) < 0) {
      *error = "stat " + path + ": " + std::strerror(errno);
      break;
    }
    off_t off = st.st_size;
    std::string carry;  // the end part of a line whose start is further back
    bool first = true;
    while (!done) {
      if (off == 0) {
        if (!carry.empty() && !take(carry)) done = true;
        break;
      }
      const size_t len = static_cast<size_t>(std::min<off_t>(off, kChunk));
      off -= static_cast<off_t>(len);
      const ssize_t n = ::pread(fd, chunk.data(), len, off);
      if (n != static_cast<ssize_t>(len)) {
        *error = "read " + path + ": " + (n < 0 ? std::strerror(errno) : "file shrank");
        done = true;
        break;
      }
      std::string block = chunk.substr(0, len) + carry;
      size_t end = block.size();
      if (first && end > 0 && block[end - 1] == '\n') --end;
      first = false;
      for (;;) {
        const size_t nl = end == 0 ? std::string::npos : block.rfind('\n', end - 1);
        if (nl == std::string::npos) {
          carry = block.substr(0, end);
          break;
        }
        if (!take(std::string_view(block).substr(nl + 1, end - nl - 1))) {
          done = true;
          break;
        }
        end = nl;
      }
    }
  }
  std::reverse(out.begin(), out.end());
  return out;
}

json RecordJson(const std::string& service, const LogRecord& r) {
  return json{{"service", service}, {"time", r.time},           {"pid", r.pid},
              {"stream", r.stream}, {"continued", r.continued}, {"text", r.text}};
}

json MergeRecords(const std::vector<std::pair<std::string, std::vector<LogRecord>>>& per_service,
                  size_t lines) {
  struct Ref {
    const std::string* service;
    const LogRecord* r;
  };
  std::vector<Ref> all;
  for (auto& [name, recs] : per_service)
    for (auto& r : recs) all.push_back(Ref{&name, &r});
  // Stable: within one service the order is the file's, even for equal timestamps.
  std::stable_sort(all.begin(), all.end(),
                   [](const Ref& a, const Ref& b) { return a.r->time_usec < b.r->time_usec; });
  size_t start = all.size() > lines ? all.size() - lines : 0;
  bool truncated = false;
  size_t bytes = 0;
  for (size_t i = all.size(); i > start; --i) {
    bytes += all[i - 1].r->text.size();
    if (bytes > LogQuery::kMaxReplyBytes) {
      start = i;
      truncated = true;
      break;
    }
  }
  json arr = json::array();
  for (size_t i = start; i < all.size(); ++i) arr.push_back(RecordJson(*all[i].service, *all[i].r));
  return json{{"lines", std::move(arr)}, {"truncated", truncated}};
}

}  // namespace supd
