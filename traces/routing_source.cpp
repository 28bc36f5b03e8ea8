#include "traces/routing_source.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <numeric>
#include <vector>

namespace vibesim {

void rescale_counts(std::span<std::int32_t> counts, std::int64_t target, std::int64_t cap) {
  const std::int64_t total = std::accumulate(counts.begin(), counts.end(), std::int64_t{0});
  assert(total > 0 && target <= cap * static_cast<std::int64_t>(counts.size()));
  if (total == target) return;
  const double scale = static_cast<double>(target) / static_cast<double>(total);
  std::vector<std::pair<double, std::size_t>> remainders;
  remainders.reserve(counts.size());
  std::int64_t assigned = 0;
  for (std::size_t e = 0; e < counts.size(); ++e) {
    const double exact = std::min(static_cast<double>(cap), counts[e] * scale);
    const auto whole = static_cast<std::int32_t>(std::floor(exact));
    counts[e] = whole;
    assigned += whole;
    remainders.emplace_back(exact - whole, e);
  }
  std::stable_sort(remainders.begin(), remainders.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  // Hand out the rest one token at a time by remainder; loops again if caps block.
  for (std::size_t i = 0; assigned < target; i = (i + 1) % remainders.size()) {
    auto& c = counts[remainders[i].second];
    if (c < cap) {
      ++c;
      ++assigned;
    }
  }
}

}  // namespace vibesim
