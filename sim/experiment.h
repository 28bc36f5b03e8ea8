#pragma once
// An experiment file, read strictly and resolved: the model, GPU SKU and
// variability profile it names are loaded, defaults filled in, everything
// validated before anything runs.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/gpu_sku.h"
#include "models/moe_model.h"
#include "models/variability_profile.h"
#include "policies/recalibration.h"
#include "sim/gpu_conditions.h"
#include "traces/request_trace.h"
#include "traces/synthetic_routing.h"

namespace vibesim {

class PolicyRegistry;

// Where named configs live: <config_dir>/models/<name>.json, <config_dir>/gpus/<name>.json.
struct ConfigLocations {
  std::filesystem::path config_dir;
  std::filesystem::path data_dir;
  // The defaults: $VIBESIM_CONFIGS / $VIBESIM_DATA, else the build's source tree.
  static ConfigLocations from_environment();
};

struct RoutingSpec {
  std::string source = "synthetic";  // "synthetic" or "count_trace"
  SyntheticRoutingSpec synthetic;
  std::filesystem::path trace_path;  // count_trace: CSV step,layer,expert,count
};

// The serving loop's settings (experiment key `serving`; see sim/serving_loop.h).
struct ServingSpec {
  bool enabled = false;                     // the experiment has a `serving` section
  std::string mode = "mixed";               // "mixed", "prefill_only" or "decode_only"
  std::string deployment = "tp_attention";  // or "dp_attention"
  std::int64_t max_batched_tokens = 8192;
  int max_running = 256;
  bool chunked_prefill = true;
  std::int64_t kv_cache_tokens = 0;  // 0: what HBM holds after the weights (90 %)
  double slo_ttft_ms = 0, slo_tpot_ms = 0;
  std::string request_source = "poisson";  // "trace", "poisson" or "gamma"
  std::filesystem::path trace_path;
  RequestGeneratorSpec generator;  // rate_per_s = rate_per_gpu * num_gpus
  double frontier_target = 0.9;
  double frontier_min_rate_per_gpu = 0.01, frontier_max_rate_per_gpu = 50;
  int frontier_steps = 10;
};

struct Experiment {
  std::string source;  // the file it came from, for messages
  std::string name;
  std::string description;
  std::uint64_t seed = 0;
  MoeModel model;
  GpuSku sku;
  VariabilityProfile profile;
  int num_gpus = 0;
  int gpus_per_node = 0;
  int redundant_slots_per_gpu = 0;  // slots beyond E/G that replicating policies may fill
  std::int64_t batch_tokens = 0;
  int iterations = 0;
  int calibration_batches = 0;  // batches recorded for the policies' load matrix
  RoutingSpec routing;
  int profiling_repetitions = 0;
  RecalibrationSpec recalibration;
  std::vector<ThrottleEvent> gpu_events;  // scheduled slowdowns and recoveries
  ServingSpec serving;
  std::vector<std::string> policies;

  // The experiment with every default filled in and the named model, SKU and
  // profile inlined: what config.resolved.json holds.
  [[nodiscard]] nlohmann::ordered_json resolved_json() const;
};

// Applies "a.b.c=value" overrides to `config` (value parsed as JSON, else a string).
void apply_overrides(nlohmann::json& config, const std::vector<std::string>& overrides);

// Reads and validates an experiment; throws InputError naming the file and key.
Experiment load_experiment(const std::filesystem::path& path,
                           const std::vector<std::string>& overrides,
                           const ConfigLocations& locations, const PolicyRegistry& policies);

}  // namespace vibesim
