#include "sim/gpu_conditions.h"

#include <algorithm>
#include <cassert>
#include <cmath>

namespace vibesim {

GpuConditions::GpuConditions(int num_gpus, const ThermalDriftSpec& drift,
                             std::vector<ThrottleEvent> events, std::uint64_t seed)
    : drift_(drift),
      events_(std::move(events)),
      drift_state_(static_cast<std::size_t>(num_gpus), 0.0),
      throttle_(static_cast<std::size_t>(num_gpus), 0.0),
      multiplier_(static_cast<std::size_t>(num_gpus), 1.0),
      rng_(seed) {
  std::stable_sort(events_.begin(), events_.end(),
                   [](const ThrottleEvent& a, const ThrottleEvent& b) { return a.at < b.at; });
  // Start from the stationary distribution, so drift is present from t = 0.
  if (drift_.stddev > 0)
    for (auto& x : drift_state_) x = drift_.stddev * normal_(rng_);
  at(SimTime{});
}

const std::vector<double>& GpuConditions::at(SimTime now) {
  assert(now >= now_);
  if (drift_.stddev > 0 && now > now_) {
    const double decay = std::exp(-(now - now_).seconds() / drift_.time_constant_s);
    const double noise = drift_.stddev * std::sqrt(1 - decay * decay);
    for (auto& x : drift_state_) x = x * decay + noise * normal_(rng_);
  }
  now_ = now;
  while (next_event_ < events_.size() && events_[next_event_].at <= now) {
    const auto& e = events_[next_event_++];
    throttle_[static_cast<std::size_t>(e.gpu)] = e.slowdown;
  }
  for (std::size_t g = 0; g < multiplier_.size(); ++g)
    multiplier_[g] = std::max(0.1, (1 + drift_state_[g]) * (1 + throttle_[g]));
  return multiplier_;
}

}  // namespace vibesim
