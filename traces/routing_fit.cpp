#include "traces/routing_fit.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include <fmt/format.h>
#include <Eigen/Dense>

#include "io/config_error.h"
#include "io/config_object.h"

namespace vibesim {

namespace {

constexpr std::size_t kMinBatchesPerSize = 4;

// phi from per-step counts [step][expert] (steps weighted to the mean size).
double variance_ratio_of(const std::vector<std::vector<double>>& steps) {
  if (steps.size() < 2) return std::numeric_limits<double>::quiet_NaN();
  const std::size_t experts = steps[0].size();
  std::vector<double> sizes;
  for (const auto& s : steps) sizes.push_back(std::accumulate(s.begin(), s.end(), 0.0));
  const double mean_size = std::accumulate(sizes.begin(), sizes.end(), 0.0) / sizes.size();
  if (mean_size <= 0) return std::numeric_limits<double>::quiet_NaN();
  double observed = 0, multinomial = 0;
  for (std::size_t e = 0; e < experts; ++e) {
    std::vector<double> x;
    for (std::size_t s = 0; s < steps.size(); ++s)
      if (sizes[s] > 0) x.push_back(steps[s][e] * mean_size / sizes[s]);
    const double mean = std::accumulate(x.begin(), x.end(), 0.0) / static_cast<double>(x.size());
    double ss = 0;
    for (double v : x) ss += (v - mean) * (v - mean);
    observed += ss / static_cast<double>(x.size() - 1);
    const double p = mean / mean_size;
    multinomial += mean_size * p * (1 - p);
  }
  return multinomial > 0 ? observed / multinomial : std::numeric_limits<double>::quiet_NaN();
}

// Least squares of log(phi - 1) = log(coefficient) + exponent log(m) over the
// points with phi > 1; one point: exponent 1; none: no dispersion.
BatchDispersion fit_dispersion(const std::vector<std::pair<double, double>>& measured) {
  std::vector<std::pair<double, double>> points;
  for (const auto& [m, phi] : measured)
    if (std::isfinite(phi) && phi > 1) points.emplace_back(std::log(m), std::log(phi - 1));
  if (points.empty()) return {};
  if (points.size() == 1) return {std::exp(points[0].second - points[0].first), 1.0};
  Eigen::MatrixXd a(static_cast<Eigen::Index>(points.size()), 2);
  Eigen::VectorXd b(static_cast<Eigen::Index>(points.size()));
  for (std::size_t i = 0; i < points.size(); ++i) {
    const auto r = static_cast<Eigen::Index>(i);
    a(r, 0) = 1.0;
    a(r, 1) = points[i].first;
    b(r) = points[i].second;
  }
  const Eigen::Vector2d x = a.colPivHouseholderQr().solve(b);
  return {std::exp(x(0)), x(1)};
}

std::vector<double> shares(const std::vector<double>& totals) {
  const double sum = std::accumulate(totals.begin(), totals.end(), 0.0);
  std::vector<double> p(totals.size(), totals.empty() ? 0.0 : 1.0 / totals.size());
  if (sum > 0)
    for (std::size_t e = 0; e < totals.size(); ++e) p[e] = totals[e] / sum;
  return p;
}

}  // namespace

double BatchDispersion::variance_ratio(double assignments) const {
  return 1.0 + coefficient * std::pow(assignments, exponent);
}

double BatchDispersion::dirichlet_concentration(double assignments) const {
  const double phi = variance_ratio(assignments);
  if (phi <= 1.0) return std::numeric_limits<double>::infinity();
  return std::max((assignments - phi) / (phi - 1.0), 1e-3);
}

double measured_variance_ratio(const CountTrace& trace, std::size_t layer) {
  std::vector<std::vector<double>> steps;
  for (std::size_t s = 0; s < trace.steps; ++s) {
    const auto c = trace.at(s, layer);
    steps.emplace_back(c.begin(), c.end());
  }
  return variance_ratio_of(steps);
}

RoutingFit fit_routing(const TokenTrace& trace) {
  RoutingFit fit{"", trace.top_k, trace.num_experts, {}};
  const auto k = static_cast<std::size_t>(trace.top_k);
  const auto experts = static_cast<std::size_t>(trace.num_experts);
  for (std::size_t l = 0; l < trace.layer_ids.size(); ++l) {
    const auto& ids = trace.experts[l];
    LayerRoutingFit layer;
    layer.layer_id = trace.layer_ids[l];
    std::vector<double> totals(experts, 0.0);
    for (const auto e : ids) totals[static_cast<std::size_t>(e)] += 1;
    layer.popularity = shares(totals);
    const std::size_t tokens = trace.tokens_in_layer(l);
    for (std::size_t batch = 8; tokens / batch >= kMinBatchesPerSize; batch *= 2) {
      std::vector<std::vector<double>> steps(tokens / batch, std::vector<double>(experts, 0.0));
      for (std::size_t i = 0; i < steps.size() * batch * k; ++i)
        steps[i / (batch * k)][static_cast<std::size_t>(ids[i])] += 1;
      layer.measured.emplace_back(static_cast<double>(batch * k), variance_ratio_of(steps));
    }
    layer.dispersion = fit_dispersion(layer.measured);
    fit.layers.push_back(std::move(layer));
  }
  return fit;
}

RoutingFit fit_routing(const CountTrace& trace, int top_k) {
  RoutingFit fit{"", top_k > 0 ? top_k : trace.top_k, trace.num_experts, {}};
  for (std::size_t l = 0; l < trace.layer_ids.size(); ++l) {
    LayerRoutingFit layer;
    layer.layer_id = trace.layer_ids[l];
    std::vector<double> totals(static_cast<std::size_t>(trace.num_experts), 0.0);
    double assignments = 0;
    for (std::size_t s = 0; s < trace.steps; ++s) {
      const auto c = trace.at(s, l);
      for (std::size_t e = 0; e < c.size(); ++e) totals[e] += c[e];
    }
    for (double t : totals) assignments += t;
    layer.popularity = shares(totals);
    if (trace.steps >= 2) {
      layer.measured.emplace_back(assignments / static_cast<double>(trace.steps),
                                  measured_variance_ratio(trace, l));
      layer.dispersion = fit_dispersion(layer.measured);
    }
    fit.layers.push_back(std::move(layer));
  }
  return fit;
}

nlohmann::ordered_json RoutingFit::to_json() const {
  nlohmann::ordered_json out = {
      {"description", description}, {"top_k", top_k}, {"experts", num_experts}};
  auto& layers_json = out["layers"] = nlohmann::ordered_json::array();
  for (const auto& l : layers) {
    nlohmann::ordered_json measured = nlohmann::ordered_json::array();
    for (const auto& [m, phi] : l.measured)
      measured.push_back({{"assignments", m}, {"variance_ratio", std::isfinite(phi) ? phi : 0.0}});
    layers_json.push_back(
        {{"layer", l.layer_id},
         {"dispersion",
          {{"coefficient", l.dispersion.coefficient}, {"exponent", l.dispersion.exponent}}},
         {"measured", std::move(measured)},
         {"popularity", l.popularity}});
  }
  return out;
}

RoutingFit RoutingFit::load(const std::filesystem::path& path) {
  const auto json = read_json_file(path);
  ConfigObject root(json, path.string());
  RoutingFit fit;
  fit.description = root.string_or("description", "");
  fit.top_k = static_cast<int>(root.integer("top_k", 1, kTraceExpertLimit));
  fit.num_experts = static_cast<int>(root.integer("experts", fit.top_k, kTraceExpertLimit));
  const auto& list = root.raw("layers");
  if (!list.is_array()) throw root.error("layers", "expected a list of layers");
  for (std::size_t i = 0; i < list.size(); ++i) {
    ConfigObject layer(list[i], root.source(), fmt::format("layers[{}]", i));
    LayerRoutingFit l;
    l.layer_id = layer.integer("layer", 0, kTraceLayerIdLimit - 1);
    auto dispersion = layer.object("dispersion");
    l.dispersion.coefficient = dispersion.number("coefficient", 0.0, 1e9);
    l.dispersion.exponent = dispersion.number("exponent", -4.0, 4.0);
    dispersion.finish();
    l.popularity = layer.number_list("popularity", 0.0, 1.0);
    if (l.popularity.size() != static_cast<std::size_t>(fit.num_experts))
      throw layer.error("popularity", fmt::format("has {} entries, not experts = {}",
                                                  l.popularity.size(), fit.num_experts));
    const double sum = std::accumulate(l.popularity.begin(), l.popularity.end(), 0.0);
    if (std::abs(sum - 1.0) > 1e-6)
      throw layer.error("popularity", fmt::format("sums to {}, not 1", sum));
    const auto& measured = layer.raw("measured");  // a record of what was fitted
    if (!measured.is_array()) throw layer.error("measured", "expected a list");
    for (std::size_t m = 0; m < measured.size(); ++m) {
      ConfigObject point(measured[m], root.source(), fmt::format("layers[{}].measured[{}]", i, m));
      const double assignments = point.number("assignments", 1.0, 1e12);
      l.measured.emplace_back(assignments, point.number("variance_ratio", 0.0, 1e12));
      point.finish();
    }
    layer.finish();
    fit.layers.push_back(std::move(l));
  }
  if (fit.layers.empty()) throw root.error("layers", "has no layers");
  for (std::size_t l = 1; l < fit.layers.size(); ++l)
    if (fit.layers[l].layer_id <= fit.layers[l - 1].layer_id)
      throw root.error("layers", "layer ids must ascend");
  root.finish();
  return fit;
}

}  // namespace vibesim
