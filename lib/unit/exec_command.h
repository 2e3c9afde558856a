// Command lines of ExecStart= and friends: systemd's word splitting (quotes, C escapes), the
// '-' '@' ':' '+' '!' prefixes, ';' separated commands, PATH lookup of bare names, and the
// start-time expansion of $VAR / ${VAR} (ExpandCommand, declared in lib/unit/unit_loader.h).
//
// Pure functions except FindExecutable (stat/access); thread-safe.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/result.h"
#include "lib/unit/service_spec.h"

namespace supd {

// The fixed search path systemd uses for bare executable names (split-usr layout).
inline constexpr std::string_view kExecSearchPath =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// Flags of ExtractFirstWord, with the meaning of systemd's EXTRACT_* flags.
enum ExtractFlags : unsigned {
  kExtractRelax = 1u << 0,           // allow unbalanced quotes and a trailing backslash
  kExtractCUnescape = 1u << 1,       // decode \n \t \xNN \NNN \uNNNN ...
  kExtractCUnescapeRelax = 1u << 2,  // keep unknown escapes verbatim instead of failing
  kExtractUnquote = 1u << 3,         // remove "" and '' quoting (whitespace inside is kept)
};

// Takes the first whitespace-separated word off *p (advancing *p past it and the whitespace
// after it). Returns nullopt when no word is left. Errors: "unbalanced quoting",
// "invalid escape sequence" (both without location).
[[nodiscard]] Result<std::optional<std::string>> ExtractFirstWord(std::string_view* p,
                                                                  unsigned flags);

// Splits a whole string into words with ExtractFirstWord.
[[nodiscard]] Result<std::vector<std::string>> SplitWords(std::string_view text, unsigned flags);

// True for a valid environment variable name: [A-Za-z_][A-Za-z0-9_]*.
bool IsValidEnvName(std::string_view name);

// Where ParseExecLine reports and how it resolves specifiers.
struct ExecLineContext {
  std::string key;  // "ExecStart", for messages
  std::string file;
  int line = 0;
  // Resolves %-specifiers in one word; the Error's message is the reason.
  std::function<Result<std::string>(const std::string&)> resolve_specifiers;
  std::string search_path = std::string(kExecSearchPath);
  std::vector<Diagnostic>* warnings = nullptr;  // required
};

// Parses the value of one Exec*= line into one or more commands (separated by a lone ';').
// Errors are "file:line: message", e.g.
//   "u.service:3: Neither a valid executable name nor an absolute path: bin/x".
// A command with the '-' prefix that cannot be parsed or found is dropped with a warning
// (together with the rest of the line), as systemd does.
[[nodiscard]] Result<std::vector<ExecCommand>> ParseExecLine(std::string_view value,
                                                             const ExecLineContext& ctx);

// The absolute path of the executable `name` (no '/') in the ':'-separated `search_path`:
// the first regular file there that is executable.
[[nodiscard]] Result<std::string> FindExecutable(const std::string& name,
                                                 std::string_view search_path);

}  // namespace supd
