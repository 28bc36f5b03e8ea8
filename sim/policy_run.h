#pragma once
// One policy's run on the experiment's cluster, as the layer study and the
// serving loop both set it up: the placement in force (with recalibration),
// the layer stepper that runs it, the GPUs' changing conditions and the event
// clock. Common random numbers: every policy's run draws the same jitter and
// the same thermal drift from the experiment seed.
#include <optional>
#include <string>

#include "policies/placement_policy.h"
#include "sim/cluster_setup.h"
#include "sim/event_engine.h"
#include "sim/experiment.h"
#include "sim/gpu_conditions.h"
#include "sim/layer_executor.h"
#include "sim/live_placement.h"
#include "sim/moe_layer_step.h"

namespace vibesim {

struct PolicyRun {
  // Keeps references to all arguments, which must outlive it.
  PolicyRun(const Experiment& experiment, const ClusterSetup& setup, const std::string& name,
            const PlacementPolicy& policy);

  // The GPUs' MoE expert time from measured curves (cluster.latency_profile), if given.
  std::optional<ProfiledExecutor> measured_gpus;
  LivePlacement live;
  MoeLayerStepper stepper;
  GpuConditions conditions;
  EventEngine engine;
};

}  // namespace vibesim
