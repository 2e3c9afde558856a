#include "lib/health/http_response.h"

#include <algorithm>
#include <charconv>

namespace supd {
namespace {

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const char x = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] - 'A' + 'a') : a[i];
    const char y = b[i] >= 'A' && b[i] <= 'Z' ? static_cast<char>(b[i] - 'A' + 'a') : b[i];
    if (x != y) return false;
  }
  return true;
}

bool IContains(std::string_view hay, std::string_view needle) {
  for (size_t i = 0; i + needle.size() <= hay.size(); ++i)
    if (IEquals(hay.substr(i, needle.size()), needle)) return true;
  return false;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// The first bytes of what the peer sent, printable, for a message: "SSH-2.0-OpenSSH_9.2".
std::string Quote(std::string_view s) {
  constexpr size_t kMax = 64;
  const size_t end = s.find_first_of("\r\n");
  const std::string_view line = s.substr(0, end);
  std::string out = "\"";
  for (char c : line.substr(0, kMax)) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f && c != '"' && c != '\\') {
      out += c;
    } else {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 0xf];
    }
  }
  out += line.size() > kMax ? "\"…" : "\"";
  return out;
}

HttpHead Bad(std::string why) {
  HttpHead h;
  h.parse = HttpHead::Parse::kBad;
  h.bad = std::move(why);
  return h;
}

// "HTTP/1.1 503 Service Unavailable": version, three digits, an optional reason.
bool ParseStatusLine(std::string_view line, HttpHead* h) {
  if (line.size() < 12 || line.substr(0, 5) != "HTTP/" || !IsDigit(line[5]) || line[6] != '.' ||
      !IsDigit(line[7]) || line[8] != ' ' || !IsDigit(line[9]) || !IsDigit(line[10]) ||
      !IsDigit(line[11]))
    return false;
  if (line.size() > 12 && line[12] != ' ') return false;
  h->code = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
  h->reason = line.size() > 13 ? Trim(line.substr(13)) : std::string_view();
  return true;
}

void ParseHeaderLine(std::string_view line, HttpHead* h) {
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos) return;
  const std::string_view name = line.substr(0, colon);
  const std::string_view value = Trim(line.substr(colon + 1));
  if (IEquals(name, "content-length")) {
    uint64_t n = 0;
    const auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
    if (ec == std::errc() && p == value.data() + value.size()) h->content_length = n;
  } else if (IEquals(name, "transfer-encoding") && IContains(value, "chunked")) {
    h->chunked = true;
  }
}

}  // namespace

HttpHead ParseHttpHead(std::string_view data, size_t max_head) {
  // Garbage is known as soon as it differs from "HTTP/": no need to wait for a line end.
  constexpr std::string_view kPrefix = "HTTP/";
  const size_t n = std::min(data.size(), kPrefix.size());
  if (data.substr(0, n) != kPrefix.substr(0, n)) return Bad("not a status line: " + Quote(data));
  const auto too_long = [max_head] {
    return Bad("headers longer than " + std::to_string(max_head / 1024) + " KiB");
  };

  const size_t line_end = data.find('\n');
  if (line_end == std::string_view::npos) {
    if (data.size() > max_head) return too_long();
    return HttpHead{};
  }
  HttpHead h;
  std::string_view status = data.substr(0, line_end);
  if (!status.empty() && status.back() == '\r') status.remove_suffix(1);
  if (!ParseStatusLine(status, &h)) return Bad("not a status line: " + Quote(data));
  h.status_line_read = true;

  // Header lines until an empty one; a bare "\n" ends a line too (RFC 9112, 2.2).
  size_t pos = line_end + 1;
  for (;;) {
    const size_t end = data.find('\n', pos);
    if (end == std::string_view::npos) break;
    std::string_view line = data.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos = end + 1;
    if (line.empty()) {
      if (pos > max_head) return too_long();
      h.parse = HttpHead::Parse::kComplete;
      h.body_start = pos;
      return h;
    }
    ParseHeaderLine(line, &h);
  }
  if (data.size() > max_head) return too_long();
  // Incomplete: what was parsed of the headers is parsed again with the rest.
  HttpHead partial;
  partial.status_line_read = true;
  partial.code = h.code;
  return partial;
}

std::string BodyExcerpt(const HttpHead& head, std::string_view body, size_t cap, bool* complete) {
  bool done = false;
  std::string out;
  // 1xx, 204 and 304 responses have no body (RFC 9112, 6.3).
  if (head.code < 200 || head.code == 204 || head.code == 304) {
    done = true;
  } else if (head.chunked) {
    // Chunks: "<hex size>[;ext]\r\n<data>\r\n" ..., "0\r\n\r\n" at the end.
    size_t pos = 0;
    while (out.size() < cap) {
      const size_t eol = body.find('\n', pos);
      if (eol == std::string_view::npos) break;
      uint64_t size = 0;
      const char* first = body.data() + pos;
      const auto [p, ec] = std::from_chars(first, body.data() + eol, size, 16);
      if (ec != std::errc() || p == first) {
        done = true;  // not chunked after all: keep what was decoded
        break;
      }
      if (size == 0) {
        done = true;
        break;
      }
      const std::string_view data = body.substr(eol + 1, size);
      out.append(data.substr(0, cap - out.size()));
      if (data.size() < size) break;
      pos = eol + 1 + size;
      if (pos < body.size() && body[pos] == '\r') ++pos;
      if (pos < body.size() && body[pos] == '\n') ++pos;
    }
    if (out.size() >= cap) done = true;
  } else {
    const uint64_t want = head.content_length ? std::min<uint64_t>(*head.content_length, cap) : cap;
    out.assign(body.substr(0, want));
    done = out.size() >= want;
  }
  if (complete) *complete = done;
  return out;
}

}  // namespace supd
