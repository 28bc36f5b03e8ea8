#include "policies/latency_bound.h"

#include <algorithm>
#include <cassert>
#include <functional>
#include <numeric>
#include <vector>

namespace vibesim {

namespace {

// The largest n in [0, hi] with f(n) <= t, or 0 when there is none: exact
// for any piecewise-linear f, so the bound holds where profiled curves dip.
// Unlike LatencyCurve::tokens_within (the first crossing after a given load),
// this looks past a dip for the last one. The bound's bisection asks this of
// every GPU sixty times, so the curve's points in (0, hi) and its latencies
// there are found once; the last point at or below t is then a binary search
// on their suffix minima (the largest j with suffix_min[j] <= t has
// latency[j] <= t, and no later point does).
class FluidCapacity {
 public:
  FluidCapacity(const LatencyCurve& f, double hi) {
    tokens_.push_back(0.0);
    for (double n : f.tokens())
      if (n > 0 && n < hi) tokens_.push_back(n);
    tokens_.push_back(hi);
    for (double n : tokens_) latency_ns_.push_back(f.latency_ns(n));
    suffix_min_ns_ = latency_ns_;
    for (std::size_t k = suffix_min_ns_.size() - 1; k > 0; --k)
      suffix_min_ns_[k - 1] = std::min(suffix_min_ns_[k - 1], suffix_min_ns_[k]);
  }

  [[nodiscard]] double largest_load_within(double t) const {
    const auto past = std::upper_bound(suffix_min_ns_.begin(), suffix_min_ns_.end(), t);
    if (past == suffix_min_ns_.begin()) return 0;
    const auto j = static_cast<std::size_t>(past - suffix_min_ns_.begin()) - 1;
    if (j + 1 == tokens_.size()) return tokens_[j];
    const double a = tokens_[j], b = tokens_[j + 1];
    const double fa = latency_ns_[j], fb = latency_ns_[j + 1];
    return a + (t - fa) / (fb - fa) * (b - a);
  }

 private:
  std::vector<double> tokens_;
  std::vector<double> latency_ns_;     // f at tokens_
  std::vector<double> suffix_min_ns_;  // min of latency_ns_ from k on; never decreases
};

// The smallest T, to 60 bisection steps over [0, max_g f_g(total)], at which
// `fits(capacities)` holds, capacities[g] being the largest load in
// [0, total] with f_g <= T (FluidCapacity); `fits` must not turn false as T
// grows, and may reorder the vector it is given.
template <class Fits>
double smallest_fitting_latency_ns(std::span<const LatencyCurve> f, double total, Fits fits) {
  double lo = 0, hi = 0;
  std::vector<FluidCapacity> capacities;
  capacities.reserve(f.size());
  for (const auto& fg : f) {
    hi = std::max(hi, fg.latency_ns(total));
    capacities.emplace_back(fg, total);
  }
  std::vector<double> cap(f.size());
  for (int i = 0; i < 60; ++i) {
    const double mid = 0.5 * (lo + hi);
    for (std::size_t g = 0; g < f.size(); ++g) cap[g] = capacities[g].largest_load_within(mid);
    (fits(cap) ? hi : lo) = mid;
  }
  return hi;
}

// The fluid bound for packings of `slots` items per GPU: any k GPUs hold at
// most the k * slots heaviest items (heaviest_sum[k]), so the total fits
// under T only if, for every k, the k GPUs of largest capacity filled to
// heaviest_sum[k] and the others to their capacity at T take it. That is the
// exact condition for a fractional assignment under both limits (a
// polymatroid whose rank depends on the count only, cut by the capacities):
// the most it can take is min over k of heaviest_sum[k] plus the capacities
// of all but the k largest. k = 0 is the plain fluid bound.
double slotted_fluid_bound_ns(std::span<const double> item_weights, std::span<const LatencyCurve> f,
                              int slots) {
  std::vector<double> w(item_weights.begin(), item_weights.end());
  std::sort(w.begin(), w.end(), std::greater<>());
  const double total = std::accumulate(w.begin(), w.end(), 0.0);
  std::vector<double> heaviest_sum(f.size() + 1, 0.0);  // a running sum: the same additions
  const auto per_gpu = static_cast<std::size_t>(std::max(1, slots));
  for (std::size_t k = 1, i = 0; k <= f.size(); ++k) {
    heaviest_sum[k] = heaviest_sum[k - 1];
    for (; i < std::min(w.size(), k * per_gpu); ++i) heaviest_sum[k] += w[i];
  }
  std::vector<double> smallest_sum(f.size() + 1, 0.0);
  return smallest_fitting_latency_ns(f, total, [&](std::vector<double>& cap) {
    std::sort(cap.begin(), cap.end());
    for (std::size_t j = 0; j < cap.size(); ++j) smallest_sum[j + 1] = smallest_sum[j] + cap[j];
    // k = G never binds (heaviest_sum[G] is the total); leaving it out keeps
    // rounding from refusing every T.
    double takes = smallest_sum[f.size()];
    for (std::size_t k = 1; k < f.size(); ++k)
      takes = std::min(takes, heaviest_sum[k] + smallest_sum[f.size() - k]);
    return takes >= total;
  });
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
  const double fluid = smallest_fitting_latency_ns(f, total, [&](std::vector<double>& cap) {
    return std::accumulate(cap.begin(), cap.end(), 0.0) >= total;
  });
  return std::max(fluid, hottest_bound);
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
  return std::max({latency_lower_bound_ns(item_weights, f, 1), fastest,
                   slotted_fluid_bound_ns(item_weights, f, slots)});
}

}  // namespace vibesim
