#include "lib/unit/unit_syntax.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace supd {
namespace {

const std::vector<std::string> kKnown = {"Unit", "Service", "Install", "X-Supd"};

struct Parsed {
  std::vector<UnitAssignment> assignments;
  std::vector<Diagnostic> warnings;
};

Parsed ParseOk(std::string_view text) {
  Parsed p;
  auto r = ParseUnitSyntax(text, "u.service", kKnown, &p.warnings);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  if (r.ok()) p.assignments = *r;
  return p;
}

std::string ParseErr(std::string_view text) {
  std::vector<Diagnostic> w;
  auto r = ParseUnitSyntax(text, "u.service", kKnown, &w);
  EXPECT_FALSE(r.ok());
  return r.ok() ? "" : r.error().message;
}

std::string Str(const UnitAssignment& a) {
  return a.section + "." + a.key + "=" + a.value + "@" + std::to_string(a.line);
}

std::vector<std::string> Strs(const Parsed& p) {
  std::vector<std::string> out;
  for (const auto& a : p.assignments) out.push_back(Str(a));
  return out;
}

std::vector<std::string> Warnings(const Parsed& p) {
  std::vector<std::string> out;
  for (const auto& w : p.warnings) out.push_back(w.ToString());
  return out;
}

using testing::ElementsAre;
using testing::IsEmpty;

TEST(UnitSyntax, SectionsCommentsAndTrimming) {
  auto p = ParseOk(
      "# comment\n"
      "; another\n"
      "[Unit]\n"
      "  Description =  My web  \n"
      "   # indented comment\n"
      "\n"
      "[Service]\n"
      "ExecStart=/bin/x # not a comment\n"
      "Environment=A=1;B=2\n");
  EXPECT_THAT(Strs(p),
              ElementsAre("Unit.Description=My web@4", "Service.ExecStart=/bin/x # not a comment@8",
                          "Service.Environment=A=1;B=2@9"));
  EXPECT_THAT(p.warnings, IsEmpty());
}

TEST(UnitSyntax, ContinuationJoinsWithASpace) {
  auto p = ParseOk(
      "[Service]\n"
      "ExecStart=/bin/x \\\n"
      "    --a \\\n"
      "    --b\n"
      "User=u\n");
  EXPECT_THAT(Strs(p),
              ElementsAre("Service.ExecStart=/bin/x      --a      --b@4", "Service.User=u@5"));
}

TEST(UnitSyntax, CommentInsideContinuationIsSkipped) {
  auto p = ParseOk(
      "[Service]\n"
      "ExecStart=/bin/x \\\n"
      "# --disabled \\\n"
      "  ; also a comment\n"
      "  --kept\n");
  EXPECT_THAT(Strs(p), ElementsAre("Service.ExecStart=/bin/x    --kept@5"));
}

TEST(UnitSyntax, EscapedBackslashAtEndIsNotAContinuation) {
  auto p = ParseOk(
      "[Service]\n"
      "ExecStart=/bin/x a\\\\\n"
      "User=u\n");
  EXPECT_THAT(Strs(p), ElementsAre("Service.ExecStart=/bin/x a\\\\@2", "Service.User=u@3"));
}

TEST(UnitSyntax, ContinuationAtEndOfFile) {
  auto p = ParseOk("[Service]\nExecStart=/bin/x \\");
  EXPECT_THAT(Strs(p), ElementsAre("Service.ExecStart=/bin/x@2"));
}

TEST(UnitSyntax, CrLfAndBom) {
  auto p = ParseOk("\xef\xbb\xbf[Unit]\r\nDescription=d\r\n");
  EXPECT_THAT(Strs(p), ElementsAre("Unit.Description=d@2"));
}

TEST(UnitSyntax, EmptyValueIsKept) {
  auto p = ParseOk("[Service]\nExecStartPre=\nExecStartPre =  \n");
  EXPECT_THAT(Strs(p), ElementsAre("Service.ExecStartPre=@2", "Service.ExecStartPre=@3"));
}

TEST(UnitSyntax, UnknownAndExtensionSections) {
  auto p = ParseOk(
      "[Unit]\n"
      "Description=d\n"
      "[Socket]\n"
      "ListenStream=80\n"
      "[X-Other]\n"
      "Foo=bar\n"
      "[X-Supd]\n"
      "Thing=1\n");
  EXPECT_THAT(Strs(p), ElementsAre("Unit.Description=d@2", "X-Supd.Thing=1@8"));
  EXPECT_THAT(Warnings(p), ElementsAre("u.service:3: Unknown section [Socket], ignoring"));
}

TEST(UnitSyntax, WarningsForMalformedLines) {
  auto p = ParseOk("[Service]\nNoEquals\n=value\nUser=\xff\n");
  EXPECT_THAT(Warnings(p), ElementsAre("u.service:2: Missing '=', ignoring line",
                                       "u.service:3: Missing key name before '=', ignoring line",
                                       "u.service:4: Invalid UTF-8 in line, ignoring"));
  EXPECT_THAT(p.assignments, IsEmpty());
}

TEST(UnitSyntax, Errors) {
  EXPECT_EQ("u.service:2: Assignment outside of any section", ParseErr("\nDescription=x\n"));
  EXPECT_EQ("u.service:1: Invalid section header '[Unit'", ParseErr("[Unit\n"));
  EXPECT_EQ("u.service:1: Bad characters in section header '[Un\"it]'", ParseErr("[Un\"it]\n"));
  EXPECT_EQ("u.service:3: Line contains a NUL byte",
            ParseErr(std::string_view("[Unit]\n\nA=b\0c\n", 13)));
}

TEST(UnitSyntax, LinesInUnknownSectionAreNotOutsideSection) {
  auto p = ParseOk("[Foo]\nA=b\n");
  EXPECT_THAT(p.assignments, IsEmpty());
  EXPECT_THAT(Warnings(p), ElementsAre("u.service:1: Unknown section [Foo], ignoring"));
}

TEST(Utf8, Validity) {
  EXPECT_TRUE(IsValidUtf8("h\xc3\xa9llo \xf0\x9f\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xe2\x82"));          // truncated
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // above U+10FFFF
}

TEST(ReadUnitFile, MissingFile) {
  EXPECT_EQ("open /nonexistent/supd/x.service: No such file or directory",
            ReadUnitFile("/nonexistent/supd/x.service").error().message);
}

}  // namespace
}  // namespace supd
