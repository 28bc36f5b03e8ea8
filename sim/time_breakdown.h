#pragma once
// Where a run's time went, summed over its iterations, as a kernel profiler
// on the mean GPU of the group would see it: every second of an iteration is
// in exactly one part, so the parts add up to the run's busy time.
namespace vibesim {

struct TimeBreakdown {
  double moe_kernel_s = 0;    // fused expert kernels
  double attention_s = 0;     // attention kernels
  double other_s = 0;         // dense FFN and shared experts
  double all_to_all_s = 0;    // MoE dispatch and combine flows
  double all_reduce_s = 0;    // placement-independent collectives (tensor-parallel all-reduces)
  double barrier_wait_s = 0;  // waiting for the slowest GPU (a profiler books it to the collective)
  double host_s = 0;          // per-iteration host overhead: no GPU kernel runs

  // The GPU parts as fractions of their sum (host time excluded; all 0 when
  // nothing ran).
  struct Shares {
    double moe_kernel = 0, attention = 0, other = 0, all_to_all = 0, all_reduce = 0,
           barrier_wait = 0;
    // What a profiler counts as communication: the collectives and the
    // waiting inside them.
    [[nodiscard]] double communication() const { return all_to_all + all_reduce + barrier_wait; }
  };
  [[nodiscard]] Shares shares() const {
    const double gpu =
        moe_kernel_s + attention_s + other_s + all_to_all_s + all_reduce_s + barrier_wait_s;
    if (gpu <= 0) return {};
    return {moe_kernel_s / gpu, attention_s / gpu,  other_s / gpu,
            all_to_all_s / gpu, all_reduce_s / gpu, barrier_wait_s / gpu};
  }
};

}  // namespace vibesim
