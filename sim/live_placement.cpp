#include "sim/live_placement.h"

#include "models/expert_migration.h"

namespace vibesim {

LivePlacement::LivePlacement(const Experiment& x, const ClusterSetup& setup,
                             const std::string& name, const PlacementPolicy& policy)
    : x_(x),
      setup_(setup),
      name_(name),
      policy_(policy),
      recalibrating_(x.recalibration.controller != RecalibrationKind::kNever),
      placement_(checked_place(name, policy, setup.context)),
      controller_(x.recalibration, setup.context.expert_loads),
      pass_counts_(static_cast<std::size_t>(x.model.num_moe_layers())) {}

void LivePlacement::record(int moe_layer, std::span<const std::int32_t> counts) {
  if (!recalibrating_) return;  // nothing will read them
  pass_counts_[static_cast<std::size_t>(moe_layer)].assign(counts.begin(), counts.end());
}

SimDuration LivePlacement::end_pass(SimTime now_time,
                                    std::span<const double> kernel_time_multipliers,
                                    MoeLayerStepper& stepper) {
  if (!recalibrating_) return SimDuration{};
  const auto action = controller_.observe_pass(pass_counts_);
  if (action == Replacement::kNone) return SimDuration{};
  PlacementContext now = setup_.context;
  now.expert_loads = controller_.window_loads();
  if (x_.recalibration.reprofile) {  // measure the GPUs as they are now
    now.gpu_latency =
        measured_or_profiled_latency(x_, setup_.gpus, setup_.profiling, kernel_time_multipliers);
    ++totals_.reprofiles;
  }
  now.current = action == Replacement::kIncremental ? &placement_ : nullptr;
  // Experts that stay on a GPU keep their slots, as a real engine's re-placement does.
  Placement next = keep_slots_in_place(placement_, checked_place(name_, policy_, now));
  const auto cost =
      migration_cost(placement_, next, setup_.topology, x_.model.expert_weight_bytes());
  ++totals_.recalibrations;
  totals_.experts_moved += cost.experts_moved;
  totals_.migration_stall_ms += cost.stall.ms();
  totals_.events.push_back(
      {static_cast<double>(now_time.ns()) * 1e-6, cost.experts_moved, cost.stall.ms()});
  placement_ = std::move(next);
  stepper.set_placement(placement_);
  controller_.placed(std::move(now.expert_loads));
  return cost.stall;
}

}  // namespace vibesim
