#include "lib/control/top_view.h"

#include <gtest/gtest.h>

#include "lib/log/service_log.h"

namespace supd::control {
namespace {

using nlohmann::json;

int64_t At(const char* rfc3339) { return ParseRfc3339(rfc3339).value(); }

json Service(const std::string& name, const std::string& state, json pid, int restarts, json cpu,
             json mem, const std::string& since, bool ready, json log_tail) {
  return {{"name", name},
          {"unit_type", "service"},
          {"state", state},
          {"sub_state", state == "running" ? "running" : "dead"},
          {"main_pid", pid},
          {"restarts", restarts},
          {"ready", ready},
          {"since", since},
          {"resources",
           {{"stats", {{"cpu_usec", cpu}, {"memory_current_bytes", mem}, {"tasks", nullptr}}}}},
          {"log_tail", log_tail}};
}

// Six units: two services running, one in backoff, one failed, a socket and a target.
json Units(uint64_t web_cpu, uint64_t worker_cpu) {
  return json::array({
      Service("web.service", "running", 4242, 0, web_cpu, 12345678, "2026-12-03T20:00:00.000000Z",
              true, {"2026-12-03T20:59:59.000000Z 4242 out: GET /healthz 200 (0.2ms)"}),
      Service("crash.service", "backoff", nullptr, 7, nullptr, nullptr,
              "2026-12-03T20:59:58.000000Z", false,
              {"2026-12-03T20:59:57.000000Z 4300 err: panic: boom"}),
      Service("worker.service", "running", 5000, 1, worker_cpu, 52428800,
              "2026-12-03T20:59:15.000000Z", false, json::array()),
      Service("bad.service", "failed", nullptr, 2, nullptr, nullptr, "2026-12-03T20:00:00.000000Z",
              false, json::array()),
      {{"name", "web.socket"},
       {"unit_type", "socket"},
       {"state", "listening"},
       {"sub_state", "running"},
       {"since", "2026-12-03T19:00:00.000000Z"}},
      {{"name", "app.target"},
       {"unit_type", "target"},
       {"state", "active"},
       {"sub_state", "active"},
       {"since", nullptr}},
  });
}

json Version() {
  return {{"version", "0.1.0"},
          {"pid", 100},
          {"system_state", "degraded"},
          {"reexecs", 1},
          {"started_realtime", At("2026-12-01T20:58:00.000000Z")}};
}

// Two samples 2 s apart: web used 1 s of CPU (50%), worker 0.1 s (5%), supd 20 ms (1%).
struct Samples {
  TopSample before, now;
  Samples() {
    before.units = Units(4'000'000, 1'900'000);
    before.version = Version();
    before.supd = ProcFigures{"supd", 1'000'000, 12582912};
    before.monotonic_usec = 1'000'000'000;
    before.realtime_usec = At("2026-12-03T20:59:58.000000Z");
    now = before;
    now.units = Units(5'000'000, 2'000'000);
    now.supd = ProcFigures{"supd", 1'020'000, 12582912};
    now.monotonic_usec = before.monotonic_usec + 2'000'000;
    now.realtime_usec = At("2026-12-03T21:00:00.000000Z");
  }
};

std::string Join(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

size_t CodePoints(const std::string& s) {
  size_t n = 0;
  for (char c : s)
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  return n;
}

TEST(TopViewTest, Width120SortedByCpu) {
  Samples s;
  TopOptions o;
  o.width = 120;
  EXPECT_EQ(Join(TopFrame(s.now, &s.before, o)),
            "supd 0.1.0  pid 100  up 2d00h  state degraded  reexecs 1  cpu 1.0%  rss 12.0M\n"
            "6 units: 2 running, 1 listening, 1 active, 1 backoff, 1 failed\n"
            "\n"
            "UNIT           STATE         PID UPTIME  RESTARTS  CPU%▼     MEM READY LAST-LOG-LINE\n"
            "web.service    running      4242  1h00m         0   50.0   11.8M yes   GET /healthz "
            "200 (0.2ms)\n"
            "worker.service running      5000    45s         1    5.0   50.0M no\n"
            "app.target     active          -      -         -      -       - -\n"
            "bad.service    failed          -      -         2      -       - -\n"
            "crash.service  backoff         -      -         7      -       - -     panic: boom\n"
            "web.socket     listening       -  2h00m         -      -       - -\n");
}

TEST(TopViewTest, Width80CutsEveryLine) {
  Samples s;
  TopOptions o;
  o.width = 80;
  const auto lines = TopFrame(s.now, &s.before, o);
  for (const auto& l : lines) EXPECT_LE(CodePoints(l), 80u) << l;
  EXPECT_EQ(Join(lines),
            "supd 0.1.0  pid 100  up 2d00h  state degraded  reexecs 1  cpu 1.0%  rss 12.0M\n"
            "6 units: 2 running, 1 listening, 1 active, 1 backoff, 1 failed\n"
            "\n"
            "UNIT           STATE         PID UPTIME  RESTARTS  CPU%▼     MEM READY LAST-LOG-\n"
            "web.service    running      4242  1h00m         0   50.0   11.8M yes   GET /heal\n"
            "worker.service running      5000    45s         1    5.0   50.0M no\n"
            "app.target     active          -      -         -      -       - -\n"
            "bad.service    failed          -      -         2      -       - -\n"
            "crash.service  backoff         -      -         7      -       - -     panic: bo\n"
            "web.socket     listening       -  2h00m         -      -       - -\n");
}

std::vector<std::string> Names(const std::vector<std::string>& lines) {
  std::vector<std::string> names;
  bool table = false;
  for (const auto& l : lines) {
    if (l.rfind("UNIT", 0) == 0) {
      table = true;
      continue;
    }
    if (table) names.push_back(l.substr(0, l.find(' ')));
  }
  return names;
}

TEST(TopViewTest, EachSortOrdersTheRowsAndMarksItsColumn) {
  Samples s;
  TopOptions o;
  o.width = 120;
  o.sort = TopSort::kMemory;
  auto lines = TopFrame(s.now, &s.before, o);
  EXPECT_EQ(Names(lines), (std::vector<std::string>{"worker.service", "web.service", "app.target",
                                                    "bad.service", "crash.service", "web.socket"}));
  EXPECT_NE(lines[3].find("MEM▼"), std::string::npos) << lines[3];
  EXPECT_EQ(lines[3].find("CPU%▼"), std::string::npos) << lines[3];

  o.sort = TopSort::kRestarts;
  lines = TopFrame(s.now, &s.before, o);
  EXPECT_EQ(Names(lines),
            (std::vector<std::string>{"crash.service", "bad.service", "worker.service",
                                      "web.service", "app.target", "web.socket"}));
  EXPECT_NE(lines[3].find("RESTARTS▼"), std::string::npos) << lines[3];

  o.sort = TopSort::kName;
  lines = TopFrame(s.now, &s.before, o);
  EXPECT_EQ(Names(lines),
            (std::vector<std::string>{"app.target", "bad.service", "crash.service", "web.service",
                                      "web.socket", "worker.service"}));
  EXPECT_EQ(lines[3].rfind("UNIT▲ ", 0), 0u) << lines[3];
  // The columns stay where they were whatever the sort.
  const std::string cpu_heading = TopFrame(s.now, &s.before, {}).at(3);
  EXPECT_EQ(CodePoints(lines[3].substr(0, lines[3].find("STATE"))),
            CodePoints(cpu_heading.substr(0, cpu_heading.find("STATE"))));
}

TEST(TopViewTest, ColourOnStatesOnlyAndResetWhenCut) {
  Samples s;
  TopOptions o;
  o.width = 120;
  o.color = true;
  o.sort = TopSort::kName;
  const auto lines = TopFrame(s.now, &s.before, o);
  EXPECT_EQ(
      lines[1],
      "6 units: 2 \x1b[32mrunning\x1b[0m, 1 \x1b[32mlistening\x1b[0m, 1 \x1b[32mactive\x1b[0m, "
      "1 \x1b[33mbackoff\x1b[0m, 1 \x1b[31mfailed\x1b[0m");
  EXPECT_EQ(lines[5],
            "bad.service    \x1b[31mfailed   \x1b[0m       -      -         2      -       - -");
  EXPECT_EQ(lines[6].substr(0, 27), "crash.service  \x1b[33mbackoff");
  EXPECT_EQ(lines[0].find('\x1b'), std::string::npos);
  EXPECT_EQ(lines[3].find('\x1b'), std::string::npos);
  // Cut inside the colour: the rest of the screen is not coloured.
  o.width = 18;
  EXPECT_EQ(TopFrame(s.now, &s.before, o)[5], "bad.service    \x1b[31mfai\x1b[0m");
  // Colour off: no escape at all.
  o.color = false;
  o.width = 120;
  for (const auto& l : TopFrame(s.now, &s.before, o)) EXPECT_EQ(l.find('\x1b'), std::string::npos);
}

TEST(TopViewTest, HintLineAndHeightSayWhatDidNotFit) {
  Samples s;
  TopOptions o;
  o.width = 120;
  o.height = 8;
  o.sort = TopSort::kName;
  o.hint = "keys: q quit";
  const auto lines = TopFrame(s.now, &s.before, o);
  ASSERT_EQ(lines.size(), 8u) << Join(lines);
  EXPECT_EQ(lines[2], "keys: q quit");
  EXPECT_EQ(lines[4].rfind("UNIT▲", 0), 0u);
  EXPECT_EQ(lines[5].rfind("app.target ", 0), 0u);
  EXPECT_EQ(lines[6].rfind("bad.service ", 0), 0u);
  EXPECT_EQ(lines[7], "… 4 more of 6 units (a taller window shows them)");
  // Shorter than the header: the first lines only.
  o.height = 2;
  EXPECT_EQ(TopFrame(s.now, &s.before, o).size(), 2u);
}

TEST(TopViewTest, CpuIsUnknownWithoutTwoSamplesOfOneInstance) {
  Samples s;
  TopOptions o;
  o.width = 120;
  o.sort = TopSort::kName;
  auto lines = TopFrame(s.now, nullptr, o);
  EXPECT_NE(lines[0].find("cpu -  rss 12.0M"), std::string::npos) << lines[0];
  EXPECT_EQ(
      lines[7],
      "web.service    running      4242  1h00m         0      -   11.8M yes   GET /healthz 200 "
      "(0.2ms)");
  // web restarted between the samples: its new instance's CPU time is lower.
  s.before.units = Units(9'000'000, 1'900'000);
  lines = TopFrame(s.now, &s.before, o);
  EXPECT_NE(lines[7].find("0      -   11.8M"), std::string::npos) << lines[7];
  EXPECT_NE(lines[9].find("1    5.0   50.0M"), std::string::npos) << lines[9];
  // supd re-executed as another pid (a new supd): its CPU% is unknown.
  s.before.version["pid"] = 99;
  EXPECT_NE(TopFrame(s.now, &s.before, o)[0].find("cpu -"), std::string::npos);
}

TEST(TopViewTest, LogLineCannotDriveTheTerminal) {
  Samples s;
  s.now.units = json::array(
      {Service("x.service", "running", 1, 0, nullptr, nullptr, "2026-12-03T20:59:59.000000Z", true,
               {"2026-12-03T20:59:59.000000Z 1 out: a\x1b[2Jb\tc\xc2\x9b"
                "d"})});
  TopOptions o;
  o.width = 0;
  const auto lines = TopFrame(s.now, nullptr, o);
  EXPECT_EQ(lines[4].substr(lines[4].size() - 10), "a?[2Jb?c?d") << lines[4];
}

TEST(TopViewTest, MissingFieldsShowAsDashes) {
  TopSample s;
  s.units = json::array({json::object(), 3, {{"name", 5}, {"state", nullptr}}});
  s.version = nullptr;
  TopOptions o;
  o.width = 0;
  EXPECT_EQ(Join(TopFrame(s, nullptr, o)),
            "supd ?  pid -  cpu -  rss -\n"
            "2 units: 2 ?\n"
            "\n"
            "UNIT  STATE         PID UPTIME  RESTARTS  CPU%▼     MEM READY LAST-LOG-LINE\n"
            "      ?               -      -         -      -       - -\n"
            "      ?               -      -         -      -       - -\n");
}

TEST(TopViewTest, LongNamesAreCutAtFortyAndNarrowTerminalsCutEverything) {
  TopSample s;
  s.units = json::array({{{"name", std::string(45, 'n') + ".service"}, {"state", "stopped"}}});
  TopOptions o;
  o.width = 0;
  auto lines = TopFrame(s, nullptr, o);
  EXPECT_EQ(lines[4].substr(0, 51), std::string(39, 'n') + "… stopped ") << lines[4];
  o.width = 3;
  lines = TopFrame(s, nullptr, o);
  for (const auto& l : lines) EXPECT_LE(CodePoints(l), 3u) << l;
  EXPECT_EQ(lines[3], "UNI");
}

TEST(TopViewTest, ParsesProcStat) {
  // The command name may hold spaces and parentheses.
  const std::string stat =
      "123 (supd (x) y) S 1 123 123 0 -1 4194560 1000 0 0 0 150 50 0 0 20 0 3 0 100 "
      "30000000 2048 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0\n";
  auto f = ParseProcStat(stat, 100, 4096);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->comm, "supd (x) y");
  EXPECT_EQ(f->cpu_usec, 2'000'000u);  // 200 ticks at 100 Hz
  EXPECT_EQ(f->rss_bytes, 2048u * 4096u);
  EXPECT_FALSE(ParseProcStat("123 (supd) S 1 2 3", 100, 4096));
  EXPECT_FALSE(ParseProcStat("", 100, 4096));
  EXPECT_FALSE(
      ParseProcStat("123 (supd) S 1 123 123 0 -1 4194560 1000 0 0 0 x 50 0 0 20 0 3 0 "
                    "100 30000000 2048",
                    100, 4096));
}

TEST(TopViewTest, CutsByCodePointsNotEscapes) {
  EXPECT_EQ(CutToWidth("héllo", 3), "hél");
  EXPECT_EQ(CutToWidth("ab", 5), "ab");
  EXPECT_EQ(CutToWidth("\x1b[31mred\x1b[0m tail", 3), "\x1b[31mred\x1b[0m\x1b[0m");
  EXPECT_EQ(CutToWidth("\x1b[31mred\x1b[0m", 3), "\x1b[31mred\x1b[0m");
  EXPECT_EQ(CutToWidth("anything", 0), "anything");
}

TEST(TopViewTest, SortWords) {
  for (TopSort s : {TopSort::kCpu, TopSort::kMemory, TopSort::kRestarts, TopSort::kName})
    EXPECT_EQ(ParseTopSort(TopSortName(s)), s);
  EXPECT_FALSE(ParseTopSort("pid"));
}

}  // namespace
}  // namespace supd::control
