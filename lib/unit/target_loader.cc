// LoadTargetFile / ParseTargetText (lib/unit/target_spec.h): a .target unit has only [Unit] and
// [Install] (systemd.target(5)). supd reads its description, its dependencies and its [Install];
// the other [Unit] directives systemd knows are warned about at their line, since supd does not
// act on them for a target.

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "lib/unit/conditions.h"
#include "lib/unit/loader_base.h"
#include "lib/unit/service_loader.h"
#include "lib/unit/specifiers.h"
#include "lib/unit/target_spec.h"
#include "lib/unit/unit_syntax.h"

namespace supd {
namespace {

const std::vector<std::string> kSections = {"Unit", "Install"};

// [Unit] directives a target takes in systemd that supd does not apply to one: those it does
// not apply to services either (IsKnownUnsupportedDirective), and these, which it applies to
// services only. Condition*= and Assert*= are matched by prefix in IsKnownUnsupported().
const std::set<std::string_view> kServiceOnlyUnit = {
    "OnFailure",     "OnSuccess",     "StartLimitIntervalSec",   "StartLimitBurst",
    "FailureAction", "SuccessAction", "FailureActionExitStatus", "SuccessActionExitStatus",
};

Result<void> CheckUnitName(const std::string& unit_name) {
  if (!IsValidUnitName(unit_name)) return Error{"Invalid unit name '" + unit_name + "'"};
  if (SplitUnitName(unit_name).suffix != "target") {
    return Error{"'" + unit_name + "' is not a .target unit"};
  }
  return Ok();
}

class Loader : public UnitLoaderBase<Loader, TargetSpec> {
 public:
  Loader(const std::string& unit_name, const std::string& source_path, const SpecifierContext& ctx)
      : UnitLoaderBase(unit_name, source_path, ctx, kSections) {
    handlers_["Unit.Description"] = [this](const UnitAssignment& a) -> Result<void> {
      auto d = Resolve(a, a.value);
      if (!d.ok()) return d.take_error();
      spec_.description = std::move(*d);
      return Ok();
    };
    handlers_["Unit.Documentation"] = Documentation(&spec_.documentation);
    AddDependencyHandlers(&spec_.deps);
    AddJobTimeoutHandlers();
    AddInstallHandlers(&spec_.install);
  }

  // Nothing to check across directives: a target with no dependencies is valid (an empty
  // group), as in systemd.
  Result<TargetSpec> Finish() { return std::move(spec_); }

 private:
  friend class UnitLoaderBase<Loader, TargetSpec>;

  Result<void> Apply(const UnitAssignment& a) {
    if (auto it = handlers_.find(a.section + "." + a.key); it != handlers_.end())
      return it->second(a);
    if (IsKnownUnsupported(a)) {
      Warn(a, a.key + "= is not supported by supd for targets, ignoring");
      return Ok();
    }
    WarnUnknownKey(a);
    return Ok();
  }

  static bool IsKnownUnsupported(const UnitAssignment& a) {
    if (a.section == "Install") return IsKnownUnsupportedDirective("Install", a.key);
    if (kServiceOnlyUnit.count(a.key) > 0 || IsKnownUnsupportedDirective("Unit", a.key))
      return true;
    for (std::string_view prefix : {"Condition", "Assert"}) {
      if (!a.key.starts_with(prefix) || a.key.size() == prefix.size()) continue;
      std::string_view type = std::string_view(a.key).substr(prefix.size());
      return IsSupportedConditionType(type) || IsKnownUnsupportedConditionType(type);
    }
    return false;
  }
};

}  // namespace

Result<TargetSpec> ParseTargetText(const std::string& text, const std::string& path,
                                   const std::string& unit_name, const SpecifierContext& ctx) {
  return ParseUnitWith<Loader>(text, path, unit_name, ctx, CheckUnitName);
}

Result<TargetSpec> LoadTargetFile(const std::string& path, const std::string& unit_name,
                                  const SpecifierContext& ctx) {
  return LoadUnitWith<Loader>(path, unit_name, ctx, CheckUnitName);
}

}  // namespace supd
