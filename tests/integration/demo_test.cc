// The demo's headline, as run-demo.sh prints it, on the demo's own units and Go program: `hey`
// load on web.socket while `supctl restart web` runs; no request fails.

#include <cstdint>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <utility>

#include "tests/integration/harness.h"

namespace supd::integration {
namespace {

class DemoTest : public SupdTest {
 protected:
  // config/demo/units/NAME with the demo's @DEMO_BIN@ → the build's Go programs and its port →
  // `port`.
  void WriteDemoUnit(const std::string& name, int port) {
    std::ifstream in(std::string(SUPD_SOURCE_DIR) + "/config/demo/units/" + name);
    ASSERT_TRUE(in) << name;
    std::stringstream text;
    text << in.rdbuf();
    std::string unit = text.str();
    for (auto [from, to] : {std::pair<std::string, std::string>{"@DEMO_BIN@", SUPD_GO_BIN_DIR},
                            {"127.0.0.1:8081", "127.0.0.1:" + std::to_string(port)}}) {
      for (size_t at; (at = unit.find(from)) != std::string::npos;)
        unit.replace(at, from.size(), to);
    }
    WriteUnit(name, unit);
  }
};

TEST_F(DemoTest, RestartOfTheSocketHeldNotifyServiceUnderLoadFailsNoRequest) {
  if (!HeyInstalled()) GTEST_SKIP() << "hey is not installed";
  const int port = FreeTcpPort();
  ASSERT_NO_FATAL_FAILURE(WriteDemoUnit("web.socket", port));
  ASSERT_NO_FATAL_FAILURE(WriteDemoUnit("web.service", port));
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  ASSERT_EQ(0, Supctl({"start", "web"}).exit_code) << SupdContext();
  const pid_t first = MainPid("web.service");
  ASSERT_GT(first, 0);
  pid_t second = 0;
  auto cpu_usec = [&]() -> int64_t {
    auto st = Status("web.service");
    if (!st) return -1;
    const auto& v = (*st)["resources"]["stats"]["cpu_usec"];
    return v.is_number_integer() ? v.get<int64_t>() : -1;
  };
  const int64_t idle_cpu = cpu_usec();  // -1 without cgroup CPU figures (not root)
  // As the demo prints it: hey with keep-alive (its default), the restart while it runs.
  HeyReport hey = RunHeyDuring(
      "http://127.0.0.1:" + std::to_string(port) + "/", 8s, 32,
      [&] {
        // The load is there (the service is using CPU) before the restart, not hoped for.
        if (idle_cpu >= 0) {
          EXPECT_TRUE(WaitFor([&] { return cpu_usec() > idle_cpu + 100'000; }, 5s))
              << "web.service used no CPU under hey: " << cpu_usec() - idle_cpu << " µs";
        }
        const CommandResult& r = Supctl({"restart", "web"});
        EXPECT_EQ(0, r.exit_code) << r.Describe();
        second = MainPid("web.service");
      },
      /*keepalive=*/true);
  std::cout << "[measure] demo restart under hey -c 32: " << hey.ok << " ok, " << hey.failed
            << " failed\n";
  ASSERT_TRUE(hey.summarized) << hey.output;
  EXPECT_EQ(0, hey.failed) << hey.output;
  EXPECT_GT(hey.ok, 0) << hey.output;
  EXPECT_GT(second, 0);
  EXPECT_NE(first, second);
  EXPECT_TRUE(WaitFor([&] { return GetProcState(first) == ProcState::kGone; }));
  EXPECT_TRUE(WaitForLog("web.service", "drained; bye")) << ServiceLog("web.service");
}

}  // namespace
}  // namespace supd::integration
