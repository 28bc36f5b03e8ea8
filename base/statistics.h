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

// Population standard deviation (divides by n).
inline double population_stddev(const std::vector<double>& values) {
  const double m = mean(values);
  double sum = 0;
  for (double v : values) sum += (v - m) * (v - m);
  return values.empty() ? 0.0 : std::sqrt(sum / static_cast<double>(values.size()));
}

// Pearson correlation of paired values; 0 when either side is constant.
inline double pearson_correlation(const std::vector<double>& x, const std::vector<double>& y) {
  assert(x.size() == y.size());
  const double mx = mean(x), my = mean(y);
  double sxy = 0, sxx = 0, syy = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) * (x[i] - mx);
    syy += (y[i] - my) * (y[i] - my);
  }
  return sxx > 0 && syy > 0 ? sxy / std::sqrt(sxx * syy) : 0.0;
}

}  // namespace vibesim
