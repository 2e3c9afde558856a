#include "lib/control/paths.h"

#include <stdlib.h>
#include <unistd.h>

#include "lib/base/user_db.h"

namespace supd {

DefaultPaths GetDefaultPaths() {
  DefaultPaths p;
  if (geteuid() == 0) {
    p.units_dir = "/etc/supd/units";
    p.control_socket = "/run/supd/supd.sock";
    p.log_dir = "/var/log/supd";
    p.state_dir = "/var/lib/supd";
    p.runtime_dir = "/run";
    return p;
  }
  std::string home;
  if (const char* h = getenv("HOME"); h && *h) {
    home = h;
  } else if (auto user = FindUserById(geteuid(), "look up uid"); user.ok() && *user) {
    home = (*user)->home;
  } else {
    home = "/tmp";
  }
  const char* xdg_config = getenv("XDG_CONFIG_HOME");
  const char* xdg_state = getenv("XDG_STATE_HOME");
  const char* xdg_runtime = getenv("XDG_RUNTIME_DIR");
  const std::string config = xdg_config && *xdg_config ? xdg_config : home + "/.config";
  const std::string state = xdg_state && *xdg_state ? xdg_state : home + "/.local/state";
  p.runtime_dir = xdg_runtime && *xdg_runtime ? std::string(xdg_runtime)
                                              : "/tmp/supd-" + std::to_string(geteuid());
  p.units_dir = config + "/supd/units";
  p.control_socket = p.runtime_dir + "/supd/supd.sock";
  p.log_dir = state + "/supd/log";
  p.state_dir = state + "/supd";
  return p;
}

}  // namespace supd
