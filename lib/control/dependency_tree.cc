#include "lib/control/dependency_tree.h"

#include <algorithm>
#include <cstring>
#include <string_view>
#include <vector>

#include "lib/control/ansi_color.h"
#include "lib/control/json_field.h"

namespace supd::control {
namespace {

using ansi::kNormal;
constexpr std::string_view kGreen = ansi::kHighlightGreen, kRed = ansi::kHighlightRed;

struct Glyph {
  const char* text;
  std::string_view color;
};

// A state word of the reply (TargetSnapshot::members' words) as systemd's active state shows
// it: active, activating (starting, backoff: systemd's auto-restart is activating) and
// deactivating (stopping) keep the filled dot; reloading is the arrow.
Glyph GlyphOf(const std::string& state) {
  if (state == "running" || state == "listening" || state == "active" || state == "starting" ||
      state == "backoff")
    return {"●", kGreen};
  if (state == "reloading") return {"↻", kGreen};
  if (state == "stopping") return {"●", kNormal};
  if (state == "failed") return {"×", kRed};
  return {"○", kNormal};  // stopped, inactive, not-found
}

bool IsTarget(const std::string& name) {
  constexpr std::string_view kSuffix = ".target";
  return name.size() >= kSuffix.size() &&
         name.compare(name.size() - kSuffix.size(), kSuffix.size(), kSuffix) == 0;
}

void Render(const nlohmann::json& node, const std::string& prefix, bool color, std::string* out) {
  auto children = node.find("children");
  if (children == node.end() || !children->is_array()) return;
  std::vector<const nlohmann::json*> sorted;
  for (const auto& c : *children)
    if (c.is_object()) sorted.push_back(&c);
  std::stable_sort(sorted.begin(), sorted.end(), [](const auto* a, const auto* b) {
    const std::string na = Str(*a, "unit"), nb = Str(*b, "unit");
    if (IsTarget(na) != IsTarget(nb)) return IsTarget(nb);
    return strcasecmp(na.c_str(), nb.c_str()) < 0;
  });
  for (size_t i = 0; i < sorted.size(); ++i) {
    const nlohmann::json& c = *sorted[i];
    const bool last = i + 1 == sorted.size();
    const std::string state = Str(c, "state");
    if (state.empty()) {
      *out += "  ";  // no state to tell: systemctl leaves the glyph's place blank
    } else {
      const Glyph g = GlyphOf(state);
      if (color) *out += g.color;
      *out += g.text;
      if (color) *out += kNormal;
      *out += " ";
    }
    *out += prefix + (last ? "└─" : "├─") + Str(c, "unit") + "\n";
    Render(c, prefix + (last ? "  " : "│ "), color, out);
  }
}

}  // namespace

std::string FormatDependencyTree(const nlohmann::json& root, bool color) {
  std::string out = Str(root, "unit") + "\n";
  Render(root, "", color, &out);
  return out;
}

bool UseColor(bool stdout_is_tty, const char* no_color, const char* term) {
  if (no_color != nullptr && *no_color != '\0') return false;
  if (term != nullptr && std::strcmp(term, "dumb") == 0) return false;
  return stdout_is_tty;
}

}  // namespace supd::control
