#include "models/variability_profile.h"

#include <algorithm>
#include <cmath>

#include "io/config_object.h"

namespace vibesim {

double ScalarDistribution::sample(RandomEngine& rng) const {
  switch (kind) {
    case Kind::kConstant:
      return a;
    case Kind::kNormal:
      return std::normal_distribution<double>(a, b)(rng);
    case Kind::kLognormal:
      return a * std::exp(std::normal_distribution<double>(0.0, b)(rng));
    case Kind::kEmpirical: {
      // Inverse CDF with linear interpolation between the listed quantiles.
      const double u = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
      const double pos = u * static_cast<double>(quantile_values.size() - 1);
      const auto i = std::min(static_cast<std::size_t>(pos), quantile_values.size() - 2);
      const double t = pos - static_cast<double>(i);
      return quantile_values[i] * (1 - t) + quantile_values[i + 1] * t;
    }
  }
  return a;
}

nlohmann::json ScalarDistribution::to_json() const {
  switch (kind) {
    case Kind::kConstant:
      return {{"dist", "constant"}, {"value", a}};
    case Kind::kNormal:
      return {{"dist", "normal"}, {"mean", a}, {"stddev", b}};
    case Kind::kLognormal:
      return {{"dist", "lognormal"}, {"median", a}, {"sigma", b}};
    case Kind::kEmpirical:
      return {{"dist", "empirical"}, {"quantiles", quantile_values}};
  }
  return {};
}

namespace {

ScalarDistribution parse_distribution(ConfigObject& parent, const std::string& key, double lo,
                                      double hi) {
  ScalarDistribution d;
  auto c = parent.object(key);
  const auto kind = c.choice("dist", {"constant", "normal", "lognormal", "empirical"});
  if (kind == "constant") {
    d.kind = ScalarDistribution::Kind::kConstant;
    d.a = c.number("value", lo, hi);
  } else if (kind == "normal") {
    d.kind = ScalarDistribution::Kind::kNormal;
    d.a = c.number("mean", lo, hi);
    d.b = c.number("stddev", 0, hi - lo);
  } else if (kind == "lognormal") {
    d.kind = ScalarDistribution::Kind::kLognormal;
    d.a = c.number("median", std::max(lo, 1e-12), hi);
    d.b = c.number("sigma", 0, 5);
  } else {
    d.kind = ScalarDistribution::Kind::kEmpirical;
    d.quantile_values = c.number_list("quantiles", lo, hi);
    if (d.quantile_values.size() < 2) throw c.error("quantiles", "needs at least 2 values");
    if (!std::is_sorted(d.quantile_values.begin(), d.quantile_values.end()))
      throw c.error("quantiles", "values must be non-decreasing");
  }
  c.finish();
  return d;
}

}  // namespace

std::vector<GpuVariation> VariabilityProfile::draw(int count, std::uint64_t seed) const {
  RandomEngine rng(seed);
  std::vector<GpuVariation> gpus(static_cast<std::size_t>(count));
  for (auto& g : gpus) {
    g.voltage_offset_v = voltage_offset_v.sample(rng);
    // Physical floors keep a wide distribution from producing a GPU with no leakage or bandwidth.
    g.leakage_factor = std::max(0.05, leakage_factor.sample(rng));
    g.memory_factor = std::max(0.05, memory_factor.sample(rng));
  }
  // Drawn after the others so profiles without it draw the same GPUs as before.
  for (auto& g : gpus) g.relative_time = std::max(0.05, relative_time.sample(rng));
  return gpus;
}

nlohmann::ordered_json VariabilityProfile::to_json() const {
  nlohmann::ordered_json out = {{"name", name},
                                {"description", description},
                                {"voltage_offset_v", voltage_offset_v.to_json()},
                                {"leakage_factor", leakage_factor.to_json()},
                                {"memory_factor", memory_factor.to_json()},
                                {"relative_time", relative_time.to_json()},
                                {"kernel_jitter_cv", kernel_jitter_cv}};
  if (thermal_drift.stddev > 0)
    out["thermal_drift"] = {{"stddev", thermal_drift.stddev},
                            {"time_constant_s", thermal_drift.time_constant_s}};
  if (thermal_state.slowdown_at_full_duty > 0)
    out["thermal_state"] = {{"slowdown_at_full_duty", thermal_state.slowdown_at_full_duty},
                            {"time_constant_s", thermal_state.time_constant_s}};
  if (!summary.is_null()) out["summary"] = summary;
  if (!measured.is_null()) out["measured"] = measured;
  if (!sku.empty()) out["sku"] = sku;
  if (!calibration_targets.is_null()) out["calibration_targets"] = calibration_targets;
  return out;
}

VariabilityProfile parse_variability_profile(ConfigObject& c, std::string default_name) {
  VariabilityProfile p;
  p.name = c.string_or("name", std::move(default_name));
  p.sku = c.string_or("sku", "");
  p.description = c.string_or("description", "");
  c.string_or("source", "");
  p.voltage_offset_v = parse_distribution(c, "voltage_offset_v", -0.5, 0.5);
  p.leakage_factor = parse_distribution(c, "leakage_factor", 0, 10);
  p.memory_factor = parse_distribution(c, "memory_factor", 0, 10);
  if (c.has("relative_time"))
    p.relative_time = parse_distribution(c, "relative_time", kMinRelativeTime, kMaxRelativeTime);
  p.kernel_jitter_cv = c.number_or("kernel_jitter_cv", 0.0, 0.0, 0.5);
  if (c.has("thermal_drift")) {
    auto drift = c.object("thermal_drift");
    p.thermal_drift.stddev = drift.number("stddev", 0.0, 0.5);
    p.thermal_drift.time_constant_s = drift.number_or("time_constant_s", 60.0, 1e-3, 1e6);
    drift.finish();
  }
  if (c.has("thermal_state")) {
    auto heat = c.object("thermal_state");
    p.thermal_state.slowdown_at_full_duty = heat.number("slowdown_at_full_duty", 0.0, 1.0);
    p.thermal_state.time_constant_s = heat.number_or("time_constant_s", 10.0, 1e-3, 1e6);
    heat.finish();
  }
  if (c.has("summary")) p.summary = c.raw("summary");
  if (c.has("calibration_targets")) p.calibration_targets = c.raw("calibration_targets");
  if (c.has("measured")) p.measured = c.raw("measured");
  c.finish();
  return p;
}

}  // namespace vibesim
