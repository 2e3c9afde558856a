#include "lib/control/request_args.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <csignal>
#include <limits>
#include <variant>

#include "lib/control/protocol.h"

namespace supd::control {
namespace {

using nlohmann::json;
using testing::ElementsAre;
using testing::IsEmpty;

constexpr uint64_t kMax64 = std::numeric_limits<uint64_t>::max();

TEST(RequestArgs, Bool) {
  EXPECT_TRUE(*BoolArg(json{{"hard", true}}, "hard", false));
  EXPECT_FALSE(*BoolArg(json::object(), "hard", false));
  EXPECT_TRUE(*BoolArg(json{{"hard", nullptr}}, "hard", true));
  for (const json& bad : {json("yes"), json(1), json::array(), json::object()}) {
    EXPECT_EQ("\"hard\" must be a boolean", BoolArg(json{{"hard", bad}}, "hard", false).error().message)
        << bad;
  }
}

TEST(RequestArgs, String) {
  EXPECT_EQ("main", **StringArg(json{{"whom", "main"}}, "whom"));
  EXPECT_FALSE(StringArg(json::object(), "whom")->has_value());
  EXPECT_EQ("\"whom\" must be a string", StringArg(json{{"whom", 1}}, "whom").error().message);
}

TEST(RequestArgs, StringList) {
  EXPECT_THAT(*StringListArg(json{{"services", "web"}}, "services"), ElementsAre("web"));
  EXPECT_THAT(*StringListArg(json{{"services", json::array({"a", "b"})}}, "services"), ElementsAre("a", "b"));
  EXPECT_THAT(*StringListArg(json::object(), "services"), IsEmpty());
  // A non-string element was once skipped silently: {"services":["web",1]} acted on web alone.
  for (const json& bad : {json(7), json(true), json::array({"web", 1}), json::object({{"a", "b"}})}) {
    EXPECT_EQ("\"services\" must be a service name or a list of names",
              StringListArg(json{{"services", bad}}, "services").error().message)
        << bad;
  }
}

TEST(RequestArgs, UnsignedInRange) {
  EXPECT_EQ(5u, **UnsignedArg(json{{"n", 5}}, "n", 10));
  EXPECT_EQ(10u, **UnsignedArg(json{{"n", 10u}}, "n", 10));
  EXPECT_FALSE(UnsignedArg(json::object(), "n", 10)->has_value());
  EXPECT_EQ(kMax64, **UnsignedArg(json{{"n", kMax64}}, "n", kMax64));
  for (const json& bad : {json(11), json(-1), json(2.5), json("5"), json(kMax64)}) {
    EXPECT_EQ("\"n\" must be an integer from 0 to 10",
              UnsignedArg(json{{"n", bad}}, "n", 10).error().message)
        << bad;
  }
  EXPECT_EQ("\"lines\" must be a non-negative integer",
            UnsignedArg(json{{"lines", -3}}, "lines", kMax64).error().message);
}

TEST(RequestArgs, Signal) {
  EXPECT_EQ(SIGTERM, *SignalArg(json::object(), "signal", SIGTERM));
  EXPECT_EQ(SIGHUP, *SignalArg(json{{"signal", "HUP"}}, "signal", SIGTERM));
  EXPECT_EQ(SIGKILL, *SignalArg(json{{"signal", "SIGKILL"}}, "signal", SIGTERM));
  EXPECT_EQ(SIGRTMIN + 3, *SignalArg(json{{"signal", "RTMIN+3"}}, "signal", SIGTERM));
  EXPECT_EQ(SIGUSR1, *SignalArg(json{{"signal", SIGUSR1}}, "signal", SIGTERM));
  // 4294967311 = 2^32 + 15 was narrowed to int before the range check: SIGTERM.
  EXPECT_EQ("unknown signal 4294967311",
            SignalArg(json{{"signal", 4294967311u}}, "signal", SIGTERM).error().message);
  EXPECT_EQ("unknown signal 18446744073709551615",
            SignalArg(json{{"signal", kMax64}}, "signal", SIGTERM).error().message);
  EXPECT_EQ("unknown signal -9", SignalArg(json{{"signal", -9}}, "signal", SIGTERM).error().message);
  EXPECT_EQ("unknown signal 0", SignalArg(json{{"signal", 0}}, "signal", SIGTERM).error().message);
  EXPECT_EQ("unknown signal 65", SignalArg(json{{"signal", 65}}, "signal", SIGTERM).error().message);
  EXPECT_EQ("unknown signal \"4294967295\"",
            SignalArg(json{{"signal", "4294967295"}}, "signal", SIGTERM).error().message);
  EXPECT_EQ("unknown signal \"SIGNOPE\"",
            SignalArg(json{{"signal", "SIGNOPE"}}, "signal", SIGTERM).error().message);
  EXPECT_EQ("unknown signal \"" + std::string(60, 'X') + "...",
            SignalArg(json{{"signal", std::string(1000, 'X')}}, "signal", SIGTERM)
                .error()
                .message);
  EXPECT_EQ("\"signal\" must be a signal name or number",
            SignalArg(json{{"signal", 9.0}}, "signal", SIGTERM).error().message);
  EXPECT_EQ("\"signal\" must be a signal name or number",
            SignalArg(json{{"signal", json::array()}}, "signal", SIGTERM).error().message);
}

TEST(RequestArgs, CheckArgsPerCommand) {
  EXPECT_TRUE(CheckArgs("restart", json{{"services", json::array({"web"})}, {"hard", true}}).ok());
  EXPECT_EQ("\"hard\" must be a boolean",
            CheckArgs("restart", json{{"services", json::array({"x"})}, {"hard", "yes"}}).error().message);
  // Arguments another command takes are not this one's business.
  EXPECT_TRUE(CheckArgs("start", json{{"services", json::array({"x"})}, {"hard", "yes"}}).ok());
  EXPECT_TRUE(CheckArgs("version", json{{"services", 1}}).ok());
  EXPECT_EQ("\"services\" must be a service name or a list of names",
            CheckArgs("stop", json{{"services", 1}}).error().message);
  EXPECT_EQ("\"services\" must be a service name or a list of names",
            CheckArgs("status", json{{"services", json::array({1})}}).error().message);
  EXPECT_EQ("unknown signal \"NOPE\"",
            CheckArgs("kill", json{{"services", "x"}, {"signal", "NOPE"}}).error().message);
  EXPECT_EQ("\"whom\" must be \"all\" or \"main\"",
            CheckArgs("kill", json{{"services", "x"}, {"whom", "some"}}).error().message);
  EXPECT_EQ("\"whom\" must be \"all\" or \"main\"",
            CheckArgs("kill", json{{"services", "x"}, {"whom", 1}}).error().message);
  EXPECT_TRUE(CheckArgs("kill", json{{"services", "x"}, {"signal", 9}, {"whom", "main"}}).ok());
  EXPECT_TRUE(CheckArgs("logs", json{{"services", "x"},
                                     {"lines", kMax64},
                                     {"since", "2026-11-22"},
                                     {"stream", "err"},
                                     {"follow", true}})
                  .ok());
  EXPECT_EQ("\"lines\" must be a non-negative integer",
            CheckArgs("logs", json{{"lines", "10"}}).error().message);
  EXPECT_EQ("\"since\" must be a string", CheckArgs("logs", json{{"since", 5}}).error().message);
  EXPECT_EQ("\"stream\" must be \"out\" or \"err\"",
            CheckArgs("logs", json{{"stream", "both"}}).error().message);
  EXPECT_EQ("\"follow\" must be a boolean",
            CheckArgs("logs", json{{"follow", "yes"}}).error().message);
}

TEST(RequestArgs, StringListOfUnitsSaysUnit) {
  EXPECT_EQ("\"units\" must be a unit name or a list of names",
            StringListArg(json{{"units", 7}}, "units").error().message);
  EXPECT_EQ("\"units\" must be a unit name or a list of names",
            StringListArg(json{{"units", json::array({"a.target", 1})}}, "units").error().message);
}

TEST(RequestArgs, CheckArgsOfEnablement) {
  EXPECT_TRUE(
      CheckArgs("enable", json{{"units", json::array({"web", "app.target"})}, {"now", true}}).ok());
  EXPECT_TRUE(CheckArgs("disable", json{{"units", "web"}}).ok());
  EXPECT_EQ("\"now\" must be a boolean",
            CheckArgs("enable", json{{"units", "web"}, {"now", "yes"}}).error().message);
  EXPECT_EQ("\"now\" must be a boolean",
            CheckArgs("disable", json{{"units", "web"}, {"now", 1}}).error().message);
  EXPECT_EQ("\"units\" must be a unit name or a list of names",
            CheckArgs("enable", json{{"units", 1}}).error().message);
  EXPECT_EQ("\"units\" must be a unit name or a list of names",
            CheckArgs("is-enabled", json{{"units", json::array({json::array()})}}).error().message);
  // is-enabled takes no "now": as for any command, an argument it does not take is ignored.
  EXPECT_TRUE(CheckArgs("is-enabled", json{{"units", "web"}, {"now", "yes"}}).ok());
  EXPECT_TRUE(CheckArgs("list-dependencies",
                        json{{"unit", "app.target"}, {"reverse", true}, {"all", false}})
                  .ok());
  EXPECT_EQ("\"unit\" must be a string",
            CheckArgs("list-dependencies", json{{"unit", json::array({"a"})}}).error().message);
  EXPECT_EQ("\"reverse\" must be a boolean",
            CheckArgs("list-dependencies", json{{"unit", "a"}, {"reverse", "no"}}).error().message);
  EXPECT_EQ("\"all\" must be a boolean",
            CheckArgs("list-dependencies", json{{"unit", "a"}, {"all", 0}}).error().message);
}

// The wire: a request with an argument of the wrong type never reaches a handler.
TEST(RequestArgs, ParseRequestRefusesWrongTypes) {
  auto r = ParseRequest(R"({"id":3,"cmd":"restart","args":{"services":["x"],"hard":"yes"}})");
  ASSERT_TRUE(std::holds_alternative<ProtocolError>(r));
  const ProtocolError& e = std::get<ProtocolError>(r);
  EXPECT_EQ(kBadRequest, e.code);
  EXPECT_EQ("\"hard\" must be a boolean", e.message);
  EXPECT_EQ(3, e.id);
  EXPECT_TRUE(std::holds_alternative<Request>(
      ParseRequest(R"({"cmd":"restart","args":{"services":["x"],"hard":true}})")));
}

}  // namespace
}  // namespace supd::control
