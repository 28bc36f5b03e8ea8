#pragma once
// What every run starts from, whether a layer study or a serving run: the
// cluster drawn from the experiment's profile, its topology, and what the
// operator knows before placing experts — the recorded load matrix and the
// profiled latency curves (the policies' PlacementContext).
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/derived_seed.h"
#include "models/gpu_kernel_model.h"
#include "models/topology.h"
#include "policies/placement_policy.h"
#include "sim/experiment.h"
#include "sim/gpu_profiler.h"
#include "traces/routing_source.h"

namespace vibesim {

struct ClusterSetup {
  std::vector<GpuKernelModel> gpus;
  Topology topology;
  ProfilingSpec profiling;   // how the curves were measured (re-profiling repeats it)
  PlacementContext context;  // recorded loads, profiled f_g, all-to-all cost, slots
};

// Synthetic routing's calibration pools are drawn on `draw_jobs` threads
// (the same counts for any number).
ClusterSetup prepare_cluster(const Experiment& experiment, int draw_jobs = 1);

// The experiment's GPUs, drawn from its profile with its seed: the same for
// every policy and every tool that models this experiment.
std::vector<GpuKernelModel> draw_gpus(const Experiment& experiment);

// What profiling the GPUs measures, with kernel times scaled by the GPUs'
// current `multipliers` (empty: none): the simulated profiler run on `gpus`,
// or, with cluster.latency_profile, the measured curves themselves (GPU g:
// curve g % size) scaled.
std::vector<LatencyCurve> measured_or_profiled_latency(const Experiment& experiment,
                                                       std::span<const GpuKernelModel> gpus,
                                                       const ProfilingSpec& profiling,
                                                       std::span<const double> multipliers);

// The experiment's routing, drawing batches from stream `batches`
// (kRoutingCalibration is drift-free: the recorded past precedes any drift),
// synthetic pools drawn on `draw_jobs` threads (the same counts for any number).
std::unique_ptr<RoutingSource> make_routing(const Experiment& experiment, RandomStream batches,
                                            int draw_jobs = 1);

// `policy.place(context)`, checked: a malformed placement is a logic_error naming the policy.
Placement checked_place(const std::string& name, const PlacementPolicy& policy,
                        const PlacementContext& context);

}  // namespace vibesim
