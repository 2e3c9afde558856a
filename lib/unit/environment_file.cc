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

// systemd's parse_env_file_internal() state machine, fed one character at a time.
class EnvFileParser {
 public:
  EnvFileParser(const std::string& path, std::vector<Diagnostic>* warnings)
      : path_(path), warnings_(warnings) {}

  Result<void> Feed(char c) {
    switch (state_) {
      case kPreKey:
      case kKey:
        FeedKey(c);
        return Ok();
      case kPreValue:
      case kValue:
      case kValueEscape:
        return FeedValue(c);
      case kSingleQuoteValue:
      case kDoubleQuoteValue:
      case kDoubleQuoteValueEscape:
        FeedQuotedValue(c);
        return Ok();
      case kComment:
      case kCommentEscape:
        FeedComment(c);
        return Ok();
    }
    return Ok();
  }

  // The end of the file: the assignment in progress counts.
  Result<EnvList> Finish() {
    switch (state_) {
      case kPreValue:
      case kValueEscape:
      case kSingleQuoteValue:
      case kDoubleQuoteValue:
      case kDoubleQuoteValueEscape:
        SUPD_TRY(Push());
        break;
      case kValue:
        if (last_value_whitespace_ != std::string::npos) value_.resize(last_value_whitespace_);
        SUPD_TRY(Push());
        break;
      default:
        break;
    }
    return std::move(env_);
  }

 private:
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
  };

  void FeedKey(char c) {
    if (state_ == kPreKey) {
      if (In(kComments, c)) {
        state_ = kComment;
      } else if (!In(kWhitespace, c)) {
        state_ = kKey;
        last_key_whitespace_ = std::string::npos;
        key_line_ = line_;
        key_ += c;
      } else if (In(kNewline, c)) {
        ++line_;
      }
      return;
    }
    if (In(kNewline, c)) {  // a line without '=' is ignored
      state_ = kPreKey;
      ++line_;
      key_.clear();
    } else if (c == '=') {
      state_ = kPreValue;
      last_value_whitespace_ = std::string::npos;
    } else {
      if (!In(kWhitespace, c)) {
        last_key_whitespace_ = std::string::npos;
      } else if (last_key_whitespace_ == std::string::npos) {
        last_key_whitespace_ = key_.size();
      }
      key_ += c;
    }
  }

  Result<void> FeedValue(char c) {
    switch (state_) {
      case kPreValue:
        if (In(kNewline, c)) {
          state_ = kPreKey;
          ++line_;
          SUPD_TRY(Push());
        } else if (c == '\'') {
          state_ = kSingleQuoteValue;
        } else if (c == '"') {
          state_ = kDoubleQuoteValue;
        } else if (c == '\\') {
          state_ = kValueEscape;
        } else if (!In(kWhitespace, c)) {
          state_ = kValue;
          value_ += c;
        }
        break;
      case kValue:
        if (In(kNewline, c)) {
          state_ = kPreKey;
          ++line_;
          if (last_value_whitespace_ != std::string::npos) value_.resize(last_value_whitespace_);
          SUPD_TRY(Push());
        } else if (c == '\\') {
          state_ = kValueEscape;
          last_value_whitespace_ = std::string::npos;
        } else {
          if (!In(kWhitespace, c)) {
            last_value_whitespace_ = std::string::npos;
          } else if (last_value_whitespace_ == std::string::npos) {
            last_value_whitespace_ = value_.size();
          }
          value_ += c;
        }
        break;
      default:  // kValueEscape
        state_ = kValue;
        if (In(kNewline, c)) {
          ++line_;  // an escaped newline continues the value and is dropped
        } else {
          value_ += c;
        }
        break;
    }
    return Ok();
  }

  void FeedQuotedValue(char c) {
    switch (state_) {
      case kSingleQuoteValue:
        if (c == '\'') {
          state_ = kPreValue;
        } else {
          if (In(kNewline, c)) ++line_;
          value_ += c;
        }
        break;
      case kDoubleQuoteValue:
        if (c == '"') {
          state_ = kPreValue;
        } else if (c == '\\') {
          state_ = kDoubleQuoteValueEscape;
        } else {
          if (In(kNewline, c)) ++line_;
          value_ += c;
        }
        break;
      default:  // kDoubleQuoteValueEscape
        state_ = kDoubleQuoteValue;
        if (In(kShellNeedEscape, c)) {
          value_ += c;
        } else if (c != '\n') {
          // Other characters keep their backslash, like the shell does.
          value_ += '\\';
          value_ += c;
        } else {
          ++line_;  // continuation inside quotes: dropped
        }
        break;
    }
  }

  void FeedComment(char c) {
    if (state_ == kComment) {
      if (c == '\\') {
        state_ = kCommentEscape;
      } else if (In(kNewline, c)) {
        state_ = kPreKey;
        ++line_;
      }
      return;
    }
    // Since systemd 254 a comment does not continue onto the next line.
    if (In(kNewline, c)) {
      state_ = kPreKey;
      ++line_;
    } else {
      state_ = kComment;
    }
  }

  // The assignment read so far, checked and added (or skipped with a warning).
  Result<void> Push() {
    if (last_key_whitespace_ != std::string::npos) key_.resize(last_key_whitespace_);
    std::string k = std::move(key_), v = std::move(value_);
    key_.clear();
    value_.clear();
    std::string where = path_ + ":" + std::to_string(key_line_);
    if (!IsValidUtf8(k)) return Error{where + ": invalid UTF-8 in key"};
    if (!IsValidUtf8(v)) return Error{where + ": invalid UTF-8 in the value of " + k};
    if (!IsValidEnvName(k)) {
      if (warnings_ != nullptr) {
        warnings_->push_back(Diagnostic{
            path_, key_line_, "Ignoring invalid environment assignment '" + k + "=" + v + "'"});
      }
      return Ok();
    }
    ReplaceEnv(&env_, std::move(k), std::move(v));
    return Ok();
  }

  const std::string& path_;
  std::vector<Diagnostic>* warnings_;
  State state_ = kPreKey;
  EnvList env_;
  std::string key_, value_;
  size_t last_key_whitespace_ = std::string::npos, last_value_whitespace_ = std::string::npos;
  int line_ = 1, key_line_ = 1;
};

}  // namespace

Result<EnvList> ParseEnvironmentFile(const std::string& content, const std::string& path,
                                     std::vector<Diagnostic>* warnings) {
  if (content.find('\0') != std::string::npos) {
    return Error{path + ": environment file contains a NUL byte"};
  }
  EnvFileParser parser(path, warnings);
  for (char c : content) SUPD_TRY(parser.Feed(c));
  return parser.Finish();
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
