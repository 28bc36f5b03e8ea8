#pragma once
// An experiment file, read strictly and resolved: the model, GPU SKU and
// variability profile it names are loaded, defaults filled in, everything
// validated before anything runs. Each section is its own spec with its own
// parse and to_json beside its type; Experiment::to_json composes them into
// config.resolved.json, which load_experiment reads back to the same
// experiment (tests/config_round_trip_test.cpp checks this for every shipped
// experiment).
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "io/config_locations.h"
#include "models/gpu_sku.h"
#include "models/latency_curve.h"
#include "models/moe_model.h"
#include "models/variability_profile.h"
#include "policies/recalibration.h"
#include "sim/gpu_conditions.h"
#include "sim/serving_spec.h"
#include "traces/routing_spec.h"

namespace vibesim {

class ConfigObject;
class PolicyRegistry;

// Experiment key `cluster`: which GPUs, how many, drawn from which profile.
struct ClusterSpec {
  GpuSku sku;                  // key `gpu`: a name, a .json file or inline
  VariabilityProfile profile;  // key `profile`: a name of the SKU's, a .json file or inline
  int num_gpus = 0;
  int gpus_per_node = 0;
  int redundant_slots_per_gpu = 0;  // slots beyond E/G that replicating policies may fill
  // Key `latency_profile` (optional): measured curves f_g (`vibesim hw
  // calibrate`, a file or inline). When given, they are each GPU's MoE expert
  // time (GPU g: curve g % size) and what the policies see, in place of the
  // kernel model and the simulated profiling; other kernels stay modelled.
  std::vector<LatencyCurve> measured_latency;

  static ClusterSpec parse(ConfigObject& cluster, const MoeModel& model,
                           const ConfigLocations& locations);
  [[nodiscard]] nlohmann::ordered_json to_json() const;
};

// Experiment key `workload`: the batches of the layer study and the routing
// of every run. A serving experiment needs only `routing`: batch_tokens then
// defaults to serving.max_batched_tokens (the size of the recorded batches and
// the profiling sweep) and iterations is unused.
struct WorkloadSpec {
  std::int64_t batch_tokens = 0;
  int iterations = 0;
  int calibration_batches = 100;  // batches recorded for the policies' load matrix
  RoutingSpec routing;

  static WorkloadSpec parse(ConfigObject& workload, const ServingSpec* serving);
  [[nodiscard]] nlohmann::ordered_json to_json(bool serving) const;
};

// Experiment key `comparison`: how many seeds the policies are compared over
// (each seed draws its own GPUs, routing and requests: seed, seed + 1, ...)
// and the baseline each policy's ratios are taken against.
struct ComparisonSpec {
  int seeds = 1;
  std::string baseline;  // default: eplb when it runs, else the first policy

  static ComparisonSpec parse(ConfigObject& comparison, const std::vector<std::string>& policies);
  [[nodiscard]] nlohmann::ordered_json to_json() const;
};

// Experiment key `placement`: limits on the policies' placement search.
struct PlacementSpec {
  // How long a searching policy (`optimal`) may spend on one layer before it
  // keeps its best placement and reports the gap it proved
  // (PlacementContext::search_seconds_per_layer; `place --time-limit`).
  double search_seconds_per_layer = 30;

  static PlacementSpec parse(ConfigObject& placement);
  [[nodiscard]] nlohmann::ordered_json to_json() const;
};

struct Experiment {
  std::string source;  // the file it came from, for messages
  std::string name;
  std::string description;
  std::uint64_t seed = 1;
  MoeModel model;
  ClusterSpec cluster;
  WorkloadSpec workload;
  int profiling_repetitions = 5;
  RecalibrationSpec recalibration;
  std::vector<ThrottleEvent> gpu_events;  // scheduled slowdowns and recoveries
  bool serving_enabled = false;           // the experiment has a `serving` section
  ServingSpec serving;
  std::vector<std::string> policies;
  PlacementSpec placement;
  ComparisonSpec comparison;

  // The experiment with every default filled in and the named model, SKU and
  // profile inlined: what config.resolved.json holds. load_experiment reads
  // it back to the same experiment.
  [[nodiscard]] nlohmann::ordered_json to_json() const;
};

// Applies "a.b.c=value" overrides to `config` (value parsed as JSON, else a string).
void apply_overrides(nlohmann::json& config, const std::vector<std::string>& overrides);

// Reads and validates an experiment; throws InputError naming the file and key.
// Seed i of the comparison (0-based): the experiment at seed + i, as a
// one-seed experiment.
Experiment seed_experiment(const Experiment& experiment, int i);

Experiment load_experiment(const std::filesystem::path& path,
                           const std::vector<std::string>& overrides,
                           const ConfigLocations& locations, const PolicyRegistry& policies);

}  // namespace vibesim
