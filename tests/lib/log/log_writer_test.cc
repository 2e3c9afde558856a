#include "lib/log/log_writer.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "lib/log/log_query.h"

namespace supd {
namespace {

class LogWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/supd-logwriter-XXXXXX";
    ASSERT_NE(nullptr, mkdtemp(tmpl));
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  static std::string Read(const std::string& p) {
    std::ifstream f(p);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
  }
  std::string dir_;
};

std::string Rec(int i) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "2026-11-22T07:00:00.%06dZ 7 out: line %05d\n", i, i);
  return buf;
}

TEST_F(LogWriterTest, RotatesAtRecordBoundariesAndKeepsMaxFiles) {
  boost::asio::io_context io;
  const std::string path = dir_ + "/svc.log";
  {
    LogWriter w(io);
    auto sink = w.Open(path, LogFileLimits{1000, 3});
    ASSERT_TRUE(sink.ok()) << sink.error().message;
    for (int i = 0; i < 200; ++i) (*sink)->Append(Rec(i));
  }  // the destructor writes everything queued
  EXPECT_FALSE(std::filesystem::exists(path + ".3"));
  std::string all;
  for (const std::string& p : {path + ".2", path + ".1", path}) {
    const std::string c = Read(p);
    EXPECT_LE(c.size(), 1000u) << p;
    ASSERT_FALSE(c.empty()) << p;
    EXPECT_EQ('\n', c.back()) << p;
    all += c;
  }
  // The newest records, contiguous, ending with the last one.
  std::istringstream in(all);
  std::string line;
  int expect = -1;
  while (std::getline(in, line)) {
    auto r = ParseLogLine(line);
    ASSERT_TRUE(r) << line;
    const int n = std::stoi(r->text.substr(5));
    if (expect >= 0) {
      ASSERT_EQ(expect, n);
    }
    expect = n + 1;
  }
  EXPECT_EQ(200, expect);
}

TEST_F(LogWriterTest, OneFileMeansTruncateAndAnOversizedRecordStillGoesIn) {
  boost::asio::io_context io;
  const std::string path = dir_ + "/one.log";
  {
    LogWriter w(io);
    auto sink = w.Open(path, LogFileLimits{100, 1});
    ASSERT_TRUE(sink.ok());
    (*sink)->Append(Rec(1));
    (*sink)->Append(Rec(2));
    (*sink)->Append(std::string(300, 'z') + "\n");
  }
  EXPECT_EQ(std::string(300, 'z') + "\n", Read(path));
  EXPECT_FALSE(std::filesystem::exists(path + ".1"));
}

TEST_F(LogWriterTest, BackPressureThenWritableCallback) {
  boost::asio::io_context io;
  LogWriter w(io);
  auto sink = w.Open(dir_ + "/bp.log", LogFileLimits{1ull << 40, 2});
  ASSERT_TRUE(sink.ok());
  const std::string big(LogSink::kQueueLimit / 4 - 1, 'a');
  bool over = false;
  for (int i = 0; i < 64 && !over; ++i) over = !(*sink)->Append(big + "\n");
  bool called = false;
  (*sink)->WhenWritable([&] {
    called = true;
    io.stop();
  });
  // Either it was over the limit and the writer catches up, or it never was: both call back.
  auto guard = boost::asio::make_work_guard(io);  // the post comes from another thread
  io.run_for(std::chrono::seconds(10));
  EXPECT_TRUE(called);
}

TEST_F(LogWriterTest, ReadAfterFlushSeesEverythingQueuedBefore) {
  boost::asio::io_context io;
  LogWriter w(io);
  auto sink = w.Open(dir_ + "/r.log", LogFileLimits{2000, 4});
  ASSERT_TRUE(sink.ok());
  for (int i = 0; i < 300; ++i) (*sink)->Append(Rec(i));
  std::vector<LogRecord> got;
  std::shared_ptr<LogSink> s = *sink;
  w.RunAfterFlush({s}, [&, s]() -> std::function<void()> {
    LogQuery q;
    q.lines = 50;
    std::string err;
    auto recs = ReadLastRecords(s->Files(), q, &err);
    return [&, recs] {
      got = recs;
      io.stop();
    };
  });
  (*sink)->Append(Rec(300));  // after the request: not part of the answer
  auto guard = boost::asio::make_work_guard(io);  // the post comes from another thread
  io.run_for(std::chrono::seconds(10));
  ASSERT_EQ(50u, got.size());  // 4 files × ~40 records: spans a rotation
  EXPECT_EQ("line 00250", got.front().text);
  EXPECT_EQ("line 00299", got.back().text);
}

TEST_F(LogWriterTest, WriteErrorsAreCountedAndReported) {
  if (::access("/dev/full", W_OK) != 0) GTEST_SKIP() << "no /dev/full";
  boost::asio::io_context io;
  // /dev/full: every write fails with ENOSPC.
  const std::string link = dir_ + "/full.log";
  ASSERT_EQ(0, ::symlink("/dev/full", link.c_str()));
  {
    LogWriter w(io);
    auto sink = w.Open(link, LogFileLimits{});
    ASSERT_TRUE(sink.ok()) << sink.error().message;
    (*sink)->Append(Rec(1) + Rec(2));
    std::shared_ptr<LogSink> s = *sink;
    bool done = false;
    w.RunAfterFlush({s}, [&]() -> std::function<void()> { return [&] { done = true; io.stop(); }; });
    auto guard = boost::asio::make_work_guard(io);  // the post comes from another thread
  io.run_for(std::chrono::seconds(10));
    ASSERT_TRUE(done);
    const LogWriteStats st = s->stats();
    EXPECT_TRUE(st.failing);
    EXPECT_EQ(2u, st.dropped_lines);
    EXPECT_NE(std::string::npos, st.last_error.find("No space left on device")) << st.last_error;
  }
}

TEST(MergeRecords, InterleavesByTimeAndKeepsTheLast) {
  auto rec = [](int64_t t, std::string text) {
    LogRecord r;
    r.time_usec = t;
    r.time = FormatRfc3339(t);
    r.stream = "out";
    r.text = std::move(text);
    return r;
  };
  auto m = MergeRecords({{"a", {rec(1, "a1"), rec(3, "a3")}}, {"b", {rec(2, "b2"), rec(4, "b4")}}},
                        3);
  ASSERT_EQ(3u, m.records.size());
  EXPECT_EQ("b2", m.records[0].second.text);
  EXPECT_EQ("a3", m.records[1].second.text);
  EXPECT_EQ("b4", m.records[2].second.text);
  EXPECT_EQ("b", m.records[2].first);
  EXPECT_FALSE(m.truncated);
}

}  // namespace
}  // namespace supd
