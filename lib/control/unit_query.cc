#include "lib/control/unit_query.h"

#include <fnmatch.h>
#include <strings.h>

#include <algorithm>
#include <string_view>

#include "lib/control/ansi_color.h"
#include "lib/control/json_field.h"

namespace supd::control {
namespace {

// systemd's escape sequences (src/basic/terminal-util.h).
using ansi::kNormal;
constexpr std::string_view kRed = ansi::kHighlightRed, kGreen = ansi::kHighlightGreen,
                           kYellow = ansi::kHighlightYellow, kBold = ansi::kHighlight;

std::string TypeOf(const std::string& id) {
  const auto dot = id.rfind('.');
  return dot == std::string::npos ? "" : id.substr(dot + 1);
}

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

bool MatchesNameAndType(const UnitFilter& f, const std::string& id) {
  if (!f.patterns.empty() &&
      std::none_of(f.patterns.begin(), f.patterns.end(), [&id](const std::string& p) {
        return fnmatch(p.c_str(), id.c_str(), FNM_NOESCAPE) == 0;
      }))
    return false;
  return f.types.empty() || Contains(f.types, TypeOf(id));
}

// systemctl's order: by type ("service" < "socket" < "target"), then by name, case ignored.
bool Before(const std::string& a, const std::string& b) {
  const int t = strcasecmp(TypeOf(a).c_str(), TypeOf(b).c_str());
  if (t != 0) return t < 0;
  return strcasecmp(a.c_str(), b.c_str()) < 0;
}

// Display width of UTF-8 text: code points (the glyphs used here are one column each).
size_t Width(std::string_view s) {
  return static_cast<size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

struct Cell {
  std::string text;
  std::string_view color;  // "" for none
};

// A table as systemd's format-table prints it: cells padded to the widest of their column, one
// space between columns, the last column not padded; a cell's colour covers its padding.
std::string RenderTable(const std::vector<std::vector<Cell>>& rows) {
  if (rows.empty()) return "";
  std::vector<size_t> widths(rows.front().size(), 0);
  for (const auto& row : rows)
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], Width(row[i].text));
  std::string out;
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) {
      if (i > 0) out += ' ';
      std::string field = row[i].text;
      if (i + 1 < row.size()) field.append(widths[i] - Width(field), ' ');
      if (!row[i].color.empty()) {
        out.append(row[i].color).append(field).append(kNormal);
      } else {
        out += field;
      }
    }
    out += '\n';
  }
  return out;
}

// LOAD of a unit that did not load, from what supd says of it.
std::string LoadWord(const nlohmann::json& u) {
  const auto loaded = u.find("loaded");
  if (loaded == u.end() || !loaded->is_boolean() || loaded->get<bool>()) return "loaded";
  if (Str(u, "enable_state") == "masked") return "masked";
  if (Str(u, "load_error").find("No such file or directory") != std::string::npos)
    return "not-found";
  return "bad-setting";
}

// ACTIVE and SUB of a loaded unit.
std::pair<std::string, std::string> ActiveAndSub(const nlohmann::json& u) {
  const std::string type = Str(u, "unit_type");
  const std::string state = Str(u, "state");
  const std::string sub = Str(u, "sub_state");
  if (type == "socket") {
    if (state == "listening") return {"active", sub == "running" ? "running" : "listening"};
    if (state == "failed") return {"failed", "failed"};
    return {"inactive", "dead"};
  }
  if (type == "target") {
    if (state == "active") return {"active", "active"};
    return {"inactive", "dead"};
  }
  if (state == "running") {
    // A oneshot with RemainAfterExit= is "running" without a process: systemd's "exited".
    const auto pid = u.find("main_pid");
    const bool exited = Str(u, "type") == "oneshot" && (pid == u.end() || pid->is_null());
    return {"active", exited ? "exited" : "running"};
  }
  if (state == "starting") return {"activating", sub};
  if (state == "backoff") return {"activating", "auto-restart"};
  if (state == "reloading") return {"reloading", sub};
  if (state == "stopping") return {"deactivating", sub};
  if (state == "failed") return {"failed", "failed"};
  return {"inactive", "dead"};
}

}  // namespace

UnitView ViewOf(const nlohmann::json& unit) {
  UnitView v;
  v.id = Str(unit, "name");
  v.load = LoadWord(unit);
  if (v.load == "loaded") {
    std::tie(v.active, v.sub) = ActiveAndSub(unit);
  } else {
    v.active = "inactive";
    v.sub = "dead";
  }
  v.job = Str(unit, "job");
  v.description = Str(unit, "description");
  if (v.description.empty()) v.description = v.id;
  return v;
}

std::vector<std::string> SplitCommas(const std::vector<std::string>& values) {
  std::vector<std::string> out;
  for (const auto& v : values) {
    size_t start = 0;
    while (start <= v.size()) {
      const size_t comma = std::min(v.find(',', start), v.size());
      if (comma > start) out.push_back(v.substr(start, comma - start));
      start = comma + 1;
    }
  }
  return out;
}

std::string FormatListUnits(const nlohmann::json& units, const ListUnitsOptions& o) {
  std::vector<UnitView> shown;
  if (units.is_array()) {
    for (const auto& u : units) {
      UnitView v = ViewOf(u);
      if (!MatchesNameAndType(o.filter, v.id)) continue;
      if (!o.filter.states.empty()) {
        if (!Contains(o.filter.states, v.load) && !Contains(o.filter.states, v.active) &&
            !Contains(o.filter.states, v.sub))
          continue;
      } else if (!o.all && v.job.empty() && v.active == "inactive") {
        continue;
      }
      shown.push_back(std::move(v));
    }
  }
  std::sort(shown.begin(), shown.end(),
            [](const UnitView& a, const UnitView& b) { return Before(a.id, b.id); });
  const bool jobs =
      std::any_of(shown.begin(), shown.end(), [](const UnitView& v) { return !v.job.empty(); });
  std::vector<std::vector<Cell>> rows;
  if (o.legend) {
    // The glyph column is one wide even with no unit listed (systemctl: "  UNIT LOAD …").
    std::vector<Cell> header = {{" ", ""}, {"UNIT", ""}, {"LOAD", ""}, {"ACTIVE", ""}, {"SUB", ""}};
    if (jobs) header.push_back({"JOB", ""});
    header.push_back({"DESCRIPTION", ""});
    rows.push_back(std::move(header));
  }
  for (const UnitView& v : shown) {
    std::string_view circle, loaded, active;
    const bool load_failed = v.load != "loaded";
    if (o.color && load_failed) {
      circle = kYellow;
      loaded = kRed;
    } else if (o.color && v.active == "failed") {
      circle = active = kRed;
    }
    std::vector<Cell> row = {{load_failed || v.active == "failed" ? "●" : " ", circle},
                             {v.id, active},
                             {v.load, loaded},
                             {v.active, active},
                             {v.sub, active}};
    if (jobs) row.push_back({v.job, ""});
    row.push_back({v.description, ""});
    rows.push_back(std::move(row));
  }
  std::string out = RenderTable(rows);
  if (!o.legend) return out;
  if (!shown.empty()) {
    out +=
        "\n"
        "LOAD   = Reflects whether the unit definition was properly loaded.\n"
        "ACTIVE = The high-level unit activation state, i.e. generalization of SUB.\n"
        "SUB    = The low-level unit activation state, values depend on unit type.\n";
    if (jobs) out += "JOB    = Pending job for the unit.\n\n";
  }
  std::string count = std::to_string(shown.size()) + " loaded units listed.";
  if (o.color) count = std::string(shown.empty() ? kRed : kBold) + count + std::string(kNormal);
  const char* const files_hint = "To show all installed unit files use 'supctl list-unit-files'.\n";
  if (o.all || Contains(o.filter.states, "inactive")) {
    out += count + "\n" + files_hint;
  } else if (o.filter.states.empty()) {
    out += count + " Pass --all to see loaded but inactive units, too.\n" + files_hint;
  } else {
    out += std::to_string(shown.size()) + " loaded units listed.\n";
  }
  return out;
}

std::string FormatListUnitFiles(const nlohmann::json& units, const ListUnitFilesOptions& o,
                                size_t* count) {
  struct File {
    std::string id, state;
  };
  std::vector<File> files;
  if (units.is_array()) {
    for (const auto& u : units) {
      // A standard target supd has no file for is a unit, not a unit file.
      if (Str(u, "unit_path").empty()) continue;
      File f{Str(u, "name"), Str(u, "enable_state")};
      // A unit that never loaded has no [Install] supd could read: systemd's word is "bad".
      if (f.state.empty()) f.state = "bad";
      if (!MatchesNameAndType(o.filter, f.id)) continue;
      if (!o.filter.states.empty() && !Contains(o.filter.states, f.state)) continue;
      files.push_back(std::move(f));
    }
  }
  std::sort(files.begin(), files.end(),
            [](const File& a, const File& b) { return Before(a.id, b.id); });
  std::vector<std::vector<Cell>> rows;
  if (o.legend) rows.push_back({{"UNIT FILE", ""}, {"STATE", ""}});
  for (const File& f : files) {
    std::string_view color;
    if (o.color && (f.state == "enabled" || f.state == "alias")) color = kGreen;
    if (o.color && (f.state == "disabled" || f.state == "masked" || f.state == "bad")) color = kRed;
    rows.push_back({{f.id, ""}, {f.state, color}});
  }
  std::string out = RenderTable(rows);
  if (o.legend) out += "\n" + std::to_string(files.size()) + " unit files listed.\n";
  if (count) *count = files.size();
  return out;
}

ActiveCheck CheckOf(const nlohmann::json& unit) {
  const UnitView v = ViewOf(unit);
  return {v.active, v.load == "not-found"};
}

namespace {

int CheckExitCode(const std::vector<ActiveCheck>& checks, const std::vector<std::string>& good,
                  int otherwise) {
  bool all_not_found = true;
  for (const ActiveCheck& c : checks) {
    if (Contains(good, c.word)) return 0;
    if (!c.not_found) all_not_found = false;
  }
  return all_not_found ? 4 : otherwise;
}

}  // namespace

int IsActiveExitCode(const std::vector<ActiveCheck>& checks) {
  return CheckExitCode(checks, {"active", "reloading"}, 3);
}

int IsFailedExitCode(const std::vector<ActiveCheck>& checks) {
  return CheckExitCode(checks, {"failed"}, 1);
}

}  // namespace supd::control
