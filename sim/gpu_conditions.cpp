#include "sim/gpu_conditions.h"

#include <algorithm>
#include <cassert>
#include <cmath>

#include <fmt/format.h>

#include "io/config_object.h"

namespace vibesim {

std::vector<ThrottleEvent> ThrottleEvent::parse_list(ConfigObject& c, const std::string& key,
                                                     int num_gpus) {
  const auto& list = c.raw(key);
  if (!list.is_array()) throw c.error(key, "expected a list of events");
  std::vector<ThrottleEvent> events;
  for (std::size_t i = 0; i < list.size(); ++i) {
    ConfigObject e(list[i], c.source(), fmt::format("{}[{}]", c.key_path(key), i), c.rules());
    ThrottleEvent event;
    event.gpu = static_cast<int>(e.integer("gpu", 0, num_gpus - 1));
    event.at = SimTime::from_ns(std::llround(e.number("at_ms", 0, 1e9) * 1e6));
    event.slowdown_percent = e.number("slowdown_percent", 0, 1000);
    e.finish();
    events.push_back(event);
  }
  return events;
}

nlohmann::ordered_json ThrottleEvent::list_to_json(const std::vector<ThrottleEvent>& events) {
  auto out = nlohmann::ordered_json::array();
  for (const auto& e : events)
    out.push_back({{"gpu", e.gpu},
                   {"at_ms", static_cast<double>(e.at.ns()) / 1e6},
                   {"slowdown_percent", e.slowdown_percent}});
  return out;
}

GpuConditions::GpuConditions(int num_gpus, const ThermalDriftSpec& drift,
                             const ThermalStateSpec& heat, std::vector<ThrottleEvent> events,
                             std::uint64_t seed)
    : drift_(drift),
      events_(std::move(events)),
      heat_spec_(heat),
      heat_(static_cast<std::size_t>(num_gpus), 1.0),
      duty_(static_cast<std::size_t>(num_gpus), 0.0),
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
    throttle_[static_cast<std::size_t>(e.gpu)] = e.slowdown_percent / 100;
  }
  const double s = heat_spec_.slowdown_at_full_duty;
  for (std::size_t g = 0; g < multiplier_.size(); ++g)
    multiplier_[g] =
        std::max(0.1, (1 + drift_state_[g]) * (1 + throttle_[g]) * ((1 + s * heat_[g]) / (1 + s)));
  return multiplier_;
}

void GpuConditions::heat_toward(std::span<const double> duty, double seconds) {
  const double decay = std::exp(-seconds / heat_spec_.time_constant_s);
  for (std::size_t g = 0; g < heat_.size(); ++g) heat_[g] = duty[g] + (heat_[g] - duty[g]) * decay;
}

void GpuConditions::ran(SimTime start, SimDuration span, std::span<const double> busy_ns) {
  if (!heats()) return;
  assert(busy_ns.size() == heat_.size());
  if (start > heated_until_) {
    std::fill(duty_.begin(), duty_.end(), 0.0);
    heat_toward(duty_, (start - heated_until_).seconds());
  }
  const double span_ns = static_cast<double>(span.ns());
  if (span_ns > 0) {
    for (std::size_t g = 0; g < duty_.size(); ++g)
      duty_[g] = std::clamp(busy_ns[g] / span_ns, 0.0, 1.0);
    heat_toward(duty_, span.seconds());
  }
  heated_until_ = std::max(heated_until_, start + span);
}

}  // namespace vibesim
