#include "lib/unit/conditions.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "lib/unit/unit_loader.h"

namespace supd {
namespace {

class ConditionsTest : public testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/supd-condtest-XXXXXX";
    ASSERT_NE(nullptr, mkdtemp(tmpl));
    dir_ = tmpl;
    std::ofstream(dir_ + "/file") << "content";
    std::ofstream(dir_ + "/empty");
    std::ofstream(dir_ + "/script") << "#!/bin/sh\n";
    chmod((dir_ + "/script").c_str(), 0755);
    std::filesystem::create_directory(dir_ + "/emptydir");
    std::filesystem::create_directory(dir_ + "/hiddenonly");
    std::ofstream(dir_ + "/hiddenonly/.hidden") << "x";
    std::filesystem::create_symlink(dir_ + "/file", dir_ + "/link");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static Condition C(std::string name, std::string value, bool negate = false,
                     bool trigger = false) {
    Condition c;
    c.is_assert = name.rfind("Assert", 0) == 0;
    c.name = std::move(name);
    c.value = std::move(value);
    c.negate = negate;
    c.trigger = trigger;
    c.source = "u.service:4";
    return c;
  }
  bool Test(const std::string& name, const std::string& rel, bool negate = false) {
    return TestCondition(C(name, rel[0] == '/' ? rel : dir_ + "/" + rel, negate));
  }
  std::string dir_;
};

TEST_F(ConditionsTest, PathTests) {
  EXPECT_TRUE(Test("ConditionPathExists", "file"));
  EXPECT_FALSE(Test("ConditionPathExists", "nope"));
  EXPECT_TRUE(Test("ConditionPathExists", "nope", /*negate=*/true));
  EXPECT_TRUE(Test("ConditionPathExistsGlob", "fi*"));
  EXPECT_FALSE(Test("ConditionPathExistsGlob", "zz*"));
  EXPECT_TRUE(Test("ConditionPathIsDirectory", "emptydir"));
  EXPECT_FALSE(Test("ConditionPathIsDirectory", "file"));
  EXPECT_TRUE(Test("ConditionPathIsSymbolicLink", "link"));
  EXPECT_FALSE(Test("ConditionPathIsSymbolicLink", "file"));
  EXPECT_TRUE(Test("ConditionFileNotEmpty", "file"));
  EXPECT_FALSE(Test("ConditionFileNotEmpty", "empty"));
  EXPECT_FALSE(Test("ConditionFileNotEmpty", "emptydir"));
  EXPECT_TRUE(Test("ConditionDirectoryNotEmpty", ""));
  EXPECT_FALSE(Test("ConditionDirectoryNotEmpty", "emptydir"));
  EXPECT_FALSE(Test("ConditionDirectoryNotEmpty", "hiddenonly"));
  EXPECT_FALSE(Test("ConditionDirectoryNotEmpty", "file"));
  EXPECT_TRUE(Test("ConditionFileIsExecutable", "script"));
  EXPECT_FALSE(Test("ConditionFileIsExecutable", "file"));
  EXPECT_FALSE(Test("ConditionFileIsExecutable", "emptydir"));
  EXPECT_TRUE(Test("ConditionPathIsReadWrite", "file"));
  EXPECT_FALSE(Test("ConditionPathIsReadWrite", "nope"));
}

TEST_F(ConditionsTest, UserHostEnvironment) {
  EXPECT_TRUE(TestCondition(C("ConditionUser", std::to_string(getuid()))));
  EXPECT_FALSE(TestCondition(C("ConditionUser", "4000000")));
  EXPECT_FALSE(TestCondition(C("ConditionUser", "no-such-user-supd")));
  // As systemd's parse_uid(): a leading zero makes it a name (no user has), and a number past
  // uid_t never wraps to an ID.
  EXPECT_FALSE(TestCondition(C("ConditionUser", "0" + std::to_string(getuid()))));
  EXPECT_FALSE(TestCondition(C("ConditionUser", std::to_string(4294967296ULL + getuid()))));
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  EXPECT_TRUE(TestCondition(C("ConditionHost", host)));
  EXPECT_TRUE(TestCondition(C("ConditionHost", "*")));
  EXPECT_FALSE(TestCondition(C("ConditionHost", "no-such-host-supd")));
  setenv("SUPD_COND_TEST", "v1", 1);
  EXPECT_TRUE(TestCondition(C("ConditionEnvironment", "SUPD_COND_TEST")));
  EXPECT_TRUE(TestCondition(C("ConditionEnvironment", "SUPD_COND_TEST=v1")));
  EXPECT_FALSE(TestCondition(C("ConditionEnvironment", "SUPD_COND_TEST=v2")));
  EXPECT_FALSE(TestCondition(C("ConditionEnvironment", "SUPD_COND_TES")));
  unsetenv("SUPD_COND_TEST");
}

TEST_F(ConditionsTest, AllNonTriggerMustHold) {
  ServiceSpec spec;
  spec.conditions = {C("ConditionPathExists", dir_ + "/file"),
                     C("ConditionPathExists", dir_ + "/nope")};
  ConditionResult r = EvaluateConditions(spec);
  EXPECT_FALSE(r.start);
  EXPECT_FALSE(r.assert_failed);
  EXPECT_EQ("ConditionPathExists=" + dir_ + "/nope was not met (u.service:4)", r.message);
}

TEST_F(ConditionsTest, OneTriggerSuffices) {
  ServiceSpec spec;
  spec.conditions = {C("ConditionPathExists", dir_ + "/nope", false, true),
                     C("ConditionPathExists", dir_ + "/file", false, true)};
  EXPECT_TRUE(EvaluateConditions(spec).start);
  spec.conditions[1].value = dir_ + "/nope2";
  ConditionResult r = EvaluateConditions(spec);
  EXPECT_FALSE(r.start);
  EXPECT_EQ("None of the trigger conditions were met: ConditionPathExists=|" + dir_ +
                "/nope (u.service:4), ConditionPathExists=|" + dir_ + "/nope2 (u.service:4)",
            r.message);
}

TEST_F(ConditionsTest, AssertFailureIsReportedAsSuch) {
  ServiceSpec spec;
  spec.conditions = {C("ConditionPathExists", dir_ + "/file"),
                     C("AssertPathExists", dir_ + "/nope", true)};
  EXPECT_TRUE(EvaluateConditions(spec).start);  // negated: /nope does not exist → holds
  spec.conditions[1].negate = false;
  ConditionResult r = EvaluateConditions(spec);
  EXPECT_FALSE(r.start);
  EXPECT_TRUE(r.assert_failed);
  EXPECT_EQ("AssertPathExists=" + dir_ + "/nope was not met (u.service:4)", r.message);
}

TEST_F(ConditionsTest, FailedConditionWinsOverAssert) {
  ServiceSpec spec;
  spec.conditions = {C("AssertPathExists", dir_ + "/nope"),
                     C("ConditionPathExists", dir_ + "/nope")};
  ConditionResult r = EvaluateConditions(spec);
  EXPECT_FALSE(r.start);
  EXPECT_FALSE(r.assert_failed);
}

TEST_F(ConditionsTest, NoConditionsStart) {
  ConditionResult r = EvaluateConditions(ServiceSpec{});
  EXPECT_TRUE(r.start);
  EXPECT_EQ("", r.message);
}

TEST(ConditionTypes, Lists) {
  EXPECT_TRUE(IsSupportedConditionType("PathExists"));
  EXPECT_FALSE(IsSupportedConditionType("Virtualization"));
  EXPECT_TRUE(IsKnownUnsupportedConditionType("Virtualization"));
  EXPECT_TRUE(ConditionTakesPath("FileNotEmpty"));
  EXPECT_FALSE(ConditionTakesPath("Host"));
}

}  // namespace
}  // namespace supd
