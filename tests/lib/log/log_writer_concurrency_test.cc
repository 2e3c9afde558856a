// The log writer's two threads at work together: the test thread runs the io_context (as the
// daemon's loop does) and queues records, asks for flushes, changes limits and waits on
// back-pressure, while the writer thread writes and rotates. Built a second time under
// ThreadSanitizer (tests/tsan, -DSUPD_TSAN=ON). Deadlines, no sleeps: io.run_for bounds each wait.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "lib/log/log_writer.h"

namespace supd {
namespace {

namespace asio = boost::asio;

constexpr size_t kRecSize = 128;

// One fixed-size record with its sequence number.
std::string Rec(int i) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "rec %08d ", i);
  std::string r(buf);
  r.append(kRecSize - 1 - r.size(), 'x');
  r += '\n';
  return r;
}

std::string Records(int from, int n) {
  std::string s;
  s.reserve(static_cast<size_t>(n) * kRecSize);
  for (int i = from; i < from + n; ++i) s += Rec(i);
  return s;
}

std::string ReadFile(const std::string& p) {
  std::ifstream f(p);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

class LogWriterConcurrencyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/supd-logwriter-conc-XXXXXX";
    ASSERT_NE(nullptr, mkdtemp(tmpl));
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

// The producer runs as handlers on the io_context; every step queues a batch, and a full queue
// makes it wait for WhenWritable, as OutputReader does. Every few batches it asks for a flush
// whose job (on the writer thread) counts the lines in the files: exactly the records queued
// before the request must be there. Limits change under the writer's feet.
TEST_F(LogWriterConcurrencyTest, LoopQueuesWhileWriterWritesAndRotates) {
  constexpr int kFirstBatch = 9000;  // 9000 × 128 B > kQueueLimit: back-pressure for certain
  constexpr int kBatch = 512;
  constexpr int kTotal = 24000;      // 3 MiB
  constexpr uint64_t kSmall = 48 * 1024, kLarge = 96 * 1024;
  constexpr unsigned kMaxFiles = 100;  // 3 MiB / 48 KiB = 64 files: nothing is deleted
  static_assert(kFirstBatch * kRecSize > LogSink::kQueueLimit);

  asio::io_context io;
  const std::string path = dir_ + "/svc.log";
  LogWriter w(io);
  auto opened = w.Open(path, LogFileLimits{kSmall, kMaxFiles});
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  std::shared_ptr<LogSink> sink = *opened;

  int queued = 0;
  int batches = 0;
  int waits = 0;
  int flushes_asked = 0;
  std::vector<std::pair<size_t, size_t>> flushes;  // {expected, found}
  bool finished = false;

  auto ask_flush = [&](std::function<void()> then) {
    ++flushes_asked;
    const size_t expected = static_cast<size_t>(queued);
    w.RunAfterFlush({sink}, [&, expected, then, s = sink]() -> std::function<void()> {
      size_t found = 0;
      for (const std::string& f : s->Files()) {
        const std::string c = ReadFile(f);
        found += static_cast<size_t>(std::count(c.begin(), c.end(), '\n'));
      }
      return [&, expected, found, then] {
        flushes.emplace_back(expected, found);
        if (then) then();
      };
    });
  };

  std::function<void()> step = [&] {
    if (queued >= kTotal) {
      ask_flush([&] {
        finished = true;
        io.stop();
      });
      return;
    }
    const int n = std::min(queued == 0 ? kFirstBatch : kBatch, kTotal - queued);
    const bool under = sink->Append(Records(queued, n));
    queued += n;
    ++batches;
    if (batches % 8 == 0) ask_flush(nullptr);
    if (batches % 5 == 0) sink->SetLimits(LogFileLimits{batches % 10 == 0 ? kSmall : kLarge, kMaxFiles});
    (void)sink->stats();  // status reads the stats while the writer updates them
    if (!under) {
      ++waits;
      sink->WhenWritable(step);
    } else {
      asio::post(io, step);
    }
  };
  asio::post(io, step);
  auto guard = asio::make_work_guard(io);  // the writer's posts come from another thread
  io.run_for(std::chrono::seconds(60));
  ASSERT_TRUE(finished) << "queued " << queued << " of " << kTotal << " records in 60 s";

  EXPECT_GE(waits, 1);
  ASSERT_EQ(static_cast<size_t>(flushes_asked), flushes.size());
  for (const auto& [expected, found] : flushes) EXPECT_EQ(expected, found);
  EXPECT_EQ(static_cast<size_t>(kTotal), flushes.back().first);

  // Every record, once, in order, oldest file first; no file over the larger limit.
  std::vector<std::string> files = sink->Files();
  EXPECT_GT(files.size(), 20u);
  EXPECT_GT(sink->stats().rotations, 20u);
  EXPECT_EQ("", sink->stats().last_error);
  std::reverse(files.begin(), files.end());
  int next = 0;
  for (const std::string& f : files) {
    const std::string c = ReadFile(f);
    EXPECT_LE(c.size(), kLarge) << f;
    for (size_t off = 0; off < c.size(); off += kRecSize) {
      ASSERT_EQ(Rec(next), c.substr(off, kRecSize)) << f << " at " << off;
      ++next;
    }
  }
  EXPECT_EQ(kTotal, next);
}

// Destroying the writer while it writes (supd's shutdown): everything queued before is written,
// a flush asked just before still runs and answers, a WhenWritable still calls back, and the
// sink keeps working afterwards, synchronously, on the loop thread.
TEST_F(LogWriterConcurrencyTest, DestroyWhileWritingLosesNothing) {
  asio::io_context io;
  const std::string path = dir_ + "/close.log";
  std::shared_ptr<LogSink> sink;
  bool flushed = false;
  bool writable = false;
  constexpr int kN = 16000;  // 2 MiB: the writer is busy when the destructor runs
  {
    LogWriter w(io);
    auto opened = w.Open(path, LogFileLimits{1 << 20, 10});
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    sink = *opened;
    for (int i = 0; i < kN; i += 1000) sink->Append(Records(i, 1000));
    sink->WhenWritable([&] { writable = true; });
    w.RunAfterFlush({sink}, [&]() -> std::function<void()> { return [&] { flushed = true; }; });
  }
  // The thread is gone: this goes straight to the file.
  sink->Append(Records(kN, 1));
  sink->WhenWritable([&] { io.stop(); });
  io.run_for(std::chrono::seconds(30));
  EXPECT_TRUE(flushed);
  EXPECT_TRUE(writable);

  std::vector<std::string> files = sink->Files();
  std::reverse(files.begin(), files.end());
  std::string all;
  for (const std::string& f : files) all += ReadFile(f);
  ASSERT_EQ(static_cast<size_t>(kN + 1) * kRecSize, all.size());
  EXPECT_EQ(Records(0, kN + 1), all);
}

}  // namespace
}  // namespace supd
