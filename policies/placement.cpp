#include "policies/placement.h"

#include <fmt/format.h>

namespace vibesim {

std::string placement_problem(const Placement& p, int num_layers, int num_experts) {
  if (p.num_gpus < 1 || p.slots_per_gpu < 1) return "no GPUs or no slots";
  if (static_cast<int>(p.physical_to_logical.size()) != num_layers)
    return fmt::format("{} layers, expected {}", p.physical_to_logical.size(), num_layers);
  for (int l = 0; l < num_layers; ++l) {
    const auto& slots = p.physical_to_logical[static_cast<std::size_t>(l)];
    if (static_cast<int>(slots.size()) != p.num_slots())
      return fmt::format("layer {}: {} slots, expected {}", l, slots.size(), p.num_slots());
    std::vector<bool> seen(static_cast<std::size_t>(num_experts), false);
    for (int e : slots) {
      if (e < 0 || e >= num_experts)
        return fmt::format("layer {}: expert id {} out of range", l, e);
      seen[static_cast<std::size_t>(e)] = true;
    }
    for (int e = 0; e < num_experts; ++e)
      if (!seen[static_cast<std::size_t>(e)])
        return fmt::format("layer {}: expert {} has no slot", l, e);
  }
  return {};
}

}  // namespace vibesim
