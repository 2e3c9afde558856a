// The shape of the code, checked from its #include lines (design.md, "Parts"):
//
//   daemon → control → metrics → supervise → {proc, cgroup, notify, socket, log, health}
//          → unit → base
//
// A file may include files of its own folder and of folders below it, never above or beside
// (the folders of one layer are independent of each other). JSON (nlohmann) is the protocol's
// business: only control/ and daemon/ include it. Raw close(2) and kill(2) are lib/base's and
// lib/proc's: everywhere else an fd is a UniqueFd and a signal goes through lib/proc. And no
// file in lib/ grows past kMaxLines: one concern per file.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace supd {
namespace {

namespace fs = std::filesystem;

constexpr size_t kMaxLines = 800;

// The layer of a folder: higher may include lower.
const std::map<std::string, int>& Layers() {
  static const std::map<std::string, int> layers = {
      {"daemon", 7}, {"control", 6}, {"metrics", 5}, {"supervise", 4}, {"proc", 3}, {"cgroup", 3},
      {"notify", 3}, {"socket", 3},  {"log", 3},     {"health", 3},    {"unit", 2}, {"base", 1},
  };
  return layers;
}

struct Source {
  std::string path;    // relative to the source root: "lib/supervise/manager.cc"
  std::string folder;  // "supervise", or "daemon"
  std::string text;
};

std::vector<Source> Sources() {
  std::vector<Source> out;
  const fs::path root = SUPD_SOURCE_DIR;
  for (const char* top : {"lib", "daemon"}) {
    for (const auto& e : fs::recursive_directory_iterator(root / top)) {
      const std::string ext = e.path().extension().string();
      if (!e.is_regular_file() || (ext != ".cc" && ext != ".h")) continue;
      Source s;
      s.path = fs::relative(e.path(), root).string();
      s.folder = std::string(top) == "daemon"
                     ? "daemon"
                     : fs::relative(e.path(), root / "lib").begin()->string();
      std::ifstream in(e.path());
      std::stringstream ss;
      ss << in.rdbuf();
      s.text = ss.str();
      out.push_back(std::move(s));
    }
  }
  return out;
}

// The text without comments and string literals (so that a comment may say "close(").
std::string CodeOnly(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  enum { kCode, kLine, kBlock, kString, kChar } st = kCode;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const char n = i + 1 < text.size() ? text[i + 1] : '\0';
    switch (st) {
      case kCode:
        if (c == '/' && n == '/')
          st = kLine;
        else if (c == '/' && n == '*')
          st = kBlock;
        else if (c == '"')
          st = kString;
        else if (c == '\'')
          st = kChar;
        else
          out += c;
        break;
      case kLine:
        if (c == '\n') {
          st = kCode;
          out += c;
        }
        break;
      case kBlock:
        if (c == '*' && n == '/') {
          st = kCode;
          ++i;
        }
        break;
      case kString:
        if (c == '\\')
          ++i;
        else if (c == '"')
          st = kCode;
        break;
      case kChar:
        if (c == '\\')
          ++i;
        else if (c == '\'')
          st = kCode;
        break;
    }
  }
  return out;
}

TEST(ArchitectureTest, IncludesPointDownTheLayers) {
  const std::regex include(R"re(#include\s+"lib/([a-z_]+)/)re");
  std::vector<std::string> wrong;
  size_t checked = 0;
  for (const Source& s : Sources()) {
    const int from = Layers().at(s.folder);
    for (std::sregex_iterator it(s.text.begin(), s.text.end(), include), end; it != end; ++it) {
      const std::string to = (*it)[1];
      ++checked;
      if (to == s.folder) continue;
      auto layer = Layers().find(to);
      if (layer == Layers().end() || layer->second >= from)
        wrong.push_back(s.path + " includes lib/" + to + "/");
    }
  }
  EXPECT_GT(checked, 100u) << "no includes found: is SUPD_SOURCE_DIR right?";
  for (const auto& w : wrong)
    ADD_FAILURE() << w
                  << " (against daemon → control → metrics → supervise → "
                     "{proc, cgroup, notify, socket, log, health} → "
                     "unit → base)";
}

TEST(ArchitectureTest, JsonOnlyInControlAndDaemon) {
  for (const Source& s : Sources()) {
    if (s.folder == "control" || s.folder == "daemon") continue;
    EXPECT_EQ(std::string::npos, s.text.find("#include <nlohmann"))
        << s.path << " includes nlohmann: the protocol's JSON belongs in lib/control/";
  }
}

TEST(ArchitectureTest, RawCloseAndKillOnlyInBaseAndProc) {
  // A call of the C function, not a member (sock.close()) or a longer name (pidfd_close).
  const std::regex raw(R"re((^|[^A-Za-z0-9_.>])(::)?(close|kill)\s*\()re");
  for (const Source& s : Sources()) {
    if (s.folder == "base" || s.folder == "proc") continue;
    const std::string code = CodeOnly(s.text);
    std::smatch m;
    if (std::regex_search(code, m, raw))
      ADD_FAILURE() << s.path << " calls " << m[3] << "(): fds are UniqueFds and signals go "
                    << "through lib/proc";
  }
}

TEST(ArchitectureTest, NoFileInLibOverTheLimit) {
  for (const Source& s : Sources()) {
    if (s.folder == "daemon") continue;
    const size_t lines = static_cast<size_t>(std::count(s.text.begin(), s.text.end(), '\n'));
    EXPECT_LE(lines, kMaxLines) << s.path << " has " << lines << " lines: split it by concern";
  }
}

}  // namespace
}  // namespace supd
