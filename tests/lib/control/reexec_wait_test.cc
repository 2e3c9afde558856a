// What `supctl daemon-reexec` concludes from the pings after supd's answer, on a fake clock.
#include "lib/control/reexec_wait.h"

#include <gtest/gtest.h>

#include <deque>

namespace supd::control {
namespace {

using namespace std::chrono_literals;

struct FakePings {
  std::deque<Result<nlohmann::json>> answers;  // then: no answer, for ever
  std::chrono::steady_clock::time_point t{};
  int pings = 0;

  ReexecVerdict Wait(uint64_t before, std::chrono::milliseconds timeout) {
    return WaitForReexec(
        before, timeout, 20ms,
        [this](std::chrono::milliseconds) -> Result<nlohmann::json> {
          ++pings;
          t += 1ms;  // a refused connect is quick
          if (answers.empty()) return Error{"connect /run/supd/supd.sock: Connection refused"};
          auto a = std::move(answers.front());
          answers.pop_front();
          return a;
        },
        [this](std::chrono::milliseconds d) { t += std::max(d, 0ms); }, [this] { return t; });
  }
};

TEST(ReexecWaitTest, TheNewBinaryAnswers) {
  FakePings f;
  f.answers.push_back(Error{"connect: Connection refused"});
  f.answers.push_back(nlohmann::json{{"reexecs", 4}, {"pid", 1}});
  const ReexecVerdict v = f.Wait(3, 30s);
  EXPECT_EQ(0, v.exit_code);
  EXPECT_EQ("", v.message);
  EXPECT_EQ(2, f.pings);
}

TEST(ReexecWaitTest, TheOldBinaryStillAnswers) {
  FakePings f;
  f.answers.push_back(nlohmann::json{{"reexecs", 3}});
  const ReexecVerdict v = f.Wait(3, 30s);
  EXPECT_EQ(1, v.exit_code);
  EXPECT_EQ("daemon-reexec failed: supd is still running the old binary (see its log)", v.message);
}

TEST(ReexecWaitTest, AnotherReexecInBetweenIsStillTheNewBinary) {
  FakePings f;
  f.answers.push_back(nlohmann::json{{"reexecs", 5}});
  EXPECT_EQ(0, f.Wait(3, 30s).exit_code);
}

TEST(ReexecWaitTest, NoAnswerWithinTheTimeout) {
  FakePings f;
  const ReexecVerdict v = f.Wait(0, 2s);
  EXPECT_EQ(1, v.exit_code);
  EXPECT_EQ(
      "daemon-reexec: no answer from supd within 2s: connect /run/supd/supd.sock: "
      "Connection refused",
      v.message);
  // Every 20 ms (+1 ms per ping) for 2 s: about 95 pings, not a busy loop.
  EXPECT_GT(f.pings, 80);
  EXPECT_LT(f.pings, 110);
}

TEST(ReexecWaitTest, AnAnswerWithoutACount) {
  FakePings f;
  f.answers.push_back(nlohmann::json{{"version", "0.1"}});
  const ReexecVerdict v = f.Wait(0, 1s);
  EXPECT_EQ(1, v.exit_code);
  EXPECT_EQ("daemon-reexec: supd answered without a reexec count (an older supd?)", v.message);
}

}  // namespace
}  // namespace supd::control
