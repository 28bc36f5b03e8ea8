#pragma once
// Splitting one experiment seed into independent streams: every random
// component (GPU draw, routing, jitter, ...) seeds its generator with
// derive_seed(experiment_seed, component, index...), so adding a component or
// changing the order of draws elsewhere never shifts another component's numbers.
#include <array>
#include <cstdint>
#include <initializer_list>
#include <random>
#include <vector>

namespace vibesim {

enum class RandomStream : std::uint64_t {
  kGpuDraw = 1,
  kRoutingPopularity = 2,
  kRoutingBatches = 3,
  kRoutingCalibration = 4,
  kKernelJitter = 5,
  kProfiling = 6,
  kThermalDrift = 7,
  kRequests = 8,
};

inline std::uint64_t derive_seed(std::uint64_t seed, std::initializer_list<std::uint64_t> labels) {
  std::vector<std::uint32_t> words{static_cast<std::uint32_t>(seed),
                                   static_cast<std::uint32_t>(seed >> 32)};
  for (auto label : labels) {
    words.push_back(static_cast<std::uint32_t>(label));
    words.push_back(static_cast<std::uint32_t>(label >> 32));
  }
  std::seed_seq seq(words.begin(), words.end());
  std::array<std::uint32_t, 2> out{};
  seq.generate(out.begin(), out.end());
  return (static_cast<std::uint64_t>(out[0]) << 32) | out[1];
}

inline std::uint64_t derive_seed(std::uint64_t seed, RandomStream stream, std::uint64_t index = 0) {
  return derive_seed(seed, {static_cast<std::uint64_t>(stream), index});
}

}  // namespace vibesim
