#include "lib/notify/notify_message.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <string>

namespace supd {
namespace {

using std::chrono::seconds;
using testing::ElementsAre;
using testing::IsEmpty;

NotifyMessage Parse(std::string_view datagram) {
  auto r = ParseNotifyMessage(datagram);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? std::move(*r) : NotifyMessage{};
}

TEST(NotifyMessage, ReadyAlone) {
  NotifyMessage m = Parse("READY=1");
  EXPECT_TRUE(m.ready);
  EXPECT_FALSE(m.reloading);
  EXPECT_FALSE(m.stopping);
  EXPECT_FALSE(m.status);
  EXPECT_FALSE(m.mainpid);
  EXPECT_FALSE(m.watchdog_ping);
  EXPECT_THAT(m.ignored, IsEmpty());
}

TEST(NotifyMessage, SeveralAssignmentsAndTrailingNewline) {
  NotifyMessage m = Parse("READY=1\nSTATUS=Serving on :8080\nMAINPID=4242\nWATCHDOG=1\n");
  EXPECT_TRUE(m.ready);
  EXPECT_EQ("Serving on :8080", m.status);
  EXPECT_EQ(4242, m.mainpid);
  EXPECT_TRUE(m.watchdog_ping);
  EXPECT_THAT(m.ignored, IsEmpty());
}

TEST(NotifyMessage, EmptyLinesAndCarriageReturnsSeparate) {
  NotifyMessage m = Parse("\n\nREADY=1\r\nSTATUS=x\n\n");
  EXPECT_TRUE(m.ready);
  EXPECT_EQ("x", m.status);
  EXPECT_THAT(m.ignored, IsEmpty());
}

TEST(NotifyMessage, StatusKeepsEqualsSignsBackslashesAndCanBeEmpty) {
  EXPECT_EQ("a=b=c \\n", Parse("STATUS=a=b=c \\n").status);
  EXPECT_EQ("", Parse("STATUS=").status);  // clears the text
  EXPECT_EQ("héllo ✓", Parse("STATUS=héllo ✓").status);
}

TEST(NotifyMessage, StatusNotUtf8IsIgnored) {
  NotifyMessage m = Parse("READY=1\nSTATUS=\xff\xfe");
  EXPECT_TRUE(m.ready);
  EXPECT_FALSE(m.status);
  EXPECT_THAT(m.ignored, ElementsAre("STATUS=\xff\xfe (status text is not UTF-8)"));
}

TEST(NotifyMessage, LongStatus) {
  // The datagram limit is the server's; the parser takes systemd's STATUS_TEXT_MAX.
  std::string text(kMaxStatusBytes, 'x');
  EXPECT_EQ(text, Parse("STATUS=" + text).status);
  NotifyMessage over = Parse("STATUS=" + text + "y");
  EXPECT_FALSE(over.status);
  ASSERT_EQ(1u, over.ignored.size());
  EXPECT_THAT(over.ignored[0], testing::EndsWith("(status text over 4096 bytes)"));
  // A whole 4096-byte datagram, the most the server accepts.
  std::string datagram = "READY=1\nSTATUS=" + std::string(4096 - 15, 's');
  ASSERT_EQ(4096u, datagram.size());
  NotifyMessage full = Parse(datagram);
  EXPECT_TRUE(full.ready);
  EXPECT_EQ(4096u - 15, full.status->size());
}

TEST(NotifyMessage, EmptyAndNulAreErrors) {
  auto empty = ParseNotifyMessage("");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ("empty notify message", empty.error().message);
  auto nul = ParseNotifyMessage(std::string_view("READY=1\0STATUS=x", 16));
  ASSERT_FALSE(nul.ok());
  EXPECT_EQ("notify message contains a NUL byte", nul.error().message);
}

TEST(NotifyMessage, OnlyNewlinesIsAnEmptyMessageNotAnError) {
  NotifyMessage m = Parse("\n\n");
  EXPECT_FALSE(m.ready);
  EXPECT_THAT(m.ignored, IsEmpty());
}

TEST(NotifyMessage, UnknownAssignmentsAreIgnoredTheRestApplies) {
  NotifyMessage m =
      Parse("X_MY_KEY=1\nREADY=1\nNOTIFYACCESS=all\ngarbage\n=1\nBUSERROR=org.x.Failed");
  EXPECT_TRUE(m.ready);
  EXPECT_THAT(m.ignored, ElementsAre("X_MY_KEY=1 (unknown)", "NOTIFYACCESS=all (unknown)",
                                     "garbage (not an assignment)", "=1 (not an assignment)",
                                     "BUSERROR=org.x.Failed (unknown)"));
}

TEST(NotifyMessage, FlagsMustBeExactlyOne) {
  NotifyMessage m = Parse("READY=0\nREADY=yes\nSTOPPING=true\nRELOADING=2\nREADY=1 ");
  EXPECT_FALSE(m.ready);
  EXPECT_FALSE(m.stopping);
  EXPECT_FALSE(m.reloading);
  EXPECT_EQ(5u, m.ignored.size());
}

TEST(NotifyMessage, AllFlagsTogether) {
  NotifyMessage m = Parse("STOPPING=1\nREADY=1\nRELOADING=1");
  EXPECT_TRUE(m.ready);
  EXPECT_TRUE(m.reloading);
  EXPECT_TRUE(m.stopping);
}

struct PidCase {
  std::string value;
  std::optional<pid_t> want;
};

class MainPid : public testing::TestWithParam<PidCase> {};

TEST_P(MainPid, Parses) {
  NotifyMessage m = Parse("MAINPID=" + GetParam().value);
  EXPECT_EQ(GetParam().want, m.mainpid);
  if (!GetParam().want) {
    EXPECT_THAT(m.ignored, ElementsAre("MAINPID=" + GetParam().value + " (not a pid)"));
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, MainPid,
                         testing::Values(PidCase{"1", 1}, PidCase{"4242", 4242},
                                         PidCase{"2147483647", 2147483647},
                                         PidCase{"0", std::nullopt}, PidCase{"-1", std::nullopt},
                                         PidCase{"abc", std::nullopt}, PidCase{"", std::nullopt},
                                         PidCase{" 12", std::nullopt}, PidCase{"12x", std::nullopt},
                                         PidCase{"2147483648", std::nullopt},
                                         PidCase{"99999999999999999999999", std::nullopt}));

TEST(NotifyMessage, FirstAssignmentOfAKeyCounts) {
  // As systemd's strv_find_startswith(): the first one, even when it is invalid.
  NotifyMessage m = Parse("STATUS=one\nSTATUS=two\nMAINPID=abc\nMAINPID=7");
  EXPECT_EQ("one", m.status);
  EXPECT_FALSE(m.mainpid);
  EXPECT_THAT(m.ignored,
              ElementsAre("STATUS=two (repeated; the first one counts)", "MAINPID=abc (not a pid)",
                          "MAINPID=7 (repeated; the first one counts)"));
}

TEST(NotifyMessage, Watchdog) {
  EXPECT_TRUE(Parse("WATCHDOG=1").watchdog_ping);
  NotifyMessage t = Parse("WATCHDOG=trigger");
  EXPECT_TRUE(t.watchdog_trigger);
  EXPECT_FALSE(t.watchdog_ping);
  NotifyMessage bad = Parse("WATCHDOG=2");
  EXPECT_FALSE(bad.watchdog_ping);
  EXPECT_FALSE(bad.watchdog_trigger);
  EXPECT_THAT(bad.ignored, ElementsAre("WATCHDOG=2 (expected 1 or trigger)"));
}

TEST(NotifyMessage, MicrosecondValues) {
  NotifyMessage m = Parse(
      "WATCHDOG_USEC=30000000\nEXTEND_TIMEOUT_USEC=5000000\nMONOTONIC_USEC=123456789\n"
      "RELOADING=1");
  EXPECT_EQ(Usec(seconds(30)), m.watchdog_usec);
  EXPECT_EQ(Usec(seconds(5)), m.extend_timeout);
  EXPECT_EQ(123456789u, m.monotonic_usec);
  EXPECT_TRUE(m.reloading);
  // 0 turns the watchdog off, as in systemd; it is a value, not an error.
  EXPECT_EQ(Usec(0), Parse("WATCHDOG_USEC=0").watchdog_usec);
  // systemd's USEC_INFINITY and anything past Usec's range are infinity.
  EXPECT_EQ(kInfinity, Parse("WATCHDOG_USEC=18446744073709551615").watchdog_usec);
  EXPECT_EQ(kInfinity, Parse("EXTEND_TIMEOUT_USEC=9223372036854775808").extend_timeout);
  EXPECT_EQ(18446744073709551615u, Parse("MONOTONIC_USEC=18446744073709551615").monotonic_usec);
}

TEST(NotifyMessage, BadNumbersAreIgnored) {
  NotifyMessage m = Parse(
      "WATCHDOG_USEC=-5\nEXTEND_TIMEOUT_USEC=1s\nMONOTONIC_USEC=18446744073709551616\n"
      "ERRNO=4096\nREADY=1");
  EXPECT_TRUE(m.ready);
  EXPECT_FALSE(m.watchdog_usec);
  EXPECT_FALSE(m.extend_timeout);
  EXPECT_FALSE(m.monotonic_usec);
  EXPECT_FALSE(m.errno_value);
  EXPECT_THAT(m.ignored,
              ElementsAre("WATCHDOG_USEC=-5 (not a number of microseconds)",
                          "EXTEND_TIMEOUT_USEC=1s (not a number of microseconds)",
                          "MONOTONIC_USEC=18446744073709551616 (not a number of microseconds)",
                          "ERRNO=4096 (not an errno)"));
}

TEST(NotifyMessage, Errno) {
  EXPECT_EQ(2, Parse("ERRNO=2").errno_value);
  EXPECT_EQ(0, Parse("ERRNO=0").errno_value);
  EXPECT_EQ(ENOENT, Parse("ERRNO=ENOENT").errno_value);
  EXPECT_EQ(EADDRINUSE, Parse("ERRNO=EADDRINUSE").errno_value);
  EXPECT_FALSE(Parse("ERRNO=ENOTANERRNO").errno_value);
  EXPECT_FALSE(Parse("ERRNO=-1").errno_value);
}

TEST(NotifyMessage, Barrier) {
  NotifyMessage m = Parse("BARRIER=1\n");
  EXPECT_TRUE(m.barrier);
  EXPECT_THAT(m.ignored, IsEmpty());
  // Anything sent with BARRIER=1 is ignored, as systemd does.
  NotifyMessage extra = Parse("READY=1\nBARRIER=1\nSTATUS=x");
  EXPECT_TRUE(extra.barrier);
  EXPECT_FALSE(extra.ready);
  EXPECT_FALSE(extra.status);
  EXPECT_THAT(extra.ignored,
              ElementsAre("READY=1 (sent with BARRIER=1)", "STATUS=x (sent with BARRIER=1)"));
}

TEST(NotifyMessage, FdStore) {
  NotifyMessage m = Parse("FDSTORE=1\nFDNAME=listener");
  EXPECT_TRUE(m.fdstore);
  EXPECT_FALSE(m.fdstore_remove);
  EXPECT_EQ("listener", m.fdname);

  NotifyMessage remove = Parse("FDSTOREREMOVE=1\nFDNAME=listener");
  EXPECT_TRUE(remove.fdstore_remove);
  EXPECT_EQ("listener", remove.fdname);

  NotifyMessage both = Parse("FDSTORE=1\nFDSTOREREMOVE=1\nFDNAME=x");
  EXPECT_FALSE(both.fdstore);
  EXPECT_TRUE(both.fdstore_remove);
  EXPECT_THAT(both.ignored, ElementsAre("FDSTORE=1 (FDSTOREREMOVE=1 wins)"));

  for (const std::string& bad :
       {std::string("a:b"), std::string(256, 'n'), std::string("tab\there")}) {
    NotifyMessage b = Parse("FDSTORE=1\nFDNAME=" + bad);
    EXPECT_TRUE(b.fdstore);
    EXPECT_FALSE(b.fdname) << bad;
    EXPECT_THAT(b.ignored, ElementsAre("FDNAME=" + bad + " (invalid fd name)"));
  }
  EXPECT_EQ(std::string(255, 'n'), Parse("FDNAME=" + std::string(255, 'n')).fdname);
}

}  // namespace
}  // namespace supd
