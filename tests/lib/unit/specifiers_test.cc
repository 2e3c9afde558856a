#include "lib/unit/specifiers.h"

#include <gtest/gtest.h>

#include <string>

namespace supd {
namespace {

SpecifierData Data(std::string name) {
  SpecifierData d;
  d.unit_name = std::move(name);
  d.source_path = "/etc/supd/units/worker-pool@.service";
  d.ctx.hostname = "box.example.com";
  d.ctx.runtime_dir = "/run";
  d.ctx.user_name = "root";
  d.ctx.user_home = "/root";
  d.ctx.uid = 0;
  return d;
}

std::string Resolve(const std::string& text, const std::string& unit) {
  auto r = ResolveSpecifiers(text, Data(unit));
  EXPECT_TRUE(r.ok()) << text << ": " << (r.ok() ? "" : r.error().message);
  return r.ok() ? *r : "";
}

TEST(UnitName, Validity) {
  EXPECT_TRUE(IsValidUnitName("web.service"));
  EXPECT_TRUE(IsValidUnitName("worker@.service"));
  EXPECT_TRUE(IsValidUnitName("worker@3.service"));
  EXPECT_TRUE(IsValidUnitName("a-b_c:d\\x2d.e.service"));
  EXPECT_TRUE(IsValidUnitName("multi-user.target"));
  EXPECT_TRUE(IsValidUnitName("x@a@b.service"));
  EXPECT_FALSE(IsValidUnitName(""));
  EXPECT_FALSE(IsValidUnitName("web"));
  EXPECT_FALSE(IsValidUnitName(".service"));
  EXPECT_FALSE(IsValidUnitName("web.bogus"));
  EXPECT_FALSE(IsValidUnitName("@x.service"));
  EXPECT_FALSE(IsValidUnitName("we b.service"));
  EXPECT_FALSE(IsValidUnitName("we/b.service"));
  EXPECT_FALSE(IsValidUnitName(std::string(300, 'a') + ".service"));
}

TEST(UnitName, TemplateNameOf) {
  EXPECT_EQ("worker@.service", TemplateNameOf("worker@3.service"));
  EXPECT_EQ("", TemplateNameOf("worker@.service"));
  EXPECT_EQ("", TemplateNameOf("web.service"));
  EXPECT_EQ("", TemplateNameOf("not valid"));
}

TEST(UnitName, Unescape) {
  EXPECT_EQ("foo-bar/baz", *UnitNameUnescape("foo\\x2dbar-baz"));
  EXPECT_EQ("/dev/sda", *UnitNameUnescape("-dev-sda"));
  EXPECT_FALSE(UnitNameUnescape("a\\y").ok());
  EXPECT_FALSE(UnitNameUnescape("a\\x2").ok());
}

TEST(Specifiers, InstanceUnit) {
  const std::string u = "worker-pool@a\\x2db-c.service";
  EXPECT_EQ(u, Resolve("%n", u));
  EXPECT_EQ("worker-pool@a\\x2db-c", Resolve("%N", u));
  EXPECT_EQ("worker-pool", Resolve("%p", u));
  EXPECT_EQ("worker/pool", Resolve("%P", u));
  EXPECT_EQ("a\\x2db-c", Resolve("%i", u));
  EXPECT_EQ("a-b/c", Resolve("%I", u));
  EXPECT_EQ("/a-b/c", Resolve("%f", u));
  EXPECT_EQ("pool", Resolve("%j", u));
  EXPECT_EQ("/etc/supd/units/worker-pool@.service", Resolve("%y", u));
  EXPECT_EQ("/etc/supd/units", Resolve("%Y", u));
}

TEST(Specifiers, HostAndUser) {
  EXPECT_EQ("box.example.com box /run root 0 /root 100%",
            Resolve("%H %l %t %u %U %h 100%%", "web.service"));
  EXPECT_EQ("", Resolve("%i", "web.service"));
  EXPECT_EQ("web", Resolve("%p", "web.service"));
}

TEST(Specifiers, Errors) {
  EXPECT_EQ("unknown specifier '%z' in 'a%zb'",
            ResolveSpecifiers("a%zb", Data("web.service")).error().message);
  EXPECT_EQ("lone '%' at the end of 'a%'",
            ResolveSpecifiers("a%", Data("web.service")).error().message);
  EXPECT_EQ("specifier '%S' in '%S/x' is not supported by supd yet",
            ResolveSpecifiers("%S/x", Data("web.service")).error().message);
}

}  // namespace
}  // namespace supd
