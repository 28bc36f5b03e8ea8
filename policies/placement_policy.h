#pragma once
// The placement-policy interface: one context in, one placement out.
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "models/latency_curve.h"
#include "models/placement.h"

namespace vibesim {

// How close a policy proved one layer's placement to the best possible.
struct LayerProof {
  double lower_bound_ns = 0;      // no packing of the layer's items predicts less
  double predicted_ns = 0;        // the returned placement's predicted slowest GPU
  bool stopped_at_limit = false;  // the search hit its time limit before proving its target gap
  // (predicted - bound) / bound: the optimum is at most this far below the placement.
  [[nodiscard]] double proven_gap() const {
    return lower_bound_ns > 0 ? predicted_ns / lower_bound_ns - 1 : 0.0;
  }
};

// A run of layer proofs as outputs show them: each layer's proven gap, the
// widest, and where the search stopped at its limit.
struct ProofSummary {
  std::vector<double> gaps;  // per layer
  std::size_t widest_layer = 0;
  double widest_gap = 0;
  std::vector<std::size_t> stopped_layers;
};
inline ProofSummary summarize_proofs(const std::vector<LayerProof>& proofs) {
  ProofSummary s;
  for (std::size_t l = 0; l < proofs.size(); ++l) {
    s.gaps.push_back(proofs[l].proven_gap());
    if (l == 0 || s.gaps[l] > s.widest_gap) {
      s.widest_layer = l;
      s.widest_gap = s.gaps[l];
    }
    if (proofs[l].stopped_at_limit) s.stopped_layers.push_back(l);
  }
  return s;
}

// Everything a policy may know — what a real operator would have. Policies
// never see ground truth: only recorded loads and profiled latency curves.
struct PlacementContext {
  int num_experts = 0;
  int num_gpus = 0;
  int num_nodes = 1;
  int expert_groups = 1;      // the model's routing groups (EPLB packs groups onto nodes)
  int max_slots_per_gpu = 0;  // >= num_experts / num_gpus; the excess is the redundant-slot budget
  std::vector<std::vector<double>> expert_loads;  // [moe_layer][expert], recorded token counts
  // The recorded windows the means above come from, [moe_layer][window][expert]
  // (a simulation records one window per calibration batch); null when only
  // the means are known (`place --loads`, a recalibration's window).
  std::shared_ptr<const std::vector<std::vector<std::vector<double>>>> load_windows;
  std::vector<LatencyCurve> gpu_latency;  // profiled f_g, one per GPU
  // Dispatch + combine time per token routed to a GPU, from the link
  // bandwidths (what an operator knows of the fabric); 0 if unknown.
  double all_to_all_ns_per_token = 0;
  const Placement* current = nullptr;  // the placement in force, for incremental policies
  // How long a searching policy (`optimal`) may spend on one layer.
  double search_seconds_per_layer = 30;
  // Where a policy that proves its placements (`optimal`) reports one proof
  // per layer; null when the caller does not ask. Other policies leave it.
  std::vector<LayerProof>* proofs = nullptr;
  // Policies call this between layers, and the searching ones (`optimal`,
  // `latency_lpt`, `vibe`) within a layer's search too; it throws to stop
  // (a stop signal). Empty: nobody asks.
  std::function<void()> checkpoint;
  // Told when another layer has been placed, by the policies slow enough to
  // need it (those that poll `checkpoint` between layers): a progress report.
  // Empty: nobody asks.
  std::function<void()> layer_placed;

  // What those policies call before placing layer `layer`.
  void between_layers(int layer) const {
    if (checkpoint) checkpoint();
    if (layer > 0 && layer_placed) layer_placed();
  }

  [[nodiscard]] int num_layers() const { return static_cast<int>(expert_loads.size()); }
  [[nodiscard]] int base_slots_per_gpu() const { return num_experts / num_gpus; }
};

class PlacementPolicy {
 public:
  virtual ~PlacementPolicy() = default;
  // Must return a placement for every layer of `context` that passes
  // placement_problem(); must not keep references into `context`.
  [[nodiscard]] virtual Placement place(const PlacementContext& context) const = 0;
};

}  // namespace vibesim
