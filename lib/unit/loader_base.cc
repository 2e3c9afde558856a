#include "lib/unit/loader_base.h"

#include <sys/stat.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <filesystem>

#include "lib/base/user_db.h"
#include "lib/unit/unit_loader.h"

namespace supd {
namespace {

namespace fs = std::filesystem;

std::string DirName(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

Result<void> CheckUserGroupName(std::string_view s) {
  if (s.empty()) return Error{"empty name"};
  bool all_digits = true;
  for (char c : s) all_digits = all_digits && c >= '0' && c <= '9';
  // A number is an ID or nothing: a name of digits only would be mistaken for one.
  if (all_digits) {
    auto id = ParseUid(s);
    if (!id.ok()) return id.take_error();
    return Ok();
  }
  if (s.front() == ' ' || s.back() == ' ') return Error{"leading or trailing whitespace"};
  if (!IsValidUtf8(s)) return Error{"not valid UTF-8"};
  for (char c : s) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u < ' ' || u == 0x7f) return Error{"contains a control character"};
    if (c == ':' || c == '/') return Error{"contains ':' or '/'"};
  }
  if (s[0] == '-' && s.find_first_not_of("0123456789", 1) == std::string_view::npos) {
    return Error{"a negative number is not an ID"};
  }
  if (s == "." || s == "..") return Error{"'.' and '..' are not names"};
  return Ok();
}

bool IsDevNull(const std::string& path) {
  char resolved[PATH_MAX];
  return realpath(path.c_str(), resolved) != nullptr && std::string_view(resolved) == "/dev/null";
}

Result<std::vector<std::string>> FindDropins(const std::string& path,
                                             const std::string& unit_name) {
  std::vector<std::string> dirs;  // least specific first
  std::string dir = DirName(path);
  std::string tmpl = TemplateNameOf(unit_name);
  auto add = [&](std::string d) {
    for (const std::string& x : dirs) {
      if (x == d) return;
    }
    dirs.push_back(std::move(d));
  };
  // For an instance read from its template file, path.d is the template's directory and the
  // instance's own directory comes last, so that it wins.
  if (!tmpl.empty()) add(dir + "/" + tmpl + ".d");
  add(path + ".d");
  add(dir + "/" + unit_name + ".d");

  std::map<std::string, std::string> by_name;  // file name → path ("" = masked)
  for (const std::string& d : dirs) {
    std::error_code ec;
    fs::directory_iterator it(d, ec);
    if (ec == std::errc::no_such_file_or_directory || ec == std::errc::not_a_directory) continue;
    if (ec) return ErrnoError("open " + d, ec.value());
    // An error while reading ends the listing: what was read so far counts.
    for (fs::directory_iterator end; !ec && it != end; it.increment(ec)) {
      std::string name = it->path().filename().string();
      if (name.size() <= 5 || !name.ends_with(".conf")) continue;
      std::string full = d + "/" + name;
      struct stat st;
      if (stat(full.c_str(), &st) < 0) continue;  // dangling link: nothing to read
      if (IsDevNull(full)) {
        by_name[name] = "";
      } else if (S_ISREG(st.st_mode)) {
        by_name[name] = full;
      }
    }
  }
  std::vector<std::string> out;
  for (auto& [name, full] : by_name) {
    if (!full.empty()) out.push_back(std::move(full));
  }
  return out;
}

}  // namespace supd
