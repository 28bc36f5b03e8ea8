#pragma once
// f_g(n): the predicted MoE-kernel latency of one GPU for n tokens (token-expert
// assignments on that GPU), as a policy sees it. Piecewise linear through
// profiled points, extended linearly past the last one; or n / speed.
#include <cstddef>
#include <vector>

namespace vibesim {

// A token count on one curve with what the curve's searches find for it:
// its latency and the segment it lies on (see LatencyCurve::at).
struct CurvePoint {
  double tokens = 0;
  double latency_ns = 0;
  std::size_t segment = 0;
};

class LatencyCurve {
 public:
  LatencyCurve() = default;
  // Points sorted by tokens, at least two, tokens strictly increasing.
  LatencyCurve(std::vector<double> tokens, std::vector<double> latency_ns);
  // f(n) = n / speed: a plain relative-speed model (speed in tokens per ns).
  static LatencyCurve proportional(double tokens_per_ns);

  [[nodiscard]] double latency_ns(double tokens) const;
  // The same, starting from the segment `segment` (the one a previous call
  // used, 0 before any): a search evaluating many nearby counts skips the
  // bisection while they stay in one segment. Updates `segment`.
  [[nodiscard]] double latency_ns(double tokens, std::size_t& segment) const;
  // `tokens` with its latency and segment, for the searches below.
  [[nodiscard]] CurvePoint at(double tokens) const;
  // A token count x past which latency_ns is certain (with a margin for
  // rounding) to be >= bound_ns: the first profiled point beyond `from_tokens`
  // at bound_ns or above, provided the curve never decreases from
  // `from_tokens` on; +infinity when that cannot be guaranteed. Lets a search
  // skip candidates without evaluating the curve, deciding exactly as if it had.
  [[nodiscard]] double tokens_surely_reaching(double from_tokens, double bound_ns) const;
  // The largest token count n >= from_tokens such that latency_ns(m) <= bound_ns
  // for every m in [from_tokens, n] (the curve's inverse where it rises);
  // +infinity when it never exceeds the bound past from_tokens, -infinity when
  // latency_ns(from_tokens) already does.
  [[nodiscard]] double tokens_within(double from_tokens, double bound_ns) const;
  // The same from a point at(from_tokens) (a search that keeps every GPU's
  // point need not find it again).
  [[nodiscard]] double tokens_within(const CurvePoint& from, double bound_ns) const;
  // Whether latency never decreases between the two token counts.
  [[nodiscard]] bool non_decreasing_over(double from_tokens, double to_tokens) const;
  // Whether it never decreases anywhere.
  [[nodiscard]] bool non_decreasing() const { return non_decreasing_; }
  [[nodiscard]] const std::vector<double>& tokens() const { return tokens_; }
  [[nodiscard]] const std::vector<double>& latency_points_ns() const { return latency_ns_; }

 private:
  // The segment latency_ns interpolates on for `tokens`: i joins points i-1
  // and i; the first and last extend outwards.
  [[nodiscard]] std::size_t segment_of(double tokens) const;
  [[nodiscard]] double on_segment(double tokens, std::size_t i) const;

  std::vector<double> tokens_;
  std::vector<double> latency_ns_;
  bool non_decreasing_ = true;  // over every point (most profiles): the searches' shortcut
};

}  // namespace vibesim
