#include "traces/trace_stats.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

#include "io/config_error.h"
#include "traces/count_trace_routing.h"
#include "traces/routing_spec.h"
#include "traces/token_trace_routing.h"

namespace vibesim {

namespace {

constexpr int kExpertLimit = 65'536;

TraceCounts from_tokens(const std::filesystem::path& path, std::int64_t batch_tokens,
                        int num_experts) {
  const auto t = read_token_trace(path, num_experts > 0 ? num_experts : kExpertLimit);
  TraceCounts out{
      "token_trace", t.top_k, num_experts > 0 ? num_experts : t.experts_seen, t.layer_ids, {}};
  const auto k = static_cast<std::size_t>(t.top_k);
  for (const auto& experts : t.experts) {
    std::vector<std::vector<std::int64_t>> steps;
    const std::size_t tokens = experts.size() / k;
    for (std::size_t first = 0; first < tokens; first += static_cast<std::size_t>(batch_tokens)) {
      std::vector<std::int64_t> c(static_cast<std::size_t>(out.num_experts), 0);
      const auto last = std::min(tokens, first + static_cast<std::size_t>(batch_tokens));
      for (std::size_t i = first * k; i < last * k; ++i) ++c[static_cast<std::size_t>(experts[i])];
      steps.push_back(std::move(c));
    }
    out.counts.push_back(std::move(steps));
  }
  return out;
}

TraceCounts from_counts(const std::filesystem::path& path, int num_experts) {
  const auto rows = read_count_trace_rows(path, num_experts > 0 ? num_experts : kExpertLimit);
  TraceCounts out{
      "count_trace", 0, num_experts > 0 ? num_experts : rows.experts_seen, rows.layer_ids, {}};
  out.counts.resize(rows.layer_ids.size());
  for (const auto& [step, layers] : rows.by_step) {
    for (std::size_t l = 0; l < rows.layer_ids.size(); ++l) {
      std::vector<std::int64_t> c(static_cast<std::size_t>(out.num_experts), 0);
      if (const auto it = layers.find(rows.layer_ids[l]); it != layers.end())
        std::copy(it->second.begin(), it->second.end(), c.begin());
      out.counts[l].push_back(std::move(c));
    }
  }
  return out;
}

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

LayerTraceStats layer_stats(const std::vector<std::vector<std::int64_t>>& steps,
                            std::int64_t layer_id, int experts, int gpus) {
  LayerTraceStats s;
  s.layer_id = layer_id;
  s.steps = static_cast<std::int64_t>(steps.size());
  std::vector<double> total(static_cast<std::size_t>(experts), 0.0);
  for (const auto& step : steps)
    for (std::size_t e = 0; e < total.size(); ++e) total[e] += static_cast<double>(step[e]);
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
    for (const auto& step : steps) over_steps.push_back(static_cast<double>(step[e]));
    cvs.push_back(cv_of(over_steps));
  }
  s.step_cv = mean_of(cvs);
  return s;
}

}  // namespace

TraceCounts read_trace_counts(const std::filesystem::path& path, std::int64_t batch_tokens,
                              int num_experts) {
  return routing_source_of_file(path) == RoutingSourceKind::kTokenTrace
             ? from_tokens(path, batch_tokens, num_experts)
             : from_counts(path, num_experts);
}

std::vector<LayerTraceStats> trace_stats(const TraceCounts& trace, int gpus) {
  if (gpus < 1 || trace.num_experts % gpus != 0)
    throw InputError(
        fmt::format("--gpus: {} does not divide the trace's {} experts", gpus, trace.num_experts));
  std::vector<LayerTraceStats> out;
  for (std::size_t l = 0; l < trace.counts.size(); ++l)
    out.push_back(layer_stats(trace.counts[l], trace.layer_ids[l], trace.num_experts, gpus));
  return out;
}

nlohmann::ordered_json trace_stats_json(const TraceCounts& trace, int gpus,
                                        const std::vector<LayerTraceStats>& stats) {
  nlohmann::ordered_json out = {{"format", trace.format},
                                {"top_k", trace.top_k},
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
