#include "sim/cluster_setup.h"

#include <stdexcept>

#include <fmt/format.h>

#include "models/gpu_latency_profile.h"
#include "traces/routing_spec.h"

namespace vibesim {

namespace {

// What an operator would record: every calibration batch's counts per layer,
// [moe_layer][batch][expert].
std::vector<std::vector<std::vector<double>>> record_load_windows(const Experiment& x,
                                                                  int draw_jobs) {
  auto routing = make_routing(x, RandomStream::kRoutingCalibration, draw_jobs);
  std::vector<std::vector<std::vector<double>>> windows(
      static_cast<std::size_t>(x.model.num_moe_layers()));
  for (int b = 0; b < x.workload.calibration_batches; ++b) {
    for (std::size_t l = 0; l < windows.size(); ++l) {
      const auto counts = routing->next_counts({static_cast<int>(l), x.workload.batch_tokens});
      windows[l].emplace_back(counts.begin(), counts.end());
    }
  }
  return windows;
}

// The load matrix: mean counts over the windows.
std::vector<std::vector<double>> mean_loads(
    const std::vector<std::vector<std::vector<double>>>& windows, std::size_t experts) {
  std::vector<std::vector<double>> loads(windows.size(), std::vector<double>(experts, 0.0));
  for (std::size_t l = 0; l < windows.size(); ++l) {
    for (const auto& w : windows[l])
      for (std::size_t e = 0; e < experts; ++e) loads[l][e] += w[e];
    for (auto& v : loads[l]) v /= static_cast<double>(windows[l].size());
  }
  return loads;
}

}  // namespace

std::unique_ptr<RoutingSource> make_routing(const Experiment& x, RandomStream batches,
                                            int draw_jobs) {
  const int layers = static_cast<int>(x.model.num_moe_layers());
  const int experts = static_cast<int>(x.model.routed_experts);
  const int top_k = static_cast<int>(x.model.top_k);
  auto spec = x.workload.routing;
  // The recorded past the policies calibrate on precedes any drift.
  if (batches == RandomStream::kRoutingCalibration) spec.synthetic.drift_at_batches.clear();
  return make_routing_source(spec, {layers, experts, top_k},
                             derive_seed(x.seed, RandomStream::kRoutingPopularity),
                             derive_seed(x.seed, batches), draw_jobs);
}

Placement checked_place(const std::string& name, const PlacementPolicy& policy,
                        const PlacementContext& context) {
  Placement p = policy.place(context);
  if (const auto problem = placement_problem(p, context.num_layers(), context.num_experts);
      !problem.empty())
    throw std::logic_error(fmt::format("policy '{}' returned a bad placement: {}", name, problem));
  return p;
}

std::vector<LatencyCurve> measured_or_profiled_latency(const Experiment& x,
                                                       std::span<const GpuKernelModel> gpus,
                                                       const ProfilingSpec& profiling,
                                                       std::span<const double> multipliers) {
  const auto& measured = x.cluster.measured_latency;
  if (measured.empty()) {
    if (multipliers.empty()) return profile_gpus(gpus, profiling);
    std::vector<GpuKernelModel> current;
    for (std::size_t g = 0; g < gpus.size(); ++g) {
      auto v = gpus[g].variation();
      v.relative_time *= multipliers[g];
      current.emplace_back(x.cluster.sku, v, x.model);
    }
    return profile_gpus(current, profiling);
  }
  std::vector<LatencyCurve> out;
  for (std::size_t g = 0; g < gpus.size(); ++g) {
    const auto& f = curve_of_gpu(measured, g);
    auto latency = f.latency_points_ns();
    if (!multipliers.empty())
      for (auto& ns : latency) ns *= multipliers[g];
    out.emplace_back(f.tokens(), std::move(latency));
  }
  return out;
}

std::vector<GpuKernelModel> draw_gpus(const Experiment& x) {
  std::vector<GpuKernelModel> gpus;
  for (const auto& v :
       x.cluster.profile.draw(x.cluster.num_gpus, derive_seed(x.seed, RandomStream::kGpuDraw)))
    gpus.emplace_back(x.cluster.sku, v, x.model);
  return gpus;
}

ClusterSetup prepare_cluster(const Experiment& x, int draw_jobs) {
  const int g_count = x.cluster.num_gpus;
  const int experts_per_gpu = static_cast<int>(x.model.routed_experts) / g_count;
  ClusterSetup setup{
      draw_gpus(x), Topology(g_count, x.cluster.gpus_per_node, x.cluster.sku.interconnect), {}, {}};
  auto& c = setup.context;
  c.num_experts = static_cast<int>(x.model.routed_experts);
  c.num_gpus = g_count;
  c.num_nodes = setup.topology.num_nodes();
  c.expert_groups = static_cast<int>(x.model.expert_groups);
  c.max_slots_per_gpu = experts_per_gpu + x.cluster.redundant_slots_per_gpu;
  c.search_seconds_per_layer = x.placement.search_seconds_per_layer;
  auto windows = record_load_windows(x, draw_jobs);
  c.expert_loads = mean_loads(windows, static_cast<std::size_t>(x.model.routed_experts));
  c.load_windows =
      std::make_shared<const std::vector<std::vector<std::vector<double>>>>(std::move(windows));
  auto& profiling = setup.profiling;
  profiling.experts_per_gpu = experts_per_gpu;
  profiling.max_tokens =
      4.0 * static_cast<double>(x.workload.batch_tokens * x.model.top_k / g_count);
  profiling.repetitions = x.profiling_repetitions;
  profiling.jitter_cv = x.cluster.profile.kernel_jitter_cv;
  profiling.seed = derive_seed(x.seed, RandomStream::kProfiling);
  c.gpu_latency = measured_or_profiled_latency(x, setup.gpus, profiling, {});
  c.all_to_all_ns_per_token = AllToAllModel(setup.topology)
                                  .ns_per_routed_token(x.model.dispatch_bytes_per_token(),
                                                       x.model.combine_bytes_per_token());
  return setup;
}

}  // namespace vibesim
