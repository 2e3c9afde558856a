// Unit names (prefix, instance, escaping) and the %-specifiers of systemd.unit(5).
//
// Pure functions over strings, thread-safe; the only I/O is reading /etc/machine-id for %m and
// uname() for %v, on demand.
#pragma once

#include <string>
#include <string_view>

#include "lib/base/result.h"
#include "lib/unit/unit_loader.h"

namespace supd {

// The parts of a unit name: "worker@3.service" → prefix "worker", instance "3", suffix "service".
struct UnitNameParts {
  std::string prefix;
  std::string instance;  // "" for plain names and templates
  std::string suffix;
  bool is_template = false;  // "worker@.service"
  bool is_instance = false;  // "worker@3.service"
};

// REQUIRES: IsValidUnitName(name)
UnitNameParts SplitUnitName(const std::string& name);

// systemd's unit name unescaping: "-" → "/", "\xNN" → the byte. Fails on a malformed "\".
[[nodiscard]] Result<std::string> UnitNameUnescape(std::string_view escaped);

// Everything the specifiers of one unit resolve to.
struct SpecifierData {
  std::string unit_name;    // %n
  std::string source_path;  // %y (and %Y, its directory)
  SpecifierContext ctx;
};

// Replaces every %x in `text`. Unknown or unsupported specifiers and a trailing lone '%' are
// errors whose message names the specifier, e.g. "unknown specifier '%z' in 'a%zb'".
[[nodiscard]] Result<std::string> ResolveSpecifiers(const std::string& text,
                                                    const SpecifierData& data);

}  // namespace supd
