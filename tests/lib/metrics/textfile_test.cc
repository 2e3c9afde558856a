#include "lib/metrics/textfile.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <gtest/gtest.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include "lib/base/blocking_worker.h"
#include "lib/supervise/host.h"

namespace supd::metrics {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

// The real worker thread (lib/base), behind the supervisor's interface.
class ThreadWorker final : public BlockingWork {
 public:
  explicit ThreadWorker(asio::io_context& io) : worker_(io) {}
  void Run(std::function<std::function<void()>()> job) override { worker_.Run(std::move(job)); }

 private:
  BlockingWorker worker_;
};

// Keeps jobs until the test runs them: a write that is "still running" for as long as the
// test wants.
class HeldWorker final : public BlockingWork {
 public:
  explicit HeldWorker(asio::io_context& io) : io_(io) {}
  void Run(std::function<std::function<void()>()> job) override { held.push_back(std::move(job)); }
  void RunOne() {
    auto job = std::move(held.front());
    held.pop_front();
    if (auto then = job()) asio::post(io_, std::move(then));
  }
  std::deque<std::function<std::function<void()>()>> held;

 private:
  asio::io_context& io_;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> List(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

class TextfileWriterTest : public ::testing::Test {
 protected:
  TextfileWriterTest() {
    char tmpl[] = "/tmp/supd-textfile-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    // Log lines are part of the contract (once at the start of a failure, once at its end).
    sink_ = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(100);
    sink_->set_pattern("%l %v");
    saved_logger_ = spdlog::default_logger();
    auto logger = std::make_shared<spdlog::logger>("test", sink_);
    logger->set_level(spdlog::level::info);
    spdlog::set_default_logger(logger);
  }
  ~TextfileWriterTest() override {
    spdlog::set_default_logger(saved_logger_);
    ::chmod(dir_.c_str(), 0700);
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // Runs the loop until pred() holds; false after 10 s.
  bool RunUntil(const std::function<bool()>& pred) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!pred()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      io_.run_one_for(10ms);
    }
    return true;
  }

  std::vector<std::string> Logs() {
    std::vector<std::string> lines = sink_->last_formatted();
    for (auto& l : lines)
      if (!l.empty() && l.back() == '\n') l.pop_back();
    return lines;
  }

  std::string TmpName() const { return ".supd.prom.tmp." + std::to_string(::getpid()); }

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_{asio::make_work_guard(io_)};
  std::shared_ptr<ThreadWorker> worker_ = std::make_shared<ThreadWorker>(io_);
  std::string dir_;
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink_;
  std::shared_ptr<spdlog::logger> saved_logger_;
};

TEST_F(TextfileWriterTest, WritesAtStartThenEveryInterval) {
  int n = 0;
  auto w = TextfileWriter::Start(io_, worker_, dir_, 1s,
                                 [&n] { return "supd_test " + std::to_string(++n) + "\n"; });
  ASSERT_TRUE(w.ok()) << w.error().message;
  EXPECT_EQ(dir_ + "/supd.prom", (*w)->path());
  // Nothing before the loop runs: the caller finishes setting up first.
  EXPECT_EQ(0, n);
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(RunUntil([&] { return (*w)->writes() >= 1; }));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 900ms);
  EXPECT_EQ("supd_test 1\n", ReadFile(dir_ + "/supd.prom"));
  ASSERT_TRUE(RunUntil([&] { return (*w)->writes() >= 2; }));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 1s);
  EXPECT_EQ("supd_test 2\n", ReadFile(dir_ + "/supd.prom"));
  // The temporary file never stays behind.
  EXPECT_EQ(std::vector<std::string>{"supd.prom"}, List(dir_));
  EXPECT_EQ("", (*w)->last_error());
  struct stat st {};
  ASSERT_EQ(0, ::stat((dir_ + "/supd.prom").c_str(), &st));
  const mode_t mask = ::umask(0);
  ::umask(mask);
  EXPECT_EQ(0644 & ~mask, st.st_mode & 0777);  // readable by node_exporter's user
}

TEST_F(TextfileWriterTest, ReplacesTheFileAtomically) {
  // A large text, so that a write in place would be seen half done by a concurrent reader.
  int n = 0;
  auto render = [&n] {
    ++n;
    std::string text;
    for (int i = 0; i < 20000; ++i) text += "supd_line{i=\"" + std::to_string(i) + "\"} 1\n";
    return text + "# END " + std::to_string(n) + "\n";
  };
  const size_t size = render().size();
  n = 0;
  auto w = TextfileWriter::Start(io_, worker_, dir_, 1s, render);
  ASSERT_TRUE(w.ok()) << w.error().message;
  const std::string path = dir_ + "/supd.prom";
  EXPECT_NE(std::string::npos, TmpName().find("tmp"));
  std::atomic<bool> stop{false};
  std::atomic<int> reads{0};
  std::atomic<int> partial{0};
  std::thread reader([&] {
    while (!stop) {
      std::ifstream in(path);
      if (!in) continue;  // before the first write
      std::stringstream ss;
      ss << in.rdbuf();
      const std::string text = ss.str();
      ++reads;
      if (text.size() != size || text.compare(size - 8, 6, "# END ") != 0) ++partial;
    }
  });
  std::vector<ino_t> inodes;
  for (uint64_t i = 1; i <= 3; ++i) {
    if (!RunUntil([&] { return (*w)->writes() >= i; })) break;
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0) inodes.push_back(st.st_ino);
  }
  stop = true;
  reader.join();
  ASSERT_EQ(3u, inodes.size());
  EXPECT_GT(reads.load(), 0);
  EXPECT_EQ(0, partial.load());
  // Each write is a new file renamed into place, not a rewrite of the old one.
  EXPECT_NE(inodes[0], inodes[1]);
  EXPECT_NE(inodes[1], inodes[2]);
  EXPECT_EQ(std::vector<std::string>{"supd.prom"}, List(dir_));
}

TEST_F(TextfileWriterTest, MissingDirectoryIsAnError) {
  auto w = TextfileWriter::Start(io_, worker_, dir_ + "/nope", 1s, [] { return ""; });
  ASSERT_FALSE(w.ok());
  EXPECT_EQ("--metrics-textfile " + dir_ + "/nope: stat: No such file or directory",
            w.error().message);
}

TEST_F(TextfileWriterTest, FileInsteadOfDirectoryIsAnError) {
  std::ofstream(dir_ + "/file") << "x";
  auto w = TextfileWriter::Start(io_, worker_, dir_ + "/file", 1s, [] { return ""; });
  ASSERT_FALSE(w.ok());
  EXPECT_EQ("--metrics-textfile " + dir_ + "/file: not a directory", w.error().message);
}

TEST_F(TextfileWriterTest, IntervalBelowOneSecondIsAnError) {
  auto w = TextfileWriter::Start(io_, worker_, dir_, 500ms, [] { return ""; });
  ASSERT_FALSE(w.ok());
  EXPECT_EQ("--metrics-textfile-interval: must be at least 1 s (got 500 ms)", w.error().message);
}

TEST_F(TextfileWriterTest, UnwritableDirectoryIsAnErrorAtStart) {
  if (::geteuid() == 0) GTEST_SKIP() << "root ignores directory modes (CAP_DAC_OVERRIDE)";
  ASSERT_EQ(0, ::chmod(dir_.c_str(), 0500));
  auto w = TextfileWriter::Start(io_, worker_, dir_, 1s, [] { return ""; });
  ASSERT_FALSE(w.ok());
  EXPECT_EQ("--metrics-textfile " + dir_ + ": not writable: Permission denied", w.error().message);
}

TEST_F(TextfileWriterTest, DirectoryThatBecomesUnwritableIsLoggedOnceAndRecovers) {
  if (::geteuid() == 0)
    GTEST_SKIP() << "root ignores directory modes (CAP_DAC_OVERRIDE); "
                    "WriteErrorIsLoggedOnceAndRecoveryOnce covers the same path as root";
  auto w = TextfileWriter::Start(io_, worker_, dir_, 1s, [] { return "supd_up 1\n"; });
  ASSERT_TRUE(w.ok()) << w.error().message;
  ASSERT_TRUE(RunUntil([&] { return (*w)->writes() == 1; }));
  ASSERT_EQ(0, ::chmod(dir_.c_str(), 0500));
  ASSERT_TRUE(RunUntil([&] { return !(*w)->last_error().empty(); }));
  EXPECT_EQ("open " + dir_ + "/" + TmpName() + ": Permission denied", (*w)->last_error());
  EXPECT_EQ("supd_up 1\n", ReadFile(dir_ + "/supd.prom"));  // the last good file stays
  ASSERT_EQ(0, ::chmod(dir_.c_str(), 0700));
  ASSERT_TRUE(RunUntil([&] { return (*w)->writes() == 2; }));
  EXPECT_EQ("", (*w)->last_error());
}

TEST_F(TextfileWriterTest, WriteErrorIsLoggedOnceAndRecoveryOnce) {
  // Root bypasses modes, not this: renaming a file over a directory fails for everyone.
  const std::string path = dir_ + "/supd.prom";
  ASSERT_TRUE(fs::create_directory(path));
  std::ofstream(path + "/keep") << "x";
  auto w = TextfileWriter::Start(io_, worker_, dir_, 1s, [] { return "supd_up 1\n"; });
  ASSERT_TRUE(w.ok()) << w.error().message;
  // Two failed ticks (the start and one interval later), one log line.
  ASSERT_TRUE(RunUntil([&] { return !(*w)->last_error().empty(); }));
  const std::string expected =
      "rename " + dir_ + "/" + TmpName() + " to " + path + ": Is a directory";
  EXPECT_EQ(expected, (*w)->last_error());
  EXPECT_EQ(std::vector<std::string>{"supd.prom"}, List(dir_));  // no temporary file left
  const auto first = std::chrono::steady_clock::now();
  ASSERT_TRUE(RunUntil([&] { return std::chrono::steady_clock::now() - first > 1200ms; }));
  EXPECT_EQ(expected, (*w)->last_error());
  EXPECT_EQ(0u, (*w)->writes());
  EXPECT_EQ(std::vector<std::string>{"error metrics textfile " + path + ": " + expected +
                                     " (retrying every 1 s; logged again when it changes)"},
            Logs());

  fs::remove_all(path);
  ASSERT_TRUE(RunUntil([&] { return (*w)->writes() == 1; }));
  EXPECT_EQ("", (*w)->last_error());
  EXPECT_EQ("supd_up 1\n", ReadFile(path));
  ASSERT_TRUE(RunUntil([&] { return (*w)->writes() == 2; }));
  const auto logs = Logs();
  ASSERT_EQ(2u, logs.size());
  EXPECT_EQ("info metrics textfile " + path + ": written again", logs[1]);
}

TEST_F(TextfileWriterTest, TickIsSkippedWhileTheWriteRuns) {
  auto held = std::make_shared<HeldWorker>(io_);
  int renders = 0;
  auto w = TextfileWriter::Start(io_, held, dir_, 1s, [&renders] {
    ++renders;
    return "supd_up 1\n";
  });
  ASSERT_TRUE(w.ok()) << w.error().message;
  ASSERT_TRUE(RunUntil([&] { return held->held.size() == 1; }));
  // Two more ticks pass while the first write "runs": neither renders nor queues a write.
  ASSERT_TRUE(RunUntil([&] { return (*w)->skipped_ticks() == 2; }));
  EXPECT_EQ(1u, held->held.size());
  EXPECT_EQ(1, renders);
  held->RunOne();
  ASSERT_TRUE(RunUntil([&] { return (*w)->writes() == 1; }));
  ASSERT_TRUE(RunUntil([&] { return held->held.size() == 1; }));  // the next tick writes again
  EXPECT_EQ(2, renders);
}

TEST_F(TextfileWriterTest, DestroyedWhileAWriteRunsDropsItsResult) {
  auto held = std::make_shared<HeldWorker>(io_);
  auto w = TextfileWriter::Start(io_, held, dir_, 1s, [] { return "supd_up 1\n"; });
  ASSERT_TRUE(w.ok()) << w.error().message;
  ASSERT_TRUE(RunUntil([&] { return held->held.size() == 1; }));
  w->reset();
  held->RunOne();  // the write completes on the worker; its continuation finds no writer
  io_.poll();
  EXPECT_EQ("supd_up 1\n", ReadFile(dir_ + "/supd.prom"));
}

}  // namespace
}  // namespace supd::metrics
