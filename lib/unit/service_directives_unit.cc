// [Unit] and [Install] of a .service unit: description, documentation, dependencies, the start
// limit, conditions and asserts; WantedBy=/RequiredBy=/Alias=/Also=/DefaultInstance=.

#include <map>
#include <set>
#include <string>
#include <string_view>

#include "lib/unit/conditions.h"
#include "lib/unit/exec_command.h"
#include "lib/unit/service_loader.h"
#include "lib/unit/unit_syntax.h"
#include "lib/unit/values.h"

namespace supd {

const char* UnitActionName(UnitAction a) {
  switch (a) {
    case UnitAction::kNone: return "none";
    case UnitAction::kExit: return "exit";
    case UnitAction::kExitForce: return "exit-force";
  }
  return "none";
}

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
  AddUnitActionHandlers();
  h["Unit.StartLimitIntervalSec"] = Time({&spec_.start_limit_interval}, false);
  h["Unit.StartLimitBurst"] = Unsigned(&spec_.start_limit_burst);
  // The pre-v230 spellings, still accepted by systemd in [Service].
  h["Service.StartLimitInterval"] = Time({&spec_.start_limit_interval}, false);
  h["Service.StartLimitBurst"] = Unsigned(&spec_.start_limit_burst);
}

// FailureAction=/SuccessAction= and their exit statuses. supd acts on none, exit and
// exit-force; systemd's host actions (reboot, poweroff, ...) are warned and not acted on.
void ServiceLoader::AddUnitActionHandlers() {
  auto action = [this](UnitAction* out) -> UnitHandler {
    return [this, out](const UnitAssignment& a) -> Result<void> {
      static const std::map<std::string, UnitAction, std::less<>> kActions = {
          {"", UnitAction::kNone},
          {"none", UnitAction::kNone},
          {"exit", UnitAction::kExit},
          {"exit-force", UnitAction::kExitForce}};
      if (auto it = kActions.find(a.value); it != kActions.end()) {
        *out = it->second;
        return Ok();
      }
      static const std::set<std::string_view> kHostActions = {
          "reboot",        "reboot-force",       "reboot-immediate", "poweroff",
          "poweroff-force", "poweroff-immediate", "halt",             "halt-force",
          "halt-immediate", "kexec",              "kexec-force",      "soft-reboot",
          "soft-reboot-force"};
      if (!kHostActions.contains(a.value)) return Invalid(a);
      Warn(a, a.key + "=" + a.value +
                  " is not supported by supd (it does not reboot or power off the host); "
                  "only exit and exit-force are; ignored");
      *out = UnitAction::kNone;
      return Ok();
    };
  };
  auto status = [this](std::optional<uint8_t>* out) -> UnitHandler {
    return [this, out](const UnitAssignment& a) -> Result<void> {
      if (a.value.empty()) {
        out->reset();
        return Ok();
      }
      auto n = ParseUnsigned(a.value);
      if (!n.ok() || *n > 255) return Err(a, a.key + "= must be 0..255 or empty, not '" + a.value + "'");
      *out = static_cast<uint8_t>(*n);
      return Ok();
    };
  };
  auto& h = handlers_;
  h["Unit.FailureAction"] = action(&spec_.failure_action);
  h["Unit.SuccessAction"] = action(&spec_.success_action);
  h["Unit.FailureActionExitStatus"] = status(&spec_.failure_action_exit_status);
  h["Unit.SuccessActionExitStatus"] = status(&spec_.success_action_exit_status);
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
