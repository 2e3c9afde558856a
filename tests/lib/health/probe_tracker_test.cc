#include "lib/health/probe_tracker.h"

#include <gtest/gtest.h>

#include <string>

namespace supd {
namespace {

using namespace std::chrono_literals;

CheckResult Ok() {
  CheckResult r;
  r.ok = true;
  r.message = "HTTP 200";
  r.latency = 3ms;
  return r;
}

CheckResult Fail(const std::string& message = "HTTP 503 Service Unavailable") {
  CheckResult r;
  r.message = message;
  r.output = "down";
  r.latency = 7ms;
  return r;
}

ProbeSpec Spec(unsigned failure_threshold, unsigned success_threshold) {
  ProbeSpec s;
  s.failure_threshold = failure_threshold;
  s.success_threshold = success_threshold;
  return s;
}

// Feeds "+" (success) and "-" (failure) results; returns the state after each, one letter
// each: p(ending), P(assing), F(ailing), lowercase-less: "pPPF".
std::string Trace(ProbeTracker& t, const std::string& results) {
  std::string out;
  for (char c : results) {
    t.Record(c == '+' ? Ok() : Fail(), 1);
    out += "pPF"[static_cast<int>(t.status().state)];
  }
  return out;
}

TEST(ProbeTrackerTest, StateNames) {
  EXPECT_STREQ("pending", ProbeStateName(ProbeState::kPending));
  EXPECT_STREQ("passing", ProbeStateName(ProbeState::kPassing));
  EXPECT_STREQ("failing", ProbeStateName(ProbeState::kFailing));
}

TEST(ProbeTrackerTest, Thresholds) {
  struct Case {
    unsigned failure, success;
    const char* results;
    const char* states;
  };
  const Case cases[] = {
      {3, 1, "+", "P"},
      {3, 1, "-", "p"},
      {3, 1, "---", "ppF"},
      {3, 1, "--+", "ppP"},
      {3, 1, "--+---", "ppPPPF"},
      {3, 1, "+--+--", "PPPPPP"},  // failures below the threshold keep it passing
      {3, 1, "---+", "ppFP"},
      {1, 1, "-+-+", "FPFP"},
      {3, 2, "+", "p"},
      {3, 2, "++", "pP"},
      {3, 2, "+-+", "ppp"},  // the successes must be consecutive
      {3, 2, "+-++", "pppP"},
      {3, 2, "---+", "ppFF"},  // failing needs SuccessThreshold= successes to pass again
      {3, 2, "---++", "ppFFP"},
      {2, 3, "++--+++", "pppFFFP"},
      {2, 3, "++-+-", "ppppp"},  // failures must be consecutive too
      {0, 0, "+-", "PF"},        // 0 (refused by the parser) counts as 1
  };
  for (const Case& c : cases) {
    ProbeTracker t(Spec(c.failure, c.success));
    EXPECT_EQ(c.states, Trace(t, c.results))
        << "FailureThreshold=" << c.failure << " SuccessThreshold=" << c.success << " results "
        << c.results;
  }
}

TEST(ProbeTrackerTest, RecordSaysWhenTheStateChanged) {
  ProbeTracker t(Spec(2, 1));
  EXPECT_FALSE(t.Record(Fail(), 1));
  EXPECT_TRUE(t.Record(Fail(), 2));   // → failing
  EXPECT_FALSE(t.Record(Fail(), 3));  // still failing
  EXPECT_TRUE(t.Record(Ok(), 4));     // → passing
  EXPECT_FALSE(t.Record(Ok(), 5));
}

TEST(ProbeTrackerTest, CountsLatencyAndTheLastFailure) {
  ProbeTracker t(Spec(3, 1));
  EXPECT_EQ(0u, t.status().checks);
  EXPECT_FALSE(t.status().last_latency);
  EXPECT_EQ(0, t.status().last_check_realtime);
  EXPECT_FALSE(t.status().last_failure);

  t.Record(Ok(), 100);
  t.Record(Fail("connect to 127.0.0.1:9: Connection refused"), 200);
  t.Record(Fail(), 300);
  const ProbeStatus& s = t.status();
  EXPECT_EQ(3u, s.checks);
  EXPECT_EQ(2u, s.failures);
  EXPECT_EQ(2u, s.consecutive_failures);
  EXPECT_EQ(0u, s.consecutive_successes);
  EXPECT_EQ(7ms, s.last_latency);
  EXPECT_EQ(300, s.last_check_realtime);
  ASSERT_TRUE(s.last_failure);
  EXPECT_EQ("HTTP 503 Service Unavailable", s.last_failure->message);
  EXPECT_EQ("down", s.last_failure->output);
  EXPECT_EQ(300, s.last_failure->at_realtime);
  EXPECT_EQ(ProbeState::kPassing, s.state);

  // A success keeps the last failure (status shows it) and resets the streak.
  t.Record(Ok(), 400);
  EXPECT_EQ(1u, t.status().consecutive_successes);
  EXPECT_EQ(0u, t.status().consecutive_failures);
  EXPECT_EQ(3ms, t.status().last_latency);
  ASSERT_TRUE(t.status().last_failure);
  EXPECT_EQ(300, t.status().last_failure->at_realtime);
}

}  // namespace
}  // namespace supd
