#include "sim/layer_executor.h"
#include "models/gpu_latency_profile.h"

#include <cassert>

namespace vibesim {

void ModelledExecutor::run(const LayerWork& work, std::span<double> compute_ns) {
  assert(static_cast<int>(gpus_.size()) == work.num_gpus);
  for (int g = 0; g < work.num_gpus; ++g) {
    const auto& gpu = gpus_[static_cast<std::size_t>(g)];
    const auto tile_mask = gpu.tile_mask();
    compute_ns[static_cast<std::size_t>(g)] =
        gpu.duration_ns(ExpertBatch::of_experts(work.gpu_slots(g), tile_mask, work.gpu_tokens(g)));
  }
}

void ProfiledExecutor::run(const LayerWork& work, std::span<double> compute_ns) {
  assert(!curves_.empty());
  for (int g = 0; g < work.num_gpus; ++g) {
    compute_ns[static_cast<std::size_t>(g)] =
        curve_of_gpu(curves_, static_cast<std::size_t>(g))
            .latency_ns(static_cast<double>(work.gpu_tokens(g)));
  }
}

}  // namespace vibesim
