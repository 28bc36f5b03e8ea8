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
#include "sim/time_breakdown.h"
#include "traces/routing_source.h"

namespace vibesim {

// What all iterations so far did, summed layer by layer.
struct IterationTotals {
  std::int64_t iterations = 0, moe_layer_steps = 0;
  TimeBreakdown time;
  double barrier_idle_sum = 0;  // over MoE layer steps
};

class IterationRunner {
 public:
  // Keeps references to all arguments, which must outlive it.
  IterationRunner(const Experiment& experiment, const ClusterSetup& setup, RoutingSource& routing,
                  LivePlacement& live, MoeLayerStepper& stepper, const std::string& policy);

  // Runs one iteration with the GPUs at `kernel_time_multipliers` (see
  // GpuConditions); returns its duration in ns, the host overhead
  // (serving.host_overhead_us_per_iteration) included.
  // The iteration starts at `start`; `steps` (may be empty) sees each MoE layer step.
  double run(const IterationBatch& batch, std::span<const double> kernel_time_multipliers,
             SimTime start, const LayerRowSink& steps);
  [[nodiscard]] const IterationTotals& totals() const { return totals_; }
  // Per GPU, the time the last iteration spent computing (kernels, not
  // collectives or waits): what heats it (GpuConditions::ran).
  [[nodiscard]] std::span<const double> busy_ns() const { return busy_ns_; }

 private:
  // One layer's attention and dense-FFN kernels: the slowest GPU's (which
  // the layer waits for) and the mean GPU's.
  struct DenseTimes {
    double attention_max_ns = 0, ffn_max_ns = 0, attention_mean_ns = 0, ffn_mean_ns = 0;
    double collectives_ns = 0;
    std::vector<double> busy_ns;  // per GPU: attention + dense FFN
    [[nodiscard]] double duration_ns() const {
      return attention_max_ns + ffn_max_ns + collectives_ns;
    }
  };
  DenseTimes dense_times(const BatchShape& batch, bool moe_layer,
                         std::span<const double> multiplier) const;

  const Experiment& x_;
  const ClusterSetup& setup_;
  RoutingSource& routing_;
  LivePlacement& live_;
  MoeLayerStepper& stepper_;
  const std::string& policy_;
  std::unique_ptr<const Deployment> deployment_;
  std::vector<bool> is_moe_;  // per model layer
  std::vector<std::int32_t> counts_;
  IterationTotals totals_;
  std::vector<double> busy_ns_;  // per GPU, last iteration
};

}  // namespace vibesim
