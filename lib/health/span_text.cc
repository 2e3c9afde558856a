#include "lib/health/span_text.h"

namespace supd {

std::string FormatProbeSpan(Usec span) {
  if (span == kInfinity) return "infinity";
  const long long us = span.count();
  if (us < 1000) return std::to_string(us) + "us";
  const long long ms = us / 1000;
  if (ms < 1000) return std::to_string(ms) + "ms";
  std::string out = std::to_string(ms / 1000);
  if (const long long frac = ms % 1000; frac != 0) {
    std::string digits = std::to_string(frac);
    digits.insert(0, 3 - digits.size(), '0');
    while (digits.back() == '0') digits.pop_back();
    out += '.';
    out += digits;
  }
  out += 's';
  return out;
}

}  // namespace supd
