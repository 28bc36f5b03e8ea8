#include <doctest/doctest.h>

#include "fixtures.h"
#include "models/deployment.h"
#include "models/power_readings.h"

namespace vibesim {
namespace {

TEST_CASE("a prefill layer's clock and power are its kernels' averaged by time") {
  auto model = testing::toy_model();
  model.hidden_size = 4000;  // compute bound, so the 500 W cap binds on the MoE kernel
  model.expert_intermediate_size = 4000;
  auto sku = testing::toy_sku();
  const auto deployment = make_deployment(DeploymentKind::kTpEpAllReduce);
  const PrefillBatch batch{16 * 1024, 1024};
  const auto layer = [&](const GpuSku& s) {
    const GpuKernelModel gpu(s, GpuVariation{}, model);
    return std::pair{gpu, prefill_layer_power(gpu, model, *deployment, s.interconnect, 2, batch)};
  };

  SUBCASE("the MoE kernel is the GPU's share of tokens, spread over its experts") {
    const auto [gpu, p] = layer(sku);
    const auto moe = gpu.time(ExpertBatch::spread_evenly(16 * 1024 * 2 / 2, 2, gpu.tile_mask()));
    CHECK(p.moe.duration_ns == moe.duration_ns);
    CHECK(p.moe.at_cap_fraction == 1.0);  // instantaneous limit, capped
    CHECK(p.moe.power_w == doctest::Approx(500.0).epsilon(1e-3));
    CHECK(p.collectives_ns > 0);  // the all-reduces, at the memory-bound 220 W
    const double ns =
        p.collectives_ns + p.moe.duration_ns + p.attention.duration_ns + p.shared.duration_ns;
    const double energy = p.collectives_ns * 220 + p.moe.duration_ns * p.moe.power_w +
                          p.attention.duration_ns * p.attention.power_w +
                          p.shared.duration_ns * p.shared.power_w;
    CHECK(p.mean_power_w == doctest::Approx(energy / ns));
    CHECK(p.mean_power_w > 220);
    CHECK(p.mean_power_w < 500);
    CHECK(p.mean_clock > p.moe.clock_fraction);
    CHECK(p.mean_clock < 1);
  }
  SUBCASE("with the cap out of reach every kernel runs at full clock") {
    sku.tdp_w = 1e6;
    const auto [gpu, p] = layer(sku);
    CHECK(p.mean_clock == 1.0);
    CHECK(p.moe.power_w == doctest::Approx(700.0));  // 100 W static + 600 W at full activity
  }
}

}  // namespace
}  // namespace vibesim
