// Default locations of supd's files, for root and for an ordinary user. supd and supctl both
// use these, so that `supctl` finds the daemon without options.
#pragma once

#include <string>

namespace supd {

struct DefaultPaths {
  std::string units_dir;
  std::string control_socket;
  std::string log_dir;
  std::string state_dir;
  std::string runtime_dir;  // %t
};

// Root: /etc/supd/units, /run/supd/supd.sock, /var/log/supd, /var/lib/supd, /run.
// Others: ~/.config/supd/units, $XDG_RUNTIME_DIR/supd/supd.sock (or /tmp/supd-<uid>/supd.sock),
// ~/.local/state/supd/log, ~/.local/state/supd, $XDG_RUNTIME_DIR (or /tmp/supd-<uid>).
DefaultPaths GetDefaultPaths();

}  // namespace supd
