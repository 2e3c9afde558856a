#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "lib/unit/unit_loader.h"

namespace supd {
namespace {

using testing::ElementsAre;
using testing::IsEmpty;
using testing::Pair;

EnvList Parse(const std::string& content, std::vector<Diagnostic>* w = nullptr) {
  auto r = ParseEnvironmentFile(content, "/etc/web.env", w);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? *r : EnvList{};
}

TEST(EnvironmentFile, Basics) {
  EXPECT_THAT(Parse("A=1\nB = two  \n  C=3"),
              ElementsAre(Pair("A", "1"), Pair("B", "two"), Pair("C", "3")));
  EXPECT_THAT(Parse("EMPTY=\nX"), ElementsAre(Pair("EMPTY", "")));
}

TEST(EnvironmentFile, CommentsOnlyAtLineStart) {
  EXPECT_THAT(Parse("# c\n  ; c2\nA=1 # not a comment\n"),
              ElementsAre(Pair("A", "1 # not a comment")));
}

TEST(EnvironmentFile, Quotes) {
  EXPECT_THAT(Parse("A='x  y'\nB=\"p \\\"q\\\" \\$HOME \\n\"\nC='a'b\"c\"\n"),
              ElementsAre(Pair("A", "x  y"), Pair("B", "p \"q\" $HOME \\n"), Pair("C", "ab\"c\"")));
  // (Quotes only open a quoted part at the start of the value or right after another one.)
  EXPECT_THAT(Parse("M='line1\nline2'\n"), ElementsAre(Pair("M", "line1\nline2")));
}

TEST(EnvironmentFile, EscapesAndContinuation) {
  EXPECT_THAT(Parse("A=a\\ b\\\\c\nB=one \\\ntwo\nC=\"x\\\ny\"\n"),
              ElementsAre(Pair("A", "a b\\c"), Pair("B", "one two"), Pair("C", "xy")));
}

TEST(EnvironmentFile, CommentDoesNotContinue) {
  // Since systemd 254 a backslash at the end of a comment does not continue it.
  EXPECT_THAT(Parse("# comment \\\nA=1\n"), ElementsAre(Pair("A", "1")));
}

TEST(EnvironmentFile, LaterAssignmentWinsInPlace) {
  EXPECT_THAT(Parse("A=1\nB=2\nA=3\n"), ElementsAre(Pair("A", "3"), Pair("B", "2")));
}

TEST(EnvironmentFile, InvalidNamesSkippedWithWarning) {
  std::vector<Diagnostic> w;
  EXPECT_THAT(Parse("export FOO=bar\n1X=2\nOK=1\n", &w), ElementsAre(Pair("OK", "1")));
  ASSERT_EQ(2u, w.size());
  EXPECT_EQ("/etc/web.env:1: Ignoring invalid environment assignment 'export FOO=bar'",
            w[0].ToString());
  EXPECT_EQ("/etc/web.env:2: Ignoring invalid environment assignment '1X=2'", w[1].ToString());
}

TEST(EnvironmentFile, Errors) {
  EXPECT_EQ("/etc/web.env: environment file contains a NUL byte",
            ParseEnvironmentFile(std::string("A=\0", 3), "/etc/web.env").error().message);
  EXPECT_EQ("/etc/web.env:2: invalid UTF-8 in the value of B",
            ParseEnvironmentFile("A=1\nB=\xff\n", "/etc/web.env").error().message);
}

class ResolveEnvTest : public testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/supd-envtest-XXXXXX";
    ASSERT_NE(nullptr, mkdtemp(tmpl));
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& content) {
    std::string p = dir_ + "/" + name;
    std::ofstream(p) << content;
    return p;
  }
  std::string dir_;
};

TEST_F(ResolveEnvTest, FilesOverrideEnvironmentInOrder) {
  ServiceSpec spec;
  spec.environment = {{"A", "env"}, {"B", "env"}};
  spec.environment_files = {{Write("1.env", "B=one\nC=one\n"), false},
                            {dir_ + "/missing.env", true},
                            {Write("2.env", "C=two\n"), false}};
  auto r = ResolveUnitEnvironment(spec);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_THAT(*r, ElementsAre(Pair("A", "env"), Pair("B", "one"), Pair("C", "two")));
}

TEST_F(ResolveEnvTest, MissingRequiredFileIsAnError) {
  ServiceSpec spec;
  spec.environment_files = {{dir_ + "/missing.env", false}};
  auto r = ResolveUnitEnvironment(spec);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ("open " + dir_ + "/missing.env: No such file or directory", r.error().message);
}

TEST_F(ResolveEnvTest, GlobsExpandInOrder) {
  Write("b.env", "X=b\n");
  Write("a.env", "X=a\nY=a\n");
  ServiceSpec spec;
  spec.environment_files = {{dir_ + "/*.env", false}};
  auto r = ResolveUnitEnvironment(spec);
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(*r, ElementsAre(Pair("X", "b"), Pair("Y", "a")));
}

}  // namespace
}  // namespace supd
