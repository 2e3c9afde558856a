// Bad input of any kind gets a clear error and changes nothing else: a socket unit whose
// SocketUser= is out of uid_t's range (supd once aborted at start on it, or made the socket
// root's), and control requests whose arguments have the wrong type (once "internal error"
// from a thrown nlohmann exception, or a signal number narrowed into another signal).

#include <string>

#include "tests/integration/harness.h"

namespace supd::integration {
namespace {

using nlohmann::json;

class BadInputTest : public SupdTest {
 protected:
  // The reply to one raw request line, parsed; a null json if there was none.
  json Request(const std::string& line) {
    auto reply = RawControlRequest(socket_, line + "\n");
    if (!reply || reply->line.empty()) return json();
    return json::parse(reply->line, nullptr, /*allow_exceptions=*/false);
  }
};

TEST_F(BadInputTest, OutOfRangeSocketUserIsRefusedWithFileAndLineAndTheRestRuns) {
  WriteUnit("huge.socket", R"([Socket]
ListenStream={dir}/huge.sock
SocketUser=123456789012345678901
)");
  WriteUnit("huge.service", "[Service]\nExecStart={go}/crasher -sleep\n");
  // 2^32 once wrapped to uid 0: the socket file would have been root's.
  WriteUnit("wrap.socket", R"([Socket]
ListenStream={dir}/wrap.sock
SocketGroup=4294967296
)");
  WriteUnit("wrap.service", "[Service]\nExecStart={go}/crasher -sleep\n");
  WriteUnit("good.socket", "[Socket]\nListenStream={dir}/good.sock\n");
  WriteUnit("good.service", R"([Service]
ExecStart={go}/crasher -sleep
[Install]
WantedBy=multi-user.target
)");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  EXPECT_GT(WaitForRunning("good.service"), 0) << SupdContext();
  EXPECT_TRUE(FileExists(dir_ + "/good.sock"));

  const std::string huge_error =
      units_dir_ +
      "/huge.socket:3: Invalid SocketUser= value '123456789012345678901': "
      "'123456789012345678901' is out of range (numeric user and group IDs are 0..4294967294)";
  const std::string wrap_error =
      units_dir_ +
      "/wrap.socket:3: Invalid SocketGroup= value '4294967296': '4294967296' is out of range "
      "(numeric user and group IDs are 0..4294967294)";
  for (const auto& [service, error] :
       {std::pair{"huge.service", huge_error}, std::pair{"wrap.service", wrap_error}}) {
    SCOPED_TRACE(service);
    auto status = Status(service);
    ASSERT_TRUE(status) << SupdContext();
    ASSERT_TRUE((*status)["sockets"].is_array() && (*status)["sockets"].size() == 1)
        << status->dump();
    EXPECT_EQ(json(error), (*status)["sockets"][0]["error"]) << status->dump();
    EXPECT_TRUE((*status)["sockets"][0]["listening"].empty()) << status->dump();
    EXPECT_NE(std::string::npos, SupdStderr().find(error)) << SupdContext();
  }
  EXPECT_FALSE(FileExists(dir_ + "/huge.sock"));
  EXPECT_FALSE(FileExists(dir_ + "/wrap.sock"));

  // A service whose socket was refused does not start without it; supd goes on.
  CommandResult start = Supctl({"start", "huge"});
  EXPECT_EQ(1, start.exit_code) << start.Describe();
  EXPECT_NE(std::string::npos, start.err.find(huge_error)) << start.Describe();
  EXPECT_TRUE(SupdAlive()) << SupdContext();
  EXPECT_EQ("running", State("good.service")) << SupdContext();
}

TEST_F(BadInputTest, WrongTypedArgumentsAreBadRequestAndChangeNothing) {
  const std::string starts = dir_ + "/starts";
  WriteUnit("svc.service", R"([Service]
ExecStart={go}/crasher -sleep -write-file {dir}/starts
[Install]
WantedBy=multi-user.target
)");
  ASSERT_NO_FATAL_FAILURE(StartSupd());
  const pid_t pid = WaitForRunning("svc.service");
  ASSERT_GT(pid, 0) << SupdContext();
  ASSERT_TRUE(WaitFor([&] { return CountLines(starts) == 1; })) << SupdContext();

  const std::pair<std::string, std::string> cases[] = {
      {R"({"id":1,"cmd":"restart","args":{"services":["svc"],"hard":"yes"}})",
       "\"hard\" must be a boolean"},
      {R"({"id":2,"cmd":"restart","args":{"services":["svc"],"hard":1}})",
       "\"hard\" must be a boolean"},
      // 2^32 + 15: narrowed to int, this was SIGTERM.
      {R"({"id":3,"cmd":"kill","args":{"services":["svc"],"signal":4294967311}})",
       "unknown signal 4294967311"},
      {R"({"id":4,"cmd":"kill","args":{"services":["svc"],"signal":15.0}})",
       "\"signal\" must be a signal name or number"},
      // A name that is not a string was skipped, and the rest acted on.
      {R"({"id":5,"cmd":"stop","args":{"services":["svc",1]}})",
       "\"services\" must be a service name or a list of names"},
      {R"({"id":6,"cmd":"logs","args":{"services":["svc"],"lines":"10"}})",
       "\"lines\" must be a non-negative integer"},
  };
  for (const auto& [line, message] : cases) {
    SCOPED_TRACE(line);
    json reply = Request(line);
    ASSERT_TRUE(reply.is_object()) << SupdContext();
    EXPECT_EQ(json(false), reply["ok"]) << reply.dump();
    EXPECT_EQ(json("bad-request"), reply["error"]["code"]) << reply.dump();
    EXPECT_EQ(json(message), reply["error"]["message"]) << reply.dump();
    EXPECT_EQ(json::parse(line)["id"], reply["id"]) << reply.dump();
  }

  // Nothing happened: the same process, started once, never signalled.
  json ok = Request(R"({"id":7,"cmd":"status","args":{"services":["svc"]}})");
  EXPECT_EQ(json(true), ok["ok"]) << ok.dump();
  EXPECT_EQ(pid, MainPid("svc.service")) << SupdContext();
  EXPECT_EQ(ProcState::kAlive, GetProcState(pid));
  EXPECT_EQ(1, CountLines(starts));
  EXPECT_EQ(0, Restarts("svc.service"));
  EXPECT_TRUE(SupdAlive()) << SupdContext();
}

}  // namespace
}  // namespace supd::integration
