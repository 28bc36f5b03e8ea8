#include "models/power_readings.h"

namespace vibesim {
namespace {

// Time-weighted means over the kernels and the collectives, during which no
// kernel runs: full clock, `idle_power_w`.
void average_over_layer(PrefillLayerPower& p, double idle_power_w) {
  double ns = p.collectives_ns, clock_ns = p.collectives_ns;
  double energy = p.collectives_ns * idle_power_w;
  for (const auto* k : {&p.moe, &p.attention, &p.shared}) {
    ns += k->duration_ns;
    clock_ns += k->duration_ns * k->clock_fraction;
    energy += k->duration_ns * k->power_w;
  }
  p.mean_clock = ns > 0 ? clock_ns / ns : 1.0;
  p.mean_power_w = ns > 0 ? energy / ns : idle_power_w;
}

}  // namespace

PrefillLayerPower prefill_layer_power(const GpuKernelModel& gpu, const MoeModel& model,
                                      const Deployment& deployment,
                                      const InterconnectSpec& interconnect, int num_gpus,
                                      const PrefillBatch& batch) {
  const double tokens = static_cast<double>(batch.tokens);
  const double prompt = static_cast<double>(batch.prompt_tokens);
  const double requests = tokens / prompt;
  const BatchShape shape{tokens, requests * prompt * (prompt + 1) / 2, tokens};
  const auto work = deployment.layer_work(model, shape, /*moe_layer=*/true, num_gpus);
  PrefillLayerPower p;
  p.moe =
      gpu.time(balanced_expert_batch(gpu, model, num_gpus, batch.tokens * model.top_k / num_gpus));
  p.attention =
      gpu.dense_kernel(KernelClass::kAttention, work.attention_flops, work.attention_bytes);
  p.shared = gpu.dense_kernel(KernelClass::kDense, work.ffn_flops, work.ffn_bytes);
  p.collectives_ns =
      deployment.layer_collectives_ns(model, shape, /*moe_layer=*/true, interconnect, num_gpus);
  average_over_layer(p, gpu.memory_bound_power_w());
  return p;
}

ExpertBatch balanced_expert_batch(const GpuKernelModel& gpu, const MoeModel& model, int num_gpus,
                                  std::int64_t gpu_tokens) {
  return ExpertBatch::spread_evenly(gpu_tokens, model.routed_experts / num_gpus, gpu.tile_mask());
}

KernelTiming decode_moe_kernel(const GpuKernelModel& gpu, const MoeModel& model, int num_gpus) {
  return gpu.time(
      balanced_expert_batch(gpu, model, num_gpus, kDecodeSequences * model.top_k / num_gpus));
}

}  // namespace vibesim
