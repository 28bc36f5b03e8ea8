#pragma once
// A population of nominally identical GPUs: distributions of the per-GPU
// parameters of the kernel and power models. A cluster is N GPUs drawn from a
// profile with a seed.
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/random_engine.h"

namespace vibesim {

class ConfigObject;

// One scalar parameter's distribution across GPUs.
struct ScalarDistribution {
  enum class Kind { kConstant, kNormal, kLognormal, kEmpirical };
  Kind kind = Kind::kConstant;
  double a = 0;                         // constant: value; normal: mean; lognormal: median
  double b = 0;                         // normal: standard deviation; lognormal: sigma of log
  std::vector<double> quantile_values;  // empirical: values at evenly spaced probabilities 0..1

  [[nodiscard]] double sample(RandomEngine& rng) const;
  [[nodiscard]] nlohmann::json to_json() const;
};

// The per-GPU parameters of one drawn GPU.
struct GpuVariation {
  double voltage_offset_v = 0;  // shifts the V-f curve: higher means more power at a clock
  double leakage_factor = 1;    // multiplies static power
  double memory_factor = 1;     // multiplies achieved HBM bandwidth
  // Multiplies every kernel time: variability measured directly (a fitted
  // profile's r_g) rather than explained by the power model's parameters.
  double relative_time = 1;
};

// Slow thermal drift of every GPU's speed while running (see sim/gpu_conditions).
struct ThermalDriftSpec {
  double stddev = 0;            // stationary standard deviation of the relative slowdown; 0 = none
  double time_constant_s = 60;  // how fast it reverts to the mean
};

// A per-GPU thermal state driven by its duty cycle (see sim/gpu_conditions).
// A GPU's heat h in [0, 1] relaxes toward the fraction of time it computes,
// with time constant `time_constant_s`; its kernels take (1 + s h) / (1 + s)
// of their profiled time, s = `slowdown_at_full_duty`: profiling runs
// kernels back to back (h = 1), and a GPU that waits at the barrier cools and
// speeds up (leakage falls with temperature, so the cap allows a higher
// clock). 0 = none.
struct ThermalStateSpec {
  double slowdown_at_full_duty = 0;
  double time_constant_s = 10;
};

// The range a GPU's relative kernel time may take (a profile's `relative_time`).
inline constexpr double kMinRelativeTime = 0.05, kMaxRelativeTime = 20;

struct VariabilityProfile {
  std::string name;
  std::string description;
  ScalarDistribution voltage_offset_v;
  ScalarDistribution leakage_factor;
  ScalarDistribution memory_factor;
  ScalarDistribution relative_time{ScalarDistribution::Kind::kConstant, 1.0, 0.0, {}};
  double kernel_jitter_cv = 0;
  ThermalDriftSpec thermal_drift;
  ThermalStateSpec thermal_state;
  // What a fitted profile records about its data (`summary` of r_g, and
  // `measured`: lognormal fit, correlations, ...); kept as read, for
  // config.resolved.json.
  nlohmann::json summary, measured;
  std::string sku;                     // the SKU a fitted profile was measured on ("" = any)
  nlohmann::json calibration_targets;  // what `profile check` compares the model with

  // Draws `count` GPUs; the same seed gives the same GPUs.
  [[nodiscard]] std::vector<GpuVariation> draw(int count, std::uint64_t seed) const;
  // The config parse_variability_profile reads back to this profile.
  [[nodiscard]] nlohmann::ordered_json to_json() const;
};

// Reads a profile; its `name` key, when present, overrides `default_name`.
VariabilityProfile parse_variability_profile(ConfigObject& config, std::string default_name);

}  // namespace vibesim
