#pragma once
// Runs every layer of one serving iteration: attention and dense parts on the
// GPUs' own speeds (models/dense_layer_cost.h), MoE layers through the
// synchronized layer step with routing drawn for the iteration's tokens.
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "models/deployment.h"
#include "sim/batch_scheduler.h"
#include "sim/cluster_setup.h"
#include "sim/experiment.h"
#include "sim/live_placement.h"
#include "sim/moe_layer_step.h"
#include "traces/routing_source.h"

namespace vibesim {

// Where the time of all iterations so far went, summed layer by layer.
struct IterationTotals {
  std::int64_t iterations = 0, moe_layer_steps = 0;
  // MoE expert kernels and all-to-all as the mean over GPUs; attention, the
  // TP all-reduce and the rest (dense FFN, shared experts) on the slowest GPU.
  double moe_kernel_s = 0, all_to_all_s = 0, attention_s = 0, all_reduce_s = 0, other_s = 0;
  double barrier_idle_sum = 0;  // over MoE layer steps
};

class IterationRunner {
 public:
  // Keeps references to all arguments, which must outlive it.
  IterationRunner(const Experiment& experiment, const ClusterSetup& setup, RoutingSource& routing,
                  LivePlacement& live, MoeLayerStepper& stepper);

  // Runs one iteration with the GPUs at `kernel_time_multipliers` (see
  // GpuConditions); returns its duration in ns.
  double run(const IterationBatch& batch, std::span<const double> kernel_time_multipliers);
  [[nodiscard]] const IterationTotals& totals() const { return totals_; }

 private:
  struct DenseTimes {
    double attention_ns = 0, ffn_ns = 0, all_reduce_ns = 0;
  };
  DenseTimes dense_times(const BatchShape& batch, bool moe_layer,
                         std::span<const double> multiplier) const;

  const Experiment& x_;
  const ClusterSetup& setup_;
  RoutingSource& routing_;
  LivePlacement& live_;
  MoeLayerStepper& stepper_;
  std::unique_ptr<const Deployment> deployment_;
  std::vector<bool> is_moe_;  // per model layer
  std::vector<std::int32_t> counts_;
  IterationTotals totals_;
};

}  // namespace vibesim
