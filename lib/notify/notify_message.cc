#include "lib/notify/notify_message.h"

#include <cstring>
#include <limits>
#include <utility>

#include "lib/unit/unit_syntax.h"

namespace supd {
namespace {

// Decimal digits only, no sign or spaces, no overflow.
std::optional<uint64_t> ParseU64(std::string_view s) {
  if (s.empty() || s.size() > 20) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (std::numeric_limits<uint64_t>::max() - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  return v;
}

// µs as sent → Usec; values beyond Usec's range (systemd's USEC_INFINITY among them) are
// "infinity".
Usec ToUsec(uint64_t v) {
  if (v >= static_cast<uint64_t>(kInfinity.count())) return kInfinity;
  return Usec(static_cast<Usec::rep>(v));
}

// systemd's ERRNO_MAX.
constexpr int kMaxErrno = 4095;

// systemd's parse_errno(): an errno name, or a number 0..4095.
std::optional<int> ParseErrno(std::string_view s) {
  if (auto n = ParseU64(s)) {
    if (*n <= static_cast<uint64_t>(kMaxErrno)) return static_cast<int>(*n);
    return std::nullopt;
  }
  if (s.size() < 2 || s[0] != 'E') return std::nullopt;
  for (int e = 1; e <= kMaxErrno; ++e) {
    const char* name = strerrorname_np(e);  // nullptr for numbers glibc has no name for
    if (name != nullptr && s == name) return e;
  }
  return std::nullopt;
}

// systemd's fdname_is_valid(): printable ASCII but ':', at most 255 bytes; empty is allowed
// (it means the default name).
bool IsValidFdName(std::string_view s) {
  if (s.size() > 255) return false;
  for (char c : s) {
    if (c < ' ' || c > '~' || c == ':') return false;
  }
  return true;
}

// The lines of a datagram: split at '\n' and '\r', empty ones dropped.
std::vector<std::string_view> SplitLines(std::string_view datagram) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start <= datagram.size()) {
    size_t end = datagram.find_first_of("\n\r", start);
    if (end == std::string_view::npos) end = datagram.size();
    if (end > start) lines.push_back(datagram.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

void Ignore(NotifyMessage* m, std::string_view line, std::string_view reason) {
  std::string note(line);
  note += " (";
  note += reason;
  note += ")";
  m->ignored.push_back(std::move(note));
}

// READY=1 and the other flags: whether `line` is one (and then it is applied).
bool ApplyFlag(std::string_view line, NotifyMessage* m) {
  static constexpr std::pair<std::string_view, bool NotifyMessage::*> kFlags[] = {
      {"READY=1", &NotifyMessage::ready},
      {"RELOADING=1", &NotifyMessage::reloading},
      {"STOPPING=1", &NotifyMessage::stopping},
      {"FDSTORE=1", &NotifyMessage::fdstore},
      {"FDSTOREREMOVE=1", &NotifyMessage::fdstore_remove},
  };
  for (const auto& [text, flag] : kFlags) {
    if (line == text) {
      m->*flag = true;
      return true;
    }
  }
  return false;
}

// One KEY=value of the keys that take a value; a bad value is ignored with the reason.
void ApplyValue(std::string_view line, std::string_view key, std::string_view value,
                NotifyMessage* m) {
  if (key == "STATUS") {
    if (value.size() > kMaxStatusBytes) {
      Ignore(m, line.substr(0, 64), "status text over 4096 bytes");
    } else if (!IsValidUtf8(value)) {
      Ignore(m, line, "status text is not UTF-8");
    } else {
      m->status = std::string(value);
    }
  } else if (key == "ERRNO") {
    if (auto e = ParseErrno(value)) {
      m->errno_value = *e;
    } else {
      Ignore(m, line, "not an errno");
    }
  } else if (key == "MAINPID") {
    auto n = ParseU64(value);
    if (n && *n > 0 && *n <= static_cast<uint64_t>(std::numeric_limits<pid_t>::max())) {
      m->mainpid = static_cast<pid_t>(*n);
    } else {
      Ignore(m, line, "not a pid");
    }
  } else if (key == "WATCHDOG") {
    if (value == "1") {
      m->watchdog_ping = true;
    } else if (value == "trigger") {
      m->watchdog_trigger = true;
    } else {
      Ignore(m, line, "expected 1 or trigger");
    }
  } else if (key == "FDNAME") {
    if (IsValidFdName(value)) {
      m->fdname = std::string(value);
    } else {
      Ignore(m, line, "invalid fd name");
    }
  } else {  // the µs counters
    auto n = ParseU64(value);
    if (!n) {
      Ignore(m, line, "not a number of microseconds");
    } else if (key == "WATCHDOG_USEC") {
      m->watchdog_usec = ToUsec(*n);
    } else if (key == "EXTEND_TIMEOUT_USEC") {
      m->extend_timeout = ToUsec(*n);
    } else {
      m->monotonic_usec = *n;
    }
  }
}

}  // namespace

Result<NotifyMessage> ParseNotifyMessage(std::string_view datagram) {
  if (datagram.empty()) return Error{"empty notify message"};
  if (datagram.find('\0') != std::string_view::npos) {
    return Error{"notify message contains a NUL byte"};
  }
  NotifyMessage m;
  const std::vector<std::string_view> lines = SplitLines(datagram);

  // BARRIER=1 makes the datagram a barrier and nothing else (systemd:
  // manager_process_barrier_fd).
  for (std::string_view line : lines) {
    if (line == "BARRIER=1") m.barrier = true;
  }
  if (m.barrier) {
    for (std::string_view line : lines) {
      if (line != "BARRIER=1") Ignore(&m, line, "sent with BARRIER=1");
    }
    return m;
  }

  // Keys whose first assignment counts: a later one is ignored even when the first was invalid,
  // as in systemd.
  std::vector<std::string_view> seen;
  auto first = [&seen](std::string_view key) {
    for (std::string_view k : seen) {
      if (k == key) return false;
    }
    seen.push_back(key);
    return true;
  };

  for (std::string_view line : lines) {
    if (ApplyFlag(line, &m)) continue;
    const size_t eq = line.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      Ignore(&m, line, "not an assignment");
      continue;
    }
    const std::string_view key = line.substr(0, eq);
    static constexpr std::string_view kValued[] = {
        "STATUS",         "ERRNO", "MAINPID", "WATCHDOG", "WATCHDOG_USEC", "EXTEND_TIMEOUT_USEC",
        "MONOTONIC_USEC", "FDNAME"};
    bool valued = false;
    for (std::string_view k : kValued) valued = valued || k == key;
    if (!valued) {
      Ignore(&m, line, "unknown");
    } else if (!first(key)) {
      Ignore(&m, line, "repeated; the first one counts");
    } else {
      ApplyValue(line, key, line.substr(eq + 1), &m);
    }
  }
  if (m.fdstore && m.fdstore_remove) {
    m.fdstore = false;
    m.ignored.emplace_back("FDSTORE=1 (FDSTOREREMOVE=1 wins)");
  }
  return m;
}

}  // namespace supd
