// Exec command lines, after systemd's extract-word.c, escape.c (cunescape_one),
// load-fragment.c (config_parse_exec) and env-util.c (replace_env_argv).

#include "lib/unit/exec_command.h"

#include <sys/stat.h>
#include <unistd.h>

#include "lib/unit/unit_loader.h"

namespace supd {
namespace {

constexpr std::string_view kWhitespace = " \t\n\r";

bool IsSpace(char c) { return kWhitespace.find(c) != std::string_view::npos; }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    *out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    *out += static_cast<char>(0xc0 | (cp >> 6));
    *out += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    *out += static_cast<char>(0xe0 | (cp >> 12));
    *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    *out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    *out += static_cast<char>(0xf0 | (cp >> 18));
    *out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    *out += static_cast<char>(0x80 | (cp & 0x3f));
  }
}

// Decodes the escape sequence starting at s[0] (the character after the backslash), appends
// its bytes to *out and returns how many characters of s it used; 0 if it is not a valid
// escape. NUL is never produced, as in systemd (accept_nul=false).
size_t CUnescapeOne(std::string_view s, std::string* out) {
  if (s.empty()) return 0;
  switch (s[0]) {
    case 'a':
      *out += '\a';
      return 1;
    case 'b':
      *out += '\b';
      return 1;
    case 'f':
      *out += '\f';
      return 1;
    case 'n':
      *out += '\n';
      return 1;
    case 'r':
      *out += '\r';
      return 1;
    case 't':
      *out += '\t';
      return 1;
    case 'v':
      *out += '\v';
      return 1;
    case '\\':
      *out += '\\';
      return 1;
    case '"':
      *out += '"';
      return 1;
    case '\'':
      *out += '\'';
      return 1;
    case 's':
      *out += ' ';
      return 1;  // systemd's extension of the XDG syntax
    case 'x': {
      if (s.size() < 3) return 0;
      int a = HexValue(s[1]), b = HexValue(s[2]);
      if (a < 0 || b < 0 || (a == 0 && b == 0)) return 0;
      *out += static_cast<char>((a << 4) | b);  // a raw byte, not UTF-8 encoded
      return 3;
    }
    case 'u':
    case 'U': {
      size_t digits = s[0] == 'u' ? 4 : 8;
      if (s.size() < digits + 1) return 0;
      uint32_t cp = 0;
      for (size_t i = 1; i <= digits; ++i) {
        int v = HexValue(s[i]);
        if (v < 0) return 0;
        cp = (cp << 4) | static_cast<uint32_t>(v);
      }
      if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
      AppendUtf8(cp, out);
      return digits + 1;
    }
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7': {
      if (s.size() < 3) return 0;
      int v = 0;
      for (size_t i = 0; i < 3; ++i) {
        if (s[i] < '0' || s[i] > '7') return 0;
        v = v * 8 + (s[i] - '0');
      }
      if (v == 0 || v > 255) return 0;
      *out += static_cast<char>(v);
      return 3;
    }
    default:
      return 0;
  }
}

// Collapses "//" and "/./" (systemd's path_simplify()); ".." is kept.
std::string SimplifyPath(const std::string& path) {
  std::string out;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    std::string_view comp(path.data() + i, j - i);
    if (!comp.empty() && comp != ".") {
      out += '/';
      out += comp;
    }
    i = j + 1;
  }
  if (out.empty()) return path.empty() || path[0] != '/' ? path : "/";
  if (path[0] != '/') out.erase(0, 1);
  return out;
}

bool IsValidFilename(std::string_view s) {
  return !s.empty() && s != "." && s != ".." && s.size() <= 255 &&
         s.find('/') == std::string_view::npos;
}

bool PathImpliesDirectory(std::string_view p) {
  return p == "." || p == ".." || p.ends_with("/") || p.ends_with("/.") || p.ends_with("/..");
}

// systemd's string_is_safe(): no control characters, quotes or backslashes.
bool IsSafeString(std::string_view s) {
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < ' ' || u == 0x7f || c == '"' || c == '\'' || c == '\\') return false;
  }
  return true;
}

// ExtractFirstWord plus systemd's extract_first_word_and_warn(): an unknown escape is kept
// verbatim with a warning; unbalanced quoting is an error (message without location).
Result<std::optional<std::string>> ExtractWordAndWarn(std::string_view* p, unsigned flags,
                                                      const ExecLineContext& ctx,
                                                      std::string_view whole) {
  std::string_view save = *p;
  auto r = ExtractFirstWord(p, flags);
  if (r.ok()) return r;
  if (r.error().message == "invalid escape sequence" && !(flags & kExtractCUnescapeRelax)) {
    *p = save;
    r = ExtractFirstWord(p, flags | kExtractCUnescapeRelax);
    if (r.ok()) {
      ctx.warnings->push_back(Diagnostic{
          ctx.file, ctx.line, "Ignoring unknown escape sequences: \"" + r->value_or("") + "\""});
      return r;
    }
  }
  return Error{"Unbalanced quoting in " + ctx.key + "=: " + std::string(whole)};
}

std::string_view LookupEnv(const EnvList& env, std::string_view name) {
  for (auto it = env.rbegin(); it != env.rend(); ++it) {
    if (it->first == name) return it->second;
  }
  return {};
}

const std::string* FindEnv(const EnvList& env, std::string_view name) {
  for (auto it = env.rbegin(); it != env.rend(); ++it) {
    if (it->first == name) return &it->second;
  }
  return nullptr;
}

// ${VAR} and $$ inside one word (systemd's replace_env() without the braceless and
// ${VAR:-default} extensions, which it does not enable for command lines: "a$FOO" and
// "${A:-b}" stay as they are).
std::string ReplaceEnvInWord(std::string_view s, const EnvList& env) {
  enum { kWord, kCurly, kVariable } state = kWord;
  std::string out;
  size_t word = 0;  // start of the text not yet copied to out
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    switch (state) {
      case kWord:
        if (c == '$') state = kCurly;
        break;
      case kCurly:
        if (c == '{') {
          out.append(s.substr(word, i - 1 - word));
          word = i - 1;
          state = kVariable;
        } else if (c == '$') {
          out.append(s.substr(word, i - word));  // keeps one '$'
          word = i + 1;
          state = kWord;
        } else {
          state = kWord;
        }
        break;
      case kVariable:
        if (c == '}') {
          std::string_view name = s.substr(word + 2, i - word - 2);
          // Invalid names resolve like unset ones: to nothing.
          if (IsValidEnvName(name)) out.append(LookupEnv(env, name));
          word = i + 1;
          state = kWord;
        } else if (c == ':') {
          state = kWord;  // ${A:-b}: unsupported syntax, left as it is
        }
        break;
    }
  }
  out.append(s.substr(word));
  return out;
}

}  // namespace

bool IsValidEnvName(std::string_view name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
  for (char c : name) {
    bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

Result<std::optional<std::string>> ExtractFirstWord(std::string_view* p, unsigned flags) {
  std::string_view in = *p;
  size_t i = 0;
  while (i < in.size() && IsSpace(in[i])) ++i;
  if (i == in.size()) {
    *p = {};
    return std::optional<std::string>();
  }
  std::string s;
  char quote = 0;  // 0, '\'' or '"'
  bool backslash = false;
  auto finish = [&](size_t next) -> Result<std::optional<std::string>> {
    *p = in.substr(next);
    return std::optional<std::string>(std::move(s));
  };
  for (;; ++i) {
    if (backslash) {
      if (i >= in.size()) {
        if ((flags & kExtractCUnescapeRelax) && (!quote || (flags & kExtractRelax))) {
          s += '\\';  // a trailing backslash is kept
          return finish(in.size());
        }
        if (flags & kExtractRelax) return finish(in.size());
        return Error{"unbalanced quoting"};
      }
      char c = in[i];
      if (flags & kExtractCUnescape) {
        size_t used = CUnescapeOne(in.substr(i), &s);
        if (used == 0) {
          if (!(flags & kExtractCUnescapeRelax)) return Error{"invalid escape sequence"};
          s += '\\';
          s += c;
        } else {
          i += used - 1;
        }
      } else {
        s += c;
      }
      backslash = false;
    } else if (quote) {
      for (;; ++i) {
        if (i >= in.size()) {
          if (flags & kExtractRelax) return finish(in.size());
          return Error{"unbalanced quoting"};
        }
        char c = in[i];
        if (c == quote) {
          quote = 0;
          break;
        }
        if (c == '\\') {
          backslash = true;
          break;
        }
        s += c;
      }
    } else {
      for (;; ++i) {
        if (i >= in.size()) return finish(in.size());
        char c = in[i];
        if ((c == '\'' || c == '"') && (flags & kExtractUnquote)) {
          quote = c;
          break;
        }
        if (c == '\\') {
          backslash = true;
          break;
        }
        if (IsSpace(c)) {
          while (i < in.size() && IsSpace(in[i])) ++i;
          return finish(i);
        }
        s += c;
      }
    }
  }
}

Result<std::vector<std::string>> SplitWords(std::string_view text, unsigned flags) {
  std::vector<std::string> words;
  for (;;) {
    auto w = ExtractFirstWord(&text, flags);
    if (!w.ok()) return w.take_error();
    if (!w->has_value()) return words;
    words.push_back(std::move(**w));
  }
}

Result<std::string> FindExecutable(const std::string& name, std::string_view search_path) {
  size_t i = 0;
  while (i <= search_path.size()) {
    size_t j = search_path.find(':', i);
    if (j == std::string_view::npos) j = search_path.size();
    std::string dir(search_path.substr(i, j - i));
    i = j + 1;
    if (dir.empty()) continue;
    std::string candidate = dir + "/" + name;
    struct stat st;
    if (stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
  }
  return Error{"Executable '" + name + "' not found in " + std::string(search_path)};
}

namespace {

// Reads the prefixes of a command's first word ("-", "@", ":", "+", "!", "!!") into *cmd and
// *separate_argv0: the index of the first character after them.
size_t ParseExecPrefixes(const std::string& firstword, ExecCommand* cmd, bool* separate_argv0) {
  bool ambient = false;
  size_t f = 0;
  for (; f < firstword.size(); ++f) {
    char c = firstword[f];
    if (c == '-' && !cmd->ignore_failure) {
      cmd->ignore_failure = true;
    } else if (c == '@' && !*separate_argv0) {
      *separate_argv0 = true;
    } else if (c == ':' && !cmd->no_env_expand) {
      cmd->no_env_expand = true;
    } else if (c == '+' && !cmd->full_privileges && !cmd->no_setuid && !ambient) {
      cmd->full_privileges = true;
    } else if (c == '!' && !cmd->full_privileges && !cmd->no_setuid && !ambient) {
      cmd->no_setuid = true;
    } else if (c == '!' && !cmd->full_privileges && !ambient) {
      // "!!": systemd's fallback for kernels without ambient capabilities (before 4.3). supd
      // needs them (AmbientCapabilities= is applied with PR_CAP_AMBIENT_RAISE), so, as
      // systemd does where they exist, the prefix has no effect: User= applies.
      ambient = true;
      cmd->no_setuid = false;
    } else {
      break;
    }
  }
  return f;
}

// The executable: `word` is the first word after its prefixes. Sets cmd->path (and argv[0]
// unless the '@' prefix gave it separately). The Error is the message alone, without file:line.
Result<void> SetExecutable(const std::string& word, bool separate_argv0, const ExecLineContext& ctx,
                           std::string_view value, ExecCommand* cmd) {
  if (!word.empty() && word[0] == '|') {
    return Error{"The '|' prefix (run via a shell) is not supported by supd"};
  }
  auto path = ctx.resolve_specifiers(word);
  if (!path.ok()) {
    return Error{"Failed to resolve specifiers in " + ctx.key + "=: " + path.error().message};
  }
  if (path->empty())
    return Error{"Empty executable path in " + ctx.key + "=: " + std::string(value)};
  if (!IsSafeString(*path)) return Error{"Executable name contains special characters: " + *path};
  if (PathImpliesDirectory(*path)) return Error{"Executable path specifies a directory: " + *path};
  bool absolute = (*path)[0] == '/';
  if (absolute ? path->size() >= 4096 : !IsValidFilename(*path)) {
    return Error{"Neither a valid executable name nor an absolute path: " + *path};
  }
  if (!separate_argv0) cmd->argv.push_back(*path);
  if (absolute) {
    cmd->path = SimplifyPath(*path);
  } else {
    auto found = FindExecutable(*path, ctx.search_path);
    if (!found.ok()) return Error{found.error().message};
    cmd->path = std::move(*found);
  }
  return Ok();
}

// The arguments of the command, up to the end of the line or a ';' word (then *semicolon).
// The Error is the message alone, without file:line.
Result<void> ReadArguments(std::string_view* p, const ExecLineContext& ctx, std::string_view value,
                           ExecCommand* cmd, bool* semicolon) {
  while (!p->empty()) {
    // An unquoted ';' word ends the command; "\;" is a literal ';' argument.
    if ((*p)[0] == ';' && (p->size() == 1 || IsSpace((*p)[1]))) {
      p->remove_prefix(1);
      while (!p->empty() && IsSpace((*p)[0])) p->remove_prefix(1);
      *semicolon = true;
      break;
    }
    if (p->size() >= 2 && (*p)[0] == '\\' && (*p)[1] == ';' &&
        (p->size() == 2 || IsSpace((*p)[2]))) {
      p->remove_prefix(2);
      while (!p->empty() && IsSpace((*p)[0])) p->remove_prefix(1);
      cmd->argv.push_back(";");
      continue;
    }
    auto word = ExtractWordAndWarn(p, kExtractUnquote | kExtractCUnescape, ctx, value);
    if (!word.ok()) return Error{word.error().message};
    if (!word->has_value()) break;
    auto resolved = ctx.resolve_specifiers(**word);
    if (!resolved.ok()) {
      return Error{"Failed to resolve specifiers in " + ctx.key + "=: " + resolved.error().message};
    }
    cmd->argv.push_back(std::move(*resolved));
  }
  return Ok();
}

}  // namespace

Result<std::vector<ExecCommand>> ParseExecLine(std::string_view value, const ExecLineContext& ctx) {
  const std::string loc = ctx.file + ":" + std::to_string(ctx.line);
  std::vector<ExecCommand> commands;
  std::string_view p = value;
  bool semicolon;
  do {
    semicolon = false;
    auto first = ExtractWordAndWarn(&p, kExtractUnquote | kExtractCUnescape, ctx, value);
    if (!first.ok()) return Error{loc + ": " + first.error().message};
    if (!first->has_value()) break;
    std::string firstword = std::move(**first);
    // A lone ";" separates commands; it is never an executable name.
    if (firstword == ";") {
      semicolon = true;
      continue;
    }

    ExecCommand cmd;
    cmd.source = loc;
    bool separate_argv0 = false;
    const size_t f = ParseExecPrefixes(firstword, &cmd, &separate_argv0);
    Result<void> read = SetExecutable(firstword.substr(f), separate_argv0, ctx, value, &cmd);
    if (read.ok()) read = ReadArguments(&p, ctx, value, &cmd, &semicolon);
    if (read.ok() && cmd.argv.empty()) {
      read = Error{"Empty executable name or zeroeth argument in " + ctx.key +
                   "=: " + std::string(value)};
    }
    if (!read.ok()) {
      // Errors inside a '-' command drop it (and the rest of the line) with a warning.
      if (!cmd.ignore_failure) return Error{loc + ": " + read.error().message};
      ctx.warnings->push_back(Diagnostic{
          ctx.file, ctx.line, read.error().message + "; ignoring the command ('-' prefix)"});
      return commands;
    }
    commands.push_back(std::move(cmd));
  } while (semicolon);
  return commands;
}

std::vector<std::string> ExpandCommand(const ExecCommand& cmd, const EnvList& env) {
  if (cmd.no_env_expand) return cmd.argv;
  std::vector<std::string> out;
  out.reserve(cmd.argv.size());
  for (const std::string& word : cmd.argv) {
    // A word that is a whole $NAME becomes the variable's value split into words (quotes in
    // the value group words; unset → no word). Quoting in the unit file was removed at load
    // time, so "$FOO" there behaves like $FOO.
    if (word.size() >= 1 && word[0] == '$' &&
        (word.size() == 1 || (word[1] != '{' && word[1] != '$'))) {
      std::string_view name = std::string_view(word).substr(1);
      // An invalid name ("$FOO/bar", "$1", a lone "$") counts as unset: no word (systemd >= 254).
      if (!IsValidEnvName(name)) continue;
      const std::string* value = FindEnv(env, name);
      if (value == nullptr) continue;
      auto words = SplitWords(*value, kExtractRelax | kExtractUnquote);
      // With kExtractRelax splitting cannot fail; keep the guard for robustness.
      if (words.ok()) {
        for (std::string& w : *words) out.push_back(std::move(w));
      }
      continue;
    }
    out.push_back(ReplaceEnvInWord(word, env));
  }
  return out;
}

}  // namespace supd
