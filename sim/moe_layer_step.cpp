#include "sim/moe_layer_step.h"

#include <algorithm>
#include <cassert>
#include <cmath>

namespace vibesim {

double LayerStepResult::barrier_idle_fraction() const {
  double idle = 0;
  for (const auto& g : gpus) idle += g.idle_ns;
  const double total = static_cast<double>(layer.ns()) * static_cast<double>(gpus.size());
  return total > 0 ? idle / total : 0.0;
}

double LayerStepResult::max_over_mean_tokens() const {
  double max = 0, sum = 0;
  for (const auto& g : gpus) {
    max = std::max(max, g.tokens);
    sum += g.tokens;
  }
  return sum > 0 ? max * static_cast<double>(gpus.size()) / sum : 0.0;
}

MoeLayerStepper::MoeLayerStepper(const MoeModel& model, std::span<const GpuKernelModel> gpus,
                                 const Topology& topology, const Placement& placement,
                                 double jitter_cv, std::uint64_t jitter_seed, MoeExchange exchange)
    : MoeLayerStepper(model, std::make_unique<ModelledExecutor>(gpus), nullptr, topology, placement,
                      exchange, jitter_cv, jitter_seed) {
  assert(static_cast<int>(gpus.size()) == placement.num_gpus);
}

MoeLayerStepper::MoeLayerStepper(const MoeModel& model, LayerExecutor& executor,
                                 const Topology& topology, const Placement& placement,
                                 MoeExchange exchange, double jitter_cv, std::uint64_t jitter_seed)
    : MoeLayerStepper(model, nullptr, &executor, topology, placement, exchange, jitter_cv,
                      jitter_seed) {}

MoeLayerStepper::MoeLayerStepper(const MoeModel& model, std::unique_ptr<LayerExecutor> owned,
                                 LayerExecutor* borrowed, const Topology& topology,
                                 const Placement& placement, MoeExchange exchange, double jitter_cv,
                                 std::uint64_t jitter_seed)
    : owned_executor_(std::move(owned)),
      executor_(owned_executor_ ? owned_executor_.get() : borrowed),
      num_gpus_(placement.num_gpus),
      num_experts_(static_cast<int>(model.routed_experts)),
      all_to_all_(topology),
      slots_per_gpu_(placement.slots_per_gpu),
      dispatch_bytes_per_token_(model.dispatch_bytes_per_token()),
      combine_bytes_per_token_(model.combine_bytes_per_token()),
      jitter_cv_(jitter_cv),
      exchange_(exchange),
      jitter_draws_(jitter_seed) {
  const auto g = static_cast<std::size_t>(num_gpus_);
  assert(num_gpus_ == topology.num_gpus());
  set_placement(placement);
  records_.resize(g);
  compute_ns_.resize(g);
  tokens_.resize(g);
  gpu_token_sums_.resize(g);
  dispatch_ns_.resize(g);
  combine_ns_.resize(g);
}

void MoeLayerStepper::set_shares(LayerSlots& layer, std::span<const double> share) const {
  layer.share_begin.resize(share.size());
  layer.share_end.resize(share.size());
  std::vector<double> cumulative(static_cast<std::size_t>(num_experts_), 0.0);
  for (std::size_t s = 0; s < share.size(); ++s) {
    auto& sum = cumulative[static_cast<std::size_t>(layer.expert[s])];
    layer.share_begin[s] = sum;
    const bool last = layer.replica_rank[s] + 1 == layer.replica_count[s];
    sum = last ? 1.0 : std::min(1.0, sum + share[s]);
    layer.share_end[s] = sum;
  }
}

void MoeLayerStepper::set_placement(const Placement& placement) {
  assert(placement.num_gpus == num_gpus_);
  slots_per_gpu_ = placement.slots_per_gpu;
  slot_tokens_.resize(static_cast<std::size_t>(num_gpus_) *
                      static_cast<std::size_t>(slots_per_gpu_));
  layers_.clear();
  for (std::size_t l = 0; l < placement.physical_to_logical.size(); ++l) {
    const auto& slots = placement.physical_to_logical[l];
    LayerSlots layer;
    layer.expert = slots;
    std::vector<int> replicas(static_cast<std::size_t>(num_experts_), 0);
    layer.replica_rank.resize(slots.size());
    for (std::size_t s = 0; s < slots.size(); ++s)
      layer.replica_rank[s] = replicas[static_cast<std::size_t>(slots[s])]++;
    layer.replica_count.resize(slots.size());
    for (std::size_t s = 0; s < slots.size(); ++s) {
      layer.replica_count[s] = replicas[static_cast<std::size_t>(slots[s])];
      layer.has_replicas |= layer.replica_count[s] > 1;
    }
    if (placement.has_replica_shares()) set_shares(layer, placement.replica_share[l]);
    layers_.push_back(std::move(layer));
  }
}

template <typename TokensOfSlot>
void MoeLayerStepper::gather_tokens(TokensOfSlot tokens_of_slot) {
  const auto slots_per_gpu = static_cast<std::size_t>(slots_per_gpu_);
  std::int32_t* const slot_tokens = slot_tokens_.data();
  for (std::size_t g = 0, s = 0; g < tokens_.size(); ++g) {
    std::int64_t sum = 0;
    // Unrolled: the loop's own increment and compare were 2 of the 7
    // instructions per slot in the hottest loop of a layer step.
#pragma GCC unroll 4
    for (const auto end = s + slots_per_gpu; s < end; ++s) {
      const std::int32_t n = tokens_of_slot(s);
      slot_tokens[s] = n;
      sum += n;
    }
    gpu_token_sums_[g] = sum;
    tokens_[g] = static_cast<double>(sum);
  }
}

// Each slot's tokens: its expert's, split over the expert's replicas by
// token share, or else evenly (the remainder to the first replicas). One
// loop per case keeps the common one (no replicas) a plain gather.
void MoeLayerStepper::gather_layer_tokens(const LayerSlots& layer,
                                          std::span<const std::int32_t> expert_counts) {
  const auto expert_tokens = [&](std::size_t s) {
    return expert_counts[static_cast<std::size_t>(layer.expert[s])];
  };
  if (!layer.share_end.empty()) {
    gather_tokens([&](std::size_t s) {
      const std::int32_t n = expert_tokens(s);
      return static_cast<std::int32_t>(std::llround(n * layer.share_end[s]) -
                                       std::llround(n * layer.share_begin[s]));
    });
  } else if (layer.has_replicas) {
    gather_tokens([&](std::size_t s) {
      const std::int32_t n = expert_tokens(s);
      const int r = layer.replica_count[s];
      return n / r + (layer.replica_rank[s] < n % r ? 1 : 0);
    });
  } else {
    gather_tokens(expert_tokens);
  }
}

// Each GPU's kernel time: the executor's, times its condition multiplier and
// the kernel's jitter (drawn only for kernels that run).
void MoeLayerStepper::time_kernels() {
  const LayerWork work{num_gpus_, slots_per_gpu_, slot_tokens_, gpu_token_sums_};
  executor_->run(work, compute_ns_);
  for (std::size_t g = 0; g < records_.size(); ++g) {
    double kernel_ns = compute_ns_[g];
    if (!multipliers_.empty()) kernel_ns *= multipliers_[g];
    if (jitter_cv_ > 0 && kernel_ns > 0)
      kernel_ns *= std::max(0.5, 1.0 + jitter_cv_ * jitter_draws_.next());
    records_[g] = GpuLayerRecord{tokens_[g], 0.0, kernel_ns, 0.0, 0.0};
  }
}

// Dispatch: GPU j's kernel starts when its last incoming flow lands. Combine:
// its results flow back once the kernel ends; the layer ends (the barrier)
// when the last of all flows lands.
LayerStepResult MoeLayerStepper::exchange_and_barrier() {
  if (exchange_ == MoeExchange::kAllToAll) {
    all_to_all_.longest_flow_ns(tokens_, dispatch_bytes_per_token_, /*combine=*/false,
                                dispatch_ns_);
    all_to_all_.longest_flow_ns(tokens_, combine_bytes_per_token_, /*combine=*/true, combine_ns_);
  }
  double layer_end = 0;
  int straggler = 0;
  for (std::size_t j = 0; j < records_.size(); ++j) {
    auto& r = records_[j];
    r.dispatch_ns = dispatch_ns_[j];
    r.combine_ns = combine_ns_[j];
    const double path_end = r.dispatch_ns + r.compute_ns + r.combine_ns;
    if (path_end > layer_end) {
      layer_end = path_end;
      straggler = static_cast<int>(j);
    }
  }
  for (auto& r : records_)
    r.idle_ns = std::max(0.0, layer_end - (r.dispatch_ns + r.compute_ns + r.combine_ns));
  return LayerStepResult{SimDuration::from_ns_rounded(layer_end), straggler, records_};
}

LayerStepResult MoeLayerStepper::step(int moe_layer, std::span<const std::int32_t> expert_counts) {
  gather_layer_tokens(layers_[static_cast<std::size_t>(moe_layer)], expert_counts);
  time_kernels();
  return exchange_and_barrier();
}

}  // namespace vibesim
