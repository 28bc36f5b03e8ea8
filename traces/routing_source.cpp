#include "traces/routing_source.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <vector>

namespace vibesim {

namespace {

// Largest remainder: each expert gets floor(count * scale), then one more in
// order of remainder (largest first, lowest index among ties), skipping capped
// experts and going round again until the target is met.
void rescale_largest_remainder(std::span<std::int32_t> counts, std::int64_t target,
                               std::int64_t cap, std::int64_t total) {
  const double scale = static_cast<double>(target) / static_cast<double>(total);
  std::vector<std::pair<double, std::size_t>> remainders;
  std::int64_t assigned = 0;
  for (std::size_t e = 0; e < counts.size(); ++e) {
    const double exact = std::min(static_cast<double>(cap), counts[e] * scale);
    const auto whole = static_cast<std::int32_t>(exact);  // exact >= 0: truncation is floor
    counts[e] = whole;
    assigned += whole;
    remainders.emplace_back(exact - whole, e);
  }
  std::sort(remainders.begin(), remainders.end(), [](const auto& a, const auto& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  });
  for (std::size_t i = 0; assigned < target; i = (i + 1) % remainders.size()) {
    auto& c = counts[remainders[i].second];
    if (c < cap) {
      ++c;
      ++assigned;
    }
  }
}

}  // namespace

void rescale_counts(std::span<std::int32_t> counts, std::int64_t target, std::int64_t cap) {
  const std::int64_t total = std::accumulate(counts.begin(), counts.end(), std::int64_t{0});
  assert(total > 0 && target <= cap * static_cast<std::int64_t>(counts.size()));
  assert(counts.size() < (1u << 20));
  if (total == target) return;
  // Cumulative rounding: expert e gets round(S_e t / T) - round(S_(e-1) t / T),
  // S the running sum of counts. One integer pass, exact total, each expert
  // within one of its exact share. If that exceeds a cap, largest remainder.
  thread_local std::vector<std::int32_t> original;
  original.assign(counts.begin(), counts.end());
  __extension__ typedef unsigned __int128 Wide;  // running * target can pass 2^63
  const auto rounded = [&](std::int64_t running) {
    return static_cast<std::int64_t>((Wide(running) * Wide(target) * 2 + Wide(total)) /
                                     (Wide(total) * 2));
  };
  std::int64_t running = 0, previous = 0;
  bool over_cap = false;
  for (auto& c : counts) {
    running += c;
    const std::int64_t now = rounded(running);
    c = static_cast<std::int32_t>(now - previous);
    over_cap |= c > cap;
    previous = now;
  }
  if (!over_cap) return;
  std::copy(original.begin(), original.end(), counts.begin());
  rescale_largest_remainder(counts, target, cap, total);
}

}  // namespace vibesim
