#include "lib/health/http_response.h"

#include <gtest/gtest.h>

#include <string>

#include "lib/health/span_text.h"

namespace supd {
namespace {

using namespace std::chrono_literals;
using Parse = HttpHead::Parse;

constexpr size_t kMax = 16 * 1024;

TEST(ProbeHttpResponseTest, StatusLineAndHeaders) {
  const std::string r =
      "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\ncontent-length: 7\r\n\r\n"
      "warming";
  const HttpHead h = ParseHttpHead(r, kMax);
  ASSERT_EQ(Parse::kComplete, h.parse) << h.bad;
  EXPECT_EQ(503u, h.code);
  EXPECT_EQ("Service Unavailable", h.reason);
  ASSERT_TRUE(h.content_length);
  EXPECT_EQ(7u, *h.content_length);
  EXPECT_FALSE(h.chunked);
  EXPECT_EQ("warming", r.substr(h.body_start));
}

TEST(ProbeHttpResponseTest, NoReasonBareNewlinesAndHttp10) {
  HttpHead h = ParseHttpHead("HTTP/1.0 200\n\n", kMax);
  ASSERT_EQ(Parse::kComplete, h.parse) << h.bad;
  EXPECT_EQ(200u, h.code);
  EXPECT_EQ("", h.reason);
  h = ParseHttpHead("HTTP/1.1 302 \r\nLocation: /x\r\n\r\n", kMax);
  ASSERT_EQ(Parse::kComplete, h.parse) << h.bad;
  EXPECT_EQ(302u, h.code);
  EXPECT_EQ("", h.reason);
}

TEST(ProbeHttpResponseTest, IncompleteUntilTheEmptyLine) {
  EXPECT_EQ(Parse::kIncomplete, ParseHttpHead("", kMax).parse);
  EXPECT_EQ(Parse::kIncomplete, ParseHttpHead("HTT", kMax).parse);
  HttpHead h = ParseHttpHead("HTTP/1.1 200 OK", kMax);
  EXPECT_EQ(Parse::kIncomplete, h.parse);
  EXPECT_FALSE(h.status_line_read);
  h = ParseHttpHead("HTTP/1.1 200 OK\r\nServer: x\r\n", kMax);
  EXPECT_EQ(Parse::kIncomplete, h.parse);
  EXPECT_TRUE(h.status_line_read);
}

TEST(ProbeHttpResponseTest, GarbageSaysWhatCame) {
  EXPECT_EQ("not a status line: \"SSH-2.0-OpenSSH_9.2\"",
            ParseHttpHead("SSH-2.0-OpenSSH_9.2\r\n", kMax).bad);
  // Known at the first byte that differs, without a line end.
  EXPECT_EQ("not a status line: \"hello\"", ParseHttpHead("hello", kMax).bad);
  EXPECT_EQ("not a status line: \"HTTP/1.1 20x OK\"",
            ParseHttpHead("HTTP/1.1 20x OK\r\n\r\n", kMax).bad);
  EXPECT_EQ("not a status line: \"HTTP/1.1 2000\"",
            ParseHttpHead("HTTP/1.1 2000\r\n\r\n", kMax).bad);
  EXPECT_EQ("not a status line: \"\\x00\\x01\\xff\"",
            ParseHttpHead(std::string("\0\x01\xff\n", 4), kMax).bad);
  const std::string longline(100, 'x');
  EXPECT_EQ("not a status line: \"" + std::string(64, 'x') + "\"…",
            ParseHttpHead(longline, kMax).bad);
}

TEST(ProbeHttpResponseTest, HeadersOverTheLimit) {
  const std::string big = "HTTP/1.1 200 OK\r\nX: " + std::string(2000, 'a');
  EXPECT_EQ(Parse::kIncomplete, ParseHttpHead(big, kMax).parse);
  const HttpHead h = ParseHttpHead(big, 1024);
  EXPECT_EQ(Parse::kBad, h.parse);
  EXPECT_EQ("headers longer than 1 KiB", h.bad);
  EXPECT_EQ("headers longer than 1 KiB", ParseHttpHead(big + "\r\n\r\n", 1024).bad);
}

TEST(ProbeHttpResponseTest, BodyExcerptByContentLength) {
  HttpHead h = ParseHttpHead("HTTP/1.1 500 x\r\nContent-Length: 5\r\n\r\n", kMax);
  bool complete = true;
  EXPECT_EQ("ab", BodyExcerpt(h, "ab", 512, &complete));
  EXPECT_FALSE(complete);
  EXPECT_EQ("abcde", BodyExcerpt(h, "abcde", 512, &complete));
  EXPECT_TRUE(complete);
  EXPECT_EQ("abc", BodyExcerpt(h, "abcde", 3, &complete));
  EXPECT_TRUE(complete);
}

TEST(ProbeHttpResponseTest, BodyExcerptUnframedNeedsTheEnd) {
  HttpHead h = ParseHttpHead("HTTP/1.1 500 x\r\n\r\n", kMax);
  bool complete = true;
  EXPECT_EQ("abc", BodyExcerpt(h, "abc", 512, &complete));
  EXPECT_FALSE(complete);
  EXPECT_EQ("ab", BodyExcerpt(h, "abc", 2, &complete));
  EXPECT_TRUE(complete);
}

TEST(ProbeHttpResponseTest, BodyExcerptChunked) {
  HttpHead h = ParseHttpHead("HTTP/1.1 500 x\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n", kMax);
  ASSERT_TRUE(h.chunked);
  bool complete = true;
  EXPECT_EQ("hello world",
            BodyExcerpt(h, "5\r\nhello\r\n6;x=y\r\n world\r\n0\r\n\r\n", 512, &complete));
  EXPECT_TRUE(complete);
  EXPECT_EQ("hello wo", BodyExcerpt(h, "5\r\nhello\r\n6\r\n wo", 512, &complete));
  EXPECT_FALSE(complete);
  EXPECT_EQ("hel", BodyExcerpt(h, "5\r\nhello\r\n", 3, &complete));
  EXPECT_TRUE(complete);
}

TEST(ProbeHttpResponseTest, NoBodyFor204And304And1xx) {
  for (const char* r :
       {"HTTP/1.1 204 x\r\n\r\n", "HTTP/1.1 304 x\r\n\r\n", "HTTP/1.1 101 x\r\n\r\n"}) {
    bool complete = false;
    EXPECT_EQ("", BodyExcerpt(ParseHttpHead(r, kMax), "junk", 512, &complete)) << r;
    EXPECT_TRUE(complete) << r;
  }
}

TEST(ProbeSpanTextTest, Forms) {
  EXPECT_EQ("1s", FormatProbeSpan(1s));
  EXPECT_EQ("90s", FormatProbeSpan(90s));
  EXPECT_EQ("250ms", FormatProbeSpan(250ms));
  EXPECT_EQ("1.5s", FormatProbeSpan(1500ms));
  EXPECT_EQ("2.125s", FormatProbeSpan(2125ms));
  EXPECT_EQ("1.05s", FormatProbeSpan(1050ms));
  EXPECT_EQ("800us", FormatProbeSpan(800us));
  EXPECT_EQ("0us", FormatProbeSpan(0us));
  EXPECT_EQ("120ms", FormatProbeSpan(120999us));
  EXPECT_EQ("infinity", FormatProbeSpan(kInfinity));
}

}  // namespace
}  // namespace supd
