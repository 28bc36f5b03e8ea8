#include "hw/validation.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

#include "base/statistics.h"

namespace vibesim {

namespace {

std::vector<std::string> order_by_mean(const std::vector<PolicyValidation>& policies,
                                       double PolicyValidation::*mean_us) {
  std::vector<std::size_t> index(policies.size());
  std::iota(index.begin(), index.end(), 0);
  std::stable_sort(index.begin(), index.end(), [&](std::size_t a, std::size_t b) {
    return policies[a].*mean_us < policies[b].*mean_us;
  });
  std::vector<std::string> out;
  for (const auto i : index) out.push_back(policies[i].policy);
  return out;
}

nlohmann::ordered_json errors_json(const RelativeErrors& e) {
  return {{"abs_p50", e.p50},
          {"abs_p90", e.p90},
          {"abs_p99", e.p99},
          {"mean_signed", e.mean_signed},
          {"count", e.count}};
}

PolicyValidation compare(const Replay& measured, const Replay& predicted) {
  if (measured.steps.size() != predicted.steps.size() || measured.policy != predicted.policy)
    throw std::logic_error("validate: the two replays did not run the same steps");
  PolicyValidation v{measured.policy, 0, 0, {}, {}};
  std::vector<double> m_layer, p_layer;
  for (std::size_t i = 0; i < measured.steps.size(); ++i) {
    m_layer.push_back(measured.steps[i].layer_ns);
    p_layer.push_back(predicted.steps[i].layer_ns);
  }
  v.measured_mean_us = mean(m_layer) * 1e-3;
  v.predicted_mean_us = mean(p_layer) * 1e-3;
  v.layer = relative_errors(p_layer, m_layer);
  const auto gpus = measured.steps.empty() ? 0 : measured.steps.front().gpu_compute_ns.size();
  for (std::size_t g = 0; g < gpus; ++g) {
    std::vector<double> m, p;
    for (std::size_t i = 0; i < measured.steps.size(); ++i) {
      m.push_back(measured.steps[i].gpu_compute_ns[g]);
      p.push_back(predicted.steps[i].gpu_compute_ns[g]);
    }
    v.gpu.push_back(relative_errors(p, m));
  }
  return v;
}

}  // namespace

RelativeErrors relative_errors(std::span<const double> predicted,
                               std::span<const double> measured) {
  std::vector<double> magnitude;
  double signed_sum = 0;
  for (std::size_t i = 0; i < measured.size(); ++i) {
    if (!(measured[i] > 0)) continue;
    const double e = (predicted[i] - measured[i]) / measured[i];
    magnitude.push_back(std::abs(e));
    signed_sum += e;
  }
  RelativeErrors out;
  out.count = static_cast<int>(magnitude.size());
  if (magnitude.empty()) return out;
  std::sort(magnitude.begin(), magnitude.end());
  out.p50 = quantile_sorted(magnitude, 0.50);
  out.p90 = quantile_sorted(magnitude, 0.90);
  out.p99 = quantile_sorted(magnitude, 0.99);
  out.mean_signed = signed_sum / static_cast<double>(magnitude.size());
  return out;
}

Validation validate_replays(std::span<const Replay> measured, std::span<const Replay> predicted) {
  Validation v;
  for (std::size_t i = 0; i < measured.size(); ++i)
    v.policies.push_back(compare(measured[i], predicted[i]));
  v.measured_order = order_by_mean(v.policies, &PolicyValidation::measured_mean_us);
  v.predicted_order = order_by_mean(v.policies, &PolicyValidation::predicted_mean_us);
  return v;
}

nlohmann::ordered_json Validation::to_json() const {
  nlohmann::ordered_json out;
  out["ordering"] = {
      {"measured", measured_order}, {"predicted", predicted_order}, {"agrees", ordering_agrees()}};
  out["policies"] = nlohmann::ordered_json::array();
  for (const auto& p : policies) {
    nlohmann::ordered_json gpus = nlohmann::ordered_json::array();
    for (const auto& g : p.gpu) gpus.push_back(errors_json(g));
    out["policies"].push_back({{"policy", p.policy},
                               {"measured_mean_us", p.measured_mean_us},
                               {"predicted_mean_us", p.predicted_mean_us},
                               {"layer_relative_error", errors_json(p.layer)},
                               {"gpu_relative_error", std::move(gpus)}});
  }
  return out;
}

}  // namespace vibesim
