#pragma once
// `vibesim hw validate`: the same layer steps replayed on real GPUs and
// predicted by the calibrated profile, compared step by step.
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hw/replay.h"

namespace vibesim {

// Relative errors (predicted - measured) / measured: percentiles of their
// magnitude, and their signed mean (> 0: the model predicts too slow).
// Pairs whose measured value is 0 are skipped.
struct RelativeErrors {
  double p50 = 0, p90 = 0, p99 = 0;
  double mean_signed = 0;
  int count = 0;
};
RelativeErrors relative_errors(std::span<const double> predicted, std::span<const double> measured);

struct PolicyValidation {
  std::string policy;
  double measured_mean_us = 0, predicted_mean_us = 0;
  RelativeErrors layer;             // per layer step
  std::vector<RelativeErrors> gpu;  // per GPU: its compute time, step by step
};

struct Validation {
  std::vector<PolicyValidation> policies;
  // Policies by mean layer latency, fastest first; ties keep the given order.
  std::vector<std::string> measured_order, predicted_order;
  [[nodiscard]] bool ordering_agrees() const { return measured_order == predicted_order; }
  [[nodiscard]] nlohmann::ordered_json to_json() const;
};

// `measured[i]` and `predicted[i]` replay the same policy over the same steps.
Validation validate_replays(std::span<const Replay> measured, std::span<const Replay> predicted);

}  // namespace vibesim
