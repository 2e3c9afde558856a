#include "lib/metrics/exposition.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <concepts>
#include <initializer_list>
#include <iterator>
#include <utility>
#include <variant>

namespace supd::metrics {
namespace {

// Every State, in the enum's order (service_fsm.h).
constexpr std::array<State, 7> kStates = {State::kStopped,   State::kStarting, State::kRunning,
                                          State::kReloading, State::kStopping, State::kBackoff,
                                          State::kFailed};

// The `probe` label: short, lower case (ProbeRoleName is the directive, "ReadinessProbe").
const char* ProbeLabel(ProbeRole r) {
  switch (r) {
    case ProbeRole::kStartup:
      return "startup";
    case ProbeRole::kReadiness:
      return "readiness";
    case ProbeRole::kLiveness:
      return "liveness";
  }
  return "readiness";
}

enum class Kind { kGauge, kCounter, kInfo, kStateSet };

// One metric family. `name` is the OpenMetrics family name (a counter's without _total, an
// info's without _info); the text format names the family after its sample.
struct Family {
  std::string_view name;
  Kind kind;
  std::string_view help;
  std::string_view unit = {};  // the name's suffix, for OpenMetrics' "# UNIT"; "" for none
};

constexpr Family kUnitState{"supd_unit_state", Kind::kStateSet,
                            "The state the service is in (1) and those it is not in (0)."};
constexpr Family kUnitInfo{"supd_unit", Kind::kInfo,
                           "The service's Type= and Description=, as loaded."};
constexpr Family kUnitRestarts{
    "supd_unit_restarts", Kind::kCounter,
    "Restarts of the service by reason, for supd's lifetime (reset-failed keeps them)."};
constexpr Family kUnitStartTime{"supd_unit_start_time_seconds", Kind::kGauge,
                                "When the running main process started, since the epoch.",
                                "seconds"};
constexpr Family kUnitReady{"supd_unit_ready", Kind::kGauge,
                            "1 when the service runs and its readiness probe (if any) passes."};
constexpr Family kUnitExitCode{"supd_unit_last_exit_code", Kind::kGauge,
                               "Exit status of the last main process that exited."};
constexpr Family kUnitExitSignal{"supd_unit_last_exit_signal", Kind::kGauge,
                                 "Signal number that killed the last main process."};
constexpr Family kUnitOomKills{"supd_unit_oom_kills", Kind::kCounter,
                               "Main processes of the service killed by the OOM killer."};
constexpr Family kUnitCpu{"supd_unit_cpu_seconds", Kind::kCounter,
                          "CPU time used by the current instance's cgroup, by mode.", "seconds"};
constexpr Family kUnitMemory{"supd_unit_memory_bytes", Kind::kGauge,
                             "Memory used by the current instance's cgroup.", "bytes"};
constexpr Family kUnitMemoryMax{"supd_unit_memory_max_bytes", Kind::kGauge,
                                "The memory limit of the current instance's cgroup (absent when "
                                "unlimited).",
                                "bytes"};
constexpr Family kUnitTasks{"supd_unit_tasks", Kind::kGauge,
                            "Processes and threads in the current instance's cgroup."};
constexpr Family kUnitLogDropped{"supd_unit_log_lines_dropped", Kind::kCounter,
                                 "Output lines of the service lost to log write errors."};
constexpr Family kUnitProbeUp{"supd_unit_probe_up", Kind::kGauge,
                              "1 when the probe passes, 0 when it fails or has no result yet."};
constexpr Family kUnitProbeFailures{"supd_unit_probe_failures", Kind::kCounter,
                                    "Failed checks of the probe, for supd's lifetime."};
constexpr Family kUnits{"supd_units", Kind::kGauge, "Services in each state."};
constexpr Family kBuildInfo{"supd_build", Kind::kInfo, "The version of supd."};
constexpr Family kProcessCpu{"process_cpu_seconds", Kind::kCounter,
                             "Total user and system CPU time spent in seconds.", "seconds"};
constexpr Family kProcessResident{"process_resident_memory_bytes", Kind::kGauge,
                                  "Resident memory size in bytes.", "bytes"};
constexpr Family kProcessVirtual{"process_virtual_memory_bytes", Kind::kGauge,
                                 "Virtual memory size in bytes.", "bytes"};
constexpr Family kProcessStart{"process_start_time_seconds", Kind::kGauge,
                               "Start time of the process since unix epoch in seconds.", "seconds"};
constexpr Family kProcessOpenFds{"process_open_fds", Kind::kGauge,
                                 "Number of open file descriptors."};
constexpr Family kProcessMaxFds{"process_max_fds", Kind::kGauge,
                                "Maximum number of open file descriptors."};

// A sample's value, formatted once: integers exactly, µs as exact decimal seconds, doubles as
// the shortest text that reads back the same ("0", "12.5", "1700000000.25"; fmt uses an
// exponent only from 1e16 on).
class Num {
 public:
  template <std::integral T>
  requires(!std::same_as<T, bool>)
      Num(T v) {  // NOLINT(google-explicit-constructor): values read better bare
    len_ = static_cast<size_t>(std::to_chars(buf_, buf_ + sizeof(buf_), v).ptr - buf_);
  }
  Num(double v) {  // NOLINT(google-explicit-constructor)
    if (std::isnan(v)) {
      Set("NaN");
    } else if (std::isinf(v)) {
      Set(v > 0 ? "+Inf" : "-Inf");
    } else {
      len_ = fmt::format_to_n(buf_, sizeof(buf_), "{}", v).size;
    }
  }
  // CLOCK_REALTIME or a duration in µs, as seconds: "1700000000.5", never rounded.
  static Num Micros(int64_t us) {
    Num n(uint64_t{0});
    char* p = n.buf_;
    // The magnitude as unsigned: -INT64_MIN does not fit an int64_t.
    uint64_t mag = us < 0 ? 0 - static_cast<uint64_t>(us) : static_cast<uint64_t>(us);
    if (us < 0) *p++ = '-';
    p = std::to_chars(p, n.buf_ + sizeof(n.buf_), mag / 1000000).ptr;
    if (uint64_t frac = mag % 1000000; frac != 0) {
      char digits[6];
      for (int i = 5; i >= 0; --i, frac /= 10) digits[i] = static_cast<char>('0' + frac % 10);
      int last = 5;
      while (digits[last] == '0') --last;
      *p++ = '.';
      for (int i = 0; i <= last; ++i) *p++ = digits[i];
    }
    n.len_ = static_cast<size_t>(p - n.buf_);
    return n;
  }
  std::string_view text() const { return {buf_, len_}; }

 private:
  void Set(std::string_view s) {
    std::copy(s.begin(), s.end(), buf_);
    len_ = s.size();
  }
  char buf_[48];
  size_t len_ = 0;
};

// The length of the valid UTF-8 sequence at s[i], 0 if there is none (overlong forms,
// surrogates and code points above U+10FFFF are invalid, as RFC 3629 says).
size_t Utf8Length(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  size_t n;
  unsigned char lo = 0x80, hi = 0xBF;  // the range of the second byte
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  if (b(i + 1) < lo || b(i + 1) > hi) return 0;
  for (size_t k = 2; k < n; ++k)
    if (b(i + k) < 0x80 || b(i + k) > 0xBF) return 0;
  return n;
}

// Appends `s` escaped: backslash and newline always, the double quote when `quote` (label
// values; the text format's HELP leaves it bare), invalid UTF-8 as U+FFFD.
void AppendEscaped(std::string& out, std::string_view s, bool quote) {
  size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quote) {
      out += "\\\"";
    } else if (static_cast<unsigned char>(c) < 0x80) {
      out += c;
    } else if (size_t n = Utf8Length(s, i); n > 0) {
      out.append(s.substr(i, n));
      i += n;
      continue;
    } else {
      out += "\xEF\xBF\xBD";  // U+FFFD for one bad byte
    }
    ++i;
  }
}

using Labels = std::initializer_list<std::pair<std::string_view, std::string_view>>;

// Writes families into one string: the header when a family begins, dropped again when no
// sample followed.
class Writer {
 public:
  Writer(std::string& out, Format f) : out_(out), om_(f == Format::kOpenMetrics) {}
  bool om() const { return om_; }

  void Begin(const Family& f) {
    family_ = &f;
    begin_ = out_.size();
    // The text format names a family after its one sample name, and has no info or stateset.
    std::string_view type = "gauge";
    std::string_view suffix;
    switch (f.kind) {
      case Kind::kGauge:
        break;
      case Kind::kCounter:
        type = "counter";
        if (!om_) suffix = "_total";
        break;
      case Kind::kInfo:
        if (om_)
          type = "info";
        else
          suffix = "_info";
        break;
      case Kind::kStateSet:
        if (om_) type = "stateset";
        break;
    }
    out_ += "# HELP ";
    out_ += f.name;
    out_ += suffix;
    out_ += ' ';
    AppendEscaped(out_, f.help, om_);
    out_ += "\n# TYPE ";
    out_ += f.name;
    out_ += suffix;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
    if (om_ && !f.unit.empty()) {
      out_ += "# UNIT ";
      out_ += f.name;
      out_ += ' ';
      out_ += f.unit;
      out_ += '\n';
    }
    header_end_ = out_.size();
  }

  void End() {
    if (out_.size() == header_end_) out_.resize(begin_);
  }

  // A gauge's or a stateset's sample.
  void Gauge(Labels labels, const Num& v) { Line("", labels, v); }
  // A counter's _total, and in OpenMetrics its _created when known (`created_us` > 0).
  void Counter(Labels labels, const Num& v, int64_t created_us = 0) {
    Line("_total", labels, v);
    if (om_ && created_us > 0) Line("_created", labels, Num::Micros(created_us));
  }
  void Info(Labels labels) { Line("_info", labels, Num(1)); }

 private:
  void Line(std::string_view suffix, Labels labels, const Num& v) {
    out_ += family_->name;
    out_ += suffix;
    if (labels.size() > 0) {
      char sep = '{';
      for (const auto& [name, value] : labels) {
        out_ += sep;
        out_ += name;
        out_ += "=\"";
        AppendEscaped(out_, value, true);
        out_ += '"';
        sep = ',';
      }
      out_ += '}';
    }
    out_ += ' ';
    out_ += v.text();
    out_ += '\n';
  }

  std::string& out_;
  const bool om_;
  const Family* family_ = nullptr;
  size_t begin_ = 0;
  size_t header_end_ = 0;
};

// Runs `body` between Begin and End of `f`.
template <typename Body>
void Emit(Writer& w, const Family& f, Body&& body) {
  w.Begin(f);
  body();
  w.End();
}

// The state of every service; what a loaded one is, its history, its last exit.
void RenderUnitLife(Writer& w, const std::vector<const ServiceSnapshot*>& all,
                    const std::vector<const ServiceSnapshot*>& loaded) {
  Emit(w, kUnitState, [&] {
    // OpenMetrics: a stateset's state label is named after the family.
    const std::string_view label = w.om() ? kUnitState.name : "state";
    for (const auto* s : all)
      for (State st : kStates)
        w.Gauge({{"unit", s->name}, {label, StateName(st)}}, s->state == st ? 1 : 0);
  });
  Emit(w, kUnitInfo, [&] {
    for (const auto* s : loaded) {
      if (!s->spec) continue;
      w.Info({{"unit", s->name},
              {"type", ServiceTypeName(s->spec->type)},
              {"description", s->spec->description}});
    }
  });
  Emit(w, kUnitRestarts, [&] {
    for (const auto* s : loaded)
      for (size_t r = 0; r < kRestartReasonCount; ++r)
        w.Counter({{"unit", s->name}, {"reason", RestartReasonName(static_cast<RestartReason>(r))}},
                  s->counters.restarts[r], s->counters.created_realtime);
  });
  Emit(w, kUnitStartTime, [&] {
    for (const auto* s : loaded)
      if (s->main_start_realtime != 0)
        w.Gauge({{"unit", s->name}}, Num::Micros(s->main_start_realtime));
  });
  Emit(w, kUnitReady, [&] {
    for (const auto* s : loaded) w.Gauge({{"unit", s->name}}, s->ready ? 1 : 0);
  });
  Emit(w, kUnitExitCode, [&] {
    for (const auto* s : loaded)
      if (s->last_exit && s->last_exit->status.exited && !s->last_exit->status.unknown)
        w.Gauge({{"unit", s->name}}, s->last_exit->status.code);
  });
  Emit(w, kUnitExitSignal, [&] {
    for (const auto* s : loaded)
      if (s->last_exit && !s->last_exit->status.exited)
        w.Gauge({{"unit", s->name}}, s->last_exit->status.signal);
  });
  Emit(w, kUnitOomKills, [&] {
    for (const auto* s : loaded)
      w.Counter({{"unit", s->name}}, s->counters.oom_kills, s->counters.created_realtime);
  });
}

// What the current instance uses, its log's losses, its probes.
void RenderUnitResources(Writer& w, const std::vector<const ServiceSnapshot*>& loaded) {
  Emit(w, kUnitCpu, [&] {
    for (const auto* s : loaded) {
      if (!s->stats) continue;
      if (s->stats->cpu_user_usec)
        w.Counter({{"unit", s->name}, {"mode", "user"}},
                  Num::Micros(static_cast<int64_t>(*s->stats->cpu_user_usec)));
      if (s->stats->cpu_system_usec)
        w.Counter({{"unit", s->name}, {"mode", "system"}},
                  Num::Micros(static_cast<int64_t>(*s->stats->cpu_system_usec)));
    }
  });
  Emit(w, kUnitMemory, [&] {
    for (const auto* s : loaded)
      if (s->stats && s->stats->memory_current)
        w.Gauge({{"unit", s->name}}, *s->stats->memory_current);
  });
  Emit(w, kUnitMemoryMax, [&] {
    for (const auto* s : loaded)
      if (s->stats && s->stats->memory_max) w.Gauge({{"unit", s->name}}, *s->stats->memory_max);
  });
  Emit(w, kUnitTasks, [&] {
    for (const auto* s : loaded)
      if (s->stats && s->stats->tasks) w.Gauge({{"unit", s->name}}, *s->stats->tasks);
  });
  Emit(w, kUnitLogDropped, [&] {
    for (const auto* s : loaded)
      w.Counter({{"unit", s->name}}, s->log_stats ? s->log_stats->dropped_lines : uint64_t{0});
  });
  Emit(w, kUnitProbeUp, [&] {
    for (const auto* s : loaded)
      for (const auto& p : s->probes)
        w.Gauge({{"unit", s->name}, {"probe", ProbeLabel(p.spec.role)}},
                p.status.state == ProbeState::kPassing ? 1 : 0);
  });
  Emit(w, kUnitProbeFailures, [&] {
    for (const auto* s : loaded)
      for (const auto& p : s->probes)
        w.Counter({{"unit", s->name}, {"probe", ProbeLabel(p.spec.role)}},
                  s->counters.probe_failures[static_cast<size_t>(p.spec.role)],
                  s->counters.created_realtime);
  });
}

void RenderProcess(Writer& w, const ProcessStats& p) {
  // µs since the epoch, for _created; 0 when the start is unknown.
  const auto start_us = static_cast<int64_t>(std::llround(p.start_time_seconds * 1e6));
  Emit(w, kProcessCpu, [&] { w.Counter({}, p.cpu_seconds, start_us); });
  Emit(w, kProcessResident, [&] { w.Gauge({}, p.resident_bytes); });
  Emit(w, kProcessVirtual, [&] { w.Gauge({}, p.virtual_bytes); });
  Emit(w, kProcessStart, [&] {
    if (p.start_time_seconds > 0) w.Gauge({}, p.start_time_seconds);
  });
  Emit(w, kProcessOpenFds, [&] {
    if (p.open_fds) w.Gauge({}, *p.open_fds);
  });
  Emit(w, kProcessMaxFds, [&] { w.Gauge({}, p.max_fds); });
}

// --- Accept header -------------------------------------------------------------------------

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool EqualsNoCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
           return lower(x) == lower(y);
         });
}

// RFC 9110 qvalue: "0", "0.5", "1.000"; in thousandths, or -1 when malformed.
int ParseQ(std::string_view v) {
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  if (v.empty() || (v[0] != '0' && v[0] != '1')) return -1;
  int q = (v[0] - '0') * 1000;
  if (v.size() == 1) return q;
  if (v[1] != '.' || v.size() > 5) return -1;
  int scale = 100;
  for (char c : v.substr(2)) {
    if (c < '0' || c > '9') return -1;
    q += (c - '0') * scale;
    scale /= 10;
  }
  return q > 1000 ? -1 : q;
}

// One media range of an Accept header.
struct MediaRange {
  std::string_view type, subtype;
  std::optional<std::string_view> version;
  int q = 1000;  // thousandths
};

// The ranges of `accept`; malformed ones left out.
std::vector<MediaRange> ParseAccept(std::string_view accept) {
  std::vector<MediaRange> out;
  while (!accept.empty()) {
    const size_t comma = accept.find(',');
    std::string_view item = accept.substr(0, comma);
    accept = comma == std::string_view::npos ? std::string_view() : accept.substr(comma + 1);
    size_t semi = item.find(';');
    std::string_view media = Trim(item.substr(0, semi));
    const size_t slash = media.find('/');
    if (slash == std::string_view::npos) continue;
    MediaRange r{Trim(media.substr(0, slash)), Trim(media.substr(slash + 1)), std::nullopt, 1000};
    if (r.type.empty() || r.subtype.empty()) continue;
    bool ok = true;
    while (semi != std::string_view::npos) {
      item = item.substr(semi + 1);
      semi = item.find(';');
      std::string_view param = Trim(item.substr(0, semi));
      const size_t eq = param.find('=');
      if (eq == std::string_view::npos) continue;  // "a;;b", a bare token: nothing to read
      const std::string_view key = Trim(param.substr(0, eq));
      std::string_view value = Trim(param.substr(eq + 1));
      if (EqualsNoCase(key, "q")) {
        r.q = ParseQ(value);
        if (r.q < 0) ok = false;
      } else if (EqualsNoCase(key, "version")) {
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
          value = value.substr(1, value.size() - 2);
        r.version = value;
      }
    }
    if (ok) out.push_back(r);
  }
  return out;
}

// How specifically `r` names type/subtype with an acceptable version: 3 exactly with a
// version, 2 exactly, 1 type/*, 0 */*, -1 not at all.
int Specificity(const MediaRange& r, std::string_view type, std::string_view subtype,
                std::initializer_list<std::string_view> versions) {
  if (r.type == "*" && r.subtype == "*") return 0;
  if (!EqualsNoCase(r.type, type)) return -1;
  if (r.subtype == "*") return 1;
  if (!EqualsNoCase(r.subtype, subtype)) return -1;
  if (!r.version) return 2;
  for (auto v : versions)
    if (*r.version == v) return 3;
  return -1;
}

// The q that the most specific matching range gives (the highest among equally specific ones);
// -1 when none matches or the best match is less specific than `min_specificity`.
int QualityOf(const std::vector<MediaRange>& ranges, std::string_view type,
              std::string_view subtype, std::initializer_list<std::string_view> versions,
              int min_specificity) {
  int best_spec = -1, q = -1;
  for (const auto& r : ranges) {
    const int s = Specificity(r, type, subtype, versions);
    if (s < 0) continue;
    if (s > best_spec) {
      best_spec = s;
      q = r.q;
    } else if (s == best_spec) {
      q = std::max(q, r.q);
    }
  }
  return best_spec >= min_specificity ? q : -1;
}

}  // namespace

Format NegotiateFormat(std::string_view accept) {
  const auto ranges = ParseAccept(accept);
  // OpenMetrics only when asked for by name: a bare */* gets the classic format, which every
  // scraper reads.
  const int om = QualityOf(ranges, "application", "openmetrics-text", {"1.0.0", "0.0.1"}, 2);
  const int text = QualityOf(ranges, "text", "plain", {"0.0.4"}, 0);
  return om > 0 && om >= text ? Format::kOpenMetrics : Format::kPrometheusText;
}

const char* ContentType(Format f) {
  return f == Format::kOpenMetrics ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
                                   : "text/plain; version=0.0.4; charset=utf-8";
}

std::string Render(const ExpositionInput& in, Format f) {
  std::vector<const ServiceSnapshot*> services;
  for (const auto& u : in.units)
    if (const auto* s = std::get_if<ServiceSnapshot>(&u)) services.push_back(s);
  std::sort(services.begin(), services.end(),
            [](const auto* a, const auto* b) { return a->name < b->name; });

  std::string out;
  // About 3 KiB per service with probes and stats; one allocation for the common case.
  out.reserve(4096 + services.size() * 3072);
  Writer w(out, f);
  std::vector<const ServiceSnapshot*> loaded;
  for (const auto* s : services)
    if (s->loaded) loaded.push_back(s);
  RenderUnitLife(w, services, loaded);
  RenderUnitResources(w, loaded);
  if (in.daemon.units_loaded) {
    Emit(w, kUnits, [&] {
      for (State st : kStates) {
        const auto n = std::count_if(services.begin(), services.end(),
                                     [st](const auto* s) { return s->state == st; });
        w.Gauge({{"state", StateName(st)}}, n);
      }
    });
  }
  Emit(w, kBuildInfo, [&] { w.Info({{"version", in.version}}); });
  if (in.process) RenderProcess(w, *in.process);
  if (w.om()) out += "# EOF\n";
  return out;
}

}  // namespace supd::metrics
