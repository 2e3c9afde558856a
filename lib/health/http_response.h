// The little of an HTTP/1.x response an HTTP probe reads: the status line, where the headers
// end, and how the body is framed (for a failure's excerpt). I/O-free, so that it is tested on
// byte strings; allocation-free except for the text of a bad response.
//
// Not responsible for: reading the bytes (probe_check.cc), deciding what a status means.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace supd {

struct HttpHead {
  enum class Parse {
    kIncomplete,  // more bytes are needed
    kComplete,    // status line and headers read: the fields below are set
    kBad,         // not an HTTP/1.x response: `bad` says why
  };
  Parse parse = Parse::kIncomplete;
  bool status_line_read = false;  // kIncomplete: the status line is complete, headers are not
  unsigned code = 0;
  std::string_view reason;  // as sent, into the parsed data; may be empty
  size_t body_start = 0;    // offset of the first byte after the headers
  bool chunked = false;     // Transfer-Encoding: chunked
  std::optional<uint64_t> content_length;
  std::string bad;  // kBad: "not a status line: \"SSH-2.0-OpenSSH_9.2\"", ...
};

// Parses the start of a response. More than `max_head` bytes without the end of the headers is
// kBad ("headers longer than 16 KiB" for 16384).
HttpHead ParseHttpHead(std::string_view data, size_t max_head);

// The body so far, decoded if chunked, at most `cap` bytes. `complete` (if given) says whether
// the body, or its first `cap` bytes, is all there: nothing more is worth waiting for. A body
// without framing (no length, not chunked) is complete only at the end of the stream, which
// the caller knows.
std::string BodyExcerpt(const HttpHead& head, std::string_view body, size_t cap,
                        bool* complete = nullptr);

}  // namespace supd
