#include "lib/control/status_format.h"

#include <algorithm>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "lib/control/ansi_color.h"
#include "lib/control/json_field.h"
#include "lib/control/resources_format.h"

namespace supd::control {

std::string EnableWord(const nlohmann::json& s) {
  std::string word = Str(s, "enable_state");
  if (!word.empty()) return word;
  // A supd from before enable_state tells the bool only.
  return s.value("enabled", false) ? "enabled" : "disabled";
}

std::string FormatStatusHead(const nlohmann::json& s, bool active) {
  std::string out;
  const std::string state = Str(s, "state");
  const char* dot = active ? "●" : state == "failed" ? "×" : "○";
  out += std::string(dot) + " " + Str(s, "name");
  if (!Str(s, "description").empty()) out += " - " + Str(s, "description");
  out += "\n";
  out += "     Loaded: " + Str(s, "unit_path") + " (" + EnableWord(s) + ")\n";
  if (auto le = s.find("load_error"); le != s.end() && le->is_string())
    out += "      Error: " + le->get<std::string>() + "\n";
  out += "     Active: " + state;
  const std::string sub = Str(s, "sub_state");
  if (!sub.empty() && sub != state) out += " (" + sub + ")";
  out += " since " + Str(s, "since");
  return out;
}

std::string FormatDependencyLines(const nlohmann::json& s) {
  std::string out;
  if (!Str(s, "dependency_error").empty())
    out += " Dependency: " + Str(s, "dependency_error") + "\n";
  if (!Str(s, "job").empty()) {
    out += "        Job: " + Str(s, "job");
    std::string waiting;
    if (auto w = s.find("waiting_for"); w != s.end() && w->is_array())
      for (const auto& u : *w)
        if (u.is_string()) waiting += (waiting.empty() ? "" : ", ") + u.get<std::string>();
    if (!waiting.empty()) out += " (waiting for " + waiting + ")";
    out += "\n";
  }
  return out;
}

namespace {

// "      Ready: no (the readiness probe fails)" for a running service that is not ready, then
// a "Probes:" block, one line per probe and its last failure with the end of its output:
//   "     Probes: ReadinessProbe=http://127.0.0.1:8080/healthz passing (3 in a row, 12 checks,
//                1 failed, last 1.2ms)"
//   "               last failure 2026-12-03T04:05:06.000000Z: HTTP 503 Service Unavailable"
//   "               | <output line>"
std::string FormatProbeLines(const nlohmann::json& s) {
  auto probes = s.find("probes");
  if (probes == s.end() || !probes->is_array() || probes->empty()) return "";
  std::string out;
  if (Str(s, "state") == "running" && !s.value("ready", true))
    out += "      Ready: no (the readiness probe fails)\n";
  const char* lead = "     Probes: ";
  for (const auto& p : *probes) {
    if (!p.is_object()) continue;
    const std::string state = Str(p, "state");
    out += lead + Str(p, "directive") + "=" + Str(p, "target") + " " +
           (p.value("running", false) ? state : std::string("not running"));
    lead = "             ";
    const uint64_t checks = p.value("checks", uint64_t{0});
    if (checks > 0) {
      const unsigned streak = state == "failing" ? p.value("consecutive_failures", 0u)
                                                 : p.value("consecutive_successes", 0u);
      char latency[32] = "";
      if (auto l = p.find("last_latency_ms"); l != p.end() && l->is_number())
        std::snprintf(latency, sizeof latency, ", last %.1fms", l->get<double>());
      out += " (" + std::to_string(streak) + " in a row, " + std::to_string(checks) +
             (checks == 1 ? " check, " : " checks, ") +
             std::to_string(p.value("failures", uint64_t{0})) + " failed" + latency + ")";
    }
    out += "\n";
    auto f = p.find("last_failure");
    if (f == p.end() || !f->is_object()) continue;
    out += "               last failure " + Str(*f, "at") + ": " + Str(*f, "message") + "\n";
    // The last lines of its output, at most 5.
    const std::string output = Str(*f, "output");
    std::vector<std::string> lines;
    for (size_t start = 0; start < output.size();) {
      size_t nl = output.find('\n', start);
      if (nl == std::string::npos) nl = output.size();
      if (nl > start) lines.push_back(output.substr(start, nl - start));
      start = nl + 1;
    }
    for (size_t i = lines.size() > 5 ? lines.size() - 5 : 0; i < lines.size(); ++i)
      out += "               | " + lines[i] + "\n";
  }
  return out;
}

}  // namespace

std::string FormatServiceStatus(const nlohmann::json& s) {
  const std::string state = Str(s, "state");
  std::string out = FormatStatusHead(s, state == "running");
  if (state == "failed" || (state == "stopped" && Str(s, "result") != "success"))
    out += "; result: " + Str(s, "result");
  out += "\n";
  if (!Str(s, "cause").empty() && state != "running")
    out += "      Cause: " + Str(s, "cause") + "\n";
  out += FormatDependencyLines(s);
  if (auto pid = s.find("main_pid"); pid != s.end() && pid->is_number())
    out += "   Main PID: " + std::to_string(pid->get<long>()) + "\n";
  if (auto prev = s.find("previous_instances"); prev != s.end() && prev->is_array()) {
    for (const auto& p : *prev) {
      if (!p.is_object()) continue;
      auto pid = p.find("pid");
      out += "   Previous: " +
             (pid != p.end() && pid->is_number() ? "pid " + std::to_string(pid->get<long>())
                                                 : std::string("(no main process)")) +
             ", " + Str(p, "role") + "\n";
    }
  }
  out += FormatProbeLines(s);
  if (auto pid = s.find("control_pid"); pid != s.end() && pid->is_number())
    out += "    Control: " + std::to_string(pid->get<long>()) + "\n";
  if (auto socks = s.find("sockets"); socks != s.end() && socks->is_array()) {
    for (const auto& u : *socks) {
      if (!u.is_object()) continue;
      if (auto e = u.find("error"); e != u.end() && e->is_string())
        out += "     Socket: " + e->get<std::string>() + "\n";
      if (auto l = u.find("listening"); l != u.end() && l->is_array())
        for (const auto& one : *l)
          if (one.is_object())
            out += "     Listen: " + Str(one, "listen") + " (" + Str(one, "name") + ")\n";
    }
  }
  if (!Str(s, "status_text").empty()) out += "     Status: \"" + Str(s, "status_text") + "\"\n";
  if (auto e = s.find("status_errno"); e != s.end() && e->is_number())
    out += "      Error: " + std::to_string(e->get<int>()) + " (" + Str(s, "status_errno_name") +
           ")\n";
  out += FormatResourceLines(s);
  out += FormatProcessLines(s);
  if (s.value("restarts", 0) > 0)
    out += "   Restarts: " + std::to_string(s.value("restarts", 0)) + "\n";
  if (auto le = s.find("last_exit"); le != s.end() && le->is_object()) {
    out += "  Last exit: " + Str(*le, "reason") + " (pid " +
           std::to_string(le->value("pid", 0)) + ", " + Str(*le, "at") + ")\n";
    // The crash excerpt: the instance's last stderr lines (a Go panic's goroutine trace).
    if (auto ex = le->find("stderr_excerpt"); ex != le->end() && ex->is_array() && !ex->empty()) {
      out += "  Last stderr of pid " + std::to_string(le->value("pid", 0)) + ":\n";
      for (const auto& line : *ex)
        if (line.is_string()) out += "    | " + line.get<std::string>() + "\n";
    }
  }
  if (auto w = s.find("warnings"); w != s.end() && w->is_array()) {
    for (const auto& line : *w)
      if (line.is_string()) out += "    Warning: " + line.get<std::string>() + "\n";
  }
  if (!Str(s, "log_file").empty()) out += "        Log: " + Str(s, "log_file") + "\n";
  if (auto t = s.find("log_tail"); t != s.end() && t->is_array() && !t->empty()) {
    out += "\n";
    for (const auto& line : *t)
      if (line.is_string()) out += line.get<std::string>() + "\n";
  }
  return out;
}

std::string ColorStatus(std::string_view text) {
  constexpr std::string_view kGreen = ansi::kHighlightGreen, kRed = ansi::kHighlightRed,
                             kNormal = ansi::kNormal, kActive = "     Active: ";
  std::string out;
  out.reserve(text.size() + 64);
  while (!text.empty()) {
    const size_t end = text.find('\n');
    std::string_view line = text.substr(0, end == std::string_view::npos ? text.size() : end + 1);
    text.remove_prefix(line.size());
    for (auto [dot, color] : {std::pair{std::string_view("●"), kGreen},
                              std::pair{std::string_view("×"), kRed}}) {
      if (line.starts_with(dot) && line.substr(dot.size()).starts_with(" ")) {
        out.append(color).append(dot).append(kNormal);
        line.remove_prefix(dot.size());
        break;
      }
    }
    if (line.starts_with(kActive)) {
      out.append(kActive);
      line.remove_prefix(kActive.size());
      const size_t word_end = std::min(line.find_first_of(" \n"), line.size());
      const std::string_view word = line.substr(0, word_end);
      const std::string_view color = word == "failed" ? kRed
                                     : word == "running" || word == "listening" || word == "active"
                                         ? kGreen
                                         : std::string_view();
      if (!color.empty()) {
        out.append(color).append(word).append(kNormal);
        line.remove_prefix(word_end);
      }
    }
    out.append(line);
  }
  return out;
}

}  // namespace supd::control
