#include "models/gpu_kernel_model.h"

#include <algorithm>
#include <cmath>

namespace vibesim {

GpuKernelModel::GpuKernelModel(const GpuSku& sku, const GpuVariation& variation,
                               const MoeModel& model)
    : power_(sku.power),
      variation_(variation),
      cap_w_(sku.tdp_w),
      min_clock_fraction_(sku.min_clock_mhz / sku.max_clock_mhz),
      tile_tokens_(sku.kernel.tile_tokens),
      moe_half_efficiency_tokens_(sku.kernel.moe_half_efficiency_tokens),
      launch_ns_(sku.kernel.launch_overhead_us * 1e3) {
  const double peak = sku.peak_flops_per_s(model.dtype);
  const auto ns_per_flop = [&](KernelClass k) { return 1e9 / (peak * sku.compute_efficiency(k)); };
  ns_per_padded_token_at_max_clock_ =
      model.expert_flops_per_token() * ns_per_flop(KernelClass::kMoe);
  attention_ns_per_flop_at_max_clock_ = ns_per_flop(KernelClass::kAttention);
  dense_ns_per_flop_at_max_clock_ = ns_per_flop(KernelClass::kDense);
  const double bytes_per_s =
      sku.hbm_bandwidth_bytes_per_s * sku.kernel.memory_efficiency * variation.memory_factor;
  ns_per_active_expert_ = model.expert_weight_bytes() / bytes_per_s * 1e9;
  ns_per_byte_ = 1e9 / bytes_per_s;
  // Per token: the hidden state in (model dtype) and out (bf16), the SwiGLU
  // intermediate written and read back once (bf16).
  const double d = static_cast<double>(model.hidden_size);
  const double d_ff = static_cast<double>(model.expert_intermediate_size);
  const double token_bytes =
      d * bytes_per_element(model.dtype) + 2.0 * d + 2.0 * (2.0 * d_ff) + 2.0 * d_ff;
  ns_per_token_memory_ = token_bytes / bytes_per_s * 1e9;
  for (int i = 0; i <= kActivitySteps; ++i) {
    const double activity = static_cast<double>(i) / kActivitySteps;
    clock_by_activity_[static_cast<std::size_t>(i)] = solve_clock_fraction(activity);
    time_to_cap_ns_by_activity_[static_cast<std::size_t>(i)] = solve_time_to_cap_ns(activity);
  }
}

double GpuKernelModel::power_w(double clock_fraction, double activity) const {
  const double v_span = power_.voltage_at_max_clock_v - power_.voltage_at_min_clock_v;
  const double clock_pos = (clock_fraction - min_clock_fraction_) / (1.0 - min_clock_fraction_);
  const double volts =
      power_.voltage_at_min_clock_v + v_span * clock_pos + variation_.voltage_offset_v;
  const double v_rel = volts / power_.voltage_at_max_clock_v;
  return power_.static_w * variation_.leakage_factor +
         activity * power_.dynamic_full_w * clock_fraction * v_rel * v_rel;
}

double GpuKernelModel::memory_bound_power_w() const {
  return power_w(1.0, power_.activity_memory_bound);
}

double GpuKernelModel::solve_clock_fraction(double activity) const {
  if (power_w(1.0, activity) <= cap_w_) return 1.0;
  if (power_w(min_clock_fraction_, activity) >= cap_w_) return min_clock_fraction_;
  double lo = min_clock_fraction_,
         hi = 1.0;  // power(lo) <= cap < power(hi); power rises with clock
  for (int i = 0; i < 50; ++i) {
    const double mid = 0.5 * (lo + hi);
    (power_w(mid, activity) <= cap_w_ ? lo : hi) = mid;
  }
  return lo;
}

// The exponential average starts at the power of a memory-bound kernel at
// full clock, p0, and climbs toward p1, the kernel's power at full clock:
// p0 + (p1 - p0)(1 - exp(-t/W)) reaches the cap at t = W ln((p1 - p0) / (p1 - cap)).
double GpuKernelModel::solve_time_to_cap_ns(double activity) const {
  const double window_ns = power_.limit_window_s * 1e9;
  const double p1 = power_w(1.0, activity);
  const double p0 = memory_bound_power_w();
  if (window_ns <= 0 || p1 <= cap_w_ || p0 >= cap_w_) return 0;
  return window_ns * std::log((p1 - p0) / (p1 - cap_w_));
}

double GpuKernelModel::interpolate(const std::array<double, kActivitySteps + 1>& table,
                                   double activity) const {
  const double pos = std::clamp(activity, 0.0, 1.0) * kActivitySteps;
  const auto i = std::min(static_cast<int>(pos), kActivitySteps - 1);
  const double t = pos - i;
  return table[static_cast<std::size_t>(i)] * (1 - t) + table[static_cast<std::size_t>(i + 1)] * t;
}

double GpuKernelModel::sustained_clock_fraction(double activity) const {
  return interpolate(clock_by_activity_, activity);
}

GpuKernelModel::CappedBusy GpuKernelModel::capped_busy(const RooflineInputs& in) const {
  CappedBusy out;
  // How busy the math units are with real work at full clock sets switching
  // activity, hence power.
  const double busy = in.useful_at_max_ns / std::max(in.compute_at_max_ns, in.memory_ns);
  out.activity = power_.activity_memory_bound +
                 (power_.activity_compute_bound - power_.activity_memory_bound) * busy;
  out.capped = sustained_clock_fraction(out.activity);
  // Full clock for the first `free_ns`, then the capped clock.
  const bool windowed = out.capped < 1 && power_.limit_window_s > 0;
  out.free_ns = windowed ? interpolate(time_to_cap_ns_by_activity_, out.activity) : 0;
  out.compute_ns = in.compute_at_max_ns <= out.free_ns
                       ? in.compute_at_max_ns
                       : out.free_ns + (in.compute_at_max_ns - out.free_ns) / out.capped;
  out.busy_ns = std::max(out.compute_ns, in.memory_ns);
  return out;
}

double GpuKernelModel::duration_of(double busy_ns) const {
  return (busy_ns + launch_ns_) * variation_.relative_time;
}

KernelTiming GpuKernelModel::roofline(const RooflineInputs& in) const {
  const auto c = capped_busy(in);
  KernelTiming out;
  out.activity = c.activity;
  out.compute_bound = c.compute_ns >= in.memory_ns;
  if (c.capped < 1 && c.busy_ns > c.free_ns) {
    out.at_cap_fraction = (c.busy_ns - c.free_ns) / c.busy_ns;
    out.clock_fraction = c.capped + (1 - c.capped) * (1 - out.at_cap_fraction);
  }
  out.power_w = (1 - out.at_cap_fraction) * power_w(1.0, c.activity) +
                out.at_cap_fraction * power_w(c.capped, c.activity);
  out.duration_ns = duration_of(c.busy_ns);
  return out;
}

KernelTiming GpuKernelModel::dense_kernel(KernelClass kind, double flops, double bytes) const {
  if (flops <= 0 && bytes <= 0) return KernelTiming{};
  const double ns_per_flop = kind == KernelClass::kAttention ? attention_ns_per_flop_at_max_clock_
                                                             : dense_ns_per_flop_at_max_clock_;
  const double compute_at_max_ns = flops * ns_per_flop;
  return roofline({compute_at_max_ns, compute_at_max_ns, bytes * ns_per_byte_});
}

GpuKernelModel::RooflineInputs GpuKernelModel::expert_roofline(const ExpertBatch& batch) const {
  // Tile padding rows multiply zeros, which toggle little: they take time but
  // not (much) power, so activity counts the real tokens only. Likewise
  // compute units left idle by few tokens per expert (occupancy) take time
  // but draw no dynamic power.
  const double useful_ns = static_cast<double>(batch.tokens) * ns_per_padded_token_at_max_clock_;
  double compute_ns = static_cast<double>(batch.padded_tokens) * ns_per_padded_token_at_max_clock_;
  if (moe_half_efficiency_tokens_ > 0) {
    const double per_expert =
        static_cast<double>(batch.tokens) / static_cast<double>(batch.active_experts);
    compute_ns *= (per_expert + moe_half_efficiency_tokens_) / per_expert;
  }
  return {compute_ns, useful_ns,
          static_cast<double>(batch.active_experts) * ns_per_active_expert_ +
              static_cast<double>(batch.tokens) * ns_per_token_memory_};
}

KernelTiming GpuKernelModel::time(const ExpertBatch& batch) const {
  if (batch.active_experts == 0) return KernelTiming{};
  return roofline(expert_roofline(batch));
}

// time(batch).duration_ns without the clock and cap details: the simulator's
// innermost call.
double GpuKernelModel::duration_ns(const ExpertBatch& batch) const {
  if (batch.active_experts == 0) return 0;
  return duration_of(capped_busy(expert_roofline(batch)).busy_ns);
}

}  // namespace vibesim
