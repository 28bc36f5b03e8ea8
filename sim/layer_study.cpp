#include "sim/layer_study.h"

#include <algorithm>
#include <functional>
#include <memory>
#include <stdexcept>

#include <fmt/format.h>

#include "base/derived_seed.h"
#include "base/statistics.h"
#include "models/gpu_latency_profile.h"
#include "models/topology.h"
#include "policies/latency_bound.h"
#include "policies/latency_packing.h"
#include "policies/policy_registry.h"
#include "sim/cluster_setup.h"
#include "sim/policy_run.h"
#include "traces/count_trace_routing.h"

namespace vibesim {

namespace {

// Each GPU as drawn: its parameters, sustained clocks, and its kernel time at
// an even token split relative to the mean over GPUs.
std::vector<GpuSummary> summarise_gpus(const Experiment& x, const ClusterSetup& setup) {
  const int g_count = x.cluster.num_gpus;
  const int experts_per_gpu = static_cast<int>(x.model.routed_experts) / g_count;
  const std::int64_t balanced_tokens = x.workload.batch_tokens * x.model.top_k / g_count;
  std::vector<GpuSummary> out;
  std::vector<double> balanced_ns;
  const auto& measured = x.cluster.measured_latency;
  for (const auto& gpu : setup.gpus) {
    balanced_ns.push_back(measured.empty() ? gpu.duration_ns(ExpertBatch::spread_evenly(
                                                 balanced_tokens, experts_per_gpu, gpu.tile_mask()))
                                           : curve_of_gpu(measured, balanced_ns.size())
                                                 .latency_ns(static_cast<double>(balanced_tokens)));
    out.push_back({gpu.variation(), gpu.sustained_clock_fraction(1.0),
                   gpu.sustained_clock_fraction(x.cluster.sku.power.activity_memory_bound), 0.0});
  }
  const double balanced_mean = mean(balanced_ns);
  for (std::size_t g = 0; g < out.size(); ++g)
    out[g].balanced_kernel_time_rel = balanced_ns[g] / balanced_mean;
  return out;
}

// What the policies could foresee, per MoE layer: the curves with the
// all-to-all cost, and the lower bound of the predicted latency.
struct Foresight {
  std::vector<LatencyCurve> predicted_curves;
  std::vector<double> lower_bound_ns;
};

Foresight foresight(const Experiment& x, const PlacementContext& context) {
  Foresight f{with_all_to_all(context.gpu_latency, context.all_to_all_ns_per_token), {}};
  const int g_count = x.cluster.num_gpus;
  const int max_replicas = std::min(g_count, 1 + x.cluster.redundant_slots_per_gpu * g_count);
  for (const auto& w : context.expert_loads)
    f.lower_bound_ns.push_back(latency_lower_bound_ns(w, f.predicted_curves, max_replicas));
  return f;
}

// Percentiles and means of what one policy's run recorded.
void summarise_latencies(PolicySummary& summary, std::vector<double> latency_us,
                         std::vector<double> after_event_us, double idle_sum,
                         double imbalance_sum) {
  summary.layer_steps = static_cast<std::int64_t>(latency_us.size());
  summary.latency_mean_us = mean(latency_us);
  std::sort(latency_us.begin(), latency_us.end());
  summary.latency_p50_us = quantile_sorted(latency_us, 0.50);
  summary.latency_p90_us = quantile_sorted(latency_us, 0.90);
  summary.latency_p99_us = quantile_sorted(latency_us, 0.99);
  if (!after_event_us.empty()) {
    std::sort(after_event_us.begin(), after_event_us.end());
    summary.after_event_p50_us = quantile_sorted(after_event_us, 0.50);
    summary.after_event_p90_us = quantile_sorted(after_event_us, 0.90);
  }
  summary.barrier_idle_fraction = idle_sum / static_cast<double>(summary.layer_steps);
  summary.max_over_mean_tokens = imbalance_sum / static_cast<double>(summary.layer_steps);
}

// What the placement in force predicts per layer: its mean max-GPU latency
// and its mean gap to the layer's lower bound.
void add_predicted_latency(PolicySummary& summary, const Placement& placement,
                           const PlacementContext& context, const Foresight& f, int layers) {
  for (int l = 0; l < layers; ++l) {
    const double predicted = predicted_layer_latency_ns(placement, l, context, f.predicted_curves);
    summary.predicted_latency_us += predicted * 1e-3 / layers;
    summary.predicted_gap_to_bound +=
        (predicted / f.lower_bound_ns[static_cast<std::size_t>(l)] - 1) / layers;
  }
}

// What the study gathers from each layer step: latencies (those after a
// GPU-conditions event apart too), barrier idle and token imbalance sums,
// and into the summary each GPU's straggler count and idle fraction per layer.
struct StepTally {
  StepTally(PolicySummary& summary, int gpus, int layers, int iterations)
      : summary_(summary), iterations_(iterations) {
    summary.straggler_counts.assign(static_cast<std::size_t>(gpus), 0);
    summary.gpu_layer_idle_fraction.assign(
        static_cast<std::size_t>(gpus), std::vector<double>(static_cast<std::size_t>(layers), 0));
    latency_us.reserve(static_cast<std::size_t>(iterations) * static_cast<std::size_t>(layers));
  }
  void add(const LayerStepResult& step, int layer, bool after_event) {
    latency_us.push_back(step.layer.us());
    if (after_event) latency_after_event_us.push_back(step.layer.us());
    idle_sum += step.barrier_idle_fraction();
    imbalance_sum += step.max_over_mean_tokens();
    ++summary_.straggler_counts[static_cast<std::size_t>(step.straggler_gpu)];
    const double layer_ns = static_cast<double>(step.layer.ns());
    for (std::size_t g = 0; g < step.gpus.size() && layer_ns > 0; ++g)
      summary_.gpu_layer_idle_fraction[g][static_cast<std::size_t>(layer)] +=
          step.gpus[g].idle_ns / layer_ns / iterations_;
  }

  std::vector<double> latency_us, latency_after_event_us;
  double idle_sum = 0, imbalance_sum = 0;

 private:
  PolicySummary& summary_;
  int iterations_;
};

// One policy through every layer step of the study, back to back on the event clock.
PolicySummary study_one_policy(const Experiment& x, const ClusterSetup& setup,
                               RoutingSource& routing, const std::string& name,
                               const PlacementPolicy& policy, const Foresight& f,
                               const LayerRowSink& sink) {
  const PlacementContext& context = setup.context;
  const int layers = static_cast<int>(x.model.num_moe_layers());
  PolicyRun run(x, setup, name, policy);
  // Named references, not a structured binding: lambdas below capture them
  // (clang 14, which builds the fuzzers, cannot capture bindings).
  auto& live = run.live;
  auto& stepper = run.stepper;
  auto& conditions = run.conditions;
  auto& engine = run.engine;
  routing.rewind();

  PolicySummary summary;
  summary.policy = name;
  summary.proofs = live.first_proofs();
  add_predicted_latency(summary, live.placement(), context, f, layers);
  StepTally tally(summary, x.cluster.num_gpus, layers, x.workload.iterations);
  std::vector<double> busy_ns(static_cast<std::size_t>(x.cluster.num_gpus));
  int iteration = 0, layer = 0;
  // Each layer step schedules the next; a recalibration stall delays it.
  std::function<void()> run_layer = [&] {
    const auto counts = routing.next_counts({layer, x.workload.batch_tokens});
    live.record(layer, counts);
    stepper.set_kernel_time_multipliers(conditions.at(engine.now()));
    const auto step = stepper.step(layer, counts);
    if (conditions.heats()) {
      for (std::size_t g = 0; g < step.gpus.size(); ++g) busy_ns[g] = step.gpus[g].compute_ns;
      conditions.ran(engine.now(), step.layer, busy_ns);
    }
    tally.add(step, layer, conditions.any_event_applied());
    if (sink) sink(LayerRow{name, iteration, layer, engine.now(), step});
    SimDuration stall;
    if (++layer == layers) {
      layer = 0;
      ++iteration;
      if (iteration < x.workload.iterations)
        stall = live.end_pass(engine.now(), conditions.at(engine.now()), stepper);
    }
    if (iteration < x.workload.iterations) {
      engine.schedule_after(step.layer + stall, run_layer);
    } else {
      engine.schedule_after(step.layer, [] {});  // the end of the last layer
    }
  };
  engine.schedule(SimTime{}, run_layer);
  engine.run();

  summary.simulated_time = engine.now() - SimTime{};
  summary.recalibration = live.totals();
  summarise_latencies(summary, std::move(tally.latency_us), std::move(tally.latency_after_event_us),
                      tally.idle_sum, tally.imbalance_sum);
  return summary;
}

}  // namespace

LayerStudyResult run_layer_study(const Experiment& x, const PolicyRegistry& registry,
                                 const LayerRowSink& sink, const std::function<void()>& checkpoint,
                                 int jobs) {
  ClusterSetup setup = prepare_cluster(x, jobs);
  setup.context.checkpoint = checkpoint;
  LayerStudyResult result;
  result.gpus = summarise_gpus(x, setup);
  result.gpu_latency = setup.context.gpu_latency;
  result.expert_loads = setup.context.expert_loads;
  const auto f = foresight(x, setup.context);
  auto routing = make_routing(x, RandomStream::kRoutingBatches, jobs);
  for (const auto& name : x.policies)
    result.policies.push_back(
        study_one_policy(x, setup, *routing, name, *registry.make(name), f, sink));
  return result;
}

}  // namespace vibesim
