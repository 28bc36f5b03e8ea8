#include "hw/expert_shape.h"

#include <algorithm>

#include <fmt/format.h>

#include "io/config_error.h"

namespace vibesim {

DeviceMemoryPlan plan_device_memory(const ExpertShape& model_shape, int slots_per_gpu,
                                    std::int64_t max_expert_tokens, std::uint64_t free_bytes) {
  const auto budget =
      static_cast<std::uint64_t>(kUsableFreeMemory * static_cast<double>(free_bytes));
  DeviceMemoryPlan plan{model_shape, std::max(slots_per_gpu, 1),
                        std::max<std::int64_t>(max_expert_tokens, 1), 1.0, ""};
  // 2. fewer weight sets, but never fewer than two
  if (plan.bytes() > budget) {
    const auto activations = plan.shape.activation_bytes(plan.max_expert_tokens);
    const std::uint64_t fitting =
        activations < budget ? (budget - activations) / plan.shape.weight_bytes() : 0;
    plan.weight_sets = static_cast<int>(std::max<std::uint64_t>(
        fitting, static_cast<std::uint64_t>(std::min(plan.weight_sets, 2))));
  }
  // 3. a smaller intermediate size
  while (plan.bytes() > budget && plan.shape.intermediate > 128)
    plan.shape.intermediate = std::max<std::int64_t>(128, plan.shape.intermediate / 2);
  if (plan.bytes() > budget)
    throw InputError(fmt::format(
        "hw: {} MiB free on the device hold no expert of hidden size {} with {} tokens per expert",
        free_bytes >> 20, model_shape.hidden, max_expert_tokens));
  plan.intermediate_scale =
      static_cast<double>(plan.shape.intermediate) / static_cast<double>(model_shape.intermediate);
  if (plan.weight_sets < slots_per_gpu)
    plan.note = fmt::format("{} weight sets shared by {} slots", plan.weight_sets, slots_per_gpu);
  if (plan.shape.intermediate != model_shape.intermediate)
    plan.note += fmt::format("{}intermediate size {} instead of {}", plan.note.empty() ? "" : "; ",
                             plan.shape.intermediate, model_shape.intermediate);
  return plan;
}

}  // namespace vibesim
