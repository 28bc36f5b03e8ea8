#pragma once
// The placement in force during a run, and its recalibration — shared by the
// layer study and the serving loop. It records each forward pass's routing,
// asks the experiment's RecalibrationController whether to re-place, and if
// so re-profiles the GPUs as they are now (when `recalibration.reprofile`),
// re-places (incrementally when the controller says so), charges the
// migration and switches the layer stepper to the new placement.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/sim_time.h"
#include "policies/migration_budget.h"
#include "policies/recalibration.h"
#include "sim/cluster_setup.h"
#include "sim/experiment.h"
#include "sim/moe_layer_step.h"

namespace vibesim {

// One re-placement while running.
struct RecalibrationEvent {
  double at_ms = 0;  // simulated time of the pass end that triggered it
  std::int64_t experts_moved = 0;
  double migration_stall_ms = 0;
};

// What recalibration cost over a run.
struct RecalibrationTotals {
  int recalibrations = 0;          // re-placements while running
  std::int64_t experts_moved = 0;  // expert copies over all re-placements and layers
  double migration_stall_ms = 0;   // serving time lost to those copies
  int reprofiles = 0;              // profiling runs before re-placements
  std::vector<RecalibrationEvent> events;

  [[nodiscard]] double experts_moved_per_layer_per_recalibration(std::int64_t moe_layers) const {
    return recalibrations > 0 ? static_cast<double>(experts_moved) /
                                    static_cast<double>(recalibrations * moe_layers)
                              : 0.0;
  }
};

class LivePlacement {
 public:
  // Places with `policy` from the set-up's context; keeps references to all
  // arguments, which must outlive it.
  LivePlacement(const Experiment& experiment, const ClusterSetup& setup, const std::string& name,
                const PlacementPolicy& policy);

  [[nodiscard]] const Placement& placement() const { return placement_; }
  [[nodiscard]] const RecalibrationTotals& totals() const { return totals_; }
  // Per layer, how close a policy that proves its placements (`optimal`)
  // proved the first one; empty for other policies.
  [[nodiscard]] const std::vector<LayerProof>& first_proofs() const { return first_proofs_; }

  // The routing of MoE layer `moe_layer` in the current pass.
  void record(int moe_layer, std::span<const std::int32_t> counts);
  // The pass ended at `now` with the GPUs running at `kernel_time_multipliers`
  // (see GpuConditions; empty = as drawn): maybe re-place and switch
  // `stepper`. Returns the stall the expert copies cause.
  SimDuration end_pass(SimTime now, std::span<const double> kernel_time_multipliers,
                       MoeLayerStepper& stepper);

 private:
  const Experiment& x_;
  const ClusterSetup& setup_;
  const std::string& name_;
  const PlacementPolicy& policy_;
  bool recalibrating_;  // a controller other than "never"
  std::vector<LayerProof> first_proofs_;
  Placement placement_;
  RecalibrationController controller_;
  std::vector<std::vector<std::int32_t>> pass_counts_;  // [moe_layer][expert]
  MigrationLimits limits_;  // recalibration.migration_budget_gb and migration_price_us_per_gb
  RecalibrationTotals totals_;
};

}  // namespace vibesim
