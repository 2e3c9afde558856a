#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <string>

#include "lib/unit/unit_loader.h"

#include "tests/lib/unit/loader_test_util.h"

namespace supd {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::ElementsAre;
using testing::IsEmpty;
using testing::Pair;

SpecifierContext Ctx() { return testing_util::TestSpecifiers(); }

ServiceSpec Load(const std::string& text, const std::string& name = "web.service") {
  return testing_util::LoadOk<ServiceSpec>(ParseServiceText, text, name);
}

std::string LoadErr(const std::string& text, const std::string& name = "web.service") {
  return testing_util::LoadError(ParseServiceText, text, name);
}

using testing_util::Warnings;

TEST(ServiceLoader, Defaults) {
  ServiceSpec s = Load("[Service]\nExecStart=/bin/web\n");
  EXPECT_EQ("web.service", s.name);
  EXPECT_EQ("units/web.service", s.source_path);
  EXPECT_EQ(ServiceType::kSimple, s.type);
  EXPECT_EQ(RestartPolicy::kNo, s.restart);
  EXPECT_EQ(milliseconds(100), s.restart_sec);
  EXPECT_EQ(seconds(90), s.timeout_start);
  EXPECT_EQ(seconds(90), s.timeout_stop);
  EXPECT_EQ(seconds(10), s.start_limit_interval);
  EXPECT_EQ(5u, s.start_limit_burst);
  EXPECT_EQ(SIGTERM, s.kill_signal);
  EXPECT_EQ(SIGKILL, s.final_kill_signal);
  EXPECT_EQ(KillMode::kControlGroup, s.kill_mode);
  EXPECT_THAT(s.warnings, IsEmpty());
}

TEST(ServiceLoader, FullService) {
  ServiceSpec s = Load(R"([Unit]
Description=Web on %H
Documentation=https://example.com man:web(8)
After=network.target db.service
Wants=db.service
Requires=db.service
BindsTo=db.service
Before=late.service
StartLimitIntervalSec=30s
StartLimitBurst=3

[Service]
Type=notify
ExecStartPre=/bin/prepare
ExecStart=/usr/bin/web --listen :8080
ExecReload=/bin/kill -HUP $MAINPID
ExecStop=/bin/stop
ExecStopPost=/bin/cleanup
Restart=on-failure
RestartSec=2s
TimeoutStartSec=1min
TimeoutStopSec=20
KillSignal=SIGINT
FinalKillSignal=9
KillMode=mixed
SendSIGKILL=no
SendSIGHUP=yes
SuccessExitStatus=3 SIGUSR1
RestartPreventExitStatus=23
RestartForceExitStatus=SIGABRT
WorkingDirectory=-/srv/web
User=www
Group=www
EnvironmentFile=-/etc/web.env

[Install]
WantedBy=multi-user.target
Alias=www.service
)");
  EXPECT_EQ("Web on box", s.description);
  EXPECT_THAT(s.documentation, ElementsAre("https://example.com", "man:web(8)"));
  EXPECT_THAT(s.deps.after, ElementsAre("network.target", "db.service"));
  EXPECT_THAT(s.deps.wants, ElementsAre("db.service"));
  EXPECT_THAT(s.deps.requires_, ElementsAre("db.service"));
  EXPECT_THAT(s.deps.binds_to, ElementsAre("db.service"));
  EXPECT_THAT(s.deps.before, ElementsAre("late.service"));
  EXPECT_EQ(seconds(30), s.start_limit_interval);
  EXPECT_EQ(3u, s.start_limit_burst);
  EXPECT_EQ(ServiceType::kNotify, s.type);
  ASSERT_EQ(1u, s.exec_start.size());
  EXPECT_THAT(s.exec_start[0].argv, ElementsAre("/usr/bin/web", "--listen", ":8080"));
  EXPECT_EQ("units/web.service:15", s.exec_start[0].source);
  EXPECT_EQ(1u, s.exec_start_pre.size());
  EXPECT_EQ(1u, s.exec_reload.size());
  EXPECT_EQ(1u, s.exec_stop.size());
  EXPECT_EQ(1u, s.exec_stop_post.size());
  EXPECT_EQ(RestartPolicy::kOnFailure, s.restart);
  EXPECT_EQ(seconds(2), s.restart_sec);
  EXPECT_EQ(seconds(60), s.timeout_start);
  EXPECT_EQ(seconds(20), s.timeout_stop);
  EXPECT_EQ(SIGINT, s.kill_signal);
  EXPECT_EQ(SIGKILL, s.final_kill_signal);
  EXPECT_EQ(KillMode::kMixed, s.kill_mode);
  EXPECT_FALSE(s.send_sigkill);
  EXPECT_TRUE(s.send_sighup);
  EXPECT_EQ(std::set<int>{3}, s.success_exit_status.codes);
  EXPECT_EQ(std::set<int>{SIGUSR1}, s.success_exit_status.signals);
  EXPECT_EQ(std::set<int>{23}, s.restart_prevent_exit_status.codes);
  EXPECT_EQ(std::set<int>{SIGABRT}, s.restart_force_exit_status.signals);
  EXPECT_EQ("/srv/web", s.working_directory);
  EXPECT_TRUE(s.working_directory_optional);
  EXPECT_EQ("www", s.user);
  EXPECT_EQ("www", s.group);
  ASSERT_EQ(1u, s.environment_files.size());
  EXPECT_EQ("/etc/web.env", s.environment_files[0].path);
  EXPECT_TRUE(s.environment_files[0].optional);
  EXPECT_THAT(s.install.wanted_by, ElementsAre("multi-user.target"));
  EXPECT_THAT(s.install.aliases, ElementsAre("www.service"));
  EXPECT_EQ(NotifyAccess::kMain, s.notify_access);  // Type=notify's default
  EXPECT_THAT(Warnings(s), IsEmpty());
}

TEST(ServiceLoader, EmptyAssignmentResetsLists) {
  ServiceSpec s = Load(R"([Service]
ExecStartPre=/bin/a
ExecStartPre=/bin/b
ExecStartPre=
ExecStartPre=/bin/c
ExecStart=/bin/web
Environment=A=1 B=2
Environment=
Environment=C=3
SuccessExitStatus=1 2
SuccessExitStatus=
SuccessExitStatus=7
EnvironmentFile=/a
EnvironmentFile=
[Install]
WantedBy=a.target
WantedBy=
WantedBy=b.target
)");
  ASSERT_EQ(1u, s.exec_start_pre.size());
  EXPECT_EQ("/bin/c", s.exec_start_pre[0].path);
  EXPECT_THAT(s.environment, ElementsAre(Pair("C", "3")));
  EXPECT_EQ(std::set<int>{7}, s.success_exit_status.codes);
  EXPECT_THAT(s.environment_files, IsEmpty());
  EXPECT_THAT(s.install.wanted_by, ElementsAre("b.target"));
}

TEST(ServiceLoader, ExecStartResetThenSetOnce) {
  ServiceSpec s = Load("[Service]\nExecStart=/bin/old\nExecStart=\nExecStart=/bin/new\n");
  ASSERT_EQ(1u, s.exec_start.size());
  EXPECT_EQ("/bin/new", s.exec_start[0].path);
}

TEST(ServiceLoader, EnvironmentQuotingEscapesAndInvalidAssignments) {
  ServiceSpec s = Load(R"([Service]
ExecStart=/bin/web
Environment="GREETING=hello world" 'SQ=a "b"' TAB=a\tb PLAIN=x=y
Environment=BAD-NAME=1 =nothing NOEQ GOOD=1 PLAIN=z
)");
  EXPECT_THAT(s.environment,
              ElementsAre(Pair("GREETING", "hello world"), Pair("SQ", "a \"b\""),
                          Pair("TAB", "a\tb"), Pair("PLAIN", "z"), Pair("GOOD", "1")));
  EXPECT_THAT(
      Warnings(s),
      ElementsAre("units/web.service:4: Invalid environment assignment, ignoring: BAD-NAME=1",
                  "units/web.service:4: Invalid environment assignment, ignoring: =nothing",
                  "units/web.service:4: Invalid environment assignment, ignoring: NOEQ"));
}

// systemd's config_parse_environ() applies each word as it reads it: a syntax error keeps the
// assignments before it and ignores the rest of the line, with a warning (supd once dropped the
// whole line).
TEST(ServiceLoader, EnvironmentSyntaxErrorKeepsWhatCameBefore) {
  ServiceSpec s = Load(
      "[Service]\nExecStart=/bin/web\nEnvironment=A=1 \"B=2\n"
      "Environment=C=3  D=\\q E=5\nEnvironment=\"F=6 G=7\n");
  EXPECT_THAT(s.environment, ElementsAre(Pair("A", "1"), Pair("C", "3")));
  EXPECT_THAT(Warnings(s),
              ElementsAre("units/web.service:3: Invalid syntax in Environment= (unbalanced "
                          "quoting), ignoring the rest of the line: \"B=2",
                          "units/web.service:4: Invalid syntax in Environment= (invalid escape "
                          "sequence), ignoring the rest of the line: D=\\q E=5",
                          "units/web.service:5: Invalid syntax in Environment= (unbalanced "
                          "quoting), ignoring the rest of the line: \"F=6 G=7"));
  // A later line sets what it can as well: the earlier values stay, later names replace.
  s = Load("[Service]\nExecStart=/bin/web\nEnvironment=A=1 B=2\nEnvironment=B=3 'A=\n");
  EXPECT_THAT(s.environment, ElementsAre(Pair("A", "1"), Pair("B", "3")));
}

TEST(ServiceLoader, ContinuationAndCommentsInExecStart) {
  ServiceSpec s = Load(
      "[Service]\n"
      "ExecStart=/usr/bin/web \\\n"
      "  --a=1 \\\n"
      "# --b=2 \\\n"
      "  \"--c=x y\"\n");
  ASSERT_EQ(1u, s.exec_start.size());
  EXPECT_THAT(s.exec_start[0].argv, ElementsAre("/usr/bin/web", "--a=1", "--c=x y"));
  EXPECT_EQ("units/web.service:5", s.exec_start[0].source);
}

TEST(ServiceLoader, SemicolonCommandsInExecStartPre) {
  ServiceSpec s =
      Load("[Service]\nExecStartPre=/bin/a ; -/bin/b x ; @/bin/c c0\nExecStart=/bin/web\n");
  ASSERT_EQ(3u, s.exec_start_pre.size());
  EXPECT_TRUE(s.exec_start_pre[1].ignore_failure);
  EXPECT_THAT(s.exec_start_pre[2].argv, ElementsAre("c0"));
}

TEST(ServiceLoader, TemplateInstanceSpecifiers) {
  ServiceSpec s = Load(R"([Unit]
Description=Worker %i of %p (%n)
ConditionPathExists=/etc/%p/%I.conf
[Service]
User=%i
WorkingDirectory=/srv/%p/%i
Environment=ID=%i HOST=%H
ExecStart=/bin/worker --id %i --unit %N --run %t/%p
)",
                       "worker@alice.service");
  EXPECT_EQ("Worker alice of worker (worker@alice.service)", s.description);
  EXPECT_EQ("alice", s.user);
  EXPECT_EQ("/srv/worker/alice", s.working_directory);
  EXPECT_THAT(s.environment, ElementsAre(Pair("ID", "alice"), Pair("HOST", "box")));
  EXPECT_THAT(s.exec_start[0].argv, ElementsAre("/bin/worker", "--id", "alice", "--unit",
                                                "worker@alice", "--run", "/run/worker"));
  ASSERT_EQ(1u, s.conditions.size());
  EXPECT_EQ("/etc/worker/alice.conf", s.conditions[0].value);
}

TEST(ServiceLoader, UnknownSpecifierIsAnError) {
  EXPECT_EQ(
      "units/web.service:2: Failed to resolve specifiers in User=: unknown specifier '%Q' "
      "in 'u%Q'",
      LoadErr("[Service]\nUser=u%Q\nExecStart=/bin/web\n"));
  EXPECT_EQ(
      "units/web.service:3: Failed to resolve specifiers in ExecStart=: unknown specifier "
      "'%Q' in '%Q'",
      LoadErr("[Service]\n\nExecStart=/bin/web %Q\n"));
}

TEST(ServiceLoader, TimeSpansAndOldSpellings) {
  ServiceSpec s = Load(R"([Service]
ExecStart=/bin/web
TimeoutSec=5min
StartLimitInterval=1min 30s
StartLimitBurst=7
RestartSec=0
)");
  EXPECT_EQ(seconds(300), s.timeout_start);
  EXPECT_EQ(seconds(300), s.timeout_stop);
  EXPECT_EQ(seconds(90), s.start_limit_interval);
  EXPECT_EQ(7u, s.start_limit_burst);
  EXPECT_EQ(Usec(0), s.restart_sec);
}

TEST(ServiceLoader, ZeroTimeoutMeansInfinity) {
  ServiceSpec s = Load("[Service]\nExecStart=/bin/web\nTimeoutStartSec=0\nTimeoutStopSec=0\n");
  EXPECT_EQ(kInfinity, s.timeout_start);
  EXPECT_EQ(kInfinity, s.timeout_stop);
  s = Load("[Service]\nExecStart=/bin/web\nTimeoutSec=infinity\n");
  EXPECT_EQ(kInfinity, s.timeout_start);
  EXPECT_EQ(kInfinity, s.timeout_stop);
}

struct ErrCase {
  std::string text;
  std::string want;
};

class ServiceLoaderErrors : public testing::TestWithParam<ErrCase> {};

TEST_P(ServiceLoaderErrors, Verbatim) { EXPECT_EQ(GetParam().want, LoadErr(GetParam().text)); }

INSTANTIATE_TEST_SUITE_P(
    Cases, ServiceLoaderErrors,
    testing::Values(
        ErrCase{"[Service]\nExecStart=/bin/web\nRestart=sometimes\n",
                "units/web.service:3: Invalid Restart= value 'sometimes'"},
        ErrCase{"[Service]\nType=forking\nExecStart=/bin/web\n",
                "units/web.service:2: Type=forking is not supported by supd"},
        ErrCase{"[Service]\nType=dbus\n",
                "units/web.service:2: Type=dbus is not supported by supd"},
        ErrCase{"[Service]\nType=idle\n",
                "units/web.service:2: Type=idle is not supported by supd"},
        ErrCase{"[Service]\nExecStart=/bin/web\nNotifyAccess=some\n",
                "units/web.service:3: Invalid NotifyAccess= value 'some'"},
        ErrCase{"[Service]\nExecStart=/bin/web\nWatchdogSec=often\n",
                "units/web.service:3: Invalid WatchdogSec= value 'often'"},
        ErrCase{"[Service]\nExecStart=/bin/web\nWatchdogSignal=SIGNOPE\n",
                "units/web.service:3: Invalid WatchdogSignal= value 'SIGNOPE'"},
        ErrCase{"[Service]\nExecStart=/bin/web\nReloadSignal=0\n",
                "units/web.service:3: Invalid ReloadSignal= value '0'"},
        ErrCase{"[Service]\nType=weird\n", "units/web.service:2: Invalid Type= value 'weird'"},
        ErrCase{"[Service]\nExecStart=/bin/web\nRestartSec=5 parsecs\n",
                "units/web.service:3: Invalid RestartSec= value '5 parsecs'"},
        ErrCase{"[Service]\nExecStart=/bin/web\nTimeoutStopSec=-1\n",
                "units/web.service:3: Invalid TimeoutStopSec= value '-1'"},
        ErrCase{"[Service]\nExecStart=/bin/web\nKillSignal=SIGNOPE\n",
                "units/web.service:3: Invalid KillSignal= value 'SIGNOPE'"},
        ErrCase{"[Service]\nExecStart=/bin/web\nKillSignal=4294967295\n",
                "units/web.service:3: Invalid KillSignal= value '4294967295'"},
        ErrCase{"[Service]\nExecStart=/bin/web\nKillMode=all\n",
                "units/web.service:3: Invalid KillMode= value 'all'"},
        ErrCase{"[Service]\nExecStart=/bin/web\nSendSIGKILL=maybe\n",
                "units/web.service:3: Invalid SendSIGKILL= value 'maybe'"},
        ErrCase{"[Unit]\nStartLimitBurst=lots\n[Service]\nExecStart=/bin/web\n",
                "units/web.service:2: Invalid StartLimitBurst= value 'lots'"},
        ErrCase{"[Service]\nExecStart=/bin/web\nSuccessExitStatus=1 300\n",
                "units/web.service:3: Invalid exit status '300' in SuccessExitStatus="},
        ErrCase{"[Service]\nExecStart=/bin/web\nWorkingDirectory=srv\n",
                "units/web.service:3: WorkingDirectory= path 'srv' is not absolute"},
        ErrCase{"[Service]\nExecStart=/bin/web\nEnvironmentFile=web.env\n",
                "units/web.service:3: EnvironmentFile= path 'web.env' is not absolute"},
        ErrCase{"[Service]\nExecStart=/bin/web\nUser=a/b\n",
                "units/web.service:3: Invalid User= value 'a/b': contains ':' or '/'"},
        ErrCase{"[Service]\nExecStart=/bin/web\nUser=4294967296\n",
                "units/web.service:3: Invalid User= value '4294967296': '4294967296' is out of "
                "range (numeric user and group IDs are 0..4294967294)"},
        ErrCase{"[Service]\nExecStart=/bin/web\nGroup=a\x01" "b\n",
                "units/web.service:3: Invalid Group= value 'a\x01" "b': contains a control "
                "character"},
        ErrCase{"[Unit]\nConditionPathExists=etc/x\n[Service]\nExecStart=/bin/web\n",
                "units/web.service:2: ConditionPathExists= path 'etc/x' is not absolute"},
        ErrCase{"[Service]\nExecStart=bin/web\n",
                "units/web.service:2: Neither a valid executable name nor an absolute path: "
                "bin/web"},
        ErrCase{"[Service]\nType=simple\n",
                "units/web.service: Service has no ExecStart= setting, which is only allowed "
                "for Type=oneshot services"},
        ErrCase{"[Service]\nExecStart=/bin/a\nExecStart=/bin/b\n",
                "units/web.service: Service has more than one ExecStart= setting, which is only "
                "allowed for Type=oneshot services"},
        ErrCase{"[Service]\nExecStart=/bin/a ; /bin/b\n",
                "units/web.service: Service has more than one ExecStart= setting, which is only "
                "allowed for Type=oneshot services"},
        ErrCase{"[Service]\nType=oneshot\n",
                "units/web.service: Service has no ExecStart= and no ExecStop= setting"},
        ErrCase{"[Service]\nType=oneshot\nExecStop=/bin/x\n",
                "units/web.service: Service has no ExecStart= setting and does not have "
                "RemainAfterExit=yes set"},
        ErrCase{"[Service]\nType=oneshot\nExecStart=/bin/x\nRestart=always\n",
                "units/web.service: Service has Restart= set to either always or on-success, "
                "which isn't allowed for Type=oneshot services"},
        ErrCase{"Description=x\n[Unit]\n",
                "units/web.service:1: Assignment outside of any section"}));

TEST(ServiceLoader, Oneshot) {
  ServiceSpec s = Load(
      "[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/a\nExecStart=/bin/b\n"
      "Restart=on-failure\n");
  EXPECT_EQ(ServiceType::kOneshot, s.type);
  EXPECT_TRUE(s.remain_after_exit);
  EXPECT_EQ(2u, s.exec_start.size());
  EXPECT_EQ(kInfinity, s.timeout_start);
  s = Load("[Service]\nType=oneshot\nExecStart=/bin/a\nTimeoutStartSec=10\n");
  EXPECT_EQ(seconds(10), s.timeout_start);
  s = Load("[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStop=/bin/a\n");
  EXPECT_THAT(s.exec_start, IsEmpty());
}

TEST(ServiceLoader, UnknownAndUnsupportedDirectivesWarnWithLines) {
  ServiceSpec s = Load(R"([Unit]
Description=d
PropagatesReloadTo=other.service
ConditionVirtualization=container
Frobnicate=yes
X-Custom=1
[Service]
ExecStart=/bin/web
MemoryMin=1G
SecureBits=keep-caps
RuntimeMaxSec=10
OOMPolicy=stop
StandardInput=tty
WantedBy=multi-user.target
Bogus=1
[Install]
UpheldBy=other.service
[X-Supd]
Whatever=1
[X-Other]
Ignored=1
)");
  EXPECT_THAT(
      Warnings(s),
      ElementsAre(
          "units/web.service:3: PropagatesReloadTo= is not supported by supd yet; ignored",
          "units/web.service:4: ConditionVirtualization= is not supported by supd yet; ignored",
          "units/web.service:5: Unknown key 'Frobnicate' in section [Unit], ignoring",
          "units/web.service:9: MemoryMin= is not supported by supd yet; ignored",
          "units/web.service:10: SecureBits= is not supported by supd yet; ignored",
          "units/web.service:11: RuntimeMaxSec= is not supported by supd yet; ignored",
          "units/web.service:12: OOMPolicy= is not supported by supd yet; ignored",
          "units/web.service:13: StandardInput= is not supported by supd yet; ignored",
          "units/web.service:14: Unknown key 'WantedBy' in section [Service], ignoring "
          "(WantedBy= belongs in the [Install] section)",
          "units/web.service:15: Unknown key 'Bogus' in section [Service], ignoring",
          "units/web.service:17: UpheldBy= is not supported by supd yet; ignored",
          "units/web.service:19: Unknown key 'Whatever' in section [X-Supd], ignoring"));
}

TEST(ServiceLoader, DependencyDirectives) {
  ServiceSpec s = Load(R"([Unit]
Requisite=net.service %i.service
PartOf=app.target
Conflicts=maintenance.service
Upholds=metrics.service
DefaultDependencies=no
StopWhenUnneeded=yes
[Service]
ExecStart=/bin/web
[Install]
RequiredBy=app.target
Also=web.socket
DefaultInstance=ignored
)");
  EXPECT_THAT(s.deps.requisite, ElementsAre("net.service"));
  EXPECT_THAT(s.deps.part_of, ElementsAre("app.target"));
  EXPECT_THAT(s.deps.conflicts, ElementsAre("maintenance.service"));
  EXPECT_THAT(s.deps.upholds, ElementsAre("metrics.service"));
  EXPECT_FALSE(s.deps.default_dependencies);
  EXPECT_TRUE(s.deps.stop_when_unneeded);
  EXPECT_THAT(s.install.required_by, ElementsAre("app.target"));
  EXPECT_THAT(s.install.also, ElementsAre("web.socket"));
  EXPECT_EQ("", s.install.default_instance);
  // %i of a plain unit is empty: ".service" is no unit name.
  EXPECT_THAT(Warnings(s),
              ElementsAre("units/web.service:2: Invalid unit name '.service' in Requisite=, "
                          "ignoring",
                          "units/web.service:13: DefaultInstance= only makes sense for template "
                          "units, ignoring"));

  s = Load("[Service]\nExecStart=/bin/web\n");
  EXPECT_TRUE(s.deps.default_dependencies);
  EXPECT_FALSE(s.deps.stop_when_unneeded);
  EXPECT_TRUE(s.install.empty());
}

// As systemd: an empty dependency assignment (config_parse_unit_deps) and an empty Also= do
// nothing; an empty RequiredBy= or Alias= resets the list, an empty DefaultInstance= unsets it.
TEST(ServiceLoader, EmptyDependencyAndInstallAssignments) {
  ServiceSpec s = Load(R"([Unit]
Requisite=a.service
Requisite=
PartOf=a.target
PartOf=
PartOf=b.target
Conflicts=a.service
Conflicts=
Upholds=a.service
Upholds=
[Service]
ExecStart=/bin/w
[Install]
RequiredBy=a.target
RequiredBy=
RequiredBy=b.target
Alias=a.service
Alias=
Also=a.service
Also=
Also=b.service
DefaultInstance=eu
DefaultInstance=
)",
                       "w@.service");
  EXPECT_THAT(s.deps.requisite, ElementsAre("a.service"));
  EXPECT_THAT(s.deps.part_of, ElementsAre("a.target", "b.target"));
  EXPECT_THAT(s.deps.conflicts, ElementsAre("a.service"));
  EXPECT_THAT(s.deps.upholds, ElementsAre("a.service"));
  EXPECT_THAT(s.install.required_by, ElementsAre("b.target"));
  EXPECT_THAT(s.install.aliases, IsEmpty());
  EXPECT_THAT(s.install.also, ElementsAre("a.service", "b.service"));
  EXPECT_EQ("", s.install.default_instance);
  EXPECT_THAT(s.warnings, IsEmpty());
}

TEST(ServiceLoader, DefaultInstanceOfTemplates) {
  ServiceSpec s = Load("[Service]\nExecStart=/bin/w %i\n[Install]\nDefaultInstance=%H-1\n",
                       "w@.service");
  EXPECT_EQ("box-1", s.install.default_instance);
  EXPECT_THAT(s.warnings, IsEmpty());
  // As systemd: an instance read from its template's file ignores it without a word.
  s = Load("[Service]\nExecStart=/bin/w %i\n[Install]\nDefaultInstance=box\n", "w@3.service");
  EXPECT_EQ("", s.install.default_instance);
  EXPECT_THAT(s.warnings, IsEmpty());
  s = Load("[Service]\nExecStart=/bin/w\n[Install]\nDefaultInstance=a b\n", "w@.service");
  EXPECT_EQ("", s.install.default_instance);
  EXPECT_THAT(Warnings(s), ElementsAre("units/w@.service:4: Invalid DefaultInstance= value 'a b', "
                                       "ignoring"));
}

TEST(ServiceLoader, DependencyBooleansAreChecked) {
  EXPECT_EQ("units/web.service:2: Invalid DefaultDependencies= value 'sometimes'",
            LoadErr("[Unit]\nDefaultDependencies=sometimes\n[Service]\nExecStart=/bin/w\n"));
  EXPECT_EQ("units/web.service:2: Invalid StopWhenUnneeded= value '2'",
            LoadErr("[Unit]\nStopWhenUnneeded=2\n[Service]\nExecStart=/bin/w\n"));
}

// supd bounds a start or stop by the unit's own timeouts; job timeouts are read and warned.
TEST(ServiceLoader, JobTimeoutsWarn) {
  ServiceSpec s = Load(R"([Unit]
JobTimeoutSec=30
JobRunningTimeoutSec=infinity
JobTimeoutAction=reboot
JobTimeoutRebootArgument=now
[Service]
ExecStart=/bin/web
)");
  EXPECT_THAT(
      Warnings(s),
      ElementsAre(
          "units/web.service:2: JobTimeoutSec= is ignored: supd does not apply job timeouts",
          "units/web.service:3: JobRunningTimeoutSec= is ignored: supd does not apply job "
          "timeouts",
          "units/web.service:4: JobTimeoutAction= is ignored: supd does not apply job timeouts",
          "units/web.service:5: JobTimeoutRebootArgument= is ignored: supd does not apply job "
          "timeouts"));
}

TEST(ServiceLoader, NotifyDefaults) {
  ServiceSpec s = Load("[Service]\nExecStart=/bin/web\n");
  EXPECT_EQ(NotifyAccess::kNone, s.notify_access);
  EXPECT_FALSE(s.notify_access_set);
  EXPECT_EQ(Usec{0}, s.watchdog_sec);
  EXPECT_EQ(SIGABRT, s.watchdog_signal);
  EXPECT_EQ(SIGHUP, s.reload_signal);

  // As systemd's service_add_extras(): Type=notify, notify-reload or a watchdog → main.
  EXPECT_EQ(NotifyAccess::kMain,
            Load("[Service]\nType=notify\nExecStart=/bin/web\n").notify_access);
  EXPECT_EQ(NotifyAccess::kMain,
            Load("[Service]\nType=notify-reload\nExecStart=/bin/web\n").notify_access);
  EXPECT_EQ(NotifyAccess::kMain,
            Load("[Service]\nExecStart=/bin/web\nWatchdogSec=5\n").notify_access);
  EXPECT_EQ(NotifyAccess::kNone,
            Load("[Service]\nExecStart=/bin/web\nWatchdogSec=0\n").notify_access);
}

TEST(ServiceLoader, NotifyDirectives) {
  ServiceSpec s = Load(R"([Service]
Type=notify-reload
ExecStart=/bin/web
NotifyAccess=all
WatchdogSec=30s
WatchdogSignal=SIGQUIT
ReloadSignal=USR1
)");
  EXPECT_EQ(ServiceType::kNotifyReload, s.type);
  EXPECT_EQ(NotifyAccess::kAll, s.notify_access);
  EXPECT_TRUE(s.notify_access_set);
  EXPECT_EQ(seconds(30), s.watchdog_sec);
  EXPECT_EQ(SIGQUIT, s.watchdog_signal);
  EXPECT_EQ(SIGUSR1, s.reload_signal);
  EXPECT_THAT(Warnings(s), IsEmpty());

  EXPECT_EQ(NotifyAccess::kExec,
            Load("[Service]\nType=notify\nExecStart=/bin/web\nNotifyAccess=exec\n").notify_access);
  EXPECT_EQ(NotifyAccess::kMain,
            Load("[Service]\nExecStart=/bin/web\nNotifyAccess=main\n").notify_access);
  // "infinity" arms no watchdog in systemd either; NotifyAccess= still defaults to main.
  ServiceSpec inf = Load("[Service]\nExecStart=/bin/web\nWatchdogSec=infinity\n");
  EXPECT_EQ(Usec{0}, inf.watchdog_sec);
  EXPECT_EQ(NotifyAccess::kMain, inf.notify_access);
}

TEST(ServiceLoader, NotifyAccessNoneIsOverriddenLikeSystemd) {
  ServiceSpec s = Load("[Service]\nType=notify\nExecStart=/bin/web\nNotifyAccess=none\n");
  EXPECT_EQ(NotifyAccess::kMain, s.notify_access);
  EXPECT_THAT(Warnings(s), ElementsAre("units/web.service: NotifyAccess=none is overridden to "
                                       "main, as systemd does, because the service is "
                                       "Type=notify"));
  ServiceSpec w = Load("[Service]\nExecStart=/bin/web\nNotifyAccess=none\nWatchdogSec=1\n");
  EXPECT_EQ(NotifyAccess::kMain, w.notify_access);
  EXPECT_THAT(Warnings(w), ElementsAre("units/web.service: NotifyAccess=none is overridden to "
                                       "main, as systemd does, because the service is using "
                                       "WatchdogSec="));
  ServiceSpec n = Load("[Service]\nExecStart=/bin/web\nNotifyAccess=none\n");
  EXPECT_EQ(NotifyAccess::kNone, n.notify_access);
  EXPECT_THAT(Warnings(n), IsEmpty());
}

TEST(ServiceLoader, ReloadSignalWithoutNotifyReloadWarns) {
  ServiceSpec s = Load("[Service]\nType=notify\nExecStart=/bin/web\nReloadSignal=SIGUSR2\n");
  EXPECT_EQ(SIGUSR2, s.reload_signal);
  EXPECT_THAT(Warnings(s), ElementsAre("units/web.service:4: ReloadSignal= has an effect only "
                                       "with Type=notify-reload; ignored"));
}

TEST(ServiceLoader, InvalidDependencyNamesWarn) {
  ServiceSpec s = Load("[Unit]\nAfter=good.service bad\nWants=\n[Service]\nExecStart=/bin/web\n");
  EXPECT_THAT(s.deps.after, ElementsAre("good.service"));
  EXPECT_THAT(Warnings(s),
              ElementsAre("units/web.service:2: Invalid unit name 'bad' in After=, ignoring"));
}

TEST(ServiceLoader, ConditionPrefixesAndReset) {
  ServiceSpec s = Load(R"([Unit]
ConditionPathExists=/a
ConditionPathIsDirectory=|!/b
AssertPathExists=/c
ConditionHost=
ConditionPathExists=| /d
ConditionUser=!root
[Service]
ExecStart=/bin/web
)");
  ASSERT_EQ(3u, s.conditions.size());
  EXPECT_EQ("AssertPathExists", s.conditions[0].name);
  EXPECT_TRUE(s.conditions[0].is_assert);
  EXPECT_EQ("/d", s.conditions[1].value);
  EXPECT_TRUE(s.conditions[1].trigger);
  EXPECT_FALSE(s.conditions[1].negate);
  EXPECT_EQ("units/web.service:6", s.conditions[1].source);
  EXPECT_EQ("root", s.conditions[2].value);
  EXPECT_TRUE(s.conditions[2].negate);
}

TEST(ServiceLoader, RestartStepsNeedsMaxDelay) {
  ServiceSpec s = Load("[Service]\nExecStart=/bin/web\nRestartSteps=5\n");
  EXPECT_EQ(0u, s.restart_steps);
  EXPECT_THAT(Warnings(s), ElementsAre("units/web.service: Service has RestartSteps= but no "
                                       "RestartMaxDelaySec= setting; RestartSteps= ignored"));
  s = Load(
      "[Service]\nExecStart=/bin/web\nRestartSec=1\nRestartSteps=5\nRestartMaxDelaySec=1min\n");
  EXPECT_EQ(5u, s.restart_steps);
  EXPECT_EQ(seconds(60), s.restart_max_delay);
  EXPECT_THAT(s.warnings, IsEmpty());
}

TEST(ServiceLoader, UserAndGroupNamesAsSystemdRelaxesThem) {
  // valid_user_group_name(VALID_USER_RELAX|VALID_USER_ALLOW_NUMERIC): inner spaces, a leading
  // '-', dots and '@' are names (the start fails if no such user exists, as in systemd).
  ServiceSpec s = Load("[Service]\nExecStart=/bin/web\nUser=a b\nGroup=-x.y@z\n");
  EXPECT_EQ("a b", s.user);
  EXPECT_EQ("-x.y@z", s.group);
  s = Load("[Service]\nExecStart=/bin/web\nUser=4294967294\nGroup=0\n");
  EXPECT_EQ("4294967294", s.user);
  EXPECT_EQ("0", s.group);
}

TEST(ServiceLoader, UnitNameChecks) {
  EXPECT_EQ("Invalid unit name 'web'",
            ParseServiceText("", "units/web", "web", Ctx()).error().message);
  EXPECT_EQ("'web.socket' is not a .service unit",
            ParseServiceText("", "units/web.socket", "web.socket", Ctx()).error().message);
}

// Pathological input gets its own error, with file:line. (That no input crashes the loader is
// the unit_file and units_dir fuzz targets' job: tests/fuzz/, whose corpora hold these inputs.)
TEST(ServiceLoader, PathologicalInputGetsAnError) {
  auto err = [](const std::string& text) {
    auto r = ParseServiceText(text, "j.service", "j.service", Ctx());
    return r.ok() ? std::string("loaded") : r.error().message;
  };
  std::string junk;
  for (int i = 0; i < 4096; ++i) junk += static_cast<char>((i * 7919 + 13) % 256);
  EXPECT_EQ("j.service:1: Line contains a NUL byte", err(junk));
  EXPECT_EQ("j.service:2: Executable name contains special characters: " +
                std::string(50000, '\\'),
            err("[Service]\nExecStart=" + std::string(100000, '\\') + "\n"));
  EXPECT_EQ("j.service:2: Unbalanced quoting in ExecStart=: /bin/x \"" + std::string(1000, '"'),
            err("[Service]\nExecStart=/bin/x \"" + std::string(1000, '"') + "\n"));
  EXPECT_EQ("j.service:2: Empty executable path in ExecStart=: @",
            err("[Service]\nExecStart=@\nExecStart=-\nExecStart=%\n"));
  EXPECT_EQ("j.service: file is larger than 4 MiB, refusing",
            err(std::string(5 * 1024 * 1024, 'a')));
}

class LoadFileTest : public testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/supd-unittest-XXXXXX";
    ASSERT_NE(nullptr, mkdtemp(tmpl));
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Write(const std::string& rel, const std::string& content) {
    std::string p = dir_ + "/" + rel;
    std::filesystem::create_directories(std::filesystem::path(p).parent_path());
    std::ofstream(p) << content;
    return p;
  }
  std::string dir_;
};

TEST_F(LoadFileTest, DropinsInLexicalOrder) {
  std::string unit = Write("web.service", "[Service]\nExecStart=/bin/web\nRestartSec=1\n");
  Write("web.service.d/20-b.conf", "[Service]\nRestartSec=3\nEnvironment=B=1\n");
  Write("web.service.d/10-a.conf", "[Service]\nRestartSec=2\nExecStart=\nExecStart=/bin/new\n");
  Write("web.service.d/ignored.txt", "[Service]\nRestartSec=9\n");
  auto r = LoadServiceFile(unit, "web.service", Ctx());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(seconds(3), r->restart_sec);
  EXPECT_EQ("/bin/new", r->exec_start[0].path);
  EXPECT_THAT(r->dropin_paths,
              ElementsAre(dir_ + "/web.service.d/10-a.conf", dir_ + "/web.service.d/20-b.conf"));
}

TEST_F(LoadFileTest, InstanceFromTemplateWithInstanceDropins) {
  std::string tmpl = Write("worker@.service", "[Service]\nExecStart=/bin/worker %i\nUser=%i\n");
  Write("worker@.service.d/10-all.conf", "[Service]\nRestartSec=5\n");
  Write("worker@.service.d/50-x.conf", "[Service]\nRestartSec=6\n");
  Write("worker@7.service.d/50-x.conf", "[Service]\nRestartSec=7\nEnvironment=SEVEN=1\n");
  auto r = LoadServiceFile(tmpl, "worker@7.service", Ctx());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ("worker@7.service", r->name);
  EXPECT_EQ(tmpl, r->source_path);
  EXPECT_EQ("7", r->user);
  EXPECT_THAT(r->exec_start[0].argv, ElementsAre("/bin/worker", "7"));
  EXPECT_EQ(seconds(7), r->restart_sec);
  EXPECT_THAT(r->dropin_paths, ElementsAre(dir_ + "/worker@.service.d/10-all.conf",
                                           dir_ + "/worker@7.service.d/50-x.conf"));
  // Another instance does not see worker@7's drop-in.
  auto other = LoadServiceFile(tmpl, "worker@8.service", Ctx());
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(seconds(6), other->restart_sec);
}

TEST_F(LoadFileTest, ErrorsInDropinsNameTheDropin) {
  std::string unit = Write("web.service", "[Service]\nExecStart=/bin/web\n");
  Write("web.service.d/x.conf", "[Service]\n\nRestart=sometimes\n");
  EXPECT_EQ(dir_ + "/web.service.d/x.conf:3: Invalid Restart= value 'sometimes'",
            LoadServiceFile(unit, "web.service", Ctx()).error().message);
}

TEST_F(LoadFileTest, UnreadableAndMaskedAndHuge) {
  EXPECT_EQ("open " + dir_ + "/none.service: No such file or directory",
            LoadServiceFile(dir_ + "/none.service", "none.service", Ctx()).error().message);
  std::string empty = Write("empty.service", "");
  EXPECT_EQ(empty + ": Unit empty.service is masked (the file is empty or /dev/null)",
            LoadServiceFile(empty, "empty.service", Ctx()).error().message);
  std::string big = Write("big.service", std::string(4 * 1024 * 1024 + 1, '#'));
  EXPECT_EQ(big + ": file is larger than 4 MiB, refusing",
            LoadServiceFile(big, "big.service", Ctx()).error().message);
  std::string nul = Write("nul.service", std::string("[Service]\nExecStart=/bin/x\0y\n", 27));
  EXPECT_EQ(nul + ":2: Line contains a NUL byte",
            LoadServiceFile(nul, "nul.service", Ctx()).error().message);
}

}  // namespace
}  // namespace supd

namespace supd {
namespace {

TEST(ServiceLoader, OnFailureAndOnSuccessTakeServicesAndSocketsWithSpecifiers) {
  ServiceSpec s = Load(R"([Unit]
OnFailure=page@%n.service alert.socket
OnFailure=
OnFailure=rescue.target
OnSuccess=cleanup-%i.service
[Service]
ExecStart=/bin/web
)",
                       "web@blue.service");
  EXPECT_THAT(s.on_failure, ElementsAre("page@web@blue.service.service", "alert.socket"));
  EXPECT_THAT(s.on_success, ElementsAre("cleanup-blue.service"));
  EXPECT_THAT(Warnings(s),
              ElementsAre("units/web@blue.service:4: 'rescue.target' in OnFailure= is not a "
                          ".service or .socket unit; supd cannot start it, ignoring"));
}


TEST(ServiceLoader, FailureAndSuccessActionsWithTheirExitStatuses) {
  ServiceSpec s = Load(R"([Unit]
FailureAction=exit
FailureActionExitStatus=7
SuccessAction=exit-force
SuccessActionExitStatus=255
[Service]
ExecStart=/bin/web
)");
  EXPECT_EQ(s.failure_action, UnitAction::kExit);
  EXPECT_EQ(s.failure_action_exit_status, std::optional<uint8_t>(7));
  EXPECT_EQ(s.success_action, UnitAction::kExitForce);
  EXPECT_EQ(s.success_action_exit_status, std::optional<uint8_t>(255));
  EXPECT_TRUE(Warnings(s).empty());
  // Empty resets, as in systemd.
  s = Load("[Unit]\nFailureAction=exit\nFailureAction=\nFailureActionExitStatus=3\n"
           "FailureActionExitStatus=\n[Service]\nExecStart=/bin/web\n");
  EXPECT_EQ(s.failure_action, UnitAction::kNone);
  EXPECT_FALSE(s.failure_action_exit_status);
  EXPECT_STREQ(UnitActionName(UnitAction::kExitForce), "exit-force");
}

TEST(ServiceLoader, HostActionsAreWarnedAndBadValuesRefused) {
  ServiceSpec s = Load("[Unit]\nFailureAction=reboot-force\n[Service]\nExecStart=/bin/web\n");
  EXPECT_EQ(s.failure_action, UnitAction::kNone);
  EXPECT_THAT(Warnings(s),
              ElementsAre("units/web.service:2: FailureAction=reboot-force is not supported by "
                          "supd (it does not reboot or power off the host); only exit and "
                          "exit-force are; ignored"));
  EXPECT_EQ(LoadErr("[Unit]\nSuccessAction=explode\n[Service]\nExecStart=/bin/web\n"),
            "units/web.service:2: Invalid SuccessAction= value 'explode'");
  EXPECT_EQ(LoadErr("[Unit]\nFailureActionExitStatus=256\n[Service]\nExecStart=/bin/web\n"),
            "units/web.service:2: FailureActionExitStatus= must be 0..255 or empty, not '256'");
  EXPECT_EQ(LoadErr("[Unit]\nSuccessActionExitStatus=-1\n[Service]\nExecStart=/bin/web\n"),
            "units/web.service:2: SuccessActionExitStatus= must be 0..255 or empty, not '-1'");
}

}  // namespace
}  // namespace supd
