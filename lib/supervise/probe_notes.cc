#include "lib/supervise/probe_notes.h"

#include <string_view>

#include "lib/supervise/service_fsm.h"

namespace supd {
namespace {

// "tcp:127.0.0.1:8080" → {"127.0.0.1", "8080"}; "tcp6:[::]:8080" → {"::", "8080"}; false for
// other kinds.
bool SplitTcpIdentity(std::string_view id, std::string_view* host, std::string_view* port) {
  if (id.starts_with("tcp:")) {
    id.remove_prefix(4);
  } else if (id.starts_with("tcp6:")) {
    id.remove_prefix(5);
  } else {
    return false;
  }
  const size_t colon = id.rfind(':');
  if (colon == std::string_view::npos) return false;
  *host = id.substr(0, colon);
  *port = id.substr(colon + 1);
  if (host->size() >= 2 && host->front() == '[' && host->back() == ']')
    *host = host->substr(1, host->size() - 2);
  return true;
}

}  // namespace

std::string HeldSocketProbed(const ProbeSpec& probe, const std::vector<std::string>& held) {
  if (probe.kind == ProbeSpec::Kind::kExec) return "";
  const bool v6 = probe.host.find(':') != std::string::npos;
  for (const std::string& id : held) {
    std::string_view host, port;
    if (!SplitTcpIdentity(id, &host, &port) || port != std::to_string(probe.port)) continue;
    // A dual-stack [::] socket also answers IPv4 connections.
    if (host == probe.host || host == "::" || (!v6 && host == "0.0.0.0")) return id;
  }
  return "";
}

std::vector<std::string> ProbeCheckNotes(const ServiceSpec& spec,
                                         const std::vector<std::string>& held) {
  std::vector<std::string> notes;
  const bool notify =
      spec.type == ServiceType::kNotify || spec.type == ServiceType::kNotifyReload;
  for (const auto* p : {&spec.startup_probe, &spec.readiness_probe}) {
    if (!*p) continue;
    const std::string socket = HeldSocketProbed(**p, held);
    if (socket.empty()) continue;
    std::string note = std::string(ProbeRoleName((*p)->role)) + "=" + (*p)->target + " (" +
                       (*p)->source + ") probes " + socket +
                       ", a socket supd holds for every instance: it cannot tell a new "
                       "instance from the old one. ";
    if ((*p)->kind == ProbeSpec::Kind::kTcp) {
      // The kernel completes connections into the backlog of a socket someone holds open,
      // whether or not the service accepts them.
      note += "And a tcp:// probe of it always passes, even before the service accepts a "
              "connection: probe with http:// or exec: instead.";
    } else if (ProbeGateTellsInstances(spec)) {
      note += "The exec: readiness probe gates overlap restarts.";
    } else if (notify) {
      note += "An overlap restart waits for READY=1 only; an exec: readiness probe (it gets "
              "the new instance's $MAINPID) would gate it.";
    } else {
      note += "A restart stops the old instance first (requests wait on the socket) and ends "
              "once the new one passes the probe.";
    }
    notes.push_back(std::move(note));
  }
  return notes;
}

}  // namespace supd
