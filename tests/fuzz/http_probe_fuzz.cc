// libFuzzer target: an HTTP probe's whole path, from the socket to the result. A loopback server
// in this process reads the probe's request and answers with the input, byte for byte, so that
// the fuzzer plays a broken or hostile service; StartHttpCheck (lib/health/probe_check.h) does a
// real check against it. The same input also goes to the pure parser (ParseHttpHead,
// BodyExcerpt), whose incremental use the check relies on.
//
// How the server answers is derived from a hash of the input (so that the whole input is the
// response): in 1 to 3 writes at derived offsets, with a turn of the loop between them (the
// check's read usually sees each write on its own); then it ends the response with a FIN (half
// of the inputs), a reset (a quarter), or keeps the connection open until the check ends (a
// quarter: TimeoutSec=50ms ends those). One input in eight has its Check destroyed after a
// derived write instead (cancellation: `done` must then never come), one in two destroys the
// Check from inside `done` (allowed by the contract).
//
// Invariants (a violation traps, libFuzzer saves the input):
// - `done` is called exactly once (never after the Check's destruction), never from inside
//   StartHttpCheck; afterwards nothing of the check is left (no handler, no socket, no leak);
// - ok only if the input starts with a well-formed status line with a code from 200 to 399 and
//   its headers end within 16 KiB; such an input is ok unless the loop was late (a timeout
//   with less than 20ms between the response's last write and the deadline);
// - `output` is at most 512 bytes, and empty on success; a failure has a message;
// - the contract's messages for an empty response, for bytes that are not "HTTP/", and for a
//   complete head with a failing code ("HTTP 503 ...").
// Each iteration is one connection on one io_context reused for the whole process; no threads.
#include <dirent.h>
#include <sys/stat.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "lib/health/http_response.h"
#include "lib/health/probe_check.h"

namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;

constexpr size_t kMaxHead = 16 * 1024;  // probe_check.h: at most 16 KiB of headers
constexpr size_t kMaxOutput = 512;      // probe_check.h: the body excerpt of a failure
constexpr auto kTimeout = std::chrono::milliseconds(50);
// A timeout is the loop's lateness, not the check's fault, when the response's last byte went
// out less than this before the deadline.
constexpr auto kSlack = std::chrono::milliseconds(20);

[[noreturn]] void Fail(const char* what, const std::string& detail = {}) {
  std::fprintf(stderr, "http_probe_fuzz: invariant broken: %s%s%s\n", what,
               detail.empty() ? "" : ": ", detail.c_str());
  std::abort();
}

uint64_t Hash(std::string_view s) {  // FNV-1a, then a final mix: every bit depends on every byte
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  return h;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// What the contract says of the input, computed without lib/health/: the code of a well-formed
// status line ("HTTP/d.d ddd" then nothing or a space), and where the headers end (after the
// first empty line, "\n" or "\r\n").
struct Oracle {
  std::optional<unsigned> code;
  std::optional<size_t> head_end;
  bool http_prefix = false;  // the input is a prefix of "HTTP/" or starts with it
};

Oracle Judge(std::string_view in) {
  Oracle o;
  constexpr std::string_view kPrefix = "HTTP/";
  o.http_prefix = in.substr(0, kPrefix.size()) == kPrefix.substr(0, std::min(in.size(), size_t{5}));
  const size_t nl = in.find('\n');
  if (nl == std::string_view::npos) return o;
  std::string_view line = in.substr(0, nl);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.size() < 12 || !line.starts_with(kPrefix) || !IsDigit(line[5]) || line[6] != '.' ||
      !IsDigit(line[7]) || line[8] != ' ' || !IsDigit(line[9]) || !IsDigit(line[10]) ||
      !IsDigit(line[11]) || (line.size() > 12 && line[12] != ' '))
    return o;
  o.code = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
  for (size_t pos = nl + 1;;) {
    const size_t end = in.find('\n', pos);
    if (end == std::string_view::npos) break;
    const bool empty = end == pos || (end == pos + 1 && in[pos] == '\r');
    pos = end + 1;
    if (empty) {
      o.head_end = pos;
      break;
    }
  }
  return o;
}

// ---- The parser alone -------------------------------------------------------------------------

bool SameHead(const supd::HttpHead& a, const supd::HttpHead& b) {
  return a.parse == b.parse && a.code == b.code && a.body_start == b.body_start &&
         a.chunked == b.chunked && a.content_length == b.content_length && a.reason == b.reason;
}

// ParseHttpHead on the input and on a prefix of it (as the check sees it, read by read): what a
// prefix decides (complete, bad), the whole input decides the same way. BodyExcerpt likewise:
// a shorter body's excerpt is a prefix of the longer one's, and once "complete" it stays the same.
void FuzzParser(std::string_view in, uint64_t h) {
  using Parse = supd::HttpHead::Parse;
  const size_t max_heads[] = {kMaxHead, 16 + (h >> 40) % 256};
  for (size_t max_head : max_heads) {
    const supd::HttpHead full = supd::ParseHttpHead(in, max_head);
    switch (full.parse) {
      case Parse::kComplete:
        if (full.body_start == 0 || full.body_start > in.size() || full.body_start > max_head)
          Fail("parser: body_start out of range", std::to_string(full.body_start));
        if (full.code > 999 || !full.status_line_read) Fail("parser: bad complete head");
        if (!full.reason.empty() &&
            (full.reason.data() < in.data() ||
             full.reason.data() + full.reason.size() > in.data() + in.size()))
          Fail("parser: reason outside the data");
        break;
      case Parse::kBad:
        if (full.bad.empty() || full.bad.size() > 512) Fail("parser: bad without a short reason");
        break;
      case Parse::kIncomplete:
        if (in.size() > max_head) Fail("parser: incomplete past max_head");
        break;
    }
    const size_t cut = in.empty() ? 0 : (h >> 8) % (in.size() + 1);
    const supd::HttpHead part = supd::ParseHttpHead(in.substr(0, cut), max_head);
    if (part.parse == Parse::kComplete && !SameHead(part, full))
      Fail("parser: a prefix's complete head differs", std::to_string(cut));
    if (part.parse == Parse::kBad && full.parse != Parse::kBad)
      Fail("parser: a prefix is bad, the whole is not", std::to_string(cut));
    if (part.status_line_read && !full.status_line_read && full.parse != Parse::kBad)
      Fail("parser: status line read in a prefix only");
    if (part.status_line_read && part.code != full.code && full.parse != Parse::kBad)
      Fail("parser: a prefix's code differs");
    if (full.parse != Parse::kComplete) continue;

    const std::string_view body = in.substr(full.body_start);
    const size_t caps[] = {kMaxOutput, 1 + (h >> 20) % 64};
    for (size_t cap : caps) {
      bool complete = false;
      const std::string all = supd::BodyExcerpt(full, body, cap, &complete);
      if (all.size() > cap) Fail("excerpt: longer than cap", std::to_string(all.size()));
      if (!full.chunked && all != body.substr(0, all.size())) Fail("excerpt: not the body");
      const size_t bcut = body.empty() ? 0 : (h >> 28) % (body.size() + 1);
      bool part_complete = false;
      const std::string some = supd::BodyExcerpt(full, body.substr(0, bcut), cap, &part_complete);
      if (!all.starts_with(some))
        Fail("excerpt: a shorter body's is not a prefix", std::to_string(bcut));
      if (part_complete && (!complete || some != all))
        Fail("excerpt: complete on a prefix, different on the whole", std::to_string(bcut));
    }
  }
}

// ---- The whole check --------------------------------------------------------------------------

enum class End { kFin, kReset, kKeepOpen };

// The process's loop and listener, made once: every iteration is one connection to it.
struct World {
  asio::io_context io;
  tcp::acceptor acceptor{io, tcp::endpoint(asio::ip::make_address_v4("127.0.0.1"), 0)};
  uint16_t port = acceptor.local_endpoint().port();
  World() { acceptor.non_blocking(true); }  // for draining the backlog; async ops don't mind
};

World& TheWorld() {
  static World* w = new World;  // never destroyed: libFuzzer exits without unwinding
  return *w;
}

// Sockets open in the process. Not the lowest free fd: the sanitizers' symbolizer opens pipes
// of its own the first time it is needed.
int OpenSockets() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) Fail("opendir /proc/self/fd");
  int n = 0;
  while (const dirent* e = readdir(dir)) {
    struct stat st;
    if (e->d_name[0] != '.' && fstatat(dirfd(dir), e->d_name, &st, 0) == 0 && S_ISSOCK(st.st_mode))
      ++n;
  }
  closedir(dir);
  return n;
}

// One iteration's server side and bookkeeping.
struct Round {
  explicit Round(World& w, std::string_view in, uint64_t h)
      : w(w), in(in), socket(w.io), pause(w.io) {
    const size_t n = in.size();
    const unsigned writes = 1 + h % 3;
    size_t a = n == 0 ? 0 : (h >> 2) % (n + 1), b = n == 0 ? 0 : (h >> 18) % (n + 1);
    if (a > b) std::swap(a, b);
    cuts[0] = 0;
    cuts[1] = writes >= 2 ? a : n;
    cuts[2] = writes >= 3 ? b : n;
    cuts[3] = n;
    const unsigned e = (h >> 34) % 4;
    end = e < 2 ? End::kFin : e == 2 ? End::kReset : End::kKeepOpen;
    cancel_after = (h >> 36) % 8 == 0 ? std::optional<unsigned>((h >> 39) % 4) : std::nullopt;
    destroy_in_done = (h >> 41) % 2 == 0;
  }

  void Accept() {
    w.acceptor.async_accept(socket, [this](const error_code& ec) {
      if (ec) return;  // the check ended before (a cancellation)
      accepted = true;
      asio::async_read_until(socket, request, "\r\n\r\n",
                             [this](const error_code& e, size_t n) { OnRequest(e, n); });
    });
  }

  void OnRequest(const error_code& ec, size_t n) {
    if (ec) return;  // the check was cancelled, or ended, before its request was whole
    const std::string expected =
        "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(w.port) +
        "\r\nUser-Agent: supd-probe/" SUPD_VERSION "\r\nAccept: */*\r\nConnection: close\r\n\r\n";
    const std::string got(asio::buffers_begin(request.data()),
                          asio::buffers_begin(request.data()) + n);
    if (got != expected) Fail("request", got);
    Write(0);
  }

  // Writes part i (of 3, some empty), then lets the loop turn once before the next.
  void Write(unsigned i) {
    if (cancel_after && *cancel_after == i) check.reset();
    if (i == 3) return EndResponse();
    const std::string_view part = in.substr(cuts[i], cuts[i + 1] - cuts[i]);
    if (part.empty()) return Write(i + 1);
    asio::async_write(socket, asio::buffer(part.data(), part.size()),
                      [this, i](const error_code& ec, size_t) {
                        if (ec) return;  // the check closed its end: it has what it wants
                        if (i + 1 == 3 || cuts[i + 1] == in.size()) last_write = Clock::now();
                        pause.expires_after(std::chrono::seconds(0));
                        pause.async_wait([this, i](const error_code& e) {
                          if (!e) Write(i + 1);
                        });
                      });
  }

  void EndResponse() {
    if (in.empty()) last_write = Clock::now();
    error_code ignored;
    if (end == End::kFin) socket.shutdown(tcp::socket::shutdown_send, ignored);
    // A reset; the FIN case keeps the fd until the check has closed its end (with a reset
    // itself), so that neither side keeps a TIME_WAIT per iteration.
    if (end == End::kReset) {
      socket.set_option(tcp::socket::linger(true, 0), ignored);
      socket.close(ignored);
    }
  }

  void OnDone(supd::CheckResult r) {
    if (starting) Fail("done called from inside StartHttpCheck");
    if (cancelled) Fail("done called after the Check was destroyed");
    if (++calls > 1) Fail("done called twice");
    result = std::move(r);
    if (destroy_in_done) check.reset();
  }

  World& w;
  std::string_view in;
  tcp::socket socket;
  asio::steady_timer pause;
  asio::streambuf request;
  size_t cuts[4];
  End end;
  std::optional<unsigned> cancel_after;  // destroy the Check before write i (3: after the last)
  bool destroy_in_done;
  bool accepted = false;
  bool starting = false;
  bool cancelled = false;
  int calls = 0;
  std::optional<Clock::time_point> last_write;
  std::unique_ptr<supd::Check> check;
  std::optional<supd::CheckResult> result;
};

// A Check wrapper that says when it is destroyed, so that `done` after it is caught.
class Watched : public supd::Check {
 public:
  Watched(std::unique_ptr<supd::Check> c, bool* cancelled)
      : c_(std::move(c)), cancelled_(cancelled) {}
  ~Watched() override {
    c_.reset();
    *cancelled_ = true;
  }

 private:
  std::unique_ptr<supd::Check> c_;
  bool* cancelled_;
};

void Verify(const Round& r, const Oracle& o, Clock::time_point start) {
  const supd::CheckResult& res = *r.result;
  const std::string at = "127.0.0.1:" + std::to_string(r.w.port);
  const std::string timed_out = "timed out after 50ms";
  const auto late = [&] {  // a timeout the loop's lateness explains
    return res.message == timed_out && (!r.last_write || start + kTimeout - *r.last_write < kSlack);
  };
  if (res.output.size() > kMaxOutput)
    Fail("output over 512 bytes", std::to_string(res.output.size()));
  if (res.latency.count() < 0) Fail("negative latency");
  const bool success =
      o.code && *o.code >= 200 && *o.code < 400 && o.head_end && *o.head_end <= kMaxHead;
  if (res.ok) {
    if (!success) Fail("ok for a response that is not a success", res.message);
    if (res.message != "HTTP " + std::to_string(*o.code)) Fail("success message", res.message);
    if (!res.output.empty()) Fail("output on a success");
    return;
  }
  if (res.message.empty()) Fail("a failure without a message");
  if (success && !late()) Fail("a success reported as a failure", res.message);
  if (!o.http_prefix && !late() &&
      !res.message.starts_with("bad HTTP response from " + at + ": not a status line: \""))
    Fail("garbage reported as", res.message);
  if (r.in.empty() && r.end == End::kFin && !late() &&
      res.message != "read from " + at + ": end of stream")
    Fail("an empty response reported as", res.message);
  if (o.code && o.head_end && *o.head_end <= kMaxHead && !late() &&
      !res.message.starts_with("HTTP " + std::to_string(*o.code)))
    Fail("a complete failed head reported as", res.message);
  if (!res.output.empty() && !res.message.starts_with("HTTP "))
    Fail("output without a status", res.message);
}

void FuzzCheck(std::string_view in, uint64_t h) {
  World& w = TheWorld();
  const Oracle o = Judge(in);
  Round r(w, in, h);
  r.Accept();

  supd::ProbeSpec spec;
  spec.kind = supd::ProbeSpec::Kind::kHttp;
  spec.host = "127.0.0.1";
  spec.port = w.port;
  spec.path = "/healthz";
  spec.host_header = "127.0.0.1:" + std::to_string(w.port);
  spec.timeout = kTimeout;
  const auto start = Clock::now();
  r.starting = true;
  auto check =
      supd::StartHttpCheck(w.io, spec, [&r](supd::CheckResult res) { r.OnDone(std::move(res)); });
  r.starting = false;
  r.check = std::make_unique<Watched>(std::move(check), &r.cancelled);

  // Until the result, or a cancellation with nothing left to do (the loop runs dry).
  w.io.restart();
  while (r.calls == 0 && r.check)
    if (w.io.run_one() == 0) Fail("the loop ran dry before done was called");
  const bool was_cancelled = r.calls == 0;
  r.check.reset();
  // Whatever the check left queued runs now; the server's end is closed so that nothing waits.
  error_code ignored;
  w.acceptor.cancel(ignored);
  r.pause.cancel();
  r.socket.set_option(tcp::socket::linger(true, 0), ignored);
  r.socket.close(ignored);
  w.io.restart();
  w.io.run();
  // A connection the server never took (none expected: checks are cancelled after the accept)
  // would otherwise be the next iteration's.
  for (;;) {
    tcp::socket stale(w.io);
    if (w.acceptor.accept(stale, ignored); ignored) break;
  }
  if (was_cancelled) {
    if (r.calls != 0) Fail("done called after a cancellation");
  } else {
    if (r.calls != 1) Fail("done not called exactly once", std::to_string(r.calls));
    Verify(r, o, start);
  }

  // The listener is the only socket left.
  if (const int n = OpenSockets(); n != 1) Fail("sockets left open", std::to_string(n - 1));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const uint64_t h = Hash(in);
  FuzzParser(in, h);
  FuzzCheck(in, h);
  return 0;
}
