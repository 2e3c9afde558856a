#include <gtest/gtest.h>

#include "lib/unit/resource_spec.h"
#include "lib/unit/unit_loader.h"

namespace supd {
namespace {

LimitValue Mem(const std::string& text, bool allow_zero = false) {
  auto v = ParseMemoryLimit(text, allow_zero);
  EXPECT_TRUE(v.ok()) << text << ": " << (v.ok() ? "" : v.error().message);
  return v.ok() ? *v : LimitValue{};
}

TEST(ResourceValuesTest, MemorySizesAreBase1024) {
  EXPECT_EQ(Mem("1024").value, 1024u);
  EXPECT_EQ(Mem("1K").value, 1024u);
  EXPECT_EQ(Mem("64M").value, 64u << 20);
  EXPECT_EQ(Mem("2G").value, 2ull << 30);
  EXPECT_EQ(Mem("1T").value, 1ull << 40);
  EXPECT_EQ(Mem("1.5G").value, 3ull << 29);
  EXPECT_EQ(Mem("1G 512M").value, 3ull << 29);
  EXPECT_EQ(Mem(" 10 M ").value, 10u << 20);
  EXPECT_EQ(Mem("100B").value, 100u);
  EXPECT_EQ(Mem("64M").kind, LimitValue::Kind::kValue);
  EXPECT_EQ(Mem("64M").text, "64M");
}

TEST(ResourceValuesTest, MemoryInfinityAndPercentages) {
  EXPECT_EQ(Mem("infinity").kind, LimitValue::Kind::kInfinity);
  EXPECT_EQ(Mem("infinity").Resolve(1000), UINT64_MAX);
  LimitValue half = Mem("50%");
  EXPECT_EQ(half.kind, LimitValue::Kind::kPermyriad);
  EXPECT_EQ(half.value, 5000u);
  EXPECT_EQ(half.Resolve(8ull << 30), 4ull << 30);
  EXPECT_EQ(Mem("12.5%").value, 1250u);
  EXPECT_EQ(Mem("12.25%").value, 1225u);
  EXPECT_EQ(Mem("125\xe2\x80\xb0").value, 1250u);  // 125‰
  EXPECT_EQ(Mem("42\xe2\x80\xb1").value, 42u);     // 42‱
  EXPECT_EQ(Mem("100%").Resolve(1000), 1000u);
}

TEST(ResourceValuesTest, BadMemoryValuesSayWhy) {
  auto expect_error = [](const std::string& text, const std::string& message) {
    auto v = ParseMemoryLimit(text, false);
    ASSERT_FALSE(v.ok()) << text;
    EXPECT_EQ(v.error().message, message);
  };
  expect_error("lots", "invalid size 'lots'");
  expect_error("12Q", "invalid size '12Q'");
  expect_error("-1", "invalid size '-1'");
  expect_error("1.G", "invalid size '1.G'");
  expect_error("", "invalid size ''");
  expect_error("0", "memory limit '0' is 0");
  expect_error("0%", "memory limit '0%' is 0");
  expect_error("101%", "percentage '101%' is over 100%");
  expect_error("1.234%", "invalid percentage '1.234%'");
  expect_error("99999999999999999999", "invalid size '99999999999999999999'");
  expect_error("16E", "invalid size '16E'");
  // MemorySwapMax=0 is valid: no swap at all.
  EXPECT_EQ(Mem("0", /*allow_zero=*/true).value, 0u);
}

TEST(ResourceValuesTest, TasksMax) {
  auto n = ParseTasksMax("64");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->value, 64u);
  EXPECT_EQ(n->Resolve(4194304), 64u);
  auto pct = ParseTasksMax("10%");
  ASSERT_TRUE(pct.ok());
  EXPECT_EQ(pct->Resolve(32768), 3276u);
  EXPECT_EQ(ParseTasksMax("infinity")->kind, LimitValue::Kind::kInfinity);
  for (const char* bad : {"0", "-3", "ten", "0%", "200%", "5M"}) {
    auto v = ParseTasksMax(bad);
    ASSERT_FALSE(v.ok()) << bad;
  }
  EXPECT_EQ(ParseTasksMax("ten").error().message, "invalid maximum tasks value 'ten'");
}

TEST(ResourceValuesTest, CpuQuotaIsUsecPerSecondAndMayExceedOneCpu) {
  EXPECT_EQ(*ParseCpuQuota("20%"), 200000u);
  EXPECT_EQ(*ParseCpuQuota("150%"), 1500000u);
  EXPECT_EQ(*ParseCpuQuota("0.5%"), 5000u);
  EXPECT_EQ(*ParseCpuQuota("400%"), 4000000u);
  for (const char* bad : {"0%", "20", "abc%", "-5%", "infinity"}) {
    auto v = ParseCpuQuota(bad);
    EXPECT_FALSE(v.ok()) << bad;
  }
  EXPECT_EQ(ParseCpuQuota("20").error().message,
            "CPU quota '20' is invalid (a percentage > 0 is needed)");
}

TEST(ResourceValuesTest, Weights) {
  bool idle = true;
  EXPECT_EQ(*ParseCgroupWeight("1", &idle), 1u);
  EXPECT_FALSE(idle);
  EXPECT_EQ(*ParseCgroupWeight("10000", &idle), 10000u);
  EXPECT_EQ(*ParseCgroupWeight("idle", &idle), 0u);
  EXPECT_TRUE(idle);
  // IOWeight= has no "idle".
  EXPECT_FALSE(ParseCgroupWeight("idle", nullptr).ok());
  for (const char* bad : {"0", "10001", "x", "-1", "1.5"}) EXPECT_FALSE(ParseCgroupWeight(bad, nullptr).ok()) << bad;
  EXPECT_EQ(ParseCgroupWeight("0", nullptr).error().message, "weight '0' is out of range (1..10000)");
}

TEST(ResourceValuesTest, GoRuntime) {
  EXPECT_EQ(*ParseGoRuntime("auto"), GoRuntimeMode::kAuto);
  EXPECT_EQ(*ParseGoRuntime("off"), GoRuntimeMode::kOff);
  EXPECT_EQ(ParseGoRuntime("on").error().message, "GoRuntime= must be auto or off, not 'on'");
}

TEST(ResourceValuesTest, FormatBytes) {
  EXPECT_EQ(FormatBytes(100), "100B");
  EXPECT_EQ(FormatBytes(64ull << 20), "64M");
  EXPECT_EQ(FormatBytes(3ull << 29), "1.5G");
}

ServiceSpec Load(const std::string& text) {
  auto spec = ParseServiceText(text, "/u/x.service", "x.service", SpecifierContext{});
  EXPECT_TRUE(spec.ok()) << (spec.ok() ? "" : spec.error().message);
  return spec.ok() ? *spec : ServiceSpec{};
}

TEST(ResourceValuesTest, LoaderReadsTheDirectives) {
  ServiceSpec s = Load(R"([Service]
ExecStart=/bin/true
MemoryMax=64M
MemoryHigh=50%
MemorySwapMax=0
CPUQuota=150%
CPUWeight=idle
TasksMax=32
IOWeight=200
[X-Supd]
RequireLimits=yes
GoRuntime=off
)");
  const ResourceLimits& r = s.resources;
  EXPECT_EQ(r.memory_max.value, 64u << 20);
  EXPECT_EQ(r.memory_high.kind, LimitValue::Kind::kPermyriad);
  EXPECT_EQ(r.memory_swap_max.kind, LimitValue::Kind::kValue);
  EXPECT_EQ(r.cpu_quota_per_sec_usec, 1500000u);
  EXPECT_EQ(r.cpu_quota_text, "150%");
  EXPECT_TRUE(r.cpu_weight_idle);
  EXPECT_EQ(r.tasks_max.value, 32u);
  EXPECT_EQ(r.io_weight, 200u);
  EXPECT_TRUE(r.require_limits);
  EXPECT_EQ(r.go_runtime, GoRuntimeMode::kOff);
  // No "not supported" warnings for these any more.
  EXPECT_TRUE(s.warnings.empty()) << s.warnings[0].ToString();
}

TEST(ResourceValuesTest, EmptyAssignmentResets) {
  ServiceSpec s = Load(R"([Service]
ExecStart=/bin/true
MemoryMax=64M
MemoryMax=
CPUQuota=20%
CPUQuota=
)");
  EXPECT_FALSE(s.resources.memory_max.set());
  EXPECT_EQ(s.resources.cpu_quota_per_sec_usec, 0u);
  EXPECT_FALSE(s.resources.any());
  EXPECT_EQ(s.resources.go_runtime, GoRuntimeMode::kAuto);
}

TEST(ResourceValuesTest, LoaderRefusesBadValuesWithFileAndLine) {
  auto spec = ParseServiceText("[Service]\nExecStart=/bin/true\nMemoryMax=lots\n", "/u/x.service",
                               "x.service", SpecifierContext{});
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.error().message, "/u/x.service:3: Invalid MemoryMax= value: invalid size 'lots'");
  spec = ParseServiceText("[Service]\nExecStart=/bin/true\n[X-Supd]\nGoRuntime=maybe\n",
                          "/u/x.service", "x.service", SpecifierContext{});
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.error().message, "/u/x.service:4: GoRuntime= must be auto or off, not 'maybe'");
}

}  // namespace
}  // namespace supd
