#include "models/placement.h"

#include <algorithm>

#include <fmt/format.h>

namespace vibesim {

std::vector<double> gpu_tokens(const Placement& p, int moe_layer,
                               std::span<const double> expert_loads) {
  const auto& slots = p.physical_to_logical[static_cast<std::size_t>(moe_layer)];
  std::vector<int> replicas(expert_loads.size(), 0);
  for (int e : slots) ++replicas[static_cast<std::size_t>(e)];
  std::vector<double> tokens(static_cast<std::size_t>(p.num_gpus), 0.0);
  for (std::size_t s = 0; s < slots.size(); ++s) {
    const auto e = static_cast<std::size_t>(slots[s]);
    tokens[static_cast<std::size_t>(p.gpu_of_slot(static_cast<int>(s)))] +=
        expert_loads[e] / replicas[e];
  }
  return tokens;
}

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

namespace {

// One GPU's slots of one layer: `old_slots` as they were, `new_slots` (the
// same count) reordered in place.
void keep_gpu_slots(std::span<const int> old_slots, std::span<int> new_slots) {
  std::vector<int> arriving(new_slots.begin(), new_slots.end());
  std::vector<int> out(new_slots.size(), -1);
  for (std::size_t i = 0; i < old_slots.size(); ++i) {
    const auto stays = std::find(arriving.begin(), arriving.end(), old_slots[i]);
    if (stays == arriving.end()) continue;
    out[i] = *stays;
    arriving.erase(stays);
  }
  auto next = arriving.begin();
  for (auto& slot : out)
    if (slot < 0) slot = *next++;
  std::copy(out.begin(), out.end(), new_slots.begin());
}

}  // namespace

Placement keep_slots_in_place(const Placement& before, Placement after) {
  const auto per_gpu = static_cast<std::size_t>(after.slots_per_gpu);
  for (std::size_t l = 0; l < after.physical_to_logical.size(); ++l) {
    const std::span<const int> old_layer(before.physical_to_logical[l]);
    const std::span<int> new_layer(after.physical_to_logical[l]);
    for (std::size_t first = 0; first < new_layer.size(); first += per_gpu)
      keep_gpu_slots(old_layer.subspan(first, per_gpu), new_layer.subspan(first, per_gpu));
  }
  return after;
}

std::int64_t slots_changed(const Placement& before, const Placement& after) {
  std::int64_t changed = 0;
  for (std::size_t l = 0; l < after.physical_to_logical.size(); ++l)
    for (std::size_t s = 0; s < after.physical_to_logical[l].size(); ++s)
      changed += before.physical_to_logical[l][s] != after.physical_to_logical[l][s] ? 1 : 0;
  return changed;
}

}  // namespace vibesim
