#include "lib/log/service_log.h"

#include <fmt/format.h>
#include <time.h>

#include <charconv>
#include <cstring>

namespace supd {

std::string FormatRfc3339(int64_t realtime_usec) {
  const time_t secs = static_cast<time_t>(realtime_usec / 1000000);
  // Records come in bursts within one second: format the date once per second (per thread).
  thread_local time_t cached_secs = -1;
  thread_local char cached[32];  // "YYYY-MM-DDTHH:MM:SS."
  if (secs == cached_secs && realtime_usec >= 0) {
    std::string out(cached, 20);
    out.resize(27);
    int us = static_cast<int>(realtime_usec % 1000000);
    for (int i = 25; i >= 20; --i) {
      out[i] = static_cast<char>('0' + us % 10);
      us /= 10;
    }
    out[26] = 'Z';
    return out;
  }
  struct tm tm;
  gmtime_r(&secs, &tm);
  std::string out = fmt::format("{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}.{:06d}Z",
                                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                                tm.tm_sec, static_cast<int>(realtime_usec % 1000000));
  if (tm.tm_year + 1900 >= 1000 && tm.tm_year + 1900 <= 9999 && realtime_usec >= 0) {
    std::memcpy(cached, out.data(), 20);
    cached_secs = secs;
  }
  return out;
}

std::optional<int64_t> ParseRfc3339(std::string_view t) {
  auto num = [&](size_t pos, size_t len, int* out) {
    if (pos + len > t.size()) return false;
    auto r = std::from_chars(t.data() + pos, t.data() + pos + len, *out);
    return r.ec == std::errc() && r.ptr == t.data() + pos + len;
  };
  int y, mo, d, h = 0, mi = 0, s = 0;
  if (!num(0, 4, &y) || t.size() < 10 || t[4] != '-' || !num(5, 2, &mo) || t[7] != '-' ||
      !num(8, 2, &d))
    return std::nullopt;
  size_t pos = 10;
  int64_t frac_usec = 0;
  if (pos < t.size()) {
    if (t[pos] != 'T' && t[pos] != ' ') return std::nullopt;
    if (!num(pos + 1, 2, &h) || t.size() < pos + 9 || t[pos + 3] != ':' || !num(pos + 4, 2, &mi) ||
        t[pos + 6] != ':' || !num(pos + 7, 2, &s))
      return std::nullopt;
    pos += 9;
    if (pos < t.size() && t[pos] == '.') {
      ++pos;
      int digits = 0;
      while (pos < t.size() && t[pos] >= '0' && t[pos] <= '9') {
        if (digits < 6) frac_usec = frac_usec * 10 + (t[pos] - '0');
        ++digits;
        ++pos;
      }
      if (digits == 0) return std::nullopt;
      for (; digits < 6; ++digits) frac_usec *= 10;
    }
  }
  int64_t offset_sec = 0;
  if (pos < t.size()) {
    if (t[pos] == 'Z' && pos + 1 == t.size()) {
      pos = t.size();
    } else if ((t[pos] == '+' || t[pos] == '-') && t.size() == pos + 6 && t[pos + 3] == ':') {
      int oh, om;
      if (!num(pos + 1, 2, &oh) || !num(pos + 4, 2, &om)) return std::nullopt;
      offset_sec = (oh * 3600 + om * 60) * (t[pos] == '-' ? -1 : 1);
    } else {
      return std::nullopt;
    }
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return std::nullopt;
  struct tm tm {};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  const time_t secs = timegm(&tm);
  return (static_cast<int64_t>(secs) - offset_sec) * 1000000 + frac_usec;
}

int64_t RealtimeUsec() {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

int64_t MonotonicUsec() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

namespace {

// Length of the valid UTF-8 sequence at the start of `s`, 0 if it is not one.
size_t Utf8SequenceLength(std::string_view s) {
  const auto b = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char c = b(0);
  size_t len;
  uint32_t cp;
  if (c < 0x80) return 1;
  if (c >= 0xc2 && c <= 0xdf) {
    len = 2;
    cp = c & 0x1f;
  } else if (c >= 0xe0 && c <= 0xef) {
    len = 3;
    cp = c & 0x0f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    len = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (s.size() < len) return 0;
  for (size_t i = 1; i < len; ++i) {
    if ((b(i) & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (b(i) & 0x3f);
  }
  // Overlong forms, surrogates and values past U+10FFFF are not valid.
  if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
      (cp >= 0xd800 && cp <= 0xdfff))
    return 0;
  return len;
}

}  // namespace

std::string EscapeLogText(std::string_view raw) {
  // Most output is printable ASCII: copied as is.
  bool plain = true;
  for (unsigned char c : raw) {
    if (c < 0x20 || c >= 0x7f || c == '\\') {
      if (c == '\t') continue;
      plain = false;
      break;
    }
  }
  if (plain) return std::string(raw);
  std::string out;
  out.reserve(raw.size());
  size_t i = 0;
  while (i < raw.size()) {
    const unsigned char c = static_cast<unsigned char>(raw[i]);
    if (c == '\\') {
      out += "\\\\";
      ++i;
      continue;
    }
    if ((c < 0x20 && c != '\t') || c == 0x7f) {
      fmt::format_to(std::back_inserter(out), "\\x{:02x}", unsigned{c});
      ++i;
      continue;
    }
    const size_t len = Utf8SequenceLength(raw.substr(i));
    if (len == 0) {
      fmt::format_to(std::back_inserter(out), "\\x{:02x}", unsigned{c});
      ++i;
      continue;
    }
    out.append(raw.substr(i, len));
    i += len;
  }
  return out;
}

std::string LogRecord::Format() const {
  std::string line;
  line.reserve(time.size() + text.size() + 24);
  line += time;
  line += ' ';
  line += std::to_string(pid);
  line += ' ';
  line += stream;
  if (continued) line += '+';
  line += ": ";
  line += text;
  return line;
}

std::optional<LogRecord> ParseLogLine(std::string_view line) {
  // "2026-11-22T07:22:00.123456Z 1234 out: text"
  const size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) return std::nullopt;
  const size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return std::nullopt;
  const size_t colon = line.find(": ", sp2 + 1);
  if (colon == std::string_view::npos) return std::nullopt;
  LogRecord r;
  auto t = ParseRfc3339(line.substr(0, sp1));
  if (!t) return std::nullopt;
  r.time_usec = *t;
  r.time = std::string(line.substr(0, sp1));
  std::string_view pid = line.substr(sp1 + 1, sp2 - sp1 - 1);
  auto pr = std::from_chars(pid.data(), pid.data() + pid.size(), r.pid);
  if (pr.ec != std::errc() || pr.ptr != pid.data() + pid.size()) return std::nullopt;
  std::string_view stream = line.substr(sp2 + 1, colon - sp2 - 1);
  if (!stream.empty() && stream.back() == '+') {
    r.continued = true;
    stream.remove_suffix(1);
  }
  if (stream != "out" && stream != "err") return std::nullopt;
  r.stream = std::string(stream);
  r.text = std::string(line.substr(colon + 2));
  return r;
}

bool ServiceLog::Write(pid_t pid, std::string_view stream, std::string_view text, bool continued) {
  LogRecord r;
  r.time_usec = RealtimeUsec();
  r.time = FormatRfc3339(r.time_usec);
  r.pid = pid;
  r.stream = std::string(stream);
  r.continued = continued;
  r.text = EscapeLogText(text);
  batch_ += r.Format();
  batch_ += '\n';
  if (on_record) on_record(r);
  recent_bytes_ += r.text.size();
  recent_.push_back(std::move(r));
  while (!recent_.empty() &&
         (recent_.size() > kRecentLines || (recent_bytes_ > kRecentBytes && recent_.size() > 1))) {
    recent_bytes_ -= recent_.front().text.size();
    recent_.pop_front();
  }
  return true;
}

bool ServiceLog::Flush() {
  if (batch_.empty()) return !congested_;
  congested_ = !sink_->Append(batch_);
  batch_.clear();
  if (batch_.capacity() > (256u << 10)) batch_.shrink_to_fit();
  return !congested_;
}

std::vector<std::string> ServiceLog::Tail(size_t n) const {
  std::vector<std::string> out;
  const size_t start = recent_.size() > n ? recent_.size() - n : 0;
  for (size_t i = start; i < recent_.size(); ++i) {
    std::string line = recent_[i].Format();
    // The tail is for status replies: a few lines, each kept short.
    constexpr size_t kTailLineMax = 1024;
    if (line.size() > kTailLineMax) {
      line.resize(kTailLineMax);
      line += "…";
    }
    out.push_back(std::move(line));
  }
  return out;
}

}  // namespace supd
