#include "lib/base/closest_name.h"

#include <algorithm>
#include <numeric>

namespace supd {
namespace {

std::string_view Stem(std::string_view name) {
  const size_t dot = name.rfind('.');
  return dot == std::string_view::npos ? name : name.substr(0, dot);
}

std::string_view Suffix(std::string_view name) {
  const size_t dot = name.rfind('.');
  return dot == std::string_view::npos ? std::string_view() : name.substr(dot);
}

size_t Allowed(size_t length) { return length <= 4 ? 1 : length <= 8 ? 2 : 3; }

}  // namespace

size_t EditDistance(std::string_view a, std::string_view b) {
  // Three rows: the one before the previous is needed for transpositions.
  std::vector<size_t> before(b.size() + 1), previous(b.size() + 1), row(b.size() + 1);
  std::iota(previous.begin(), previous.end(), size_t{0});
  for (size_t i = 1; i <= a.size(); ++i) {
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      row[j] = std::min({previous[j] + 1, row[j - 1] + 1, previous[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        row[j] = std::min(row[j], before[j - 2] + 1);
    }
    before.swap(previous);
    previous.swap(row);
  }
  return previous[b.size()];
}

std::optional<std::string> ClosestName(std::string_view wanted,
                                       const std::vector<std::string>& candidates) {
  std::optional<std::string> best;
  size_t best_distance = 0;
  for (const auto& c : candidates) {
    if (c == wanted) return std::nullopt;
    const bool same_suffix = Suffix(c) == Suffix(wanted);
    const std::string_view a = same_suffix ? Stem(wanted) : wanted;
    const std::string_view b = same_suffix ? Stem(c) : std::string_view(c);
    const size_t d = EditDistance(a, b);
    if (d == 0 || d > Allowed(std::max(a.size(), b.size()))) continue;
    if (!best || d < best_distance) {
      best = c;
      best_distance = d;
    }
  }
  return best;
}

}  // namespace supd
