// The name a user probably meant: for "Unit helo.service not found. Did you mean
// hello.service?" hints.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace supd {

// Edit distance with adjacent transpositions (optimal string alignment): "helo"/"hello" 1,
// "wbe"/"web" 1.
size_t EditDistance(std::string_view a, std::string_view b);

// The candidate closest to `wanted`, when it is close enough to be a typo: at most 1 edit for
// names of up to 4 characters, 2 up to 8, 3 beyond (counted on the part before the last '.',
// when both have the same suffix; otherwise on the whole name). A tie goes to the first in
// `candidates`. Nothing when no candidate is close or `wanted` is itself a candidate.
std::optional<std::string> ClosestName(std::string_view wanted,
                                       const std::vector<std::string>& candidates);

}  // namespace supd
