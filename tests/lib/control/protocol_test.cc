#include "lib/control/protocol.h"

#include <gtest/gtest.h>

namespace supd::control {
namespace {

ProtocolError ErrorOf(std::string_view line) {
  auto r = ParseRequest(line);
  EXPECT_TRUE(std::holds_alternative<ProtocolError>(r)) << line;
  return std::holds_alternative<ProtocolError>(r) ? std::get<ProtocolError>(r) : ProtocolError{};
}

TEST(ProtocolTest, ParsesAFullRequest) {
  auto r = ParseRequest(R"({"id":7,"cmd":"start","args":{"services":["web"]}})");
  ASSERT_TRUE(std::holds_alternative<Request>(r));
  const Request& req = std::get<Request>(r);
  EXPECT_EQ(req.id, 7);
  EXPECT_EQ(req.cmd, "start");
  EXPECT_EQ(req.args["services"][0], "web");
}

TEST(ProtocolTest, ArgsDefaultToAnEmptyObject) {
  auto r = ParseRequest(R"({"cmd":"status"})");
  ASSERT_TRUE(std::holds_alternative<Request>(r));
  EXPECT_TRUE(std::get<Request>(r).args.is_object());
  EXPECT_TRUE(std::get<Request>(r).id.is_null());
}

TEST(ProtocolTest, BadInputGetsClearErrors) {
  EXPECT_EQ(ErrorOf("not json").message, "request is not valid JSON");
  EXPECT_EQ(ErrorOf("[1,2]").message, "request must be a JSON object");
  EXPECT_EQ(ErrorOf(R"({"id":1})").message, "request has no \"cmd\" string");
  EXPECT_EQ(ErrorOf(R"({"id":1})").id, 1);
  EXPECT_EQ(ErrorOf(R"({"cmd":"status","args":[1]})").message, "\"args\" must be an object");
  EXPECT_EQ(ErrorOf(R"({"cmd":"explode"})").code, kUnknownCommand);
  EXPECT_EQ(ErrorOf(R"({"cmd":"explode"})").message, "unknown command \"explode\"");
  EXPECT_EQ(ErrorOf(R"({"cmd":"stat)").code, kBadRequest);  // truncated
  EXPECT_EQ(ErrorOf(std::string(kMaxRequestBytes + 1, ' ')).code, kTooLarge);
}

TEST(ProtocolTest, DeepNestingIsRefusedBeforeParsing) {
  const std::string deep = "{\"cmd\":\"status\",\"id\":" + std::string(30000, '[') + "}";
  EXPECT_EQ(ErrorOf(deep).message, "request nested deeper than 32 levels");
  // Brackets inside strings do not count.
  auto r = ParseRequest("{\"cmd\":\"status\",\"args\":{\"x\":\"" + std::string(100, '[') +
                        "\\\"\"}}");
  EXPECT_TRUE(std::holds_alternative<Request>(r));
}

TEST(ProtocolTest, NestingOf32LevelsIsTheLimit) {
  // The request object is level 1, "args" level 2, and the arrays in it the rest.
  auto nested = [](int levels) {
    return "{\"cmd\":\"status\",\"args\":{\"x\":" + std::string(levels - 2, '[') +
           std::string(levels - 2, ']') + "}}";
  };
  EXPECT_TRUE(std::holds_alternative<Request>(ParseRequest(nested(32))));
  EXPECT_EQ(ErrorOf(nested(33)).message, "request nested deeper than 32 levels");
  // Too deep first, bad JSON after: the nesting is what is reported.
  EXPECT_EQ(ErrorOf(nested(33) + "garbage").message, "request nested deeper than 32 levels");
}

TEST(ProtocolTest, IdMustBeAScalar) {
  EXPECT_EQ(ErrorOf(R"({"cmd":"status","id":{"a":1}})").message,
            "\"id\" must be a number or a string");
  EXPECT_TRUE(std::holds_alternative<Request>(ParseRequest(R"({"cmd":"status","id":"x"})")));
}

TEST(ProtocolTest, InvalidUtf8NeverThrows) {
  const std::string line = "{\"cmd\":\"\xff\xfe\"}";
  EXPECT_EQ(ErrorOf(line).code, kBadRequest);  // nlohmann refuses invalid UTF-8 as bad JSON
  const std::string out = FormatReply(nullptr, Reply::Fail(kBadRequest, "bad \xff byte"));
  EXPECT_EQ(out.back(), '\n');
  EXPECT_FALSE(nlohmann::json::parse(out, nullptr, false).is_discarded());
}

TEST(ProtocolTest, FormatsRepliesAsOneLine) {
  EXPECT_EQ(FormatReply(3, Reply::Ok(nlohmann::json{{"a", 1}})),
            "{\"id\":3,\"ok\":true,\"result\":{\"a\":1}}\n");
  EXPECT_EQ(FormatReply(nullptr, Reply::Fail(kNotFound, "no such service: x.service")),
            "{\"error\":{\"code\":\"not-found\",\"message\":\"no such service: x.service\"},"
            "\"id\":null,\"ok\":false}\n");
}

// A streamed answer: every reply but the last says "more".
TEST(ProtocolTest, StreamedRepliesSayMore) {
  EXPECT_EQ(FormatReply("x", Reply::More(nlohmann::json{{"lines", {{{"text", "a"}}}}})),
            "{\"id\":\"x\",\"more\":true,\"ok\":true,\"result\":{\"lines\":[{\"text\":\"a\"}]}}\n");
}

TEST(ProtocolTest, ReadOnlyCommands) {
  EXPECT_TRUE(IsReadOnlyCommand("status"));
  EXPECT_TRUE(IsReadOnlyCommand("version"));
  EXPECT_FALSE(IsReadOnlyCommand("stop"));
  EXPECT_FALSE(IsReadOnlyCommand("kill"));
  EXPECT_FALSE(IsReadOnlyCommand("daemon-reload"));
  // Enablement changes the units directory; asking about it does not.
  EXPECT_FALSE(IsReadOnlyCommand("enable"));
  EXPECT_FALSE(IsReadOnlyCommand("disable"));
  EXPECT_TRUE(IsReadOnlyCommand("is-enabled"));
  EXPECT_TRUE(IsReadOnlyCommand("list-dependencies"));
  for (const char* cmd : {"enable", "disable", "is-enabled", "list-dependencies"})
    EXPECT_TRUE(IsKnownCommand(cmd)) << cmd;
}

TEST(ProtocolTest, NormalizesUnitNames) {
  EXPECT_EQ(*NormalizeUnitName("web"), "web.service");
  EXPECT_EQ(*NormalizeUnitName("web.service"), "web.service");
  EXPECT_EQ(*NormalizeUnitName("web.socket"), "web.socket");
  EXPECT_EQ(*NormalizeUnitName("tick@fast"), "tick@fast.service");
  EXPECT_EQ(NormalizeUnitName("../etc/passwd").error().message,
            "invalid unit name \"../etc/passwd\": it must not contain '/', spaces or control "
            "characters");
  EXPECT_EQ(NormalizeUnitName("a..b").error().message,
            "invalid unit name \"a..b\": it must not contain \"..\"");
  EXPECT_EQ(*NormalizeUnitName("myapp.target"), "myapp.target");
  EXPECT_EQ(NormalizeUnitName("web.timer").error().message,
            "invalid unit name \"web.timer\": only .service, .socket and .target units are "
            "managed");
  EXPECT_FALSE(NormalizeUnitName("").ok());
  EXPECT_FALSE(NormalizeUnitName("a b").ok());
  EXPECT_FALSE(NormalizeUnitName(std::string("a\0b", 3)).ok());
}

}  // namespace
}  // namespace supd::control
