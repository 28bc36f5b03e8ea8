#include "sim/live_placement.h"

#include <cstdint>
#include <limits>

#include "models/expert_migration.h"

namespace vibesim {

namespace {

// recalibration.migration_budget_gb and migration_price_us_per_gb per expert copy.
MigrationLimits migration_limits(const Experiment& x) {
  constexpr auto kUnlimited = std::numeric_limits<std::int64_t>::max();
  const double gb_per_copy = x.model.expert_weight_bytes() / 1e9;
  const double copies = x.recalibration.migration_budget_gb / gb_per_copy;
  // 0 = no budget. Compared as doubles: int64 max rounds up to 2^63, which no cast may reach.
  const bool capped = copies > 0 && copies < 0x1p63;
  return {capped ? static_cast<std::int64_t>(copies) : kUnlimited,
          x.recalibration.migration_price_us_per_gb * 1e3 * gb_per_copy};
}

// `policy`'s placement from `context`, its proofs (if it gives any) into `proofs`.
Placement place_with_proofs(const std::string& name, const PlacementPolicy& policy,
                            PlacementContext context, std::vector<LayerProof>& proofs) {
  context.proofs = &proofs;
  return checked_place(name, policy, context);
}

}  // namespace

LivePlacement::LivePlacement(const Experiment& x, const ClusterSetup& setup,
                             const std::string& name, const PlacementPolicy& policy)
    : x_(x),
      setup_(setup),
      name_(name),
      policy_(policy),
      recalibrating_(x.recalibration.controller != RecalibrationKind::kNever),
      placement_(place_with_proofs(name, policy, setup.context, first_proofs_)),
      controller_(x.recalibration, setup.context.expert_loads),
      pass_counts_(static_cast<std::size_t>(x.model.num_moe_layers())),
      limits_(migration_limits(x)) {}

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
  if (x_.recalibration.migration_budget_gb > 0 || x_.recalibration.migration_price_us_per_gb > 0)
    next = within_migration_limits(placement_, next, now, limits_);
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
