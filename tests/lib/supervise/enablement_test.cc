#include "lib/supervise/enablement.h"

#include <dirent.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace supd {
namespace {

namespace fs = std::filesystem;
using testing::ElementsAre;
using testing::IsEmpty;
using testing::Pair;
using testing::UnorderedElementsAre;

class EnablementTest : public testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/supd-enablement-XXXXXX";
    ASSERT_NE(nullptr, mkdtemp(tmpl));
    dir_ = tmpl;
  }
  void TearDown() override {
    // A test that made a directory unreadable must not leave it behind.
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(dir_, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (it->is_directory(ec)) chmod(it->path().c_str(), 0755);
    }
    fs::remove_all(dir_);
  }
  std::string P(const std::string& rel) const { return dir_ + "/" + rel; }
  void Write(const std::string& rel, const std::string& content = "[Service]\n") {
    fs::create_directories(fs::path(P(rel)).parent_path());
    std::ofstream(P(rel)) << content;
  }
  void Link(const std::string& rel, const std::string& target) {
    fs::create_directories(fs::path(P(rel)).parent_path());
    fs::create_symlink(target, P(rel));
  }
  std::string ReadLink(const std::string& rel) const {
    std::error_code ec;
    std::string t = fs::read_symlink(P(rel), ec).string();
    return ec ? "<" + ec.message() + ">" : t;
  }
  bool Exists(const std::string& rel) const {
    struct stat st {};
    return lstat(P(rel).c_str(), &st) == 0;
  }
  // Every path under the directory with its link target (or "file"/"dir"): the whole state.
  std::vector<std::string> Tree() const {
    std::vector<std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(dir_)) {
      std::string rel = e.path().string().substr(dir_.size() + 1);
      if (e.is_symlink()) {
        out.push_back(rel + " -> " + fs::read_symlink(e.path()).string());
      } else {
        out.push_back(rel + (e.is_directory() ? " dir" : " file"));
      }
    }
    std::sort(out.begin(), out.end());
    return out;
  }
  static std::vector<std::string> Texts(const std::vector<EnableChange>& changes) {
    std::vector<std::string> out;
    for (const EnableChange& c : changes) out.push_back(c.Text());
    return out;
  }
  // Whether chmod stops this process from reading a directory (it does not stop root with
  // CAP_DAC_OVERRIDE, as on this project's build machines).
  bool PermissionsBind() {
    Write("probe.d/x");
    chmod(P("probe.d").c_str(), 0);
    DIR* d = opendir(P("probe.d").c_str());
    bool binds = d == nullptr;
    if (d) closedir(d);
    chmod(P("probe.d").c_str(), 0755);
    fs::remove_all(P("probe.d"));
    return binds;
  }

  std::string dir_;
};

InstallSection Wanted(std::vector<std::string> by) {
  InstallSection i;
  i.wanted_by = std::move(by);
  return i;
}

TEST(EnableChangeTest, TextAsSystemctlPrintsIt) {
  EXPECT_EQ(
      "Created symlink /u/multi-user.target.wants/web.service \u2192 /u/web.service.",
      (EnableChange{true, "/u/multi-user.target.wants/web.service", "/u/web.service"}).Text());
  EXPECT_EQ("Removed \"/u/multi-user.target.wants/web.service\".",
            (EnableChange{false, "/u/multi-user.target.wants/web.service", ""}).Text());
}

TEST(UnitLinksTest, LinkedLooksInWantsAndRequires) {
  UnitLinks l;
  l.wants["multi-user.target"] = {"web.service"};
  l.requires_["app.target"] = {"db.service"};
  l.aliases["www.service"] = "web.service";
  EXPECT_TRUE(l.Linked("web.service"));
  EXPECT_TRUE(l.Linked("db.service"));
  EXPECT_FALSE(l.Linked("www.service"));  // an alias is not a dependency link
  EXPECT_FALSE(l.Linked("multi-user.target"));
}

TEST_F(EnablementTest, EnableMakesRelativeLinksAndSaysSo) {
  Write("web.service");
  InstallSection i = Wanted({"multi-user.target"});
  i.required_by = {"app.target"};
  i.aliases = {"www.service"};
  auto r = EnableUnit(dir_, "web.service", i);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_THAT(Texts(*r), ElementsAre("Created symlink " + P("multi-user.target.wants/web.service") +
                                         " \u2192 " + P("web.service") + ".",
                                     "Created symlink " + P("app.target.requires/web.service") +
                                         " \u2192 " + P("web.service") + ".",
                                     "Created symlink " + P("www.service") + " \u2192 " +
                                         P("web.service") + "."));
  EXPECT_THAT(Tree(), ElementsAre("app.target.requires dir",
                                  "app.target.requires/web.service -> ../web.service",
                                  "multi-user.target.wants dir",
                                  "multi-user.target.wants/web.service -> ../web.service",
                                  "web.service file", "www.service -> web.service"));
  // Relative links: the directory still works after a move.
  fs::rename(dir_, dir_ + "-moved");
  EXPECT_TRUE(fs::is_regular_file(dir_ + "-moved/multi-user.target.wants/web.service"));
  EXPECT_TRUE(fs::is_regular_file(dir_ + "-moved/www.service"));
  fs::rename(dir_ + "-moved", dir_);
}

TEST_F(EnablementTest, EnableTwiceChangesNothing) {
  Write("web.service");
  InstallSection i = Wanted({"multi-user.target", "multi-user.target"});  // listed twice
  i.aliases = {"www.service", "web.service"};  // its own name: nothing to link
  auto first = EnableUnit(dir_, "web.service", i);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(2u, first->size());
  auto before = Tree();
  auto again = EnableUnit(dir_, "web.service", i);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_THAT(*again, IsEmpty());
  EXPECT_EQ(before, Tree());
}

TEST_F(EnablementTest, EnableAcceptsLinksASystemdHostMade) {
  Write("web.service");
  Link("multi-user.target.wants/web.service", "/etc/systemd/system/web.service");
  Link("www.service", "/etc/systemd/system/web.service");
  InstallSection i = Wanted({"multi-user.target"});
  i.aliases = {"www.service"};
  auto r = EnableUnit(dir_, "web.service", i);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_THAT(*r, IsEmpty());
}

TEST_F(EnablementTest, EnableRelativeDirectoryShowsAbsolutePaths) {
  Write("web.service");
  std::string cwd = fs::current_path();
  fs::current_path(fs::path(dir_).parent_path());
  auto r = EnableUnit("./" + fs::path(dir_).filename().string() + "/", "web.service",
                      Wanted({"multi-user.target"}));
  fs::current_path(cwd);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_THAT(Texts(*r), ElementsAre("Created symlink " + P("multi-user.target.wants/web.service") +
                                     " \u2192 " + P("web.service") + "."));
}

TEST_F(EnablementTest, EmptyInstallChangesNothing) {
  Write("web.service");
  auto r = EnableUnit(dir_, "web.service", InstallSection{});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_THAT(*r, IsEmpty());
  EXPECT_THAT(Tree(), ElementsAre("web.service file"));
}

TEST_F(EnablementTest, InstanceLinksToItsTemplate) {
  Write("worker@.service");
  InstallSection i = Wanted({"multi-user.target"});
  i.aliases = {"w@.service"};
  auto r = EnableUnit(dir_, "worker@3.service", i);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_THAT(Texts(*r),
              ElementsAre("Created symlink " + P("multi-user.target.wants/worker@3.service") +
                              " \u2192 " + P("worker@.service") + ".",
                          "Created symlink " + P("w@3.service") + " \u2192 " +
                              P("worker@3.service") + "."));
  EXPECT_EQ("../worker@.service", ReadLink("multi-user.target.wants/worker@3.service"));
  EXPECT_EQ("worker@3.service", ReadLink("w@3.service"));
  UnitLinks l = ScanLinks(dir_);
  EXPECT_THAT(l.wants, ElementsAre(Pair("multi-user.target", ElementsAre("worker@3.service"))));
  EXPECT_THAT(l.aliases, ElementsAre(Pair("w@3.service", "worker@3.service")));
}

TEST_F(EnablementTest, TemplateNeedsAnInstanceOrDefaultInstance) {
  Write("worker@.service");
  auto r = EnableUnit(dir_, "worker@.service", Wanted({"multi-user.target"}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ("worker@.service is a template; enable an instance (worker@NAME.service)",
            r.error().message);
  EXPECT_THAT(Tree(), ElementsAre("worker@.service file"));

  InstallSection i = Wanted({"multi-user.target"});
  i.default_instance = "a/b";
  r = EnableUnit(dir_, "worker@.service", i);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ("worker@.service: DefaultInstance=a/b does not make a valid unit name",
            r.error().message);

  i.default_instance = "1";
  i.aliases = {"w@.service"};
  r = EnableUnit(dir_, "worker@.service", i);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_THAT(Tree(), ElementsAre("multi-user.target.wants dir",
                                  "multi-user.target.wants/worker@1.service -> ../worker@.service",
                                  "w@.service -> worker@.service", "worker@.service file"));

  // A template with only template aliases needs no instance.
  InstallSection only_alias;
  only_alias.aliases = {"x@.service"};
  r = EnableUnit(dir_, "worker@.service", only_alias);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ("worker@.service", ReadLink("x@.service"));
}

TEST_F(EnablementTest, SomethingInTheWayIsAnErrorAndNothingChanges) {
  Write("web.service");
  Write("app.target.requires/web.service", "not a link");
  InstallSection i = Wanted({"multi-user.target"});
  i.required_by = {"app.target"};
  auto before = Tree();
  auto r = EnableUnit(dir_, "web.service", i);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(P("app.target.requires/web.service") + " exists and is not a link to " +
                P("web.service") + ": File exists",
            r.error().message);
  EXPECT_EQ(EEXIST, r.error().sys_errno);
  EXPECT_EQ(before, Tree());  // the WantedBy= link was not made either

  Link("www.service", "other.service");
  InstallSection a;
  a.aliases = {"www.service"};
  r = EnableUnit(dir_, "web.service", a);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(P("www.service") + " exists and is not a link to " + P("web.service") +
                " (it links to other.service): File exists",
            r.error().message);
}

TEST_F(EnablementTest, FailureWhileLinkingUndoesWhatWasMade) {
  Write("web.service");
  Write("b.target.wants", "a file where the directory should be");
  auto before = Tree();
  auto r = EnableUnit(dir_, "web.service", Wanted({"a.target", "b.target"}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ("create symlink " + P("b.target.wants/web.service") + ": Not a directory",
            r.error().message);
  EXPECT_EQ(before, Tree());  // a.target.wants/ and its link are gone again
}

TEST_F(EnablementTest, DirectoryThatCannotBeMadeIsAnError) {
  // Fails for root too: the units directory itself is missing.
  auto r = EnableUnit(P("missing"), "web.service", Wanted({"multi-user.target"}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(
      "create directory " + P("missing/multi-user.target.wants") + ": No such file or directory",
      r.error().message);
  EXPECT_FALSE(Exists("missing"));
}

TEST_F(EnablementTest, LinkPathThatCannotBeCheckedIsAnError) {
  // A 255-character target is a valid unit name, but "<name>.wants" is longer than a file
  // name may be: the check of the link's path fails whoever runs the test.
  const std::string target = std::string(248, 't') + ".target";
  ASSERT_EQ(255u, target.size());
  Write("web.service");
  auto r = EnableUnit(dir_, "web.service", Wanted({"multi-user.target", target}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ("stat " + P(target + ".wants/web.service") + ": File name too long", r.error().message);
  EXPECT_THAT(Tree(), ElementsAre("web.service file"));
}

TEST_F(EnablementTest, EnableInReadOnlyDirectory) {
  if (!PermissionsBind()) {
    GTEST_SKIP() << "running as root with CAP_DAC_OVERRIDE: chmod does not stop writes";
  }
  Write("web.service");
  chmod(dir_.c_str(), 0555);
  auto r = EnableUnit(dir_, "web.service", Wanted({"multi-user.target"}));
  chmod(dir_.c_str(), 0755);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ("create directory " + P("multi-user.target.wants") + ": Permission denied",
            r.error().message);
}

TEST_F(EnablementTest, BadNamesAreErrors) {
  Write("web.service");
  auto msg = [&](const std::string& unit, const InstallSection& i) {
    auto r = EnableUnit(dir_, unit, i);
    return r.ok() ? std::string("ok") : r.error().message;
  };
  EXPECT_EQ("invalid unit name \"web\"", msg("web", Wanted({"multi-user.target"})));
  EXPECT_EQ("WantedBy=../x of web.service: not a valid unit name",
            msg("web.service", Wanted({"../x"})));
  InstallSection req;
  req.required_by = {"a b.target"};
  EXPECT_EQ("RequiredBy=a b.target of web.service: not a valid unit name", msg("web.service", req));
  auto alias = [&](const std::string& unit, const std::string& a) {
    InstallSection i;
    i.aliases = {a};
    return msg(unit, i);
  };
  EXPECT_EQ("Alias=../www.service of web.service: not a valid unit name",
            alias("web.service", "../www.service"));
  EXPECT_EQ("Alias=www.socket of web.service: an alias must have the unit's suffix .service",
            alias("web.service", "www.socket"));
  EXPECT_EQ(
      "Alias=w@.service of web.service: an alias of a plain unit cannot be a template or "
      "an instance",
      alias("web.service", "w@.service"));
  EXPECT_EQ("Alias=w.service of worker@.service: an alias of a template must be a template",
            alias("worker@.service", "w.service"));
  EXPECT_EQ(
      "Alias=w@4.service of worker@3.service: an alias of an instance must be a template "
      "or the same instance",
      alias("worker@3.service", "w@4.service"));
  EXPECT_EQ("ok", alias("worker@3.service", "w@3.service"));
  EXPECT_EQ("worker@3.service", ReadLink("w@3.service"));
  auto d = DisableUnit(dir_, "web", InstallSection{});
  ASSERT_FALSE(d.ok());
  EXPECT_EQ("invalid unit name \"web\"", d.error().message);
}

TEST_F(EnablementTest, ScanHonoursAHandWrittenDirectory) {
  Write("web.service");
  Write("worker@.service");
  Write("multi-user.target.wants/plain.service", "");                   // a plain file counts
  Link("multi-user.target.wants/dangling.service", "../gone.service");  // so does a dangling link
  Link("multi-user.target.wants/elsewhere.service", "/opt/app/elsewhere.service");
  Write("multi-user.target.wants/README");                           // not a unit name
  fs::create_directories(P("multi-user.target.wants/sub.service"));  // a directory is no unit
  Link("app.target.requires/web.service", "../web.service");
  Write("notes.wants");                         // a file, not a directory
  fs::create_directories(P("bad name.wants"));  // not a unit's directory
  Write("bad name.wants/web.service");
  Link("www.service", "web.service");                 // alias
  Link("abs.service", P("web.service"));              // alias by absolute path
  Link("w@3.service", "worker@3.service");            // alias of an instance
  Link("masked.service", "/dev/null");                // masked, not an alias
  Link("linked.service", "/opt/app/linked.service");  // systemctl link, not an alias
  Link("stale.service", "removed.service");           // target unit gone: not an alias
  std::vector<std::string> warnings;
  UnitLinks l = ScanLinks(dir_, &warnings);
  EXPECT_THAT(warnings, IsEmpty());
  EXPECT_THAT(l.wants, ElementsAre(Pair(
                           "multi-user.target",
                           ElementsAre("dangling.service", "elsewhere.service", "plain.service"))));
  EXPECT_THAT(l.requires_, ElementsAre(Pair("app.target", ElementsAre("web.service"))));
  EXPECT_THAT(l.aliases, ElementsAre(Pair("abs.service", "web.service"),
                                     Pair("w@3.service", "worker@3.service"),
                                     Pair("www.service", "web.service")));
  EXPECT_TRUE(l.Linked("plain.service"));
  EXPECT_TRUE(l.Linked("dangling.service"));
  EXPECT_FALSE(l.Linked("README"));
}

TEST_F(EnablementTest, ScanWarnsAboutWhatItCannotRead) {
  std::vector<std::string> warnings;
  UnitLinks l = ScanLinks(P("missing"), &warnings);
  EXPECT_THAT(warnings, ElementsAre("read " + P("missing") + ": No such file or directory"));
  EXPECT_TRUE(l.wants.empty() && l.requires_.empty() && l.aliases.empty());
  ScanLinks(P("missing"));  // no warnings vector: nothing to write to, no crash
}

TEST_F(EnablementTest, ScanSkipsAnUnreadableWantsDirectory) {
  if (!PermissionsBind()) {
    GTEST_SKIP() << "running as root with CAP_DAC_OVERRIDE: chmod does not stop reads";
  }
  Link("a.target.wants/web.service", "../web.service");
  Link("b.target.wants/db.service", "../db.service");
  chmod(P("a.target.wants").c_str(), 0);
  std::vector<std::string> warnings;
  UnitLinks l = ScanLinks(dir_, &warnings);
  EXPECT_THAT(warnings, ElementsAre("read " + P("a.target.wants") + ": Permission denied"));
  EXPECT_THAT(l.wants, ElementsAre(Pair("b.target", ElementsAre("db.service"))));
  auto d = DisableUnit(dir_, "db.service", InstallSection{});
  ASSERT_FALSE(d.ok());
  EXPECT_EQ("read " + P("a.target.wants") + ": Permission denied", d.error().message);
  EXPECT_TRUE(Exists("b.target.wants/db.service"));  // nothing removed
}

TEST_F(EnablementTest, RoundTrip) {
  Write("web.service");
  InstallSection i = Wanted({"multi-user.target"});
  i.required_by = {"app.target"};
  i.aliases = {"www.service"};
  EXPECT_EQ(EnableState::kDisabled, EnableStateOf("web.service", i, ScanLinks(dir_), false));

  auto en = EnableUnit(dir_, "web.service", i);
  ASSERT_TRUE(en.ok()) << en.error().message;
  UnitLinks l = ScanLinks(dir_);
  EXPECT_THAT(l.wants, ElementsAre(Pair("multi-user.target", ElementsAre("web.service"))));
  EXPECT_THAT(l.requires_, ElementsAre(Pair("app.target", ElementsAre("web.service"))));
  EXPECT_THAT(l.aliases, ElementsAre(Pair("www.service", "web.service")));
  EXPECT_EQ(EnableState::kEnabled, EnableStateOf("web.service", i, l, false));
  EXPECT_EQ(EnableState::kAlias, EnableStateOf("www.service", i, l, false));

  auto dis = DisableUnit(dir_, "web.service", i);
  ASSERT_TRUE(dis.ok()) << dis.error().message;
  EXPECT_THAT(Texts(*dis),
              ElementsAre("Removed \"" + P("app.target.requires/web.service") + "\".",
                          "Removed \"" + P("multi-user.target.wants/web.service") + "\".",
                          "Removed \"" + P("www.service") + "\"."));
  // The emptied directories stay, as systemctl leaves them.
  EXPECT_THAT(Tree(), ElementsAre("app.target.requires dir", "multi-user.target.wants dir",
                                  "web.service file"));
  l = ScanLinks(dir_);
  EXPECT_FALSE(l.Linked("web.service"));
  EXPECT_THAT(l.aliases, IsEmpty());
  EXPECT_EQ(EnableState::kDisabled, EnableStateOf("web.service", i, l, false));

  auto again = DisableUnit(dir_, "web.service", i);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_THAT(*again, IsEmpty());
  en = EnableUnit(dir_, "web.service", i);
  ASSERT_TRUE(en.ok()) << en.error().message;
  EXPECT_EQ(3u, en->size());
}

TEST_F(EnablementTest, DisableRemovesEveryEntryOfTheUnitAndNothingElse) {
  Write("web.service");
  Write("db.service");
  Write("multi-user.target.wants/web.service", "");             // written by hand
  Link("app.target.wants/web.service", "../gone/web.service");  // dangling
  Link("b.target.requires/web.service", "/etc/systemd/system/web.service");
  Link("c.target.wants/web-alias.service", "../web.service");   // another name, same file
  Write("d.target.wants/www.service", "");                      // its Alias= name
  Link("multi-user.target.wants/db.service", "../db.service");  // another unit: kept
  Link("www2.service", "web.service");                          // an alias link not in Alias=
  Link("db-alias.service", "db.service");                       // another unit's alias: kept
  fs::create_directories(P("e.target.wants/web.service"));      // a directory: not an entry
  InstallSection i = Wanted({"multi-user.target"});
  i.aliases = {"www.service"};
  auto r = DisableUnit(dir_, "web.service", i);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_THAT(Texts(*r),
              ElementsAre("Removed \"" + P("app.target.wants/web.service") + "\".",
                          "Removed \"" + P("b.target.requires/web.service") + "\".",
                          "Removed \"" + P("c.target.wants/web-alias.service") + "\".",
                          "Removed \"" + P("d.target.wants/www.service") + "\".",
                          "Removed \"" + P("multi-user.target.wants/web.service") + "\".",
                          "Removed \"" + P("www2.service") + "\"."));
  EXPECT_TRUE(Exists("multi-user.target.wants/db.service"));
  EXPECT_TRUE(Exists("db-alias.service"));
  EXPECT_TRUE(Exists("e.target.wants/web.service"));
}

TEST_F(EnablementTest, DisableAnInstanceLeavesTheOtherInstances) {
  Write("worker@.service");
  InstallSection i = Wanted({"multi-user.target"});
  i.aliases = {"w@.service"};
  ASSERT_TRUE(EnableUnit(dir_, "worker@3.service", i).ok());
  ASSERT_TRUE(EnableUnit(dir_, "worker@4.service", i).ok());
  auto r = DisableUnit(dir_, "worker@3.service", i);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_THAT(Texts(*r),
              ElementsAre("Removed \"" + P("multi-user.target.wants/worker@3.service") + "\".",
                          "Removed \"" + P("w@3.service") + "\"."));
  EXPECT_THAT(Tree(), ElementsAre("multi-user.target.wants dir",
                                  "multi-user.target.wants/worker@4.service -> ../worker@.service",
                                  "w@4.service -> worker@4.service", "worker@.service file"));
}

TEST_F(EnablementTest, DisableATemplateRemovesAllItsInstances) {
  Write("worker@.service");
  InstallSection i = Wanted({"multi-user.target"});
  i.aliases = {"w@.service"};
  ASSERT_TRUE(EnableUnit(dir_, "worker@3.service", i).ok());
  ASSERT_TRUE(EnableUnit(dir_, "worker@4.service", i).ok());
  EXPECT_EQ(EnableState::kIndirect, EnableStateOf("worker@.service", Wanted({"multi-user.target"}),
                                                  ScanLinks(dir_), false));
  InstallSection tmpl_alias;
  tmpl_alias.aliases = {"w@.service"};
  ASSERT_TRUE(EnableUnit(dir_, "worker@.service", tmpl_alias).ok());
  // A template's own alias link is an enablement of it.
  EXPECT_EQ(EnableState::kEnabled,
            EnableStateOf("worker@.service", tmpl_alias, ScanLinks(dir_), false));
  auto r = DisableUnit(dir_, "worker@.service", i);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(5u, r->size());
  EXPECT_THAT(Tree(), ElementsAre("multi-user.target.wants dir", "worker@.service file"));
}

TEST_F(EnablementTest, DisableInReadOnlyDirectory) {
  if (!PermissionsBind()) {
    GTEST_SKIP() << "running as root with CAP_DAC_OVERRIDE: chmod does not stop removals";
  }
  Link("multi-user.target.wants/web.service", "../web.service");
  chmod(P("multi-user.target.wants").c_str(), 0555);
  auto r = DisableUnit(dir_, "web.service", InstallSection{});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ("remove " + P("multi-user.target.wants/web.service") + ": Permission denied",
            r.error().message);
}

TEST_F(EnablementTest, DisableInAMissingDirectory) {
  auto r = DisableUnit(P("missing"), "web.service", InstallSection{});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ("read " + P("missing") + ": No such file or directory", r.error().message);
}

TEST(EnableStateTest, NamesAndExitCodesAsSystemctl) {
  EXPECT_STREQ("enabled", EnableStateName(EnableState::kEnabled));
  EXPECT_STREQ("static", EnableStateName(EnableState::kStatic));
  EXPECT_STREQ("disabled", EnableStateName(EnableState::kDisabled));
  EXPECT_STREQ("alias", EnableStateName(EnableState::kAlias));
  EXPECT_STREQ("indirect", EnableStateName(EnableState::kIndirect));
  EXPECT_STREQ("masked", EnableStateName(EnableState::kMasked));
  EXPECT_TRUE(EnableStateIsOk(EnableState::kEnabled));
  EXPECT_TRUE(EnableStateIsOk(EnableState::kStatic));
  EXPECT_TRUE(EnableStateIsOk(EnableState::kAlias));
  EXPECT_TRUE(EnableStateIsOk(EnableState::kIndirect));
  EXPECT_FALSE(EnableStateIsOk(EnableState::kDisabled));
  EXPECT_FALSE(EnableStateIsOk(EnableState::kMasked));
}

TEST(EnableStateTest, StateOf) {
  UnitLinks none;
  InstallSection wanted = Wanted({"multi-user.target"});
  InstallSection also;
  also.also = {"web.socket"};
  InstallSection alias_only;
  alias_only.aliases = {"www.service"};

  EXPECT_EQ(EnableState::kMasked, EnableStateOf("web.service", wanted, none, true));
  EXPECT_EQ(EnableState::kDisabled, EnableStateOf("web.service", wanted, none, false));
  EXPECT_EQ(EnableState::kStatic, EnableStateOf("web.service", InstallSection{}, none, false));
  EXPECT_EQ(EnableState::kIndirect, EnableStateOf("web.service", also, none, false));
  EXPECT_EQ(EnableState::kDisabled, EnableStateOf("web.service", alias_only, none, false));

  UnitLinks linked;
  linked.wants["multi-user.target"] = {"web.service"};
  EXPECT_EQ(EnableState::kEnabled, EnableStateOf("web.service", wanted, linked, false));
  // Linked by a hand-written .wants/ although [Install] is empty: enabled, as systemctl says.
  EXPECT_EQ(EnableState::kEnabled, EnableStateOf("web.service", InstallSection{}, linked, false));
  EXPECT_EQ(EnableState::kMasked, EnableStateOf("web.service", wanted, linked, true));

  UnitLinks aliased;
  aliased.aliases["www.service"] = "web.service";
  EXPECT_EQ(EnableState::kEnabled, EnableStateOf("web.service", alias_only, aliased, false));
  EXPECT_EQ(EnableState::kAlias, EnableStateOf("www.service", InstallSection{}, aliased, false));

  UnitLinks by_alias_name;
  by_alias_name.wants["multi-user.target"] = {"www.service"};
  EXPECT_EQ(EnableState::kEnabled, EnableStateOf("web.service", alias_only, by_alias_name, false));

  UnitLinks instance;
  instance.wants["multi-user.target"] = {"worker@1.service"};
  InstallSection tmpl = wanted;
  EXPECT_EQ(EnableState::kEnabled, EnableStateOf("worker@1.service", tmpl, instance, false));
  EXPECT_EQ(EnableState::kDisabled, EnableStateOf("worker@2.service", tmpl, instance, false));
  EXPECT_EQ(EnableState::kIndirect, EnableStateOf("worker@.service", tmpl, instance, false));
  tmpl.default_instance = "1";
  EXPECT_EQ(EnableState::kEnabled, EnableStateOf("worker@.service", tmpl, instance, false));
  EXPECT_EQ(EnableState::kDisabled, EnableStateOf("worker@.service", tmpl, none, false));
}

}  // namespace
}  // namespace supd
