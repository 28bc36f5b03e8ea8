#pragma once
// The paper's profiling micro-benchmark, run on simulated GPUs: warm up, then
// sweep token counts through the fused MoE kernel and record latency. The
// result — one LatencyCurve f_g per GPU — is all a placement policy learns
// about the hardware; it includes jitter, so it is a measurement, not the truth.
#include <cstdint>
#include <span>
#include <vector>

#include "models/gpu_kernel_model.h"
#include "models/latency_curve.h"

namespace vibesim {

struct ProfilingSpec {
  int experts_per_gpu = 1;  // tokens are spread evenly over this many experts
  double max_tokens = 0;    // largest per-GPU token count in the sweep
  int points = 24;          // sweep points from 0 to max_tokens (geometric above one tile)
  int warmup_runs = 3;
  int repetitions = 5;  // median of these per point
  double jitter_cv = 0;
  std::uint64_t seed = 0;
};

std::vector<LatencyCurve> profile_gpus(std::span<const GpuKernelModel> gpus,
                                       const ProfilingSpec& spec);

}  // namespace vibesim
