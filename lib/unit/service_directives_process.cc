// [Service] directives of what the process gets: working directory, environment, user and
// group, and the exec settings (limits, groups, umask, priorities, capabilities; their syntax is
// lib/unit/exec_settings.cc).

#include <string>
#include <string_view>

#include "lib/unit/exec_command.h"
#include "lib/unit/exec_settings.h"
#include "lib/unit/service_loader.h"
#include "lib/unit/specifiers.h"
#include "lib/unit/unit_syntax.h"

namespace supd {

void ServiceLoader::RegisterProcessHandlers() {
  auto& h = handlers_;
  h["Service.WorkingDirectory"] = [this](const UnitAssignment& a) -> Result<void> {
    if (a.value.empty()) {
      spec_.working_directory.clear();
      spec_.working_directory_optional = false;
      return Ok();
    }
    std::string_view v = a.value;
    bool optional = v[0] == '-';
    if (optional) v.remove_prefix(1);
    std::string dir;
    if (v == "~") {
      dir = "~";
    } else {
      auto r = Resolve(a, std::string(v));
      if (!r.ok()) return r.take_error();
      if (!IsAbsolutePath(*r)) return Err(a, "WorkingDirectory= path '" + *r + "' is not absolute");
      dir = std::move(*r);
    }
    spec_.working_directory = std::move(dir);
    spec_.working_directory_optional = optional;
    return Ok();
  };
  h["Service.Environment"] = [this](const UnitAssignment& a) { return HandleEnvironment(a); };
  h["Service.EnvironmentFile"] = [this](const UnitAssignment& a) -> Result<void> {
    if (a.value.empty()) {
      spec_.environment_files.clear();
      return Ok();
    }
    std::string_view v = a.value;
    bool optional = v[0] == '-';
    if (optional) v.remove_prefix(1);
    auto r = Resolve(a, std::string(v));
    if (!r.ok()) return r.take_error();
    if (!IsAbsolutePath(*r)) return Err(a, "EnvironmentFile= path '" + *r + "' is not absolute");
    spec_.environment_files.push_back(EnvironmentFileRef{std::move(*r), optional});
    return Ok();
  };
  h["Service.User"] = UserOrGroup(&spec_.user);
  h["Service.Group"] = UserOrGroup(&spec_.group);
  // Limit*=, SupplementaryGroups=, UMask=, Nice=, OOMScoreAdjust=, capabilities and
  // NoNewPrivileges=: lib/unit/exec_settings.cc.
  for (std::string_view key : ExecSettingKeys()) {
    h["Service." + std::string(key)] = [this](const UnitAssignment& a) {
      return ApplyExecSetting(
          a, [this](const std::string& w) { return ResolveSpecifiers(w, data_); }, &spec_.exec);
    };
  }
}

Result<void> ServiceLoader::HandleEnvironment(const UnitAssignment& a) {
  if (a.value.empty()) {
    spec_.environment.clear();
    return Ok();
  }
  // Like systemd's config_parse_environ(): each word is applied as it is read, so a syntax error
  // (unbalanced quotes, a bad escape) keeps the assignments before it and drops the rest of the
  // line with a warning; an invalid assignment drops only itself.
  std::string_view rest = a.value;
  for (;;) {
    const std::string_view before = rest;
    auto word = ExtractFirstWord(&rest, kExtractCUnescape | kExtractUnquote);
    if (!word.ok()) {
      const size_t skipped = before.find_first_not_of(" \t\n\r");
      Warn(a, "Invalid syntax in Environment= (" + word.error().message +
                  "), ignoring the rest of the line: " +
                  std::string(before.substr(skipped == std::string_view::npos ? 0 : skipped)));
      return Ok();
    }
    if (!word->has_value()) return Ok();
    auto r = Resolve(a, **word);
    if (!r.ok()) return r.take_error();
    size_t eq = r->find('=');
    if (eq == std::string::npos || !IsValidEnvName(std::string_view(*r).substr(0, eq)) ||
        !IsValidUtf8(*r)) {
      Warn(a, "Invalid environment assignment, ignoring: " + *r);
      continue;
    }
    std::string name = r->substr(0, eq), value = r->substr(eq + 1);
    bool replaced = false;
    for (auto& [n, v] : spec_.environment) {
      if (n == name) {
        v = value;
        replaced = true;
        break;
      }
    }
    if (!replaced) spec_.environment.emplace_back(std::move(name), std::move(value));
  }
}

}  // namespace supd
