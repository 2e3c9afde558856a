// Unit names and specifiers, after systemd's unit-name.c and unit-printf.c.

#include "lib/unit/specifiers.h"

#include <sys/utsname.h>

#include <cstdlib>
#include <fstream>

namespace supd {
namespace {

// Characters of a unit name prefix; instances may also contain '@'.
constexpr std::string_view kValidUnitChars =
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ:-_.\\";

constexpr std::string_view kUnitTypes[] = {"service", "socket",    "target", "device",
                                           "mount",   "automount", "swap",   "timer",
                                           "path",    "slice",     "scope"};

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string ReadMachineId() {
  std::ifstream in("/etc/machine-id");
  std::string id;
  std::getline(in, id);
  return id;
}

}  // namespace

bool IsValidUnitName(const std::string& name) {
  // systemd's UNIT_NAME_MAX is 256 including the NUL.
  if (name.empty() || name.size() > 255) return false;
  size_t dot = name.rfind('.');
  if (dot == std::string::npos || dot == 0) return false;
  std::string_view suffix = std::string_view(name).substr(dot + 1);
  bool known_type = false;
  for (std::string_view t : kUnitTypes) known_type = known_type || t == suffix;
  if (!known_type) return false;
  size_t at = std::string::npos;
  for (size_t i = 0; i < dot; ++i) {
    char c = name[i];
    if (c == '@' && at == std::string::npos) {
      at = i;
      continue;
    }
    if (c == '@') continue;  // further '@' belong to the instance
    if (kValidUnitChars.find(c) == std::string_view::npos) return false;
  }
  return at != 0;
}

UnitNameParts SplitUnitName(const std::string& name) {
  UnitNameParts parts;
  size_t dot = name.rfind('.');
  if (dot == std::string::npos) dot = name.size();
  parts.suffix = dot < name.size() ? name.substr(dot + 1) : "";
  size_t at = name.find('@');
  if (at == std::string::npos || at > dot) {
    parts.prefix = name.substr(0, dot);
    return parts;
  }
  parts.prefix = name.substr(0, at);
  parts.instance = name.substr(at + 1, dot - at - 1);
  parts.is_template = parts.instance.empty();
  parts.is_instance = !parts.instance.empty();
  return parts;
}

std::string TemplateNameOf(const std::string& unit_name) {
  if (!IsValidUnitName(unit_name)) return "";
  UnitNameParts parts = SplitUnitName(unit_name);
  if (!parts.is_instance) return "";
  return parts.prefix + "@." + parts.suffix;
}

Result<std::string> UnitNameUnescape(std::string_view escaped) {
  std::string out;
  for (size_t i = 0; i < escaped.size(); ++i) {
    char c = escaped[i];
    if (c == '-') {
      out += '/';
    } else if (c == '\\') {
      if (i + 3 >= escaped.size()) {
        return Error{"invalid escape in unit name '" + std::string(escaped) + "'"};
      }
      int a = escaped[i + 1] == 'x' ? HexValue(escaped[i + 2]) : -1;
      int b = a >= 0 ? HexValue(escaped[i + 3]) : -1;
      if (b < 0) return Error{"invalid escape in unit name '" + std::string(escaped) + "'"};
      out += static_cast<char>((a << 4) | b);
      i += 3;
    } else {
      out += c;
    }
  }
  return out;
}

namespace {

// What the specifier `spec` in `text` (which errors quote) stands for.
Result<std::string> SpecifierValue(  // NOLINT(readability-function-size): a table
    char spec, const std::string& text, const UnitNameParts& parts, const SpecifierData& data) {
  switch (spec) {
    case '%':
      return std::string("%");
    case 'n':
      return data.unit_name;
    case 'N':
      return data.unit_name.substr(0, data.unit_name.rfind('.'));
    case 'p':
      return parts.prefix;
    case 'P':
      return UnitNameUnescape(parts.prefix);
    case 'i':
      return parts.instance;
    case 'I':
      return UnitNameUnescape(parts.instance);
    case 'j':
    case 'J': {
      // The last component of the prefix, after its last '-'.
      size_t dash = parts.prefix.rfind('-');
      std::string last = dash == std::string::npos ? parts.prefix : parts.prefix.substr(dash + 1);
      if (spec == 'J') return UnitNameUnescape(last);
      return last;
    }
    case 'f': {
      // "/" + the unescaped instance, or the unescaped prefix when there is no instance.
      auto r = UnitNameUnescape(parts.is_instance ? parts.instance : parts.prefix);
      if (!r.ok()) return r.take_error();
      return (!r->empty() && (*r)[0] == '/') ? *r : "/" + *r;
    }
    case 'y':
      return data.source_path;
    case 'Y': {
      size_t slash = data.source_path.rfind('/');
      return slash == std::string::npos ? "."
                                        : (slash == 0 ? "/" : data.source_path.substr(0, slash));
    }
    case 'H':
      return data.ctx.hostname;
    case 'l':
      return data.ctx.hostname.substr(0, data.ctx.hostname.find('.'));
    case 't':
      return data.ctx.runtime_dir;
    case 'u':
      return data.ctx.user_name;
    case 'U':
      return std::to_string(data.ctx.uid);
    case 'h':
      return data.ctx.user_home;
    case 'T':
    case 'V': {
      // systemd: $TMPDIR (also $TEMP, $TMP) if set and absolute, else /tmp or /var/tmp.
      const char* tmp = std::getenv("TMPDIR");
      return std::string((tmp != nullptr && tmp[0] == '/') ? tmp
                                                           : (spec == 'T' ? "/tmp" : "/var/tmp"));
    }
    case 'm': {
      std::string id = ReadMachineId();
      if (id.empty()) return Error{"cannot resolve %m: /etc/machine-id is unreadable or empty"};
      return id;
    }
    case 'v': {
      struct utsname u;
      if (uname(&u) < 0) return ErrnoError("uname");
      return std::string(u.release);
    }
    case 'a':
    case 'A':
    case 'b':
    case 'B':
    case 'C':
    case 'd':
    case 'E':
    case 'g':
    case 'G':
    case 'L':
    case 'M':
    case 'o':
    case 'q':
    case 's':
    case 'S':
    case 'w':
    case 'W':
      return Error{"specifier '%" + std::string(1, spec) + "' in '" + text +
                   "' is not supported by supd yet"};
    default:
      return Error{"unknown specifier '%" + std::string(1, spec) + "' in '" + text + "'"};
  }
}

}  // namespace

Result<std::string> ResolveSpecifiers(const std::string& text, const SpecifierData& data) {
  if (text.find('%') == std::string::npos) return text;
  UnitNameParts parts = SplitUnitName(data.unit_name);
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 1 == text.size()) return Error{"lone '%' at the end of '" + text + "'"};
    auto value = SpecifierValue(text[++i], text, parts, data);
    if (!value.ok()) return value.take_error();
    out += *value;
  }
  return out;
}

}  // namespace supd
