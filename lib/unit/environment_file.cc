// EnvironmentFile= content, after systemd's env-file.c (parse_env_file_internal) and the
// merging of exec_context_load_environment().

#include <glob.h>

#include <algorithm>
#include <cerrno>
#include <string_view>

#include "lib/unit/exec_command.h"
#include "lib/unit/unit_loader.h"
#include "lib/unit/unit_syntax.h"

namespace supd {
namespace {

constexpr std::string_view kWhitespace = " \t\n\r";
constexpr std::string_view kNewline = "\n\r";
constexpr std::string_view kComments = "#;";
// Characters a backslash escapes inside double quotes, as in the shell.
constexpr std::string_view kShellNeedEscape = "\"\\`$";

bool In(std::string_view set, char c) { return set.find(c) != std::string_view::npos; }

// Sets name=value: replaces the first assignment of name in place, or appends.
void ReplaceEnv(EnvList* env, std::string name, std::string value) {
  for (auto& [n, v] : *env) {
    if (n == name) {
      v = std::move(value);
      return;
    }
  }
  env->emplace_back(std::move(name), std::move(value));
}

}  // namespace

Result<EnvList> ParseEnvironmentFile(const std::string& content, const std::string& path,
                                     std::vector<Diagnostic>* warnings) {
  if (content.find('\0') != std::string::npos) {
    return Error{path + ": environment file contains a NUL byte"};
  }
  enum State {
    kPreKey,
    kKey,
    kPreValue,
    kValue,
    kValueEscape,
    kSingleQuoteValue,
    kDoubleQuoteValue,
    kDoubleQuoteValueEscape,
    kComment,
    kCommentEscape,
  } state = kPreKey;

  EnvList env;
  std::string key, value;
  size_t last_key_whitespace = std::string::npos, last_value_whitespace = std::string::npos;
  int line = 1, key_line = 1;

  auto push = [&]() -> Result<void> {
    if (last_key_whitespace != std::string::npos) key.resize(last_key_whitespace);
    std::string k = std::move(key), v = std::move(value);
    key.clear();
    value.clear();
    std::string where = path + ":" + std::to_string(key_line);
    if (!IsValidUtf8(k)) return Error{where + ": invalid UTF-8 in key"};
    if (!IsValidUtf8(v)) return Error{where + ": invalid UTF-8 in the value of " + k};
    if (!IsValidEnvName(k)) {
      if (warnings != nullptr) {
        warnings->push_back(Diagnostic{
            path, key_line, "Ignoring invalid environment assignment '" + k + "=" + v + "'"});
      }
      return Ok();
    }
    ReplaceEnv(&env, std::move(k), std::move(v));
    return Ok();
  };

  for (char c : content) {
    switch (state) {
      case kPreKey:
        if (In(kComments, c)) {
          state = kComment;
        } else if (!In(kWhitespace, c)) {
          state = kKey;
          last_key_whitespace = std::string::npos;
          key_line = line;
          key += c;
        } else if (In(kNewline, c)) {
          ++line;
        }
        break;
      case kKey:
        if (In(kNewline, c)) {  // a line without '=' is ignored
          state = kPreKey;
          ++line;
          key.clear();
        } else if (c == '=') {
          state = kPreValue;
          last_value_whitespace = std::string::npos;
        } else {
          if (!In(kWhitespace, c)) {
            last_key_whitespace = std::string::npos;
          } else if (last_key_whitespace == std::string::npos) {
            last_key_whitespace = key.size();
          }
          key += c;
        }
        break;
      case kPreValue:
        if (In(kNewline, c)) {
          state = kPreKey;
          ++line;
          SUPD_TRY(push());
        } else if (c == '\'') {
          state = kSingleQuoteValue;
        } else if (c == '"') {
          state = kDoubleQuoteValue;
        } else if (c == '\\') {
          state = kValueEscape;
        } else if (!In(kWhitespace, c)) {
          state = kValue;
          value += c;
        }
        break;
      case kValue:
        if (In(kNewline, c)) {
          state = kPreKey;
          ++line;
          if (last_value_whitespace != std::string::npos) value.resize(last_value_whitespace);
          SUPD_TRY(push());
        } else if (c == '\\') {
          state = kValueEscape;
          last_value_whitespace = std::string::npos;
        } else {
          if (!In(kWhitespace, c)) {
            last_value_whitespace = std::string::npos;
          } else if (last_value_whitespace == std::string::npos) {
            last_value_whitespace = value.size();
          }
          value += c;
        }
        break;
      case kValueEscape:
        state = kValue;
        if (In(kNewline, c)) {
          ++line;  // an escaped newline continues the value and is dropped
        } else {
          value += c;
        }
        break;
      case kSingleQuoteValue:
        if (c == '\'') {
          state = kPreValue;
        } else {
          if (In(kNewline, c)) ++line;
          value += c;
        }
        break;
      case kDoubleQuoteValue:
        if (c == '"') {
          state = kPreValue;
        } else if (c == '\\') {
          state = kDoubleQuoteValueEscape;
        } else {
          if (In(kNewline, c)) ++line;
          value += c;
        }
        break;
      case kDoubleQuoteValueEscape:
        state = kDoubleQuoteValue;
        if (In(kShellNeedEscape, c)) {
          value += c;
        } else if (c != '\n') {
          // Other characters keep their backslash, like the shell does.
          value += '\\';
          value += c;
        } else {
          ++line;  // continuation inside quotes: dropped
        }
        break;
      case kComment:
        if (c == '\\') {
          state = kCommentEscape;
        } else if (In(kNewline, c)) {
          state = kPreKey;
          ++line;
        }
        break;
      case kCommentEscape:
        // Since systemd 254 a comment does not continue onto the next line.
        if (In(kNewline, c)) {
          state = kPreKey;
          ++line;
        } else {
          state = kComment;
        }
        break;
    }
  }
  switch (state) {
    case kPreValue:
    case kValueEscape:
    case kSingleQuoteValue:
    case kDoubleQuoteValue:
    case kDoubleQuoteValueEscape:
      SUPD_TRY(push());
      break;
    case kValue:
      if (last_value_whitespace != std::string::npos) value.resize(last_value_whitespace);
      SUPD_TRY(push());
      break;
    default:
      break;
  }
  return env;
}

Result<EnvList> ResolveUnitEnvironment(const ServiceSpec& spec, std::vector<Diagnostic>* warnings) {
  EnvList env;
  for (const auto& [name, value] : spec.environment) ReplaceEnv(&env, name, value);
  for (const EnvironmentFileRef& ref : spec.environment_files) {
    glob_t g{};
    int r = glob(ref.path.c_str(), GLOB_NOSORT | GLOB_BRACE, nullptr, &g);
    std::vector<std::string> paths;
    if (r == 0) {
      for (size_t i = 0; i < g.gl_pathc; ++i) paths.emplace_back(g.gl_pathv[i]);
    }
    globfree(&g);
    if (r == GLOB_NOMATCH || (r == 0 && paths.empty())) {
      if (ref.optional) continue;
      return ErrnoError("open " + ref.path, ENOENT);
    }
    if (r != 0) {
      if (ref.optional) continue;
      return ErrnoError("glob " + ref.path, r == GLOB_NOSPACE ? ENOMEM : EIO);
    }
    std::sort(paths.begin(), paths.end());
    for (const std::string& p : paths) {
      auto content = ReadUnitFile(p);
      if (!content.ok()) {
        if (ref.optional) continue;
        return content.take_error();
      }
      auto parsed = ParseEnvironmentFile(*content, p, warnings);
      if (!parsed.ok()) {
        if (ref.optional) continue;
        return parsed.take_error();
      }
      for (auto& [name, value] : *parsed) ReplaceEnv(&env, std::move(name), std::move(value));
    }
  }
  return env;
}

}  // namespace supd
