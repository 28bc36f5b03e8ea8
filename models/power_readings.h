#pragma once
// What a power monitor reads on one GPU: during one MoE layer of a prefill
// batch, each compute kernel's time at the power limit and clock, and the
// clock and board power averaged over the layer; during a decode step, the
// MoE kernel's clock and power. These are the paper's power facts
// (docs/fidelity.md); `vibesim profile check` and the fidelity metrics both
// read them here, so the two report the same model.
#include <cstdint>

#include "models/deployment.h"
#include "models/gpu_kernel_model.h"

namespace vibesim {

// A prefill batch of `tokens` tokens in prompts of `prompt_tokens` each.
struct PrefillBatch {
  std::int64_t tokens = 0;
  std::int64_t prompt_tokens = 0;
};

struct PrefillLayerPower {
  KernelTiming moe;           // routed experts, the GPU's share of tokens spread evenly
  KernelTiming attention;     // the GPU's share of attention
  KernelTiming shared;        // shared experts (dense FFN)
  double collectives_ns = 0;  // the layer's placement-independent collectives
  // Averages over the layer weighted by time, as a sampling monitor reports
  // them; during the collectives no compute kernel runs: full clock, and a
  // memory-bound kernel's power (GpuKernelModel::memory_bound_power_w).
  double mean_clock = 1;
  double mean_power_w = 0;
};

// `num_gpus` GPUs in the expert-parallel group, the routed experts divided
// evenly among them.
PrefillLayerPower prefill_layer_power(const GpuKernelModel& gpu, const MoeModel& model,
                                      const Deployment& deployment,
                                      const InterconnectSpec& interconnect, int num_gpus,
                                      const PrefillBatch& batch);

// The MoE kernel's batch on one of `num_gpus` GPUs: the routed experts
// divided evenly among the GPUs, `gpu_tokens` token-expert assignments spread
// evenly over this GPU's experts.
ExpertBatch balanced_expert_batch(const GpuKernelModel& gpu, const MoeModel& model, int num_gpus,
                                  std::int64_t gpu_tokens);

// The decode step the power facts are read in: this many sequences, one
// token each.
inline constexpr std::int64_t kDecodeSequences = 256;

// The decode step's MoE kernel on one of `num_gpus` GPUs, the routed experts
// divided evenly among them and the step's tokens spread evenly over them.
KernelTiming decode_moe_kernel(const GpuKernelModel& gpu, const MoeModel& model, int num_gpus);

}  // namespace vibesim
