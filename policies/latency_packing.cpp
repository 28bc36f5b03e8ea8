#include "policies/latency_packing.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>

namespace vibesim {

namespace {

// The best exchange of `k` items (k = 1 or 2) of GPU `hot` with `k` items of
// GPU `other` that brings the pair's larger latency below `bound`.
struct Exchange {
  std::size_t other = 0;
  int k = 0;  // items exchanged each way: slots [0, k) of the arrays below
  std::array<std::size_t, 2> hot_slots{}, other_slots{};
  double pair_max = 0;
};

void search_exchanges(const GpuBins& bins, std::span<const double> weight,
                      std::span<const LatencyCurve> f, std::size_t hot, std::size_t other, int k,
                      const ForbiddenMove& forbidden, Exchange& best, bool& found) {
  const auto& h = bins.items[hot];
  const auto& o = bins.items[other];
  const auto w = [&](int item) { return weight[static_cast<std::size_t>(item)]; };
  const auto allowed = [&](int a, int b) {
    return !(forbidden &&
             (forbidden(a, static_cast<int>(other)) || forbidden(b, static_cast<int>(hot))));
  };
  // The pair's larger latency must beat the best so far. The partner's side
  // usually fails (it gains work), so it is checked first: without evaluating
  // its curve where `delta` is surely past the bound, then on the curve.
  const double other_tokens = bins.tokens[other];
  double skip_above = 0;
  const auto update_skip = [&] {
    const double x = f[other].tokens_surely_reaching(other_tokens, best.pair_max - 1e-9);
    const double d = x - other_tokens;          // +inf when nothing can be skipped
    skip_above = d + 1e-6 * (1 + std::abs(d));  // past x even after rounding To + delta
  };
  update_skip();
  // Candidates are plain values (no allocation in the innermost loop).
  auto consider = [&](double delta, std::array<std::size_t, 2> hs, std::array<std::size_t, 2> os) {
    if (delta <= 0) return;  // moving more work onto the hot GPU cannot help it
    if (delta > skip_above) return;
    const double bound = best.pair_max - 1e-9;
    const double other_latency = f[other].latency_ns(other_tokens + delta);
    if (other_latency >= bound) return;
    const double pair_max = std::max(f[hot].latency_ns(bins.tokens[hot] - delta), other_latency);
    if (pair_max >= bound) return;
    for (int i = 0; i < k; ++i)
      if (!allowed(h[hs[static_cast<std::size_t>(i)]], o[os[static_cast<std::size_t>(i)]])) return;
    best = {other, k, hs, os, pair_max};
    found = true;
    update_skip();
  };
  if (k == 1) {
    for (std::size_t i = 0; i < h.size(); ++i)
      for (std::size_t j = 0; j < o.size(); ++j) consider(w(h[i]) - w(o[j]), {i, 0}, {j, 0});
    return;
  }
  for (std::size_t i1 = 0; i1 < h.size(); ++i1)
    for (std::size_t i2 = i1 + 1; i2 < h.size(); ++i2)
      for (std::size_t j1 = 0; j1 < o.size(); ++j1)
        for (std::size_t j2 = j1 + 1; j2 < o.size(); ++j2)
          consider(w(h[i1]) + w(h[i2]) - w(o[j1]) - w(o[j2]), {i1, i2}, {j1, j2});
}

}  // namespace

int improve_by_swaps(GpuBins& bins, std::span<const double> weight, std::span<const LatencyCurve> f,
                     double epsilon, bool any_partner, int max_swaps, int pair_swap_items,
                     const ForbiddenMove& forbidden) {
  const auto g_count = bins.tokens.size();
  std::vector<double> latency(g_count);
  int swaps = 0;
  while (swaps < max_swaps) {
    for (std::size_t g = 0; g < g_count; ++g) latency[g] = f[g].latency_ns(bins.tokens[g]);
    const auto hot = static_cast<std::size_t>(std::max_element(latency.begin(), latency.end()) -
                                              latency.begin());
    const double mean =
        std::accumulate(latency.begin(), latency.end(), 0.0) / static_cast<double>(g_count);
    if (latency[hot] <= (1 + epsilon) * mean) break;
    const auto cold = static_cast<std::size_t>(std::min_element(latency.begin(), latency.end()) -
                                               latency.begin());
    Exchange best;
    best.pair_max = latency[hot];
    bool found = false;
    for (int k = 1; k <= 2 && !found; ++k) {
      for (std::size_t other = 0; other < g_count; ++other) {
        if (other == hot || (!any_partner && other != cold)) continue;
        if (k == 2 && (static_cast<int>(bins.items[hot].size()) > pair_swap_items ||
                       static_cast<int>(bins.items[other].size()) > pair_swap_items))
          continue;
        search_exchanges(bins, weight, f, hot, other, k, forbidden, best, found);
      }
    }
    if (!found) break;
    for (std::size_t i = 0; i < static_cast<std::size_t>(best.k); ++i) {
      auto& a = bins.items[hot][best.hot_slots[i]];
      auto& b = bins.items[best.other][best.other_slots[i]];
      const double delta =
          weight[static_cast<std::size_t>(a)] - weight[static_cast<std::size_t>(b)];
      bins.tokens[hot] -= delta;
      bins.tokens[best.other] += delta;
      std::swap(a, b);
    }
    ++swaps;
  }
  return swaps;
}

std::vector<LatencyCurve> with_all_to_all(std::span<const LatencyCurve> f, double ns_per_token) {
  std::vector<LatencyCurve> out;
  for (const auto& fg : f) {
    auto latency = fg.latency_points_ns();
    for (std::size_t i = 0; i < latency.size(); ++i) latency[i] += ns_per_token * fg.tokens()[i];
    out.emplace_back(fg.tokens(), std::move(latency));
  }
  return out;
}

std::vector<double> replica_weights(std::span<const int> item_expert,
                                    std::span<const double> expert_loads) {
  std::vector<int> count(expert_loads.size(), 0);
  for (int e : item_expert) ++count[static_cast<std::size_t>(e)];
  std::vector<double> weight;
  weight.reserve(item_expert.size());
  for (int e : item_expert)
    weight.push_back(expert_loads[static_cast<std::size_t>(e)] /
                     count[static_cast<std::size_t>(e)]);
  return weight;
}

ForbiddenMove no_two_replicas_per_gpu(const GpuBins& bins, std::span<const int> item_expert) {
  return [&bins, item_expert](int item, int gpu) {
    const int expert = item_expert[static_cast<std::size_t>(item)];
    for (int other : bins.items[static_cast<std::size_t>(gpu)])
      if (item_expert[static_cast<std::size_t>(other)] == expert) return true;
    return false;
  };
}

std::vector<int> slots_of(const GpuBins& bins, std::span<const int> item_expert) {
  std::vector<int> slots;
  for (const auto& gpu : bins.items)
    for (int item : gpu) slots.push_back(item_expert[static_cast<std::size_t>(item)]);
  return slots;
}

}  // namespace vibesim
