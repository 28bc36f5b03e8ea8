#pragma once
// Profiled latency curves f_g of a set of GPUs, as a file: what `vibesim run`
// measures on its simulated GPUs (gpu_profile.json in the run directory) and
// what `vibesim place --profile` reads for a real deployment:
//   {"gpu_latency": [{"tokens": [...], "latency_ns": [...]}, ...]}   one entry per GPU
// `tokens` are token-expert assignments on the whole GPU, increasing, at least two.
// An optional "hardware" object says where real curves were measured (`vibesim
// hw calibrate` writes it); it is documentation and not read.
#include <filesystem>
#include <span>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/latency_curve.h"

namespace vibesim {

class ConfigObject;

std::vector<LatencyCurve> read_gpu_latency_profile(const std::filesystem::path& path);
// The same from an object already open (an experiment's inline
// `cluster.latency_profile`); reads every key of `root` and finishes it.
std::vector<LatencyCurve> parse_gpu_latency_profile(ConfigObject& root);
nlohmann::ordered_json gpu_latency_profile_json(std::span<const LatencyCurve> curves);

// The curve of GPU g when a profile holds fewer curves than the cluster has
// GPUs: curve g mod their count, so a profile of the devices at hand (as
// `vibesim hw` time-multiplexes them) stands for a larger cluster.
// `curves` must not be empty.
[[nodiscard]] const LatencyCurve& curve_of_gpu(std::span<const LatencyCurve> curves, std::size_t g);

}  // namespace vibesim
