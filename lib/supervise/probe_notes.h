// What `supctl check` says about a unit's probes beside the sockets supd holds for it.
//
// An http:// or tcp:// probe of an address that one of the held sockets serves is answered by
// whichever instance accepts the connection: during an overlap restart, possibly the old one.
// Such a probe cannot gate an overlap restart (ProbeGateTellsInstances); the note says what
// supd does instead, so that nobody relies on it for what it cannot tell. A tcp:// probe of
// such an address tells nothing at all: the kernel completes the connection into the held
// socket's backlog whether or not a service accepts it.
#pragma once

#include <string>
#include <vector>

#include "lib/unit/service_spec.h"

namespace supd {

// `held`: the identities of the sockets supd holds for the service ("tcp:127.0.0.1:8080",
// "tcp6:[::]:8080", see BoundSocket::identity). One note per probe that probes one of them.
std::vector<std::string> ProbeCheckNotes(const ServiceSpec& spec,
                                         const std::vector<std::string>& held);

// The held socket (its identity) that answers connections to `probe`'s address, "" if none:
// the same port on the same address or on a wildcard address (0.0.0.0, ::) of the family.
std::string HeldSocketProbed(const ProbeSpec& probe, const std::vector<std::string>& held);

}  // namespace supd
