#include "lib/base/signals.h"

#include <gtest/gtest.h>

#include <csignal>

namespace supd {
namespace {

TEST(Signals, NamesAsUnitFilesWriteThem) {
  EXPECT_EQ("TERM", SignalName(SIGTERM));
  EXPECT_EQ("KILL", SignalName(SIGKILL));
  EXPECT_EQ("RTMIN", SignalName(SIGRTMIN));
  EXPECT_EQ("RTMIN+3", SignalName(SIGRTMIN + 3));
  EXPECT_EQ("99", SignalName(99));
}

TEST(Signals, NamesAsStatusTextsSayThem) {
  EXPECT_EQ("SIGTERM", SigName(SIGTERM));
  EXPECT_EQ("SIGSEGV", SigName(SIGSEGV));
  EXPECT_EQ("signal 99", SigName(99));
  EXPECT_EQ("signal " + std::to_string(SIGRTMIN + 3), SigName(SIGRTMIN + 3));
}

TEST(Signals, EveryNameReadsBack) {
  for (int s = 1; s < NSIG; ++s) {
    if (s > SIGSYS && s < SIGRTMIN) continue;  // 32 and 33: glibc's own, no name
    EXPECT_EQ(s, SignalFromName(SignalName(s))) << s;
    EXPECT_EQ(s, SignalFromName("SIG" + SignalName(s))) << s;
  }
  EXPECT_EQ(SIGRTMAX - 1, SignalFromName("RTMAX-1"));
  EXPECT_EQ(std::nullopt, SignalFromName("term"));
  EXPECT_EQ(std::nullopt, SignalFromName("15"));
  EXPECT_EQ(std::nullopt, SignalFromName("RTMIN-1"));
  EXPECT_EQ(std::nullopt, SignalFromName("RTMAX+1"));
  EXPECT_EQ(std::nullopt, SignalFromName("RTMIN+"));
  EXPECT_EQ(std::nullopt, SignalFromName("RTMIN+00000000001"));
  EXPECT_EQ(std::nullopt, SignalFromName(""));
}

}  // namespace
}  // namespace supd
