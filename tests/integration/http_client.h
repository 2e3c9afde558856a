// HTTP/1.0 over a raw loopback socket, for the integration tests that talk to supd's metrics
// listener or to a Prometheus server: no library in between to hide what went over the wire.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tests/integration/harness.h"

namespace supd::integration {

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
  std::string Describe() const {
    return std::to_string(status) + " content-type '" + Header("content-type") + "' body '" +
           body + "'";
  }
};

// `method` `target` on 127.0.0.1:port with HTTP/1.0 (the server closes after the answer, and a
// Go server does not chunk it), `extra_headers` as "Name: value". nullopt when the connection
// or the exchange failed, or the answer is not HTTP.
std::optional<HttpResponse> HttpExchange(int port, const std::string& method,
                                         const std::string& target,
                                         const std::vector<std::string>& extra_headers = {},
                                         Ms timeout = std::chrono::seconds(10));

}  // namespace supd::integration
