#include <doctest/doctest.h>

#include <vector>

#include "fixtures.h"
#include "sim/moe_layer_step.h"

using namespace vibesim;

namespace {

// Two GPUs, experts {0,1} on GPU 0 and {2,3} on GPU 1 (or the given slots).
struct TwoGpuLayer {
  MoeModel model = testing::toy_model();
  GpuSku sku = testing::toy_sku();
  Topology topology{2, 2, sku.interconnect};
  std::vector<GpuKernelModel> gpus;
  Placement placement;

  explicit TwoGpuLayer(double gpu1_memory_factor, std::vector<int> slots = {0, 1, 2, 3}) {
    GpuVariation slow;
    slow.memory_factor = gpu1_memory_factor;
    gpus.emplace_back(sku, GpuVariation{}, model);
    gpus.emplace_back(sku, slow, model);
    const int per_gpu = static_cast<int>(slots.size()) / 2;
    placement = Placement{2, per_gpu, {slots, slots}};
  }
};

}  // namespace

TEST_CASE(
    "two GPUs with one 10 % slower: the layer takes the slow GPU's path and the fast one idles the "
    "difference") {
  TwoGpuLayer setup(1.0 / 1.1);
  MoeLayerStepper stepper(setup.model, setup.gpus, setup.topology, setup.placement, 0.0, 1);
  const std::vector<std::int32_t> counts{100, 100, 100, 100};
  const auto r = stepper.step(0, counts);
  // Kernel (memory bound): 2 experts x 3000 ns weights + 200 tokens x 7 ns = 7400 ns; 8140 ns when
  // 10 % slower.
  CHECK(r.gpus[0].compute_ns == doctest::Approx(7400.0));
  CHECK(r.gpus[1].compute_ns == doctest::Approx(8140.0));
  // Each all-to-all flow: 100 tokens x 2000 B over a 100 B/ns link + 1000 ns latency.
  CHECK(r.gpus[0].dispatch_ns == doctest::Approx(3000.0));
  CHECK(r.gpus[1].combine_ns == doctest::Approx(3000.0));
  CHECK(r.layer.ns() == 3000 + 8140 + 3000);
  CHECK(r.straggler_gpu == 1);
  CHECK(r.gpus[0].idle_ns == doctest::Approx(740.0));
  CHECK(r.gpus[1].idle_ns == doctest::Approx(0.0));
  CHECK(r.barrier_idle_fraction() == doctest::Approx(740.0 / (2 * 14140.0)));
}

TEST_CASE("combined by all-reduce (tp_ep_all_reduce): no flows, the layer is the slowest kernel") {
  TwoGpuLayer setup(1.0 / 1.1);
  MoeLayerStepper stepper(setup.model, setup.gpus, setup.topology, setup.placement, 0.0, 1,
                          MoeExchange::kAllReduce);
  const std::vector<std::int32_t> counts{100, 100, 100, 100};
  const auto r = stepper.step(0, counts);
  CHECK(r.gpus[0].dispatch_ns == 0);
  CHECK(r.gpus[1].combine_ns == 0);
  CHECK(r.layer.ns() == 8140);  // the all-reduce after it is the deployment's
  CHECK(r.gpus[0].idle_ns == doctest::Approx(740.0));
  const auto deployment = make_deployment(DeploymentKind::kTpEpAllReduce);
  CHECK(deployment->moe_exchange() == MoeExchange::kAllReduce);
  // Two all-reduces of 10 tokens x 1000 x 2 B on the toy 2-GPU mesh (100 B/ns, 1 us):
  // each 2 x (20,000 / 2 / 100 + 1000) = 2200 ns.
  BatchShape batch{10, 0, 0};
  CHECK(deployment->layer_collectives_ns(setup.model, batch, true, setup.sku.interconnect, 2) ==
        doctest::Approx(4400.0));
}

TEST_CASE("routing skew makes the GPU with the hot expert the straggler on identical GPUs") {
  TwoGpuLayer setup(1.0);
  MoeLayerStepper stepper(setup.model, setup.gpus, setup.topology, setup.placement, 0.0, 1);
  const std::vector<std::int32_t> counts{10, 10, 1000, 10};
  const auto r = stepper.step(0, counts);
  CHECK(r.straggler_gpu == 1);
  CHECK(r.gpus[1].tokens == 1010);
  CHECK(r.max_over_mean_tokens() == doctest::Approx(1010.0 / 515.0));
  CHECK(r.gpus[1].idle_ns == doctest::Approx(0.0));
  CHECK(r.gpus[0].idle_ns > 0);
}

TEST_CASE(
    "a replicated expert's tokens split evenly across its replicas with the remainder to the "
    "first") {
  // Slots: GPU 0 = {0, 1, 2}, GPU 1 = {3, 2, 2}: expert 2 has three replicas.
  TwoGpuLayer setup(1.0, {0, 1, 2, 3, 2, 2});
  MoeLayerStepper stepper(setup.model, setup.gpus, setup.topology, setup.placement, 0.0, 1);
  const std::vector<std::int32_t> counts{10, 20, 301, 40};
  const auto r = stepper.step(0, counts);
  // Expert 2 has 3 replicas (slots 2, 4, 5): 101 + 100 + 100.
  CHECK(r.gpus[0].tokens == 10 + 20 + 101);
  CHECK(r.gpus[1].tokens == 40 + 100 + 100);
}

TEST_CASE("token shares split a replicated expert's tokens by share, summing to its count") {
  // Slots: GPU 0 = {0, 1, 2}, GPU 1 = {3, 2, 2}; expert 2's replicas take 1/2, 1/3, 1/6.
  TwoGpuLayer setup(1.0, {0, 1, 2, 3, 2, 2});
  const std::vector<double> shares{1, 1, 0.5, 1, 1.0 / 3, 1.0 / 6};
  setup.placement.replica_share = {shares, shares};
  MoeLayerStepper stepper(setup.model, setup.gpus, setup.topology, setup.placement, 0.0, 1);
  // 301 tokens: round(150.5) = 151 (half away from zero), round(250.83) - 151 = 100,
  // 301 - 251 = 50.
  auto r = stepper.step(0, std::vector<std::int32_t>{10, 20, 301, 40});
  CHECK(r.gpus[0].tokens == 10 + 20 + 151);
  CHECK(r.gpus[1].tokens == 40 + 100 + 50);
  // 7 tokens: round(3.5) = 4, round(5.83) - 4 = 2, 7 - 6 = 1.
  r = stepper.step(1, std::vector<std::int32_t>{0, 0, 7, 0});
  CHECK(r.gpus[0].tokens == 4);
  CHECK(r.gpus[1].tokens == 3);
}

TEST_CASE("per-kernel jitter is reproducible for a seed and differs between seeds") {
  TwoGpuLayer setup(1.0);
  const std::vector<std::int32_t> counts{100, 100, 100, 100};
  MoeLayerStepper a(setup.model, setup.gpus, setup.topology, setup.placement, 0.02, 7);
  MoeLayerStepper b(setup.model, setup.gpus, setup.topology, setup.placement, 0.02, 7);
  MoeLayerStepper c(setup.model, setup.gpus, setup.topology, setup.placement, 0.02, 8);
  std::int64_t differing = 0;
  for (int i = 0; i < 20; ++i) {
    const auto ta = a.step(0, counts).layer, tb = b.step(0, counts).layer,
               tc = c.step(0, counts).layer;
    CHECK(ta == tb);
    differing += ta != tc;
  }
  CHECK(differing > 10);
}
