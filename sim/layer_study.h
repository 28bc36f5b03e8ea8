#pragma once
// The layer-level study behind `vibesim run`: draw the cluster, profile it,
// record a load matrix, then run every policy's placement through the same
// sequence of synchronized MoE layer steps (common random numbers: same GPUs,
// same routing, same jitter for every policy).
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "models/latency_curve.h"
#include "models/variability_profile.h"
#include "sim/experiment.h"
#include "sim/live_placement.h"
#include "sim/moe_layer_step.h"

namespace vibesim {

class PolicyRegistry;

struct GpuSummary {
  GpuVariation variation;
  double compute_bound_clock_fraction = 0;  // sustained clock / max at full activity
  double memory_bound_clock_fraction = 0;
  double balanced_kernel_time_rel = 0;  // kernel time at an even token split / mean over GPUs
};

struct PolicySummary {
  std::string policy;
  std::int64_t layer_steps = 0;
  double latency_p50_us = 0, latency_p90_us = 0, latency_p99_us = 0, latency_mean_us = 0;
  double barrier_idle_fraction = 0;  // mean over layer steps
  double max_over_mean_tokens = 0;   // mean over layer steps
  // What the policy could foresee: max_g f_g(n_g) under the recorded loads,
  // mean over layers, and its mean relative gap to the per-layer lower bound.
  double predicted_latency_us = 0;
  double predicted_gap_to_bound = 0;
  // From a policy that proves its placements (`optimal`), per layer; else empty.
  std::vector<LayerProof> proofs;
  std::vector<std::int64_t> straggler_counts;  // per GPU
  // [gpu][moe layer]: barrier wait as a fraction of the layer, mean over iterations.
  std::vector<std::vector<double>> gpu_layer_idle_fraction;
  RecalibrationTotals recalibration;
  // Layer latency from the first scheduled GPU event on (0 without events):
  // what a stale profile costs, next to the whole-run figures.
  double after_event_p50_us = 0, after_event_p90_us = 0;
  SimDuration simulated_time;
};

struct LayerStudyResult {
  std::vector<GpuSummary> gpus;
  std::vector<LatencyCurve> gpu_latency;          // profiled f_g, what the policies saw
  std::vector<std::vector<double>> expert_loads;  // [moe_layer][expert], the recorded loads
  std::vector<PolicySummary> policies;
};

// `checkpoint`, if given, is called between the layers a policy places (see
// PlacementContext::checkpoint); `sink` is called at every layer step.
// Synthetic routing's pools are drawn on `jobs` threads (the same results
// for any number).
LayerStudyResult run_layer_study(const Experiment& experiment, const PolicyRegistry& registry,
                                 const LayerRowSink& sink,
                                 const std::function<void()>& checkpoint = {}, int jobs = 1);

}  // namespace vibesim
