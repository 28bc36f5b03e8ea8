#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "base/random_engine.h"
#include "fixtures.h"
#include "models/latency_curve.h"
#include "sim/gpu_profiler.h"

using namespace vibesim;

TEST_CASE("a latency curve interpolates between points and extrapolates the last segment") {
  const LatencyCurve f({0, 100, 200}, {10, 110, 310});
  CHECK(f.latency_ns(50) == doctest::Approx(60));
  CHECK(f.latency_ns(150) == doctest::Approx(210));
  CHECK(f.latency_ns(300) == doctest::Approx(510));
  CHECK(LatencyCurve::proportional(2.0).latency_ns(10) == doctest::Approx(5));
  CHECK_THROWS(LatencyCurve({0, 0}, {1, 2}));
}

TEST_CASE(
    "tokens_within inverts a rising curve from a starting point, inside and past its points") {
  // 0 -> 100 ns, 10 -> 200 ns, 20 -> 250 ns; past 20 at 5 ns per token.
  const LatencyCurve f({0, 10, 20}, {100, 200, 250});
  CHECK(f.tokens_within(0, 150) == doctest::Approx(5));
  CHECK(f.tokens_within(4, 225) == doctest::Approx(15));
  CHECK(f.tokens_within(0, 300) == doctest::Approx(30));
  CHECK(f.tokens_within(12, 100) == -std::numeric_limits<double>::infinity());
  // Flat past its last point: never exceeds a bound it is under.
  const LatencyCurve flat({0, 10, 20}, {0, 50, 50});
  CHECK(flat.tokens_within(0, 60) == std::numeric_limits<double>::infinity());
  // A dip does not help: stops at the first crossing after from_tokens.
  const LatencyCurve bump({0, 10, 20, 30}, {0, 100, 50, 300});
  CHECK(bump.tokens_within(0, 80) == doctest::Approx(8));
  CHECK(bump.tokens_within(15, 80) == doctest::Approx(21.2));
}

TEST_CASE("profiling a GPU without jitter recovers its kernel latency at the sweep points") {
  const auto model = testing::toy_model();
  std::vector<GpuKernelModel> gpus{GpuKernelModel(testing::toy_sku(), GpuVariation{}, model)};
  ProfilingSpec spec;
  spec.experts_per_gpu = 2;
  spec.max_tokens = 10'000;
  const auto curves = profile_gpus(gpus, spec);
  REQUIRE(curves.size() == 1);
  const auto& f = curves[0];
  CHECK(f.tokens().front() == 0);
  CHECK(f.tokens().back() == 10'000);
  for (double n : f.tokens())
    CHECK(f.latency_ns(n) == doctest::Approx(gpus[0].duration_ns(
                                 ExpertBatch::spread_evenly(static_cast<std::int64_t>(n), 2, 0))));
}

TEST_CASE(
    "a curve says past which token count it surely reaches a bound, only where it never "
    "decreases") {
  const LatencyCurve f({0, 10, 20, 30}, {0, 100, 50, 200});
  constexpr double kNever = std::numeric_limits<double>::infinity();
  // From 25 the curve rises (50 -> 200): the first point past 25 at >= 150 is 30.
  CHECK(f.tokens_surely_reaching(25, 150) == 30);
  CHECK(f.latency_ns(30.5) >= 150);
  // From 5 it falls between 10 and 20, so nothing is certain.
  CHECK(f.tokens_surely_reaching(5, 60) == kNever);
  // No point reaches the bound: the extension past the last point is not relied on.
  CHECK(f.tokens_surely_reaching(25, 300) == kNever);
  // A point exactly at the bound is not enough (the margin against rounding).
  CHECK(f.tokens_surely_reaching(25, 200) == kNever);
  const auto proportional = LatencyCurve::proportional(0.5);  // 2 ns per token
  CHECK(proportional.tokens_surely_reaching(0.25, 1.5) == 1);
  CHECK(proportional.tokens_surely_reaching(2, 1.5) == kNever);
}

// The definitions, walked point by point: what the bisections on curves that
// never decrease must reproduce exactly.
namespace {
double surely_reaching_by_walk(const LatencyCurve& f, double from, double bound) {
  const auto& x = f.tokens();
  const auto& y = f.latency_points_ns();
  auto first =
      static_cast<std::size_t>(std::upper_bound(x.begin() + 1, x.end() - 1, from) - x.begin());
  for (auto k = first; k < x.size(); ++k)
    if (y[k] < y[k - 1]) return std::numeric_limits<double>::infinity();
  const double margin = 1e-12 * std::max(1.0, std::abs(bound));
  for (auto k = first; k < x.size(); ++k)
    if (x[k] > from && y[k] >= bound + margin) return x[k];
  return std::numeric_limits<double>::infinity();
}

double within_by_walk(const LatencyCurve& f, double from, double bound) {
  const auto& x = f.tokens();
  const auto& y = f.latency_points_ns();
  if (f.latency_ns(from) > bound) return -std::numeric_limits<double>::infinity();
  const auto last = x.size() - 1;
  for (auto k =
           static_cast<std::size_t>(std::upper_bound(x.begin() + 1, x.end() - 1, from) - x.begin());
       k <= last; ++k) {
    const double slope = (y[k] - y[k - 1]) / (x[k] - x[k - 1]);
    if (k < last && y[k] <= bound) continue;
    if (k == last && slope <= 0) return std::numeric_limits<double>::infinity();
    return std::max(x[k - 1] + (bound - y[k - 1]) / slope, from);
  }
  return std::numeric_limits<double>::infinity();
}
}  // namespace

TEST_CASE("on rising curves (flat steps included) the bisections give the point-by-point answers") {
  RandomEngine rng(5);
  std::uniform_real_distribution<double> step(0.0, 10.0);
  for (int curve = 0; curve < 200; ++curve) {
    std::vector<double> x{0}, y{step(rng)};
    for (int i = 1; i < 2 + curve % 20; ++i) {
      x.push_back(x.back() + 1 + step(rng));
      y.push_back(y.back() + (i % 3 == 0 ? 0.0 : step(rng)));  // every third segment flat
    }
    const LatencyCurve f(x, y);
    REQUIRE(f.non_decreasing());
    for (int q = 0; q < 50; ++q) {
      const double from = step(rng) * x.back() / 8, bound = y.front() + step(rng) * y.back() / 8;
      CAPTURE(curve);
      CAPTURE(from);
      CAPTURE(bound);
      CHECK(f.tokens_surely_reaching(from, bound) == surely_reaching_by_walk(f, from, bound));
      CHECK(f.tokens_within(from, bound) == within_by_walk(f, from, bound));
      // A point's own latency as the bound: the ties the bisections must get right.
      const double at_point = y[static_cast<std::size_t>(q) % y.size()];
      CHECK(f.tokens_surely_reaching(from, at_point) == surely_reaching_by_walk(f, from, at_point));
      CHECK(f.tokens_within(from, at_point) == within_by_walk(f, from, at_point));
    }
  }
  CHECK_FALSE(LatencyCurve({0, 1, 2}, {5, 4, 6}).non_decreasing());
}

TEST_CASE("a segment hint, right or wrong, gives the latency the bisection gives, bit for bit") {
  RandomEngine rng(9);
  std::uniform_real_distribution<double> step(0.0, 10.0);
  const LatencyCurve f({0, 2, 3, 7, 12, 20}, {1, 4, 4, 9, 30, 31});
  const double points[] = {-5, 0, 2, 3, 7, 11.99, 12, 20, 20.5, 400};  // ends and ties
  std::size_t hint = 0;                                                // a caller's first call
  for (int q = 0; q < 2000; ++q) {
    const double tokens = q < 10 ? points[q] : step(rng) * 2.5 - 1;
    CAPTURE(tokens);
    CAPTURE(hint);
    const std::size_t given = hint;
    CHECK(f.latency_ns(tokens, hint) == f.latency_ns(tokens));
    CHECK(hint == f.at(tokens).segment);                     // corrected to the segment used
    if (q % 3 == 0) hint = given;                            // a stale hint on the next query, too
    if (q % 7 == 0) hint = static_cast<std::size_t>(q % 9);  // past the last segment
  }
  const auto p = f.at(5);
  CHECK(p.tokens == 5);
  CHECK(p.latency_ns == f.latency_ns(5));
  CHECK(p.segment == 3);  // between the points at 3 and 7 tokens
  CHECK(f.tokens_within(p, 20) == f.tokens_within(5, 20));
}
