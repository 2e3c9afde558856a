// LoadSocketFile / ParseSocketText: the meaning of the directives of a .socket unit, after
// systemd's load-fragment.c and socket.c (socket_verify), for Accept=no sockets only.
//
// As for services, a bad value refuses the unit (an error with file:line) where systemd would
// log and ignore the line; directives supd does not implement get a warning. Listen kinds that
// supd cannot bind (ListenFIFO= and friends) refuse the unit: ignoring one would shift the fd
// numbers that the service sees.

#include "lib/unit/socket_loader.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <functional>
#include <map>
#include <set>
#include <utility>

#include "lib/unit/exec_command.h"
#include "lib/unit/loader_base.h"
#include "lib/unit/specifiers.h"
#include "lib/unit/unit_syntax.h"
#include "lib/unit/values.h"

namespace supd {
namespace {

const std::vector<std::string> kSections = {"Unit", "Socket", "Install", "X-Supd"};

// sizeof(sockaddr_un::sun_path) less the terminating NUL (paths) or the leading NUL (abstract).
constexpr size_t kMaxUnixPath = sizeof(sockaddr_un{}.sun_path) - 1;

// Listen kinds of systemd.socket(5) that supd does not bind: refused, see the file comment.
const std::set<std::string_view> kUnsupportedListen = {
    "ListenSequentialPacket", "ListenFIFO",         "ListenSpecial",
    "ListenNetlink",          "ListenMessageQueue", "ListenUSBFunction",
};

// [Socket] directives systemd knows that supd reads but does not implement: a warning saying so
// rather than the "unknown key" one. Not exhaustive; anything else is "unknown".
const std::set<std::string_view> kUnsupportedSocket = {
    // systemd.socket(5)
    "SocketProtocol",
    "BindToDevice",
    "MaxConnections",
    "MaxConnectionsPerSource",
    "KeepAliveTimeSec",
    "KeepAliveIntervalSec",
    "KeepAliveProbes",
    "Priority",
    "DeferAcceptSec",
    "ReceiveBuffer",
    "SendBuffer",
    "IPTOS",
    "IPTTL",
    "Mark",
    "SmackLabel",
    "SmackLabelIPIn",
    "SmackLabelIPOut",
    "SELinuxContextFromNet",
    "PipeSize",
    "MessageQueueMaxMessages",
    "MessageQueueMessageSize",
    "Broadcast",
    "PassCredentials",
    "PassSecurity",
    "PassPacketInfo",
    "Timestamping",
    "TCPCongestion",
    "ExecStartPre",
    "ExecStartPost",
    "ExecStopPre",
    "ExecStopPost",
    "TimeoutSec",
    "Symlinks",
    "Writable",
    "FlushPending",
    "PollLimitIntervalSec",
    "PollLimitBurst",
    "PassFileDescriptorsToExec",
    "DeferTrigger",
    "DeferTriggerMaxSec",
    "PassPIDFD",
    "AcceptFileDescriptors",
    "SocketBindAllow",
    "SocketBindDeny",
    // systemd.exec(5) / systemd.kill(5) / systemd.resource-control(5): they configure the
    // Exec*= commands of the socket, which supd does not run.
    "User",
    "Group",
    "WorkingDirectory",
    "Environment",
    "EnvironmentFile",
    "KillMode",
    "KillSignal",
    "SendSIGKILL",
    "SendSIGHUP",
    "Slice",
    "UMask",
};

const std::set<std::string_view> kUnsupportedUnit = {
    "After",
    "Before",
    "Wants",
    "Requires",
    "Requisite",
    "BindsTo",
    "PartOf",
    "Upholds",
    "Conflicts",
    "OnFailure",
    "OnSuccess",
    "StopWhenUnneeded",
    "RefuseManualStart",
    "RefuseManualStop",
    "JoinsNamespaceOf",
    "RequiresMountsFor",
    "WantsMountsFor",
    "StartLimitIntervalSec",
    "StartLimitBurst",
    "CollectMode",
    "FailureAction",
    "SuccessAction",
    "JobTimeoutSec",
    "JobRunningTimeoutSec",
    "IgnoreOnIsolate",
    "AllowIsolate",
};

const std::set<std::string_view> kUnsupportedInstall = {"UpheldBy"};

using Handler = UnitHandler;

// systemd's fdname_is_valid(): ASCII without control characters and ':', at most 255 bytes.
bool IsValidFdName(std::string_view s) {
  if (s.empty() || s.size() > 255) return false;
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < ' ' || u >= 0x7f || c == ':') return false;
  }
  return true;
}

// systemd's parse_mode(): octal, at most 07777.
Result<mode_t> ParseMode(std::string_view s) {
  if (s.empty() || s.size() > 5) return Error{"not an octal mode"};
  mode_t m = 0;
  for (char c : s) {
    if (c < '0' || c > '7') return Error{"not an octal mode"};
    m = m * 8 + static_cast<mode_t>(c - '0');
  }
  if (m > 07777) return Error{"not an octal mode"};
  return m;
}

Result<uint16_t> ParsePort(std::string_view s) {
  if (s.empty() || s.size() > 5) return Error{"port must be between 1 and 65535"};
  unsigned v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return Error{"port must be between 1 and 65535"};
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  if (v < 1 || v > 65535) return Error{"port must be between 1 and 65535"};
  return static_cast<uint16_t>(v);
}

class Loader : public UnitLoaderBase<Loader, SocketSpec> {
 public:
  Loader(const std::string& unit_name, const std::string& source_path, const SpecifierContext& ctx)
      : UnitLoaderBase(unit_name, source_path, ctx, kSections) {
    RegisterUnitAndInstallHandlers();
    RegisterListenHandlers();
    RegisterOptionHandlers();
  }

  Result<SocketSpec> Finish();

 private:
  friend class UnitLoaderBase<Loader, SocketSpec>;
  Result<void> Apply(const UnitAssignment& a);
  // By concern: [Unit] and [Install]; what is listened on and for whom; socket options.
  void RegisterUnitAndInstallHandlers();
  void RegisterListenHandlers();
  void RegisterOptionHandlers();
  Handler Mode(mode_t* out) {
    return [this, out](const UnitAssignment& a) -> Result<void> {
      auto m = ParseMode(a.value);
      if (!m.ok()) return Invalid(a);
      *out = *m;
      return Ok();
    };
  }
  Handler Listen(ListenSpec::Kind kind) {
    return [this, kind](const UnitAssignment& a) -> Result<void> {
      if (a.value.empty()) {
        spec_.listen.clear();
        return Ok();
      }
      auto address = Resolve(a, a.value);
      if (!address.ok()) return address.take_error();
      auto parsed = ParseListenAddress(*address);
      if (!parsed.ok()) {
        return Err(a,
                   "Invalid " + a.key + "= address '" + *address + "': " + parsed.error().message);
      }
      spec_.listen.push_back(ListenSpec{kind, std::move(*address), a.Location()});
      return Ok();
    };
  }
};

void Loader::RegisterUnitAndInstallHandlers() {
  auto& h = handlers_;
  h["Unit.Description"] = [this](const UnitAssignment& a) -> Result<void> {
    auto d = Resolve(a, a.value);
    if (!d.ok()) return d.take_error();
    spec_.description = std::move(*d);
    return Ok();
  };
  // Informational only: nothing to enforce.
  h["Unit.Documentation"] = [](const UnitAssignment&) -> Result<void> { return Ok(); };
  // Only adds dependencies on systemd's boot targets, which supd treats as always satisfied.
  h["Unit.DefaultDependencies"] = [this](const UnitAssignment& a) -> Result<void> {
    if (!ParseBoolean(a.value).ok()) return Invalid(a);
    return Ok();
  };
  AddInstallHandlers(&spec_.install);
}

void Loader::RegisterListenHandlers() {
  auto& h = handlers_;
  h["Socket.ListenStream"] = Listen(ListenSpec::Kind::kStream);
  h["Socket.ListenDatagram"] = Listen(ListenSpec::Kind::kDatagram);
  h["Socket.Accept"] = [this](const UnitAssignment& a) -> Result<void> {
    auto b = ParseBoolean(a.value);
    if (!b.ok()) return Invalid(a);
    if (*b) {
      return Err(a, "Accept=yes is not supported by supd (one service instance per connection)");
    }
    return Ok();
  };
  h["Socket.Service"] = [this](const UnitAssignment& a) -> Result<void> {
    if (a.value.empty()) {
      spec_.service.clear();  // back to the default, set in Finish()
      return Ok();
    }
    auto r = Resolve(a, a.value);
    if (!r.ok()) return r.take_error();
    if (!IsValidUnitName(*r) || SplitUnitName(*r).suffix != "service") {
      return Err(a, "Service= value '" + *r + "' is not a .service unit name");
    }
    if (SplitUnitName(*r).is_template) {
      return Err(a, "Service= value '" + *r + "' is a template; name an instance");
    }
    spec_.service = std::move(*r);
    return Ok();
  };
  h["Socket.FileDescriptorName"] = [this](const UnitAssignment& a) -> Result<void> {
    if (a.value.empty()) {
      spec_.fd_name.clear();  // back to the default, set in Finish()
      return Ok();
    }
    auto r = Resolve(a, a.value);
    if (!r.ok()) return r.take_error();
    if (!IsValidFdName(*r)) {
      return Err(a, "Invalid FileDescriptorName= value '" + *r +
                        "' (at most 255 ASCII characters, no control characters, no ':')");
    }
    spec_.fd_name = std::move(*r);
    return Ok();
  };
  h["Socket.Backlog"] = [this](const UnitAssignment& a) -> Result<void> {
    auto n = ParseUnsigned(a.value);
    if (!n.ok()) return Invalid(a);
    // listen() takes an int and the kernel caps it at net.core.somaxconn anyway.
    spec_.backlog = *n > static_cast<unsigned>(INT_MAX) ? INT_MAX : static_cast<int>(*n);
    return Ok();
  };
}

void Loader::RegisterOptionHandlers() {
  auto& h = handlers_;
  h["Socket.ReusePort"] = Bool(&spec_.reuse_port);
  h["Socket.FreeBind"] = Bool(&spec_.free_bind);
  h["Socket.NoDelay"] = Bool(&spec_.no_delay);
  h["Socket.KeepAlive"] = Bool(&spec_.keep_alive);
  h["Socket.RemoveOnStop"] = Bool(&spec_.remove_on_stop);
  h["Socket.TriggerLimitIntervalSec"] = [this](const UnitAssignment& a) -> Result<void> {
    auto t = ParseTimeSpan(a.value);
    if (!t.ok()) return Invalid(a);
    spec_.trigger_limit_interval = *t == kInfinity ? Usec(0) : *t;
    return Ok();
  };
  h["Socket.TriggerLimitBurst"] = [this](const UnitAssignment& a) -> Result<void> {
    auto n = ParseUnsigned(a.value);
    if (!n.ok()) return Invalid(a);
    spec_.trigger_limit_burst = *n;
    return Ok();
  };
  h["Socket.BindIPv6Only"] = [this](const UnitAssignment& a) -> Result<void> {
    if (a.value == "default" || a.value == "both" || a.value == "ipv6-only") {
      spec_.bind_ipv6_only = a.value;
      return Ok();
    }
    // As systemd: a boolean is accepted too, yes meaning ipv6-only and no meaning both.
    auto b = ParseBoolean(a.value);
    if (!b.ok()) return Invalid(a);
    spec_.bind_ipv6_only = *b ? "ipv6-only" : "both";
    return Ok();
  };
  h["Socket.SocketMode"] = Mode(&spec_.socket_mode);
  h["Socket.DirectoryMode"] = Mode(&spec_.directory_mode);
  h["Socket.SocketUser"] = UserOrGroup(&spec_.socket_user);
  h["Socket.SocketGroup"] = UserOrGroup(&spec_.socket_group);
}

Result<void> Loader::Apply(const UnitAssignment& a) {
  if (a.section == "X-Supd") {
    Warn(a, "Unknown key '" + a.key + "' in section [X-Supd], ignoring");
    return Ok();
  }
  auto it = handlers_.find(a.section + "." + a.key);
  if (it != handlers_.end()) return it->second(a);

  if (a.section == "Socket" && kUnsupportedListen.count(a.key) > 0) {
    return Err(a, a.key + "= is not supported by supd");
  }
  bool unsupported = false;
  if (a.section == "Unit") {
    unsupported = kUnsupportedUnit.count(a.key) > 0 || a.key.starts_with("Condition") ||
                  a.key.starts_with("Assert");
  } else if (a.section == "Socket") {
    unsupported = kUnsupportedSocket.count(a.key) > 0;
  } else {
    unsupported = kUnsupportedInstall.count(a.key) > 0;
  }
  if (unsupported) {
    Warn(a, a.key + "= is not supported by supd yet; ignored");
    return Ok();
  }
  WarnUnknownKey(a);
  return Ok();
}

Result<SocketSpec> Loader::Finish() {
  if (spec_.listen.empty()) {
    return Error{spec_.source_path +
                 ": Unit has no ListenStream= or ListenDatagram= setting, refusing"};
  }
  // "web.socket" → "web", the part before the suffix (instances keep "@instance").
  const std::string stem = spec_.name.substr(0, spec_.name.size() - std::string(".socket").size());
  if (spec_.service.empty()) spec_.service = stem + ".service";
  if (spec_.fd_name.empty()) spec_.fd_name = spec_.name;
  return std::move(spec_);
}

Result<void> CheckUnitName(const std::string& unit_name) {
  if (!IsValidUnitName(unit_name)) return Error{"Invalid unit name '" + unit_name + "'"};
  UnitNameParts parts = SplitUnitName(unit_name);
  if (parts.suffix != "socket") return Error{"'" + unit_name + "' is not a .socket unit"};
  if (parts.is_template) {
    return Error{"'" + unit_name + "' is a template; only its instances can be loaded"};
  }
  return Ok();
}

}  // namespace

Result<ListenAddress> ParseListenAddress(std::string_view text) {
  ListenAddress out;
  if (text.empty()) {
    return Error{"expected a port, address:port, [address]:port, an absolute path or @name"};
  }
  if (text[0] == '/') {
    if (text.size() > kMaxUnixPath) {
      return Error{"unix socket path is longer than " + std::to_string(kMaxUnixPath) + " bytes"};
    }
    out.family = ListenAddress::Family::kUnixPath;
    out.path = std::string(text);
    return out;
  }
  if (text[0] == '@') {
    if (text.size() == 1) return Error{"abstract socket name is empty"};
    if (text.size() - 1 > kMaxUnixPath) {
      return Error{"abstract socket name is longer than " + std::to_string(kMaxUnixPath) +
                   " bytes"};
    }
    out.family = ListenAddress::Family::kUnixAbstract;
    out.path = std::string(text.substr(1));
    return out;
  }
  if (text[0] == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return Error{"expected [address]:port"};
    }
    std::string host(text.substr(1, close - 1));
    in6_addr a6;
    if (inet_pton(AF_INET6, host.c_str(), &a6) != 1) {
      return Error{"'" + host + "' is not a numeric IPv6 address"};
    }
    auto port = ParsePort(text.substr(close + 2));
    if (!port.ok()) return port.take_error();
    out.family = ListenAddress::Family::kIPv6;
    out.host = std::move(host);
    out.port = *port;
    return out;
  }
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    bool digits = true;
    for (char c : text) digits = digits && c >= '0' && c <= '9';
    if (!digits) {
      return Error{"expected a port, address:port, [address]:port, an absolute path or @name"};
    }
    auto port = ParsePort(text);
    if (!port.ok()) return port.take_error();
    out.family = ListenAddress::Family::kAnyPort;
    out.port = *port;
    return out;
  }
  std::string host(text.substr(0, colon));
  in_addr a4;
  if (inet_pton(AF_INET, host.c_str(), &a4) != 1) {
    return Error{"'" + host + "' is not a numeric IPv4 address (IPv6: [address]:port)"};
  }
  auto port = ParsePort(text.substr(colon + 1));
  if (!port.ok()) return port.take_error();
  out.family = ListenAddress::Family::kIPv4;
  out.host = std::move(host);
  out.port = *port;
  return out;
}

Result<SocketSpec> ParseSocketText(const std::string& text, const std::string& path,
                                   const std::string& unit_name, const SpecifierContext& ctx) {
  return ParseUnitWith<Loader>(text, path, unit_name, ctx, CheckUnitName);
}

Result<SocketSpec> LoadSocketFile(const std::string& path, const std::string& unit_name,
                                  const SpecifierContext& ctx) {
  return LoadUnitWith<Loader>(path, unit_name, ctx, CheckUnitName);
}

}  // namespace supd
