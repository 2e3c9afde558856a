// supctl's systemctl query verbs: list-units, list-unit-files, show, is-active, is-failed.
// They take systemctl's options and print its words (lib/control/unit_query.h,
// lib/control/unit_properties.h); this file parses the arguments, asks supd and prints.
//
// Exit codes: list-units and show as every verb (supctl.h); list-unit-files 1 when it lists
// nothing (systemctl); is-active and is-failed systemctl's own: 0 when any unit is active
// (failed), 3 (is-failed: 1) when none is, 4 when no unit named exists, and 1 when supd cannot
// be reached or refuses (as systemctl exits 1 when it cannot ask its manager).
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "daemon/supctl.h"
#include "lib/control/client.h"
#include "lib/control/protocol.h"
#include "lib/control/unit_properties.h"
#include "lib/control/unit_query.h"

namespace supd::supctl {
namespace {

using nlohmann::json;

// What the query verbs' options say (each verb reads its own).
struct QueryArgs {
  std::vector<std::string> units;  // unit names, or list-units' patterns
  std::vector<std::string> states, types, properties, value_properties;
  bool all = false;
  bool failed = false;
  bool no_legend = false;
  bool value = false;
  bool quiet = false;
};

// One `status` request per unit over one connection, so that units before an unknown one are
// answered as systemctl answers them.
class UnitLookup {
 public:
  // False (after saying why on stderr) when supd cannot be reached.
  bool Connect(const GlobalOptions& g) {
    auto c = control::Client::Connect(g.socket);
    if (!c.ok()) {
      std::fprintf(stderr, "supctl: supd is not reachable: %s\n", c.error().message.c_str());
      return false;
    }
    client_.emplace(std::move(*c));
    if (g.timeout) client_->SetTimeout(*g.timeout);
    return true;
  }

  // The unit's status object; null when supd has no such unit (`*name` is then the full name
  // asked for); nullopt after an error was printed.
  std::optional<json> Get(const std::string& unit, std::string* name) {
    auto normal = control::NormalizeUnitName(unit);
    if (!normal.ok()) {
      std::fprintf(stderr, "supctl: %s\n", normal.error().message.c_str());
      return std::nullopt;
    }
    *name = *normal;
    auto r = client_->Call("status", {{"services", json::array({*normal})}});
    if (!r.ok()) {
      std::fprintf(stderr, "supctl: %s\n", r.error().message.c_str());
      return std::nullopt;
    }
    const auto ok = r->find("ok");
    if (ok != r->end() && ok->is_boolean() && ok->get<bool>()) {
      const auto result = r->find("result");
      if (result != r->end() && result->is_array() && result->size() == 1) return (*result)[0];
      std::fprintf(stderr, "supctl: unexpected answer from supd: %s\n", r->dump().c_str());
      return std::nullopt;
    }
    const json e = r->value("error", json::object());
    const std::string code = e.is_object() ? e.value("code", "") : "";
    if (code == control::kNotFound) return json(nullptr);
    std::fprintf(stderr, "supctl: %s\n",
                 (e.is_object() ? e.value("message", "failed") : "failed").c_str());
    return std::nullopt;
  }

 private:
  std::optional<control::Client> client_;
};

control::UnitFilter Filter(const QueryArgs& q) {
  control::UnitFilter f;
  f.patterns = q.units;
  f.types = control::SplitCommas(q.types);
  f.states = control::SplitCommas(q.states);
  if (q.failed) f.states.push_back("failed");
  return f;
}

int ListUnits(const GlobalOptions& g, const QueryArgs& q) {
  Outcome o = Call(g.socket, "status", json::object(), g.timeout);
  if (o.code != kExitOk) return o.code;
  control::ListUnitsOptions lo;
  lo.filter = Filter(q);
  lo.all = q.all;
  lo.legend = !q.no_legend;
  lo.color = ColorOn(g);
  std::fputs(control::FormatListUnits(o.response["result"], lo).c_str(), stdout);
  return kExitOk;
}

int ListUnitFiles(const GlobalOptions& g, const QueryArgs& q) {
  Outcome o = Call(g.socket, "status", json::object(), g.timeout);
  if (o.code != kExitOk) return o.code;
  control::ListUnitFilesOptions lo;
  lo.filter = Filter(q);
  lo.legend = !q.no_legend;
  lo.color = ColorOn(g);
  size_t count = 0;
  std::fputs(control::FormatListUnitFiles(o.response["result"], lo, &count).c_str(), stdout);
  return count > 0 ? kExitOk : kExitFailed;
}

// `show` without a unit: supd's own properties (systemctl shows its manager's).
int ShowDaemon(const GlobalOptions& g, const control::ShowOptions& so) {
  Outcome v = Call(g.socket, "version", json::object(), g.timeout);
  if (v.code != kExitOk) return v.code;
  Outcome s = Call(g.socket, "is-system-running", json::object(), g.timeout);
  if (s.code != kExitOk) return s.code;
  const json& version = v.response["result"];
  const json& state = s.response["result"];
  std::vector<control::Property> props = {
      {"Version", version.is_object() ? version.value("version", "") : ""},
      {"SystemState", state.is_object() ? state.value("state", "") : ""},
  };
  std::fputs(control::FormatProperties(props, so).c_str(), stdout);
  return kExitOk;
}

int Show(const GlobalOptions& g, const QueryArgs& q) {
  control::ShowOptions so;
  so.properties = control::SplitCommas(q.properties);
  for (const auto& p : control::SplitCommas(q.value_properties)) so.properties.push_back(p);
  so.value_only = q.value || !q.value_properties.empty();
  so.all = q.all;
  if (q.units.empty()) return ShowDaemon(g, so);
  UnitLookup lookup;
  if (!lookup.Connect(g)) return kExitUnreachable;
  bool first = true;
  for (const auto& unit : q.units) {
    std::string name;
    auto u = lookup.Get(unit, &name);
    if (!u) return kExitFailed;
    // systemctl separates the units' blocks with an empty line.
    if (!first) std::fputs("\n", stdout);
    first = false;
    const auto props =
        u->is_null() ? control::NotFoundProperties(name) : control::UnitProperties(*u);
    std::fputs(control::FormatProperties(props, so).c_str(), stdout);
  }
  return kExitOk;
}

// `is-failed` without a unit: whether any unit failed, which supd's state tells ("degraded"),
// as systemctl answers it from its manager's SystemState.
int IsSystemDegraded(const GlobalOptions& g, bool quiet) {
  Outcome s = Call(g.socket, "is-system-running", json::object(), g.timeout);
  if (s.code != kExitOk) return kExitFailed;
  const json& result = s.response["result"];
  const std::string state = result.is_object() ? result.value("state", "") : "";
  if (!quiet) std::printf("%s\n", state.c_str());
  return state == "degraded" ? kExitOk : kExitFailed;
}

int CheckActive(const GlobalOptions& g, const QueryArgs& q, bool failed_verb) {
  if (failed_verb && q.units.empty()) return IsSystemDegraded(g, q.quiet);
  UnitLookup lookup;
  if (!lookup.Connect(g)) return kExitFailed;
  std::vector<control::ActiveCheck> checks;
  for (const auto& unit : q.units) {
    std::string name;
    auto u = lookup.Get(unit, &name);
    if (!u) return kExitFailed;
    const control::ActiveCheck c = u->is_null() ? control::UnknownUnit() : control::CheckOf(*u);
    if (!q.quiet) std::printf("%s\n", c.word.c_str());
    checks.push_back(c);
  }
  return failed_verb ? control::IsFailedExitCode(checks) : control::IsActiveExitCode(checks);
}

// A repeatable option that takes one value each time (-p A -p B,C), not every word after it.
CLI::Option* Repeatable(CLI::App* cmd, const std::string& name, std::vector<std::string>* into,
                        const std::string& help) {
  return cmd->add_option(name, *into, help)->allow_extra_args(false)->type_size(1);
}

}  // namespace

void AddQueryVerbs(CLI::App& app, Verbs* verbs) {
  auto q = std::make_shared<QueryArgs>();

  auto* list_units = app.add_subcommand(
      "list-units", "list units and their states as systemctl does (active ones unless --all)");
  list_units->add_option("patterns", q->units, "shell patterns on unit names");
  list_units->add_flag("-a,--all", q->all, "inactive units too");
  Repeatable(list_units, "--state", &q->states,
             "only units in these LOAD, ACTIVE or SUB states (comma-separated)");
  Repeatable(list_units, "-t,--type", &q->types,
             "only units of these types: service,socket,target");
  list_units->add_flag("--failed", q->failed, "same as --state=failed");
  list_units->add_flag("--no-legend", q->no_legend, "no header and no legend");
  verbs->push_back({list_units, [q](const GlobalOptions& g) { return ListUnits(g, *q); }});

  auto* list_files = app.add_subcommand("list-unit-files",
                                        "list unit files and their enablement (is-enabled's word)");
  list_files->add_option("patterns", q->units, "shell patterns on unit names");
  Repeatable(list_files, "--state", &q->states,
             "only files in these states: enabled,disabled,static,… (comma-separated)");
  Repeatable(list_files, "-t,--type", &q->types,
             "only units of these types: service,socket,target");
  list_files->add_flag("--no-legend", q->no_legend, "no header and no count");
  verbs->push_back({list_files, [q](const GlobalOptions& g) { return ListUnitFiles(g, *q); }});

  auto* show = app.add_subcommand(
      "show", "print units' properties as systemctl show does (supd's own without a unit)");
  show->add_option("units", q->units, "units");
  Repeatable(show, "-p,--property", &q->properties,
             "only these properties (comma-separated, repeatable)");
  Repeatable(show, "-P", &q->value_properties, "same as --value --property=NAME");
  show->add_flag("--value", q->value, "print values only");
  show->add_flag("-a,--all", q->all, "empty properties too");
  verbs->push_back({show, [q](const GlobalOptions& g) { return Show(g, *q); }});

  auto* is_active = app.add_subcommand(
      "is-active",
      "print whether units are active (exit 0 when any is, 3 when none is, 4 when none exists)");
  is_active->add_option("units", q->units, "units")->required();
  is_active->add_flag("-q,--quiet", q->quiet, "print nothing, only set the exit code");
  verbs->push_back({is_active, [q](const GlobalOptions& g) { return CheckActive(g, *q, false); }});

  auto* is_failed = app.add_subcommand(
      "is-failed",
      "print whether units are failed (exit 0 when any is, 1 when none is, 4 when none exists); "
      "without a unit, whether supd is degraded");
  is_failed->add_option("units", q->units, "units");
  is_failed->add_flag("-q,--quiet", q->quiet, "print nothing, only set the exit code");
  verbs->push_back({is_failed, [q](const GlobalOptions& g) { return CheckActive(g, *q, true); }});
}

}  // namespace supd::supctl
