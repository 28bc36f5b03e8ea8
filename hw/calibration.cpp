#include "hw/calibration.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include <fmt/format.h>

#include "base/statistics.h"

namespace vibesim {

namespace {

// Every GPU's slots holding `tokens` spread evenly.
std::vector<std::int32_t> even_slot_tokens(double tokens, int gpus, int slots) {
  const auto n = static_cast<std::int64_t>(tokens);
  std::vector<std::int32_t> out;
  for (int g = 0; g < gpus; ++g)
    for (int s = 0; s < slots; ++s)
      out.push_back(static_cast<std::int32_t>(n / slots + (s < n % slots ? 1 : 0)));
  return out;
}

nlohmann::ordered_json telemetry_json(double tokens, const DeviceTelemetry& t) {
  return {{"tokens", tokens},
          {"sm_clock_mhz", t.sm_clock_mhz},
          {"power_w", t.power_w},
          {"temperature_c", t.temperature_c}};
}

}  // namespace

std::vector<double> default_calibration_tokens(double max_tokens, int points) {
  std::vector<double> out{0.0};
  const double first = 64;
  max_tokens = std::max(std::round(max_tokens), 2 * first);
  const double ratio = std::pow(max_tokens / first, 1.0 / std::max(1, points - 2));
  for (double n = first; n < max_tokens; n *= ratio)
    if (std::round(n) > out.back() && std::round(n) < max_tokens) out.push_back(std::round(n));
  out.push_back(max_tokens);
  return out;
}

Calibration calibrate(HardwareBackend& backend, const CalibrationSpec& spec,
                      const std::function<void(const std::string&)>& progress) {
  Calibration result{spec, {}, {}};
  const auto devices = backend.devices();
  for (const auto& device : devices) result.devices.push_back({device, {}, {}});
  const int gpus = static_cast<int>(result.devices.size());
  const auto max_per_expert =
      static_cast<std::int64_t>(std::ceil(spec.tokens.back() / spec.experts_per_gpu));
  result.plan = plan_device_memory(spec.shape, spec.experts_per_gpu, max_per_expert,
                                   least_free_bytes(devices));
  auto executor = backend.make_executor(result.plan, gpus, spec.experts_per_gpu);
  std::vector<double> compute_ns(static_cast<std::size_t>(gpus));
  auto run = [&](double tokens) {
    const auto slots = even_slot_tokens(tokens, gpus, spec.experts_per_gpu);
    executor->run(LayerWork{gpus, spec.experts_per_gpu, slots}, compute_ns);
  };

  progress(fmt::format("warming {} device(s) up for {} s", gpus, spec.warmup_s));
  const auto warm_until = std::chrono::steady_clock::now() +
                          std::chrono::duration<double>(std::max(0.0, spec.warmup_s));
  do run(spec.tokens.back());
  while (std::chrono::steady_clock::now() < warm_until);

  for (const double tokens : spec.tokens) {
    std::vector<std::vector<double>> runs(static_cast<std::size_t>(gpus));
    for (int r = 0; r < spec.repetitions; ++r) {
      run(tokens);
      for (std::size_t g = 0; g < runs.size(); ++g) runs[g].push_back(compute_ns[g]);
    }
    for (std::size_t g = 0; g < runs.size(); ++g) {
      auto& d = result.devices[g];
      d.latency_ns.push_back(quantile(runs[g], 0.5));
      d.telemetry.push_back(backend.telemetry(static_cast<int>(g)));
      progress(
          fmt::format("device {}: {} tokens {:.1f} us", g, tokens, d.latency_ns.back() * 1e-3));
    }
  }
  return result;
}

std::vector<LatencyCurve> Calibration::curves() const {
  std::vector<LatencyCurve> out;
  for (const auto& d : devices) out.emplace_back(spec.tokens, d.latency_ns);
  return out;
}

nlohmann::ordered_json Calibration::profile_json() const {
  nlohmann::ordered_json devices_json = nlohmann::ordered_json::array();
  for (const auto& d : devices) {
    nlohmann::ordered_json telemetry = nlohmann::ordered_json::array();
    for (std::size_t i = 0; i < d.telemetry.size(); ++i)
      telemetry.push_back(telemetry_json(spec.tokens[i], d.telemetry[i]));
    devices_json.push_back({{"name", d.device.name},
                            {"compute_capability", d.device.compute_capability},
                            {"pci_bus_id", d.device.pci_bus_id},
                            {"driver_version", d.device.driver_version},
                            {"telemetry", std::move(telemetry)}});
  }
  const auto curves_list = curves();
  auto out = gpu_latency_profile_json(curves_list);
  out["hardware"] = {{"measured_by", "vibesim hw calibrate"},
                     {"hidden_size", plan.shape.hidden},
                     {"expert_intermediate_size", plan.shape.intermediate},
                     {"intermediate_scale", plan.intermediate_scale},
                     {"experts_per_gpu", spec.experts_per_gpu},
                     {"weight_sets", plan.weight_sets},
                     {"note", plan.note},
                     {"warmup_s", spec.warmup_s},
                     {"repetitions", spec.repetitions},
                     {"devices", std::move(devices_json)}};
  return out;
}

}  // namespace vibesim
