#include "lib/supervise/unit_catalog.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace supd {
namespace {

using testing::ElementsAre;
using testing::IsEmpty;

namespace fs = std::filesystem;

class UnitCatalogTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("supd-unit-catalog-" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Write(const std::string& rel, const std::string& text) {
    fs::create_directories((dir_ / rel).parent_path());
    std::ofstream(dir_ / rel) << text;
    // The trust check refuses group- or world-writable unit files, whatever the umask.
    fs::permissions(dir_ / rel, fs::perms::owner_read | fs::perms::owner_write |
                                    fs::perms::group_read | fs::perms::others_read);
  }
  UnitCatalog Catalog() const {
    return UnitCatalog(dir_.string(), SpecifierContext{"box", "/run", "root", "/root", 0},
                       geteuid(), std::nullopt);
  }
  fs::path dir_;
};

TEST(UnitCatalogNames, IsTargetName) {
  EXPECT_TRUE(UnitCatalog::IsTargetName("app.target"));
  EXPECT_TRUE(UnitCatalog::IsTargetName("site@eu.target"));
  EXPECT_FALSE(UnitCatalog::IsTargetName("site@.target"));  // a template
  EXPECT_FALSE(UnitCatalog::IsTargetName("app.service"));
  EXPECT_FALSE(UnitCatalog::IsTargetName("app.target.wants"));
  EXPECT_FALSE(UnitCatalog::IsTargetName("a b.target"));  // not a valid unit name
  EXPECT_FALSE(UnitCatalog::IsTargetName(".target"));
  EXPECT_FALSE(UnitCatalog::IsTargetName(""));
}

TEST_F(UnitCatalogTest, ScanTargetsSkipsTemplatesDirectoriesAndOtherUnits) {
  Write("app.target", "[Unit]\nWants=web.service\n");
  Write("site@eu.target", "[Unit]\n");
  Write("site@.target", "[Unit]\n");
  Write("web.service", "[Service]\nExecStart=/bin/web\n");
  Write("web.socket", "[Socket]\nListenStream=80\n");
  Write("notes.target.txt", "");
  Write("bad name.target", "[Unit]\n");
  // Enablement links and drop-ins live in directories named after the target: not units.
  fs::create_directories(dir_ / "multi-user.target.wants");
  fs::create_symlink("../app.target", dir_ / "multi-user.target.wants/app.target");
  fs::create_directories(dir_ / "app.target.requires");
  Write("app.target.d/10-x.conf", "[Unit]\nWants=worker.service\n");
  // A directory that is itself named like a target is not one either; a link to a file is.
  fs::create_directories(dir_ / "dir.target");
  fs::create_symlink("app.target", dir_ / "link.target");
  EXPECT_THAT(Catalog().ScanTargets(), ElementsAre("app.target", "link.target", "site@eu.target"));
  EXPECT_THAT(Catalog().ScanServices(), ElementsAre("web.service"));
  EXPECT_THAT(Catalog().ScanSockets(), ElementsAre("web.socket"));
}

TEST_F(UnitCatalogTest, ScanOfAMissingDirectoryIsEmpty) {
  UnitCatalog c((dir_ / "none").string(), SpecifierContext{}, geteuid(), std::nullopt);
  EXPECT_THAT(c.ScanTargets(), IsEmpty());
}

TEST_F(UnitCatalogTest, LoadTargetWithDropins) {
  Write("app.target", "[Unit]\nDescription=App\nWants=web.service\n[Install]\nWantedBy=x.target\n");
  Write("app.target.d/10-x.conf", "[Unit]\nWants=worker.service\n");
  LoadedUnit<TargetSpec> t = Catalog().LoadTarget("app.target");
  ASSERT_NE(nullptr, t.spec) << t.error;
  EXPECT_EQ("", t.error);
  EXPECT_EQ((dir_ / "app.target").string(), t.path);
  EXPECT_EQ("App", t.spec->description);
  EXPECT_THAT(t.spec->deps.wants, ElementsAre("web.service", "worker.service"));
  EXPECT_THAT(t.spec->install.wanted_by, ElementsAre("x.target"));
  EXPECT_THAT(t.spec->dropin_paths, ElementsAre((dir_ / "app.target.d/10-x.conf").string()));
}

TEST_F(UnitCatalogTest, LoadTargetErrors) {
  LoadedUnit<TargetSpec> missing = Catalog().LoadTarget("none.target");
  EXPECT_EQ(nullptr, missing.spec);
  EXPECT_EQ((dir_ / "none.target").string(), missing.path);
  EXPECT_EQ("open " + (dir_ / "none.target").string() + ": No such file or directory",
            missing.error);

  fs::create_symlink("/dev/null", dir_ / "masked.target");
  LoadedUnit<TargetSpec> masked = Catalog().LoadTarget("masked.target");
  EXPECT_EQ(nullptr, masked.spec);
  EXPECT_EQ((dir_ / "masked.target").string() +
                ": Unit masked.target is masked (the file is empty or /dev/null)",
            masked.error);

  Write("bad.target", "[Unit]\nStopWhenUnneeded=maybe\n");
  LoadedUnit<TargetSpec> bad = Catalog().LoadTarget("bad.target");
  EXPECT_EQ(nullptr, bad.spec);
  EXPECT_EQ((dir_ / "bad.target").string() + ":2: Invalid StopWhenUnneeded= value 'maybe'",
            bad.error);
}

// The trust check applies to targets as to services: a target can pull units in.
TEST_F(UnitCatalogTest, LoadTargetRefusesAWorldWritableFile) {
  Write("open.target", "[Unit]\nWants=web.service\n");
  fs::permissions(dir_ / "open.target", fs::perms::others_write, fs::perm_options::add);
  LoadedUnit<TargetSpec> t = Catalog().LoadTarget("open.target");
  EXPECT_EQ(nullptr, t.spec);
  const std::string path = (dir_ / "open.target").string();
  EXPECT_EQ(path + ": refusing a unit file writable by others (mode 0646; chmod o-w " + path + ")",
            t.error);
}

}  // namespace
}  // namespace supd
