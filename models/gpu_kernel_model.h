#pragma once
// Ground-truth latency of the fused MoE expert kernel on one drawn GPU:
// a roofline over padded expert GEMMs whose compute side runs at the clock the
// power cap allows (DVFS), so compute-bound kernels slow down by a GPU-specific
// amount while memory-bound ones stay near peak clock.
#include <array>
#include <cstdint>

#include "models/gpu_sku.h"
#include "models/moe_model.h"
#include "models/variability_profile.h"

namespace vibesim {

// What one GPU computes in one MoE layer: summed over the experts it hosts.
struct ExpertBatch {
  double tokens = 0;                // token-expert assignments
  double padded_tokens = 0;         // tokens rounded up to the GEMM tile, per expert
  std::int64_t active_experts = 0;  // experts with at least one token (they load weights)
};

// Adds `expert_tokens` tokens of one expert to `batch` (tile padding, activation).
inline void add_expert_tokens(ExpertBatch& batch, double expert_tokens, double tile_tokens) {
  if (expert_tokens <= 0) return;
  batch.tokens += expert_tokens;
  batch.padded_tokens += static_cast<double>(static_cast<std::int64_t>(
                             (expert_tokens + tile_tokens - 1) / tile_tokens)) *
                         tile_tokens;
  batch.active_experts += 1;
}

struct KernelTiming {
  double duration_ns = 0;     // before per-kernel jitter
  double clock_fraction = 1;  // sustained clock / max clock during the kernel
  double power_w = 0;         // board power at that clock and activity
  bool compute_bound = false;
};

class GpuKernelModel {
 public:
  GpuKernelModel(const GpuSku& sku, const GpuVariation& variation, const MoeModel& model);

  [[nodiscard]] KernelTiming time(const ExpertBatch& batch) const;
  [[nodiscard]] double duration_ns(const ExpertBatch& batch) const {
    return time(batch).duration_ns;
  }

  // Highest clock fraction in [min/max clock, 1] whose power at `activity` fits the cap.
  [[nodiscard]] double sustained_clock_fraction(double activity) const;
  [[nodiscard]] double power_w(double clock_fraction, double activity) const;
  [[nodiscard]] double tile_tokens() const { return tile_tokens_; }
  [[nodiscard]] const GpuVariation& variation() const { return variation_; }

 private:
  static constexpr int kActivitySteps = 64;
  [[nodiscard]] double solve_clock_fraction(double activity) const;

  PowerModelSpec power_;
  GpuVariation variation_;
  double cap_w_;
  double min_clock_fraction_;
  double tile_tokens_;
  double ns_per_padded_token_at_max_clock_;
  double ns_per_active_expert_;  // weight load
  double ns_per_token_memory_;   // activations in and out
  double launch_ns_;
  std::array<double, kActivitySteps + 1> clock_by_activity_{};
};

}  // namespace vibesim
