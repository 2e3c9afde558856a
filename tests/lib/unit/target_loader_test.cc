#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "lib/unit/target_spec.h"

#include "tests/lib/unit/loader_test_util.h"

namespace supd {
namespace {

using testing::ElementsAre;
using testing::IsEmpty;

SpecifierContext Ctx() { return testing_util::TestSpecifiers(); }

TargetSpec Load(const std::string& text, const std::string& name = "app.target") {
  return testing_util::LoadOk<TargetSpec>(ParseTargetText, text, name);
}

std::string LoadErr(const std::string& text, const std::string& name = "app.target") {
  return testing_util::LoadError(ParseTargetText, text, name);
}

using testing_util::Warnings;

TEST(TargetLoader, Defaults) {
  TargetSpec t = Load("[Unit]\nDescription=App\n");
  EXPECT_EQ("app.target", t.name);
  EXPECT_EQ("units/app.target", t.source_path);
  EXPECT_EQ("App", t.description);
  EXPECT_THAT(t.documentation, IsEmpty());
  EXPECT_THAT(t.deps.wants, IsEmpty());
  EXPECT_TRUE(t.deps.default_dependencies);
  EXPECT_FALSE(t.deps.stop_when_unneeded);
  EXPECT_TRUE(t.install.empty());
  EXPECT_EQ("", t.install.default_instance);
  EXPECT_THAT(t.dropin_paths, IsEmpty());
  EXPECT_THAT(t.warnings, IsEmpty());
}

TEST(TargetLoader, FullTarget) {
  TargetSpec t = Load(R"([Unit]
Description=App on %H
Documentation=https://example.com/app man:app(7)
Wants=api.service worker@1.service
Requires=db.service
Requisite=net.service
BindsTo=cache.service
PartOf=site.target
Conflicts=maintenance.target
Upholds=metrics.service
After=db.service network-online.target
Before=late.target
DefaultDependencies=no
StopWhenUnneeded=yes
X-Custom=ignored

[Install]
WantedBy=multi-user.target
RequiredBy=site.target
Alias=application.target
Also=db.service
)");
  EXPECT_EQ("App on box", t.description);
  EXPECT_THAT(t.documentation, ElementsAre("https://example.com/app", "man:app(7)"));
  EXPECT_THAT(t.deps.wants, ElementsAre("api.service", "worker@1.service"));
  EXPECT_THAT(t.deps.requires_, ElementsAre("db.service"));
  EXPECT_THAT(t.deps.requisite, ElementsAre("net.service"));
  EXPECT_THAT(t.deps.binds_to, ElementsAre("cache.service"));
  EXPECT_THAT(t.deps.part_of, ElementsAre("site.target"));
  EXPECT_THAT(t.deps.conflicts, ElementsAre("maintenance.target"));
  EXPECT_THAT(t.deps.upholds, ElementsAre("metrics.service"));
  EXPECT_THAT(t.deps.after, ElementsAre("db.service", "network-online.target"));
  EXPECT_THAT(t.deps.before, ElementsAre("late.target"));
  EXPECT_FALSE(t.deps.default_dependencies);
  EXPECT_TRUE(t.deps.stop_when_unneeded);
  EXPECT_THAT(t.install.wanted_by, ElementsAre("multi-user.target"));
  EXPECT_THAT(t.install.required_by, ElementsAre("site.target"));
  EXPECT_THAT(t.install.aliases, ElementsAre("application.target"));
  EXPECT_THAT(t.install.also, ElementsAre("db.service"));
  EXPECT_THAT(t.warnings, IsEmpty());
}

// As systemd: an empty dependency assignment does nothing; an empty WantedBy=, RequiredBy=,
// Alias= or Documentation= resets the list, an empty Also= does not.
TEST(TargetLoader, EmptyAssignments) {
  TargetSpec t = Load(R"([Unit]
Documentation=man:a(1)
Documentation=
Documentation=man:b(1)
Wants=a.service
Wants=
Wants=b.service
Requisite=a.service
Requisite=
PartOf=a.target
PartOf=
Conflicts=a.service
Conflicts=
Upholds=a.service
Upholds=
[Install]
WantedBy=a.target
WantedBy=
WantedBy=b.target
RequiredBy=a.target
RequiredBy=
Alias=a.target
Alias=
Alias=b.target
Also=a.service
Also=
Also=b.service
)");
  EXPECT_THAT(t.documentation, ElementsAre("man:b(1)"));
  EXPECT_THAT(t.deps.wants, ElementsAre("a.service", "b.service"));
  EXPECT_THAT(t.deps.requisite, ElementsAre("a.service"));
  EXPECT_THAT(t.deps.part_of, ElementsAre("a.target"));
  EXPECT_THAT(t.deps.conflicts, ElementsAre("a.service"));
  EXPECT_THAT(t.deps.upholds, ElementsAre("a.service"));
  EXPECT_THAT(t.install.wanted_by, ElementsAre("b.target"));
  EXPECT_THAT(t.install.required_by, IsEmpty());
  EXPECT_THAT(t.install.aliases, ElementsAre("b.target"));
  EXPECT_THAT(t.install.also, ElementsAre("a.service", "b.service"));
  EXPECT_THAT(t.warnings, IsEmpty());
}

TEST(TargetLoader, InvalidNamesAndUrlsAreSkippedWithWarnings) {
  TargetSpec t = Load(R"([Unit]
Wants=ok.service bad..name nope.txt
Documentation=ftp://x man:ok(1)
[Install]
WantedBy=-bad multi-user.target
)");
  EXPECT_THAT(t.deps.wants, ElementsAre("ok.service"));
  EXPECT_THAT(t.documentation, ElementsAre("man:ok(1)"));
  EXPECT_THAT(t.install.wanted_by, ElementsAre("multi-user.target"));
  EXPECT_THAT(Warnings(t),
              ElementsAre("units/app.target:2: Invalid unit name 'bad..name' in Wants=, ignoring",
                          "units/app.target:2: Invalid unit name 'nope.txt' in Wants=, ignoring",
                          "units/app.target:3: Invalid URL 'ftp://x' in Documentation=, ignoring",
                          "units/app.target:5: Invalid unit name '-bad' in WantedBy=, ignoring"));
}

TEST(TargetLoader, InvalidBooleansAndSpecifiersAreErrors) {
  EXPECT_EQ("units/app.target:2: Invalid DefaultDependencies= value 'maybe'",
            LoadErr("[Unit]\nDefaultDependencies=maybe\n"));
  EXPECT_EQ("units/app.target:2: Invalid StopWhenUnneeded= value ''",
            LoadErr("[Unit]\nStopWhenUnneeded=\n"));
  EXPECT_EQ(
      "units/app.target:2: Failed to resolve specifiers in Wants=: unknown specifier '%z' in "
      "'a%z.service'",
      LoadErr("[Unit]\nWants=a%z.service\n"));
}

TEST(TargetLoader, UnsupportedUnknownAndMisplacedKeysWarn) {
  TargetSpec t = Load(R"([Unit]
AllowIsolate=yes
RefuseManualStart=yes
OnFailure=alert.service
ConditionPathExists=/etc/app
AssertVirtualization=container
ConditionBogus=1
JobTimeoutSec=30
JobRunningTimeoutSec=10
JobTimeoutAction=reboot
Frobnicate=1
WantedBy=multi-user.target
[Install]
UpheldBy=x.target
Wants=a.service
X-Ours=1
[Service]
ExecStart=/bin/true
[X-Supd]
Anything=1
)");
  EXPECT_THAT(
      Warnings(t),
      ElementsAre(
          // The syntax's warnings come first: the whole file is read before it is applied.
          "units/app.target:17: Unknown section [Service], ignoring",
          "units/app.target:2: AllowIsolate= is not supported by supd for targets, ignoring",
          "units/app.target:3: RefuseManualStart= is not supported by supd for targets, ignoring",
          "units/app.target:4: OnFailure= is not supported by supd for targets, ignoring",
          "units/app.target:5: ConditionPathExists= is not supported by supd for targets, "
          "ignoring",
          "units/app.target:6: AssertVirtualization= is not supported by supd for targets, "
          "ignoring",
          "units/app.target:7: Unknown key 'ConditionBogus' in section [Unit], ignoring",
          "units/app.target:8: JobTimeoutSec= is ignored: supd does not apply job timeouts",
          "units/app.target:9: JobRunningTimeoutSec= is ignored: supd does not apply job "
          "timeouts",
          "units/app.target:10: JobTimeoutAction= is ignored: supd does not apply job timeouts",
          "units/app.target:11: Unknown key 'Frobnicate' in section [Unit], ignoring",
          "units/app.target:12: Unknown key 'WantedBy' in section [Unit], ignoring "
          "(WantedBy= belongs in the [Install] section)",
          "units/app.target:14: UpheldBy= is not supported by supd for targets, ignoring",
          "units/app.target:15: Unknown key 'Wants' in section [Install], ignoring "
          "(Wants= belongs in the [Unit] section)"));
  EXPECT_THAT(t.install.wanted_by, IsEmpty());
  EXPECT_THAT(t.deps.wants, IsEmpty());
}

TEST(TargetLoader, DefaultInstance) {
  TargetSpec t = Load("[Install]\nDefaultInstance=eu\n", "site@.target");
  EXPECT_EQ("eu", t.install.default_instance);
  t = Load("[Install]\nDefaultInstance=eu\nDefaultInstance=\n", "site@.target");
  EXPECT_EQ("", t.install.default_instance);
  EXPECT_THAT(t.warnings, IsEmpty());
  // As systemd: an instance read from its template's file ignores it silently.
  t = Load("[Install]\nDefaultInstance=eu\n", "site@us.target");
  EXPECT_EQ("", t.install.default_instance);
  EXPECT_THAT(t.warnings, IsEmpty());
  t = Load("[Install]\nDefaultInstance=eu\n");
  EXPECT_EQ("", t.install.default_instance);
  EXPECT_THAT(Warnings(t),
              ElementsAre("units/app.target:2: DefaultInstance= only makes sense for template "
                          "units, ignoring"));
  t = Load("[Install]\nDefaultInstance=eu\nDefaultInstance=a/b\n", "site@.target");
  EXPECT_EQ("eu", t.install.default_instance);
  EXPECT_THAT(Warnings(t),
              ElementsAre("units/site@.target:3: Invalid DefaultInstance= value 'a/b', ignoring"));
}

TEST(TargetLoader, BadUnitNames) {
  EXPECT_EQ("'app.service' is not a .target unit", LoadErr("[Unit]\n", "app.service"));
  EXPECT_EQ("Invalid unit name 'a b.target'", LoadErr("[Unit]\n", "a b.target"));
}

TEST(TargetLoader, SyntaxErrorsAreErrors) {
  EXPECT_EQ("units/app.target:1: Assignment outside of any section", LoadErr("Wants=a.service\n"));
}

class TargetLoaderFiles : public testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        std::filesystem::temp_directory_path() / ("supd-target-loader-" + std::to_string(getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void Write(const std::string& rel, const std::string& text) {
    std::filesystem::create_directories((dir_ / rel).parent_path());
    std::ofstream(dir_ / rel) << text;
  }
  Result<TargetSpec> LoadFile(const std::string& name) {
    return LoadTargetFile((dir_ / name).string(), name, Ctx());
  }
  std::filesystem::path dir_;
};

TEST_F(TargetLoaderFiles, LoadsFileAndDropins) {
  Write("app.target", "[Unit]\nDescription=App\nWants=api.service\n[Install]\nWantedBy=a.target\n");
  Write("app.target.d/10-more.conf", "[Unit]\nWants=worker.service\nAllowIsolate=yes\n");
  Write("app.target.d/20-install.conf", "[Install]\nWantedBy=\nWantedBy=multi-user.target\n");
  Write("app.target.d/30-masked.conf", "[Unit]\nWants=never.service\n");
  std::filesystem::remove(dir_ / "app.target.d/30-masked.conf");
  std::filesystem::create_symlink("/dev/null", dir_ / "app.target.d/30-masked.conf");
  auto r = LoadFile("app.target");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ("App", r->description);
  EXPECT_THAT(r->deps.wants, ElementsAre("api.service", "worker.service"));
  EXPECT_THAT(r->install.wanted_by, ElementsAre("multi-user.target"));
  EXPECT_THAT(r->dropin_paths, ElementsAre((dir_ / "app.target.d/10-more.conf").string(),
                                           (dir_ / "app.target.d/20-install.conf").string()));
  ASSERT_EQ(1u, r->warnings.size());
  EXPECT_EQ((dir_ / "app.target.d/10-more.conf").string() +
                ":3: AllowIsolate= is not supported by supd for targets, ignoring",
            r->warnings[0].ToString());
}

TEST_F(TargetLoaderFiles, ErrorsInDropinsNameTheDropin) {
  Write("app.target", "[Unit]\nWants=api.service\n");
  Write("app.target.d/x.conf", "[Unit]\nStopWhenUnneeded=perhaps\n");
  auto r = LoadFile("app.target");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(
      (dir_ / "app.target.d/x.conf").string() + ":2: Invalid StopWhenUnneeded= value 'perhaps'",
      r.error().message);
}

TEST_F(TargetLoaderFiles, MissingAndMaskedFiles) {
  auto missing = LoadFile("none.target");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ("open " + (dir_ / "none.target").string() + ": No such file or directory",
            missing.error().message);
  Write("empty.target", "");
  auto empty = LoadFile("empty.target");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ((dir_ / "empty.target").string() +
                ": Unit empty.target is masked (the file is empty or /dev/null)",
            empty.error().message);
  std::filesystem::create_symlink("/dev/null", dir_ / "null.target");
  auto null = LoadFile("null.target");
  ASSERT_FALSE(null.ok());
  EXPECT_EQ((dir_ / "null.target").string() +
                ": Unit null.target is masked (the file is empty or /dev/null)",
            null.error().message);
}

}  // namespace
}  // namespace supd
