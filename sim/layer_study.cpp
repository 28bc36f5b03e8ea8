#include "sim/layer_study.h"

#include <memory>
#include <stdexcept>

#include <fmt/format.h>

#include "base/derived_seed.h"
#include "base/statistics.h"
#include "models/topology.h"
#include "policies/latency_bound.h"
#include "policies/latency_packing.h"
#include "policies/policy_registry.h"
#include "sim/cluster_setup.h"
#include "sim/policy_run.h"
#include "traces/count_trace_routing.h"

namespace vibesim {

namespace {

// Per-GPU recorded tokens under `placement` (replicas share evenly) -> max_g f_g.
double predicted_latency_ns(const Placement& placement, int layer, const PlacementContext& c,
                            std::span<const LatencyCurve> f) {
  const auto tokens = gpu_tokens(placement, layer, c.expert_loads[static_cast<std::size_t>(layer)]);
  double worst = 0;
  for (std::size_t g = 0; g < tokens.size(); ++g)
    worst = std::max(worst, f[g].latency_ns(tokens[g]));
  return worst;
}

}  // namespace

LayerStudyResult run_layer_study(const Experiment& x, const PolicyRegistry& registry,
                                 const LayerRowSink& sink) {
  const int g_count = x.cluster.num_gpus;
  const int experts_per_gpu = static_cast<int>(x.model.routed_experts) / g_count;
  ClusterSetup setup = prepare_cluster(x);
  const auto& gpus = setup.gpus;
  const PlacementContext& context = setup.context;
  LayerStudyResult result;
  const std::int64_t balanced_tokens = x.workload.batch_tokens * x.model.top_k / g_count;
  std::vector<double> balanced_ns;
  for (const auto& gpu : gpus) {
    balanced_ns.push_back(gpu.duration_ns(
        ExpertBatch::spread_evenly(balanced_tokens, experts_per_gpu, gpu.tile_mask())));
    result.gpus.push_back({gpu.variation(), gpu.sustained_clock_fraction(1.0),
                           gpu.sustained_clock_fraction(x.cluster.sku.power.activity_memory_bound),
                           0.0});
  }
  const double balanced_mean = mean(balanced_ns);
  for (std::size_t g = 0; g < gpus.size(); ++g)
    result.gpus[g].balanced_kernel_time_rel = balanced_ns[g] / balanced_mean;

  result.gpu_latency = context.gpu_latency;
  result.expert_loads = context.expert_loads;
  const auto predicted_curves =
      with_all_to_all(context.gpu_latency, context.all_to_all_ns_per_token);

  auto routing = make_routing(x, RandomStream::kRoutingBatches);
  const int layers = static_cast<int>(x.model.num_moe_layers());
  const int max_replicas = std::min(g_count, 1 + x.cluster.redundant_slots_per_gpu * g_count);
  std::vector<double> lower_bound_ns;
  for (const auto& w : context.expert_loads)
    lower_bound_ns.push_back(latency_lower_bound_ns(w, predicted_curves, max_replicas));
  for (const auto& name : x.policies) {
    const auto policy = registry.make(name);
    PolicyRun run(x, setup, name, *policy);
    auto& [live, stepper, conditions, engine] = run;
    routing->rewind();

    PolicySummary summary;
    summary.policy = name;
    for (int l = 0; l < layers; ++l) {
      const double predicted = predicted_latency_ns(live.placement(), l, context, predicted_curves);
      summary.predicted_latency_us += predicted * 1e-3 / layers;
      summary.predicted_gap_to_bound +=
          (predicted / lower_bound_ns[static_cast<std::size_t>(l)] - 1) / layers;
    }
    summary.straggler_counts.assign(static_cast<std::size_t>(g_count), 0);
    std::vector<double> latency_us;
    latency_us.reserve(static_cast<std::size_t>(x.workload.iterations) *
                       static_cast<std::size_t>(layers));
    double idle_sum = 0, imbalance_sum = 0;

    // Layer steps run back to back on the event clock: each schedules the next.
    std::vector<double> latency_after_event_us;
    int iteration = 0, layer = 0;
    std::function<void()> run_layer = [&] {
      const auto counts = routing->next_counts({layer, x.workload.batch_tokens});
      live.record(layer, counts);
      stepper.set_kernel_time_multipliers(conditions.at(engine.now()));
      const auto step = stepper.step(layer, counts);
      latency_us.push_back(step.layer.us());
      if (conditions.any_event_applied()) latency_after_event_us.push_back(step.layer.us());
      idle_sum += step.barrier_idle_fraction();
      imbalance_sum += step.max_over_mean_tokens();
      ++summary.straggler_counts[static_cast<std::size_t>(step.straggler_gpu)];
      if (sink) sink(LayerRow{name, iteration, layer, step});
      SimDuration stall;
      if (++layer == layers) {
        layer = 0;
        ++iteration;
        if (iteration < x.workload.iterations)
          stall = live.end_pass(conditions.at(engine.now()), stepper);
      }
      if (iteration < x.workload.iterations) {
        engine.schedule_after(step.layer + stall, run_layer);
      } else {
        engine.schedule_after(step.layer, [] {});  // the end of the last layer
      }
    };
    engine.schedule(SimTime{}, run_layer);
    engine.run();

    summary.layer_steps = static_cast<std::int64_t>(latency_us.size());
    summary.simulated_time = engine.now() - SimTime{};
    summary.latency_mean_us = mean(latency_us);
    std::sort(latency_us.begin(), latency_us.end());
    summary.latency_p50_us = quantile_sorted(latency_us, 0.50);
    summary.latency_p90_us = quantile_sorted(latency_us, 0.90);
    summary.latency_p99_us = quantile_sorted(latency_us, 0.99);
    if (!latency_after_event_us.empty()) {
      std::sort(latency_after_event_us.begin(), latency_after_event_us.end());
      summary.after_event_p50_us = quantile_sorted(latency_after_event_us, 0.50);
      summary.after_event_p90_us = quantile_sorted(latency_after_event_us, 0.90);
    }
    summary.recalibration = live.totals();
    summary.barrier_idle_fraction = idle_sum / static_cast<double>(summary.layer_steps);
    summary.max_over_mean_tokens = imbalance_sum / static_cast<double>(summary.layer_steps);
    result.policies.push_back(std::move(summary));
  }
  return result;
}

}  // namespace vibesim
