// The swap search of policies/latency_packing against brute force.
#include <doctest/doctest.h>

#include <algorithm>
#include <limits>
#include <random>

#include "policies/latency_packing.h"

using namespace vibesim;

TEST_CASE("one swap-search step finds the best single exchange that brute force finds") {
  std::mt19937_64 rng(7);
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
