// Service output capture against the real supd: line framing, ordering under a burst, the crash
// excerpt, size rotation, `supctl logs` (memory, files, follow across a restart) and a full
// disk. The output comes from tests/go/logspam.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sched.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "lib/base/unique_fd.h"
#include "lib/log/service_log.h"
#include "tests/integration/harness.h"

namespace supd::integration {
namespace {

using nlohmann::json;

class LogsTest : public SupdTest {};

// Every record of `path`, parsed; a line that is not a record fails the test.
std::vector<LogRecord> ReadRecords(const std::string& path) {
  std::vector<LogRecord> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    auto r = ParseLogLine(line);
    EXPECT_TRUE(r) << "not a record in " << path << ": " << line.substr(0, 200);
    if (r) out.push_back(std::move(*r));
  }
  return out;
}

TEST_F(LogsTest, BurstIsCompleteInOrderLongLineSplitAndPanicIsTheCrashExcerpt) {
  constexpr int kLines = 100000;
  WriteUnit("spam.service", R"([Service]
ExecStart={go}/logspam burst 100000
[X-Supd]
LogMaxBytes=1G
)");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  CommandResult start = Supctl({"start", "spam"});
  ASSERT_EQ(0, start.exit_code) << start.Describe() << SupdContext();
  ASSERT_TRUE(WaitFor(
      [&] {
        auto s = Status("spam.service");
        return s && (*s)["last_exit"].is_object() && s->value("state", "") != "running";
      },
      60s))
      << Status("spam.service").value_or(json()).dump() << SupdContext();

  std::vector<std::string> out, err;
  std::string big;
  bool in_big = false;
  for (const LogRecord& r : ReadRecords(LogPath("spam.service"))) {
    if (r.stream == "out") {
      if (in_big || r.text.rfind("BIG:", 0) == 0) {
        EXPECT_LE(r.text.size(), 48u * 1024);
        big += r.text;
        in_big = r.continued;
        if (!r.continued) out.push_back("<big>");
        continue;
      }
      EXPECT_FALSE(r.continued) << r.text.substr(0, 100);
      out.push_back(r.text);
    } else {
      err.push_back(r.text);
    }
  }
  ASSERT_EQ(out.size(), static_cast<size_t>(kLines + 2)) << "stdout records";
  for (int i = 0; i < kLines; ++i)
    ASSERT_EQ("out line " + std::to_string(i), out[i]) << "stdout line " << i;
  EXPECT_EQ("<big>", out[kLines]);
  EXPECT_EQ("no newline at the end", out[kLines + 1]);
  // The 1 MiB line: "BIG:" then 8-digit offsets, whole and in order after reassembly.
  ASSERT_GE(big.size(), size_t{1} << 20);
  for (size_t off = 4; off + 8 <= big.size(); off += 8) {
    char want[16];
    std::snprintf(want, sizeof(want), "%08zu", off);
    ASSERT_EQ(want, big.substr(off, 8)) << "long line broken at offset " << off;
  }
  ASSERT_GT(err.size(), static_cast<size_t>(kLines));
  for (int i = 0; i < kLines; ++i)
    ASSERT_EQ("err line " + std::to_string(i), err[i]) << "stderr line " << i;
  EXPECT_EQ("panic: logspam: deliberate panic after the burst", err[kLines]);

  auto s = Status("spam.service");
  ASSERT_TRUE(s);
  const json& le = (*s)["last_exit"];
  EXPECT_EQ(2, le.value("code", -1)) << le.dump();
  ASSERT_TRUE(le["stderr_excerpt"].is_array()) << le.dump();
  std::string excerpt;
  for (const auto& l : le["stderr_excerpt"]) excerpt += l.get<std::string>() + "\n";
  EXPECT_NE(std::string::npos, excerpt.find("panic: logspam: deliberate panic after the burst"))
      << excerpt;
  EXPECT_NE(std::string::npos, excerpt.find("goroutine 1 [running]:")) << excerpt;
  EXPECT_NE(std::string::npos, excerpt.find("main.helper(")) << excerpt;
  EXPECT_LE(le["stderr_excerpt"].size(), 40u);
  CommandResult human = Supctl({"status", "spam"});
  EXPECT_NE(std::string::npos, human.out.find("| goroutine 1 [running]:")) << human.Describe();

  // `logs`: the last lines from memory, older ones from the file, stream filter, JSON.
  CommandResult last = Supctl({"logs", "spam", "-n", "1", "--stream", "out"});
  ASSERT_EQ(0, last.exit_code) << last.Describe();
  EXPECT_NE(std::string::npos, last.out.find("out: no newline at the end")) << last.out;
  EXPECT_EQ(1, std::count(last.out.begin(), last.out.end(), '\n')) << last.out;
  CommandResult many = Supctl({"logs", "spam", "-n", "5000", "--stream", "err", "--json"});
  ASSERT_EQ(0, many.exit_code) << many.err;
  std::istringstream lines(many.out);
  std::string line;
  int n = 0;
  std::string first;
  while (std::getline(lines, line)) {
    auto j = json::parse(line);
    EXPECT_EQ("err", j.value("stream", ""));
    EXPECT_EQ("spam.service", j.value("service", ""));
    if (n++ == 0) first = j.value("text", "");
  }
  EXPECT_EQ(5000, n);
  const int panic_lines = static_cast<int>(err.size()) - kLines;
  EXPECT_EQ("err line " + std::to_string(kLines - (5000 - panic_lines)), first);
}

TEST_F(LogsTest, RotationKeepsAtMostLogMaxFilesAndLosesNoLine) {
  WriteUnit("rot.service", R"([Service]
Type=oneshot
ExecStart={go}/logspam lines 20000
[X-Supd]
LogMaxBytes=64K
LogMaxFiles=4
)");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  CommandResult start = Supctl({"start", "rot"});
  ASSERT_EQ(0, start.exit_code) << start.Describe() << SupdContext();
  const std::string path = LogPath("rot.service");
  std::vector<LogRecord> all;
  ASSERT_TRUE(WaitFor([&] {
    all.clear();
    for (const std::string& p : {path + ".3", path + ".2", path + ".1", path})
      for (auto& r : ReadRecords(p)) all.push_back(std::move(r));
    return !all.empty() && all.back().text.rfind("line 19999 ", 0) == 0;
  }, 60s)) << SupdContext();
  EXPECT_FALSE(FileExists(path + ".4"));
  for (const std::string& p : {path, path + ".1", path + ".2", path + ".3"}) {
    ASSERT_TRUE(FileExists(p)) << p;
    std::ifstream f(p, std::ios::ate);
    EXPECT_LE(static_cast<long>(f.tellg()), 64 * 1024) << p;
  }
  // A contiguous run of numbers up to the last: nothing lost at any boundary.
  int first = std::stoi(all.front().text.substr(5));
  EXPECT_GT(first, 0) << "nothing was rotated away";
  for (size_t i = 0; i < all.size(); ++i)
    ASSERT_EQ(0u, all[i].text.rfind("line " + std::to_string(first + static_cast<int>(i)) + " ", 0))
        << "record " << i << ": " << all[i].text;
  auto s = Status("rot.service");
  ASSERT_TRUE(s);
  EXPECT_GT((*s)["log"].value("rotations", 0), 0) << s->dump();
  // `logs` reads across the rotated files too (more lines than memory holds; three full files
  // of ~690 records are always there).
  CommandResult logs = Supctl({"logs", "rot", "-n", "1500", "--json"});
  ASSERT_EQ(0, logs.exit_code) << logs.Describe();
  EXPECT_EQ(1500, std::count(logs.out.begin(), logs.out.end(), '\n'));
  EXPECT_NE(std::string::npos, logs.out.find("line 19999 ")) << logs.out.substr(logs.out.size() - 300);
}

TEST_F(LogsTest, FollowSeesTheNextInstanceAfterARestart) {
  WriteUnit("tick.service", R"([Service]
ExecStart={go}/logspam tick
Restart=always
RestartSec=0
)");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  ASSERT_EQ(0, Supctl({"start", "tick"}).exit_code) << SupdContext();
  const pid_t first = WaitForRunning("tick.service");
  ASSERT_GT(first, 0);
  std::optional<RawClient> c;
  c.emplace(socket_);
  ASSERT_TRUE(c->connected());
  // More lines than memory has: the history comes from the file (read on the log writer
  // thread) while live lines wait, then both, none twice.
  ASSERT_TRUE(c->Send(R"({"id":1,"cmd":"logs","args":{"services":["tick"],"follow":true,"lines":1500}})"
                      "\n"));
  std::set<std::string> seen;  // "tick N pid P" is unique
  auto saw_pid = [&](pid_t pid) {
    for (int i = 0; i < 200; ++i) {
      auto line = c->ReadLine(30s);
      if (!line) return false;
      auto j = json::parse(*line);
      EXPECT_TRUE(j.value("ok", false)) << *line;
      EXPECT_TRUE(j.value("more", false)) << *line;
      for (const auto& l : j["result"]["lines"]) {
        const std::string text = l.value("text", "");
        EXPECT_TRUE(seen.insert(text).second) << "sent twice: " << text;
        if (l.value("pid", 0) == pid &&
            l.value("text", "").find("pid " + std::to_string(pid)) != std::string::npos)
          return true;
      }
    }
    return false;
  };
  ASSERT_TRUE(saw_pid(first)) << SupdContext();
  ASSERT_EQ(0, kill(first, SIGKILL));
  pid_t second = 0;
  ASSERT_TRUE(WaitFor([&] {
    second = MainPid("tick.service");
    return second > 0 && second != first;
  })) << SupdContext();
  EXPECT_TRUE(saw_pid(second)) << SupdContext();
  // The follower goes when the client hangs up; supd carries on.
  c.reset();
  EXPECT_EQ(0, Supctl({"logs", "tick", "-n", "3"}).exit_code);
}

// `logs` of a service that never ran answers with no lines and leaves no empty file behind; a
// follower of it sees the lines once it starts.
TEST_F(LogsTest, LogsOfANeverStartedServiceCreatesNothingAndFollowsItsStart) {
  WriteUnit("later.service", R"([Service]
ExecStart={go}/logspam tick
)");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  const std::string file = log_dir_ + "/later.service.log";
  CommandResult none = Supctl({"logs", "later", "--json"});
  ASSERT_EQ(0, none.exit_code) << none.Describe();
  EXPECT_EQ(std::string::npos, none.out.find("tick")) << none.out;
  EXPECT_FALSE(FileExists(file)) << "reading the logs created " << file;

  RawClient c(socket_);
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.Send(R"({"id":1,"cmd":"logs","args":{"services":["later"],"follow":true}})" "\n"));
  auto first = c.ReadLine(30s);
  ASSERT_TRUE(first) << SupdContext();
  EXPECT_TRUE(json::parse(*first)["result"]["lines"].empty()) << *first;
  ASSERT_EQ(0, Supctl({"start", "later"}).exit_code) << SupdContext();
  auto next = c.ReadLine(30s);
  ASSERT_TRUE(next) << SupdContext();
  auto j = json::parse(*next);
  ASSERT_FALSE(j["result"]["lines"].empty()) << *next;
  EXPECT_NE(std::string::npos, j["result"]["lines"][0].value("text", "").find("tick")) << *next;
  EXPECT_TRUE(FileExists(file));
}

// A follower may ask for a history bigger than the backlog a slow stream is allowed (4 MiB):
// the history is one answer, sent whole, and the stream goes on after it.
TEST_F(LogsTest, FollowWithAHistoryOverFourMiBGetsItWhole) {
  WriteUnit("many.service", R"([Service]
Type=oneshot
ExecStart={go}/logspam lines 60000
[X-Supd]
LogMaxBytes=1G
)");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  ASSERT_EQ(0, Supctl({"start", "many"}).exit_code) << SupdContext();
  RawClient c(socket_);
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.Send(
      R"({"id":1,"cmd":"logs","args":{"services":["many"],"follow":true,"lines":60000}})" "\n"));
  auto first = c.ReadLine(60s);  // ~1 s here, ~10 s under ASan: 60,000 records from the file
  ASSERT_TRUE(first) << SupdContext();
  EXPECT_GT(first->size(), size_t{4} << 20);
  auto j = json::parse(*first);
  ASSERT_TRUE(j.value("ok", false)) << first->substr(0, 300);
  EXPECT_TRUE(j.value("more", false));
  EXPECT_EQ(60000u, j["result"]["lines"].size());
  EXPECT_FALSE(c.ReadLine(200ms)) << "nothing more: the service is done";
  EXPECT_FALSE(c.closed()) << "the follower is still there";
}

// 200,000 short lines (60 bytes) at once, then done: far more than a follower's 1 MiB backlog.
// Under ASan supd handles each line ~10x slower: 50,000 lines (3 MiB) still overflow the
// backlog several times over, and the oneshot start stays well within supctl's 60 s on a loaded
// machine (200,000 did not).
#if defined(__SANITIZE_ADDRESS__)
constexpr int kBurstLines = 50000;
#else
constexpr int kBurstLines = 200000;
#endif
const std::string kBurstUnit = R"([Service]
Type=oneshot
ExecStart={go}/logspam lines )" + std::to_string(kBurstLines) + R"(
[X-Supd]
LogMaxBytes=1G
)";

// A follower that does not read while a burst goes by: every line is either sent to it or
// counted in a "skipped" answer, exactly, and that count arrives although the service has gone
// quiet by the time the follower catches up. The file keeps every line.
TEST_F(LogsTest, AFollowerThatFellBehindGetsEveryLineOrItsCount) {
  constexpr int kLines = kBurstLines;
  WriteUnit("burst.service", kBurstUnit);
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  RawClient c(socket_);
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.Send(
      R"({"id":1,"cmd":"logs","args":{"services":["burst"],"follow":true,"lines":0}})" "\n"));
  auto history = c.ReadLine(30s);
  ASSERT_TRUE(history) << SupdContext();
  // Not read meanwhile: a oneshot start answers once the program is done.
  ASSERT_EQ(0, Supctl({"start", "burst"}).exit_code) << SupdContext();
  uint64_t sent = 0, skipped = 0, last_number = 0;
  bool in_order = true;
  while (sent + skipped < kLines) {
    auto line = c.ReadLine(30s);
    if (!line) break;
    auto j = json::parse(*line);
    ASSERT_TRUE(j.value("more", false)) << line->substr(0, 200);
    skipped += j["result"].value("skipped", uint64_t{0});
    for (const auto& l : j["result"]["lines"]) {
      // "line N of the rotation test, …": numbers only grow.
      const uint64_t n = std::stoull(l.value("text", "").substr(5));
      if (sent > 0 && n <= last_number) in_order = false;
      last_number = n;
      ++sent;
    }
  }
  EXPECT_EQ(uint64_t{kLines}, sent + skipped) << sent << " sent, " << skipped << " skipped";
  EXPECT_GT(skipped, 0u) << "the follower did not read during a " << kLines << "-line burst";
  EXPECT_TRUE(in_order);
  const std::string text = ReadFile(log_dir_ + "/burst.service.log");
  EXPECT_EQ(size_t{kLines}, static_cast<size_t>(std::count(text.begin(), text.end(), '\n')));
}

// The same through supctl, as a person sees it: `supctl logs -f` whose stdout is not read (a
// terminal that cannot keep up) during a burst says on stderr how many lines it missed, and
// its stdout has all the others.
TEST_F(LogsTest, SupctlFollowTellsHowManyLinesItMissed) {
  constexpr uint64_t kLines = kBurstLines;
  WriteUnit("burst.service", kBurstUnit);
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  // A first burst, so that `-n 1` has a line to show: once supctl printed it, it follows.
  ASSERT_EQ(0, Supctl({"start", "burst"}).exit_code) << SupdContext();

  int out[2];
  ASSERT_EQ(0, pipe2(out, O_CLOEXEC));
  const std::string err_path = dir_ + "/supctl.stderr";
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_addopen(&fa, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  std::vector<std::string> args = {SUPCTL_BIN, "--socket", socket_, "logs", "burst", "-f", "-n", "1"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  ASSERT_EQ(0, posix_spawn(&pid, SUPCTL_BIN, &fa, nullptr, argv.data(), environ));
  posix_spawn_file_actions_destroy(&fa);
  close(out[1]);
  const int rd = out[0];

  std::string buf;
  uint64_t printed = 0;
  // Reads what supctl printed so far (waiting at most `wait`); counts whole lines.
  auto drain = [&](std::chrono::milliseconds wait) {
    pollfd p{rd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(wait.count())) <= 0) return;
    char chunk[65536];
    const ssize_t n = read(rd, chunk, sizeof chunk);
    if (n <= 0) return;
    buf.append(chunk, static_cast<size_t>(n));
    size_t nl;
    while ((nl = buf.find('\n')) != std::string::npos) {
      ++printed;
      buf.erase(0, nl + 1);
    }
  };
  ASSERT_TRUE(WaitFor([&] {
    drain(std::chrono::milliseconds(50));
    return printed >= 1;
  }, 30s)) << "supctl printed no history line";
  printed = 0;  // from here on: the second burst, not read while it runs
  ASSERT_EQ(0, Supctl({"start", "burst"}).exit_code) << SupdContext();
  uint64_t skipped = 0;
  auto skipped_so_far = [&] {
    uint64_t sum = 0;
    std::istringstream err(ReadFile(err_path));
    for (std::string line; std::getline(err, line);) {
      unsigned long long n = 0;
      if (std::sscanf(line.c_str(), "supctl: %llu lines skipped:", &n) == 1) sum += n;
    }
    return sum;
  };
  EXPECT_TRUE(WaitFor([&] {
    drain(std::chrono::milliseconds(20));
    skipped = skipped_so_far();
    return printed + skipped >= kLines;
  }, 60s)) << printed << " printed, " << skipped << " skipped";
  kill(pid, SIGTERM);
  waitpid(pid, nullptr, 0);
  close(rd);
  EXPECT_GT(skipped, 0u) << "stdout was not read during the burst";
  EXPECT_EQ(kLines, printed + skipped) << printed << " printed, " << skipped << " skipped";
  EXPECT_NE(std::string::npos,
            ReadFile(err_path).find("lines skipped: supctl did not keep up with the output"));
}

TEST_F(LogsTest, FullDiskDropsAndCountsLinesThenRecovers) {
  if (geteuid() != 0) GTEST_SKIP() << "mounting a tmpfs needs root";
  if (::mount("tmpfs", log_dir_.c_str(), "tmpfs", 0, "size=256k,mode=0750") != 0)
    GTEST_SKIP() << "cannot mount a tmpfs on " << log_dir_ << ": " << strerror(errno);
  struct Unmount {
    std::string dir;
    ~Unmount() { ::umount2(dir.c_str(), MNT_DETACH); }
  } unmount{log_dir_};
  WriteUnit("fill.service", R"([Service]
Type=oneshot
ExecStart={go}/logspam lines 20000
)");
  WriteUnit("tick.service", R"([Service]
ExecStart={go}/logspam tick
)");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  ASSERT_EQ(0, Supctl({"start", "tick"}).exit_code) << SupdContext();
  Supctl({"start", "fill"});  // fills the disk; its own lines are dropped too
  ASSERT_TRUE(WaitFor([&] {
    auto s = Status("tick.service");
    return s && (*s)["log"].value("write_failing", false) &&
           (*s)["log"].value("dropped_lines", 0) > 0;
  }, 60s)) << Status("tick.service").value_or(json()).dump() << SupdContext();
  auto s = Status("tick.service");
  EXPECT_EQ("running", s->value("state", ""));
  EXPECT_NE(std::string::npos, (*s)["log"].value("last_write_error", "").find("No space left"))
      << s->dump();
  bool warned = false;
  for (const auto& w : (*s)["warnings"])
    warned = warned || w.get<std::string>().find("lines dropped") != std::string::npos;
  EXPECT_TRUE(warned) << s->dump();
  // Space comes back: writing resumes by itself, the counts stay for the record.
  ASSERT_EQ(0, ::truncate(LogPath("fill.service").c_str(), 0));
  EXPECT_TRUE(WaitFor([&] {
    auto t = Status("tick.service");
    return t && !(*t)["log"].value("write_failing", true);
  }, 30s)) << Status("tick.service").value_or(json()).dump();
  const size_t before = ServiceLog("tick.service").size();
  EXPECT_TRUE(WaitFor([&] { return ServiceLog("tick.service").size() > before; }, 30s));
  ASSERT_EQ(0, Supctl({"stop", "tick"}).exit_code);
}

TEST_F(LogsTest, LogsAndTheCrashExcerptAreForPrivilegedClientsOnly) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to run supctl as another user";
  const std::vector<std::string> nobody = {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534",
                                           "--clear-groups"};
  WriteUnit("crash.service", R"([Service]
ExecStart=/bin/sh -c 'echo secret-token >&2; exit 3'
)");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  Supctl({"start", "crash"});
  ASSERT_TRUE(WaitFor([&] {
    auto s = Status("crash.service");
    return s && (*s)["last_exit"].is_object();
  })) << SupdContext();
  auto root = Status("crash.service");
  EXPECT_EQ(json::array({"secret-token"}), (*root)["last_exit"]["stderr_excerpt"]) << root->dump();
  CommandResult logs = Supctl({"logs", "crash"}, nobody);
  EXPECT_EQ(1, logs.exit_code) << logs.Describe();
  EXPECT_NE(std::string::npos, logs.err.find("permission denied")) << logs.Describe();
  CommandResult st = Supctl({"status", "crash", "--json"}, nobody);
  ASSERT_EQ(0, st.exit_code) << st.Describe();
  EXPECT_EQ(std::string::npos, st.out.find("secret-token")) << st.out;
}

TEST_F(LogsTest, StandardOutputToAFileAndJournalFallsBackToTheLogWithAWarning) {
  const bool journald = FileExists("/run/systemd/journal/stdout");
  WriteUnit("out.service", R"([Service]
ExecStart=/bin/sh -c 'echo to-the-file; echo to-stderr >&2; exec sleep 60'
StandardOutput=append:{dir}/out.txt
StandardError=journal
)");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  ASSERT_EQ(0, Supctl({"start", "out"}).exit_code) << SupdContext();
  EXPECT_TRUE(WaitFor([&] { return ReadFile(dir_ + "/out.txt") == "to-the-file\n"; }))
      << ReadFile(dir_ + "/out.txt");
  if (!journald) {
    EXPECT_TRUE(WaitForLog("out.service", "err: to-stderr")) << ServiceLog("out.service");
    EXPECT_EQ(std::string::npos, ServiceLog("out.service").find("to-the-file"));
    auto s = Status("out.service");
    ASSERT_TRUE(s);
    bool warned = false;
    for (const auto& w : (*s)["warnings"])
      warned = warned || w.get<std::string>() ==
                             "StandardError=journal: journald is not running (no socket "
                             "/run/systemd/journal/stdout); writing to supd's log file instead";
    EXPECT_TRUE(warned) << s->dump();
  }
  ASSERT_EQ(0, Supctl({"stop", "out"}).exit_code);
}

// A stand-in for journald in a mount namespace of this test process's own (ctest runs each test
// in a process; supd and its services inherit the namespace): a tmpfs on /run with journald's
// two sockets at their fixed paths, so that nothing else on the host sees them. The process
// stays in its private namespace afterwards; with the tmpfs unmounted it sees the host's /run
// again, so later tests in the same process (the binary run by hand) are not affected.
class FakeJournald {
 public:
  // Empty when it could not be set up (not root, no mount namespaces): the reason.
  std::string SetUp() {
    if (geteuid() != 0) return "needs root (a mount namespace and a tmpfs on /run)";
    if (::unshare(CLONE_NEWNS) != 0) return std::string("unshare(CLONE_NEWNS): ") + strerror(errno);
    if (::mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
      return std::string("make / private: ") + strerror(errno);
    if (::mount("tmpfs", "/run", "tmpfs", 0, "mode=0755") != 0)
      return std::string("mount a tmpfs on /run: ") + strerror(errno);
    mounted_ = true;
    std::filesystem::create_directories("/run/systemd/journal");
    stream_ = Bind(SOCK_STREAM, "/run/systemd/journal/stdout");
    entries_ = Bind(SOCK_DGRAM, "/run/systemd/journal/socket");
    if (stream_ < 0 || entries_ < 0) return std::string("bind: ") + strerror(errno);
    if (::listen(stream_, 16) != 0) return std::string("listen: ") + strerror(errno);
    // Entries are read as they come, as journald does: a datagram socket queues only
    // net.unix.max_dgram_qlen of them (10 here) before the sender blocks.
    reader_ = std::thread([this] {
      while (!stop_) {
        pollfd p{entries_, POLLIN, 0};
        if (::poll(&p, 1, 50) != 1) continue;
        char buf[65536];
        const ssize_t n = ::recv(entries_, buf, sizeof(buf), 0);
        std::lock_guard<std::mutex> lock(mu_);
        if (n > 0) entries_seen_.emplace_back(buf, static_cast<size_t>(n));
      }
    });
    return "";
  }
  ~FakeJournald() {
    stop_ = true;
    if (reader_.joinable()) reader_.join();
    accepted_.push_back(stream_);
    accepted_.push_back(entries_);
    for (int fd : accepted_)
      if (fd >= 0) ::close(fd);
    if (mounted_) ::umount2("/run", MNT_DETACH);
  }
  // Accepts the next stream and keeps it open until the end of the test; -1 after 10 s.
  int Accept() {
    pollfd p{stream_, POLLIN, 0};
    if (::poll(&p, 1, 10000) != 1) return -1;
    const int c = ::accept4(stream_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c >= 0) accepted_.push_back(c);
    return c;
  }
  // The next stream a service's output opened, read until `until` arrives (or 10 s pass).
  std::string ReadStream(const std::string& until) {
    std::string data;
    const int c = Accept();
    if (c < 0) return data;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (data.find(until) == std::string::npos && std::chrono::steady_clock::now() < deadline) {
      pollfd q{c, POLLIN, 0};
      if (::poll(&q, 1, 1000) != 1) continue;
      char buf[4096];
      const ssize_t n = ::read(c, buf, sizeof(buf));
      if (n <= 0) break;
      data.append(buf, static_cast<size_t>(n));
    }
    return data;
  }
  // The journal entries received so far (each "FIELD=value\n…").
  std::vector<std::string> Entries() {
    std::lock_guard<std::mutex> lock(mu_);
    return entries_seen_;
  }

 private:
  static int Bind(int type, const std::string& path) {
    const int fd = ::socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    if (fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      ::close(fd);
      return -1;
    }
    return fd;
  }
  bool mounted_ = false;
  std::vector<int> accepted_;
  std::thread reader_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<std::string> entries_seen_;
  int stream_ = -1;
  int entries_ = -1;
};

// StandardOutput=journal where journald runs: the stream carries journald's header
// (identifier, unit id, priority, level prefix, three forward flags) and then the lines; supd
// under journald (JOURNAL_STREAM naming its stderr) sends its own log as entries. Both go
// through libsystemd, which supd loads only then.
TEST_F(LogsTest, JournalGetsTheServicesStreamAndSupdsOwnEntriesThroughLibsystemd) {
  FakeJournald journald;
  if (std::string why = journald.SetUp(); !why.empty()) GTEST_SKIP() << why;
  WriteUnit("jt.service", R"([Service]
ExecStart=/bin/sh -c 'echo hello-journal; echo "<3>bad-thing" >&2; exec sleep 60'
SyslogIdentifier=jt-ident
StandardOutput=journal
)");
  // supd's stderr is a stream to the fake journald, named by JOURNAL_STREAM as systemd does.
  UniqueFd own(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strcpy(addr.sun_path, "/run/systemd/journal/stdout");
  ASSERT_EQ(0, ::connect(own.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)));
  struct stat st {};
  ASSERT_EQ(0, ::fstat(own.get(), &st));
  ASSERT_GE(journald.Accept(), 0);  // supd's own stream
  SupdOptions options;
  options.extra_env = {"JOURNAL_STREAM=" + std::to_string(st.st_dev) + ":" +
                       std::to_string(st.st_ino)};
  options.stderr_fd = own.get();
  ASSERT_NO_FATAL_FAILURE(StartSupd(options));
  own = UniqueFd();
  ASSERT_EQ(0, Supctl({"start", "jt"}).exit_code);
  const std::string stream = journald.ReadStream("bad-thing\n");
  EXPECT_EQ("jt-ident\n\n6\n1\n0\n0\n0\nhello-journal\n<3>bad-thing\n", stream);
  ASSERT_EQ(0, Supctl({"stop", "jt"}).exit_code);
  // supd stops while the fake journald is still there: its last lines must not reach a real
  // journald once this test's /run is unmounted.
  EXPECT_EQ(0, StopSupd());
  // The reader thread may not have taken the last datagrams yet: wait for the last line.
  WaitFor([&] {
    for (const std::string& e : journald.Entries())
      if (e.find("MESSAGE=all services stopped; exiting with status 0\n") == 0) return true;
    return false;
  });
  const std::vector<std::string> entries = journald.Entries();
  std::string all;
  bool loaded = false;
  for (const std::string& e : entries) {
    all += e + "--\n";
    loaded = loaded || (e.find("MESSAGE=loaded 1 units from ") == 0 &&
                        e.find("\nPRIORITY=6\nSYSLOG_IDENTIFIER=supd\n") != std::string::npos);
  }
  EXPECT_TRUE(loaded) << "supd's own log did not reach the journal as entries:\n" << all;
  EXPECT_NE(std::string::npos, all.find("MESSAGE=all services stopped; exiting with status 0\n"))
      << all;
}

}  // namespace
}  // namespace supd::integration
