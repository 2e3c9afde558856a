// The INI-level syntax of unit files (systemd.syntax(7)): sections, comments, line continuation,
// key=value. Knows nothing of what the keys mean; lib/unit/service_loader.cc does.
//
// Pure functions over strings (plus ReadUnitFile, which reads one file); thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/result.h"
#include "lib/unit/service_spec.h"

namespace supd {

// Unit files, drop-ins and environment files larger than this are refused.
inline constexpr size_t kMaxUnitFileSize = 4 * 1024 * 1024;

// One "Key=value" of a known section, whitespace around key and value trimmed.
struct UnitAssignment {
  std::string section;  // "Service"
  std::string key;      // "ExecStart"
  std::string value;    // "" for an empty assignment (which resets list settings)
  std::string file;
  int line = 0;  // for a continued line: its last physical line, as systemd reports it
  // "file:line"
  std::string Location() const;
};

// Parses `text` (the content of `file`, which only names it in messages). Assignments in the
// sections listed in `known_sections` are returned in file order; sections starting with "X-"
// that are not listed are skipped silently, other unknown sections with a warning.
// Errors (as "file:line: message"): a NUL byte, an assignment before any section, a malformed
// section header. Warnings (appended to *warnings): an unknown section, a line without '=',
// invalid UTF-8.
[[nodiscard]] Result<std::vector<UnitAssignment>> ParseUnitSyntax(
    std::string_view text, const std::string& file, const std::vector<std::string>& known_sections,
    std::vector<Diagnostic>* warnings);

// Reads a whole file of at most kMaxUnitFileSize bytes. Errors: "open <path>: <strerror>",
// "read <path>: <strerror>", "<path>: file is larger than 4 MiB, refusing".
[[nodiscard]] Result<std::string> ReadUnitFile(const std::string& path);

// True if `s` is valid UTF-8 (no overlong forms, surrogates or code points above U+10FFFF).
bool IsValidUtf8(std::string_view s);

}  // namespace supd
