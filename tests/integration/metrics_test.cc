// Metrics and monitoring hooks (issue 15) against the real supd, supctl and Go programs:
// a live scrape of --metrics-listen checked by promtool and by an OpenMetrics reader here, the
// Accept negotiation on the live listener, `supctl metrics` against GET /metrics, a real
// Prometheus server (Debian's package) that scrapes a crash loop and keeps the restart counter
// across `supctl reset-failed`, the textfile for node_exporter, OnFailure=/OnSuccess= with the
// MONITOR_* environment, and the errors of --metrics-listen.
//
// Every wait has a deadline (WaitFor). Prometheus' own scrapes are waited for through its HTTP
// API (a sample newer than the event), never by sleeping a scrape interval.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "lib/base/unique_fd.h"
#include "tests/integration/harness.h"
#include "tests/integration/http_client.h"

extern char** environ;

namespace supd::integration {
namespace {

using nlohmann::json;

constexpr const char* kPromtool = "/usr/bin/promtool";
constexpr const char* kPrometheus = "/usr/bin/prometheus";
constexpr const char* kTextContentType = "text/plain; version=0.0.4; charset=utf-8";
constexpr const char* kOpenMetricsContentType =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";
// What Prometheus 2.42 sends (scrape.go, scrapeAcceptHeader): OpenMetrics first.
constexpr const char* kPrometheusAccept =
    "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"
    "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}


std::string UrlEncode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

// ---- The exposition, as a scraper reads it -----------------------------------------------

struct Sample {
  std::string name;
  std::string labels;  // the text between { and }, as written ("" when none)
  std::string value;
  std::string Key() const { return name + "{" + labels + "}"; }
};

struct Exposition {
  std::vector<Sample> samples;
  std::map<std::string, std::string> types;    // family → type, from "# TYPE"
  std::map<std::string, std::string> helps;    // family → help text
  std::map<std::string, std::string> units;    // family → unit (OpenMetrics "# UNIT")
  std::vector<std::string> comments_in_order;  // "# TYPE ..." etc. as they came
  std::vector<std::string> problems;           // lines that could not be read

  // Samples named `name` whose labels contain every "k=\"v\"" in `with`.
  std::vector<Sample> Find(const std::string& name,
                           const std::vector<std::string>& with = {}) const {
    std::vector<Sample> out;
    for (const auto& s : samples) {
      if (s.name != name) continue;
      if (std::all_of(with.begin(), with.end(),
                      [&](const std::string& l) { return Contains(s.labels, l); }))
        out.push_back(s);
    }
    return out;
  }
  // The one value of `name{with...}`; nullopt when there is not exactly one such sample.
  std::optional<double> Value(const std::string& name,
                              const std::vector<std::string>& with = {}) const {
    auto found = Find(name, with);
    if (found.size() != 1) return std::nullopt;
    return std::strtod(found[0].value.c_str(), nullptr);
  }
  std::set<std::string> SeriesKeys() const {
    std::set<std::string> keys;
    for (const auto& s : samples) keys.insert(s.Key());
    return keys;
  }
};

// Reads either format: "# HELP/TYPE/UNIT name ..." comments and "name{labels} value [ts]"
// samples. Label values may hold escaped quotes and braces.
Exposition Parse(const std::string& text) {
  Exposition e;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (line[0] == '#') {
      std::istringstream words(line);
      std::string hash, kind, name;
      words >> hash >> kind >> name;
      std::string rest;
      std::getline(words, rest);
      if (!rest.empty() && rest[0] == ' ') rest.erase(0, 1);
      if (kind == "TYPE") e.types[name] = rest;
      if (kind == "HELP") e.helps[name] = rest;
      if (kind == "UNIT") e.units[name] = rest;
      e.comments_in_order.push_back(line);
      continue;
    }
    Sample s;
    size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
    s.name = line.substr(0, i);
    if (i < line.size() && line[i] == '{') {
      const size_t open = i++;
      bool quoted = false;
      for (; i < line.size(); ++i) {
        if (quoted && line[i] == '\\') {
          ++i;
        } else if (line[i] == '"') {
          quoted = !quoted;
        } else if (!quoted && line[i] == '}') {
          break;
        }
      }
      if (i >= line.size()) {
        e.problems.push_back("unterminated labels: " + line);
        continue;
      }
      s.labels = line.substr(open + 1, i - open - 1);
      ++i;
    }
    if (i >= line.size() || line[i] != ' ') {
      e.problems.push_back("no value: " + line);
      continue;
    }
    std::istringstream rest(line.substr(i + 1));
    rest >> s.value;
    if (s.value.empty()) {
      e.problems.push_back("no value: " + line);
      continue;
    }
    e.samples.push_back(s);
  }
  return e;
}

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The family a sample of an OpenMetrics exposition belongs to (by the TYPE lines), or "".
std::string OpenMetricsFamilyOf(const Exposition& e, const std::string& sample) {
  if (e.types.count(sample)) {
    const std::string& t = e.types.at(sample);
    if (t == "gauge" || t == "stateset" || t == "unknown") return sample;
  }
  const std::vector<std::pair<std::string, std::set<std::string>>> suffixes = {
      {"_total", {"counter"}},
      {"_created", {"counter", "histogram", "summary", "gaugehistogram"}},
      {"_info", {"info"}},
      {"_count", {"histogram", "summary"}},
      {"_sum", {"histogram", "summary"}},
      {"_bucket", {"histogram"}}};
  for (const auto& [suffix, kinds] : suffixes) {
    if (!EndsWith(sample, suffix)) continue;
    const std::string family = sample.substr(0, sample.size() - suffix.size());
    auto it = e.types.find(family);
    if (it != e.types.end() && kinds.count(it->second)) return family;
  }
  return "";
}

// What the OpenMetrics 1.0 text format asks of an exposition, as far as supd uses it: "# EOF"
// last, every sample in a family with TYPE and HELP, families not interleaved, a family's
// header before its samples, a UNIT that is the name's suffix, counters with _total samples.
// One line per problem.
std::vector<std::string> OpenMetricsProblems(const std::string& text) {
  std::vector<std::string> problems;
  if (!EndsWith(text, "\n# EOF\n")) {
    const size_t tail = text.size() > 80 ? text.size() - 80 : 0;
    problems.push_back("does not end with the line \"# EOF\": ..." + text.substr(tail));
  }
  const Exposition e = Parse(text);
  for (const auto& p : e.problems) problems.push_back(p);
  std::set<std::string> finished;  // families whose samples came before another's
  std::string current;
  std::set<std::string> typed_so_far;
  std::istringstream in(text);
  std::string line;
  std::map<std::string, int> total_samples;
  while (std::getline(in, line)) {
    if (line.empty()) {
      problems.push_back("an empty line (OpenMetrics has none)");
      continue;
    }
    if (line.rfind("# TYPE ", 0) == 0) {
      std::istringstream words(line.substr(7));
      std::string name;
      words >> name;
      typed_so_far.insert(name);
      if (!current.empty() && current != name) finished.insert(current);
      current = name;
      continue;
    }
    if (line[0] == '#') continue;
    const std::string name = line.substr(0, line.find_first_of("{ "));
    const std::string family = OpenMetricsFamilyOf(e, name);
    if (family.empty()) {
      problems.push_back("sample " + name + " belongs to no family with a TYPE");
      continue;
    }
    if (!typed_so_far.count(family))
      problems.push_back("sample " + name + " comes before its family's TYPE line");
    if (!e.helps.count(family)) problems.push_back("family " + family + " has no HELP");
    if (finished.count(family)) problems.push_back("family " + family + " is interleaved");
    if (family != current) {
      if (!current.empty()) finished.insert(current);
      current = family;
    }
    if (EndsWith(name, "_total")) ++total_samples[family];
  }
  for (const auto& [family, type] : e.types) {
    if (type == "counter" && total_samples[family] == 0)
      problems.push_back("counter " + family + " has no _total sample");
    if (EndsWith(family, "_total"))
      problems.push_back("family " + family + " is named with _total (OpenMetrics: the sample)");
  }
  for (const auto& [family, unit] : e.units)
    if (!EndsWith(family, "_" + unit))
      problems.push_back("family " + family + " has UNIT " + unit + " that is not its suffix");
  return problems;
}

std::string Join(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += "  " + l + "\n";
  return out;
}

// ---- Child processes the test owns ---------------------------------------------------------


// A Prometheus server on 127.0.0.1:`port` that scrapes `target` (HOST:PORT) every second,
// its TSDB and log in `dir`. Its destructor stops it (SIGTERM, SIGKILL after 10 s) and reaps
// it, also when an assertion returned early: the harness's teardown counts every child left
// alive as a leak.
class PrometheusServer {
 public:
  PrometheusServer(const std::string& dir, int port, const std::string& target)
      : port_(port), log_(dir + "/prometheus.log") {
    const std::string config = dir + "/prometheus.yml";
    // scrape_timeout must not exceed scrape_interval (Prometheus refuses the config).
    WriteFile(config, Subst(R"(global:
  scrape_interval: 1s
  scrape_timeout: 900ms
  evaluation_interval: 1s
scrape_configs:
  - job_name: supd
    static_configs:
      - targets: ['{target}']
)",
                            {{"target", target}}));
    std::vector<std::string> argv = {
        kPrometheus, "--config.file=" + config, "--storage.tsdb.path=" + dir + "/tsdb",
        "--web.listen-address=127.0.0.1:" + std::to_string(port), "--log.level=info"};
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, log_.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                     0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    SpawnAttr attr;
    std::vector<char*> c_argv;
    for (auto& a : argv) c_argv.push_back(a.data());
    c_argv.push_back(nullptr);
    const int rc = posix_spawn(&pid_, kPrometheus, &actions, &attr.attr, c_argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
      ADD_FAILURE() << "posix_spawn " << kPrometheus << ": " << strerror(rc);
      pid_ = -1;
    }
  }
  PrometheusServer(const PrometheusServer&) = delete;
  PrometheusServer& operator=(const PrometheusServer&) = delete;
  ~PrometheusServer() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    int status = 0;
    const bool gone = WaitFor([&] { return waitpid(pid_, &status, WNOHANG) == pid_; }, 10s);
    if (!gone) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
    }
  }

  bool started() const { return pid_ > 0; }
  bool Alive() const { return pid_ > 0 && GetProcState(pid_) == ProcState::kAlive; }
  std::string Log() const {
    const std::string text = ReadFile(log_);
    return "\n--- prometheus log, last part ---\n" +
           (text.size() > 3000 ? text.substr(text.size() - 3000) : text) + "--- end ---";
  }
  bool Ready() {
    auto r = HttpExchange(port_, "GET", "/-/ready", {}, 2s);
    return r && r->status == 200;
  }

  // An instant query over the HTTP API: the vector's samples as {labels, (time, value)}; nullopt
  // when the request failed or the answer is not a success with a vector.
  struct Point {
    json metric;
    double time = 0;  // seconds since the epoch
    double value = 0;
  };
  std::optional<std::vector<Point>> Query(const std::string& promql) {
    auto r = HttpExchange(port_, "GET", "/api/v1/query?query=" + UrlEncode(promql), {}, 5s);
    last_answer_ = r ? std::to_string(r->status) + " " + r->body : "no answer";
    if (!r || r->status != 200) return std::nullopt;
    const json j = json::parse(r->body, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object() || j.value("status", "") != "success") return std::nullopt;
    const json& data = j["data"];
    if (!data.is_object() || data.value("resultType", "") != "vector" || !data["result"].is_array())
      return std::nullopt;
    std::vector<Point> out;
    for (const json& item : data["result"]) {
      const json& v = item["value"];
      if (!v.is_array() || v.size() != 2 || !v[0].is_number() || !v[1].is_string())
        return std::nullopt;
      out.push_back({item["metric"], v[0].get<double>(),
                     std::strtod(v[1].get<std::string>().c_str(), nullptr)});
    }
    return out;
  }
  // The value of a query whose answer is exactly one sample; nullopt otherwise.
  std::optional<double> One(const std::string& promql) {
    auto points = Query(promql);
    if (!points || points->size() != 1) return std::nullopt;
    return (*points)[0].value;
  }
  const std::string& last_answer() const { return last_answer_; }

 private:
  int port_;
  std::string log_;
  pid_t pid_ = -1;
  std::string last_answer_;
};

double EpochSeconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

class MetricsTest : public SupdTest {
 protected:
  // supd with --metrics-listen on a free loopback port (the port in metrics_port_).
  void StartSupdWithMetrics(std::vector<std::string> extra = {}) {
    metrics_port_ = FreeTcpPort();
    ASSERT_GT(metrics_port_, 0);
    SupdOptions options;
    options.extra_args = {"--metrics-listen", "127.0.0.1:" + std::to_string(metrics_port_)};
    options.extra_args.insert(options.extra_args.end(), extra.begin(), extra.end());
    ASSERT_NO_FATAL_FAILURE(StartSupd(options));
  }
  std::optional<HttpResponse> Scrape(const std::vector<std::string>& headers = {}) {
    return HttpExchange(metrics_port_, "GET", "/metrics", headers);
  }
  // `supctl metrics [--openmetrics]`'s stdout; fails the test when the command does.
  std::string SupctlMetrics(bool openmetrics = false) {
    std::vector<std::string> args = {"metrics"};
    if (openmetrics) args.push_back("--openmetrics");
    const CommandResult r = Supctl(args);
    EXPECT_EQ(0, r.exit_code) << r.Describe();
    return r.out;
  }
  // `promtool check metrics` with `text` on its stdin: "" when it passes, else what it said.
  std::string PromtoolProblems(const std::string& text) {
    const std::string file = dir_ + "/promtool-input-" + std::to_string(promtool_runs_++);
    WriteFile(file, text);
    const CommandResult r = RunCommand(
        {"/bin/sh", "-c", std::string(kPromtool) + " check metrics < \"$1\"", "sh", file});
    if (r.exit_code == 0 && r.out.empty() && r.err.empty()) return "";
    return r.Describe();
  }
  // The lifetime restart counter of a unit for one reason, as `supctl metrics` shows it.
  std::optional<double> RestartsBySupctl(const std::string& unit, const std::string& reason) {
    return Parse(SupctlMetrics())
        .Value("supd_unit_restarts_total", {"unit=\"" + unit + "\"", "reason=\"" + reason + "\""});
  }

  // The `version` command's result (supctl version prints text; the JSON has the cgroup layout).
  json Version() {
    RawClient c(socket_);
    if (!c.connected() || !c.Send("{\"id\":1,\"cmd\":\"version\"}\n")) return nullptr;
    auto line = c.ReadLine();
    if (!line) return nullptr;
    json j = json::parse(*line, nullptr, false);
    return j.is_object() ? j["result"] : json(nullptr);
  }

  int metrics_port_ = -1;
  int promtool_runs_ = 0;
};

// A live scrape with a running Go service: promtool accepts it, the unit's series are there
// (with its cgroup's figures where supd tracks the service by cgroup), the Accept header picks
// the format, and `supctl metrics` prints the same families and series as GET /metrics.
TEST_F(MetricsTest, LiveScrapePassesPromtoolNegotiatesTheFormatAndMatchesSupctl) {
  ASSERT_EQ(0, access(kPromtool, X_OK))
      << kPromtool << " is missing: install Debian's prometheus package "
      << "(packaging/install-deps.sh --tests)";
  WriteUnit("web.service", R"([Unit]
Description=A Go service "quoted" \ and more
[Service]
ExecStart={go}/crasher -sleep
)");
  WriteUnit("limited.service", R"([Service]
ExecStart={go}/crasher -sleep
MemoryMax=256M
TasksMax=512
)");
  ASSERT_NO_FATAL_FAILURE(StartSupdWithMetrics());
  ASSERT_EQ(0, Supctl({"start", "web", "limited"}).exit_code) << SupdContext();
  ASSERT_GT(WaitForRunning("web"), 0) << SupdContext();
  ASSERT_GT(WaitForRunning("limited"), 0) << SupdContext();
  // `running` comes at the spawn (Type=simple); the process joins its v1 cgroups before it
  // execs, so its memory and tasks are counted once the program has printed its first line.
  ASSERT_TRUE(WaitForLog("web", "starting (stdout)")) << ServiceLog("web");
  ASSERT_TRUE(WaitForLog("limited", "starting (stdout)")) << ServiceLog("limited");
  const auto status = Status("web");
  ASSERT_TRUE(status);

  // Prometheus text: no Accept header at all, and the plain text/plain one.
  auto text = Scrape();
  ASSERT_TRUE(text) << "GET /metrics on 127.0.0.1:" << metrics_port_ << " failed" << SupdContext();
  ASSERT_EQ(200, text->status) << text->body;
  EXPECT_EQ(kTextContentType, text->Header("content-type"));
  EXPECT_EQ("", PromtoolProblems(text->body)) << text->body;
  auto plain = Scrape({"Accept: text/plain"});
  ASSERT_TRUE(plain);
  EXPECT_EQ(kTextContentType, plain->Header("content-type"));

  const Exposition e = Parse(text->body);
  EXPECT_TRUE(e.problems.empty()) << Join(e.problems);
  const std::string web = "unit=\"web.service\"";
  const std::string limited = "unit=\"limited.service\"";
  EXPECT_EQ(1, e.Value("supd_unit_state", {web, "state=\"running\""}).value_or(-1)) << text->body;
  EXPECT_EQ(0, e.Value("supd_unit_state", {web, "state=\"failed\""}).value_or(-1)) << text->body;
  EXPECT_EQ(0, e.Value("supd_unit_restarts_total", {web, "reason=\"exit\""}).value_or(-1))
      << text->body;
  EXPECT_EQ(1, e.Value("supd_unit_info", {web, "type=\"simple\""}).value_or(-1)) << text->body;
  EXPECT_GT(e.Value("supd_unit_start_time_seconds", {web}).value_or(0), 1.5e9) << text->body;
  EXPECT_EQ(2, e.Value("supd_units", {"state=\"running\""}).value_or(-1)) << text->body;
  EXPECT_EQ(1u, e.Find("supd_build_info").size()) << text->body;
  for (const char* family : {"process_cpu_seconds_total", "process_resident_memory_bytes",
                             "process_open_fds", "process_max_fds", "process_start_time_seconds"})
    EXPECT_EQ(1u, e.Find(family).size()) << family << "\n" << text->body;
  for (const auto& s : e.samples)
    EXPECT_FALSE(Contains(s.labels, "pid")) << "a label with a pid: " << s.Key();

  // The cgroup's figures: only where supd tracks the service by its cgroup. CPU comes from the
  // v2 cgroup's cpu.stat, always there. Memory and tasks come from the memory and pids
  // controllers: on cgroup v2 for every service; on a hybrid host from the v1 cgroup that supd
  // creates only for a service with a limit there (limited.service), so a service without one
  // (web.service) has none of these there.
  const std::string tracking = status->value("tracking", "");
  if (tracking != "cgroup") {
    std::cerr << "[skip] no cgroup tracking on this host (tracking: \"" << tracking
              << "\"): the cgroup figures are not checked\n";
  } else {
    const json cgroups = Version()["cgroups"];
    ASSERT_TRUE(cgroups.is_object()) << SupdContext();
    for (const std::string& unit : {web, limited}) {
      EXPECT_EQ(1u, e.Find("supd_unit_cpu_seconds_total", {unit, "mode=\"user\""}).size())
          << unit << "\n"
          << text->body;
      EXPECT_EQ(1u, e.Find("supd_unit_cpu_seconds_total", {unit, "mode=\"system\""}).size())
          << unit << "\n"
          << text->body;
    }
    const std::string memory_at = cgroups["controllers"]["memory"].value("where", "");
    const std::string pids_at = cgroups["controllers"]["pids"].value("where", "");
    std::vector<std::string> with_memory, with_tasks;
    if (memory_at == "v1" || memory_at == "v2") with_memory.push_back(limited);
    if (memory_at == "v2") with_memory.push_back(web);
    if (pids_at == "v1" || pids_at == "v2") with_tasks.push_back(limited);
    if (pids_at == "v2") with_tasks.push_back(web);
    if (memory_at != "v2" || pids_at != "v2") {
      std::cerr << "[note] memory controller on \"" << memory_at << "\", pids on \"" << pids_at
                << "\": memory and tasks are checked only for a service with a limit there\n";
    }
    for (const std::string& unit : with_memory) {
      EXPECT_GT(e.Value("supd_unit_memory_bytes", {unit}).value_or(0), 0) << unit << "\n"
                                                                          << text->body;
    }
    if (!with_memory.empty()) {
      EXPECT_EQ(256.0 * 1024 * 1024, e.Value("supd_unit_memory_max_bytes", {limited}).value_or(0))
          << text->body;
    }
    // No memory.max series for a service without a limit.
    EXPECT_TRUE(e.Find("supd_unit_memory_max_bytes", {web}).empty()) << text->body;
    // A Go program runs several threads; the cgroup counts them all.
    for (const std::string& unit : with_tasks) {
      EXPECT_GE(e.Value("supd_unit_tasks", {unit}).value_or(0), 1) << unit << "\n" << text->body;
    }
  }

  // OpenMetrics: when asked the way Prometheus asks, and when asked for it alone.
  for (const std::string& accept :
       {std::string(kPrometheusAccept), std::string("application/openmetrics-text")}) {
    SCOPED_TRACE("Accept: " + accept);
    auto om = Scrape({"Accept: " + accept});
    ASSERT_TRUE(om);
    ASSERT_EQ(200, om->status);
    EXPECT_EQ(kOpenMetricsContentType, om->Header("content-type"));
    const auto problems = OpenMetricsProblems(om->body);
    EXPECT_TRUE(problems.empty()) << Join(problems) << om->body;
    Exposition o = Parse(om->body);
    EXPECT_EQ("stateset", o.types["supd_unit_state"]);
    EXPECT_EQ("info", o.types["supd_unit"]);
    EXPECT_EQ("counter", o.types["supd_unit_restarts"]);
    EXPECT_EQ("seconds", o.units["process_cpu_seconds"]);
    EXPECT_EQ(1, o.Value("supd_unit_state", {web, "supd_unit_state=\"running\""}).value_or(-1))
        << om->body;
    // The lifetime counters carry _created, one for each _total.
    for (const char* name : {"supd_unit_restarts", "supd_unit_oom_kills", "process_cpu_seconds"}) {
      const std::string family = name;
      const auto totals = o.Find(family + "_total");
      EXPECT_FALSE(totals.empty()) << family << "\n" << om->body;
      for (const auto& t : totals) {
        const auto created = o.Find(family + "_created");
        const bool matched = std::any_of(created.begin(), created.end(), [&](const Sample& c) {
          return c.labels == t.labels && std::strtod(c.value.c_str(), nullptr) > 1.5e9;
        });
        EXPECT_TRUE(matched) << t.Key() << " has no _created with a time\n" << om->body;
      }
    }
  }

  // supctl metrics: the same families and series as the two scrapes (the values move: CPU).
  const Exposition by_supctl = Parse(SupctlMetrics());
  EXPECT_EQ(e.types, by_supctl.types);
  EXPECT_EQ(e.helps, by_supctl.helps);
  EXPECT_EQ(e.SeriesKeys(), by_supctl.SeriesKeys());
  auto om = Scrape({"Accept: application/openmetrics-text; version=1.0.0"});
  ASSERT_TRUE(om);
  const std::string om_by_supctl = SupctlMetrics(/*openmetrics=*/true);
  EXPECT_TRUE(OpenMetricsProblems(om_by_supctl).empty()) << Join(OpenMetricsProblems(om_by_supctl));
  EXPECT_EQ(Parse(om->body).types, Parse(om_by_supctl).types);
  EXPECT_EQ(Parse(om->body).SeriesKeys(), Parse(om_by_supctl).SeriesKeys());

  // Another path is not the exposition.
  auto other = HttpExchange(metrics_port_, "GET", "/");
  ASSERT_TRUE(other);
  EXPECT_EQ(404, other->status) << other->body;
  EXPECT_EQ(0, Supctl({"stop", "web", "limited"}).exit_code);
}

// A real Prometheus server scrapes supd while a service crash-loops into its start limit; its
// HTTP API then returns the restart count supd reports, and the same count in a scrape taken
// after `supctl reset-failed`: the lifetime counter is not reset with the unit's state.
TEST_F(MetricsTest, PrometheusSeesTheRestartCountAndItSurvivesResetFailed) {
  ASSERT_EQ(0, access(kPrometheus, X_OK))
      << kPrometheus << " is missing: it is a declared dependency (Debian's prometheus package, "
      << "packaging/install-deps.sh --tests)";
  WriteUnit("crash.service", R"([Unit]
StartLimitIntervalSec=1min
StartLimitBurst=5
[Service]
ExecStart={go}/crasher -exit-code 3 -write-file {dir}/starts
Restart=on-failure
RestartSec=100ms
)");
  ASSERT_NO_FATAL_FAILURE(StartSupdWithMetrics());
  const int prom_port = FreeTcpPort();
  ASSERT_GT(prom_port, 0);
  PrometheusServer prom(dir_, prom_port, "127.0.0.1:" + std::to_string(metrics_port_));
  ASSERT_TRUE(prom.started());
  const auto t0 = Clock::now();
  ASSERT_TRUE(WaitFor([&] { return !prom.Alive() || prom.Ready(); }, 60s, 100ms)) << prom.Log();
  ASSERT_TRUE(prom.Alive()) << "prometheus exited" << prom.Log();
  // Its first scrape of supd succeeded.
  ASSERT_TRUE(WaitFor([&] { return prom.One("up{job=\"supd\"}") == 1.0; }, 30s, 100ms))
      << prom.last_answer() << prom.Log();
  std::cerr << "[measure] prometheus ready and scraped supd after "
            << std::chrono::duration_cast<Ms>(Clock::now() - t0).count() << " ms\n";

  ASSERT_EQ(0, Supctl({"start", "crash"}).exit_code) << SupdContext();
  ASSERT_TRUE(WaitForState("crash", "failed"))
      << Status("crash").value_or(json()).dump() << SupdContext();
  const auto failed = Status("crash");
  ASSERT_TRUE(failed);
  EXPECT_EQ("start-limit-hit", failed->value("result", "")) << failed->dump();
  EXPECT_EQ(5, CountLines(dir_ + "/starts"));
  const auto counted = RestartsBySupctl("crash.service", "exit");
  ASSERT_TRUE(counted) << SupctlMetrics();
  // As `status` counts them (systemd's NRestarts=): one per restart attempted, the refused
  // one included.
  EXPECT_EQ(failed->value("restarts", -1), *counted) << failed->dump();
  EXPECT_GE(*counted, 4) << failed->dump();

  const std::string query = "supd_unit_restarts_total{unit=\"crash.service\",reason=\"exit\"}";
  std::optional<double> seen;
  EXPECT_TRUE(WaitFor(
      [&] {
        seen = prom.One(query);
        return seen == *counted;
      },
      20s, 100ms))
      << "prometheus has " << (seen ? std::to_string(*seen) : "nothing") << " for " << query
      << ", supd counts " << *counted << "; last answer: " << prom.last_answer() << prom.Log();

  // reset-failed: the unit is no longer failed; the lifetime counter stays.
  const double reset_at = EpochSeconds();
  ASSERT_EQ(0, Supctl({"reset-failed", "crash"}).exit_code) << SupdContext();
  EXPECT_EQ("stopped", State("crash"));
  EXPECT_EQ(*counted, RestartsBySupctl("crash.service", "exit").value_or(-1));
  // A scrape that Prometheus began after the reset: the sample's time is the scrape's start,
  // and the unit is no longer failed in it (Prometheus asks for OpenMetrics: the stateset's
  // label is named after the family).
  const std::string failed_query =
      "supd_unit_state{unit=\"crash.service\",supd_unit_state=\"failed\"}";
  std::optional<double> stamp;
  ASSERT_TRUE(WaitFor(
      [&] {
        stamp = prom.One("timestamp(" + query + ")");
        return stamp && *stamp > reset_at && prom.One(failed_query) == 0.0;
      },
      20s, 100ms))
      << "no scrape after the reset (" << std::to_string(reset_at) << "): last timestamp "
      << (stamp ? std::to_string(*stamp) : "none") << "; last answer: " << prom.last_answer()
      << prom.Log();
  EXPECT_EQ(*counted, prom.One(query).value_or(-1)) << prom.last_answer();
  EXPECT_EQ(0.0, prom.One("resets(" + query + "[1m])").value_or(-1)) << prom.last_answer();
  std::cerr << "[measure] " << query << " = " << *counted
            << " in supd and in Prometheus; whole test "
            << std::chrono::duration_cast<Ms>(Clock::now() - t0).count() << " ms\n";
}

// reset-failed sets status's restart count back to 0, as systemd's service_reset_failed() sets
// NRestarts= (snapshot.h: "automatic restarts since load or reset-failed"), and leaves the
// lifetime counter of the exposition as it was.
TEST_F(MetricsTest, ResetFailedZeroesStatusRestartsButNotTheLifetimeCounter) {
  WriteUnit("crash.service", R"([Unit]
StartLimitIntervalSec=1min
StartLimitBurst=2
[Service]
ExecStart={go}/crasher -exit-code 3
Restart=on-failure
RestartSec=0
)");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  ASSERT_EQ(0, Supctl({"start", "crash"}).exit_code) << SupdContext();
  ASSERT_TRUE(WaitForState("crash", "failed")) << SupdContext();
  const int restarts = Restarts("crash");
  EXPECT_EQ(2, restarts);
  EXPECT_EQ(restarts, RestartsBySupctl("crash.service", "exit").value_or(-1));
  ASSERT_EQ(0, Supctl({"reset-failed", "crash"}).exit_code) << SupdContext();
  EXPECT_EQ("stopped", State("crash"));
  EXPECT_EQ(0, Restarts("crash")) << Status("crash").value_or(json()).dump();
  EXPECT_EQ(restarts, RestartsBySupctl("crash.service", "exit").value_or(-1)) << SupctlMetrics();
}

// --metrics-textfile DIR: DIR/supd.prom appears, is rewritten after a state change, has no
// process_* series (node_exporter exports its own) and passes promtool; nothing else that
// node_exporter would read (*.prom) is left in DIR.
TEST_F(MetricsTest, TextfileIsWrittenRewrittenAndPassesPromtool) {
  ASSERT_EQ(0, access(kPromtool, X_OK)) << kPromtool << " is missing";
  const std::string textdir = dir_ + "/textfile";
  ASSERT_EQ(0, mkdir(textdir.c_str(), 0755));
  const std::string file = textdir + "/supd.prom";
  WriteUnit("web.service", "[Service]\nExecStart={go}/crasher -sleep\n");
  SupdOptions options;
  options.extra_args = {"--metrics-textfile", textdir, "--metrics-textfile-interval", "1"};
  ASSERT_NO_FATAL_FAILURE(StartSupd(options));
  const std::string stopped = "supd_unit_state{unit=\"web.service\",state=\"stopped\"} 1";
  const std::string running = "supd_unit_state{unit=\"web.service\",state=\"running\"} 1";
  ASSERT_TRUE(WaitFor([&] { return Contains(ReadFile(file), stopped); }))
      << file << ": " << ReadFile(file) << SupdContext();
  struct stat before {};
  ASSERT_EQ(0, stat(file.c_str(), &before));

  ASSERT_EQ(0, Supctl({"start", "web"}).exit_code) << SupdContext();
  ASSERT_TRUE(WaitFor([&] { return Contains(ReadFile(file), running); }))
      << file << ": " << ReadFile(file) << SupdContext();
  struct stat after {};
  ASSERT_EQ(0, stat(file.c_str(), &after));
  // Replaced by a rename: another inode, a newer modification time.
  EXPECT_NE(before.st_ino, after.st_ino);
  EXPECT_TRUE(after.st_mtim.tv_sec > before.st_mtim.tv_sec ||
              (after.st_mtim.tv_sec == before.st_mtim.tv_sec &&
               after.st_mtim.tv_nsec > before.st_mtim.tv_nsec));
  EXPECT_EQ(0644u, after.st_mode & 07777) << std::oct << (after.st_mode & 07777);

  const std::string text = ReadFile(file);
  EXPECT_EQ("", PromtoolProblems(text)) << text;
  const Exposition e = Parse(text);
  EXPECT_TRUE(e.problems.empty()) << Join(e.problems);
  for (const auto& s : e.samples) EXPECT_NE(0u, s.name.rfind("process_", 0)) << s.Key();
  for (const auto& [family, type] : e.types) EXPECT_NE(0u, family.rfind("process_", 0)) << family;
  EXPECT_EQ(1u, e.Find("supd_build_info").size()) << text;
  EXPECT_EQ(1, e.Value("supd_units", {"state=\"running\""}).value_or(-1)) << text;
  std::vector<std::string> prom_files;
  for (const auto& entry : std::filesystem::directory_iterator(textdir))
    if (entry.path().extension() == ".prom") prom_files.push_back(entry.path().filename());
  EXPECT_EQ(std::vector<std::string>{"supd.prom"}, prom_files);
  EXPECT_EQ(0, Supctl({"stop", "web"}).exit_code);
}

// The environment envdump recorded in `path` ({"env": {...}}), or null when not there yet.
json EnvDump(const std::string& path) {
  const json j = json::parse(ReadFile(path), nullptr, /*allow_exceptions=*/false);
  return j.is_object() && j["env"].is_object() ? j : json();
}

// OnFailure= with an instance named after the failed unit (%n): when a crash loop hits its
// start limit, the oneshot runs once with the MONITOR_* environment systemd gives it.
TEST_F(MetricsTest, OnFailureRunsAOneshotWithMonitorEnvironmentAtTheStartLimit) {
  WriteUnit("crash.service", R"([Unit]
OnFailure=notify-failure@%n.service
StartLimitIntervalSec=1min
StartLimitBurst=2
[Service]
ExecStart={go}/crasher -exit-code 7 -write-file {dir}/starts
Restart=on-failure
RestartSec=100ms
)");
  WriteUnit("notify-failure@.service", R"([Service]
Type=oneshot
ExecStart={go}/envdump -out {dir}/notified-%i.json
)");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  ASSERT_EQ(0, Supctl({"start", "crash"}).exit_code) << SupdContext();
  ASSERT_TRUE(WaitForState("crash", "failed")) << SupdContext();
  const auto crash = Status("crash");
  ASSERT_TRUE(crash);
  EXPECT_EQ("start-limit-hit", crash->value("result", "")) << crash->dump();
  EXPECT_EQ(2, CountLines(dir_ + "/starts"));

  // %n in the OnFailure= name is the failed unit's full name; %i in the template, the instance.
  const std::string instance = "notify-failure@crash.service.service";
  const std::string out = dir_ + "/notified-crash.service.json";
  ASSERT_TRUE(WaitFor([&] { return !EnvDump(out).is_null(); }))
      << "the OnFailure= unit did not run: " << out << SupdContext();
  ASSERT_TRUE(WaitForState(instance, "stopped"))
      << Status(instance).value_or(json()).dump() << SupdContext();
  const json dump = EnvDump(out);
  const json env = dump["env"];
  SCOPED_TRACE(dump.dump(1));
  EXPECT_EQ("start-limit-hit", env.value("MONITOR_SERVICE_RESULT", ""));
  EXPECT_EQ("exited", env.value("MONITOR_EXIT_CODE", ""));
  EXPECT_EQ("7", env.value("MONITOR_EXIT_STATUS", ""));
  EXPECT_EQ("crash.service", env.value("MONITOR_UNIT", ""));
  const std::string invocation = env.value("MONITOR_INVOCATION_ID", "");
  EXPECT_TRUE(std::regex_match(invocation, std::regex("[0-9a-f]{32}"))) << invocation;
  // The oneshot's own invocation is another one.
  EXPECT_NE(invocation, env.value("INVOCATION_ID", ""));
  ASSERT_TRUE(dump["args"].is_array());
  EXPECT_EQ(json(out), dump["args"].back());
  const auto notified = Status(instance);
  ASSERT_TRUE(notified);
  EXPECT_EQ("success", notified->value("result", "")) << notified->dump();
  // It ran once: the start limit is hit once, and the unit entered failed once.
  ASSERT_TRUE(WaitForLog(instance, "wrote " + out)) << ServiceLog(instance);
  const std::string log = ServiceLog(instance);
  size_t runs = 0;
  for (size_t at = log.find("wrote " + out); at != std::string::npos;
       at = log.find("wrote " + out, at + 1))
    ++runs;
  EXPECT_EQ(1u, runs) << log;
}

// OnSuccess=: a oneshot that exits 0 starts its unit with MONITOR_SERVICE_RESULT=success; a
// oneshot that fails does not.
TEST_F(MetricsTest, OnSuccessRunsItsUnitWhenAOneshotExitsZero) {
  WriteUnit("job.service", R"([Unit]
OnSuccess=notify-ok@%n.service
[Service]
Type=oneshot
ExecStart={go}/crasher -exit-code 0
)");
  WriteUnit("bad.service", R"([Unit]
OnSuccess=notify-ok@%n.service
OnFailure=notify-failure@%n.service
[Service]
Type=oneshot
ExecStart={go}/crasher -exit-code 4
)");
  WriteUnit("notify-ok@.service", R"([Service]
Type=oneshot
ExecStart={go}/envdump -out {dir}/ok-%i.json
)");
  WriteUnit("notify-failure@.service", R"([Service]
Type=oneshot
ExecStart={go}/envdump -out {dir}/failed-%i.json
)");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  CommandResult r = Supctl({"start", "job"});
  ASSERT_EQ(0, r.exit_code) << r.Describe() << SupdContext();
  const std::string out = dir_ + "/ok-job.service.json";
  ASSERT_TRUE(WaitFor([&] { return !EnvDump(out).is_null(); }))
      << "the OnSuccess= unit did not run" << SupdContext();
  {
    const json dump = EnvDump(out);
    const json env = dump["env"];
    SCOPED_TRACE(dump.dump(1));
    EXPECT_EQ("success", env.value("MONITOR_SERVICE_RESULT", ""));
    EXPECT_EQ("exited", env.value("MONITOR_EXIT_CODE", ""));
    EXPECT_EQ("0", env.value("MONITOR_EXIT_STATUS", ""));
    EXPECT_EQ("job.service", env.value("MONITOR_UNIT", ""));
    EXPECT_TRUE(
        std::regex_match(env.value("MONITOR_INVOCATION_ID", ""), std::regex("[0-9a-f]{32}")));
  }

  // A failing oneshot: OnFailure= runs, OnSuccess= does not. The failure's unit finishing is
  // the event to wait for; supd posts both triggers of one transition together, so once the
  // OnFailure= unit has run, an OnSuccess= start would have been made too.
  r = Supctl({"start", "bad"});
  EXPECT_NE(0, r.exit_code) << r.Describe();
  const std::string failed_out = dir_ + "/failed-bad.service.json";
  ASSERT_TRUE(WaitFor([&] { return !EnvDump(failed_out).is_null(); })) << SupdContext();
  ASSERT_TRUE(WaitForState("notify-failure@bad.service.service", "stopped")) << SupdContext();
  EXPECT_EQ("exit-code", EnvDump(failed_out)["env"].value("MONITOR_SERVICE_RESULT", ""));
  EXPECT_EQ("4", EnvDump(failed_out)["env"].value("MONITOR_EXIT_STATUS", ""));
  EXPECT_FALSE(FileExists(dir_ + "/ok-bad.service.json"));
  EXPECT_FALSE(Contains(SupdStderr(), "bad.service: OnSuccess= starts")) << SupdStderr();
}

// --metrics-listen on a port another socket listens on: supd exits 1 and says so.
TEST_F(MetricsTest, MetricsListenOnAPortInUseExitsWithTheBindError) {
  UniqueFd busy(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_GE(busy.get(), 0) << strerror(errno);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(0, bind(busy.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr))
      << strerror(errno);
  ASSERT_EQ(0, listen(busy.get(), 1)) << strerror(errno);
  socklen_t len = sizeof addr;
  ASSERT_EQ(0, getsockname(busy.get(), reinterpret_cast<sockaddr*>(&addr), &len));
  const std::string where = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  const CommandResult r =
      RunCommand({SUPD_BIN, "--units", units_dir_, "--control-socket", socket_, "--log-dir",
                  log_dir_, "--state-dir", state_dir_, "--metrics-listen", where});
  EXPECT_EQ(1, r.exit_code) << r.Describe();
  EXPECT_TRUE(Contains(r.err, "--metrics-listen " + where + ": bind: Address already in use"))
      << r.Describe();
}

// --metrics-listen takes an IP address, not a host name, and says so.
TEST_F(MetricsTest, MetricsListenWithAHostNameIsRefused) {
  const CommandResult r =
      RunCommand({SUPD_BIN, "--units", units_dir_, "--control-socket", socket_, "--log-dir",
                  log_dir_, "--state-dir", state_dir_, "--metrics-listen", "localhost:9464"});
  EXPECT_EQ(1, r.exit_code) << r.Describe();
  EXPECT_TRUE(Contains(r.err,
                       "--metrics-listen localhost:9464: expected ADDRESS:PORT with an IP address "
                       "(like 127.0.0.1:9464 or [::1]:9464)"))
      << r.Describe();
}

}  // namespace
}  // namespace supd::integration
