#include <doctest/doctest.h>

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
