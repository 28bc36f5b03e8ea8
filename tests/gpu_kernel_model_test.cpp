#include <cmath>
#include <vector>

#include <doctest/doctest.h>

#include "fixtures.h"
#include "models/gpu_kernel_model.h"

using namespace vibesim;

TEST_CASE(
    "tile padding: each expert's tokens round up to the tile and idle experts load no weights") {
  ExpertBatch b;
  const std::int64_t tile_mask = 63;
  b.add_expert(1, tile_mask);
  b.add_expert(64, tile_mask);
  b.add_expert(65, tile_mask);
  b.add_expert(0, tile_mask);
  CHECK(b.tokens == 130);
  CHECK(b.padded_tokens == 64 + 64 + 128);
  CHECK(b.active_experts == 3);
  const std::vector<std::int32_t> counts{1, 64, 65, 0};
  const auto summed = ExpertBatch::of_experts(counts, tile_mask);
  CHECK(summed.tokens == b.tokens);
  CHECK(summed.padded_tokens == b.padded_tokens);
  CHECK(summed.active_experts == b.active_experts);
  const auto even = ExpertBatch::spread_evenly(10, 4, 0);
  CHECK(even.tokens == 10);
  CHECK(even.active_experts == 4);
}

TEST_CASE(
    "a batch's sums in 32-bit lanes equal add_expert's, across chunks and at extreme counts") {
  // More counts than one 2^18 chunk of the 32-bit sums, the largest tile,
  // counts of 0, exact tile multiples and up to INT32_MAX.
  std::vector<std::int32_t> counts;
  for (std::int64_t i = 0; i < (std::int64_t{1} << 18) + 1000; ++i)
    counts.push_back(static_cast<std::int32_t>((i * 2654435761) % 9000));
  counts.insert(counts.end(), {0, 4096, 4097, 2147483647, 2147483647 - 4095});
  for (const std::int64_t tile_mask : {0, 63, 4095}) {
    INFO("tile mask " << tile_mask);
    ExpertBatch expected;
    for (const auto n : counts) expected.add_expert(n, tile_mask);
    std::int64_t sum = 0;
    for (const auto n : counts) sum += n;
    for (const auto& batch : {ExpertBatch::of_experts(counts, tile_mask),
                              ExpertBatch::of_experts(counts, tile_mask, sum)}) {
      CHECK(batch.tokens == expected.tokens);
      CHECK(batch.padded_tokens == expected.padded_tokens);
      CHECK(batch.active_experts == expected.active_experts);
    }
  }
}

TEST_CASE("roofline: a memory-bound kernel takes weight bytes / bandwidth and runs at full clock") {
  const auto model = testing::toy_model();  // 3e6 FLOPs per token, 3e6 weight bytes per expert
  const GpuKernelModel gpu(testing::toy_sku(), GpuVariation{}, model);
  // One token on one expert: compute 3e6 / 1e15 s = 3 ns; memory 3e6 / 1e12 s = 3000 ns
  // plus the token's activations: (1000*2 + 2*1000 + 2*2*500 + 2*500) bytes = 7000 B = 7 ns.
  const auto t = gpu.time(ExpertBatch::spread_evenly(1, 1, 0));
  CHECK_FALSE(t.compute_bound);
  CHECK(t.clock_fraction == 1.0);
  CHECK(t.duration_ns == doctest::Approx(3007.0));
}

TEST_CASE(
    "DVFS: a compute-bound kernel hits the power cap and slows but a memory-bound one does not") {
  auto model = testing::toy_model();
  // d = d_ff = 4000: 96e6 FLOPs per token against ~40 kB of activations, so
  // large batches are compute bound on the toy GPU (1e15 FLOP/s, 1e12 B/s).
  model.hidden_size = 4000;
  model.expert_intermediate_size = 4000;
  const auto sku = testing::toy_sku();
  const GpuKernelModel nominal(sku, GpuVariation{}, model);
  // Full activity: 100 W static + 600 W dynamic at full clock exceeds the 500 W cap.
  CHECK(nominal.power_w(1.0, 1.0) == doctest::Approx(700.0));
  const double clock = nominal.sustained_clock_fraction(1.0);
  CHECK(clock < 1.0);
  CHECK(nominal.power_w(clock, 1.0) == doctest::Approx(500.0).epsilon(1e-3));
  // Memory-bound activity 0.2: 100 + 0.2 * 600 = 220 W, under the cap.
  CHECK(nominal.sustained_clock_fraction(0.2) == 1.0);

  const auto compute_heavy =
      ExpertBatch::spread_evenly(100'000, 1, 0);  // 9.6e12 FLOPs: 9.6 ms at full clock
  const auto t = nominal.time(compute_heavy);
  CHECK(t.compute_bound);
  CHECK(t.clock_fraction == doctest::Approx(clock).epsilon(1e-3));
  CHECK(t.duration_ns == doctest::Approx(9.6e6 / t.clock_fraction));

  SUBCASE("a GPU with a higher V-f curve is slower under the cap, equal when memory bound") {
    GpuVariation leaky;
    leaky.voltage_offset_v = 0.03;
    const GpuKernelModel hot(sku, leaky, model);
    CHECK(hot.duration_ns(compute_heavy) > nominal.duration_ns(compute_heavy) * 1.01);
    const auto memory_bound = ExpertBatch::spread_evenly(1, 1, 0);
    CHECK(hot.duration_ns(memory_bound) == nominal.duration_ns(memory_bound));
  }
}

TEST_CASE("a windowed power limit: full clock until the average power reaches the cap") {
  auto model = testing::toy_model();
  model.hidden_size = 4000;  // compute bound at these batches, as in the DVFS case above
  model.expert_intermediate_size = 4000;
  auto sku = testing::toy_sku();
  const double capped = GpuKernelModel(sku, GpuVariation{}, model).sustained_clock_fraction(1.0);
  sku.power.limit_window_s = 1e-3;
  const GpuKernelModel gpu(sku, GpuVariation{}, model);
  // The average starts at the memory-bound power, 100 + 0.2 * 600 = 220 W, and
  // climbs toward 700 W: it reaches the 500 W cap after 1 ms x ln(480 / 200).
  const double free_ns = 1e6 * std::log(480.0 / 200.0);  // 875,469 ns

  SUBCASE("a kernel shorter than that runs at full clock, never at the cap") {
    const auto t = gpu.time(ExpertBatch::spread_evenly(8'000, 1, 0));  // 768 us of compute
    CHECK(t.compute_bound);
    CHECK(t.clock_fraction == 1.0);
    CHECK(t.at_cap_fraction == 0.0);
    CHECK(t.duration_ns == doctest::Approx(768e3));
    CHECK(t.power_w == doctest::Approx(700.0));  // above the cap while the average climbs
  }
  SUBCASE("a longer one runs the rest of its work at the capped clock") {
    const auto t = gpu.time(ExpertBatch::spread_evenly(100'000, 1, 0));  // 9.6 ms of compute
    const double duration = free_ns + (9.6e6 - free_ns) / capped;
    CHECK(t.duration_ns == doctest::Approx(duration));
    CHECK(t.at_cap_fraction == doctest::Approx((duration - free_ns) / duration));
    CHECK(t.clock_fraction == doctest::Approx(9.6e6 / duration));  // work over time
    CHECK(t.clock_fraction > capped);
    // 700 W until the cap binds, then 500 W: weighted by time.
    CHECK(t.power_w ==
          doctest::Approx((free_ns * 700 + (duration - free_ns) * 500) / duration).epsilon(1e-3));
    CHECK(gpu.memory_bound_power_w() == doctest::Approx(220.0));
  }
  SUBCASE("a window of 0 is the instantaneous limit") {
    sku.power.limit_window_s = 0;
    const auto t =
        GpuKernelModel(sku, GpuVariation{}, model).time(ExpertBatch::spread_evenly(8'000, 1, 0));
    CHECK(t.at_cap_fraction == 1.0);
    CHECK(t.clock_fraction == capped);
    CHECK(t.duration_ns == doctest::Approx(768e3 / capped));
    CHECK(t.power_w == doctest::Approx(500.0).epsilon(1e-3));
  }
}

TEST_CASE("a slower HBM (memory_factor) stretches memory-bound kernels in proportion") {
  const auto model = testing::toy_model();
  GpuVariation slow;
  slow.memory_factor = 0.5;
  const GpuKernelModel a(testing::toy_sku(), GpuVariation{}, model),
      b(testing::toy_sku(), slow, model);
  const auto batch = ExpertBatch::spread_evenly(1, 1, 0);
  CHECK(b.duration_ns(batch) == doctest::Approx(2 * a.duration_ns(batch)));
}

namespace {

// The toy GPU with a cap so high the clock never drops, and d = d_ff = 4000
// (96e6 FLOPs per token), so large batches are compute bound.
struct UncappedToy {
  MoeModel model = testing::toy_model();
  GpuSku sku = testing::toy_sku();
  UncappedToy() {
    model.hidden_size = 4000;
    model.expert_intermediate_size = 4000;
    sku.tdp_w = 1e6;
  }
};

}  // namespace

TEST_CASE("each kernel class runs at its own efficiency") {
  UncappedToy toy;
  toy.sku.kernel.moe_compute_efficiency = 0.5;
  toy.sku.kernel.attention_compute_efficiency = 0.25;
  const GpuKernelModel gpu(toy.sku, GpuVariation{}, toy.model);
  // 100,000 tokens x 96e6 FLOPs at 1e15 x 0.5 FLOP/s: 19.2 ms.
  CHECK(gpu.duration_ns(ExpertBatch::spread_evenly(100'000, 1, 0)) == doctest::Approx(19.2e6));
  // 1e12 FLOPs: 4 ms at 25 % (attention), 1 ms at 100 % (dense).
  CHECK(gpu.dense_kernel_ns(KernelClass::kAttention, 1e12, 0) == doctest::Approx(4e6));
  CHECK(gpu.dense_kernel_ns(KernelClass::kDense, 1e12, 0) == doctest::Approx(1e6));
}

TEST_CASE("tile occupancy: few tokens per expert lower the MoE kernel's efficiency") {
  UncappedToy toy;
  toy.sku.kernel.moe_half_efficiency_tokens = 100'000;
  const GpuKernelModel gpu(toy.sku, GpuVariation{}, toy.model);
  // m = 100,000 tokens per expert: half efficiency, 2 x 9.6 ms.
  CHECK(gpu.duration_ns(ExpertBatch::spread_evenly(100'000, 1, 0)) == doctest::Approx(19.2e6));
  // Two experts with 50,000 each: (50,000 + 100,000) / 50,000 = 3 x 9.6 ms.
  const auto t = gpu.time(ExpertBatch::spread_evenly(100'000, 2, 0));
  CHECK(t.duration_ns == doctest::Approx(28.8e6));
  // The idle compute units draw no dynamic power: activity is that of a 1/3-busy kernel.
  CHECK(t.activity == doctest::Approx(0.2 + 0.8 / 3));
}

TEST_CASE("a SKU file without per-class efficiencies uses compute_efficiency for every class") {
  const auto sku = load_gpu_sku(testing::config_dir() / "gpus" / "h200.json");
  CHECK(sku.kernel.moe_compute_efficiency == sku.kernel.compute_efficiency);
  CHECK(sku.kernel.attention_compute_efficiency == sku.kernel.compute_efficiency);
  CHECK(sku.kernel.dense_compute_efficiency == sku.kernel.compute_efficiency);
  CHECK(sku.kernel.moe_half_efficiency_tokens == 0);
  CHECK(sku.interconnect.collective_bandwidth_efficiency == 1);
  CHECK(sku.interconnect.collective_latency_floor_us == 0);
}

TEST_CASE(
    "duration_ns is time().duration_ns exactly, capped, windowed, occupancy-limited or idle") {
  auto model = testing::toy_model();
  model.hidden_size = 4000;  // compute bound at the larger batches, as in the DVFS case
  model.expert_intermediate_size = 4000;
  for (const double window_s : {0.0, 1e-3})
    for (const double half_efficiency_tokens : {0.0, 500.0}) {
      CAPTURE(window_s);
      CAPTURE(half_efficiency_tokens);
      auto sku = testing::toy_sku();
      sku.power.limit_window_s = window_s;
      sku.kernel.moe_half_efficiency_tokens = half_efficiency_tokens;
      GpuVariation leaky;
      leaky.voltage_offset_v = 0.03;
      const GpuKernelModel gpu(sku, leaky, model);
      for (const std::int64_t tokens : {0, 1, 700, 8'000, 100'000}) {
        const auto batch = ExpertBatch::spread_evenly(tokens, 3, 63);
        CHECK(gpu.duration_ns(batch) == gpu.time(batch).duration_ns);
      }
    }
}
