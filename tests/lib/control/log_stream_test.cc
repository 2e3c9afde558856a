#include "lib/control/log_stream.h"

#include <gtest/gtest.h>

#include <limits>

namespace supd::control {
namespace {

TEST(ParseLogArgs, DefaultsAndErrors) {
  auto q = ParseLogArgs(nlohmann::json::object());
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(10u, q->lines);
  EXPECT_FALSE(q->follow);
  q = ParseLogArgs({{"since", "2026-11-22"}});
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(LogQuery::kMaxLines, q->lines);
  EXPECT_EQ("since: 'soon' is not a time (use 2026-11-22T07:00:00Z, 2026-11-22 07:00:00 or "
            "2026-11-22)",
            ParseLogArgs({{"since", "soon"}}).error().message);
  EXPECT_EQ("stream: expected \"out\" or \"err\", not \"both\"",
            ParseLogArgs({{"stream", "both"}}).error().message);
  // A count past INT64_MAX is "as many as allowed", not a negative number.
  q = ParseLogArgs({{"lines", std::numeric_limits<uint64_t>::max()}});
  ASSERT_TRUE(q.ok()) << q.error().message;
  EXPECT_EQ(LogQuery::kMaxLines, q->lines);
  EXPECT_EQ("\"lines\" must be a non-negative integer",
            ParseLogArgs({{"lines", -1}}).error().message);
  EXPECT_EQ("\"lines\" must be a non-negative integer",
            ParseLogArgs({{"lines", 2.5}}).error().message);
  EXPECT_EQ("\"follow\" must be a boolean", ParseLogArgs({{"follow", "yes"}}).error().message);
}

TEST(RecordJson, AllFields) {
  LogRecord r;
  r.time = "2026-11-22T07:00:00.000000Z";
  r.pid = 42;
  r.stream = "err";
  r.continued = true;
  r.text = "panic: x";
  EXPECT_EQ(RecordJson("web.service", r),
            nlohmann::json::parse(R"({"service":"web.service","time":"2026-11-22T07:00:00.000000Z",
                                      "pid":42,"stream":"err","continued":true,"text":"panic: x"})"));
}

}  // namespace
}  // namespace supd::control
