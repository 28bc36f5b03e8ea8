// The swap search of policies/latency_packing against brute force.
#include <doctest/doctest.h>

#include <algorithm>
#include <limits>
#include <random>

#include "base/random_engine.h"
#include "policies/latency_packing.h"

using namespace vibesim;

TEST_CASE("one swap-search step finds the best single exchange that brute force finds") {
  RandomEngine rng(7);
  std::uniform_real_distribution<double> weight(1, 100), speed(0.7, 1.3), fixed(0, 500);
  for (int trial = 0; trial < 200; ++trial) {
    // 6 GPUs x 5 items; rising piecewise-linear curves of different speeds.
    const std::size_t gpus = 6, per_gpu = 5;
    std::vector<double> w(gpus * per_gpu);
    for (auto& x : w) x = weight(rng);
    std::vector<LatencyCurve> f;
    for (std::size_t g = 0; g < gpus; ++g) {
      const double s = speed(rng), base = fixed(rng);
      f.emplace_back(std::vector<double>{0, 200, 400, 1000},
                     std::vector<double>{base, base + 200 / s, base + 500 / s, base + 1800 / s});
    }
    GpuBins bins{std::vector<std::vector<int>>(gpus), std::vector<double>(gpus, 0)};
    for (std::size_t i = 0; i < w.size(); ++i) {
      bins.items[i / per_gpu].push_back(static_cast<int>(i));
      bins.tokens[i / per_gpu] += w[i];
    }
    std::vector<double> latency(gpus);
    for (std::size_t g = 0; g < gpus; ++g) latency[g] = f[g].latency_ns(bins.tokens[g]);
    const auto hot = static_cast<std::size_t>(std::max_element(latency.begin(), latency.end()) -
                                              latency.begin());
    double brute = latency[hot];
    for (std::size_t o = 0; o < gpus; ++o) {
      if (o == hot) continue;
      for (int a : bins.items[hot])
        for (int b : bins.items[o]) {
          const double d = w[static_cast<std::size_t>(a)] - w[static_cast<std::size_t>(b)];
          if (d <= 0) continue;
          brute = std::min(brute, std::max(f[hot].latency_ns(bins.tokens[hot] - d),
                                           f[o].latency_ns(bins.tokens[o] + d)));
        }
    }
    const auto before = bins.tokens;
    const int swaps = improve_by_swaps(bins, w, f, 0.0, /*any_partner=*/true, /*max_swaps=*/1,
                                       /*pair_swap_items=*/0, nullptr);
    double found = latency[hot];
    for (std::size_t o = 0; o < gpus; ++o)
      if (o != hot && bins.tokens[o] != before[o])
        found = std::max(f[hot].latency_ns(bins.tokens[hot]), f[o].latency_ns(bins.tokens[o]));
    INFO("trial ", trial);
    CHECK(swaps == (brute < latency[hot] - 1e-9 ? 1 : 0));
    CHECK(found == doctest::Approx(brute).epsilon(1e-12));
  }
}

namespace {

// The lowest larger-latency of the hot GPU and a partner over every allowed
// exchange of k items each way (k = 1, or 2 where no single one helps), by
// brute force; the hot GPU's latency when none helps.
double brute_force_best(const GpuBins& bins, const std::vector<double>& w,
                        const std::vector<LatencyCurve>& f, std::size_t hot,
                        const ForbiddenMove& forbidden) {
  const double start = f[hot].latency_ns(bins.tokens[hot]);
  double best = start;
  const auto sets = [&](std::size_t g, int k) {
    std::vector<std::vector<int>> out;
    const auto& items = bins.items[g];
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (k == 1) out.push_back({items[i]});
      for (std::size_t j = i + 1; k == 2 && j < items.size(); ++j)
        out.push_back({items[i], items[j]});
    }
    return out;
  };
  const auto weight = [&](const std::vector<int>& set) {
    double sum = 0;
    for (int i : set) sum += w[static_cast<std::size_t>(i)];
    return sum;
  };
  for (int k = 1; k <= 2 && best == start; ++k)
    for (std::size_t o = 0; o < bins.items.size(); ++o) {
      if (o == hot) continue;
      for (const auto& a : sets(hot, k))
        for (const auto& b : sets(o, k)) {
          const double d = weight(a) - weight(b);
          if (d <= 0) continue;
          bool allowed = true;
          for (std::size_t i = 0; i < a.size(); ++i)
            allowed = allowed && !forbidden(a[i], static_cast<int>(o)) &&
                      !forbidden(b[i], static_cast<int>(hot));
          const double pair = std::max(f[hot].latency_ns(bins.tokens[hot] - d),
                                       f[o].latency_ns(bins.tokens[o] + d));
          if (allowed && pair < best - 1e-9) best = pair;
        }
    }
  return best;
}

}  // namespace

TEST_CASE("the swap search matches brute force with flat steps, dips, pairs and forbidden moves") {
  RandomEngine rng(11);
  std::uniform_int_distribution<int> weight(1, 40);  // integers: many equal shifts
  std::uniform_real_distribution<double> speed(0.7, 1.3), fixed(0, 300);
  int dips_in_reach = 0, pair_swaps = 0, forbidden_mattered = 0;
  for (int trial = 0; trial < 400; ++trial) {
    const std::size_t gpus = 5, per_gpu = 4, experts = 14;  // 20 items: some experts twice
    std::vector<double> w(gpus * per_gpu);
    std::vector<int> item_expert(w.size());
    for (std::size_t i = 0; i < w.size(); ++i) {
      w[i] = weight(rng);
      item_expert[i] = static_cast<int>(i % experts);
    }
    // Flat steps (latency constant between 40 and 80 tokens); every fourth
    // trial one GPU's curve dips (falls between 120 and 160 tokens).
    std::vector<LatencyCurve> f;
    for (std::size_t g = 0; g < gpus; ++g) {
      const double s = speed(rng), base = fixed(rng);
      const bool dip = trial % 4 == 0 && g == 0;
      f.emplace_back(std::vector<double>{0, 40, 80, 120, 160, 400},
                     std::vector<double>{base, base + 40 / s, base + 40 / s, base + 80 / s,
                                         base + (dip ? 60 : 120) / s, base + 360 / s});
    }
    GpuBins bins{std::vector<std::vector<int>>(gpus), std::vector<double>(gpus, 0)};
    for (std::size_t i = 0; i < w.size(); ++i) {
      bins.items[i / per_gpu].push_back(static_cast<int>(i));
      bins.tokens[i / per_gpu] += w[i];
    }
    // The dip lies within the tokens one exchange can move GPU 0 by (two
    // items of at most 40 each way), so its search takes the full scan.
    if (trial % 4 == 0 && bins.tokens[0] - 80 < 160 && bins.tokens[0] + 80 > 120) ++dips_in_reach;
    const auto forbidden = no_two_replicas_per_gpu(bins, item_expert);
    std::vector<double> latency(gpus);
    for (std::size_t g = 0; g < gpus; ++g) latency[g] = f[g].latency_ns(bins.tokens[g]);
    const auto hot = static_cast<std::size_t>(std::max_element(latency.begin(), latency.end()) -
                                              latency.begin());
    const double brute = brute_force_best(bins, w, f, hot, forbidden);
    const auto anything_goes = [](int, int) { return false; };
    forbidden_mattered += brute != brute_force_best(bins, w, f, hot, anything_goes) ? 1 : 0;
    const auto before = bins.items;
    const int swaps = improve_by_swaps(bins, w, f, 0.0, /*any_partner=*/true, /*max_swaps=*/1,
                                       /*pair_swap_items=*/per_gpu, forbidden);
    double found = latency[hot];
    int moved = 0;
    for (std::size_t g = 0; g < gpus; ++g)
      if (g != hot && bins.items[g] != before[g]) {
        found = std::max(f[hot].latency_ns(bins.tokens[hot]), f[g].latency_ns(bins.tokens[g]));
        for (std::size_t i = 0; i < per_gpu; ++i) moved += bins.items[g][i] != before[g][i];
      }
    for (std::size_t g = 0; g < gpus; ++g)
      for (int item : bins.items[g])
        if (bins.items[g] != before[g])  // no GPU the swap changed holds an expert twice
          CHECK(std::count_if(bins.items[g].begin(), bins.items[g].end(), [&](int other) {
                  return item_expert[static_cast<std::size_t>(other)] ==
                         item_expert[static_cast<std::size_t>(item)];
                }) == 1);
    pair_swaps += moved == 2 ? 1 : 0;
    INFO("trial ", trial);
    CHECK(swaps == (brute < latency[hot] - 1e-9 ? 1 : 0));
    CHECK(found == doctest::Approx(brute).epsilon(1e-12));
  }
  // The cases above were exercised, not just generated.
  CHECK(dips_in_reach > 0);
  CHECK(pair_swaps > 0);
  CHECK(forbidden_mattered > 0);
}
