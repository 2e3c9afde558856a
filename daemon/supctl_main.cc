// supctl: the command-line client of supd. Argument parsing and printing only; the exit
// codes and the verb groups in other files are in daemon/supctl.h.
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <thread>

#include "daemon/supctl.h"
#include "lib/control/client.h"
#include "lib/control/dependency_tree.h"
#include "lib/control/enable_format.h"
#include "lib/control/event_stream.h"
#include "lib/control/log_output.h"
#include "lib/control/paths.h"
#include "lib/control/protocol.h"
#include "lib/control/reexec_wait.h"
#include "lib/control/resources_format.h"
#include "lib/control/socket_status_format.h"
#include "lib/control/status_format.h"
#include "lib/control/target_status_format.h"
#include "lib/proc/limit_plan.h"
#include "lib/unit/target_spec.h"
#include "lib/unit/unit_loader.h"

namespace {

using supd::supctl::Call;
using supd::supctl::kExitFailed;
using supd::supctl::kExitOk;
using supd::supctl::kExitUnreachable;
using supd::supctl::kExitUsage;
using supd::supctl::Outcome;

int CheckFiles(const std::vector<std::string>& files) {
  supd::SpecifierContext ctx;
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  ctx.hostname = host;
  ctx.runtime_dir = supd::GetDefaultPaths().runtime_dir;
  ctx.uid = geteuid();
  // Limits are judged against supctl's own (supd's children start with supd's, which the
  // daemon's check uses).
  const supd::RlimitHost own_limits = supd::ReadRlimitHost();
  int rc = kExitOk;
  for (const auto& f : files) {
    std::string name = std::filesystem::path(f).filename().string();
    // A template is checked as one instance of itself.
    const auto at = name.find("@.");
    if (at != std::string::npos) name.insert(at + 1, "instance");
    if (name.ends_with(".target")) {
      auto target = supd::LoadTargetFile(f, name, ctx);
      if (!target.ok()) {
        std::printf("%s\n", target.error().message.c_str());
        rc = kExitFailed;
        continue;
      }
      for (const auto& w : target->warnings) std::printf("%s\n", w.ToString().c_str());
      if (target->warnings.empty()) std::printf("%s: ok\n", f.c_str());
      continue;
    }
    auto spec = supd::LoadServiceFile(f, name, ctx);
    if (!spec.ok()) {
      std::printf("%s\n", spec.error().message.c_str());
      rc = kExitFailed;
      continue;
    }
    for (const auto& w : spec->warnings) std::printf("%s\n", w.ToString().c_str());
    const auto notes =
        supd::PredictLimitNotes(spec->exec, spec->resources.require_limits, own_limits);
    for (const auto& note : notes) std::printf("%s: %s\n", f.c_str(), note.c_str());
    if (spec->warnings.empty() && notes.empty()) std::printf("%s: ok\n", f.c_str());
  }
  return rc;
}

// How `logs` prints a record: supd's own line, the protocol's JSON (--json), or a journalctl
// mode (-o).
struct LogFormat {
  bool json_out = false;
  std::optional<supd::control::LogOutput> mode;
  std::string hostname;
};

void PrintLogLines(const nlohmann::json& result, const LogFormat& format) {
  if (!result.is_object() || !result.contains("lines")) return;
  if (auto sk = result.find("skipped"); sk != result.end() && sk->is_number_unsigned()) {
    std::fflush(stdout);  // the gap is before the lines that follow
    std::fprintf(stderr, "supctl: %llu lines skipped: supctl did not keep up with the output\n",
                 static_cast<unsigned long long>(sk->get<uint64_t>()));
  }
  for (const auto& l : result["lines"]) {
    if (format.mode) {
      std::printf("%s\n", supd::control::FormatLogRecord(l, *format.mode, format.hostname).c_str());
      continue;
    }
    if (format.json_out) {
      std::printf("%s\n", l.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
      continue;
    }
    std::printf("%s %s[%d] %s%s: %s\n", l.value("time", "").c_str(), l.value("service", "").c_str(),
                l.value("pid", 0), l.value("stream", "").c_str(),
                l.value("continued", false) ? "+" : "", l.value("text", "").c_str());
  }
  if (result.value("truncated", false))
    std::fprintf(stderr, "supctl: older lines left out (reply size limit)\n");
  if (result.contains("error") && result["error"].is_string())
    std::fprintf(stderr, "supctl: reading the log files: %s\n",
                 result["error"].get<std::string>().c_str());
  std::fflush(stdout);
}

// A command whose answers stream ("more": true) until it ends or the client is interrupted:
// each answer's result goes to `print`. Exit codes as every verb's.
int Stream(const std::string& socket, const std::string& cmd, const nlohmann::json& args,
           const std::function<void(const nlohmann::json&)>& print) {
  auto client = supd::control::Client::Connect(socket);
  if (!client.ok()) {
    std::fprintf(stderr, "supctl: supd is not reachable: %s\n", client.error().message.c_str());
    return kExitUnreachable;
  }
  auto r = client->Call(cmd, args);
  for (;;) {
    if (!r.ok()) {
      std::fprintf(stderr, "supctl: %s\n", r.error().message.c_str());
      return kExitUnreachable;
    }
    if (!r->value("ok", false)) {
      std::string message = "failed";
      if (auto e = r->find("error"); e != r->end() && e->is_object())
        message = e->value("message", message);
      std::fprintf(stderr, "supctl: %s\n", message.c_str());
      return kExitFailed;
    }
    print((*r)["result"]);
    if (!r->value("more", false)) return kExitOk;
    r = client->Next();
  }
}

int Logs(const std::string& socket, const std::vector<std::string>& services, int lines,
         bool follow, const std::string& since, const std::string& stream, LogFormat format) {
  nlohmann::json args = {{"services", services}, {"follow", follow}};
  if (lines >= 0) args["lines"] = lines;
  if (!since.empty()) args["since"] = since;
  if (!stream.empty()) args["stream"] = stream;
  if (format.mode) {
    char host[256] = {};
    if (gethostname(host, sizeof host - 1) == 0) format.hostname = host;
    if (format.hostname.empty()) format.hostname = "localhost";
  }
  return Stream(socket, "logs", args,
                [&format](const nlohmann::json& result) { PrintLogLines(result, format); });
}

// `events` runs until interrupted: that is how it ends, not a failure.
void ExitQuietly(int) { _exit(kExitOk); }

int Events(const std::string& socket, const std::vector<std::string>& units, bool json_out) {
  struct sigaction sa {};
  sa.sa_handler = ExitQuietly;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  return Stream(socket, "events", {{"units", units}}, [json_out](const nlohmann::json& result) {
    if (auto sk = result.find("skipped"); sk != result.end() && sk->is_number_unsigned()) {
      std::fflush(stdout);  // the gap is before the events that follow
      std::fprintf(stderr, "supctl: %llu events skipped (reader too slow)\n",
                   static_cast<unsigned long long>(sk->get<uint64_t>()));
    }
    if (auto events = result.find("events"); events != result.end() && events->is_array()) {
      for (const auto& e : *events) {
        std::printf("%s\n",
                    json_out
                        ? e.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str()
                        : supd::control::FormatEventLine(e).c_str());
      }
      std::fflush(stdout);
    }
  });
}

// What the command line says.
struct Args {
  std::string socket;
  bool no_block = false;
  std::string timeout_text;
  bool json_out = false;
  std::vector<std::string> services;
  std::string signal_name = "SIGTERM";
  std::string whom = "all";
  std::vector<std::string> files;
  bool hard = false;
  int log_lines = -1;
  bool follow = false;
  std::string since, stream;
  std::string output;  // logs -o
  bool openmetrics = false;
  bool now = false;
  bool quiet = false;
  bool wait_boot = false;  // is-system-running --wait
  bool reverse = false;
  bool all = false;
  bool no_color = false, no_pager = false;
};

// The subcommands, to tell which one was given.
struct Commands {
  CLI::App* status;
  CLI::App* list;
  std::map<std::string, CLI::App*> ops;  // start, stop, restart, reload, reset-failed
  CLI::App* kill;
  CLI::App* check;
  CLI::App* cat;
  CLI::App* reload;
  CLI::App* reexec;
  CLI::App* version;
  CLI::App* logs;
  CLI::App* events;
  CLI::App* metrics;
  CLI::App* enable;
  CLI::App* disable;
  CLI::App* is_enabled;
  CLI::App* list_dependencies;
  CLI::App* is_system_running;
};

Commands DefineCommands(CLI::App& app, Args* a) {
  Commands c;
  c.status = app.add_subcommand("status", "show the state of services (all if none named)");
  c.status->add_option("services", a->services, "services");
  c.status->add_flag("--json", a->json_out, "print the protocol's JSON");
  c.list = app.add_subcommand("list", "the state of every unit, as status without units prints it");
  c.list->add_flag("--json", a->json_out, "print the protocol's JSON");
  for (const char* op : {"start", "stop", "restart", "reload", "reset-failed"}) {
    auto* sub = app.add_subcommand(op, std::string(op) + " services");
    sub->add_option("services", a->services, "services")->required();
    c.ops[op] = sub;
  }
  c.ops["restart"]->add_flag("--hard", a->hard,
                             "stop, then start (no overlap of old and new instance)");
  c.kill = app.add_subcommand("kill", "send a signal to the processes of services");
  c.kill->add_option("services", a->services, "services")->required();
  c.kill->add_option("-s,--signal", a->signal_name, "signal name or number")->capture_default_str();
  c.kill->add_option("--kill-whom", a->whom, "all or main")->check(CLI::IsMember({"all", "main"}));
  c.check = app.add_subcommand("check", "check unit files (or all loaded units)");
  c.check->add_option("files", a->files, "unit files to check without a daemon");
  c.cat = app.add_subcommand("cat", "print unit files of services");
  c.cat->add_option("services", a->services, "services")->required();
  c.reload = app.add_subcommand("daemon-reload", "re-read the units directory");
  c.reexec = app.add_subcommand(
      "daemon-reexec",
      "replace supd by the binary now at its path, keeping every service and socket (an "
      "upgrade); --timeout: how long to wait for a moment of rest and for the new supd");
  c.version = app.add_subcommand("version", "print supctl's and supd's versions");
  c.logs = app.add_subcommand("logs", "print the output of services, interleaved by time");
  c.logs->add_option("services", a->services, "services")->required();
  c.logs->add_option("-n,--lines", a->log_lines, "how many of the last lines (default 10)");
  c.logs->add_flag("-f,--follow", a->follow,
                   "then print new lines as they come, until interrupted");
  c.logs->add_option("--since", a->since, "only lines from this time on (2026-11-22T07:00:00Z)");
  c.logs->add_option("--stream", a->stream, "only stdout or stderr")
      ->check(CLI::IsMember({"out", "err"}));
  c.logs->add_flag("--json", a->json_out, "one JSON object per line (the protocol's fields)");
  c.logs->add_option("-o,--output", a->output,
                     "as journalctl's -o: " + supd::control::LogOutputNames() +
                         " (default: supd's own lines)")
      ->check([](const std::string& v) {
        return supd::control::ParseLogOutput(v)
                   ? std::string()
                   : "'" + v + "' is not one of: " + supd::control::LogOutputNames();
      })
      ->excludes("--json");
  c.events = app.add_subcommand(
      "events", "print what happens to units (all if none named) as it happens, until interrupted");
  c.events->add_option("units", a->services, "units");
  c.events->add_flag("--json", a->json_out, "one JSON object per event");
  c.metrics = app.add_subcommand(
      "metrics", "print the Prometheus exposition (for node_exporter's textfile collector)");
  c.metrics->add_flag("--openmetrics", a->openmetrics, "in the OpenMetrics format");
  c.enable = app.add_subcommand(
      "enable", "apply the units' [Install] sections (links in <target>.wants/ and .requires/)");
  c.enable->add_option("units", a->services, "units")->required();
  c.enable->add_flag("--now", a->now, "then start them");
  c.disable = app.add_subcommand("disable", "remove every link to the units");
  c.disable->add_option("units", a->services, "units")->required();
  c.disable->add_flag("--now", a->now, "then stop them");
  c.is_enabled = app.add_subcommand(
      "is-enabled", "print whether the units are enabled (exit 0 when any is enabled or static)");
  c.is_enabled->add_option("units", a->services, "units")->required();
  c.is_enabled->add_flag("-q,--quiet", a->quiet, "print nothing, only set the exit code");
  c.list_dependencies =
      app.add_subcommand("list-dependencies", "print the units a unit pulls in, as a tree");
  c.list_dependencies->add_option("unit", a->services, "unit")->required()->expected(1);
  c.list_dependencies->add_flag("--reverse", a->reverse, "the units that pull this one in");
  c.list_dependencies->add_flag("--all", a->all, "expand every unit, not only targets");
  c.is_system_running = app.add_subcommand(
      "is-system-running",
      "print supd's state: initializing, starting, running, degraded, stopping, offline (exit 0 "
      "only when running)");
  c.is_system_running->add_flag("-q,--quiet", a->quiet, "print nothing, only set the exit code");
  c.is_system_running->add_flag("--wait", a->wait_boot,
                                "while initializing or starting, wait for the start to finish");
  return c;
}

int Version(const std::string& socket) {
  std::printf("supctl %s\n", SUPD_VERSION);
  Outcome o = Call(socket, "version", nlohmann::json::object());
  if (o.code != kExitOk) return o.code;
  std::printf("supd %s (pid %d)\n", o.response["result"].value("version", "?").c_str(),
              o.response["result"].value("pid", 0));
  return kExitOk;
}

int Status(const std::string& socket, const std::vector<std::string>& services, bool json_out,
           bool color) {
  nlohmann::json args = nlohmann::json::object();
  if (!services.empty()) args["services"] = services;
  Outcome o = Call(socket, "status", args);
  if (o.code != kExitOk) return o.code;
  const auto& result = o.response["result"];
  if (json_out) {
    std::printf("%s\n",
                result.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  } else {
    bool first = true;
    if (services.empty()) {
      // supd's own block first: its cgroup layout (what limits can be enforced here).
      Outcome v = Call(socket, "version", nlohmann::json::object());
      if (v.code == kExitOk) {
        const std::string text = supd::control::FormatDaemonStatus(v.response["result"]);
        std::fputs(color ? supd::control::ColorStatus(text).c_str() : text.c_str(), stdout);
        first = false;
      }
    }
    for (const auto& s : result) {
      if (!first) std::printf("\n");
      first = false;
      const std::string type = s.value("unit_type", "service");
      const std::string text = type == "socket"   ? supd::control::FormatSocketStatus(s)
                               : type == "target" ? supd::control::FormatTargetStatus(s)
                                                  : supd::control::FormatServiceStatus(s);
      std::fputs(color ? supd::control::ColorStatus(text).c_str() : text.c_str(), stdout);
    }
  }
  // Asking for a named unit that cannot even be loaded is a failure, as systemctl's is. (One
  // that runs on an older version of its file is not: status warns.)
  if (!services.empty())
    for (const auto& s : result)
      if (!s.value("loaded", true) && s.contains("load_error") && s["load_error"].is_string()) {
        std::fprintf(stderr, "supctl: %s\n", s["load_error"].get<std::string>().c_str());
        return kExitFailed;
      }
  return kExitOk;
}

// start, stop, restart, reload, reset-failed (and enable/disable --now).
int Operation(const std::string& op, const Args& a,
              std::optional<std::chrono::milliseconds> timeout) {
  nlohmann::json args = {{"services", a.services}};
  if (op == "restart" && a.hard) args["hard"] = true;
  if (a.no_block) args["no_block"] = true;
  std::optional<std::chrono::milliseconds> wait;
  if (timeout) {
    // supd answers "timed out" at the timeout; the client's own limit is a backstop.
    args["timeout_ms"] = timeout->count();
    wait = *timeout + std::chrono::seconds(5);
  }
  Outcome o = Call(a.socket, op, args, wait);
  if (o.code == kExitOk) {
    const auto& notes = o.response["result"]["notes"];
    if (notes.is_array())
      for (const auto& n : notes)
        std::fprintf(stderr, "supctl: %s\n", n.get<std::string>().c_str());
  }
  return o.code;
}

// enable, disable: systemctl's line for each link made or removed (on stderr, as systemctl
// logs them); with --now, then a start or stop of the units as `start` and `stop` do it.
int Install(const std::string& verb, const Args& a,
            std::optional<std::chrono::milliseconds> timeout) {
  Outcome o = Call(a.socket, verb, {{"units", a.services}});
  if (o.code != kExitOk) return o.code;
  for (const auto& line : supd::control::EnableChangeLines(o.response["result"]))
    std::fprintf(stderr, "%s\n", line.c_str());
  if (!a.now) return kExitOk;
  return Operation(verb == "enable" ? "start" : "stop", a, timeout);
}

// is-enabled: one word per unit, asked one at a time so that the units before one that has
// no file are answered, as systemctl answers them before it fails. Exit 0 when any unit's
// state is ok (systemctl's rule), 1 otherwise or when a unit has no file.
int IsEnabled(const std::string& socket, const std::vector<std::string>& units, bool quiet) {
  auto client = supd::control::Client::Connect(socket);
  if (!client.ok()) {
    std::fprintf(stderr, "supctl: supd is not reachable: %s\n", client.error().message.c_str());
    return kExitUnreachable;
  }
  std::vector<std::string> words;
  for (const auto& unit : units) {
    auto r = client->Call("is-enabled", {{"units", nlohmann::json::array({unit})}});
    if (!r.ok()) {
      std::fprintf(stderr, "supctl: %s\n", r.error().message.c_str());
      return kExitUnreachable;
    }
    if (!r->value("ok", false)) {
      const nlohmann::json e = r->value("error", nlohmann::json::object());
      const std::string code = e.is_object() ? e.value("code", "") : "";
      const std::string message = e.is_object() ? e.value("message", "failed") : "failed";
      auto name = supd::control::NormalizeUnitName(unit);
      if (code == supd::control::kNotFound && name.ok()) {
        std::fprintf(stderr, "%s\n", supd::control::UnitFileStateNotFound(*name).c_str());
      } else {
        std::fprintf(stderr, "supctl: %s\n", message.c_str());
      }
      return kExitFailed;
    }
    for (const auto& u : (*r)["result"].value("units", nlohmann::json::array())) {
      const std::string word = u.value("state", "");
      if (!quiet) std::printf("%s\n", word.c_str());
      words.push_back(word);
    }
  }
  return supd::control::AnyEnableStateOk(words) ? kExitOk : kExitFailed;
}

int ListDependencies(const std::string& socket, const std::string& unit, bool reverse, bool all,
                     bool color) {
  Outcome o =
      Call(socket, "list-dependencies", {{"unit", unit}, {"reverse", reverse}, {"all", all}});
  if (o.code != kExitOk) return o.code;
  std::fputs(supd::control::FormatDependencyTree(o.response["result"], color).c_str(), stdout);
  return kExitOk;
}

// `check` without files: the daemon's view of every loaded unit.
int CheckLoaded(const std::string& socket) {
  Outcome o = Call(socket, "check", nlohmann::json::object());
  if (o.code != kExitOk) return o.code;
  int rc = kExitOk;
  for (const auto& u : o.response["result"]) {
    if (u["error"].is_string()) {
      std::printf("%s\n", u["error"].get<std::string>().c_str());
      rc = kExitFailed;
    }
    for (const auto& w : u["warnings"]) std::printf("%s\n", w.get<std::string>().c_str());
    for (const char* key : {"limits", "notes"})
      if (auto l = u.find(key); l != u.end() && l->is_array())
        for (const auto& note : *l)
          std::printf("%s: %s\n", u.value("path", "").c_str(), note.get<std::string>().c_str());
  }
  return rc;
}

int Cat(const std::string& socket, const std::vector<std::string>& services) {
  Outcome o = Call(socket, "cat", {{"services", services}});
  if (o.code != kExitOk) return o.code;
  for (const auto& u : o.response["result"])
    std::printf("# %s\n%s", u.value("path", "").c_str(), u.value("text", "").c_str());
  return kExitOk;
}

// The exposition exactly as supd rendered it (it ends in a newline of its own).
int Metrics(const std::string& socket, bool openmetrics) {
  Outcome o = Call(socket, "metrics", {{"format", openmetrics ? "openmetrics" : "text"}});
  if (o.code != kExitOk) return o.code;
  const std::string text = o.response["result"].value("text", "");
  std::fwrite(text.data(), 1, text.size(), stdout);
  return kExitOk;
}

// daemon-reexec: asks supd to exec itself, then pings until a supd answers; its reexec count
// says whether the new binary runs (lib/control/reexec_wait.h). `timeout` bounds both the wait
// for a moment of rest (supd's) and the wait for an answer afterwards (30 s each by default).
int DaemonReexec(const std::string& socket, std::optional<std::chrono::milliseconds> timeout) {
  using std::chrono::milliseconds;
  const milliseconds wait = timeout.value_or(std::chrono::seconds(30));
  // The count before, in case the answer is lost in the exec.
  Outcome v = Call(socket, "version", nlohmann::json::object());
  if (v.code != kExitOk) return v.code;
  const nlohmann::json& version = v.response["result"];
  if (!version.contains("reexecs") || !version["reexecs"].is_number_unsigned()) {
    std::fprintf(stderr, "supctl: supd %s does not know daemon-reexec\n",
                 version.value("version", "?").c_str());
    return kExitFailed;
  }
  uint64_t before = version["reexecs"].get<uint64_t>();
  nlohmann::json args = nlohmann::json::object();
  if (timeout) args["timeout_ms"] = timeout->count();
  auto client = supd::control::Client::Connect(socket);
  if (!client.ok()) {
    std::fprintf(stderr, "supctl: supd is not reachable: %s\n", client.error().message.c_str());
    return kExitUnreachable;
  }
  // supd checks the new binary first (up to 10 s for each of two runs), then waits for rest.
  client->SetTimeout(wait + std::chrono::seconds(25));
  auto r = client->Call("daemon-reexec", args);
  if (r.ok()) {
    if (!r->value("ok", false)) {
      const nlohmann::json e = r->value("error", nlohmann::json::object());
      std::fprintf(stderr, "supctl: %s\n",
                   (e.is_object() ? e.value("message", "failed") : "failed").c_str());
      return kExitFailed;
    }
    const nlohmann::json result = r->value("result", nlohmann::json::object());
    if (result.contains("reexecs") && result["reexecs"].is_number_unsigned())
      before = result["reexecs"].get<uint64_t>();
  }
  // No answer (the connection closed with the exec): the pings tell what happened.
  const supd::control::ReexecVerdict verdict = supd::control::WaitForReexec(
      before, wait, milliseconds(20),
      [&socket](milliseconds left) -> supd::Result<nlohmann::json> {
        auto c = supd::control::Client::Connect(socket);
        if (!c.ok()) return c.take_error();
        c->SetTimeout(std::max(left, milliseconds(1)));
        auto pong = c->Call("ping", nlohmann::json::object());
        if (!pong.ok()) return pong.take_error();
        if (!pong->value("ok", false)) return supd::Error{"ping refused: " + pong->dump()};
        return pong->value("result", nlohmann::json::object());
      },
      [](milliseconds d) { std::this_thread::sleep_for(d); },
      [] { return std::chrono::steady_clock::now(); });
  if (!verdict.message.empty()) std::fprintf(stderr, "supctl: %s\n", verdict.message.c_str());
  return verdict.exit_code;
}

// --timeout: *timeout, or false (after saying why) when it is not a time span.
bool ParseTimeout(const std::string& text, std::optional<std::chrono::milliseconds>* timeout) {
  if (text.empty()) return true;
  auto t = supd::ParseTimeSpan(text);
  if (!t.ok() || *t == supd::kInfinity || t->count() <= 0) {
    std::fprintf(stderr, "supctl: --timeout: '%s' is not a time span (e.g. 30s, 500ms)\n",
                 text.c_str());
    return false;
  }
  *timeout = std::chrono::duration_cast<std::chrono::milliseconds>(*t);
  if ((*timeout)->count() == 0) *timeout = std::chrono::milliseconds(1);
  return true;
}

// is-system-running: systemctl's words and exit codes (0 only for "running"; "offline", exit
// 1, when supd cannot be reached). --wait asks again every 50 ms while the start goes on,
// until --timeout if given.
int IsSystemRunning(const std::string& socket, bool quiet, bool wait,
                    std::optional<std::chrono::milliseconds> timeout) {
  using Clock = std::chrono::steady_clock;
  const Clock::time_point deadline = timeout ? Clock::now() + *timeout : Clock::time_point::max();
  std::string state;
  for (;;) {
    state = "offline";
    if (auto client = supd::control::Client::Connect(socket); client.ok()) {
      if (timeout) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline -
                                                                                Clock::now());
        client->SetTimeout(std::max(left, std::chrono::milliseconds(1)));
      }
      auto r = client->Call("is-system-running", nlohmann::json::object());
      if (!r.ok() || !r->value("ok", false)) {
        state = "unknown";
      } else if (const auto st = r->value("result", nlohmann::json::object());
                 st.is_object() && st.contains("state") && st["state"].is_string()) {
        state = st["state"].get<std::string>();
      } else {
        state = "unknown";
      }
    }
    if (!wait || (state != "initializing" && state != "starting")) break;
    if (Clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (!quiet) std::printf("%s\n", state.c_str());
  return state == "running" ? kExitOk : kExitFailed;
}

int Dispatch(const Commands& c, const Args& a, std::optional<std::chrono::milliseconds> timeout) {
  if (c.version->parsed()) return Version(a.socket);
  if (c.status->parsed() || c.list->parsed()) {
    return Status(a.socket, a.services, a.json_out,
                  supd::supctl::ColorOn({a.socket, timeout, a.no_color, a.no_pager}));
  }
  for (const auto& [op, sub] : c.ops) {
    if (sub->parsed()) return Operation(op, a, timeout);
  }
  if (c.kill->parsed()) {
    return Call(a.socket, "kill",
                {{"services", a.services}, {"signal", a.signal_name}, {"whom", a.whom}})
        .code;
  }
  if (c.check->parsed()) return a.files.empty() ? CheckLoaded(a.socket) : CheckFiles(a.files);
  if (c.cat->parsed()) return Cat(a.socket, a.services);
  if (c.logs->parsed()) {
    return Logs(a.socket, a.services, a.log_lines, a.follow, a.since, a.stream,
                {a.json_out, supd::control::ParseLogOutput(a.output), ""});
  }
  if (c.metrics->parsed()) return Metrics(a.socket, a.openmetrics);
  if (c.reload->parsed()) return Call(a.socket, "daemon-reload", nlohmann::json::object()).code;
  if (c.reexec->parsed()) return DaemonReexec(a.socket, timeout);
  if (c.events->parsed()) return Events(a.socket, a.services, a.json_out);
  if (c.enable->parsed()) return Install("enable", a, timeout);
  if (c.disable->parsed()) return Install("disable", a, timeout);
  if (c.is_enabled->parsed()) return IsEnabled(a.socket, a.services, a.quiet);
  if (c.is_system_running->parsed()) {
    return IsSystemRunning(a.socket, a.quiet, a.wait_boot, timeout);
  }
  if (c.list_dependencies->parsed()) {
    return ListDependencies(a.socket, a.services.front(), a.reverse, a.all,
                            supd::supctl::ColorOn({a.socket, timeout, a.no_color, a.no_pager}));
  }
  return kExitUsage;
}

// The verbs whose output may be long, paged as systemctl pages them (not a followed stream).
bool Pages(const std::string& verb, const Args& a) {
  static const std::set<std::string> kPaged{"status",          "list",      "cat",
                                            "list-dependencies", "list-units", "list-unit-files",
                                            "show",            "logs",      "check"};
  return kPaged.count(verb) && !(verb == "logs" && a.follow);
}

}  // namespace

int Run(int argc, char** argv, std::string* socket_out);

int main(int argc, char** argv) {
  std::string socket;
  try {
    return Run(argc, argv, &socket);
  } catch (const nlohmann::json::exception& e) {
    std::fprintf(stderr, "supctl: unexpected answer from supd at %s: %s\n", socket.c_str(),
                 e.what());
    return kExitFailed;
  }
}

int Run(int argc, char** argv, std::string* socket_out) {
  CLI::App app{"supctl: control supd"};
  app.require_subcommand(1);
  Args a;
  a.socket = supd::GetDefaultPaths().control_socket;
  if (const char* env = std::getenv("SUPD_SOCKET"); env && *env) a.socket = env;
  app.add_option("--socket", a.socket, "supd's control socket (or $SUPD_SOCKET)")
      ->capture_default_str();
  // As systemctl's: options may come before or after the verb.
  app.fallthrough();
  app.add_flag("--no-block", a.no_block,
               "start, stop, restart, reload: do not wait for the operation to finish");
  app.add_option("--timeout", a.timeout_text,
                 "give up waiting after this long (e.g. 30s, 500ms); the operation goes on");
  app.add_flag("--no-color", a.no_color, "no colours, even on a terminal (as $NO_COLOR)");
  app.add_flag("--no-pager", a.no_pager, "never page long output through less");
  const Commands commands = DefineCommands(app, &a);
  supd::supctl::Verbs verbs;
  supd::supctl::AddTopVerbs(app, &verbs);
  supd::supctl::AddQueryVerbs(app, &verbs);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }
  *socket_out = a.socket;
  std::optional<std::chrono::milliseconds> timeout;
  if (!ParseTimeout(a.timeout_text, &timeout)) return kExitUsage;
  const supd::supctl::GlobalOptions g{a.socket, timeout, a.no_color, a.no_pager};
  for (const CLI::App* verb : app.get_subcommands())
    if (Pages(verb->get_name(), a)) supd::supctl::StartPager(g);
  for (const auto& verb : verbs)
    if (verb.command->parsed()) return verb.run(g);
  return Dispatch(commands, a, timeout);
}
