#include "traces/routing_source.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <type_traits>
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

// Cumulative rounding in the integer type `Int`, wide enough for
// running * target * 2 + total; false (counts half-written) if an expert
// would exceed `cap`.
template <typename Int>
bool rescale_cumulative(std::span<std::int32_t> counts, std::int64_t target, std::int64_t cap,
                        std::int64_t total) {
  const Int denominator = Int(total) * 2;
  const double reciprocal = 1.0 / static_cast<double>(denominator);
  const auto rounded = [&](std::int64_t running) {
    const Int numerator = Int(running) * Int(target) * 2 + Int(total);
    if constexpr (!std::is_same_v<Int, std::int64_t>) {
      return static_cast<std::int64_t>(numerator / denominator);  // rare: exact divide
    } else {
      // The quotient from a floating-point reciprocal, corrected to the exact
      // integer one (a divide per expert was a tenth of a serving run).
      auto q = static_cast<Int>(static_cast<double>(numerator) * reciprocal);
      while (q * denominator > numerator) --q;
      while ((q + 1) * denominator <= numerator) ++q;
      return q;
    }
  };
  std::int64_t running = 0, previous = 0;
  for (auto& c : counts) {
    running += c;
    const std::int64_t now = rounded(running);
    c = static_cast<std::int32_t>(now - previous);
    if (c > cap) return false;
    previous = now;
  }
  return true;
}

}  // namespace

void rescale_counts(std::span<std::int32_t> counts, std::int64_t target, std::int64_t cap) {
  std::int64_t total = 0, largest = 0;
  for (const auto c : counts) {
    total += c;
    largest = std::max<std::int64_t>(largest, c);
  }
  assert(total > 0 && target <= cap * static_cast<std::int64_t>(counts.size()));
  assert(counts.size() < (1u << 20));
  if (total == target) return;
  // Cumulative rounding: expert e gets round(S_e t / T) - round(S_(e-1) t / T),
  // S the running sum of counts. One integer pass, exact total, each expert
  // within one of its exact share. If that exceeds a cap, largest remainder.
  // An expert gets at most ceil(largest * t / T) + 1 <= largest * t / T + 2:
  // below the cap, no copy of the counts is needed to fall back on.
  const bool may_pass_cap =
      static_cast<double>(largest) * static_cast<double>(target) / static_cast<double>(total) + 2 >
      static_cast<double>(cap);
  thread_local std::vector<std::int32_t> original;
  if (may_pass_cap) original.assign(counts.begin(), counts.end());
  // 64-bit arithmetic where running * target * 2 + total cannot overflow
  // (running <= total), else 128-bit; both give the same integers.
  __extension__ typedef unsigned __int128 Wide;
  const bool narrow = target <= (std::numeric_limits<std::int64_t>::max() / 4) / total;
  if (narrow ? rescale_cumulative<std::int64_t>(counts, target, cap, total)
             : rescale_cumulative<Wide>(counts, target, cap, total))
    return;
  assert(may_pass_cap);
  std::copy(original.begin(), original.end(), counts.begin());
  rescale_largest_remainder(counts, target, cap, total);
}

}  // namespace vibesim
