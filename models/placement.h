#pragma once
// An expert placement: for every MoE layer, the logical expert held in each
// physical slot. Slot s lives on GPU s / slots_per_gpu — the layout of SGLang's
// `physical_to_logical_map`. An expert may occupy several slots (replicas);
// its tokens are then split evenly across them, unless the placement carries
// per-replica token shares (as an engine's weighted dispatch table can).
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace vibesim {

struct Placement {
  int num_gpus = 0;
  int slots_per_gpu = 0;
  std::vector<std::vector<int>> physical_to_logical;  // [moe_layer][slot]
  // Empty: every expert's tokens split evenly over its replicas. Otherwise
  // [moe_layer][slot]: the fraction of its expert's tokens the slot computes
  // (>= 0; an expert's slots sum to 1).
  std::vector<std::vector<double>> replica_share{};

  [[nodiscard]] bool has_replica_shares() const { return !replica_share.empty(); }

  [[nodiscard]] int num_slots() const { return num_gpus * slots_per_gpu; }
  [[nodiscard]] int gpu_of_slot(int slot) const { return slot / slots_per_gpu; }
};

// The fraction of its expert's tokens each slot of `moe_layer` computes:
// `replica_share`, or else 1 / (the expert's replica count).
[[nodiscard]] std::vector<double> replica_shares(const Placement& placement, int moe_layer);

// Tokens each GPU computes in `moe_layer` under `expert_loads` (per expert),
// each expert's load split over its replicas by replica_shares().
[[nodiscard]] std::vector<double> gpu_tokens(const Placement& placement, int moe_layer,
                                             std::span<const double> expert_loads);

// `after` with each GPU's slots reordered so that every expert the GPU held in
// `before` keeps its old slot (as vLLM's EPLB does); arriving experts fill the
// freed slots in their order in `after`. Only positions within a GPU change,
// so token counts, latencies and the migration cost are the same: what
// changes is that an engine rewrites only the slots whose expert changed.
// Token shares move with their slots. The two must have the same shape.
[[nodiscard]] Placement keep_slots_in_place(const Placement& before, Placement after);

// Slots, summed over layers, whose expert differs between the two (same shape).
[[nodiscard]] std::int64_t slots_changed(const Placement& before, const Placement& after);

// Empty if `placement` is well formed for `num_layers` x `num_experts` (every
// slot holds a valid expert, every expert has a slot, token shares if any are
// finite, >= 0 and sum to 1 per expert within 1e-6); else what is wrong.
[[nodiscard]] std::string placement_problem(const Placement& placement, int num_layers,
                                            int num_experts);

}  // namespace vibesim
