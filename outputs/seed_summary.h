#pragma once
// Comparing policies over several seeds: each seed's headline metrics per
// policy, then per policy the mean and a 95 % confidence interval of every
// metric and of its ratio to the baseline policy (paired: the ratio is taken
// within each seed, where both policies saw the same GPUs and routing).
#include <cstdint>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/experiment.h"
#include "sim/layer_study.h"
#include "sim/serving_loop.h"

namespace vibesim {

struct PolicyMetrics {
  std::string policy;
  std::vector<std::pair<std::string, double>> values;  // metric name, value; same names per kind
};

// One seed's run.
struct SeedMetrics {
  std::uint64_t seed = 0;
  std::vector<PolicyMetrics> policies;  // in the experiment's policy order
};

// With `has_gpu_events` (the experiment schedules GPU events), also the
// latency percentiles from the first event on (0 if none applied in the run).
std::vector<PolicyMetrics> headline_metrics(const LayerStudyResult& result, bool has_gpu_events);
std::vector<PolicyMetrics> headline_metrics(const std::vector<ServingSummary>& serving,
                                            const std::vector<FrontierPoint>& frontier);

// Mean and 95 % interval (Student's t) of a sample; low = high = mean for one value.
struct MeanInterval {
  double mean = 0, low = 0, high = 0;
};
MeanInterval mean_interval_95(const std::vector<double>& values);

// summary.json of a multi-seed run: the header, the seeds, the baseline and
// per policy {metric: {mean, ci95: [low, high]}} and the same for ratios.
nlohmann::ordered_json seed_summary_json(const Experiment& x, const std::vector<SeedMetrics>& runs);
void print_seed_tables(std::ostream& out, const Experiment& x,
                       const std::vector<SeedMetrics>& runs);

}  // namespace vibesim
