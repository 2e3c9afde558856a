// The human form of a socket unit in `supctl status`, modelled on `systemctl status x.socket`:
//
//   ● web.socket - the web socket
//        Loaded: units/web.socket (enabled)
//        Active: listening (running) since 2026-12-02T16:00:00.000000Z
//      Triggers: web.service (running)
//        Listen: tcp:127.0.0.1:8080 (fd name http; 0 of 4096 queued)
//     Activated: 2 times by a waiting connection
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace supd::control {

// One socket object of the status reply → lines of text (newline-terminated).
std::string FormatSocketStatus(const nlohmann::json& s);

}  // namespace supd::control
