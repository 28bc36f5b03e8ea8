#include "policies/recalibration.h"

#include <algorithm>
#include <cassert>
#include <cmath>

#include "io/config_object.h"

namespace vibesim {

RecalibrationSpec RecalibrationSpec::parse(ConfigObject& r) {
  RecalibrationSpec s;
  s.controller = r.choice_or("controller", s.controller, kRecalibrationControllers);
  s.every_k_steps = static_cast<int>(r.integer_or("every_k_steps", s.every_k_steps, 1, 1'000'000));
  s.window = static_cast<int>(r.integer_or("window", s.window, 1, 100'000));
  s.check_every = static_cast<int>(r.integer_or("check_every", s.check_every, 1, 1'000'000));
  s.threshold = r.number_or("threshold", s.threshold, 0.0, 1.0);
  s.cooldown = static_cast<int>(r.integer_or("cooldown", s.cooldown, 0, 1'000'000));
  s.reprofile = r.boolean_or("reprofile", s.reprofile);
  s.migration_budget_gb = r.number_or("migration_budget_gb", s.migration_budget_gb, 0.0, 1e9);
  s.migration_price_us_per_gb =
      r.number_or("migration_price_us_per_gb", s.migration_price_us_per_gb, 0.0, 1e9);
  r.finish();
  return s;
}

nlohmann::ordered_json RecalibrationSpec::to_json() const {
  return {{"controller", name_of(kRecalibrationControllers, controller)},
          {"every_k_steps", every_k_steps},
          {"window", window},
          {"check_every", check_every},
          {"threshold", threshold},
          {"cooldown", cooldown},
          {"reprofile", reprofile},
          {"migration_budget_gb", migration_budget_gb},
          {"migration_price_us_per_gb", migration_price_us_per_gb}};
}

RecalibrationController::RecalibrationController(const RecalibrationSpec& spec,
                                                 std::vector<std::vector<double>> reference_loads)
    : spec_(spec),
      trigger_(make_recalibration_trigger(spec)),
      reference_(std::move(reference_loads)) {
  assert(spec.window >= 1 && spec.every_k_steps >= 1 && spec.check_every >= 1);
  window_sum_.reserve(reference_.size());
  for (const auto& layer : reference_) window_sum_.emplace_back(layer.size(), 0.0);
}

Replacement RecalibrationController::observe_pass(
    std::span<const std::vector<std::int32_t>> counts) {
  assert(counts.size() == window_sum_.size());
  if (!trigger_->watches_routing()) return Replacement::kNone;
  const auto window = static_cast<std::size_t>(spec_.window);
  if (ring_.size() < window) {
    ring_.emplace_back(counts.begin(), counts.end());
  } else {
    auto& oldest = ring_[next_];
    for (std::size_t l = 0; l < oldest.size(); ++l)
      for (std::size_t e = 0; e < oldest[l].size(); ++e) window_sum_[l][e] -= oldest[l][e];
    oldest.assign(counts.begin(), counts.end());
  }
  for (std::size_t l = 0; l < counts.size(); ++l)
    for (std::size_t e = 0; e < counts[l].size(); ++e) window_sum_[l][e] += counts[l][e];
  next_ = (next_ + 1) % window;
  ++passes_;
  return trigger_->after_pass(*this);
}

std::unique_ptr<const RecalibrationTrigger> make_recalibration_trigger(
    const RecalibrationSpec& spec) {
  switch (spec.controller) {
    case RecalibrationKind::kEveryKSteps:
      return make_every_k_steps_trigger(spec.every_k_steps);
    case RecalibrationKind::kDrift:
      return make_drift_trigger(spec.check_every, spec.cooldown, spec.threshold);
    case RecalibrationKind::kNever:
      break;
  }
  return make_never_trigger();
}

double RecalibrationController::max_cosine_distance() const {
  double worst = 0;
  for (std::size_t l = 0; l < reference_.size(); ++l) {
    double dot = 0, ww = 0, rr = 0;
    for (std::size_t e = 0; e < reference_[l].size(); ++e) {
      dot += window_sum_[l][e] * reference_[l][e];
      ww += window_sum_[l][e] * window_sum_[l][e];
      rr += reference_[l][e] * reference_[l][e];
    }
    if (ww > 0 && rr > 0) worst = std::max(worst, 1 - dot / std::sqrt(ww * rr));
  }
  return worst;
}

std::vector<std::vector<double>> RecalibrationController::window_loads() const {
  auto loads = window_sum_;
  const double n = static_cast<double>(std::max<std::size_t>(ring_.size(), 1));
  for (auto& layer : loads)
    for (auto& w : layer) w /= n;
  return loads;
}

void RecalibrationController::placed(std::vector<std::vector<double>> loads) {
  reference_ = std::move(loads);
  last_placed_ = passes_;
}

}  // namespace vibesim
