// A blocking client of the control protocol, for supctl and tests. One request at a time.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "lib/base/result.h"
#include "lib/base/unique_fd.h"

namespace supd::control {

class Client {
 public:
  // Connects to the control socket at `path`. The error says whether the daemon is not
  // running (no socket / refused) or the socket could not be used.
  [[nodiscard]] static Result<Client> Connect(const std::string& path);

  // Sends one request and waits for its answer line. Returns the whole response object
  // ({"id":…,"ok":…,…}); a transport failure is an Error.
  [[nodiscard]] Result<nlohmann::json> Call(const std::string& cmd, const nlohmann::json& args);
  // The next answer line, for streamed answers ("more":true, e.g. `logs --follow`). Blocks,
  // for at most the timeout when one is set.
  [[nodiscard]] Result<nlohmann::json> Next();
  // Each later wait for an answer gives up after `timeout`: "no answer from supd at PATH
  // within 35s".
  void SetTimeout(std::chrono::milliseconds timeout) { timeout_ = timeout; }

 private:
  explicit Client(UniqueFd fd, std::string path) : fd_(std::move(fd)), path_(std::move(path)) {}
  UniqueFd fd_;
  std::string path_;
  std::string buf_;
  int next_id_ = 1;
  std::optional<std::chrono::milliseconds> timeout_;
};

}  // namespace supd::control
