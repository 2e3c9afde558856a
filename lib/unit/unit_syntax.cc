// The line-level parser, after systemd's conf-parser.c: comments are recognized on each physical
// line (also inside a continuation, where they are dropped), a trailing unescaped backslash joins
// the next line with a space in its place.

#include "lib/unit/unit_syntax.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "lib/base/unique_fd.h"

namespace supd {
namespace {

constexpr std::string_view kWhitespace = " \t\n\r";
constexpr std::string_view kComments = "#;";
constexpr std::string_view kUtf8Bom = "\xef\xbb\xbf";

std::string_view Strip(std::string_view s) {
  size_t b = s.find_first_not_of(kWhitespace);
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(kWhitespace);
  return s.substr(b, e - b + 1);
}

std::string Loc(const std::string& file, int line) { return file + ":" + std::to_string(line); }

// systemd's string_is_safe(): no control characters, quotes or backslashes.
bool IsSafeString(std::string_view s) {
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < ' ' || u == 0x7f || c == '"' || c == '\'' || c == '\\') return false;
  }
  return true;
}

}  // namespace

std::string UnitAssignment::Location() const { return Loc(file, line); }

std::string Diagnostic::ToString() const {
  if (line == 0) return file + ": " + message;
  return Loc(file, line) + ": " + message;
}

bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    if ((c & 0xe0) == 0xc0) {
      len = 2;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      len = 3;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k) {
      unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += len;
  }
  return true;
}

namespace {

// The logical lines of one file, one at a time: section headers and assignments.
class LogicalLineParser {
 public:
  LogicalLineParser(const std::string& file, const std::vector<std::string>& known_sections,
                    std::vector<Diagnostic>* warnings)
      : file_(file), known_sections_(known_sections), warnings_(warnings) {}

  // Handles one logical line (continuations joined); `at` is its last physical line.
  Result<void> Parse(std::string_view raw, int at) {
    std::string_view l = Strip(raw);
    if (l.empty()) return Ok();
    if (!IsValidUtf8(l)) {
      Warn(at, "Invalid UTF-8 in line, ignoring");
      return Ok();
    }
    if (l[0] == '[') return ParseSectionHeader(l, at);
    if (section_.empty()) {
      if (section_ignored_) return Ok();
      return Error{Loc(file_, at) + ": Assignment outside of any section"};
    }
    size_t eq = l.find('=');
    if (eq == std::string_view::npos) {
      Warn(at, "Missing '=', ignoring line");
      return Ok();
    }
    if (eq == 0) {
      Warn(at, "Missing key name before '=', ignoring line");
      return Ok();
    }
    out_.push_back(UnitAssignment{section_, std::string(Strip(l.substr(0, eq))),
                                  std::string(Strip(l.substr(eq + 1))), file_, at});
    return Ok();
  }

  std::vector<UnitAssignment> TakeAssignments() { return std::move(out_); }

 private:
  Result<void> ParseSectionHeader(std::string_view l, int at) {
    if (l.back() != ']') {
      return Error{Loc(file_, at) + ": Invalid section header '" + std::string(l) + "'"};
    }
    std::string name(l.substr(1, l.size() - 2));
    if (!IsSafeString(name)) {
      return Error{Loc(file_, at) + ": Bad characters in section header '" + std::string(l) + "'"};
    }
    if (std::find(known_sections_.begin(), known_sections_.end(), name) != known_sections_.end()) {
      section_ = name;
      section_ignored_ = false;
    } else {
      if (!name.starts_with("X-")) Warn(at, "Unknown section [" + name + "], ignoring");
      section_.clear();
      section_ignored_ = true;
    }
    return Ok();
  }

  void Warn(int at, std::string message) {
    warnings_->push_back(Diagnostic{file_, at, std::move(message)});
  }

  const std::string& file_;
  const std::vector<std::string>& known_sections_;
  std::vector<Diagnostic>* warnings_;
  std::vector<UnitAssignment> out_;
  std::string section_;           // "" before the first (known) section header
  bool section_ignored_ = false;  // inside an unknown or X- section
};

}  // namespace

Result<std::vector<UnitAssignment>> ParseUnitSyntax(std::string_view text, const std::string& file,
                                                    const std::vector<std::string>& known_sections,
                                                    std::vector<Diagnostic>* warnings) {
  LogicalLineParser parser(file, known_sections, warnings);
  bool have_continuation = false;
  std::string continuation;
  int line = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view phys = text.substr(pos, nl == std::string_view::npos ? nl : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    ++line;
    if (phys.find('\0') != std::string_view::npos) {
      return Error{Loc(file, line) + ": Line contains a NUL byte"};
    }
    if (!phys.empty() && phys.back() == '\r') phys.remove_suffix(1);
    if (line == 1 && phys.starts_with(kUtf8Bom)) phys.remove_prefix(kUtf8Bom.size());

    // A comment line is dropped, also in the middle of a continuation.
    size_t first = phys.find_first_not_of(kWhitespace);
    if (first != std::string_view::npos && kComments.find(phys[first]) != std::string_view::npos) {
      continue;
    }

    if (have_continuation) {
      continuation.append(phys);
    } else {
      continuation.assign(phys);
    }
    // Does the (joined) line end in a backslash that is not itself escaped?
    bool escaped = false;
    for (char c : continuation) escaped = escaped ? false : c == '\\';
    if (escaped) {
      continuation.back() = ' ';
      have_continuation = true;
      continue;
    }
    have_continuation = false;
    SUPD_TRY(parser.Parse(continuation, line));
  }
  if (have_continuation) SUPD_TRY(parser.Parse(continuation, line));
  return parser.TakeAssignments();
}

Result<std::string> ReadUnitFile(const std::string& path) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (!fd) return ErrnoError("open " + path);
  struct stat st;
  if (fstat(fd.get(), &st) < 0) return ErrnoError("stat " + path);
  if (S_ISDIR(st.st_mode)) return ErrnoError("read " + path, EISDIR);
  std::string content;
  char buf[65536];
  for (;;) {
    ssize_t n = read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("read " + path);
    }
    if (n == 0) break;
    content.append(buf, static_cast<size_t>(n));
    // Checked while reading, not from st_size alone: /proc files and pipes report no size.
    if (content.size() > kMaxUnitFileSize) {
      return Error{path + ": file is larger than 4 MiB, refusing"};
    }
  }
  return content;
}

}  // namespace supd
