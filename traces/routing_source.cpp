#include "traces/routing_source.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <cmath>
#include <cstdint>
#include <functional>
#include <numeric>
#include <vector>

namespace vibesim {

void rescale_counts(std::span<std::int32_t> counts, std::int64_t target, std::int64_t cap) {
  const std::int64_t total = std::accumulate(counts.begin(), counts.end(), std::int64_t{0});
  assert(total > 0 && target <= cap * static_cast<std::int64_t>(counts.size()));
  assert(counts.size() < (1u << 20));
  if (total == target) return;
  const double scale = static_cast<double>(target) / static_cast<double>(total);
  // One integer key per expert: the remainder's top 40 bits, then the
  // complement of the index, so "largest remainder, lowest index among ties"
  // is plain descending order and selection needs no full sort.
  const auto key_of = [](double remainder, std::size_t e) {
    const auto bits = static_cast<std::uint64_t>(remainder * 1099511627776.0);  // 2^40
    return (std::min<std::uint64_t>(bits, (1ULL << 40) - 1) << 20) |
           ((1u << 20) - 1 - static_cast<std::uint64_t>(e));
  };
  thread_local std::vector<std::uint64_t> keys;
  thread_local std::vector<std::int32_t> original;
  keys.resize(counts.size());
  original.assign(counts.begin(), counts.end());
  std::int64_t assigned = 0;
  for (std::size_t e = 0; e < counts.size(); ++e) {
    const double exact = std::min(static_cast<double>(cap), counts[e] * scale);
    const auto whole = static_cast<std::int32_t>(exact);  // exact >= 0: truncation is floor
    counts[e] = whole;
    assigned += whole;
    keys[e] = key_of(exact - whole, e);
  }
  const auto index_of = [](std::uint64_t key) {
    return static_cast<std::size_t>((1u << 20) - 1 - (key & ((1u << 20) - 1)));
  };
  const auto deficit = static_cast<std::size_t>(target - assigned);
  if (deficit < keys.size()) {
    // The `deficit` largest keys, in O(E): a histogram of the remainders' top
    // 8 bits finds the bin where the cut falls; only that bin is sorted.
    std::array<std::uint32_t, 256> bins{};
    const auto bin_of = [](std::uint64_t key) { return static_cast<std::size_t>(key >> 52); };
    for (auto key : keys) ++bins[bin_of(key)];
    std::size_t cut = 256, above = 0;
    while (cut > 0 && above + bins[cut - 1] < deficit) above += bins[--cut];
    // Bins >= cut are taken whole; from bin cut - 1 the (deficit - above) largest.
    thread_local std::vector<std::uint64_t> edge;
    edge.clear();
    bool capped = false;
    std::size_t taken = 0;
    for (auto key : keys) {
      if (bin_of(key) >= cut) {
        capped |= counts[index_of(key)] >= cap;
        keys[taken++] = key;  // compacts the selected keys to the front (taken <= scan position)
      } else if (cut > 0 && bin_of(key) == cut - 1) {
        edge.push_back(key);
      }
    }
    const std::size_t need = deficit - taken;
    std::partial_sort(edge.begin(), edge.begin() + static_cast<std::ptrdiff_t>(need), edge.end(),
                      std::greater<>());
    for (std::size_t i = 0; i < need; ++i) capped |= counts[index_of(edge[i])] >= cap;
    if (!capped) {
      for (std::size_t i = 0; i < taken; ++i) ++counts[index_of(keys[i])];
      for (std::size_t i = 0; i < need; ++i) ++counts[index_of(edge[i])];
      return;
    }
    // A cap blocks one of them: rebuild the keys and fall back to the full order.
    keys.resize(counts.size());
    for (std::size_t e = 0; e < counts.size(); ++e) {
      const double exact = std::min(static_cast<double>(cap), original[e] * scale);
      const auto whole = static_cast<std::int32_t>(exact);
      keys[e] = key_of(exact - whole, e);
    }
  }
  std::sort(keys.begin(), keys.end(), std::greater<>());
  // Hand out the rest one token at a time by remainder; loops again if caps block.
  for (std::size_t i = 0; assigned < target; i = (i + 1) % keys.size()) {
    auto& c = counts[index_of(keys[i])];
    if (c < cap) {
      ++c;
      ++assigned;
    }
  }
}

}  // namespace vibesim
