// Unit-file semantics as the running daemon applies them: environment, working directory,
// templates, conditions, Type=exec failures, [Install] WantedBy=, and units that fail to load.

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "lib/base/user_db.h"
#include "tests/integration/harness.h"

namespace supd::integration {
namespace {

using nlohmann::json;

class UnitFileTest : public SupdTest {};

// Waits for an envdump JSON file and parses it (null json on timeout).
json WaitForDump(const std::string& path, Ms timeout = 30s) {
  json dump;
  WaitFor(
      [&] {
        if (!FileExists(path)) return false;
        dump = json::parse(ReadFile(path), nullptr, /*allow_exceptions=*/false);
        return dump.is_object();
      },
      timeout);
  return dump.is_object() ? dump : json();
}

std::vector<std::string> ArgsAfter(const json& dump, const std::string& marker) {
  if (!dump.contains("args")) return {};
  std::vector<std::string> args = dump.at("args").get<std::vector<std::string>>();
  auto it = std::find(args.begin(), args.end(), marker);
  if (it == args.end()) return {};
  return std::vector<std::string>(it + 1, args.end());
}

bool IsHex32(const std::string& s) {
  return s.size() == 32 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

TEST_F(UnitFileTest, EnvironmentWorkingDirectoryAndVariableExpansion) {
  ASSERT_EQ(0, mkdir((dir_ + "/wd").c_str(), 0755));
  WriteFile(dir_ + "/env.file", R"(# a comment
; another comment
FROMFILE=yes
QUOTED="x y"
OVERRIDE=from-file
)");
  WriteUnit("env.service", R"([Service]
Environment=FOO=bar "WORDS=one two"
Environment=OVERRIDE=from-env
Environment=EMPTY=
EnvironmentFile={dir}/env.file
EnvironmentFile=-{dir}/missing.env
WorkingDirectory={dir}/wd
ExecStart={go}/envdump -out {dir}/dump.json -sleep -- $WORDS ${WORDS} $FOO x${FOO}y $$literal
)");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  CommandResult start = Supctl({"start", "env"});
  ASSERT_EQ(0, start.exit_code) << start.Describe() << SupdContext();
  json dump = WaitForDump(dir_ + "/dump.json");
  ASSERT_TRUE(dump.is_object()) << ServiceLog("env.service") << SupdContext();
  json env = dump["env"];

  EXPECT_EQ(json("bar"), env["FOO"]) << dump.dump(1);
  EXPECT_EQ(json("one two"), env["WORDS"]) << dump.dump(1);
  EXPECT_EQ(json(""), env["EMPTY"]) << dump.dump(1);
  EXPECT_EQ(json("yes"), env["FROMFILE"]) << dump.dump(1);
  EXPECT_EQ(json("x y"), env["QUOTED"]) << dump.dump(1);
  EXPECT_EQ(json("from-file"), env["OVERRIDE"]) << "EnvironmentFile= overrides Environment=";
  EXPECT_FALSE(env.contains("SUPD_TEST_LEAK")) << "supd's own environment leaked: " << dump.dump(1);
  ASSERT_TRUE(env.contains("INVOCATION_ID")) << dump.dump(1);
  EXPECT_TRUE(IsHex32(env["INVOCATION_ID"].get<std::string>())) << env["INVOCATION_ID"];
  ASSERT_TRUE(env.contains("PATH")) << dump.dump(1);
  std::string path = env["PATH"].get<std::string>();
  // systemd's default PATH for the system manager (with and without split /usr).
  EXPECT_TRUE(path == "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" ||
              path == "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin")
      << "PATH=" << path;

  EXPECT_EQ(json(dir_ + "/wd"), dump["cwd"]);
  // $WORDS splits into words, ${WORDS} stays one, ${FOO} inside a word, $$ is a literal $.
  std::vector<std::string> expected = {"one", "two", "one two", "bar", "xbary", "$literal"};
  EXPECT_EQ(expected, ArgsAfter(dump, "--")) << dump["args"].dump();

  // The main pid is the process that wrote the dump, a direct child of supd.
  auto s = Status("env.service");
  ASSERT_TRUE(s);
  EXPECT_EQ(dump["pid"], (*s)["main_pid"]) << s->dump();
  EXPECT_EQ(json(supd_pid_), dump["ppid"]);
}

TEST_F(UnitFileTest, TemplateInstanceGetsInstanceNameInArgv) {
  WriteUnit("echo@.service", R"([Unit]
Description=echo %i
[Service]
ExecStart={go}/envdump -out {dir}/echo-%i.json -sleep -- instance=%i unit=%n
)");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  CommandResult start = Supctl({"start", "echo@foo"});
  ASSERT_EQ(0, start.exit_code) << start.Describe() << SupdContext();
  json dump = WaitForDump(dir_ + "/echo-foo.json");
  ASSERT_TRUE(dump.is_object()) << SupdContext();
  std::vector<std::string> expected = {"instance=foo", "unit=echo@foo.service"};
  EXPECT_EQ(expected, ArgsAfter(dump, "--")) << dump["args"].dump();
  // systemd runs system services in / unless WorkingDirectory= says otherwise.
  EXPECT_EQ(json("/"), dump["cwd"]);

  pid_t pid = WaitForRunning("echo@foo.service");
  EXPECT_EQ(dump["pid"], json(pid));
  auto s = Status("echo@foo.service");
  ASSERT_TRUE(s);
  EXPECT_EQ("echo foo", s->value("description", "")) << s->dump();

  // A second instance of the same template runs beside the first.
  ASSERT_EQ(0, Supctl({"start", "echo@bar.service"}).exit_code);
  ASSERT_TRUE(WaitForDump(dir_ + "/echo-bar.json").is_object());
  EXPECT_EQ("running", State("echo@foo.service"));
  EXPECT_EQ("running", State("echo@bar.service"));
  ASSERT_EQ(0, Supctl({"stop", "echo@foo", "echo@bar"}).exit_code);
  EXPECT_EQ(ProcState::kGone, GetProcState(pid));
}

// %u, %U and %h name the user supd runs as, as systemd's manager resolves them: root is "root"
// and "/root" without a user-database lookup. supd does not map libsystemd when neither a unit
// nor supd's own log goes to journald (sd_notify to its own manager does not need it).
TEST_F(UnitFileTest, UserSpecifiersNameSupdsUserAndSupdMapsNoLibsystemd) {
  // Output not to the journal: where journald runs, that would load libsystemd.
  WriteUnit("who.service", R"([Service]
ExecStart={go}/envdump -out {dir}/who.json -sleep -- user=%u uid=%U home=%h
StandardOutput=null
StandardError=null
)");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  ASSERT_EQ(0, Supctl({"start", "who"}).exit_code) << SupdContext();
  json dump = WaitForDump(dir_ + "/who.json");
  ASSERT_TRUE(dump.is_object()) << SupdContext();
  const auto args = ArgsAfter(dump, "--");
  ASSERT_EQ(3u, args.size()) << dump["args"].dump();
  EXPECT_EQ("uid=" + std::to_string(geteuid()), args[1]);
  // The harness gives supd the test's environment: %h is $HOME when that is a clean path.
  const ManagerUser expected = ManagerUserSpecifiers(geteuid(), std::getenv("HOME"));
  EXPECT_EQ("user=" + expected.name, args[0]);
  EXPECT_EQ("home=" + expected.home, args[2]);
  if (geteuid() == 0) {
    EXPECT_EQ("user=root", args[0]);
  }
  const std::string maps = ReadFile("/proc/" + std::to_string(supd_pid_) + "/maps");
  // (libnss_systemd.so may be there: the --admin-group lookup at start goes through NSS.)
  EXPECT_EQ(std::string::npos, maps.find("/libsystemd.so")) << maps;
}

TEST_F(UnitFileTest, FalseConditionPathExistsSkipsWithoutFailing) {
  WriteUnit("cond.service", R"([Unit]
ConditionPathExists={dir}/flag
[Service]
ExecStart={go}/crasher -sleep -write-file {dir}/starts
)");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  CommandResult start = Supctl({"start", "cond"});
  EXPECT_EQ(0, start.exit_code) << "a false condition is not a failure: " << start.Describe();
  auto s = Status("cond.service");
  ASSERT_TRUE(s);
  EXPECT_NE("running", s->value("state", "")) << s->dump();
  EXPECT_NE("failed", s->value("state", "")) << s->dump();
  EXPECT_TRUE((*s)["main_pid"].is_null()) << s->dump();
  EXPECT_FALSE(FileExists(dir_ + "/starts"));
  std::cerr << "[info] status after skipped start: " << s->dump() << "\n";

  WriteFile(dir_ + "/flag", "");
  start = Supctl({"start", "cond"});
  ASSERT_EQ(0, start.exit_code) << start.Describe();
  EXPECT_GT(WaitForRunning("cond.service"), 0) << SupdContext();
  EXPECT_TRUE(WaitFor([&] { return CountLines(dir_ + "/starts") == 1; }));
}

TEST_F(UnitFileTest, TypeExecWithMissingBinaryFailsWithEnoent) {
  WriteUnit("nobin.service", R"([Service]
Type=exec
ExecStart=/nonexistent/supd-test-binary --flag
)");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  CommandResult start = Supctl({"start", "nobin"});
  EXPECT_EQ(1, start.exit_code) << start.Describe();
  EXPECT_NE(std::string::npos, start.err.find("No such file or directory")) << start.Describe();
  auto s = Status("nobin.service");
  ASSERT_TRUE(s);
  EXPECT_EQ("failed", s->value("state", "")) << s->dump();
  EXPECT_TRUE((*s)["main_pid"].is_null()) << s->dump();
  ASSERT_TRUE((*s)["last_exit"].is_object()) << s->dump();
  std::string reason = (*s)["last_exit"].value("reason", "");
  EXPECT_NE(std::string::npos, reason.find("No such file or directory")) << reason;
  EXPECT_NE(std::string::npos, reason.find("/nonexistent/supd-test-binary")) << reason;
  EXPECT_TRUE(SupdAlive());
}

TEST_F(UnitFileTest, WantedByUnitsStartWithSupdOthersDoNot) {
  WriteUnit("auto.service", R"([Service]
ExecStart={go}/crasher -sleep -write-file {dir}/auto.starts
[Install]
WantedBy=multi-user.target
)");
  WriteUnit("manual.service", R"([Service]
ExecStart={go}/crasher -sleep -write-file {dir}/manual.starts
)");
  WriteUnit("tmpl@.service", R"([Service]
ExecStart={go}/crasher -sleep -write-file {dir}/tmpl.starts
[Install]
WantedBy=multi-user.target
)");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  ASSERT_GT(WaitForRunning("auto.service"), 0) << SupdContext();
  ASSERT_TRUE(WaitFor([&] { return CountLines(dir_ + "/auto.starts") == 1; }));
  auto manual = Status("manual.service");
  ASSERT_TRUE(manual) << SupdContext();
  EXPECT_EQ("stopped", manual->value("state", "")) << manual->dump();
  EXPECT_EQ(json(false), (*manual)["enabled"]) << manual->dump();
  EXPECT_FALSE(FileExists(dir_ + "/manual.starts"));
  EXPECT_FALSE(FileExists(dir_ + "/tmpl.starts")) << "a template without instance was started";
  auto autos = Status("auto.service");
  ASSERT_TRUE(autos);
  EXPECT_EQ(json(true), (*autos)["enabled"]) << autos->dump();

  // The whole list names both services.
  auto all = StatusAll();
  ASSERT_TRUE(all);
  std::vector<std::string> names;
  for (const auto& o : *all) names.push_back(o.value("name", ""));
  EXPECT_NE(names.end(), std::find(names.begin(), names.end(), "auto.service"));
  EXPECT_NE(names.end(), std::find(names.begin(), names.end(), "manual.service"));
  for (const auto& o : *all) {
    for (const char* key : {"name", "description", "state", "main_pid", "ready", "restarts",
                            "status_text", "since", "last_exit", "warnings", "result", "enabled"}) {
      EXPECT_TRUE(o.contains(key)) << "status object lacks \"" << key << "\": " << o.dump();
    }
  }
}

TEST_F(UnitFileTest, BadUnitIsReportedWithFileAndLineWhileOthersRun) {
  // Restart=sometimes is on line 5.
  WriteUnit("bad.service", R"([Unit]
Description=bad
[Service]
ExecStart={go}/crasher -sleep
Restart=sometimes
[Install]
WantedBy=multi-user.target
)");
  WriteUnit("good.service", R"([Service]
ExecStart={go}/crasher -sleep
[Install]
WantedBy=multi-user.target
)");
  const std::string bad = units_dir_ + "/bad.service";
  const std::string good = units_dir_ + "/good.service";

  // `check` works without a daemon.
  CommandResult check = Supctl({"check", bad});
  EXPECT_EQ(1, check.exit_code) << check.Describe();
  EXPECT_NE(std::string::npos, (check.out + check.err).find("bad.service:5:")) << check.Describe();
  EXPECT_NE(std::string::npos, (check.out + check.err).find("sometimes")) << check.Describe();
  check = Supctl({"check", good});
  EXPECT_EQ(0, check.exit_code) << check.Describe();
  check = Supctl({"check", good, bad});
  EXPECT_EQ(1, check.exit_code) << check.Describe();

  ASSERT_NO_FATAL_FAILURE(StartSupd());
  pid_t good_pid = WaitForRunning("good.service");
  ASSERT_GT(good_pid, 0) << SupdContext();
  EXPECT_NE(std::string::npos, SupdStderr().find("bad.service:5")) << SupdContext();

  CommandResult status = Supctl({"status", "bad"});
  EXPECT_EQ(1, status.exit_code) << status.Describe();
  EXPECT_NE(std::string::npos, status.err.find("bad.service:5:")) << status.Describe();
  CommandResult start = Supctl({"start", "bad"});
  EXPECT_EQ(1, start.exit_code) << start.Describe();

  EXPECT_TRUE(SupdAlive());
  EXPECT_EQ(good_pid, MainPid("good.service"));
  EXPECT_EQ("running", State("good.service"));
}

TEST_F(UnitFileTest, UnknownDirectiveIsAWarningWithFileAndLine) {
  WriteUnit("warn.service", R"([Service]
ExecStart={go}/crasher -sleep
NoSuchDirective=1
)");
  CommandResult check = Supctl({"check", units_dir_ + "/warn.service"});
  EXPECT_EQ(0, check.exit_code) << check.Describe();
  EXPECT_NE(std::string::npos, (check.out + check.err).find("warn.service:3:")) << check.Describe();

  ASSERT_NO_FATAL_FAILURE(StartSupd());
  auto s = Status("warn.service");
  ASSERT_TRUE(s) << SupdContext();
  ASSERT_TRUE((*s)["warnings"].is_array()) << s->dump();
  bool found = false;
  for (const auto& w : (*s)["warnings"]) {
    if (w.is_string() && w.get<std::string>().find("warn.service:3:") != std::string::npos) {
      found = true;
    }
  }
  EXPECT_TRUE(found) << s->dump();
  ASSERT_EQ(0, Supctl({"start", "warn"}).exit_code) << "a warning does not stop a start";
  EXPECT_GT(WaitForRunning("warn.service"), 0);
}

TEST_F(UnitFileTest, RestartAfterDaemonReloadRunsTheNewDefinition) {
  WriteUnit("svc.service", R"([Service]
ExecStart={go}/crasher -sleep -write-file {dir}/old.starts
)");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  ASSERT_EQ(0, Supctl({"start", "svc"}).exit_code) << SupdContext();
  ASSERT_TRUE(WaitFor([&] { return CountLines(dir_ + "/old.starts") == 1; }));
  WriteUnit("svc.service", R"([Service]
ExecStart={go}/crasher -sleep -write-file {dir}/new.starts
)");
  ASSERT_EQ(0, Supctl({"daemon-reload"}).exit_code) << SupdContext();
  // Still the old one until its next start.
  EXPECT_EQ(1, CountLines(dir_ + "/old.starts"));
  CommandResult restart = Supctl({"restart", "svc"});
  ASSERT_EQ(0, restart.exit_code) << restart.Describe() << SupdContext();
  EXPECT_TRUE(WaitFor([&] { return CountLines(dir_ + "/new.starts") == 1; })) << SupdContext();
  EXPECT_EQ(1, CountLines(dir_ + "/old.starts"));
}

TEST_F(UnitFileTest, AliasNamesTheSameService) {
  WriteUnit("web.service", R"([Service]
ExecStart={go}/crasher -sleep
[Install]
Alias=www.service
)");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  CommandResult start = Supctl({"start", "www"});
  ASSERT_EQ(0, start.exit_code) << start.Describe() << SupdContext();
  ASSERT_GT(WaitForRunning("web.service"), 0) << SupdContext();
  CommandResult status = Supctl({"status", "www"});
  EXPECT_EQ(0, status.exit_code) << status.Describe();
  EXPECT_NE(std::string::npos, status.out.find("web.service")) << status.Describe();
  EXPECT_EQ(0, Supctl({"stop", "www.service"}).exit_code);
  auto st = Status("web.service");
  ASSERT_TRUE(st) << SupdContext();
  EXPECT_EQ("stopped", st->value("state", "")) << st->dump();
}


}  // namespace
}  // namespace supd::integration
