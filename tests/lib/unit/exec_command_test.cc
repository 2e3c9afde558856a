#include "lib/unit/exec_command.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "lib/unit/unit_loader.h"

namespace supd {
namespace {

using testing::ElementsAre;
using testing::IsEmpty;

std::vector<std::string> Split(std::string_view text, unsigned flags) {
  auto r = SplitWords(text, flags);
  EXPECT_TRUE(r.ok()) << text;
  return r.ok() ? *r : std::vector<std::string>{};
}

constexpr unsigned kExecFlags = kExtractUnquote | kExtractCUnescape;

TEST(ExtractWord, QuotesAndEscapes) {
  EXPECT_THAT(Split("a  b\tc", kExecFlags), ElementsAre("a", "b", "c"));
  EXPECT_THAT(Split("\"a b\" 'c d'", kExecFlags), ElementsAre("a b", "c d"));
  EXPECT_THAT(Split("x\"a b\"y", kExecFlags), ElementsAre("xa by"));
  EXPECT_THAT(Split("\"it's\" 'say \"hi\"'", kExecFlags), ElementsAre("it's", "say \"hi\""));
  // "\ " is not a C escape: relaxed it is kept; without unescaping the backslash just quotes.
  EXPECT_THAT(Split("a\\ b", kExecFlags | kExtractCUnescapeRelax), ElementsAre("a\\ b"));
  EXPECT_THAT(Split("a\\ b", kExtractUnquote), ElementsAre("a b"));
  EXPECT_THAT(Split("\"\"", kExecFlags), ElementsAre(""));
  EXPECT_THAT(Split("   ", kExecFlags), IsEmpty());
}

TEST(ExtractWord, CEscapes) {
  EXPECT_THAT(Split("\\n\\t\\\\\\\"\\s", kExecFlags), ElementsAre("\n\t\\\" "));
  EXPECT_THAT(Split("\\x41\\102\\u00e9\\U0001F600", kExecFlags),
              ElementsAre("AB\xc3\xa9\xf0\x9f\x98\x80"));
  EXPECT_THAT(Split("\"a\\tb\"", kExecFlags), ElementsAre("a\tb"));
  // Without kExtractCUnescape a backslash just takes the next character literally.
  EXPECT_THAT(Split("a\\nb", kExtractUnquote), ElementsAre("anb"));
}

TEST(ExtractWord, Errors) {
  std::string_view p = "\"open";
  EXPECT_EQ("unbalanced quoting", ExtractFirstWord(&p, kExecFlags).error().message);
  p = "\\q";
  EXPECT_EQ("invalid escape sequence", ExtractFirstWord(&p, kExecFlags).error().message);
  p = "\\x00";  // NUL is never produced
  EXPECT_FALSE(ExtractFirstWord(&p, kExecFlags).ok());
  // Relaxed: unknown escapes kept, unbalanced quotes accepted.
  EXPECT_THAT(Split("\\q", kExecFlags | kExtractCUnescapeRelax), ElementsAre("\\q"));
  EXPECT_THAT(Split("\"open", kExtractUnquote | kExtractRelax), ElementsAre("open"));
}

TEST(EnvName, Validity) {
  EXPECT_TRUE(IsValidEnvName("FOO_1"));
  EXPECT_TRUE(IsValidEnvName("_x"));
  EXPECT_FALSE(IsValidEnvName(""));
  EXPECT_FALSE(IsValidEnvName("1A"));
  EXPECT_FALSE(IsValidEnvName("A-B"));
  EXPECT_FALSE(IsValidEnvName("export FOO"));
}

class ExecLineTest : public testing::Test {
 protected:
  Result<std::vector<ExecCommand>> Parse(std::string_view value, std::string key = "ExecStart") {
    ExecLineContext ctx;
    ctx.key = std::move(key);
    ctx.file = "u.service";
    ctx.line = 7;
    ctx.resolve_specifiers = [](const std::string& w) -> Result<std::string> {
      if (w.find("%z") != std::string::npos) return Error{"unknown specifier '%z' in '" + w + "'"};
      std::string out;
      for (size_t i = 0; i < w.size(); ++i) {
        if (w[i] == '%' && i + 1 < w.size() && w[i + 1] == 'i') {
          out += "inst";
          ++i;
        } else if (w[i] == '%' && i + 1 < w.size() && w[i + 1] == '%') {
          out += '%';
          ++i;
        } else {
          out += w[i];
        }
      }
      return out;
    };
    ctx.warnings = &warnings_;
    return ParseExecLine(value, ctx);
  }
  std::vector<ExecCommand> Ok(std::string_view value) {
    auto r = Parse(value);
    EXPECT_TRUE(r.ok()) << value << ": " << (r.ok() ? "" : r.error().message);
    return r.ok() ? *r : std::vector<ExecCommand>{};
  }
  std::string Err(std::string_view value) {
    auto r = Parse(value);
    EXPECT_FALSE(r.ok()) << value;
    return r.ok() ? "" : r.error().message;
  }
  std::vector<Diagnostic> warnings_;
};

TEST_F(ExecLineTest, PlainCommand) {
  auto c = Ok("/usr/bin/web --port 8080 \"hello world\"");
  ASSERT_EQ(1u, c.size());
  EXPECT_EQ("/usr/bin/web", c[0].path);
  EXPECT_THAT(c[0].argv, ElementsAre("/usr/bin/web", "--port", "8080", "hello world"));
  EXPECT_EQ("u.service:7", c[0].source);
  EXPECT_FALSE(c[0].ignore_failure);
}

struct PrefixCase {
  std::string line;
  bool ignore, no_expand, full, no_setuid;
  std::vector<std::string> argv;
};

class ExecPrefixTest : public ExecLineTest, public testing::WithParamInterface<PrefixCase> {};

TEST_P(ExecPrefixTest, Flags) {
  const PrefixCase& pc = GetParam();
  auto c = Ok(pc.line);
  ASSERT_EQ(1u, c.size()) << pc.line;
  EXPECT_EQ("/bin/x", c[0].path) << pc.line;
  EXPECT_EQ(pc.ignore, c[0].ignore_failure) << pc.line;
  EXPECT_EQ(pc.no_expand, c[0].no_env_expand) << pc.line;
  EXPECT_EQ(pc.full, c[0].full_privileges) << pc.line;
  EXPECT_EQ(pc.no_setuid, c[0].no_setuid) << pc.line;
  EXPECT_EQ(pc.argv, c[0].argv) << pc.line;
}

INSTANTIATE_TEST_SUITE_P(
    Prefixes, ExecPrefixTest,
    testing::Values(PrefixCase{"-/bin/x a", true, false, false, false, {"/bin/x", "a"}},
                    PrefixCase{"@/bin/x name a", false, false, false, false, {"name", "a"}},
                    PrefixCase{":/bin/x $A", false, true, false, false, {"/bin/x", "$A"}},
                    PrefixCase{"+/bin/x", false, false, true, false, {"/bin/x"}},
                    PrefixCase{"!/bin/x", false, false, false, true, {"/bin/x"}},
                    PrefixCase{"!!/bin/x", false, false, false, false, {"/bin/x"}},
                    PrefixCase{"-@:/bin/x zero", true, true, false, false, {"zero"}},
                    PrefixCase{":@-+/bin/x zero", true, true, true, false, {"zero"}},
                    PrefixCase{"\"-/bin/x\" 'a b'", true, false, false, false, {"/bin/x", "a b"}},
                    PrefixCase{"//bin/./x", false, false, false, false, {"//bin/./x"}}));

TEST_F(ExecLineTest, PrefixErrors) {
  EXPECT_EQ("u.service:7: Neither a valid executable name nor an absolute path: @/bin/x",
            Err("@@/bin/x"));
  // A repeated '-' ends the prefixes too, but the '-' makes the bad command ignorable.
  EXPECT_THAT(*Parse("--/bin/x"), IsEmpty());
  ASSERT_EQ(1u, warnings_.size());
  EXPECT_EQ(
      "u.service:7: Neither a valid executable name nor an absolute path: -/bin/x; ignoring the "
      "command ('-' prefix)",
      warnings_[0].ToString());
  EXPECT_EQ("u.service:7: Neither a valid executable name nor an absolute path: !/bin/x",
            Err("+!/bin/x"));
  EXPECT_EQ("u.service:7: Empty executable path in ExecStart=: @", Err("@"));
  EXPECT_EQ("u.service:7: Empty executable name or zeroeth argument in ExecStart=: @/bin/x",
            Err("@/bin/x"));
  EXPECT_EQ("u.service:7: The '|' prefix (run via a shell) is not supported by supd",
            Err("|echo hi"));
}

TEST_F(ExecLineTest, PathErrors) {
  EXPECT_EQ("u.service:7: Neither a valid executable name nor an absolute path: bin/x.sh",
            Err("bin/x.sh"));
  EXPECT_EQ("u.service:7: Neither a valid executable name nor an absolute path: ./x", Err("./x"));
  EXPECT_EQ("u.service:7: Executable path specifies a directory: /usr/bin/", Err("/usr/bin/"));
  EXPECT_EQ("u.service:7: Executable name contains special characters: /bin/a\"b",
            Err("/bin/a\\\"b"));
  EXPECT_EQ(
      "u.service:7: Executable 'no-such-program-supd' not found in "
      "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      Err("no-such-program-supd --flag"));
}

TEST_F(ExecLineTest, BareNameIsResolvedAndArgv0KeptAsWritten) {
  auto c = Ok("true x");
  ASSERT_EQ(1u, c.size());
  EXPECT_EQ('/', c[0].path[0]);
  EXPECT_THAT(c[0].path, testing::EndsWith("/true"));
  EXPECT_THAT(c[0].argv, ElementsAre("true", "x"));
}

TEST_F(ExecLineTest, MissingProgramWithDashPrefixIsDroppedWithWarning) {
  auto c = Ok("-no-such-program-supd");
  EXPECT_THAT(c, IsEmpty());
  ASSERT_EQ(1u, warnings_.size());
  EXPECT_EQ(
      "u.service:7: Executable 'no-such-program-supd' not found in "
      "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin; ignoring the command ('-' "
      "prefix)",
      warnings_[0].ToString());
}

TEST_F(ExecLineTest, SemicolonSeparatesCommands) {
  auto c = Ok("/bin/a 1 ; /bin/b 2 ; -/bin/c");
  ASSERT_EQ(3u, c.size());
  EXPECT_THAT(c[0].argv, ElementsAre("/bin/a", "1"));
  EXPECT_THAT(c[1].argv, ElementsAre("/bin/b", "2"));
  EXPECT_THAT(c[2].argv, ElementsAre("/bin/c"));
  EXPECT_TRUE(c[2].ignore_failure);
}

TEST_F(ExecLineTest, SemicolonVariants) {
  // Quoted or escaped ';' is an argument; ';' glued to a word is part of it; trailing ';' ok.
  auto c = Ok("/bin/a \";\" \\; x; y ;");
  ASSERT_EQ(1u, c.size());
  EXPECT_THAT(c[0].argv, ElementsAre("/bin/a", ";", ";", "x;", "y"));
  // A leading lone ';' is skipped; ";;" is not a separator but an argument.
  c = Ok("; /bin/a ;; /bin/b");
  ASSERT_EQ(1u, c.size());
  EXPECT_THAT(c[0].argv, ElementsAre("/bin/a", ";;", "/bin/b"));
}

TEST_F(ExecLineTest, DoubleSemicolonIsAProgramName) {
  EXPECT_EQ(
      "u.service:7: Executable ';;' not found in "
      "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      Err("/bin/a ; ;; /bin/b"));
}

TEST_F(ExecLineTest, UnknownEscapeIsKeptWithWarning) {
  auto c = Ok("/bin/grep a\\d");
  ASSERT_EQ(1u, c.size());
  EXPECT_THAT(c[0].argv, ElementsAre("/bin/grep", "a\\d"));
  ASSERT_EQ(1u, warnings_.size());
  EXPECT_EQ("u.service:7: Ignoring unknown escape sequences: \"a\\d\"", warnings_[0].ToString());
}

TEST_F(ExecLineTest, UnbalancedQuotingIsAnError) {
  EXPECT_EQ("u.service:7: Unbalanced quoting in ExecStart=: /bin/echo \"oops",
            Err("/bin/echo \"oops"));
}

TEST_F(ExecLineTest, SpecifiersResolvedAfterUnquoting) {
  auto c = Ok("/bin/%i \"%i x\" 100%%");
  ASSERT_EQ(1u, c.size());
  EXPECT_EQ("/bin/inst", c[0].path);
  EXPECT_THAT(c[0].argv, ElementsAre("/bin/inst", "inst x", "100%"));
  EXPECT_EQ(
      "u.service:7: Failed to resolve specifiers in ExecStart=: unknown specifier '%z' in "
      "'a%z'",
      Err("/bin/x a%z"));
}

ExecCommand Cmd(std::vector<std::string> argv, bool no_expand = false) {
  ExecCommand c;
  c.path = argv[0];
  c.argv = std::move(argv);
  c.no_env_expand = no_expand;
  return c;
}

struct ExpandCase {
  std::vector<std::string> argv;
  std::vector<std::string> want;
};

class ExpandTest : public testing::TestWithParam<ExpandCase> {};

TEST_P(ExpandTest, LikeSystemd) {
  EnvList env = {{"FOO", "a b  c"},      {"ONE", "single"}, {"EMPTY", ""},
                 {"Q", "x \"y z\" 'w'"}, {"DUP", "first"},  {"DUP", "last"}};
  EXPECT_EQ(GetParam().want, ExpandCommand(Cmd(GetParam().argv), env));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ExpandTest,
    testing::Values(
        // $VAR alone splits on whitespace.
        ExpandCase{{"/bin/x", "$FOO"}, {"/bin/x", "a", "b", "c"}},
        // ${VAR} stays one word.
        ExpandCase{{"/bin/x", "${FOO}"}, {"/bin/x", "a b  c"}},
        ExpandCase{{"/bin/x", "--opt=${FOO}!"}, {"/bin/x", "--opt=a b  c!"}},
        // Unset or empty: $VAR gives no word, ${VAR} an empty word.
        ExpandCase{{"/bin/x", "$UNSET", "$EMPTY", "z"}, {"/bin/x", "z"}},
        ExpandCase{{"/bin/x", "${UNSET}", "${EMPTY}"}, {"/bin/x", "", ""}},
        // $$ is a literal $.
        ExpandCase{{"/bin/x", "$$", "$$FOO", "a$$b"}, {"/bin/x", "$", "$FOO", "a$b"}},
        // $VAR inside a word is not expanded (systemd does not enable braceless expansion).
        ExpandCase{{"/bin/x", "a$ONE", "$ONE/x"}, {"/bin/x", "a$ONE"}},
        // Invalid names resolve to nothing: a lone "$", "$1", "$FOO/x" vanish.
        ExpandCase{{"/bin/x", "$", "$1", "k"}, {"/bin/x", "k"}},
        // Quotes in the value group words.
        ExpandCase{{"/bin/x", "$Q"}, {"/bin/x", "x", "y z", "w"}},
        // Last assignment wins.
        ExpandCase{{"/bin/x", "$DUP", "${DUP}"}, {"/bin/x", "last", "last"}},
        // ${VAR:-default} is not supported in command lines: left as is.
        ExpandCase{{"/bin/x", "${ONE:-d}"}, {"/bin/x", "${ONE:-d}"}},
        // Unterminated ${ stays literal.
        ExpandCase{{"/bin/x", "a${ONE"}, {"/bin/x", "a${ONE"}},
        ExpandCase{{"/bin/x", "${ONE}${ONE}"}, {"/bin/x", "singlesingle"}}));

TEST(Expand, QuotedDollarVarStillSplitsBecauseQuotesAreGoneAtLoadTime) {
  // ExecStart=/bin/x "$FOO" is loaded as argv {"/bin/x", "$FOO"}.
  std::vector<Diagnostic> w;
  ExecLineContext ctx;
  ctx.key = "ExecStart";
  ctx.file = "f";
  ctx.line = 1;
  ctx.resolve_specifiers = [](const std::string& s) -> Result<std::string> { return s; };
  ctx.warnings = &w;
  auto c = ParseExecLine("/bin/x \"$FOO\"", ctx);
  ASSERT_TRUE(c.ok());
  EXPECT_THAT(ExpandCommand((*c)[0], {{"FOO", "a b"}}), ElementsAre("/bin/x", "a", "b"));
}

TEST(Expand, ColonPrefixDisablesExpansion) {
  EXPECT_THAT(ExpandCommand(Cmd({"/bin/x", "$FOO", "${FOO}"}, true), {{"FOO", "v"}}),
              ElementsAre("/bin/x", "$FOO", "${FOO}"));
}

}  // namespace
}  // namespace supd
