#pragma once
// Fitting a variability profile to measurements of many nominally identical
// GPUs (`vibesim profile fit`): per GPU the median of its run times; the fleet
// reference is the median of those medians; r_g = GPU median / reference is
// the GPU's relative time. The profile draws r_g from the empirical quantiles
// (a lognormal fit is recorded beside them); its power-model parameters stay
// nominal, so all of the measured spread is in `relative_time`.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace vibesim {

struct VariabilityFitColumns {
  std::string gpu;
  std::string time;
  std::optional<std::string> clock, power, temperature;
};

struct SideMeasure {  // a clock, power or temperature column
  std::string column;
  std::vector<double> per_gpu_median;  // NaN where a GPU has no numeric value
  double correlation_with_relative_time = 0;
};

struct VariabilityFit {
  std::vector<std::string> gpu_ids;             // sorted
  std::vector<double> median_time;              // per GPU
  std::vector<double> relative_time;            // per GPU, r_g
  std::size_t rows_used = 0, rows_skipped = 0;  // skipped: time empty or not a number
  double reference_time = 0;                    // median of the per-GPU medians
  double run_to_run_cv = 0;                     // median over GPUs (>= 3 runs) of their runs' CV
  double p05 = 0, p50 = 0, p95 = 0, max_over_min = 0, cv = 0;
  double lognormal_sigma = 0;  // standard deviation of log r_g
  std::vector<SideMeasure> side;
};

// Throws InputError naming the file (and line or column) on a missing column,
// no numeric rows, or fewer than two GPUs.
VariabilityFit fit_variability(const std::filesystem::path& csv,
                               const VariabilityFitColumns& columns);

// A profile file usable as an experiment's `cluster.profile`.
nlohmann::ordered_json variability_profile_json(const VariabilityFit& fit, const std::string& name,
                                                const std::string& source);

}  // namespace vibesim
