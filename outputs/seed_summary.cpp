#include "outputs/seed_summary.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <boost/math/distributions/students_t.hpp>

#include "base/statistics.h"
#include "outputs/run_header.h"

namespace vibesim {

std::vector<PolicyMetrics> headline_metrics(const LayerStudyResult& result, bool has_gpu_events) {
  std::vector<PolicyMetrics> out;
  for (const auto& p : result.policies) {
    PolicyMetrics m{p.policy,
                    {{"layer_latency_p50_us", p.latency_p50_us},
                     {"layer_latency_p90_us", p.latency_p90_us},
                     {"layer_latency_p99_us", p.latency_p99_us},
                     {"layer_latency_mean_us", p.latency_mean_us},
                     {"barrier_idle_fraction", p.barrier_idle_fraction},
                     {"max_over_mean_gpu_tokens", p.max_over_mean_tokens},
                     {"predicted_latency_us", p.predicted_latency_us}}};
    if (has_gpu_events) {
      m.values.emplace_back("after_event_p50_us", p.after_event_p50_us);
      m.values.emplace_back("after_event_p90_us", p.after_event_p90_us);
    }
    out.push_back(std::move(m));
  }
  return out;
}

std::vector<PolicyMetrics> headline_metrics(const std::vector<ServingSummary>& serving,
                                            const std::vector<FrontierPoint>& frontier) {
  std::vector<PolicyMetrics> out;
  for (std::size_t i = 0; i < serving.size(); ++i) {
    const auto& p = serving[i];
    PolicyMetrics m{p.policy,
                    {{"ttft_p50_ms", p.ttft_ms.p50},
                     {"ttft_p90_ms", p.ttft_ms.p90},
                     {"ttft_p99_ms", p.ttft_ms.p99},
                     {"tpot_p50_ms", p.tpot_ms.p50},
                     {"tpot_p90_ms", p.tpot_ms.p90},
                     {"e2e_p90_ms", p.e2e_ms.p90},
                     {"slo_attainment", p.slo_attainment},
                     {"goodput_requests_per_s", p.goodput_rps},
                     {"throughput_output_tokens_per_s", p.throughput_tokens_per_s},
                     {"barrier_idle_fraction", p.barrier_idle_fraction}}};
    if (i < frontier.size())
      m.values.emplace_back("frontier_requests_per_s_per_gpu", frontier[i].max_rate_per_gpu);
    out.push_back(std::move(m));
  }
  return out;
}

MeanInterval mean_interval_95(const std::vector<double>& values) {
  if (values.empty()) return {};
  const double m = mean(values);
  if (values.size() < 2) return {m, m, m};
  const double n = static_cast<double>(values.size());
  double ss = 0;
  for (double v : values) ss += (v - m) * (v - m);
  const double standard_error = std::sqrt(ss / (n - 1)) / std::sqrt(n);
  const boost::math::students_t t(n - 1);
  const double half = boost::math::quantile(boost::math::complement(t, 0.025)) * standard_error;
  return {m, m - half, m + half};
}

namespace {

// values[policy][metric] over seeds, and the same for ratios to the baseline
// (a metric whose baseline is 0 in some seed has no ratio).
struct Samples {
  std::vector<std::vector<std::vector<double>>> values, ratios;
  std::vector<std::vector<bool>> has_ratio;
};

Samples collect(const Experiment& x, const std::vector<SeedMetrics>& runs) {
  const auto& first = runs.front().policies;
  std::size_t baseline = 0;
  for (std::size_t p = 0; p < first.size(); ++p)
    if (first[p].policy == x.comparison.baseline) baseline = p;
  Samples s;
  for (const auto& policy : first) {
    const auto metrics = policy.values.size();
    s.values.emplace_back(metrics);
    s.ratios.emplace_back(metrics);
    s.has_ratio.emplace_back(metrics, true);
  }
  for (const auto& run : runs)
    for (std::size_t p = 0; p < run.policies.size(); ++p)
      for (std::size_t m = 0; m < run.policies[p].values.size(); ++m) {
        const double v = run.policies[p].values[m].second;
        const double base = run.policies[baseline].values[m].second;
        s.values[p][m].push_back(v);
        if (base == 0) s.has_ratio[p][m] = false;
        if (s.has_ratio[p][m]) s.ratios[p][m].push_back(v / base);
      }
  return s;
}

nlohmann::ordered_json interval_json(const MeanInterval& i) {
  return {{"mean", i.mean}, {"ci95", {i.low, i.high}}};
}

}  // namespace

nlohmann::ordered_json seed_summary_json(const Experiment& x,
                                         const std::vector<SeedMetrics>& runs) {
  auto out = run_header_json(x);
  out["seeds"] = nlohmann::ordered_json::array();
  for (const auto& r : runs) out["seeds"].push_back(r.seed);
  out["baseline"] = x.comparison.baseline;
  out["interval"] = "95 % confidence interval of the mean over seeds (Student's t)";
  const auto s = collect(x, runs);
  out["policies"] = nlohmann::ordered_json::array();
  const auto& first = runs.front().policies;
  for (std::size_t p = 0; p < first.size(); ++p) {
    nlohmann::ordered_json metrics, ratios;
    for (std::size_t m = 0; m < first[p].values.size(); ++m) {
      const auto& name = first[p].values[m].first;
      metrics[name] = interval_json(mean_interval_95(s.values[p][m]));
      if (s.has_ratio[p][m]) ratios[name] = interval_json(mean_interval_95(s.ratios[p][m]));
    }
    out["policies"].push_back(
        {{"policy", first[p].policy}, {"metrics", metrics}, {"ratio_to_baseline", ratios}});
  }
  return out;
}

void print_seed_tables(std::ostream& out, const Experiment& x,
                       const std::vector<SeedMetrics>& runs) {
  const auto s = collect(x, runs);
  const auto& first = runs.front().policies;
  std::size_t name_width = 14;  // the policy column fits the longest name
  for (const auto& policy : first) name_width = std::max(name_width, policy.policy.size());
  fmt::print(out,
             "\nover {} seeds ({} to {}): mean [95 % interval]; ratio to {} taken within each "
             "seed\n",
             runs.size(), runs.front().seed, runs.back().seed, x.comparison.baseline);
  for (std::size_t m = 0; m < first.front().values.size(); ++m) {
    fmt::print(out, "\n{}:\n", first.front().values[m].first);
    for (std::size_t p = 0; p < first.size(); ++p) {
      const auto v = mean_interval_95(s.values[p][m]);
      fmt::print(out, "  {:<{}} {:>12.4g} [{:.4g}, {:.4g}]", first[p].policy, name_width, v.mean,
                 v.low, v.high);
      if (s.has_ratio[p][m]) {
        const auto r = mean_interval_95(s.ratios[p][m]);
        fmt::print(out, "   x{:.4f} [{:.4f}, {:.4f}]", r.mean, r.low, r.high);
      }
      fmt::print(out, "\n");
    }
  }
}

}  // namespace vibesim
