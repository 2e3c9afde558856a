#include "lib/unit/log_settings.h"

#include <charconv>
#include <string>

namespace supd {

Result<uint64_t> ParseByteSize(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  uint64_t value = 0;
  auto r = std::from_chars(text.data(), text.data() + text.size(), value);
  if (r.ec != std::errc() || r.ptr == text.data())
    return Error{"'" + std::string(text) + "' is not a size (bytes, or with K, M, G, T)"};
  std::string_view unit = text.substr(static_cast<size_t>(r.ptr - text.data()));
  while (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
  unsigned shift = 0;
  if (unit.empty() || unit == "B") shift = 0;
  else if (unit == "K") shift = 10;
  else if (unit == "M") shift = 20;
  else if (unit == "G") shift = 30;
  else if (unit == "T") shift = 40;
  else return Error{"'" + std::string(text) + "' is not a size (bytes, or with K, M, G, T)"};
  if (shift > 0 && value > (UINT64_MAX >> shift)) return Error{"size '" + std::string(text) + "' is too large"};
  value <<= shift;
  if (value == 0) return Error{"size must be at least 1 byte"};
  return value;
}

}  // namespace supd
