#pragma once
// Ground-truth latency of the fused MoE expert kernel on one drawn GPU:
// a roofline over padded expert GEMMs whose compute side runs at the clock the
// power cap allows (DVFS), so compute-bound kernels slow down by a GPU-specific
// amount while memory-bound ones stay near peak clock.
#include <algorithm>
#include <array>
#include <cassert>
#include <cstdint>
#include <span>

#include "models/gpu_sku.h"
#include "models/moe_model.h"
#include "models/variability_profile.h"

namespace vibesim {

// What one GPU computes in one MoE layer, summed over the experts it hosts.
// Integer counts: this is the simulator's innermost loop.
struct ExpertBatch {
  std::int64_t tokens = 0;          // token-expert assignments
  std::int64_t padded_tokens = 0;   // each expert's tokens rounded up to the GEMM tile
  std::int64_t active_experts = 0;  // experts with at least one token (they load weights)

  // `expert_tokens` rounded up to the tile; `tile_mask` is the tile size minus
  // one (tiles are powers of two).
  static std::int64_t padded(std::int64_t expert_tokens, std::int64_t tile_mask) {
    return (expert_tokens + tile_mask) & ~tile_mask;
  }
  // Adds one expert's tokens.
  void add_expert(std::int64_t expert_tokens, std::int64_t tile_mask) {
    tokens += expert_tokens;
    padded_tokens += padded(expert_tokens, tile_mask);
    active_experts += expert_tokens > 0 ? 1 : 0;
  }
  // The batch of experts with these token counts (add_expert's sums, in
  // locals: a loop the compiler vectorises).
  static ExpertBatch of_experts(std::span<const std::int32_t> expert_tokens,
                                std::int64_t tile_mask) {
    std::int64_t sum = 0;
    for (const std::int32_t n : expert_tokens) sum += n;
    return of_experts(expert_tokens, tile_mask, sum);
  }
  // The same when their sum, `tokens`, is known (the layer step has it). An
  // expert's padding, padded(n) - n = (-n) mod tile, is below the tile (at
  // most 4,096 tokens), so paddings and active experts are summed in 32-bit
  // lanes, four to a vector register where 64-bit sums would fit two, a
  // chunk at a time so that neither sum can overflow. Exactly add_expert's
  // sums.
  static ExpertBatch of_experts(std::span<const std::int32_t> expert_tokens, std::int64_t tile_mask,
                                std::int64_t tokens) {
    assert(tile_mask >= 0 && tile_mask < 4096);
    const auto mask = static_cast<std::uint32_t>(tile_mask);
    constexpr std::size_t kChunk = std::size_t{1} << 18;  // 2^18 x 4,095 < 2^32
    ExpertBatch batch{tokens, tokens, 0};
    for (auto rest = expert_tokens; !rest.empty();) {
      const auto chunk = rest.first(std::min(kChunk, rest.size()));
      rest = rest.subspan(chunk.size());
      std::uint32_t padding = 0, active = 0;
      for (const std::int32_t n : chunk) {
        padding += (0u - static_cast<std::uint32_t>(n)) & mask;
        active += n > 0 ? 1u : 0u;
      }
      batch.padded_tokens += padding;
      batch.active_experts += active;
    }
    return batch;
  }
  // `tokens` spread as evenly as integers allow over `experts` experts.
  static ExpertBatch spread_evenly(std::int64_t tokens, std::int64_t experts,
                                   std::int64_t tile_mask) {
    ExpertBatch batch;
    for (std::int64_t e = 0; e < experts; ++e)
      batch.add_expert(tokens / experts + (e < tokens % experts ? 1 : 0), tile_mask);
    return batch;
  }
};

struct KernelTiming {
  double duration_ns = 0;  // before per-kernel jitter
  // Mean clock / max clock over the kernel's busy time.
  double clock_fraction = 1;
  // Fraction of the kernel's busy time with the power limit holding its clock.
  double at_cap_fraction = 0;
  // Switching activity in [0, 1].
  double activity = 0;
  // Board power averaged over the busy time (W): full clock until the power
  // limit holds the clock, the capped clock after.
  double power_w = 0;
  bool compute_bound = false;
};

class GpuKernelModel {
 public:
  GpuKernelModel(const GpuSku& sku, const GpuVariation& variation, const MoeModel& model);

  [[nodiscard]] KernelTiming time(const ExpertBatch& batch) const;
  // time(batch).duration_ns, without the rest.
  [[nodiscard]] double duration_ns(const ExpertBatch& batch) const;

  // A dense (non-expert) kernel of class `kind` (attention, or dense FFN and
  // shared experts), on this GPU's share of the work — `flops` at the model's
  // dtype peak times the class's efficiency and `bytes` of HBM traffic,
  // roofline with the same DVFS and relative time as experts.
  [[nodiscard]] KernelTiming dense_kernel(KernelClass kind, double flops, double bytes) const;
  [[nodiscard]] double dense_kernel_ns(KernelClass kind, double flops, double bytes) const {
    return dense_kernel(kind, flops, bytes).duration_ns;
  }

  // Highest clock fraction in [min/max clock, 1] whose power at `activity` fits the cap.
  [[nodiscard]] double sustained_clock_fraction(double activity) const;
  [[nodiscard]] double power_w(double clock_fraction, double activity) const;
  // A memory-bound kernel's power at full clock: what the windowed power
  // limit assumes between compute kernels (communication, weight streaming).
  [[nodiscard]] double memory_bound_power_w() const;
  [[nodiscard]] std::int64_t tile_mask() const { return tile_tokens_ - 1; }
  [[nodiscard]] const GpuVariation& variation() const { return variation_; }

 private:
  static constexpr int kActivitySteps = 64;
  [[nodiscard]] double solve_clock_fraction(double activity) const;
  // Time at full clock before the windowed average power reaches the cap
  // (power.limit_window_s); 0 when the limit is instantaneous or never binds.
  [[nodiscard]] double solve_time_to_cap_ns(double activity) const;
  [[nodiscard]] double interpolate(const std::array<double, kActivitySteps + 1>& table,
                                   double activity) const;
  // A roofline's inputs: compute time at full clock (padding included), the
  // part of it doing real work (sets activity), memory time.
  struct RooflineInputs {
    double compute_at_max_ns, useful_at_max_ns, memory_ns;
  };
  // What power-capped DVFS makes of them: the activity, the capped clock
  // fraction, the time at full clock before the cap binds, the compute time
  // and the busy time (the larger of compute and memory).
  struct CappedBusy {
    double activity = 0, capped = 1, free_ns = 0, compute_ns = 0, busy_ns = 0;
  };
  [[nodiscard]] RooflineInputs expert_roofline(const ExpertBatch& batch) const;
  [[nodiscard]] CappedBusy capped_busy(const RooflineInputs& in) const;
  [[nodiscard]] double duration_of(double busy_ns) const;  // launch and relative time added
  // Roofline with power-capped DVFS, with the clock and cap details.
  [[nodiscard]] KernelTiming roofline(const RooflineInputs& in) const;

  PowerModelSpec power_;
  GpuVariation variation_;
  double cap_w_;
  double min_clock_fraction_;
  std::int64_t tile_tokens_;
  double ns_per_padded_token_at_max_clock_;  // at full tile occupancy
  double moe_half_efficiency_tokens_;
  double ns_per_active_expert_;  // weight load
  double ns_per_token_memory_;   // activations in and out
  double launch_ns_;
  double attention_ns_per_flop_at_max_clock_;
  double dense_ns_per_flop_at_max_clock_;
  double ns_per_byte_;
  std::array<double, kActivitySteps + 1> clock_by_activity_{};
  std::array<double, kActivitySteps + 1> time_to_cap_ns_by_activity_{};
};

}  // namespace vibesim
