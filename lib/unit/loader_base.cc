#include "lib/unit/loader_base.h"

#include <dirent.h>
#include <sys/stat.h>

#include <cerrno>
#include <climits>
#include <cstdlib>

#include "lib/unit/unit_loader.h"

namespace supd {
namespace {

std::string DirName(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

bool IsValidUserGroupName(std::string_view s) {
  if (s.empty() || s.size() > 256 || s == "." || s == ".." || s[0] == '-' || s[0] == '+' ||
      s[0] == '~') {
    return false;
  }
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u <= ' ' || u == 0x7f || c == ':' || c == '/' || c == ',') return false;
  }
  return true;
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
    DIR* dp = opendir(d.c_str());  // opendir() uses O_CLOEXEC
    if (dp == nullptr) {
      if (errno == ENOENT || errno == ENOTDIR) continue;
      return ErrnoError("open " + d);
    }
    while (struct dirent* e = readdir(dp)) {
      std::string name = e->d_name;
      if (name.size() <= 5 || name.compare(name.size() - 5, 5, ".conf") != 0) continue;
      std::string full = d + "/" + name;
      struct stat st;
      if (stat(full.c_str(), &st) < 0) continue;  // dangling link: nothing to read
      if (IsDevNull(full)) {
        by_name[name] = "";
      } else if (S_ISREG(st.st_mode)) {
        by_name[name] = full;
      }
    }
    closedir(dp);
  }
  std::vector<std::string> out;
  for (auto& [name, full] : by_name) {
    if (!full.empty()) out.push_back(std::move(full));
  }
  return out;
}

}  // namespace supd
