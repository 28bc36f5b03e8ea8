#include "policies/latency_bound.h"

#include <algorithm>
#include <cassert>
#include <numeric>
#include <vector>

namespace vibesim {

namespace {

// The largest n in [0, hi] with f(n) <= t, or 0 when there is none: exact
// for any piecewise-linear f, so the bound holds where profiled curves dip.
// Unlike LatencyCurve::tokens_within (the first crossing after a given load),
// this looks past a dip for the last one.
double largest_load_within(const LatencyCurve& f, double t, double hi) {
  if (f.latency_ns(hi) <= t) return hi;
  std::vector<double> points{0.0};
  for (double n : f.tokens())
    if (n > 0 && n < hi) points.push_back(n);
  points.push_back(hi);
  for (std::size_t k = points.size() - 1; k > 0; --k) {  // the last segment reaching down to t
    const double a = points[k - 1], b = points[k];
    const double fa = f.latency_ns(a), fb = f.latency_ns(b);
    if (fb <= t) return b;
    if (fa <= t) return a + (t - fa) / (fb - fa) * (b - a);
  }
  return 0;
}

}  // namespace

double latency_lower_bound_ns(std::span<const double> expert_loads, std::span<const LatencyCurve> f,
                              int max_replicas) {
  assert(!expert_loads.empty() && !f.empty());
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
    for (const auto& fg : f) capacity += largest_load_within(fg, mid, total);
    (capacity >= total ? hi : lo) = mid;
  }
  return std::max(hi, hottest_bound);
}

double packing_lower_bound_ns(std::span<const double> item_weights, std::span<const LatencyCurve> f,
                              int slots) {
  assert(!item_weights.empty() && !f.empty());
  std::vector<double> w(item_weights.begin(), item_weights.end());
  std::sort(w.begin(), w.end());
  const auto others = std::min(w.size() - 1, static_cast<std::size_t>(std::max(0, slots - 1)));
  const double least_load =
      w.back() + std::accumulate(w.begin(), w.begin() + static_cast<std::ptrdiff_t>(others), 0.0);
  double fastest = f[0].latency_ns(least_load);
  for (const auto& fg : f) fastest = std::min(fastest, fg.latency_ns(least_load));
  return std::max(latency_lower_bound_ns(item_weights, f, 1), fastest);
}

}  // namespace vibesim
