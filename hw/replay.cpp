#include "hw/replay.h"

#include <chrono>

#include "models/gpu_latency_profile.h"
#include "policies/policy_registry.h"
#include "sim/cluster_setup.h"

namespace vibesim {

namespace {

// The policy's view of the GPUs: the given profile, one curve per GPU.
void use_profile(PlacementContext& context, const std::vector<LatencyCurve>& profile) {
  if (profile.empty()) return;
  for (std::size_t g = 0; g < context.gpu_latency.size(); ++g)
    context.gpu_latency[g] = curve_of_gpu(profile, g);
}

void warm_up(MoeLayerStepper& stepper, RoutingSource& routing, std::int64_t batch_tokens,
             double seconds) {
  if (seconds <= 0) return;
  const auto counts = routing.next_counts({0, batch_tokens});
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < until) (void)stepper.step(0, counts);
  routing.rewind();
}

}  // namespace

ClusterSetup replay_cluster(const Experiment& x, const ReplaySpec& spec) {
  ClusterSetup setup = prepare_cluster(x);
  use_profile(setup.context, spec.profile);
  return setup;
}

Replay replay_layer_steps(const Experiment& x, const ClusterSetup& setup,
                          const PolicyRegistry& registry, const ReplaySpec& spec,
                          LayerExecutor& executor, const LayerRowSink& sink,
                          const std::function<void()>& checkpoint) {
  const Placement placement =
      checked_place(spec.policy, *registry.make(spec.policy), setup.context);
  MoeLayerStepper stepper(x.model, executor, setup.topology, placement, MoeExchange::kAllReduce);
  auto routing = make_routing(x, RandomStream::kRoutingBatches);
  warm_up(stepper, *routing, x.workload.batch_tokens, spec.warmup_s);

  const int layers = static_cast<int>(x.model.num_moe_layers());
  const int iterations = spec.iterations > 0 ? spec.iterations : x.workload.iterations;
  Replay replay{spec.policy, {}};
  SimTime clock;
  for (int it = 0; it < iterations; ++it) {
    for (int l = 0; l < layers; ++l) {
      checkpoint();
      const auto counts = routing->next_counts({l, x.workload.batch_tokens});
      const auto step = stepper.step(l, counts);
      ReplayedStep row{it, l, static_cast<double>(step.layer.ns()), {}};
      for (const auto& g : step.gpus) row.gpu_compute_ns.push_back(g.compute_ns);
      replay.steps.push_back(std::move(row));
      if (sink) sink(LayerRow{spec.policy, it, l, clock, step});
      clock = clock + step.layer;
    }
  }
  return replay;
}

}  // namespace vibesim
