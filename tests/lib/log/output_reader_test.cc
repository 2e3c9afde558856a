// OutputReader across daemon-reexec: a paused reader leaves what the process writes in the
// pipe, Export() gives the partial line, and a reader adopted from it goes on: every line in
// the file once, in order, the split line whole.
#include "lib/log/output_reader.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "lib/log/log_writer.h"
#include "lib/log/service_log.h"

namespace supd {
namespace {

using namespace std::chrono_literals;

class OutputReaderTest : public ::testing::Test {
 protected:
  OutputReaderTest() {
    char tmpl[] = "/tmp/supd-output-reader-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
  }
  ~OutputReaderTest() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::string File() const {
    std::ifstream in(dir_ + "/svc.log");
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  // Runs the loop until the log file holds `text` (10 s at most).
  bool RunUntilFileHas(const std::string& text) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (File().find(text) == std::string::npos && std::chrono::steady_clock::now() < deadline) {
      io_.run_for(10ms);
      io_.restart();
    }
    return File().find(text) != std::string::npos;
  }

  static size_t Count(const std::string& hay, const std::string& needle) {
    size_t n = 0;
    for (size_t at = hay.find(needle); at != std::string::npos; at = hay.find(needle, at + 1)) ++n;
    return n;
  }

  std::string dir_;
  boost::asio::io_context io_;
};

TEST_F(OutputReaderTest, PausedReaderLeavesTheBytesAndAnAdoptedOneGoesOnFromThePartialLine) {
  LogWriter writer(io_);
  auto sink = writer.Open(dir_ + "/svc.log", LogFileLimits{});
  ASSERT_TRUE(sink.ok()) << sink.error().message;
  auto log = std::make_shared<ServiceLog>(*sink);
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  UniqueFd write_end(p[1]);
  auto reader = OutputReader::Start(io_, UniqueFd(p[0]), log, 42, "err");
  ASSERT_EQ(::write(write_end.get(), "one\ntwo-", 8), 8);
  ASSERT_TRUE(RunUntilFileHas("one"));

  reader->Pause();
  ASSERT_EQ(::write(write_end.get(), "part\nthree\n", 11), 11);
  io_.run_for(50ms);
  io_.restart();
  int queued = 0;
  ASSERT_EQ(::ioctl(p[0], FIONREAD, &queued), 0);
  EXPECT_EQ(queued, 11) << "a paused reader read from the pipe";
  const OutputReaderExport e = reader->Export();
  EXPECT_EQ(e.fd, p[0]);
  EXPECT_EQ(e.stream, "err");
  EXPECT_EQ(e.pending, "two-");
  ASSERT_EQ(e.excerpt.size(), 1u);
  EXPECT_EQ(e.excerpt[0], "one");

  // The next supd: the same pipe (here a duplicate, as the old reader still owns its fd).
  auto adopted = OutputReader::Adopt(io_, UniqueFd(::fcntl(p[0], F_DUPFD_CLOEXEC, 0)), log, 42, e);
  reader.reset();
  ASSERT_TRUE(RunUntilFileHas("three"));
  const std::string file = File();
  EXPECT_EQ(Count(file, "one"), 1u) << file;
  EXPECT_EQ(Count(file, "two-part"), 1u) << file;
  EXPECT_EQ(Count(file, "two-\n"), 0u) << "the partial line was written before the pause" << file;
  EXPECT_LT(file.find("two-part"), file.find("three")) << file;
  const auto excerpt = adopted->Excerpt();
  ASSERT_EQ(excerpt.size(), 3u);
  EXPECT_EQ(excerpt[1], "two-part");
}

TEST_F(OutputReaderTest, ResumeAfterAFailedExecReadsWhatWaited) {
  LogWriter writer(io_);
  auto sink = writer.Open(dir_ + "/svc.log", LogFileLimits{});
  ASSERT_TRUE(sink.ok()) << sink.error().message;
  auto log = std::make_shared<ServiceLog>(*sink);
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  UniqueFd write_end(p[1]);
  auto reader = OutputReader::Start(io_, UniqueFd(p[0]), log, 7, "out");
  reader->Pause();
  ASSERT_EQ(::write(write_end.get(), "waited\n", 7), 7);
  io_.run_for(30ms);
  io_.restart();
  EXPECT_EQ(File().find("waited"), std::string::npos);
  reader->Resume();
  EXPECT_TRUE(RunUntilFileHas("waited"));
}

}  // namespace
}  // namespace supd
