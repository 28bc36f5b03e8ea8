#pragma once
// What runs a layer step's expert computation: the seam between "what runs"
// (the placement and the token counts, which MoeLayerStepper decides) and
// "how long it takes". Three executors implement it:
//   ModelledExecutor   the modelled GPUs (GpuKernelModel): every simulation;
//   ProfiledExecutor   the profiled curves f_g: what a policy predicts;
//   hw/cuda/           real SwiGLU GEMMs on real GPUs (`vibesim hw`).
#include <cstdint>
#include <span>
#include <vector>

#include "models/gpu_kernel_model.h"
#include "models/latency_curve.h"

namespace vibesim {

// One layer step's expert work: the token-expert assignments of every
// physical slot, GPU g's slots at [g * slots_per_gpu, (g + 1) * slots_per_gpu).
struct LayerWork {
  int num_gpus = 0;
  int slots_per_gpu = 0;
  std::span<const std::int32_t> slot_tokens;
  // Each GPU's slots' tokens summed, when the caller has them (the layer step
  // sums them as it gathers); else gpu_tokens sums them.
  std::span<const std::int64_t> gpu_token_sums = {};

  [[nodiscard]] std::span<const std::int32_t> gpu_slots(int g) const {
    return slot_tokens.subspan(
        static_cast<std::size_t>(g) * static_cast<std::size_t>(slots_per_gpu),
        static_cast<std::size_t>(slots_per_gpu));
  }
  // Token-expert assignments GPU g computes (its slots' tokens summed).
  [[nodiscard]] std::int64_t gpu_tokens(int g) const {
    if (!gpu_token_sums.empty()) return gpu_token_sums[static_cast<std::size_t>(g)];
    std::int64_t tokens = 0;
    for (const std::int32_t n : gpu_slots(g)) tokens += n;
    return tokens;
  }
};

class LayerExecutor {
 public:
  virtual ~LayerExecutor() = default;
  // Writes each GPU's expert-computation time in ns for `work` into
  // `compute_ns` (num_gpus entries). Every GPU starts together; the barrier
  // is the caller's.
  virtual void run(const LayerWork& work, std::span<double> compute_ns) = 0;
};

// GPU g's fused expert kernel as GpuKernelModel g times it (no jitter: the
// stepper adds the model's perturbations).
class ModelledExecutor final : public LayerExecutor {
 public:
  explicit ModelledExecutor(std::span<const GpuKernelModel> gpus) : gpus_(gpus) {}
  void run(const LayerWork& work, std::span<double> compute_ns) override;

 private:
  std::span<const GpuKernelModel> gpus_;
};

// f_g(tokens on GPU g): what a latency profile predicts, blind to how the
// tokens split over experts. GPU g uses curve_of_gpu(curves, g), so a profile
// of fewer GPUs can stand for a larger cluster.
class ProfiledExecutor final : public LayerExecutor {
 public:
  explicit ProfiledExecutor(std::vector<LatencyCurve> curves) : curves_(std::move(curves)) {}
  void run(const LayerWork& work, std::span<double> compute_ns) override;

 private:
  std::vector<LatencyCurve> curves_;
};

}  // namespace vibesim
