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

TEST(StatusFormatTest, WrongTypesNeverThrow) {
  nlohmann::json s = {{"name", 5}, {"state", nullptr}, {"main_pid", "x"}, {"warnings", "nope"},
                      {"last_exit", 3}, {"log_tail", {1, 2}}};
  EXPECT_NO_THROW(FormatServiceStatus(s));
}

}  // namespace
}  // namespace supd::control
