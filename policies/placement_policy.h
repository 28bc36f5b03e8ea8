#pragma once
// The placement-policy interface: one context in, one placement out.
#include <memory>
#include <string>
#include <vector>

#include "models/latency_curve.h"
#include "models/placement.h"

namespace vibesim {

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
