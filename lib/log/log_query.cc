#include "lib/log/log_query.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "lib/base/unique_fd.h"

namespace supd {

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

MergedLog MergeRecords(const std::vector<std::pair<std::string, std::vector<LogRecord>>>& per_service,
                       size_t lines) {
  struct Ref {
    const std::string* service;
    const LogRecord* r;
  };
  std::vector<Ref> all;
  for (const auto& [name, recs] : per_service)
    for (const auto& r : recs) all.push_back(Ref{&name, &r});
  // Stable: within one service the order is the file's, even for equal timestamps.
  std::stable_sort(all.begin(), all.end(),
                   [](const Ref& a, const Ref& b) { return a.r->time_usec < b.r->time_usec; });
  size_t start = all.size() > lines ? all.size() - lines : 0;
  MergedLog out;
  size_t bytes = 0;
  for (size_t i = all.size(); i > start; --i) {
    bytes += all[i - 1].r->text.size();
    if (bytes > LogQuery::kMaxReplyBytes) {
      start = i;
      out.truncated = true;
      break;
    }
  }
  out.records.reserve(all.size() - start);
  for (size_t i = start; i < all.size(); ++i) out.records.emplace_back(*all[i].service, *all[i].r);
  return out;
}

}  // namespace supd
