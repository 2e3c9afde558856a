// [Unit] and [Install] of a .service unit: description, documentation, dependencies, the start
// limit, conditions and asserts; WantedBy=/RequiredBy=/Alias=/Also=/DefaultInstance=.

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
  h["Unit.Documentation"] = Documentation(&spec_.documentation);
  AddDependencyHandlers(&spec_.deps);
  AddJobTimeoutHandlers();
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
}

void ServiceLoader::RegisterInstallHandlers() { AddInstallHandlers(&spec_.install); }

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
