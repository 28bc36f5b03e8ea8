#include "policies/latency_bound.h"

#include <algorithm>
#include <numeric>

namespace vibesim {

namespace {

// Largest n in [0, hi] with f(n) <= t (bisection; f non-decreasing).
double tokens_within(const LatencyCurve& f, double t, double hi) {
  if (f.latency_ns(hi) <= t) return hi;
  double lo = 0;
  if (f.latency_ns(lo) > t) return 0;
  for (int i = 0; i < 60; ++i) {
    const double mid = 0.5 * (lo + hi);
    (f.latency_ns(mid) <= t ? lo : hi) = mid;
  }
  return lo;
}

}  // namespace

double latency_lower_bound_ns(std::span<const double> expert_loads, std::span<const LatencyCurve> f,
                              int max_replicas) {
  const double total = std::accumulate(expert_loads.begin(), expert_loads.end(), 0.0);
  const double hottest =
      *std::max_element(expert_loads.begin(), expert_loads.end()) / std::max(1, max_replicas);
  double hottest_bound = f[0].latency_ns(hottest);
  for (const auto& fg : f) hottest_bound = std::min(hottest_bound, fg.latency_ns(hottest));
  double lo = 0, hi = 0;
  for (const auto& fg : f) hi = std::max(hi, fg.latency_ns(total));
  for (int i = 0; i < 60; ++i) {
    const double mid = 0.5 * (lo + hi);
    double capacity = 0;
    for (const auto& fg : f) capacity += tokens_within(fg, mid, total);
    (capacity >= total ? hi : lo) = mid;
  }
  return std::max(hi, hottest_bound);
}

}  // namespace vibesim
