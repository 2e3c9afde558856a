// Reading the status and version replies for display: a missing or mistyped field shows as
// empty, never throws (the reply may come from another supd version).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace supd::control {

// j[key] if it is a string, else "".
inline std::string Str(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return "";
  return it->get<std::string>();
}

}  // namespace supd::control
