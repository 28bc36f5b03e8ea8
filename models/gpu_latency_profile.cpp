#include "models/gpu_latency_profile.h"

#include <cmath>

#include <fmt/format.h>

#include "io/config_object.h"

namespace vibesim {

std::vector<LatencyCurve> parse_gpu_latency_profile(ConfigObject& root) {
  const auto& list = root.raw("gpu_latency");
  if (!list.is_array() || list.empty())
    throw root.error("gpu_latency", "expected a non-empty list, one entry per GPU");
  std::vector<LatencyCurve> curves;
  for (std::size_t g = 0; g < list.size(); ++g) {
    ConfigObject gpu(list[g], root.source(), root.key_path(fmt::format("gpu_latency[{}]", g)));
    auto tokens = gpu.number_list("tokens", 0, 1e12);
    auto latency = gpu.number_list("latency_ns", 0, 1e15);
    gpu.finish();
    if (tokens.size() < 2 || tokens.size() != latency.size())
      throw gpu.error("tokens", "needs at least two points and as many latency_ns values");
    for (std::size_t i = 1; i < tokens.size(); ++i)
      if (!(tokens[i] > tokens[i - 1])) throw gpu.error("tokens", "must increase strictly");
    curves.emplace_back(std::move(tokens), std::move(latency));
  }
  // Where real curves were measured (`vibesim hw calibrate`): documentation, not read.
  if (root.has("hardware") && !root.raw("hardware").is_object())
    throw root.error("hardware", "expected an object describing the measured devices");
  root.finish();
  return curves;
}

std::vector<LatencyCurve> read_gpu_latency_profile(const std::filesystem::path& path) {
  const auto json = read_json_file(path);  // ConfigObject keeps a reference
  ConfigObject root(json, path.string());
  return parse_gpu_latency_profile(root);
}

nlohmann::ordered_json gpu_latency_profile_json(std::span<const LatencyCurve> curves) {
  nlohmann::ordered_json out;
  out["gpu_latency"] = nlohmann::ordered_json::array();
  for (const auto& f : curves)
    out["gpu_latency"].push_back({{"tokens", f.tokens()}, {"latency_ns", f.latency_points_ns()}});
  return out;
}

const LatencyCurve& curve_of_gpu(std::span<const LatencyCurve> curves, std::size_t g) {
  return curves[g % curves.size()];
}

}  // namespace vibesim
