#include "traces/trace_stats.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

#include "io/config_error.h"

namespace vibesim {

namespace {

double mean_of(const std::vector<double>& v) {
  return v.empty() ? 0.0 : std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}

double cv_of(const std::vector<double>& v) {
  const double m = mean_of(v);
  if (m <= 0) return 0;
  double ss = 0;
  for (double x : v) ss += (x - m) * (x - m);
  return std::sqrt(ss / static_cast<double>(v.size())) / m;
}

LayerTraceStats layer_stats(const CountTrace& trace, std::size_t layer, int gpus) {
  const int experts = trace.num_experts;
  LayerTraceStats s;
  s.layer_id = trace.layer_ids[layer];
  s.steps = static_cast<std::int64_t>(trace.steps);
  std::vector<double> total(static_cast<std::size_t>(experts), 0.0);
  for (std::size_t step = 0; step < trace.steps; ++step)
    for (std::size_t e = 0; e < total.size(); ++e)
      total[e] += static_cast<double>(trace.at(step, layer)[e]);
  const double sum = std::accumulate(total.begin(), total.end(), 0.0);
  s.assignments = static_cast<std::int64_t>(sum);
  if (sum <= 0) return s;
  const auto top = std::max_element(total.begin(), total.end());
  s.top_expert = static_cast<int>(top - total.begin());
  s.top_expert_share = *top / sum;
  s.max_over_mean = *top / mean_of(total);
  s.cv = cv_of(total);
  const int per_gpu = experts / gpus;
  std::vector<double> gpu(static_cast<std::size_t>(gpus), 0.0);
  for (std::size_t e = 0; e < total.size(); ++e)
    gpu[e / static_cast<std::size_t>(per_gpu)] += total[e];
  s.busiest_gpu_over_mean = *std::max_element(gpu.begin(), gpu.end()) / mean_of(gpu);
  s.lightest_gpu_over_mean = *std::min_element(gpu.begin(), gpu.end()) / mean_of(gpu);
  std::vector<double> cvs;
  for (std::size_t e = 0; e < total.size(); ++e) {
    if (total[e] <= 0) continue;
    std::vector<double> over_steps;
    for (std::size_t step = 0; step < trace.steps; ++step)
      over_steps.push_back(static_cast<double>(trace.at(step, layer)[e]));
    cvs.push_back(cv_of(over_steps));
  }
  s.step_cv = mean_of(cvs);
  return s;
}

}  // namespace

std::vector<LayerTraceStats> trace_stats(const CountTrace& trace, int gpus) {
  if (gpus < 1 || trace.num_experts % gpus != 0)
    throw InputError(
        fmt::format("--gpus: {} does not divide the trace's {} experts", gpus, trace.num_experts));
  std::vector<LayerTraceStats> out;
  for (std::size_t l = 0; l < trace.layer_ids.size(); ++l)
    out.push_back(layer_stats(trace, l, gpus));
  return out;
}

nlohmann::ordered_json trace_stats_json(const CountTrace& trace, int gpus,
                                        const std::vector<LayerTraceStats>& stats) {
  nlohmann::ordered_json out = {{"top_k", trace.top_k},
                                {"experts", trace.num_experts},
                                {"gpus", gpus},
                                {"layers", nlohmann::ordered_json::array()}};
  for (const auto& s : stats)
    out["layers"].push_back({{"layer", s.layer_id},
                             {"steps", s.steps},
                             {"assignments", s.assignments},
                             {"max_over_mean", s.max_over_mean},
                             {"cv", s.cv},
                             {"top_expert", s.top_expert},
                             {"top_expert_share", s.top_expert_share},
                             {"busiest_gpu_over_mean", s.busiest_gpu_over_mean},
                             {"lightest_gpu_over_mean", s.lightest_gpu_over_mean},
                             {"step_cv", s.step_cv}});
  return out;
}

}  // namespace vibesim
