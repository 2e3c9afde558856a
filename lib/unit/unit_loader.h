// Reading .service units from files into ServiceSpec, and the start-time helpers that the
// spec's raw values need (environment files, $VAR expansion, conditions).
//
// Nothing here spawns or signals anything; the only I/O is reading files (the unit, its
// drop-ins, EnvironmentFile=) and the stat() calls that Condition*= needs.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "lib/base/result.h"
#include "lib/unit/service_spec.h"

namespace supd {

// What specifiers resolve to on this host, for this manager.
struct SpecifierContext {
  std::string hostname;     // %H
  std::string runtime_dir;  // %t: /run for the system manager, $XDG_RUNTIME_DIR for a user
  std::string user_name;    // %u: the user supd runs as (as in systemd, User= does not change it)
  std::string user_home;    // %h
  unsigned uid = 0;         // %U
};

// Loads the unit `unit_name` ("web.service", or "worker@3.service" read from the template
// "worker@.service") from `path`, plus drop-ins in `path`.d/*.conf (and for an instance the
// template's "worker@.service.d/") in lexical order.
// Errors name file:line: "units/web.service:7: Invalid Restart= value 'sometimes'".
[[nodiscard]] Result<ServiceSpec> LoadServiceFile(const std::string& path,
                                                  const std::string& unit_name,
                                                  const SpecifierContext& ctx);

// Same, from text already in memory (for tests and `supctl check` of stdin); `path` only names
// the file in messages. Drop-ins are not looked for.
[[nodiscard]] Result<ServiceSpec> ParseServiceText(const std::string& text, const std::string& path,
                                                   const std::string& unit_name,
                                                   const SpecifierContext& ctx);

using EnvList = std::vector<std::pair<std::string, std::string>>;

// Parses the content of an EnvironmentFile= (systemd's rules: '#'/';' comment lines, single and
// double quotes, backslash escapes, line continuation; like systemd, no "export " keyword: such a
// line has an invalid name). `path` names the file in messages. Errors: a NUL byte, invalid
// UTF-8 ("<path>:<line>: ..."). Assignments with an invalid name are skipped with a warning in
// *warnings (if given). A name assigned twice keeps its first position and its last value.
[[nodiscard]] Result<EnvList> ParseEnvironmentFile(const std::string& content,
                                                   const std::string& path,
                                                   std::vector<Diagnostic>* warnings = nullptr);

// Reads spec.environment_files (each may be a glob; a missing optional file is skipped) and
// returns Environment= merged with the files' assignments, in systemd's order (later files
// override earlier ones and Environment=; each name appears once). Errors: "open <path>: ...".
[[nodiscard]] Result<EnvList> ResolveUnitEnvironment(const ServiceSpec& spec,
                                                     std::vector<Diagnostic>* warnings = nullptr);

// Expands $VAR, ${VAR} and $$ in cmd.argv with `env` exactly as systemd does (a lone $VAR word
// splits on whitespace into zero or more words, ${VAR} stays one word, unset variables are
// empty). With cmd.no_env_expand the argv is returned as is.
std::vector<std::string> ExpandCommand(const ExecCommand& cmd, const EnvList& env);

struct ConditionResult {
  bool start = true;      // false: skip (a Condition failed) or fail (an Assert failed)
  bool assert_failed = false;
  std::string message;    // which one failed and why, e.g.
                          // "ConditionPathExists=/etc/web.conf was not met (units/web.service:4)"
};

// Evaluates spec.conditions the way systemd does (trigger '|' conditions: at least one must hold).
ConditionResult EvaluateConditions(const ServiceSpec& spec);

// Time span syntax (systemd.time(7)): "90" (seconds), "500ms", "1min 30s", "2h", "infinity".
[[nodiscard]] Result<Usec> ParseTimeSpan(const std::string& text);

// Boolean syntax: 1/yes/y/true/t/on and 0/no/n/false/f/off, case-insensitive.
[[nodiscard]] Result<bool> ParseBoolean(const std::string& text);

// "SIGTERM", "TERM" or "15" → 15.
[[nodiscard]] Result<int> ParseSignal(const std::string& text);

// Unit name checks: "web.service", "worker@.service" (template), "worker@3.service" (instance).
bool IsValidUnitName(const std::string& name);
// "worker@3.service" → "worker@.service"; "" if not an instance name.
std::string TemplateNameOf(const std::string& unit_name);

}  // namespace supd
