// libFuzzer target: a whole units directory from bytes, loaded as the daemon loads it.
//
// The input is a list of files in a simple framing that mutates well and keeps seeds readable:
//
//   == docker.socket                  a line "== NAME" starts the file NAME; its content is
//   [Socket]                          every line up to the next "== " line
//   ListenStream=/run/docker.sock
//   == docker.service.d/limits.conf   a drop-in: NAME may have directories
//   [Service]
//   LimitNOFILE=1048576
//   == web@.service.d/x.conf -> /dev/null   a symlink to /dev/null (a masked drop-in or unit)
//   == /etc/default/web               a name starting with '/' is a file outside the units
//   A=1                               directory (an EnvironmentFile=), kept under root/ (below)
//
// Text before the first "== " line is the file "fuzz.service". A name is refused (the file is
// not written) if a component is empty, ".", "..", or has bytes outside '!'..'~'.
//
// Everything lives in a fresh temporary directory: units/ is the units directory and root/
// stands for "/" for the paths a unit names. Then the daemon's loading runs over it, through
// its own UnitCatalog (lib/supervise/unit_catalog.h): socket units loaded and bound, services
// loaded, one instance of each template loaded as `supctl start tmpl@fuzz` would, then the pure
// part of a start (ResolveUnitEnvironment, ExpandCommand), then target units loaded;
// everything is closed and the directory removed.
// Nothing outside the temporary directory is written or bound:
//  - a socket unit binds only its unix socket paths, rewritten to root/<path>; ports and
//    abstract names are dropped from it (never bind TCP/UDP ports in a fuzzer), and so is a
//    path with a ".." component;
//  - EnvironmentFile= paths are rewritten to root/<path> and read only when they cannot leave
//    it (no "{", no "\", no component starting with '.', which globbing could turn into "..").
// The only reads outside it are the user and group databases (SocketUser=) and stat() in
// executable search.
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "lib/socket/listener.h"
#include "lib/supervise/unit_catalog.h"
#include "lib/unit/socket_loader.h"
#include "lib/unit/unit_loader.h"
#include "lib/unit/unit_trust.h"

namespace {

constexpr size_t kMaxFiles = 64;

const supd::SpecifierContext& Context() {
  static const supd::SpecifierContext ctx{"fuzzhost", "/run", "root", "/root", 0};
  return ctx;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::vector<std::string_view> Components(std::string_view path) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    out.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

// A framed file name → its path relative to the temporary directory, or nullopt.
std::optional<std::string> Place(std::string_view name) {
  std::string base = "units/";
  if (!name.empty() && name[0] == '/') {
    base = "root/";
    name.remove_prefix(1);
  }
  if (name.empty() || name.size() > 255) return std::nullopt;
  for (std::string_view c : Components(name)) {
    if (c.empty() || c == "." || c == "..") return std::nullopt;
    for (char ch : c) {
      if (ch < '!' || ch > '~') return std::nullopt;
    }
  }
  return base + std::string(name);
}

struct FramedFile {
  std::string name;
  std::string content;
  bool dev_null = false;
};

std::vector<FramedFile> Unframe(std::string_view in) {
  std::vector<FramedFile> files;
  FramedFile current{"fuzz.service", "", false};
  bool any = false;
  size_t pos = 0;
  while (pos < in.size()) {
    size_t nl = in.find('\n', pos);
    const size_t end = nl == std::string_view::npos ? in.size() : nl + 1;
    std::string_view line = in.substr(pos, end - pos);
    pos = end;
    if (line.substr(0, 3) == "== ") {
      if (any || !current.content.empty()) files.push_back(std::move(current));
      any = true;
      std::string_view name = line.substr(3);
      while (!name.empty() && (name.back() == '\n' || name.back() == '\r')) name.remove_suffix(1);
      current = FramedFile{};
      constexpr std::string_view kMask = " -> /dev/null";
      if (EndsWith(name, kMask)) {
        current.dev_null = true;
        name.remove_suffix(kMask.size());
      }
      current.name = std::string(name);
      continue;
    }
    current.content.append(line);
  }
  if (any || !current.content.empty()) files.push_back(std::move(current));
  if (files.size() > kMaxFiles) files.resize(kMaxFiles);
  return files;
}

bool WriteAll(const std::string& path, const std::string& content) {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  if (ec) return false;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  out.close();
  // Unit files as an administrator leaves them: root's, not writable by others (the trust check
  // is then what the daemon would see).
  return out.good() && ::chmod(path.c_str(), 0644) == 0;
}

// Makes every directory below `dir` traversable and writable again (DirectoryMode=0 made some
// that an unprivileged fuzzer could not otherwise remove).
void Unlock(const std::string& dir) {
  ::chmod(dir.c_str(), 0700);
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return;
  while (struct dirent* e = ::readdir(d)) {
    const std::string n = e->d_name;
    if (n == "." || n == "..") continue;
    const std::string p = dir + "/" + n;
    struct stat st;
    if (::lstat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) Unlock(p);
  }
  ::closedir(d);
}


// Whether `path` (absolute) stays inside root/ once prefixed with it, globbing included.
bool StaysInside(std::string_view path, bool glob) {
  if (glob && path.find_first_of("{\\") != std::string_view::npos) return false;
  for (std::string_view c : Components(path)) {
    if (c == "..") return false;
    if (glob && !c.empty() && c[0] == '.') return false;
  }
  return true;
}

class Fixture {
 public:
  explicit Fixture(std::string_view input) {
    char tmpl[] = "/tmp/supd-units-fuzz-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) return;
    dir_ = tmpl;
    ::chmod(dir_.c_str(), 0755);
    std::error_code ec;
    std::filesystem::create_directories(dir_ + "/units", ec);
    std::filesystem::create_directories(dir_ + "/root", ec);
    for (const FramedFile& f : Unframe(input)) {
      auto where = Place(f.name);
      if (!where) continue;
      const std::string path = dir_ + "/" + *where;
      if (f.dev_null) {
        std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
        (void)::symlink("/dev/null", path.c_str());
      } else {
        (void)WriteAll(path, f.content);
      }
    }
  }
  Fixture(const Fixture&) = delete;
  Fixture& operator=(const Fixture&) = delete;
  ~Fixture() {
    if (dir_.empty()) return;
    Unlock(dir_);
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  bool ok() const { return !dir_.empty(); }
  std::string units() const { return dir_ + "/units"; }
  std::string root() const { return dir_ + "/root"; }

 private:
  std::string dir_;
};

// The bindable part of a socket unit: unix socket paths moved into root/, nothing else.
supd::SocketSpec Confined(const supd::SocketSpec& spec, const std::string& root) {
  supd::SocketSpec out = spec;
  out.listen.clear();
  for (const supd::ListenSpec& l : spec.listen) {
    auto a = supd::ParseListenAddress(l.address);
    if (!a.ok() || a->family != supd::ListenAddress::Family::kUnixPath) continue;
    if (!StaysInside(a->path, /*glob=*/false)) continue;
    supd::ListenSpec moved = l;
    moved.address = root + a->path;
    out.listen.push_back(std::move(moved));
  }
  return out;
}

// What a start does with a loaded spec before it forks, minus the host-dependent parts
// (conditions, credentials, rlimits): the environment and every command's argv.
void StartWithoutSpawning(supd::ServiceSpec spec, const std::string& root) {
  for (supd::EnvironmentFileRef& ref : spec.environment_files) {
    if (!StaysInside(ref.path, /*glob=*/true)) return;
    ref.path = root + ref.path;
  }
  std::vector<supd::Diagnostic> warnings;
  auto env = supd::ResolveUnitEnvironment(spec, &warnings);
  if (!env.ok()) return;
  env->emplace_back("MAINPID", "42");
  for (const auto* list :
       {&spec.exec_condition, &spec.exec_start_pre, &spec.exec_start, &spec.exec_start_post,
        &spec.exec_reload, &spec.exec_stop, &spec.exec_stop_post}) {
    for (const supd::ExecCommand& cmd : *list) (void)supd::ExpandCommand(cmd, *env);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Fixture fx(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!fx.ok()) return 0;
  static const std::optional<gid_t> trusted_group = supd::PrivateGroupOf(::geteuid(), ::getegid());
  // The daemon's own catalog: scan, load, drop-ins, trust, templates.
  const supd::UnitCatalog catalog(fx.units(), Context(), ::geteuid(), trusted_group);

  // Socket units first (SocketUnits::Sync): load, then bind; the sockets stay open while the
  // services load.
  std::vector<std::vector<supd::BoundSocket>> held;
  for (const std::string& n : catalog.ScanSockets()) {
    auto loaded = catalog.LoadSocket(n);
    if (!loaded.spec) continue;
    supd::SocketSpec confined = Confined(*loaded.spec, fx.root());
    if (confined.listen.empty()) continue;
    auto owner = supd::ResolveSocketOwner(confined);
    if (!owner.ok()) continue;
    auto bound = supd::BindAll(confined, *owner);
    if (bound.ok()) held.push_back(std::move(*bound));
  }

  // Every .service but templates; then, as `supctl start tmpl@fuzz` would, one instance of
  // each template (Manager::Resolve → UnitCatalog::InstanceHasTemplate → LoadService).
  std::vector<std::string> names;
  for (const std::string& n : catalog.ScanServices()) {
    if (supd::UnitCatalog::IsTemplate(n)) {
      names.push_back(n.substr(0, n.size() - std::string_view("@.service").size()) +
                      "@fuzz.service");
    } else {
      names.push_back(n);
    }
  }
  for (const std::string& n : names) {
    if (!supd::TemplateNameOf(n).empty() && !catalog.InstanceHasTemplate(n)) continue;
    auto loaded = catalog.LoadService(n);
    if (!loaded.spec) continue;
    StartWithoutSpawning(*loaded.spec, fx.root());
  }
  // Targets: scanned (not their .wants/.requires directories) and loaded with their drop-ins.
  for (const std::string& n : catalog.ScanTargets()) (void)catalog.LoadTarget(n);
  return 0;  // `held` closes the sockets; the fixture removes the directory
}
