// Harness for supd's integration tests: runs the real supd and supctl against the Go programs
// in tests/go/, each test in its own temporary directory.
//
// SupdTest (a gtest fixture) owns one temp dir with units/, logs/ and state/ and, once
// StartSupd() is called, one supd process. TearDown() SIGTERMs supd, expects it to exit 0 in
// time, then fails the test for any process of a service that is still alive, and kills it.
// The test process makes itself a child subreaper, so whatever supd leaves behind when it exits
// becomes our child and cannot escape that check.
//
// Waiting is done with WaitFor(predicate, deadline), never with a fixed sleep. The default
// deadlines are long (30 s): they bound a wait for something that must happen, they cost nothing
// when it does, and a loaded machine (CI runs the suite under ASan on 2 cores) must not turn a
// slow-but-correct supd into a failure. A test never asserts that something did NOT happen within
// a short time; it holds the event back on purpose or checks an order that supd records.
// Nothing here is thread-safe; a test runs on one thread.
#pragma once

#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace supd::integration {

// A posix_spawn attribute set that gives the child default dispositions and an empty signal
// mask, whatever gtest or an earlier test did to ours.
struct SpawnAttr {
  posix_spawnattr_t attr;
  SpawnAttr();
  SpawnAttr(const SpawnAttr&) = delete;
  SpawnAttr& operator=(const SpawnAttr&) = delete;
  ~SpawnAttr();
};

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using Ms = std::chrono::milliseconds;

// What a finished command did.
struct CommandResult {
  int exit_code = -1;   // -1 when killed by a signal or timed out
  int term_signal = 0;  // the signal that ended it, or 0
  bool timed_out = false;
  std::string out;
  std::string err;
  // "exit 1, stdout: '...', stderr: '...'" for assertion messages.
  std::string Describe() const;
};

// Runs argv[0] (absolute path) with the test's environment plus `extra_env` ("NAME=value",
// overriding), stdin from /dev/null, capturing stdout and stderr. Past `timeout` the command is
// SIGKILLed and timed_out is set.
CommandResult RunCommand(const std::vector<std::string>& argv, Ms timeout = 30s,
                         const std::vector<std::string>& extra_env = {});

// Absolute path of a Go test program built from tests/go/<name>.
std::string GoBin(const std::string& name);

// Polls `predicate` every `interval` until it returns true (→ true) or `timeout` passes
// (→ false, after one last try).
bool WaitFor(const std::function<bool()>& predicate, Ms timeout = 30s, Ms interval = 20ms);

enum class ProcState { kGone, kZombie, kAlive };
// From /proc/PID/stat. kGone when there is no such process (reaped, or never existed).
ProcState GetProcState(pid_t pid);
const char* ToString(ProcState state);
// A field of /proc/PID/status ("Uid", "PPid", ...), the text after the colon, trimmed; "" if none.
std::string ProcStatusField(pid_t pid, const std::string& field);
// /proc/PID/cmdline with NULs turned into spaces; "" if gone.
std::string ProcCmdline(pid_t pid);
// Pids whose /proc/PID/stat names `ppid` as their parent.
std::vector<pid_t> ChildrenOf(pid_t ppid);

bool FileExists(const std::string& path);
// Whole file, or "" when it cannot be read.
std::string ReadFile(const std::string& path);
// Soft and hard column of the line of /proc/PID/limits that starts with `name`
// ("Max open files"), as the kernel prints them ("1024", "unlimited"); {"", ""} if none.
std::pair<std::string, std::string> ProcLimit(pid_t pid, const std::string& name);
// Writes atomically (temp file + rename) with `mode`; aborts the test on failure via ADD_FAILURE.
void WriteFile(const std::string& path, const std::string& content, mode_t mode = 0644);
// One pid per non-empty line of `path`; empty if missing.
std::vector<pid_t> ReadPids(const std::string& path);
// Number of non-empty lines in `path` (0 if missing).
int CountLines(const std::string& path);

// A 127.0.0.1 TCP port that was free a moment ago (bind port 0, read it, close).
int FreeTcpPort();
// GET / on 127.0.0.1:port with HTTP/1.0; the body, or nullopt if the request failed.
std::optional<std::string> HttpGet(int port, Ms timeout = 10s);

// What `hey` reported: responses with status 200, and everything else (other statuses and
// errors). `summarized` is false when hey did not run to its summary (not installed, crashed):
// then the counts mean nothing.
struct HeyReport {
  int ok = 0;
  int failed = 0;
  bool summarized = false;
  std::string output;  // hey's own, for assertion messages
};
// Whether /usr/bin/hey is there (tests that need it skip without).
bool HeyInstalled();
// Runs `hey -z <duration> -c <concurrency> -disable-keepalive <url>` and calls `during` on this
// thread meanwhile; returns once both are done. No keep-alive: every request is a new connection
// through the listening socket, which is what restarts must keep serving. `keepalive`: hey's
// default instead, connections reused (as the demo runs it): the old instance must close its
// idle ones without failing a request in flight.
HeyReport RunHeyDuring(const std::string& url, Ms duration, int concurrency,
                       const std::function<void()>& during, bool keepalive = false);

// Sends `payload` on a new connection to the unix socket at `path` and reads until the first
// '\n' or EOF or timeout. nullopt if the connection failed; `closed` tells whether the peer
// closed the connection without a full line.
struct RawReply {
  std::string line;  // without the '\n'
  bool closed = false;
};
std::optional<RawReply> RawControlRequest(const std::string& socket_path,
                                          const std::string& payload, Ms timeout = 30s);

// A client connection to a unix stream socket that stays open until destroyed, for tests
// that speak the control protocol by hand.
class RawClient {
 public:
  // Connects; connected() tells whether that worked.
  explicit RawClient(const std::string& socket_path);
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;
  RawClient(RawClient&& other) noexcept
      : fd_(other.fd_), closed_(other.closed_), buffer_(std::move(other.buffer_)) {
    other.fd_ = -1;
  }
  ~RawClient();
  bool connected() const { return fd_ >= 0; }
  // Writes all of `data` (false if the peer closed or the deadline passed).
  bool Send(const std::string& data, Ms timeout = 30s);
  // The next line without '\n'; nullopt on timeout or EOF (then closed() is true).
  std::optional<std::string> ReadLine(Ms timeout = 30s);
  bool closed() const { return closed_; }

 private:
  int fd_ = -1;
  bool closed_ = false;
  std::string buffer_;
};

// Replaces every "{key}" in `text` by its value.
std::string Subst(std::string text, const std::map<std::string, std::string>& vars);

class SupdTest : public ::testing::Test {
 protected:
  struct SupdOptions {
    std::vector<std::string> wrapper;     // e.g. {"/usr/bin/setpriv", "--reuid=65534", ...}
    // supd's path instead of the build's (a copy that a test replaces, as an upgrade does).
    std::string binary;
    std::vector<std::string> extra_args;  // appended to supd's command line
    std::vector<std::string> extra_env;   // added to supd's environment
    int stderr_fd = -1;  // supd's stderr instead of the file SupdStderr() reads (stdout stays)
    Ms ready_timeout = 60s;               // for `supctl version` to answer
    // The wrapper runs supd as its child instead of exec'ing it (unshare --fork): supd's own
    // pid is then the wrapper's one child, and signals go to it (unshare blocks SIGTERM and
    // SIGINT while it waits; it exits with supd's exit status, or of supd's signal).
    bool wrapper_forks = false;
  };

  void SetUp() override;
  void TearDown() override;

  // Writes units/<name> with "{go}" → the Go programs' dir and "{dir}" → the test's temp dir.
  void WriteUnit(const std::string& name, const std::string& content);
  void RemoveUnit(const std::string& name);

  // Starts supd and waits until `supctl version` answers. Fatal failure if it does not;
  // call as ASSERT_NO_FATAL_FAILURE(StartSupd()).
  void StartSupd(const SupdOptions& options);
  void StartSupd() { StartSupd(SupdOptions{}); }
  bool SupdAlive();
  // SIGTERMs supd and waits at most `timeout` for it to exit. Returns its exit code, or -1 if it
  // was killed by a signal, or -2 if it did not exit in time (it is then SIGKILLed).
  int StopSupd(Ms timeout = 30s);

  // Runs supctl --socket <ours> args... (`wrapper` goes in front, e.g. setpriv).
  CommandResult Supctl(const std::vector<std::string>& args,
                       const std::vector<std::string>& wrapper = {});
  // `supctl status <name> --json`, the object for `name`; nullopt when the command fails or its
  // output is not what the contract says (no assertion: usable in WaitFor predicates).
  std::optional<nlohmann::json> Status(const std::string& name);
  // The whole `supctl status --json` array; nullopt on failure.
  std::optional<nlohmann::json> StatusAll();
  // Status(name)["state"], or "" when unknown.
  std::string State(const std::string& name);
  // Status(name)["main_pid"], or 0 when null/unknown.
  pid_t MainPid(const std::string& name);
  int Restarts(const std::string& name);  // -1 when unknown
  bool WaitForState(const std::string& name, const std::string& state, Ms timeout = 30s);
  // Waits until the service is running with a main pid; returns it (0 on timeout).
  pid_t WaitForRunning(const std::string& name, Ms timeout = 30s);

  std::string LogPath(const std::string& service) const;
  std::string ServiceLog(const std::string& service) const { return ReadFile(LogPath(service)); }
  bool WaitForLog(const std::string& service, const std::string& needle, Ms timeout = 30s);
  std::string SupdStderr() const { return ReadFile(supd_stderr_); }
  // SIGKILLs supd and reaps it, as a crash would end it.
  void KillSupd();
  // Waits at most `timeout` for supd to exit by itself (a unit's FailureAction=, say) and reaps
  // it: its exit code as StopSupd() returns it (-1 for a signal, -2 when it did not exit in
  // time; it is then left running for TearDown). An exit here is not a crash.
  int WaitSupdExit(Ms timeout = 30s);
  // The pid of supd itself (not of its wrapper when that forks it: wrapper_forks), as seen from
  // the test; -1 when it is not running.
  pid_t SupdOwnPid() const { return supd_pid_ < 0 ? -1 : supd_own_pid_; }

  // Processes to SIGKILL at teardown whatever happens (pids, or files of pids).
  void TrackPid(pid_t pid) { tracked_pids_.push_back(pid); }
  void TrackPidFile(const std::string& path) { tracked_pid_files_.push_back(path); }

  // A description of supd's state and recent stderr for assertion messages.
  std::string SupdContext() const;

  std::string dir_;        // the test's temp dir, 0755
  std::string units_dir_;  // dir_/units
  std::string log_dir_;    // dir_/logs
  std::string state_dir_;  // dir_/state
  std::string socket_;     // dir_/supd.sock
  std::string supd_stderr_;
  pid_t supd_pid_ = -1;        // -1 when not running (or reaped); the wrapper's, if any
  pid_t supd_own_pid_ = -1;    // supd itself: supd_pid_, or the forking wrapper's child
  int supd_exit_status_ = 0;   // raw wait status once reaped
  bool supd_started_ = false;  // StartSupd() spawned it
  bool supd_stopped_ = false;  // StopSupd() ended it (any other exit is a crash)

 private:
  void KillLeftovers();
  std::vector<pid_t> tracked_pids_;
  std::vector<std::string> tracked_pid_files_;
};

}  // namespace supd::integration
