#include "models/variability_fit.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <map>

#include <fmt/format.h>

#include "base/statistics.h"
#include "io/config_error.h"
#include "io/csv_columns.h"
#include "io/json_text.h"
#include "models/variability_profile.h"

namespace vibesim {

namespace {

constexpr int kQuantilePoints = 21;  // r_g at p = 0, 0.05, ..., 1

std::optional<double> parse_number(const std::string& text) {
  double v = 0;
  const auto* begin = text.data();
  const auto* end = begin + text.size();
  while (begin < end && *begin == ' ') ++begin;
  const auto [ptr, ec] = std::from_chars(begin, end, v);
  if (ec != std::errc() || ptr != end || !std::isfinite(v)) return std::nullopt;
  return v;
}

// Per GPU, by id: its times and each side column's values.
struct GpuSamples {
  std::map<std::string, std::vector<double>> times;
  std::vector<std::map<std::string, std::vector<double>>> side;  // per side column
};

// The rows with a time, per GPU; rows without one are counted as skipped.
GpuSamples read_samples(const std::filesystem::path& csv, const VariabilityFitColumns& columns,
                        const std::vector<std::string>& side_names, VariabilityFit& fit) {
  std::vector<std::string> names{columns.gpu, columns.time};
  names.insert(names.end(), side_names.begin(), side_names.end());
  const auto table = read_csv_columns(csv, names);
  GpuSamples samples;
  samples.side.resize(side_names.size());
  for (std::size_t r = 0; r < table.values.size(); ++r) {
    const auto& row = table.values[r];
    const auto time = parse_number(row[1]);
    if (!time) {
      ++fit.rows_skipped;
      continue;
    }
    if (row[0].empty())
      throw InputError(fmt::format("{}:{}: column '{}' is empty", csv.string(),
                                   table.line_numbers[r], columns.gpu));
    if (*time <= 0)
      throw InputError(fmt::format("{}:{}: column '{}' must be positive, got {}", csv.string(),
                                   table.line_numbers[r], columns.time, row[1]));
    ++fit.rows_used;
    const auto [times, new_gpu] = samples.times.try_emplace(row[0]);
    if (new_gpu)  // the profile records each GPU's id
      require_json_text(row[0], fmt::format("{}:{}: column '{}'", csv.string(),
                                            table.line_numbers[r], columns.gpu));
    times->second.push_back(*time);
    for (std::size_t s = 0; s < side_names.size(); ++s)
      if (const auto v = parse_number(row[2 + s])) samples.side[s][row[0]].push_back(*v);
  }
  if (fit.rows_used == 0)
    throw InputError(
        fmt::format("{}: no row has a number in column '{}'", csv.string(), columns.time));
  if (samples.times.size() < 2)
    throw InputError(
        fmt::format("{}: only one GPU ('{}') in column '{}'; a profile needs at "
                    "least two",
                    csv.string(), samples.times.begin()->first, columns.gpu));
  return samples;
}

// Each GPU's median time over the fleet's median (r_g), and their summary.
void fit_relative_times(const std::filesystem::path& csv,
                        const std::map<std::string, std::vector<double>>& times,
                        VariabilityFit& fit) {
  std::vector<double> cvs;
  for (const auto& [id, t] : times) {
    fit.gpu_ids.push_back(id);
    fit.median_time.push_back(quantile(t, 0.5));
    if (t.size() >= 3) {
      const double cv = population_stddev(t) / mean(t);
      if (std::isfinite(cv)) cvs.push_back(cv);
    }
  }
  fit.run_to_run_cv = cvs.empty() ? 0.0 : quantile(cvs, 0.5);
  fit.reference_time = quantile(fit.median_time, 0.5);
  std::vector<double> logs;
  for (std::size_t g = 0; g < fit.median_time.size(); ++g) {
    const double r = fit.median_time[g] / fit.reference_time;
    // A profile's relative_time must load (VariabilityProfile accepts [0.05, 20]).
    if (!(r >= kMinRelativeTime && r <= kMaxRelativeTime))
      throw InputError(fmt::format(
          "{}: GPU '{}' takes {:.4g} x the median GPU's time, outside the [{}, {}] a profile "
          "can describe; drop its rows if they are a measurement error",
          csv.string(), fit.gpu_ids[g], r, kMinRelativeTime, kMaxRelativeTime));
    fit.relative_time.push_back(r);
    logs.push_back(std::log(r));
  }
  auto sorted = fit.relative_time;
  std::sort(sorted.begin(), sorted.end());
  fit.p05 = quantile_sorted(sorted, 0.05);
  fit.p50 = quantile_sorted(sorted, 0.50);
  fit.p95 = quantile_sorted(sorted, 0.95);
  fit.max_over_min = sorted.back() / sorted.front();
  fit.cv = population_stddev(sorted) / mean(sorted);
  fit.lognormal_sigma = population_stddev(logs);
}

// A side column's per-GPU medians (NaN where a GPU has none) and their
// correlation with r_g.
SideMeasure side_measure(const std::string& name,
                         const std::map<std::string, std::vector<double>>& values,
                         const VariabilityFit& fit) {
  SideMeasure m{name, {}, 0};
  std::vector<double> x, y;
  for (std::size_t g = 0; g < fit.gpu_ids.size(); ++g) {
    const auto it = values.find(fit.gpu_ids[g]);
    if (it == values.end()) {
      m.per_gpu_median.push_back(std::numeric_limits<double>::quiet_NaN());
      continue;
    }
    m.per_gpu_median.push_back(quantile(it->second, 0.5));
    x.push_back(m.per_gpu_median.back());
    y.push_back(fit.relative_time[g]);
  }
  m.correlation_with_relative_time = pearson_correlation(x, y);
  return m;
}

}  // namespace

VariabilityFit fit_variability(const std::filesystem::path& csv,
                               const VariabilityFitColumns& columns) {
  std::vector<std::string> side_names;
  for (const auto* c : {&columns.clock, &columns.power, &columns.temperature})
    if (*c) side_names.push_back(**c);
  VariabilityFit fit;
  const auto samples = read_samples(csv, columns, side_names, fit);
  fit_relative_times(csv, samples.times, fit);
  for (std::size_t s = 0; s < side_names.size(); ++s)
    fit.side.push_back(side_measure(side_names[s], samples.side[s], fit));
  return fit;
}

nlohmann::ordered_json variability_profile_json(const VariabilityFit& fit, const std::string& name,
                                                const std::string& source) {
  auto sorted = fit.relative_time;
  std::sort(sorted.begin(), sorted.end());
  std::vector<double> quantiles;
  for (int i = 0; i < kQuantilePoints; ++i)
    quantiles.push_back(quantile_sorted(sorted, i / static_cast<double>(kQuantilePoints - 1)));
  nlohmann::ordered_json out;
  out["name"] = name;
  out["description"] = fmt::format(
      "fitted by vibesim profile fit: relative kernel time of {} GPUs (p05 {:.3f}, p95 {:.3f}, "
      "max/min {:.3f})",
      fit.gpu_ids.size(), fit.p05, fit.p95, fit.max_over_min);
  out["source"] = source;
  out["voltage_offset_v"] = {{"dist", "constant"}, {"value", 0.0}};
  out["leakage_factor"] = {{"dist", "constant"}, {"value", 1.0}};
  out["memory_factor"] = {{"dist", "constant"}, {"value", 1.0}};
  out["relative_time"] = {{"dist", "empirical"}, {"quantiles", quantiles}};
  out["kernel_jitter_cv"] = std::min(fit.run_to_run_cv, 0.5);
  out["summary"] = {
      {"gpus", fit.gpu_ids.size()},       {"p05", fit.p05}, {"p50", fit.p50}, {"p95", fit.p95},
      {"max_over_min", fit.max_over_min}, {"cv", fit.cv}};
  nlohmann::ordered_json measured;
  measured["fitted"] = {{"dist", "lognormal"}, {"median", fit.p50}, {"sigma", fit.lognormal_sigma}};
  measured["reference_time"] = fit.reference_time;
  measured["rows_used"] = fit.rows_used;
  measured["rows_skipped"] = fit.rows_skipped;
  measured["run_to_run_cv"] = fit.run_to_run_cv;
  for (const auto& s : fit.side) {
    std::vector<double> finite;
    for (double v : s.per_gpu_median)
      if (std::isfinite(v)) finite.push_back(v);
    std::sort(finite.begin(), finite.end());
    measured[s.column] = {
        {"per_gpu_median_p05", finite.empty() ? 0.0 : quantile_sorted(finite, 0.05)},
        {"per_gpu_median_p50", finite.empty() ? 0.0 : quantile_sorted(finite, 0.5)},
        {"per_gpu_median_p95", finite.empty() ? 0.0 : quantile_sorted(finite, 0.95)},
        {"correlation_with_relative_time", s.correlation_with_relative_time}};
  }
  // Per GPU, in id order: its median time, r_g and the side columns' medians.
  measured["per_gpu"] = nlohmann::ordered_json::array();
  for (std::size_t g = 0; g < fit.gpu_ids.size(); ++g) {
    nlohmann::ordered_json gpu = {{"gpu", fit.gpu_ids[g]},
                                  {"median_time", fit.median_time[g]},
                                  {"relative_time", fit.relative_time[g]}};
    for (const auto& side : fit.side) {
      const double v = side.per_gpu_median[g];
      gpu[side.column] = std::isfinite(v) ? nlohmann::ordered_json(v) : nlohmann::ordered_json();
    }
    measured["per_gpu"].push_back(std::move(gpu));
  }
  out["measured"] = measured;
  return out;
}

}  // namespace vibesim
