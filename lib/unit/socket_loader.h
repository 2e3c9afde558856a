// Reading .socket units (systemd.socket(5)) into SocketSpec, and the syntax of their listen
// addresses, which lib/socket/ shares to bind them.
//
// Pure parsing: the only I/O is reading the unit file and its drop-ins. Thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "lib/base/result.h"
#include "lib/unit/socket_spec.h"
#include "lib/unit/unit_loader.h"

namespace supd {

// Loads the unit `unit_name` ("web.socket") from `path`, plus drop-ins in `path`.d/*.conf and
// <dir of path>/`unit_name`.d/*.conf in lexical order (a drop-in that is empty or /dev/null
// masks that name). Errors name file:line, e.g.
//   "units/web.socket:4: Accept=yes is not supported by supd (one service instance per
//    connection)"
//   "units/web.socket:3: Invalid ListenStream= address '70000': port must be between 1 and 65535"
[[nodiscard]] Result<SocketSpec> LoadSocketFile(const std::string& path,
                                                const std::string& unit_name,
                                                const SpecifierContext& ctx);

// Same, from text already in memory; `path` only names the file in messages. No drop-ins.
[[nodiscard]] Result<SocketSpec> ParseSocketText(const std::string& text, const std::string& path,
                                                 const std::string& unit_name,
                                                 const SpecifierContext& ctx);

// A listen address, parsed. systemd's syntax (socket_address_parse), minus what supd does not
// support (vsock:, "%interface" scopes, host names: systemd does not resolve them either).
struct ListenAddress {
  enum class Family {
    kAnyPort,       // "8080": [::]:8080, or 0.0.0.0:8080 where IPv6 is unavailable
    kIPv4,          // "127.0.0.1:8080"
    kIPv6,          // "[::1]:8080"
    kUnixPath,      // "/run/web.sock"
    kUnixAbstract,  // "@web"
  };
  Family family = Family::kAnyPort;
  std::string host;   // numeric address without brackets (kIPv4, kIPv6), as written
  uint16_t port = 0;  // 1..65535 for the inet families
  std::string path;   // the file path (kUnixPath) or the abstract name without '@'
};

// Parses one address of ListenStream=/ListenDatagram=. The Error's message is the reason only,
// without file:line or the address (the caller adds them):
//   "port must be between 1 and 65535"
//   "'localhost' is not a numeric IPv4 address (IPv6: [address]:port)"
//   "'zz' is not a numeric IPv6 address"
//   "expected [address]:port"
//   "unix socket path is longer than 107 bytes"
//   "abstract socket name is empty"
//   "expected a port, address:port, [address]:port, an absolute path or @name"
[[nodiscard]] Result<ListenAddress> ParseListenAddress(std::string_view text);

}  // namespace supd
