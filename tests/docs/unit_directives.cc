// unit_directives: what supd's unit loaders make of a directive, for the man page's test
// (tests/docs/check_unit_page.py).
//
// Reads lines "TYPE SECTION KEY" (TYPE: service, socket or target) on stdin and prints
// "TYPE SECTION KEY CLASS" for each, CLASS being what the real loader (ParseServiceText,
// ParseSocketText, ParseTargetText) does with the directive, assigned the empty value:
//   unknown   "Unknown key" warning: the loader does not know the directive
//   warned    accepted with a warning that it is not supported / ignored
//   refused   the unit is refused because of the directive ("… is not supported by supd")
//   enforced  anything else: the loader applies it (an empty value resets it, or is refused as
//             an invalid value, which is the handler's doing)
// An empty value, because whether a loader knows a directive does not depend on the value: a
// known one goes to its handler (which resets or refuses the value), a known unsupported one is
// warned whatever the value, an unknown one is warned as unknown.
//
// Thousands of names are asked about, so they are not loaded one unit each: the names of one
// (type, section) go into one unit, one per line, and each warning is matched to its name by
// its line. An error stops a load, so the name on the error's line is classified from the error
// and the unit is loaded again without it, until it loads.
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "lib/unit/socket_loader.h"
#include "lib/unit/target_spec.h"
#include "lib/unit/unit_loader.h"

namespace {

constexpr int kFirstKeyLine = 2;  // line 1 is the section header

// The keys from line 2 on; what the unit type needs to load at all comes after, in a section
// of its own (a later [Service] adds to the first).
std::string UnitText(const std::string& type, const std::string& section,
                     const std::vector<std::string>& keys) {
  std::string text = "[" + section + "]\n";
  for (const std::string& k : keys) text += k + "=\n";
  if (type == "service") text += "[Service]\nExecStart=/bin/true\n";
  if (type == "socket") text += "[Socket]\nListenStream=127.0.0.1:1\n";
  return text;
}

// "u:LINE: message" → LINE, or 0.
int ErrorLine(const std::string& message) {
  if (!message.starts_with("u:")) return 0;
  int line = 0;
  for (size_t i = 2; i < message.size() && message[i] >= '0' && message[i] <= '9'; ++i)
    line = line * 10 + (message[i] - '0');
  return line;
}

const char* ClassOfWarning(const std::string& message) {
  if (message.starts_with("Unknown key")) return "unknown";
  if (message.find("not supported") != std::string::npos ||
      message.find("is ignored") != std::string::npos)
    return "warned";
  return nullptr;
}

using Classes = std::map<std::string, std::string>;  // key → class

// Loads `keys` as one unit until it loads, classifying each key into *out.
template <typename Parse>
bool ClassifyAll(const std::string& type, const std::string& section,
                 std::vector<std::string> keys, Parse parse, Classes* out) {
  for (;;) {
    auto r = parse(UnitText(type, section, keys));
    if (!r.ok()) {
      const std::string& m = r.error().message;
      const int line = ErrorLine(m);
      const int index = line - kFirstKeyLine;
      if (index < 0 || index >= static_cast<int>(keys.size())) {
        std::cerr << "unit_directives: a ." << type << " unit with [" << section
                  << "] keys does not load, not because of one of them: " << m << "\n";
        return false;
      }
      const std::string& key = keys[static_cast<size_t>(index)];
      (*out)[key] = m.find(key + "= is not supported by supd") != std::string::npos
                        ? "refused"
                        : "enforced";  // the handler refused the (empty) value
      keys.erase(keys.begin() + index);
      continue;
    }
    for (const std::string& k : keys) (*out)[k] = "enforced";
    for (const supd::Diagnostic& w : r->warnings) {
      const int index = w.line - kFirstKeyLine;
      if (index < 0 || index >= static_cast<int>(keys.size())) continue;
      if (const char* cls = ClassOfWarning(w.message))
        (*out)[keys[static_cast<size_t>(index)]] = cls;
    }
    return true;
  }
}

}  // namespace

int main() {
  supd::SpecifierContext ctx;
  ctx.hostname = "host";
  ctx.runtime_dir = "/run";
  ctx.user_name = "root";
  ctx.user_home = "/root";
  std::vector<std::pair<std::string, std::string>> groups;  // (type, section), in input order
  std::map<std::pair<std::string, std::string>, std::vector<std::string>> keys;
  std::vector<std::vector<std::string>> queries;
  std::string line;
  while (std::getline(std::cin, line)) {
    std::istringstream in(line);
    std::string type, section, key;
    if (!(in >> type >> section >> key)) continue;
    if (type != "service" && type != "socket" && type != "target") {
      std::cerr << "unit_directives: unknown unit type '" << type << "'\n";
      return 2;
    }
    auto& list = keys[{type, section}];
    if (list.empty()) groups.emplace_back(type, section);
    list.push_back(key);
    queries.push_back({type, section, key});
  }
  std::map<std::pair<std::string, std::string>, Classes> classes;
  for (const auto& g : groups) {
    const auto& [type, section] = g;
    // A key asked twice is one line.
    std::vector<std::string> unique;
    std::set<std::string> seen;
    for (const std::string& k : keys[g])
      if (seen.insert(k).second) unique.push_back(k);
    bool ok = false;
    if (type == "service") {
      ok = ClassifyAll(type, section, unique, [&](const std::string& text) {
        return supd::ParseServiceText(text, "u", "u.service", ctx);
      }, &classes[g]);
    } else if (type == "socket") {
      ok = ClassifyAll(type, section, unique, [&](const std::string& text) {
        return supd::ParseSocketText(text, "u", "u.socket", ctx);
      }, &classes[g]);
    } else {
      ok = ClassifyAll(type, section, unique, [&](const std::string& text) {
        return supd::ParseTargetText(text, "u", "u.target", ctx);
      }, &classes[g]);
    }
    if (!ok) return 1;
  }
  for (const auto& q : queries)
    std::cout << q[0] << ' ' << q[1] << ' ' << q[2] << ' ' << classes[{q[0], q[1]}][q[2]] << '\n';
  return 0;
}
