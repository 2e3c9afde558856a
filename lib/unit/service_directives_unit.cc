// [Unit] and [Install] of a .service unit: description, documentation, dependencies, the start
// limit, conditions and asserts; WantedBy=/RequiredBy=/Alias=.

#include <string>
#include <string_view>

#include "lib/unit/conditions.h"
#include "lib/unit/exec_command.h"
#include "lib/unit/service_loader.h"
#include "lib/unit/unit_syntax.h"

namespace supd {

// [Unit] (and the start limit's old spellings in [Service]). Condition*=/Assert*= are
// dispatched by prefix in Apply() (HandleCondition).
void ServiceLoader::RegisterUnitHandlers() {
  auto& h = handlers_;
  h["Unit.Description"] = [this](const UnitAssignment& a) -> Result<void> {
    auto d = Resolve(a, a.value);
    if (!d.ok()) return d.take_error();
    spec_.description = std::move(*d);
    return Ok();
  };
  h["Unit.Documentation"] = [this](const UnitAssignment& a) -> Result<void> {
    if (a.value.empty()) {
      spec_.documentation.clear();
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
      spec_.documentation.push_back(std::move(*url));
    }
    return Ok();
  };
  h["Unit.After"] = UnitList(&spec_.deps.after, false);
  h["Unit.Before"] = UnitList(&spec_.deps.before, false);
  h["Unit.Wants"] = UnitList(&spec_.deps.wants, false);
  h["Unit.Requires"] = UnitList(&spec_.deps.requires_, false);
  h["Unit.BindsTo"] = UnitList(&spec_.deps.binds_to, false);
  // systemd takes any unit type here; supd runs services and socket units only, so another
  // type is a warning at its line rather than a start that fails later without a word.
  auto triggers = [this](std::vector<std::string>* list) -> UnitHandler {
    return [this, list, names = UnitList(list, false)](const UnitAssignment& a) -> Result<void> {
      const size_t before = list->size();
      if (auto r = names(a); !r.ok()) return r;
      for (size_t i = before; i < list->size();) {
        const std::string& n = (*list)[i];
        if (n.ends_with(".service") || n.ends_with(".socket")) {
          ++i;
          continue;
        }
        Warn(a, "'" + n + "' in " + a.key +
                    "= is not a .service or .socket unit; supd cannot start it, ignoring");
        list->erase(list->begin() + static_cast<std::ptrdiff_t>(i));
      }
      return Ok();
    };
  };
  h["Unit.OnFailure"] = triggers(&spec_.on_failure);
  h["Unit.OnSuccess"] = triggers(&spec_.on_success);
  h["Unit.StartLimitIntervalSec"] = Time({&spec_.start_limit_interval}, false);
  h["Unit.StartLimitBurst"] = Unsigned(&spec_.start_limit_burst);
  // The pre-v230 spellings, still accepted by systemd in [Service].
  h["Service.StartLimitInterval"] = Time({&spec_.start_limit_interval}, false);
  h["Service.StartLimitBurst"] = Unsigned(&spec_.start_limit_burst);
  // DefaultDependencies= only adds dependencies on systemd's boot targets, which supd treats
  // as always satisfied: either value means the same to supd, so it is checked and accepted.
  h["Unit.DefaultDependencies"] = [this](const UnitAssignment& a) -> Result<void> {
    if (!ParseBoolean(a.value).ok()) return Invalid(a);
    return Ok();
  };
}

void ServiceLoader::RegisterInstallHandlers() {
  auto& h = handlers_;
  h["Install.WantedBy"] = UnitList(&spec_.install.wanted_by, true);
  h["Install.RequiredBy"] = UnitList(&spec_.install.required_by, true);
  h["Install.Alias"] = UnitList(&spec_.install.aliases, true);
}

Result<void> ServiceLoader::HandleCondition(const UnitAssignment& a, bool is_assert,
                                            std::string_view type) {
  if (a.value.empty()) {
    // An empty assignment to any Condition*= resets all conditions (Assert*=: all asserts).
    std::erase_if(spec_.conditions, [&](const Condition& c) { return c.is_assert == is_assert; });
    return Ok();
  }
  Condition c;
  c.name = a.key;
  c.is_assert = is_assert;
  c.source = a.Location();
  std::string_view v = a.value;
  auto skip_space = [&] {
    while (!v.empty() && (v[0] == ' ' || v[0] == '\t')) v.remove_prefix(1);
  };
  if (!v.empty() && v[0] == '|') {
    c.trigger = true;
    v.remove_prefix(1);
    skip_space();
  }
  if (!v.empty() && v[0] == '!') {
    c.negate = true;
    v.remove_prefix(1);
    skip_space();
  }
  auto r = Resolve(a, std::string(v));
  if (!r.ok()) return r.take_error();
  if (ConditionTakesPath(type) && !IsAbsolutePath(*r)) {
    return Err(a, a.key + "= path '" + *r + "' is not absolute");
  }
  if (r->empty()) return Invalid(a);
  c.value = std::move(*r);
  spec_.conditions.push_back(std::move(c));
  return Ok();
}

}  // namespace supd
