#pragma once
// `vibesim hw calibrate`: the paper's profiling micro-benchmark on real GPUs.
// Warm every device to steady state, then sweep per-GPU token counts through
// the experts it hosts (spread evenly, all devices at once, as in a
// deployment) and record the median latency of each point: one measured
// LatencyCurve f_g per device, with what the device reported of its clock,
// power and temperature. The profile is what `vibesim place --profile`, `hw
// replay --profile` and `hw validate` read.
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hw/expert_shape.h"
#include "hw/hardware_backend.h"
#include "models/gpu_latency_profile.h"
#include "models/latency_curve.h"

namespace vibesim {

struct CalibrationSpec {
  ExpertShape shape;           // the model's expert
  int experts_per_gpu = 1;     // each point's tokens are spread evenly over this many
  std::vector<double> tokens;  // per-GPU token-expert assignments, strictly increasing, >= 2
  double warmup_s = 5;         // the largest point, repeated this long before measuring
  int repetitions = 5;         // median of these per point
};

struct DeviceCalibration {
  DeviceInfo device;
  std::vector<double> latency_ns;          // per point of spec.tokens
  std::vector<DeviceTelemetry> telemetry;  // per point, read right after measuring it
};

struct Calibration {
  CalibrationSpec spec;
  DeviceMemoryPlan plan;
  std::vector<DeviceCalibration> devices;

  [[nodiscard]] std::vector<LatencyCurve> curves() const;
  // The latency-profile file (models/gpu_latency_profile.h) with a
  // "hardware" object: devices, shape as run, plan note, telemetry.
  [[nodiscard]] nlohmann::ordered_json profile_json() const;
};

// 0, then `points` - 1 counts geometric from 64 up to `max_tokens`, whole tokens.
std::vector<double> default_calibration_tokens(double max_tokens, int points);

// Progress lines ("device 0: 2048 tokens 812.4 us") go to `progress`.
Calibration calibrate(HardwareBackend& backend, const CalibrationSpec& spec,
                      const std::function<void(const std::string&)>& progress);

}  // namespace vibesim
