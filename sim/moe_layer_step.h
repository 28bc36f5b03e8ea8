#pragma once
// One synchronized MoE layer across the expert-parallel group:
//   dispatch all-to-all -> per-GPU fused expert kernel -> combine all-to-all -> barrier,
// or, when the deployment combines by all-reduce (MoeExchange::kAllReduce),
//   per-GPU fused expert kernel -> barrier (the all-reduce is the caller's).
// GPU j starts its kernel when all its tokens have arrived; every GPU waits at
// the barrier until the last combine flow lands, so the layer ends with the
// slowest GPU. The phases form a fixed dependency graph, so their times are
// computed directly (max-plus), not through the event queue; the event engine
// sequences layer steps and, later, requests.
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/normal_draws.h"
#include "base/sim_time.h"
#include "models/deployment.h"
#include "models/gpu_kernel_model.h"
#include "models/moe_model.h"
#include "models/placement.h"
#include "models/topology.h"
#include "sim/layer_executor.h"

namespace vibesim {

struct GpuLayerRecord {
  double tokens = 0;       // token-expert assignments computed on this GPU
  double dispatch_ns = 0;  // until its last incoming dispatch flow lands
  double compute_ns = 0;   // its fused expert kernel, jitter included
  double combine_ns = 0;   // its longest outgoing combine flow
  double idle_ns = 0;      // barrier wait: layer time minus the three above
};

struct LayerStepResult {
  SimDuration layer;
  int straggler_gpu =
      0;  // the GPU whose dispatch+compute+combine path is longest (lowest id on ties)
  std::span<const GpuLayerRecord> gpus;  // valid until the next step()

  [[nodiscard]] double barrier_idle_fraction() const;
  [[nodiscard]] double max_over_mean_tokens() const;
};

// One layer step as a study or serving run observes it.
struct LayerRow {
  const std::string& policy;
  int iteration;
  int moe_layer;
  SimTime start;  // when the step began on the policy's own clock (stalls included)
  const LayerStepResult& step;
};
// Receives every layer step as it happens (layers.csv, timelines).
using LayerRowSink = std::function<void(const LayerRow&)>;

class MoeLayerStepper {
 public:
  // `gpus` holds one kernel model per GPU; `placement` gives each layer's slots.
  // Per-kernel jitter (coefficient of variation `jitter_cv`) draws from a
  // stream seeded with `jitter_seed`.
  MoeLayerStepper(const MoeModel& model, std::span<const GpuKernelModel> gpus,
                  const Topology& topology, const Placement& placement, double jitter_cv,
                  std::uint64_t jitter_seed, MoeExchange exchange = MoeExchange::kAllToAll);
  // The same layer step with another executor's compute times (measured
  // curves, a profile's prediction, real GPUs); `executor` must outlive it.
  MoeLayerStepper(const MoeModel& model, LayerExecutor& executor, const Topology& topology,
                  const Placement& placement, MoeExchange exchange, double jitter_cv = 0,
                  std::uint64_t jitter_seed = 0);

  // Switches to another placement (same GPUs and slots per GPU) from the next step on.
  void set_placement(const Placement& placement);

  // Per-GPU kernel-time multipliers (GpuConditions) for the following steps;
  // empty = all 1. Like jitter, they perturb whatever the executor returns.
  void set_kernel_time_multipliers(std::span<const double> multipliers) {
    multipliers_ = multipliers;
  }

  // Runs MoE layer `moe_layer` with per-expert token counts `expert_counts`.
  LayerStepResult step(int moe_layer, std::span<const std::int32_t> expert_counts);

 private:
  MoeLayerStepper(const MoeModel& model, std::unique_ptr<LayerExecutor> owned,
                  LayerExecutor* borrowed, const Topology& topology, const Placement& placement,
                  MoeExchange exchange, double jitter_cv, std::uint64_t jitter_seed);

  struct LayerSlots {
    std::vector<int> expert;         // per slot
    std::vector<int> replica_rank;   // per slot: which of its expert's replicas
    std::vector<int> replica_count;  // per slot: how many replicas its expert has
    bool has_replicas = false;
    // Token shares, if the placement has them: per slot, the slot computes
    // round(n * share_end) - round(n * share_begin) of its expert's n tokens,
    // the cumulative shares of the expert's replicas in slot order (the last
    // one ends at exactly 1, so the replicas' tokens sum to n).
    std::vector<double> share_begin, share_end;
  };
  void set_shares(LayerSlots& layer, std::span<const double> share) const;
  // Sets every slot's tokens to `tokens_of_slot(slot)` (slot_tokens_) and
  // every GPU's sum of them (gpu_token_sums_, and as doubles tokens_).
  template <typename TokensOfSlot>
  void gather_tokens(TokensOfSlot tokens_of_slot);
  // The three phases of a step, in order: each slot's tokens, each GPU's
  // kernel time (records_), then the exchange and the barrier.
  void gather_layer_tokens(const LayerSlots& layer, std::span<const std::int32_t> expert_counts);
  void time_kernels();
  LayerStepResult exchange_and_barrier();

  std::unique_ptr<LayerExecutor> owned_executor_;  // the modelled one, unless given another
  LayerExecutor* executor_;
  int num_gpus_;
  int num_experts_;
  AllToAllModel all_to_all_;
  int slots_per_gpu_;
  double dispatch_bytes_per_token_;
  double combine_bytes_per_token_;
  double jitter_cv_;
  MoeExchange exchange_;
  std::vector<LayerSlots> layers_;
  std::span<const double> multipliers_;
  NormalDraws jitter_draws_;
  // Scratch, reused every step.
  std::vector<GpuLayerRecord> records_;
  std::vector<std::int32_t> slot_tokens_;
  std::vector<double> compute_ns_;
  std::vector<std::int64_t> gpu_token_sums_;
  std::vector<double> tokens_;
  std::vector<double> dispatch_ns_;
  std::vector<double> combine_ns_;
};

}  // namespace vibesim
