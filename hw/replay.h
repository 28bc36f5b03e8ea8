#pragma once
// `vibesim hw replay`: an experiment's layer steps under one policy's
// placement, run on an executor: real GPUs, or for `hw validate` the
// calibrated profile's prediction of them. The steps are those of `vibesim
// run` (same recorded loads, same routing batches, same seed); the placement
// stays fixed (no recalibration) and only expert computation is replayed:
// every GPU starts its experts together and the layer ends at the barrier,
// so layers.csv has zero dispatch and combine.
#include <functional>
#include <string>
#include <vector>

#include "models/latency_curve.h"
#include "sim/cluster_setup.h"
#include "sim/experiment.h"
#include "sim/layer_executor.h"
#include "sim/moe_layer_step.h"

namespace vibesim {

class PolicyRegistry;

struct ReplaySpec {
  std::string policy;
  // The f_g the policy places with; virtual GPU g takes curve g % size.
  // Empty: the simulated cluster's profile, as `vibesim run` would use.
  std::vector<LatencyCurve> profile;
  int iterations = 0;   // passes over the MoE layers; 0: the experiment's
  double warmup_s = 0;  // the first step, repeated this long before timing
};

struct ReplayedStep {
  int iteration = 0;
  int moe_layer = 0;
  double layer_ns = 0;                 // the barrier: the slowest GPU
  std::vector<double> gpu_compute_ns;  // per GPU
};

struct Replay {
  std::string policy;
  std::vector<ReplayedStep> steps;
};

// The experiment's cluster as replays place on it: prepare_cluster with the
// policies seeing `spec.profile` where one is given. Prepare it once and
// replay every policy and executor on it.
ClusterSetup replay_cluster(const Experiment& experiment, const ReplaySpec& spec);

// `setup` from replay_cluster(experiment, spec); `checkpoint` is called
// before every step (interrupts).
Replay replay_layer_steps(const Experiment& experiment, const ClusterSetup& setup,
                          const PolicyRegistry& registry, const ReplaySpec& spec,
                          LayerExecutor& executor, const LayerRowSink& sink,
                          const std::function<void()>& checkpoint);

}  // namespace vibesim
