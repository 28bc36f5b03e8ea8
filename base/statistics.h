#pragma once
// Summary statistics used by reports and profile fitting.
#include <algorithm>
#include <cassert>
#include <cmath>
#include <numeric>
#include <vector>

namespace vibesim {

// Quantile q in [0, 1] of `sorted` (ascending), interpolating linearly between
// order statistics (numpy's default, "type 7").
inline double quantile_sorted(const std::vector<double>& sorted, double q) {
  assert(!sorted.empty() && q >= 0 && q <= 1);
  const double pos = q * static_cast<double>(sorted.size() - 1);
  const auto i = static_cast<std::size_t>(std::floor(pos));
  if (i + 1 >= sorted.size()) return sorted.back();
  const double t = pos - static_cast<double>(i);
  return sorted[i] + t * (sorted[i + 1] - sorted[i]);
}

inline double quantile(std::vector<double> values, double q) {
  std::sort(values.begin(), values.end());
  return quantile_sorted(values, q);
}

inline double mean(const std::vector<double>& values) {
  return values.empty() ? 0.0
                        : std::accumulate(values.begin(), values.end(), 0.0) /
                              static_cast<double>(values.size());
}

}  // namespace vibesim
