// unit_directives: what supd's unit loaders make of a directive, for the man page's test
// (tests/docs/check_unit_page.py).
//
// Reads lines "TYPE SECTION KEY" (TYPE: service, socket or target) on stdin and prints
// "TYPE SECTION KEY CLASS" for each, CLASS being what the real loader (ParseServiceText,
// ParseSocketText, ParseTargetText) does with a unit holding that one directive, empty:
//   unknown   "Unknown key" warning: the loader does not know the directive
//   warned    accepted with a warning that it is not supported / ignored
//   refused   the unit is refused because of the directive ("… is not supported by supd")
//   enforced  anything else: the loader applies it (an empty value resets it, or is refused as
//             an invalid value, which is the handler's doing)
// An empty value, because whether a loader knows a directive does not depend on the value: a
// known one goes to its handler (which resets or refuses the value), a known unsupported one is
// warned whatever the value, an unknown one is warned as unknown.
#include <iostream>
#include <sstream>
#include <string>

#include "lib/unit/socket_loader.h"
#include "lib/unit/target_spec.h"
#include "lib/unit/unit_loader.h"

namespace {

// The directive is on line 2 of the text; what the unit type needs to load at all comes after,
// in a section of its own (a later [Service] adds to the first).
std::string UnitText(const std::string& type, const std::string& section,
                     const std::string& key) {
  std::string text = "[" + section + "]\n" + key + "=\n";
  if (type == "service") text += "[Service]\nExecStart=/bin/true\n";
  if (type == "socket") text += "[Socket]\nListenStream=127.0.0.1:1\n";
  return text;
}

template <typename Spec>
std::string Classify(const supd::Result<Spec>& r, const std::string& key) {
  const std::string at_line = "u:2: ";
  if (!r.ok()) {
    const std::string& m = r.error().message;
    if (!m.starts_with(at_line)) return "enforced";  // the unit as a whole, not this line
    if (m.find(key + "= is not supported by supd") != std::string::npos) return "refused";
    return "enforced";
  }
  for (const supd::Diagnostic& w : r->warnings) {
    if (w.line != 2) continue;
    if (w.message.starts_with("Unknown key")) return "unknown";
    if (w.message.find("not supported") != std::string::npos ||
        w.message.find("is ignored") != std::string::npos)
      return "warned";
  }
  return "enforced";
}

}  // namespace

int main() {
  supd::SpecifierContext ctx;
  ctx.hostname = "host";
  ctx.runtime_dir = "/run";
  ctx.user_name = "root";
  ctx.user_home = "/root";
  std::string line;
  while (std::getline(std::cin, line)) {
    std::istringstream in(line);
    std::string type, section, key;
    if (!(in >> type >> section >> key)) continue;
    const std::string text = UnitText(type, section, key);
    std::string cls;
    if (type == "service") {
      cls = Classify(supd::ParseServiceText(text, "u", "u.service", ctx), key);
    } else if (type == "socket") {
      cls = Classify(supd::ParseSocketText(text, "u", "u.socket", ctx), key);
    } else if (type == "target") {
      cls = Classify(supd::ParseTargetText(text, "u", "u.target", ctx), key);
    } else {
      std::cerr << "unit_directives: unknown unit type '" << type << "'\n";
      return 2;
    }
    std::cout << type << ' ' << section << ' ' << key << ' ' << cls << '\n';
  }
  return 0;
}
