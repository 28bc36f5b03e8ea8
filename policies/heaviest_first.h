#pragma once
// The order the packing heuristics (eplb, vibe, latency_lpt, flashlb) take
// items in: descending weight, the lower index first among equal weights (a
// stable sort's order). Weights must not be NaN.
#include <span>
#include <vector>

namespace vibesim {

// Indices of `weight`, heaviest first.
[[nodiscard]] std::vector<int> heaviest_first(std::span<const double> weight);

}  // namespace vibesim
