#include "lib/log/service_log.h"

#include <gtest/gtest.h>

#include "lib/log/output_reader.h"

namespace supd {
namespace {

TEST(EscapeLogText, KeepsUtf8AndTabsEscapesControlAndInvalidBytes) {
  EXPECT_EQ("héllo\twörld ✓", EscapeLogText("héllo\twörld ✓"));
  EXPECT_EQ("a\\\\b", EscapeLogText("a\\b"));
  EXPECT_EQ("\\x00\\x1b[31m\\x7f", EscapeLogText(std::string("\0\x1b[31m\x7f", 7)));
  EXPECT_EQ("\\xff\\xfe", EscapeLogText("\xff\xfe"));
  EXPECT_EQ("\\xc3", EscapeLogText("\xc3"));              // cut sequence
  EXPECT_EQ("\\xc0\\xaf", EscapeLogText("\xc0\xaf"));      // overlong '/'
  EXPECT_EQ("\\xed\\xa0\\x80", EscapeLogText("\xed\xa0\x80"));  // surrogate
}

TEST(ParseLogLine, RoundTripsFormat) {
  LogRecord r;
  r.time_usec = 1795000000123456;
  r.time = FormatRfc3339(r.time_usec);
  r.pid = 42;
  r.stream = "err";
  r.continued = true;
  r.text = "a: b: c";
  const std::string line = r.Format();
  EXPECT_EQ(r.time + " 42 err+: a: b: c", line);
  auto p = ParseLogLine(line);
  ASSERT_TRUE(p);
  EXPECT_EQ(r.time_usec, p->time_usec);
  EXPECT_EQ(42, p->pid);
  EXPECT_EQ("err", p->stream);
  EXPECT_TRUE(p->continued);
  EXPECT_EQ("a: b: c", p->text);
  EXPECT_FALSE(ParseLogLine("garbage"));
  EXPECT_FALSE(ParseLogLine(r.time + " x out: t"));
  EXPECT_FALSE(ParseLogLine(r.time + " 1 foo: t"));
}

TEST(ParseRfc3339, AcceptsTheFormsSupctlDocuments) {
  EXPECT_EQ(0, ParseRfc3339("1970-01-01T00:00:00Z"));
  EXPECT_EQ(1500000, ParseRfc3339("1970-01-01T00:00:01.5Z"));
  EXPECT_EQ(86400LL * 1000000, ParseRfc3339("1970-01-02"));
  EXPECT_EQ(3600LL * 1000000, ParseRfc3339("1970-01-01 02:00:00+01:00"));
  EXPECT_FALSE(ParseRfc3339("yesterday"));
  EXPECT_FALSE(ParseRfc3339("2026-13-01"));
  const int64_t now = RealtimeUsec();
  EXPECT_EQ(now, ParseRfc3339(FormatRfc3339(now)));
}

TEST(LineCut, NeverSplitsAUtf8Character) {
  std::string s = std::string(9, 'a') + "é";  // é is 2 bytes at 9..10
  EXPECT_EQ(9u, LineCut(s, 10));
  EXPECT_EQ(9u, LineCut(s, 9));
  EXPECT_EQ(5u, LineCut(std::string(20, 'x'), 5));
  EXPECT_EQ(4u, LineCut(std::string(8, '\x80'), 4));  // not UTF-8: cut where asked
}

}  // namespace
}  // namespace supd
