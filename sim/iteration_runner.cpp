#include "sim/iteration_runner.h"

#include <algorithm>
#include <cmath>

namespace vibesim {

namespace {

// Routing pools are drawn per (layer, batch size); serving batch sizes vary
// from 1 to max_batched_tokens, so counts are drawn at the nearest of these
// sizes (powers of two) and rescaled exactly to the batch: drawing a pool
// costs E binomials per entry, rescaling O(E) per step.
std::int64_t routing_bucket(std::int64_t tokens) {
  if (tokens <= 2) return tokens;
  return std::int64_t{1} << static_cast<int>(std::lround(std::log2(static_cast<double>(tokens))));
}

}  // namespace

IterationRunner::IterationRunner(const Experiment& x, const ClusterSetup& setup,
                                 RoutingSource& routing, LivePlacement& live,
                                 MoeLayerStepper& stepper, const std::string& policy)
    : x_(x),
      setup_(setup),
      routing_(routing),
      live_(live),
      stepper_(stepper),
      policy_(policy),
      deployment_(make_deployment(x.serving.deployment)),
      is_moe_(static_cast<std::size_t>(x.model.num_layers), false),
      counts_(static_cast<std::size_t>(x.model.routed_experts)),
      busy_ns_(setup.gpus.size(), 0.0) {
  for (auto l : x.model.moe_layers) is_moe_[static_cast<std::size_t>(l)] = true;
}

IterationRunner::DenseTimes IterationRunner::dense_times(const BatchShape& batch, bool moe_layer,
                                                         std::span<const double> multiplier) const {
  const auto work = deployment_->layer_work(x_.model, batch, moe_layer, x_.cluster.num_gpus);
  DenseTimes t;
  t.busy_ns.resize(setup_.gpus.size());
  for (std::size_t g = 0; g < setup_.gpus.size(); ++g) {
    const double k = multiplier.empty() ? 1.0 : multiplier[g];
    const auto& gpu = setup_.gpus[g];
    const double attention =
        gpu.dense_kernel_ns(KernelClass::kAttention, work.attention_flops, work.attention_bytes) *
        k;
    const double ffn = gpu.dense_kernel_ns(KernelClass::kDense, work.ffn_flops, work.ffn_bytes) * k;
    t.busy_ns[g] = attention + ffn;
    t.attention_max_ns = std::max(t.attention_max_ns, attention);
    t.ffn_max_ns = std::max(t.ffn_max_ns, ffn);
    t.attention_mean_ns += attention;
    t.ffn_mean_ns += ffn;
  }
  const auto g_count = static_cast<double>(setup_.gpus.size());
  t.attention_mean_ns /= g_count;
  t.ffn_mean_ns /= g_count;
  t.collectives_ns = deployment_->layer_collectives_ns(
      x_.model, batch, moe_layer, x_.cluster.sku.interconnect, x_.cluster.num_gpus);
  return t;
}

double IterationRunner::run(const IterationBatch& b, std::span<const double> multiplier,
                            SimTime start, const LayerRowSink& steps) {
  stepper_.set_kernel_time_multipliers(multiplier);
  const std::int64_t tokens = b.tokens();
  const std::int64_t bucket = routing_bucket(tokens);
  const double g_count = static_cast<double>(x_.cluster.num_gpus);
  auto& time = totals_.time;
  const double host_ns = x_.serving.host_overhead_us_per_iteration * 1e3;
  double iteration_ns = host_ns;
  time.host_s += host_ns * 1e-9;
  int moe_index = 0;
  std::fill(busy_ns_.begin(), busy_ns_.end(), 0.0);
  // Every layer of a kind costs the same for this batch: compute each once.
  const DenseTimes around_moe = dense_times(b.shape, true, multiplier);
  const DenseTimes dense_layer = dense_times(b.shape, false, multiplier);
  for (std::size_t l = 0; l < is_moe_.size(); ++l) {
    const auto& t = is_moe_[l] ? around_moe : dense_layer;
    iteration_ns += t.duration_ns();
    for (std::size_t g = 0; g < busy_ns_.size(); ++g) busy_ns_[g] += t.busy_ns[g];
    time.attention_s += t.attention_mean_ns * 1e-9;
    time.other_s += t.ffn_mean_ns * 1e-9;
    time.all_reduce_s += t.collectives_ns * 1e-9;
    time.barrier_wait_s +=
        (t.attention_max_ns - t.attention_mean_ns + t.ffn_max_ns - t.ffn_mean_ns) * 1e-9;
    if (!is_moe_[l]) continue;
    std::span<const std::int32_t> counts = routing_.next_counts({moe_index, bucket});
    if (bucket != tokens) {  // rescale a copy: the source's counts are read-only
      std::copy(counts.begin(), counts.end(), counts_.begin());
      rescale_counts(counts_, tokens * x_.model.top_k, tokens);
      counts = counts_;
    }
    live_.record(moe_index, counts);
    const auto step = stepper_.step(moe_index, counts);
    if (steps)
      steps(LayerRow{policy_, static_cast<int>(totals_.iterations), moe_index,
                     start + SimDuration::from_ns_rounded(iteration_ns), step});
    iteration_ns += static_cast<double>(step.layer.ns());
    totals_.barrier_idle_sum += step.barrier_idle_fraction();
    ++totals_.moe_layer_steps;
    double kernel = 0, a2a = 0, idle = 0;
    for (std::size_t g = 0; g < step.gpus.size(); ++g) busy_ns_[g] += step.gpus[g].compute_ns;
    for (const auto& g : step.gpus) {
      kernel += g.compute_ns;
      a2a += g.dispatch_ns + g.combine_ns;
      idle += g.idle_ns;
    }
    time.moe_kernel_s += kernel / g_count * 1e-9;
    time.all_to_all_s += a2a / g_count * 1e-9;
    time.barrier_wait_s += idle / g_count * 1e-9;
    ++moe_index;
  }
  ++totals_.iterations;
  return iteration_ns;
}

}  // namespace vibesim
