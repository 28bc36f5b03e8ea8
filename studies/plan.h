#pragma once
// Capacity planning (`vibesim plan`): for a serving experiment, the highest
// request rate each policy sustains within its SLOs at a GPU count, or the
// smallest GPU count (in whole nodes) that sustains a target rate — over the
// experiment's seeds, with 95 % intervals, naming the SLO that binds.
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "io/config_locations.h"
#include "outputs/seed_summary.h"
#include "policies/policy_registry.h"

namespace vibesim {

struct PlanRequest {
  std::filesystem::path experiment;
  std::vector<std::string> overrides;  // as `vibesim run --set` takes them
  double target_rate_per_s = 0;        // > 0: find the smallest GPU count sustaining it
  int gpus = 0;                        // > 0: the rate this many GPUs sustain
  int max_gpus = 64;                   // with a target: the largest count tried
  int jobs = 1;                        // threads for seeds
  std::function<void()> checkpoint;
  std::function<void(const std::string&)> progress;  // a line per GPU count done
};

struct PolicyCapacity {
  std::string policy;
  MeanInterval rate_per_gpu;  // the SLO frontier, requests/s per GPU
  MeanInterval rate;          // times the GPU count: requests/s the cluster sustains
  std::string binding_slo;    // "ttft", "tpot" (most seeds' answer) or "none (search bound)"
};

struct CapacityAtGpus {
  int gpus = 0;
  std::vector<PolicyCapacity> policies;
};

struct CapacityPlan {
  std::string experiment;
  int seeds = 0;
  double target_rate_per_s = 0;
  std::vector<CapacityAtGpus> tried;      // in ascending GPU count
  std::vector<std::string> skipped_gpus;  // counts the experiment cannot take, and why
  // With a target, per policy: the smallest count whose mean rate reaches it,
  // and the smallest whose interval's lower end does (nullopt: none tried).
  struct Answer {
    std::string policy;
    std::optional<int> gpus, gpus_95;
  };
  std::vector<Answer> answers;

  [[nodiscard]] nlohmann::ordered_json to_json() const;
};

// InputError for an experiment without a serving section, a replayed trace
// (no rate to vary), or no GPU count it can take.
CapacityPlan plan_capacity(const PlanRequest& request, const ConfigLocations& locations,
                           const PolicyRegistry& registry);

}  // namespace vibesim
