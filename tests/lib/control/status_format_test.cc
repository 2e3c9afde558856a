#include "lib/control/status_format.h"

#include <gtest/gtest.h>

namespace supd::control {
namespace {

TEST(StatusFormatTest, ReadsLikeSystemctlStatus) {
  nlohmann::json s = {
      {"name", "web.service"},
      {"description", "Web"},
      {"unit_path", "/etc/supd/units/web.service"},
      {"enabled", true},
      {"state", "running"},
      {"sub_state", "running"},
      {"since", "2026-11-22T05:00:00.000000Z"},
      {"main_pid", 42},
      {"status_text", "serving"},
      {"status_errno", 2},
      {"status_errno_name", "ENOENT"},
      {"restarts", 1},
      {"last_exit",
       {{"pid", 41}, {"reason", "exited with status 1"}, {"at", "2026-11-22T04:59:59.000000Z"}}},
      {"warnings", {"/etc/supd/units/web.service:7: MemoryMax= is not supported by supd yet; ignored"}},
      {"log_tail", {"2026-11-22T05:00:00.000001Z 42 out: hello"}},
      {"log_file", "/var/log/supd/web.service.log"},
  };
  EXPECT_EQ(FormatServiceStatus(s),
            "● web.service - Web\n"
            "     Loaded: /etc/supd/units/web.service (enabled)\n"
            "     Active: running since 2026-11-22T05:00:00.000000Z\n"
            "   Main PID: 42\n"
            "     Status: \"serving\"\n"
            "      Error: 2 (ENOENT)\n"
            "   Restarts: 1\n"
            "  Last exit: exited with status 1 (pid 41, 2026-11-22T04:59:59.000000Z)\n"
            "    Warning: /etc/supd/units/web.service:7: MemoryMax= is not supported by supd yet; "
            "ignored\n"
            "        Log: /var/log/supd/web.service.log\n"
            "\n"
            "2026-11-22T05:00:00.000001Z 42 out: hello\n");
}

TEST(StatusFormatTest, FailedShowsResultAndCause) {
  nlohmann::json s = {{"name", "x.service"},       {"unit_path", "/u/x.service"},
                      {"state", "failed"},         {"sub_state", "dead"},
                      {"result", "start-limit-hit"}, {"since", "T"},
                      {"cause", "start limit hit"}, {"main_pid", nullptr}};
  const std::string out = FormatServiceStatus(s);
  EXPECT_NE(out.find("× x.service\n"), std::string::npos) << out;
  EXPECT_NE(out.find("Active: failed (dead) since T; result: start-limit-hit\n"), std::string::npos)
      << out;
  EXPECT_NE(out.find("Cause: start limit hit\n"), std::string::npos) << out;
  EXPECT_EQ(out.find("Main PID"), std::string::npos) << out;
}

TEST(StatusFormatTest, ShowsSocketsAndTheirErrors) {
  nlohmann::json s = {
      {"name", "web.service"}, {"unit_path", "/u/web.service"}, {"state", "running"},
      {"since", "T"},
      {"sockets",
       {{{"unit", "web.socket"},
         {"listening", {{{"listen", "tcp:127.0.0.1:8080"}, {"name", "web.socket"}}}},
         {"error", nullptr}},
        {{"unit", "adm.socket"},
         {"listening", nlohmann::json::array()},
         {"error", "adm.socket: bind 127.0.0.1:80: Permission denied"}}}}};
  const std::string out = FormatServiceStatus(s);
  EXPECT_NE(out.find("     Listen: tcp:127.0.0.1:8080 (web.socket)\n"), std::string::npos) << out;
  EXPECT_NE(out.find("     Socket: adm.socket: bind 127.0.0.1:80: Permission denied\n"),
            std::string::npos)
      << out;
}

TEST(StatusFormatTest, ShowsThePreviousInstanceDuringARestart) {
  nlohmann::json s = {{"name", "web.service"},
                      {"unit_path", "/u/web.service"},
                      {"state", "starting"},
                      {"since", "T"},
                      {"main_pid", 7},
                      {"previous_instances",
                       {{{"pid", 5}, {"role", "serving until the new instance is ready"}}}}};
  const std::string out = FormatServiceStatus(s);
  EXPECT_NE(out.find("   Previous: pid 5, serving until the new instance is ready\n"),
            std::string::npos)
      << out;
}

// ---- Probes

nlohmann::json Probe(const std::string& directive, const std::string& target,
                     const std::string& state, bool running) {
  return {{"directive", directive}, {"target", target},   {"state", state},
          {"running", running},     {"checks", 0},        {"failures", 0},
          {"consecutive_successes", 0}, {"consecutive_failures", 0},
          {"last_latency_ms", nullptr}, {"last_failure", nullptr}};
}

nlohmann::json Running(nlohmann::json probes, bool ready) {
  return {{"name", "web.service"}, {"unit_path", "/u/web.service"}, {"enabled", true},
          {"state", "running"},    {"sub_state", "running"},        {"since", "T"},
          {"main_pid", 42},        {"ready", ready},                {"probes", std::move(probes)}};
}

TEST(StatusFormatTest, APassingProbe) {
  nlohmann::json p = Probe("ReadinessProbe", "http://127.0.0.1:8080/healthz", "passing", true);
  p["checks"] = 12;
  p["failures"] = 1;
  p["consecutive_successes"] = 3;
  p["consecutive_failures"] = 0;
  p["last_latency_ms"] = 1.234;
  EXPECT_EQ(FormatServiceStatus(Running({p}, true)),
            "● web.service\n"
            "     Loaded: /u/web.service (enabled)\n"
            "     Active: running since T\n"
            "   Main PID: 42\n"
            "     Probes: ReadinessProbe=http://127.0.0.1:8080/healthz passing (3 in a row, 12 "
            "checks, 1 failed, last 1.2ms)\n");
}

TEST(StatusFormatTest, AFailingReadinessProbeSaysNotReadyAndItsLastFailure) {
  nlohmann::json p = Probe("ReadinessProbe", "exec:/bin/check", "failing", true);
  p["checks"] = 7;
  p["failures"] = 4;
  p["consecutive_successes"] = 0;
  p["consecutive_failures"] = 4;
  p["last_latency_ms"] = 40.06;
  p["last_failure"] = {{"message", "exited with status 1"},
                       {"output", "one\ntwo\n\nthree\nfour\nfive\nsix\nseven\n"},
                       {"at", "2026-12-03T04:05:06.000000Z"}};
  nlohmann::json live = Probe("LivenessProbe", "tcp://127.0.0.1:8080", "passing", true);
  live["checks"] = 5;
  live["consecutive_successes"] = 5;
  live["last_latency_ms"] = 0.04;
  EXPECT_EQ(FormatServiceStatus(Running({p, live}, false)),
            "● web.service\n"
            "     Loaded: /u/web.service (enabled)\n"
            "     Active: running since T\n"
            "   Main PID: 42\n"
            "      Ready: no (the readiness probe fails)\n"
            "     Probes: ReadinessProbe=exec:/bin/check failing (4 in a row, 7 checks, 4 "
            "failed, last 40.1ms)\n"
            "               last failure 2026-12-03T04:05:06.000000Z: exited with status 1\n"
            // The last 5 lines of its output; empty lines are skipped.
            "               | three\n"
            "               | four\n"
            "               | five\n"
            "               | six\n"
            "               | seven\n"
            "             LivenessProbe=tcp://127.0.0.1:8080 passing (5 in a row, 5 checks, 0 "
            "failed, last 0.0ms)\n");
}

TEST(StatusFormatTest, ProbesNotRunningAndWithoutChecksOrOutput) {
  // A probe held back (or stopped) says "not running" whatever its state; without checks there
  // is no count; an unprivileged peer's failure has no output (null) to show.
  nlohmann::json startup = Probe("StartupProbe", "tcp://127.0.0.1:8080", "pending", true);
  nlohmann::json ready = Probe("ReadinessProbe", "http://127.0.0.1:8080/", "pending", false);
  nlohmann::json live = Probe("LivenessProbe", "exec:/bin/alive", "failing", false);
  live["checks"] = 3;
  live["failures"] = 3;
  live["consecutive_failures"] = 3;
  live["last_failure"] = {{"message", "exited with status 2"},
                         {"output", nullptr},
                         {"at", "2026-12-03T04:05:06.000000Z"}};
  nlohmann::json s = Running({startup, ready, live}, false);
  s["state"] = "starting";
  s["sub_state"] = "start";
  EXPECT_EQ(FormatServiceStatus(s),
            "○ web.service\n"
            "     Loaded: /u/web.service (enabled)\n"
            "     Active: starting (start) since T\n"
            "   Main PID: 42\n"
            "     Probes: StartupProbe=tcp://127.0.0.1:8080 pending\n"
            "             ReadinessProbe=http://127.0.0.1:8080/ not running\n"
            "             LivenessProbe=exec:/bin/alive not running (3 in a row, 3 checks, 3 "
            "failed)\n"
            "               last failure 2026-12-03T04:05:06.000000Z: exited with status 2\n");
}

TEST(StatusFormatTest, NoProbesNoBlockAndNoReadyLine) {
  const std::string out = FormatServiceStatus(Running(nlohmann::json::array(), false));
  EXPECT_EQ(out.find("Probes:"), std::string::npos) << out;
  EXPECT_EQ(out.find("Ready:"), std::string::npos) << out;
}

TEST(StatusFormatTest, WrongTypesNeverThrow) {
  nlohmann::json s = {{"name", 5}, {"state", nullptr}, {"main_pid", "x"}, {"warnings", "nope"},
                      {"last_exit", 3}, {"log_tail", {1, 2}}};
  EXPECT_NO_THROW(FormatServiceStatus(s));
}

// The Loaded: line tells the enablement word when supd sends one, and a start held by its
// dependencies says what it waits for.
TEST(StatusFormatTest, EnableStateDependencyErrorAndJob) {
  nlohmann::json s = {{"name", "api.service"},
                      {"unit_path", "/u/api.service"},
                      {"enabled", false},
                      {"enable_state", "static"},
                      {"state", "stopped"},
                      {"sub_state", "dead"},
                      {"result", "success"},
                      {"since", "T"},
                      {"dependency_error",
                       "ordering cycle: api.service -> db.service -> api.service (After=)"},
                      {"job", "start"},
                      {"waiting_for", {"db.service", "cache.service"}}};
  EXPECT_EQ(FormatServiceStatus(s),
            "○ api.service\n"
            "     Loaded: /u/api.service (static)\n"
            "     Active: stopped (dead) since T\n"
            " Dependency: ordering cycle: api.service -> db.service -> api.service (After=)\n"
            "        Job: start (waiting for db.service, cache.service)\n");
  s.erase("dependency_error");
  s["waiting_for"] = nlohmann::json::array();
  s["enable_state"] = nullptr;  // an older supd: the bool decides
  EXPECT_EQ(FormatServiceStatus(s),
            "○ api.service\n"
            "     Loaded: /u/api.service (disabled)\n"
            "     Active: stopped (dead) since T\n"
            "        Job: start\n");
}

}  // namespace
}  // namespace supd::control

namespace supd::control {
namespace {

TEST(ColorStatusTest, ColoursTheDotAndTheActiveWordAsSystemctl) {
  const std::string plain =
      "● web.service - Web\n"
      "     Loaded: /u/web.service (static)\n"
      "     Active: running since 2026-12-03T21:05:09Z\n"
      "\n"
      "× bad.service\n"
      "     Active: failed (exit-code) since 2026-12-03T21:05:09Z\n"
      "○ idle.service\n"
      "     Active: stopped (dead) since 2026-12-03T21:05:09Z\n"
      "2026-12-03T21:05:09Z 12 out: ● not a dot line's start\n";
  const std::string G = "\x1B[0;1;32m", R = "\x1B[0;1;31m", N = "\x1B[0m";
  EXPECT_EQ(G + "●" + N + " web.service - Web\n" +
                "     Loaded: /u/web.service (static)\n" + "     Active: " + G + "running" + N +
                " since 2026-12-03T21:05:09Z\n" + "\n" + R + "×" + N + " bad.service\n" +
                "     Active: " + R + "failed" + N + " (exit-code) since 2026-12-03T21:05:09Z\n" +
                "○ idle.service\n" + "     Active: stopped (dead) since 2026-12-03T21:05:09Z\n" +
                "2026-12-03T21:05:09Z 12 out: ● not a dot line's start\n",
            ColorStatus(plain));
  EXPECT_EQ("", ColorStatus(""));
  EXPECT_EQ("     Active: " + G + "running" + N, ColorStatus("     Active: running"))
      << "a last line without its newline";
}

}  // namespace
}  // namespace supd::control
