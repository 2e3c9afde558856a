// [X-Supd] health probes: StartupProbe=, ReadinessProbe=, LivenessProbe= (one target each:
// http://HOST:PORT/PATH, tcp://HOST:PORT, exec:COMMAND), their settings named with the probe as
// prefix (ReadinessProbeIntervalSec=, …), and MinReadySec=. Only read and checked here; running
// them is lib/health/.

#include <arpa/inet.h>
#include <netinet/in.h>

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lib/unit/exec_command.h"
#include "lib/unit/service_loader.h"
#include "lib/unit/values.h"

namespace supd {

const char* ServiceTypeName(ServiceType t) {
  switch (t) {
    case ServiceType::kSimple: return "simple";
    case ServiceType::kExec: return "exec";
    case ServiceType::kOneshot: return "oneshot";
    case ServiceType::kNotify: return "notify";
    case ServiceType::kNotifyReload: return "notify-reload";
  }
  return "simple";
}

const char* ProbeRoleName(ProbeRole r) {
  switch (r) {
    case ProbeRole::kStartup:
      return "StartupProbe";
    case ProbeRole::kReadiness:
      return "ReadinessProbe";
    case ProbeRole::kLiveness:
      return "LivenessProbe";
  }
  return "Probe";
}

namespace {

constexpr std::array<ProbeRole, 3> kRoles = {ProbeRole::kStartup, ProbeRole::kReadiness,
                                             ProbeRole::kLiveness};
constexpr unsigned kMaxThreshold = 1000000;

size_t IndexOf(ProbeRole r) { return static_cast<size_t>(r); }

std::optional<ProbeSpec>& ProbeOf(ServiceSpec* spec, ProbeRole r) {
  switch (r) {
    case ProbeRole::kStartup:
      return spec->startup_probe;
    case ProbeRole::kReadiness:
      return spec->readiness_probe;
    case ProbeRole::kLiveness:
      break;
  }
  return spec->liveness_probe;
}

// HOST of a probe URL as written → the address to connect to. Probes run on supd's event loop,
// where a name lookup would block (or need a resolver thread), so only addresses are taken.
Result<std::string> ParseProbeHost(std::string_view host) {
  if (host.empty()) return Error{"the host is missing"};
  if (host.front() == '[') {
    std::string addr(host.substr(1, host.size() - 2));
    in6_addr a6{};
    if (host.back() != ']' || inet_pton(AF_INET6, addr.c_str(), &a6) != 1)
      return Error{"'" + std::string(host) + "' is not an IPv6 address"};
    return addr;
  }
  if (host == "localhost") return std::string("127.0.0.1");
  std::string addr(host);
  in_addr a4{};
  if (inet_pton(AF_INET, addr.c_str(), &a4) != 1) {
    return Error{"'" + addr +
                 "' is not an IP address, and supd does not resolve names for probes: write an "
                 "address (127.0.0.1, [::1]) or localhost"};
  }
  return addr;
}

// HOST:PORT of a probe URL into p->host and p->port.
Result<void> ParseAuthority(std::string_view auth, ProbeSpec* p) {
  if (auth.find('@') != std::string_view::npos)
    return Error{"user information ('user@') is not supported in a probe URL"};
  std::string_view host = auth;
  std::optional<std::string_view> port;
  if (!auth.empty() && auth.front() == '[') {
    const size_t close = auth.find(']');
    if (close == std::string_view::npos)
      return Error{"'" + std::string(auth) + "' is not an IPv6 address"};
    host = auth.substr(0, close + 1);
    std::string_view rest = auth.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return Error{"expected ':PORT' after '" + std::string(host) + "'"};
      port = rest.substr(1);
    }
  } else if (const size_t colon = auth.find(':'); colon != std::string_view::npos) {
    if (auth.find(':', colon + 1) != std::string_view::npos)
      return Error{"an IPv6 address is written in brackets, as in http://[::1]:8080/"};
    host = auth.substr(0, colon);
    port = auth.substr(colon + 1);
  }
  auto addr = ParseProbeHost(host);
  if (!addr.ok()) return addr.take_error();
  // No default port: "http://10.0.0.1/" probing port 80 is rarely what a service listens on.
  if (!port || port->empty()) return Error{"the port is missing (HOST:PORT)"};
  auto n = ParseUnsigned(*port);
  if (!n.ok() || *n < 1 || *n > 65535)
    return Error{"port '" + std::string(*port) + "' is not a number from 1 to 65535"};
  p->host = std::move(*addr);
  p->port = static_cast<uint16_t>(*n);
  return Ok();
}

// An http:// or tcp:// target into *p (kind, host, port, and for http the path and Host:).
// The Error is the reason alone.
Result<void> ParseUrlTarget(std::string_view target, ProbeSpec* p) {
  if (target.starts_with("https://"))
    return Error{"https probes are not supported; probe the plain-HTTP address or use exec:"};
  if (target.starts_with("tcp://")) {
    std::string_view auth = target.substr(6);
    if (auth.find_first_of("/?#") != std::string_view::npos)
      return Error{"a tcp:// target is HOST:PORT, without a path"};
    p->kind = ProbeSpec::Kind::kTcp;
    return ParseAuthority(auth, p);
  }
  if (!target.starts_with("http://"))
    return Error{"expected http://HOST:PORT/PATH, tcp://HOST:PORT or exec:COMMAND"};
  std::string_view rest = target.substr(7);
  // A fragment is never sent to a server: accepting it would suggest it matters.
  if (rest.find('#') != std::string_view::npos)
    return Error{"a fragment ('#...') is not sent to the server; remove it"};
  const size_t end = rest.find_first_of("/?");
  std::string_view auth = rest.substr(0, end);
  std::string path = end == std::string_view::npos ? "/" : std::string(rest.substr(end));
  if (path.front() == '?') path.insert(0, "/");
  // The request line is "GET <path> HTTP/1.1": a space or control byte would break it.
  for (char c : path) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= ' ' || u >= 0x7f) {
      return Error{
          "the path has a space, a control character or a non-ASCII byte; percent-encode it "
          "(written %% in a unit file)"};
    }
  }
  p->kind = ProbeSpec::Kind::kHttp;
  SUPD_TRY(ParseAuthority(auth, p));
  p->path = std::move(path);
  p->host_header = std::string(auth);
  return Ok();
}

// "file:line: Invalid KEY= value 'VALUE': why".
Error InvalidValue(const UnitAssignment& a, const std::string& why) {
  return Error{a.Location() + ": Invalid " + a.key + "= value '" + a.value + "': " + why};
}

// …IntervalSec= and …TimeoutSec= (more than 0), …InitialDelaySec= (zero_ok). Empty: unset.
Result<std::optional<Usec>> ParseProbeSpan(const UnitAssignment& a, bool zero_ok) {
  if (a.value.empty()) return std::optional<Usec>();
  auto t = ParseTimeSpan(a.value);
  if (!t.ok()) return InvalidValue(a, "not a time span (as in 250ms, 1s, 1min)");
  if (*t == kInfinity)
    return InvalidValue(a, zero_ok ? "must be finite (0 for none)" : "must be finite");
  if (!zero_ok && t->count() == 0) return InvalidValue(a, "must be more than 0");
  // Beyond this the scheduler's clock arithmetic would overflow.
  if (*t > std::chrono::hours(24 * 365))
    return InvalidValue(a, "must be at most a year");
  return std::optional<Usec>(*t);
}

// …FailureThreshold= and …SuccessThreshold= (success). Empty: unset.
Result<std::optional<unsigned>> ParseThreshold(const UnitAssignment& a, ProbeRole role,
                                               bool success) {
  if (a.value.empty()) return std::optional<unsigned>();
  auto n = ParseUnsigned(a.value);
  if (!n.ok() || *n < 1 || *n > kMaxThreshold)
    return InvalidValue(a, "not a number from 1 to " + std::to_string(kMaxThreshold));
  // Kubernetes' rule: startup and liveness act on one success (a second one would confirm
  // nothing they act on).
  if (success && role != ProbeRole::kReadiness && *n != 1) {
    return InvalidValue(a, std::string("must be 1 for ") + ProbeRoleName(role) +
                               "= (only ReadinessProbe= may need several successes)");
  }
  return std::optional<unsigned>(*n);
}

}  // namespace

// StartupProbe=, ReadinessProbe=, LivenessProbe=: the target into a ProbeSpec (its settings come
// in FinishProbes()). A second assignment replaces the first.
Result<void> ServiceLoader::HandleProbe(const UnitAssignment& a, ProbeRole role) {
  std::optional<ProbeSpec>& slot = ProbeOf(&spec_, role);
  // As for list settings in systemd: empty resets, so a drop-in can remove a probe.
  if (a.value.empty()) {
    slot.reset();
    return Ok();
  }
  auto target = Resolve(a, a.value);
  if (!target.ok()) return target.take_error();
  ProbeSpec p;
  p.role = role;
  p.target = *target;
  p.source = a.Location();
  auto invalid = [&a](const std::string& why) { return InvalidValue(a, why); };
  if (!std::string_view(a.value).starts_with("exec:")) {
    if (auto url = ParseUrlTarget(*target, &p); !url.ok()) return invalid(url.error().message);
    slot = std::move(p);
    return Ok();
  }
  p.kind = ProbeSpec::Kind::kExec;
  const std::string_view line = std::string_view(a.value).substr(5);
  // The prefixes are refused before ParseExecLine sees them: with '-' it would turn an
  // error into a warning and drop the command, and the others change how it runs.
  std::string_view rest = line;
  auto first = ExtractFirstWord(&rest, kExtractUnquote | kExtractCUnescape);
  if (first.ok() && first->has_value() && !(*first)->empty()) {
    if (**first == ";") return invalid("a probe runs one command; ';' chains are not supported");
    if (std::string_view("-@:+!").find((**first)[0]) != std::string_view::npos)
      return invalid("prefixes (-, @, :, +, !) are not supported on probes");
  }
  ExecLineContext ctx;
  ctx.key = a.key;
  ctx.file = a.file;
  ctx.line = a.line;
  ctx.resolve_specifiers = [this](const std::string& w) { return ResolveSpecifiers(w, data_); };
  ctx.warnings = &spec_.warnings;
  auto cmds = ParseExecLine(line, ctx);
  if (!cmds.ok()) return cmds.take_error();
  if (cmds->empty()) return invalid("exec: needs a command, as in exec:/usr/bin/check --quick");
  if (cmds->size() > 1) return invalid("a probe runs one command; ';' chains are not supported");
  p.command = std::move(cmds->front());
  slot = std::move(p);
  return Ok();
}

void ServiceLoader::RegisterProbeHandlers() {
  auto& h = handlers_;
  for (ProbeRole role : kRoles) {
    const std::string name = ProbeRoleName(role);
    ProbeSettings* settings = &probe_settings_[IndexOf(role)];
    h["X-Supd." + name] = [this, role](const UnitAssignment& a) { return HandleProbe(a, role); };

    // Every setting is checked on its line and remembered with it, for the warning if the probe
    // never comes; an empty value goes back to the default.
    auto setting = [name, settings](auto* out, auto parse) -> Handler {
      return [name, settings, out, parse](const UnitAssignment& a) -> Result<void> {
        auto v = parse(a);
        if (!v.ok()) return v.take_error();
        *out = *v;
        if (out->has_value()) {
          settings->without_probe.push_back(
              Diagnostic{a.file, a.line, a.key + "= has no effect without " + name + "="});
        }
        return Ok();
      };
    };
    auto span = [](bool zero_ok) {
      return [zero_ok](const UnitAssignment& a) { return ParseProbeSpan(a, zero_ok); };
    };
    auto threshold = [role](bool success) {
      return [role, success](const UnitAssignment& a) { return ParseThreshold(a, role, success); };
    };
    // A floor: checks more often than every 10ms tell nothing new and load supd's loop.
    h["X-Supd." + name + "IntervalSec"] =
        setting(&settings->interval, [](const UnitAssignment& a) -> Result<std::optional<Usec>> {
          auto t = ParseProbeSpan(a, /*zero_ok=*/false);
          if (t.ok() && *t && **t < std::chrono::milliseconds(10))
            return InvalidValue(a, "must be at least 10ms");
          return t;
        });
    h["X-Supd." + name + "TimeoutSec"] = setting(&settings->timeout, span(false));
    h["X-Supd." + name + "InitialDelaySec"] = setting(&settings->initial_delay, span(true));
    h["X-Supd." + name + "FailureThreshold"] =
        setting(&settings->failure_threshold, threshold(false));
    h["X-Supd." + name + "SuccessThreshold"] =
        setting(&settings->success_threshold, threshold(true));
  }

  h["X-Supd.MinReadySec"] = [this](const UnitAssignment& a) -> Result<void> {
    spec_.min_ready = Usec{0};
    min_ready_at_.reset();
    if (a.value.empty()) return Ok();
    auto t = ParseTimeSpan(a.value);
    if (!t.ok()) return InvalidValue(a, "not a time span (as in 250ms, 1s, 1min)");
    if (*t == kInfinity) return InvalidValue(a, "must be finite (0 for none)");
    spec_.min_ready = *t;
    if (t->count() > 0) {
      min_ready_at_ = Diagnostic{
          a.file, a.line,
          "MinReadySec=" + a.value +
              " needs ReadinessProbe=: it is how long the readiness probe must keep passing"};
    }
    return Ok();
  };
}

Result<void> ServiceLoader::FinishProbes() {
  for (ProbeRole role : kRoles) {
    std::optional<ProbeSpec>& probe = ProbeOf(&spec_, role);
    ProbeSettings& s = probe_settings_[IndexOf(role)];
    if (!probe) {
      for (Diagnostic& d : s.without_probe) spec_.warnings.push_back(std::move(d));
      continue;
    }
    if (spec_.type == ServiceType::kOneshot) {
      return Error{probe->source + ": " + ProbeRoleName(role) + "=" + probe->target +
                   " is not allowed for Type=oneshot services: a oneshot has no long-running "
                   "process to probe"};
    }
    probe->interval = s.interval.value_or(probe->interval);
    probe->timeout = s.timeout.value_or(probe->timeout);
    probe->initial_delay = s.initial_delay.value_or(probe->initial_delay);
    probe->failure_threshold = s.failure_threshold.value_or(probe->failure_threshold);
    probe->success_threshold = s.success_threshold.value_or(probe->success_threshold);
  }
  if (min_ready_at_ && !spec_.readiness_probe) return Error{min_ready_at_->ToString()};
  return Ok();
}

}  // namespace supd
