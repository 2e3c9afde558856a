// SocketSpec: a validated .socket unit (systemd.socket(5)), as lib/unit/ read it.
//
// Plain data, like ServiceSpec: it knows nothing of file descriptors (lib/socket/ binds it).
// Values are already checked (every address parses, see ParseListenAddress()); what supd does
// not implement is listed in `warnings` with file:line instead of being dropped silently.
#pragma once

#include <sys/types.h>

#include <climits>
#include <string>
#include <vector>

#include "lib/unit/service_spec.h"

namespace supd {

// One ListenStream= / ListenDatagram= line.
struct ListenSpec {
  enum class Kind { kStream, kDatagram };
  Kind kind = Kind::kStream;
  std::string address;  // as written, specifiers resolved: "8080", "127.0.0.1:80", "[::1]:80",
                        // "/run/web.sock", "@web"
  std::string source;   // "file:line", for messages
};

struct SocketSpec {
  std::string name;                       // full unit name: "web.socket"
  std::string source_path;                // the file it was read from
  std::vector<std::string> dropin_paths;  // *.conf drop-ins applied, in order
  std::string description;

  // ListenStream= / ListenDatagram=, in file order (the order of the fds from 3 on). An empty
  // assignment to either resets the whole list, as in systemd.
  std::vector<ListenSpec> listen;
  std::string service;  // Service=, or the socket's name with ".service" for ".socket"
  // FileDescriptorName=; as systemd, it defaults to the unit name *with* its ".socket" suffix
  // ("web.socket"), which is what LISTEN_FDNAMES carries for an unnamed socket.
  std::string fd_name;

  // Backlog=: systemd's default is UINT32_MAX, i.e. "whatever net.core.somaxconn allows" (the
  // kernel caps listen()'s argument); values above INT_MAX are stored as INT_MAX.
  int backlog = INT_MAX;
  bool reuse_port = false;                 // ReusePort=: SO_REUSEPORT (inet only)
  std::string bind_ipv6_only = "default";  // BindIPv6Only=: "default" | "both" | "ipv6-only"
  bool free_bind = false;                  // FreeBind=: IP_FREEBIND (inet only)
  bool no_delay = false;                   // NoDelay=: TCP_NODELAY (TCP only)
  bool keep_alive = false;                 // KeepAlive=: SO_KEEPALIVE (stream sockets)
  mode_t socket_mode = 0666;               // SocketMode= (unix sockets)
  mode_t directory_mode = 0755;            // DirectoryMode= (parents created for unix sockets)
  std::string socket_user;                 // SocketUser=: "" = leave as created
  std::string socket_group;                // SocketGroup=: "" = SocketUser='s primary group
  bool remove_on_stop = false;             // RemoveOnStop=
  // TriggerLimitIntervalSec= / TriggerLimitBurst=: more activations than the burst within the
  // interval put the socket unit in failed state (systemd's trigger-limit-hit). systemd's
  // defaults for Accept=no; an interval of 0 turns the limit off.
  Usec trigger_limit_interval = std::chrono::seconds(2);
  unsigned trigger_limit_burst = 20;

  InstallSection install;  // [Install] (WantedBy=, RequiredBy=, Alias=, Also=)

  std::vector<Diagnostic> warnings;
};

}  // namespace supd
