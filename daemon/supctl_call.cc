#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "daemon/supctl.h"
#include "lib/control/client.h"
#include "lib/control/dependency_tree.h"

namespace supd::supctl {

bool ColorOn(const GlobalOptions& g) {
  return !g.no_color && control::UseColor(isatty(STDOUT_FILENO) == 1, std::getenv("NO_COLOR"),
                                          std::getenv("TERM"));
}

Outcome Call(const std::string& socket, const std::string& cmd, const nlohmann::json& args,
             std::optional<std::chrono::milliseconds> wait) {
  auto client = control::Client::Connect(socket);
  if (!client.ok()) {
    std::fprintf(stderr, "supctl: supd is not reachable: %s\n", client.error().message.c_str());
    return {kExitUnreachable, nullptr};
  }
  if (wait) client->SetTimeout(*wait);
  auto r = client->Call(cmd, args);
  if (!r.ok()) {
    std::fprintf(stderr, "supctl: %s\n", r.error().message.c_str());
    return {kExitUnreachable, nullptr};
  }
  const auto ok = r->find("ok");
  if (ok == r->end() || !ok->is_boolean() || !ok->get<bool>()) {
    std::string message = "failed";
    if (auto e = r->find("error"); e != r->end() && e->is_object())
      if (auto m = e->find("message"); m != e->end() && m->is_string()) message = *m;
    std::fprintf(stderr, "supctl: %s\n", message.c_str());
    return {kExitFailed, *r};
  }
  return {kExitOk, *r};
}

}  // namespace supd::supctl
