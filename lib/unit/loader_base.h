// What the .service, .socket and .target loaders share: reading a unit file and its drop-ins,
// and the base of a loader that applies assignments ("Section.Key" handlers) to a spec.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lib/base/result.h"
#include "lib/unit/exec_command.h"
#include "lib/unit/specifiers.h"
#include "lib/unit/unit_deps.h"
#include "lib/unit/unit_loader.h"
#include "lib/unit/unit_syntax.h"
#include "lib/unit/values.h"

namespace supd {

using UnitHandler = std::function<Result<void>(const UnitAssignment&)>;

// User=, Group=, SupplementaryGroups=, SocketUser=, SocketGroup=: a name or numeric ID as
// systemd accepts it (valid_user_group_name() with VALID_USER_RELAX | VALID_USER_ALLOW_NUMERIC):
// a numeric ID that ParseUid() takes; otherwise any valid UTF-8 without control characters, ':'
// or '/', no whitespace at either end, and not ".", "..", all digits or '-' and digits (which
// could be mistaken for an ID). No length limit, as in systemd. The Error's message is the
// reason, e.g. "contains ':' or '/'", or ParseUid()'s for all digits:
//   "'4294967296' is out of range (numeric user and group IDs are 0..4294967294)"
[[nodiscard]] Result<void> CheckUserGroupName(std::string_view s);
inline bool IsValidUserGroupName(std::string_view s) { return CheckUserGroupName(s).ok(); }
// Whether path resolves to /dev/null (a masked unit or drop-in).
bool IsDevNull(const std::string& path);
// The drop-ins of a unit read from `path` (for an instance, the template's file), in the order
// they apply: by file name; for a name in several directories the most specific one (instance
// over template). A drop-in that is empty or a link to /dev/null masks that name.
[[nodiscard]] Result<std::vector<std::string>> FindDropins(const std::string& path,
                                                           const std::string& unit_name);

// Base of a loader (CRTP): Derived has `Result<void> Apply(const UnitAssignment&)` and a
// `Result<Spec> Finish()`; the base gives the helpers every handler needs.
template <typename Derived, typename Spec>
class UnitLoaderBase {
 public:
  Result<void> ApplyText(std::string_view text, const std::string& file) {
    auto assignments = ParseUnitSyntax(text, file, sections_, &spec_.warnings);
    if (!assignments.ok()) return assignments.take_error();
    for (const UnitAssignment& a : *assignments)
      SUPD_TRY(static_cast<Derived*>(this)->Apply(a));
    return Ok();
  }

  void AddDropinPath(std::string path) { spec_.dropin_paths.push_back(std::move(path)); }

  // Reads the unit file (refusing a masked one) and then its drop-ins.
  Result<void> ApplyFileAndDropins(const std::string& path, const std::string& unit_name) {
    auto text = ReadUnitFile(path);
    if (!text.ok()) return text.take_error();
    if (text->empty() || IsDevNull(path)) {
      return Error{path + ": Unit " + unit_name + " is masked (the file is empty or /dev/null)"};
    }
    SUPD_TRY(ApplyText(*text, path));
    auto dropins = FindDropins(path, unit_name);
    if (!dropins.ok()) return dropins.take_error();
    for (const std::string& d : *dropins) {
      auto content = ReadUnitFile(d);
      if (!content.ok()) return content.take_error();
      SUPD_TRY(ApplyText(*content, d));
      AddDropinPath(d);
    }
    return Ok();
  }

 protected:
  UnitLoaderBase(const std::string& unit_name, const std::string& source_path,
                 const SpecifierContext& ctx, const std::vector<std::string>& sections)
      : data_{unit_name, source_path, ctx}, sections_(sections) {
    spec_.name = unit_name;
    spec_.source_path = source_path;
  }

  Error Err(const UnitAssignment& a, const std::string& message) const {
    return Error{a.Location() + ": " + message};
  }
  Error Invalid(const UnitAssignment& a) const {
    return Err(a, "Invalid " + a.key + "= value '" + a.value + "'");
  }
  void Warn(const UnitAssignment& a, std::string message) {
    spec_.warnings.push_back(Diagnostic{a.file, a.line, std::move(message)});
  }
  Result<std::string> Resolve(const UnitAssignment& a, const std::string& text) const {
    auto r = ResolveSpecifiers(text, data_);
    if (!r.ok())
      return Err(a, "Failed to resolve specifiers in " + a.key + "=: " + r.error().message);
    return r;
  }
  UnitHandler Bool(bool* out) {
    return [this, out](const UnitAssignment& a) -> Result<void> {
      auto b = ParseBoolean(a.value);
      if (!b.ok()) return Invalid(a);
      *out = *b;
      return Ok();
    };
  }
  // User=, Group=, SocketUser=, SocketGroup=: a name or ID CheckUserGroupName() takes (after
  // specifiers); empty resets.
  UnitHandler UserOrGroup(std::string* out) {
    return [this, out](const UnitAssignment& a) -> Result<void> {
      auto r = Resolve(a, a.value);
      if (!r.ok()) return r.take_error();
      if (r->empty()) {
        out->clear();
        return Ok();
      }
      // As systemd, a bad name refuses the unit: running it as another user (or binding its
      // socket for one) is not a detail to drop with a warning.
      if (auto valid = CheckUserGroupName(*r); !valid.ok()) {
        return Err(a, "Invalid " + a.key + "= value '" + *r + "': " + valid.error().message);
      }
      *out = std::move(*r);
      return Ok();
    };
  }
  // WantedBy=, After=, …: whitespace-separated unit names. As in systemd an empty assignment
  // does nothing (unless empty_resets), and an invalid name is skipped with a warning.
  UnitHandler UnitList(std::vector<std::string>* out, bool empty_resets) {
    return [this, out, empty_resets](const UnitAssignment& a) -> Result<void> {
      if (a.value.empty()) {
        if (empty_resets) out->clear();
        return Ok();
      }
      auto words = SplitWords(a.value, kExtractUnquote | kExtractRelax);
      if (!words.ok()) return Invalid(a);
      for (const std::string& w : *words) {
        auto name = Resolve(a, w);
        if (!name.ok()) return name.take_error();
        if (!IsValidUnitName(*name)) {
          Warn(a, "Invalid unit name '" + *name + "' in " + a.key + "=, ignoring");
          continue;
        }
        out->push_back(std::move(*name));
      }
      return Ok();
    };
  }

  // Documentation=: URLs of the kinds systemd takes (http://, https://, file:/, info:, man:);
  // another is skipped with a warning. An empty assignment resets the list.
  UnitHandler Documentation(std::vector<std::string>* out) {
    return [this, out](const UnitAssignment& a) -> Result<void> {
      if (a.value.empty()) {
        out->clear();
        return Ok();
      }
      auto words = SplitWords(a.value, kExtractUnquote | kExtractRelax);
      if (!words.ok()) return Invalid(a);
      for (const std::string& w : *words) {
        auto url = Resolve(a, w);
        if (!url.ok()) return url.take_error();
        bool ok = false;
        for (std::string_view scheme : {"http://", "https://", "file:/", "info:", "man:"}) {
          ok = ok || url->starts_with(scheme);
        }
        if (!ok) {
          Warn(a, "Invalid URL '" + *url + "' in Documentation=, ignoring");
          continue;
        }
        out->push_back(std::move(*url));
      }
      return Ok();
    };
  }

  // The [Unit] directives of UnitDeps (systemd.unit(5)). The lists take unit names as UnitList
  // does; an empty assignment does nothing, as in systemd's config_parse_unit_deps().
  void AddDependencyHandlers(UnitDeps* deps) {
    auto& h = handlers_;
    h["Unit.After"] = UnitList(&deps->after, false);
    h["Unit.Before"] = UnitList(&deps->before, false);
    h["Unit.Wants"] = UnitList(&deps->wants, false);
    h["Unit.Requires"] = UnitList(&deps->requires_, false);
    h["Unit.Requisite"] = UnitList(&deps->requisite, false);
    h["Unit.BindsTo"] = UnitList(&deps->binds_to, false);
    h["Unit.PartOf"] = UnitList(&deps->part_of, false);
    h["Unit.Conflicts"] = UnitList(&deps->conflicts, false);
    h["Unit.Upholds"] = UnitList(&deps->upholds, false);
    h["Unit.DefaultDependencies"] = Bool(&deps->default_dependencies);
    h["Unit.StopWhenUnneeded"] = Bool(&deps->stop_when_unneeded);
  }

  // JobTimeoutSec=, JobRunningTimeoutSec=, JobTimeoutAction=, JobTimeoutRebootArgument=: supd
  // has no job timeouts (a start or stop is bounded by the unit's own timeouts), so the
  // directives are read and warned about at their line, whatever their value.
  void AddJobTimeoutHandlers() {
    for (const char* key : {"JobTimeoutSec", "JobRunningTimeoutSec", "JobTimeoutAction",
                            "JobTimeoutRebootArgument"}) {
      handlers_[std::string("Unit.") + key] = [this](const UnitAssignment& a) -> Result<void> {
        Warn(a, a.key + "= is ignored: supd does not apply job timeouts");
        return Ok();
      };
    }
  }

  // [Install] as systemd's install.c reads it: WantedBy=, RequiredBy= and Alias= (an empty
  // assignment resets the list), Also= (an empty one does nothing), DefaultInstance=.
  void AddInstallHandlers(InstallSection* install) {
    auto& h = handlers_;
    h["Install.WantedBy"] = UnitList(&install->wanted_by, true);
    h["Install.RequiredBy"] = UnitList(&install->required_by, true);
    h["Install.Alias"] = UnitList(&install->aliases, true);
    h["Install.Also"] = UnitList(&install->also, false);
    h["Install.DefaultInstance"] = [this, install](const UnitAssignment& a) -> Result<void> {
      const UnitNameParts parts = SplitUnitName(spec_.name);
      // As systemd (config_parse_default_instance): an instance read from its template's file
      // ignores it silently; any other unit that is not a template is told.
      if (parts.is_instance) return Ok();
      if (!parts.is_template) {
        Warn(a, "DefaultInstance= only makes sense for template units, ignoring");
        return Ok();
      }
      auto r = Resolve(a, a.value);
      if (!r.ok()) return r.take_error();
      if (!r->empty() && !IsValidUnitName(parts.prefix + "@" + *r + "." + parts.suffix)) {
        Warn(a, "Invalid DefaultInstance= value '" + *r + "', ignoring");
        return Ok();
      }
      install->default_instance = std::move(*r);
      return Ok();
    };
  }

  // A key no handler takes: as systemd, "X-" keys are extensions for other tools (silently
  // ignored); anything else is a warning, with the section it belongs in when another takes it.
  void WarnUnknownKey(const UnitAssignment& a) {
    if (a.key.starts_with("X-")) return;
    std::string hint;
    for (const std::string& section : sections_) {
      if (section != a.section && handlers_.count(section + "." + a.key) > 0) {
        hint = " (" + a.key + "= belongs in the [" + section + "] section)";
        break;
      }
    }
    Warn(a, "Unknown key '" + a.key + "' in section [" + a.section + "], ignoring" + hint);
  }

  SpecifierData data_;
  Spec spec_;
  std::map<std::string, UnitHandler> handlers_;  // "Section.Key" → handler

 private:
  const std::vector<std::string>& sections_;  // the sections this kind of unit has
};

// The public Parse…Text and Load…File of a unit type, for its Loader: `check` (the unit
// name's type) first, then the text (at most kMaxUnitFileSize) or the file and its drop-ins,
// then Finish().
using UnitNameCheck = Result<void> (*)(const std::string&);
template <typename Loader>
auto ParseUnitWith(const std::string& text, const std::string& path, const std::string& unit_name,
                   const SpecifierContext& ctx, UnitNameCheck check)
    -> decltype(std::declval<Loader&>().Finish()) {
  SUPD_TRY(check(unit_name));
  if (text.size() > kMaxUnitFileSize) return Error{path + ": file is larger than 4 MiB, refusing"};
  Loader loader(unit_name, path, ctx);
  SUPD_TRY(loader.ApplyText(text, path));
  return loader.Finish();
}
template <typename Loader>
auto LoadUnitWith(const std::string& path, const std::string& unit_name,
                  const SpecifierContext& ctx, UnitNameCheck check)
    -> decltype(std::declval<Loader&>().Finish()) {
  SUPD_TRY(check(unit_name));
  Loader loader(unit_name, path, ctx);
  SUPD_TRY(loader.ApplyFileAndDropins(path, unit_name));
  return loader.Finish();
}

}  // namespace supd
