// The human form of `supctl status NAME.target`, in systemctl's shape:
//   ● myapp.target - My application
//        Loaded: loaded (/etc/supd/units/myapp.target; enabled)
//        Active: active since 2026-12-03T10:00:00.000000Z
//       Members: api.service (running)
//                db.service (running)
// with " Dependency:" / "        Job:" lines (FormatDependencyLines) and warnings when there are.
// Reads the "target" objects of the status reply (TargetJson); never throws on a missing field.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace supd::control {

// Several lines, newline-terminated.
std::string FormatTargetStatus(const nlohmann::json& t);

}  // namespace supd::control
