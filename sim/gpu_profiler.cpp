#include "sim/gpu_profiler.h"

#include <algorithm>
#include <cmath>
#include <random>

#include "base/derived_seed.h"
#include "base/random_engine.h"
#include "base/statistics.h"

namespace vibesim {

namespace {

// 0, then about `points` - 1 token counts from one tile to max_tokens, geometric
// (rounded to whole tokens, duplicates dropped), always ending at max_tokens.
std::vector<double> sweep_points(double tile, double max_tokens, int points) {
  std::vector<double> out{0.0};
  max_tokens = std::round(std::max(max_tokens, 2 * tile));
  const double ratio = std::pow(max_tokens / tile, 1.0 / std::max(1, points - 2));
  for (double n = tile; n < max_tokens; n *= ratio) {
    const double rounded = std::round(n);
    if (rounded > out.back() && rounded < max_tokens) out.push_back(rounded);
  }
  out.push_back(max_tokens);
  return out;
}

}  // namespace

std::vector<LatencyCurve> profile_gpus(std::span<const GpuKernelModel> gpus,
                                       const ProfilingSpec& spec) {
  std::vector<LatencyCurve> curves;
  for (std::size_t g = 0; g < gpus.size(); ++g) {
    const auto& gpu = gpus[g];
    RandomEngine rng(derive_seed(spec.seed, RandomStream::kProfiling, g));
    std::normal_distribution<double> normal(0.0, 1.0);
    auto run_kernel = [&](double tokens) {
      const double ns = gpu.duration_ns(ExpertBatch::spread_evenly(
          static_cast<std::int64_t>(tokens), spec.experts_per_gpu, gpu.tile_mask()));
      return spec.jitter_cv > 0 ? ns * std::max(0.5, 1.0 + spec.jitter_cv * normal(rng)) : ns;
    };
    const auto tokens =
        sweep_points(static_cast<double>(gpu.tile_mask() + 1), spec.max_tokens, spec.points);
    for (int w = 0; w < spec.warmup_runs; ++w) (void)run_kernel(tokens.back());
    std::vector<double> latency;
    for (double n : tokens) {
      std::vector<double> runs;
      for (int r = 0; r < spec.repetitions; ++r) runs.push_back(run_kernel(n));
      latency.push_back(quantile(runs, 0.5));
    }
    curves.emplace_back(tokens, latency);
  }
  return curves;
}

}  // namespace vibesim
