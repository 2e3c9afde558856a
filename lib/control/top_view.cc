#include "lib/control/top_view.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <map>

#include "lib/control/json_field.h"
#include "lib/control/resources_format.h"
#include "lib/log/service_log.h"

namespace supd::control {
namespace {

using nlohmann::json;

constexpr const char* kGreen = "\x1b[32m";
constexpr const char* kYellow = "\x1b[33m";
constexpr const char* kRed = "\x1b[31m";
constexpr const char* kReset = "\x1b[0m";

// The states in the order the header counts them; other words follow, A to Z.
constexpr const char* kStateOrder[] = {"running",  "listening", "active", "starting", "reloading",
                                       "stopping", "backoff",   "failed", "stopped",  "inactive"};

const char* StateColor(const std::string& state) {
  if (state == "running" || state == "listening" || state == "active") return kGreen;
  if (state == "starting" || state == "backoff" || state == "stopping" || state == "reloading")
    return kYellow;
  if (state == "failed") return kRed;
  return nullptr;
}

bool IsUp(const std::string& state) {
  return state == "running" || state == "reloading" || state == "listening" || state == "active";
}

// A whole number >= 0 (a JSON reader may hold it as signed or unsigned).
std::optional<uint64_t> Unsigned(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer()) return std::nullopt;
  if (it->is_number_unsigned()) return it->get<uint64_t>();
  const auto v = it->get<int64_t>();
  if (v < 0) return std::nullopt;
  return static_cast<uint64_t>(v);
}

const json* Stats(const json& unit) {
  auto r = unit.find("resources");
  if (r == unit.end() || !r->is_object()) return nullptr;
  auto s = r->find("stats");
  if (s == r->end() || !s->is_object()) return nullptr;
  return &*s;
}

std::optional<uint64_t> Stat(const json& unit, const char* key) {
  const json* s = Stats(unit);
  return s ? Unsigned(*s, key) : std::nullopt;
}

// "45s", "3m12s", "2h03m", "4d02h".
std::string Duration(int64_t usec) {
  if (usec < 0) usec = 0;
  const int64_t s = usec / 1'000'000;
  if (s < 60) return fmt::format("{}s", s);
  if (s < 3600) return fmt::format("{}m{:02}s", s / 60, s % 60);
  if (s < 86400) return fmt::format("{}h{:02}m", s / 3600, s % 3600 / 60);
  return fmt::format("{}d{:02}h", s / 86400, s % 86400 / 3600);
}


// CPU % of `cur` over `prev` taken `wall_usec` apart; nullopt when it cannot be told.
std::optional<double> Percent(std::optional<uint64_t> cur, std::optional<uint64_t> prev,
                              int64_t wall_usec) {
  if (!cur || !prev || *cur < *prev || wall_usec <= 0) return std::nullopt;
  return static_cast<double>(*cur - *prev) * 100.0 / static_cast<double>(wall_usec);
}

// What a log line says, without "TIME PID STREAM: "; control characters become '?', so that a
// line cannot move the cursor or change colours.
std::string LogText(const std::string& line) {
  std::string_view text = line;
  const size_t first = text.find(' ');
  const size_t second = first == std::string_view::npos ? first : text.find(' ', first + 1);
  const size_t colon = second == std::string_view::npos ? second : text.find(": ", second + 1);
  if (colon != std::string_view::npos) text.remove_prefix(colon + 2);
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    // C1 controls (U+0080..U+009F) are 0xC2 0x80..0x9F in UTF-8; some terminals obey them.
    if (c == 0xC2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
        static_cast<unsigned char>(text[i + 1]) <= 0x9F) {
      out += '?';
      ++i;
      continue;
    }
    out += c < 0x20 || c == 0x7F ? '?' : static_cast<char>(c);
  }
  return out;
}

size_t Width(std::string_view s) {
  size_t n = 0;
  for (char c : s)
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  return n;
}

// `s` cut or padded to `width` code points: left-aligned with an ellipsis when cut, or
// right-aligned.
std::string Cell(std::string_view s, size_t width, bool right = false) {
  const size_t w = Width(s);
  if (w > width) return width == 0 ? std::string() : CutToWidth(s, width - 1) + "…";
  const std::string pad(width - w, ' ');
  return right ? pad + std::string(s) : std::string(s) + pad;
}

struct Row {
  std::string name;
  std::string state;
  std::string pid = "-";
  std::string uptime = "-";
  std::string restarts = "-";
  std::string cpu = "-";
  std::string mem = "-";
  std::string ready = "-";
  std::string log;
  double cpu_key = -1;  // -1: unknown (sorted last)
  double mem_key = -1;
  int64_t restarts_key = -1;
};

const json* FindUnit(const json& units, const std::string& name) {
  if (!units.is_array()) return nullptr;
  for (const auto& u : units)
    if (u.is_object() && Str(u, "name") == name) return &u;
  return nullptr;
}

Row MakeRow(const json& u, const TopSample& now, const TopSample* previous) {
  Row r;
  r.name = Str(u, "name");
  r.state = Str(u, "state");
  if (r.state.empty()) r.state = "?";
  const bool service = u.value("unit_type", "service") == "service";
  if (auto pid = Unsigned(u, "main_pid"); pid && *pid > 0) r.pid = std::to_string(*pid);
  if (IsUp(r.state))
    if (auto since = ParseRfc3339(Str(u, "since"))) r.uptime = Duration(now.realtime_usec - *since);
  if (!service) return r;
  if (auto n = Unsigned(u, "restarts")) {
    r.restarts = std::to_string(*n);
    r.restarts_key = static_cast<int64_t>(std::min<uint64_t>(*n, INT64_MAX));
  }
  if (previous) {
    const json* before = FindUnit(previous->units, r.name);
    if (before)
      if (auto pct = Percent(Stat(u, "cpu_usec"), Stat(*before, "cpu_usec"),
                             now.monotonic_usec - previous->monotonic_usec)) {
        r.cpu = fmt::format("{:.1f}", *pct);
        r.cpu_key = *pct;
      }
  }
  if (auto mem = Stat(u, "memory_current_bytes")) {
    r.mem = FormatBytes(*mem);
    r.mem_key = static_cast<double>(*mem);
  }
  if (r.state == "running" || r.state == "reloading")
    r.ready = u.value("ready", false) ? "yes" : "no";
  if (auto t = u.find("log_tail");
      t != u.end() && t->is_array() && !t->empty() && t->back().is_string())
    r.log = LogText(t->back().get<std::string>());
  return r;
}

void SortRows(std::vector<Row>* rows, TopSort sort) {
  std::stable_sort(rows->begin(), rows->end(), [sort](const Row& a, const Row& b) {
    switch (sort) {
      case TopSort::kCpu:
        if (a.cpu_key != b.cpu_key) return a.cpu_key > b.cpu_key;
        break;
      case TopSort::kMemory:
        if (a.mem_key != b.mem_key) return a.mem_key > b.mem_key;
        break;
      case TopSort::kRestarts:
        if (a.restarts_key != b.restarts_key) return a.restarts_key > b.restarts_key;
        break;
      case TopSort::kName:
        break;
    }
    return a.name < b.name;
  });
}

std::string Colored(const std::string& text, const char* color, bool on) {
  if (!on || color == nullptr) return text;
  return color + text + kReset;
}

// "supd 0.1.0  pid 123  up 2h03m  state running  reexecs 0  cpu 0.4%  rss 11.8M"
std::string DaemonLine(const TopSample& now, const TopSample* previous) {
  const json& v = now.version.is_object() ? now.version : json::object();
  std::string line = "supd " + (Str(v, "version").empty() ? "?" : Str(v, "version"));
  const auto pid = Unsigned(v, "pid");
  line += "  pid " + (pid ? std::to_string(*pid) : "-");
  if (auto started = v.find("started_realtime"); started != v.end() && started->is_number())
    line += "  up " + Duration(now.realtime_usec - started->get<int64_t>());
  if (!Str(v, "system_state").empty()) line += "  state " + Str(v, "system_state");
  if (auto n = Unsigned(v, "reexecs")) line += "  reexecs " + std::to_string(*n);
  std::optional<double> cpu;
  if (now.supd && previous && previous->supd && previous->version.is_object() &&
      Unsigned(previous->version, "pid") == pid)
    cpu = Percent(now.supd->cpu_usec, previous->supd->cpu_usec,
                  now.monotonic_usec - previous->monotonic_usec);
  line += "  cpu " + (cpu ? fmt::format("{:.1f}%", *cpu) : std::string("-"));
  line += "  rss " + (now.supd ? FormatBytes(now.supd->rss_bytes) : std::string("-"));
  return line;
}

// "6 units: 2 running, 1 backoff, 1 failed"
std::string CountsLine(const std::vector<Row>& rows, bool color) {
  std::map<std::string, size_t> counts;
  for (const Row& r : rows) ++counts[r.state];
  std::string line = std::to_string(rows.size()) + (rows.size() == 1 ? " unit" : " units");
  std::string sep = ": ";
  auto add = [&](const std::string& state, size_t n) {
    line += sep + std::to_string(n) + " " + Colored(state, StateColor(state), color);
    sep = ", ";
  };
  for (const char* state : kStateOrder) {
    auto it = counts.find(state);
    if (it == counts.end()) continue;
    add(it->first, it->second);
    counts.erase(it);
  }
  for (const auto& [state, n] : counts) add(state, n);
  return line;
}

}  // namespace

std::optional<TopSort> ParseTopSort(std::string_view word) {
  if (word == "cpu") return TopSort::kCpu;
  if (word == "memory") return TopSort::kMemory;
  if (word == "restarts") return TopSort::kRestarts;
  if (word == "name") return TopSort::kName;
  return std::nullopt;
}

const char* TopSortName(TopSort sort) {
  switch (sort) {
    case TopSort::kCpu:
      return "cpu";
    case TopSort::kMemory:
      return "memory";
    case TopSort::kRestarts:
      return "restarts";
    case TopSort::kName:
      return "name";
  }
  return "?";
}

std::optional<ProcFigures> ParseProcStat(std::string_view text, uint64_t ticks_per_second,
                                         uint64_t page_size) {
  // "pid (comm) state ppid …": comm may hold anything, so the fields start after the last ')'.
  const size_t open = text.find('(');
  const size_t close = text.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open)
    return std::nullopt;
  ProcFigures f;
  f.comm = std::string(text.substr(open + 1, close - open - 1));
  std::vector<std::string_view> fields;  // fields[0] is field 3 (state)
  std::string_view rest = text.substr(close + 1);
  while (!rest.empty()) {
    const size_t start = rest.find_first_not_of(" \n");
    if (start == std::string_view::npos) break;
    rest.remove_prefix(start);
    const size_t end = std::min(rest.find_first_of(" \n"), rest.size());
    fields.push_back(rest.substr(0, end));
    rest.remove_prefix(end);
  }
  // utime is field 14, stime 15, rss 24 (proc(5)).
  if (fields.size() < 22) return std::nullopt;
  auto number = [](std::string_view s, uint64_t* out) {
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
    return ec == std::errc() && p == s.data() + s.size();
  };
  uint64_t utime = 0, stime = 0, rss = 0;
  if (!number(fields[11], &utime) || !number(fields[12], &stime) || !number(fields[21], &rss))
    return std::nullopt;
  f.cpu_usec = (utime + stime) * (1'000'000 / ticks_per_second);
  f.rss_bytes = rss * page_size;
  return f;
}

std::string CutToWidth(std::string_view line, size_t width) {
  if (width == 0) return std::string(line);
  std::string out;
  size_t cols = 0;
  bool escapes = false;
  for (size_t i = 0; i < line.size();) {
    const auto c = static_cast<unsigned char>(line[i]);
    if (c == 0x1b && i + 1 < line.size() && line[i + 1] == '[') {
      // CSI: parameters and intermediates up to a final byte in 0x40..0x7E.
      size_t j = i + 2;
      while (j < line.size() && (static_cast<unsigned char>(line[j]) < 0x40 ||
                                 static_cast<unsigned char>(line[j]) > 0x7E))
        ++j;
      j = std::min(j + 1, line.size());
      out.append(line.substr(i, j - i));
      escapes = true;
      i = j;
      continue;
    }
    size_t len = 1;
    if (c >= 0xF0)
      len = 4;
    else if (c >= 0xE0)
      len = 3;
    else if (c >= 0xC0)
      len = 2;
    if (cols == width) {
      if (escapes) out += kReset;
      return out;
    }
    out.append(line.substr(i, len));
    ++cols;
    i += len;
  }
  return out;
}

std::vector<std::string> TopFrame(const TopSample& now, const TopSample* previous,
                                  const TopOptions& options) {
  std::vector<Row> rows;
  if (now.units.is_array())
    for (const auto& u : now.units)
      if (u.is_object()) rows.push_back(MakeRow(u, now, previous));
  SortRows(&rows, options.sort);

  std::vector<std::string> lines;
  lines.push_back(DaemonLine(now, previous));
  lines.push_back(CountsLine(rows, options.color));
  if (!options.hint.empty()) lines.push_back(options.hint);
  lines.emplace_back();

  // Widths fit each heading with its sort mark, so the table does not move when the sort does.
  size_t name_width = 5;
  for (const Row& r : rows) name_width = std::max(name_width, Width(r.name));
  name_width = std::min<size_t>(name_width, 40);
  auto heading = [&](const char* label, std::optional<TopSort> key, size_t width, bool right) {
    std::string h = label;
    if (key == options.sort) h += key == TopSort::kName ? "▲" : "▼";
    return Cell(h, width, right);
  };
  constexpr std::nullopt_t kNone = std::nullopt;
  lines.push_back(
      heading("UNIT", TopSort::kName, name_width, false) + " " + heading("STATE", kNone, 9, false) +
      " " + heading("PID", kNone, 7, true) + " " + heading("UPTIME", kNone, 6, true) + " " +
      heading("RESTARTS", TopSort::kRestarts, 9, true) + " " +
      heading("CPU%", TopSort::kCpu, 6, true) + " " + heading("MEM", TopSort::kMemory, 7, true) +
      " " + heading("READY", kNone, 5, false) + " LAST-LOG-LINE");

  size_t room = rows.size();
  if (options.height > 0) {
    const size_t left = options.height > lines.size() ? options.height - lines.size() : 0;
    if (rows.size() > left) room = left == 0 ? 0 : left - 1;  // one line says what is left out
  }
  for (size_t i = 0; i < room; ++i) {
    const Row& r = rows[i];
    lines.push_back(Cell(r.name, name_width) + " " +
                    Colored(Cell(r.state, 9), StateColor(r.state), options.color) + " " +
                    Cell(r.pid, 7, true) + " " + Cell(r.uptime, 6, true) + " " +
                    Cell(r.restarts, 9, true) + " " + Cell(r.cpu, 6, true) + " " +
                    Cell(r.mem, 7, true) + " " + Cell(r.ready, 5) + " " + r.log);
  }
  if (room < rows.size())
    lines.push_back(fmt::format("… {} more of {} units (a taller window shows them)",
                                rows.size() - room, rows.size()));
  if (options.height > 0 && lines.size() > options.height) lines.resize(options.height);
  for (auto& line : lines) {
    // Trailing blanks of a row whose log column is empty are of no use.
    while (!line.empty() && line.back() == ' ') line.pop_back();
    line = CutToWidth(line, options.width);
  }
  return lines;
}

}  // namespace supd::control
