#pragma once
// One routed expert as `vibesim hw` runs it on a real GPU, a SwiGLU FFN in
// BF16 with FP32 accumulation:
//   gate|up = x · W_gu     [tokens × hidden] · [hidden × 2·intermediate]
//   a       = silu(gate) ⊙ up                  [tokens × intermediate]
//   y       = a · W_down   [tokens × intermediate] · [intermediate × hidden]
// and how one device's memory holds the experts of the GPUs it stands for.
#include <cstdint>
#include <string>

#include "models/moe_model.h"

namespace vibesim {

struct ExpertShape {
  std::int64_t hidden = 0;
  std::int64_t intermediate = 0;

  static ExpertShape of(const MoeModel& model) {
    return {model.hidden_size, model.expert_intermediate_size};
  }
  static constexpr std::uint64_t kBytesPerElement = 2;  // BF16
  [[nodiscard]] std::uint64_t weight_bytes() const {
    return 3 * static_cast<std::uint64_t>(hidden) * static_cast<std::uint64_t>(intermediate) *
           kBytesPerElement;
  }
  // x, gate|up, a and y for `tokens` tokens (one expert at a time).
  [[nodiscard]] std::uint64_t activation_bytes(std::int64_t tokens) const {
    return static_cast<std::uint64_t>(tokens) *
           static_cast<std::uint64_t>(2 * hidden + 3 * intermediate) * kBytesPerElement;
  }
};

// What one device allocates. The rule (docs/validation.md), within
// kUsableFreeMemory of the device's free memory:
//   1. one weight set per hosted slot, as on a real deployment;
//   2. if they do not fit, fewer sets, which the slots share round-robin, but
//      never fewer than two (consecutive experts never share weights);
//   3. if two sets still do not fit, halve the intermediate size until they
//      do: the measured times are then those of a smaller model, said so in
//      every output.
// Virtual GPUs time-multiplexed on one device share its sets: they never run
// at the same time.
struct DeviceMemoryPlan {
  ExpertShape shape;                   // as run (intermediate possibly halved)
  int weight_sets = 0;                 // distinct expert weight buffers
  std::int64_t max_expert_tokens = 0;  // activations sized for this many tokens per expert
  double intermediate_scale = 1.0;     // shape.intermediate / the model's
  std::string note;                    // what the rule changed; empty when nothing

  [[nodiscard]] std::uint64_t bytes() const {
    return static_cast<std::uint64_t>(weight_sets) * shape.weight_bytes() +
           shape.activation_bytes(max_expert_tokens);
  }
};

constexpr double kUsableFreeMemory = 0.8;

// Throws InputError when even the smallest shape (intermediate 128, two sets)
// does not fit.
DeviceMemoryPlan plan_device_memory(const ExpertShape& model_shape, int slots_per_gpu,
                                    std::int64_t max_expert_tokens, std::uint64_t free_bytes);

}  // namespace vibesim
