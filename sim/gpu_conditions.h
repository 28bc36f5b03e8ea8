#pragma once
// How each GPU's speed changes while a run goes on, as a multiplier on its
// kernel times (1 = as drawn):
//  - slow thermal drift: a mean-reverting (Ornstein-Uhlenbeck) process per GPU
//    with stationary standard deviation `stddev` and time constant `time_constant_s`,
//    advanced exactly between the times it is asked for;
//  - a thermal state driven by each GPU's duty cycle (ThermalStateSpec),
//    advanced by the work the simulator reports through `ran`;
//  - scheduled events: from `at` on, GPU `gpu` runs `slowdown_percent` slower
//    (15 = kernels take 15 % longer; 0 = recovered).
// Policies do not see this: they keep the curves they profiled until they re-profile.
#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/random_engine.h"
#include "base/sim_time.h"
#include "models/variability_profile.h"

namespace vibesim {

class ConfigObject;

struct ThrottleEvent {
  int gpu = 0;
  SimTime at;
  double slowdown_percent = 0;  // added to kernel time from `at` on; 0 recovers

  // Experiment key `gpu_events`: a list of {gpu, at_ms, slowdown_percent}.
  static std::vector<ThrottleEvent> parse_list(ConfigObject& experiment, const std::string& key,
                                               int num_gpus);
  static nlohmann::ordered_json list_to_json(const std::vector<ThrottleEvent>& events);
};

class GpuConditions {
 public:
  // `events` in any order; `seed` drives the drift.
  GpuConditions(int num_gpus, const ThermalDriftSpec& drift, const ThermalStateSpec& heat,
                std::vector<ThrottleEvent> events, std::uint64_t seed);

  // Moves to time `now` (never backwards) and returns each GPU's kernel-time multiplier.
  const std::vector<double>& at(SimTime now);
  // GPU g computed for busy_ns[g] of the `span` that began at `start`; the
  // time since the previous span's end, if any, was idle. Heats (and cools)
  // each GPU exactly for a duty cycle constant over each interval. Spans must
  // not overlap. No-op without a thermal state.
  void ran(SimTime start, SimDuration span, std::span<const double> busy_ns);
  [[nodiscard]] bool heats() const { return heat_spec_.slowdown_at_full_duty > 0; }
  // True once any scheduled event has taken effect.
  [[nodiscard]] bool any_event_applied() const { return next_event_ > 0; }

 private:
  ThermalDriftSpec drift_;
  std::vector<ThrottleEvent> events_;  // sorted by time
  std::size_t next_event_ = 0;
  // Moves each GPU's heat toward its duty cycle over `seconds`.
  void heat_toward(std::span<const double> duty, double seconds);

  ThermalStateSpec heat_spec_;
  std::vector<double> heat_;  // per GPU, in [0, 1]; 1 = as profiled
  std::vector<double> duty_;  // per GPU, scratch for ran()
  SimTime heated_until_;
  std::vector<double> drift_state_;  // per GPU, relative
  std::vector<double> throttle_;     // per GPU
  std::vector<double> multiplier_;   // per GPU
  SimTime now_;
  RandomEngine rng_;
  std::normal_distribution<double> normal_{0.0, 1.0};
};

}  // namespace vibesim
