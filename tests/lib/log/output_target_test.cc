#include "lib/log/output_target.h"

#include <gtest/gtest.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>

namespace supd {
namespace {

// Records what would be sent to journald.
class FakeJournal : public JournalStreams {
 public:
  std::string unavailable;
  std::vector<JournalStreamRequest> opened;
  std::string Unavailable() const override { return unavailable; }
  Result<UniqueFd> Open(const JournalStreamRequest& r) override {
    opened.push_back(r);
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0) return ErrnoError("pipe2");
    ::close(fds[0]);
    return UniqueFd(fds[1]);
  }
};

ServiceSpec Spec() {
  ServiceSpec s;
  s.name = "web.service";
  return s;
}

TEST(OutputTargets, JournalGetsIdentifierLevelAndPrefix) {
  FakeJournal j;
  ServiceSpec s = Spec();
  s.standard_output = {ServiceSpec::Output::Kind::kJournal, "", "journal", true};
  auto t = OpenOutputTargets(s, &j);
  ASSERT_TRUE(t.ok());
  ASSERT_EQ(1u, j.opened.size());
  EXPECT_EQ((JournalStreamRequest{"web", 6, true}), j.opened[0]);
  EXPECT_TRUE(t->out);
  EXPECT_TRUE(t->err);  // StandardError=inherit: the same stream
  EXPECT_FALSE(t->out_to_log);
  EXPECT_TRUE(t->warnings.empty());

  s.syslog_identifier = "api";
  s.syslog_level = 3;
  s.syslog_level_prefix = false;
  s.standard_error = {ServiceSpec::Output::Kind::kJournal, "", "journal", true};
  t = OpenOutputTargets(s, &j);
  ASSERT_TRUE(t.ok());
  ASSERT_EQ(3u, j.opened.size());
  EXPECT_EQ((JournalStreamRequest{"api", 3, false}), j.opened[1]);
  EXPECT_EQ((JournalStreamRequest{"api", 3, false}), j.opened[2]);
}

TEST(OutputTargets, NoJournaldFallsBackToTheLogWithAWarningWhenAskedFor) {
  FakeJournal j;
  j.unavailable = "journald is not running (no socket /run/systemd/journal/stdout)";
  ServiceSpec s = Spec();
  auto t = OpenOutputTargets(s, &j);  // the default: quietly the log
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(t->out_to_log);
  EXPECT_TRUE(t->err_to_log);
  EXPECT_TRUE(t->warnings.empty());
  s.standard_output = {ServiceSpec::Output::Kind::kJournal, "", "journal+console", true};
  t = OpenOutputTargets(s, &j);
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(t->out_to_log);
  ASSERT_EQ(1u, t->warnings.size());
  EXPECT_EQ("StandardOutput=journal+console: journald is not running (no socket "
            "/run/systemd/journal/stdout); writing to supd's log file instead",
            t->warnings[0]);
  EXPECT_TRUE(j.opened.empty());
}

TEST(OutputTargets, FilesAndNull) {
  char tmpl[] = "/tmp/supd-out-XXXXXX";
  ASSERT_NE(nullptr, mkdtemp(tmpl));
  const std::string dir = tmpl;
  ServiceSpec s = Spec();
  s.standard_output = {ServiceSpec::Output::Kind::kAppend, dir + "/o.log", "append:" + dir + "/o.log", true};
  s.standard_error = {ServiceSpec::Output::Kind::kNull, "", "null", true};
  auto t = OpenOutputTargets(s, nullptr);
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(t->out);
  EXPECT_FALSE(t->err);  // /dev/null
  EXPECT_FALSE(t->out_to_log || t->err_to_log);
  EXPECT_TRUE(std::filesystem::exists(dir + "/o.log"));
  s.standard_output = {ServiceSpec::Output::Kind::kFile, "/nonexistent/dir/x", "file:/nonexistent/dir/x", true};
  t = OpenOutputTargets(s, nullptr);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ("StandardOutput=file:/nonexistent/dir/x: open /nonexistent/dir/x: No such file or directory",
            t.error().message);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace supd
