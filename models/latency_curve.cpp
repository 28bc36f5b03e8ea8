#include "models/latency_curve.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace vibesim {

LatencyCurve::LatencyCurve(std::vector<double> tokens, std::vector<double> latency_ns)
    : tokens_(std::move(tokens)), latency_ns_(std::move(latency_ns)) {
  if (tokens_.size() < 2 || tokens_.size() != latency_ns_.size())
    throw std::invalid_argument("LatencyCurve: needs at least two (tokens, latency) points");
  for (std::size_t i = 1; i < tokens_.size(); ++i)
    if (!(tokens_[i] > tokens_[i - 1]))
      throw std::invalid_argument("LatencyCurve: tokens must increase");
  non_decreasing_ = std::is_sorted(latency_ns_.begin(), latency_ns_.end());
}

LatencyCurve LatencyCurve::proportional(double tokens_per_ns) {
  if (!(tokens_per_ns > 0)) throw std::invalid_argument("LatencyCurve: speed must be positive");
  return LatencyCurve({0.0, 1.0}, {0.0, 1.0 / tokens_per_ns});
}

std::size_t LatencyCurve::segment_of(double tokens) const {
  assert(tokens_.size() >= 2);
  return static_cast<std::size_t>(std::upper_bound(tokens_.begin() + 1, tokens_.end() - 1, tokens) -
                                  tokens_.begin());
}

double LatencyCurve::on_segment(double tokens, std::size_t i) const {
  const double t = (tokens - tokens_[i - 1]) / (tokens_[i] - tokens_[i - 1]);
  return latency_ns_[i - 1] + t * (latency_ns_[i] - latency_ns_[i - 1]);
}

double LatencyCurve::latency_ns(double tokens) const {
  return on_segment(tokens, segment_of(tokens));
}

CurvePoint LatencyCurve::at(double tokens) const {
  const auto segment = segment_of(tokens);
  return {tokens, on_segment(tokens, segment), segment};
}

double LatencyCurve::latency_ns(double tokens, std::size_t& segment) const {
  // segment_of's answer exactly: every point before i at or below `tokens`,
  // point i above it (unless i is the last segment, which extends outwards).
  const auto last = tokens_.size() - 1;
  const bool holds = segment >= 1 && segment <= last &&
                     (segment == 1 || tokens_[segment - 1] <= tokens) &&
                     (segment == last || tokens_[segment] > tokens);
  if (!holds) segment = segment_of(tokens);
  return on_segment(tokens, segment);
}

double LatencyCurve::tokens_surely_reaching(double from_tokens, double bound_ns) const {
  constexpr double kNever = std::numeric_limits<double>::infinity();
  const auto first = segment_of(from_tokens);
  // Non-decreasing from the segment holding from_tokens to the end (and so on
  // the extension past the last point).
  if (!non_decreasing_)
    for (std::size_t k = first; k < tokens_.size(); ++k)
      if (latency_ns_[k] < latency_ns_[k - 1]) return kNever;
  // Interpolating between points at bound + margin or above cannot round below bound.
  // The first point from `first` on at that latency (they rise from there).
  const double margin = 1e-12 * std::max(1.0, std::abs(bound_ns));
  const auto k = static_cast<std::size_t>(
      std::lower_bound(latency_ns_.begin() + static_cast<std::ptrdiff_t>(first), latency_ns_.end(),
                       bound_ns + margin) -
      latency_ns_.begin());
  // Only the last point can lie at or before from_tokens (past the last point).
  return k < tokens_.size() && tokens_[k] > from_tokens ? tokens_[k] : kNever;
}

bool LatencyCurve::non_decreasing_over(double from_tokens, double to_tokens) const {
  if (non_decreasing_) return true;
  // The segments (as latency_ns picks them) holding from_tokens and to_tokens.
  for (auto k = segment_of(from_tokens), last = segment_of(to_tokens); k <= last; ++k)
    if (latency_ns_[k] < latency_ns_[k - 1]) return false;
  return true;
}

double LatencyCurve::tokens_within(double from_tokens, double bound_ns) const {
  return tokens_within(at(from_tokens), bound_ns);
}

double LatencyCurve::tokens_within(const CurvePoint& from, double bound_ns) const {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  assert(from.segment >= 1 && from.segment < tokens_.size());  // a point of this curve
  if (from.latency_ns > bound_ns) return -kInf;
  const double from_tokens = from.tokens;
  // Segment k joins points k-1 and k; the first and last extend outwards, as
  // in latency_ns.
  const auto last = tokens_.size() - 1;
  auto k = from.segment;
  // Rising points: the first segment ending above the bound, by bisection
  // unless it is this one (a bound just above the latency at from_tokens).
  if (non_decreasing_ && !(latency_ns_[k] > bound_ns))
    k = static_cast<std::size_t>(
        std::upper_bound(latency_ns_.begin() + static_cast<std::ptrdiff_t>(k),
                         latency_ns_.begin() + static_cast<std::ptrdiff_t>(last), bound_ns) -
        latency_ns_.begin());
  for (; k <= last; ++k) {
    const double slope = (latency_ns_[k] - latency_ns_[k - 1]) / (tokens_[k] - tokens_[k - 1]);
    if (k < last && latency_ns_[k] <= bound_ns) continue;  // the whole segment stays within
    if (k == last && slope <= 0) return kInf;
    // latency_ns_[k] > bound_ns here (or the rising extension): it crosses
    // the bound in this segment, at or after from_tokens.
    const double x = tokens_[k - 1] + (bound_ns - latency_ns_[k - 1]) / slope;
    return std::max(x, from_tokens);
  }
  return kInf;  // not reached: the last segment always returns
}

}  // namespace vibesim
