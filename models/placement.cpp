#include "models/placement.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

namespace vibesim {

namespace {

// Placement well formed but for its token shares: what is wrong with those.
std::string replica_share_problem(const Placement& p, int num_experts) {
  if (p.replica_share.size() != p.physical_to_logical.size())
    return fmt::format("token shares for {} layers, expected {}", p.replica_share.size(),
                       p.physical_to_logical.size());
  for (std::size_t l = 0; l < p.replica_share.size(); ++l) {
    const auto& shares = p.replica_share[l];
    if (shares.size() != p.physical_to_logical[l].size())
      return fmt::format("layer {}: {} token shares, expected {}", l, shares.size(),
                         p.physical_to_logical[l].size());
    std::vector<double> sum(static_cast<std::size_t>(num_experts), 0.0);
    for (std::size_t s = 0; s < shares.size(); ++s) {
      if (!std::isfinite(shares[s]) || shares[s] < 0)
        return fmt::format("layer {}: slot {}: token share {} (expected finite and >= 0)", l, s,
                           shares[s]);
      sum[static_cast<std::size_t>(p.physical_to_logical[l][s])] += shares[s];
    }
    for (std::size_t e = 0; e < sum.size(); ++e)
      if (std::abs(sum[e] - 1.0) > 1e-6)
        return fmt::format("layer {}: expert {}: token shares sum to {}, expected 1", l, e, sum[e]);
  }
  return {};
}

}  // namespace

std::vector<double> replica_shares(const Placement& p, int moe_layer) {
  const auto l = static_cast<std::size_t>(moe_layer);
  if (p.has_replica_shares()) return p.replica_share[l];
  const auto& slots = p.physical_to_logical[l];
  std::vector<int> replicas(
      static_cast<std::size_t>(*std::max_element(slots.begin(), slots.end())) + 1, 0);
  for (int e : slots) ++replicas[static_cast<std::size_t>(e)];
  std::vector<double> shares;
  shares.reserve(slots.size());
  for (int e : slots) shares.push_back(1.0 / replicas[static_cast<std::size_t>(e)]);
  return shares;
}

std::vector<double> gpu_tokens(const Placement& p, int moe_layer,
                               std::span<const double> expert_loads) {
  const auto& slots = p.physical_to_logical[static_cast<std::size_t>(moe_layer)];
  const auto shares = replica_shares(p, moe_layer);
  std::vector<double> tokens(static_cast<std::size_t>(p.num_gpus), 0.0);
  for (std::size_t s = 0; s < slots.size(); ++s)
    tokens[static_cast<std::size_t>(p.gpu_of_slot(static_cast<int>(s)))] +=
        expert_loads[static_cast<std::size_t>(slots[s])] * shares[s];
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
  return p.has_replica_shares() ? replica_share_problem(p, num_experts) : std::string{};
}

namespace {

// One GPU's slots of one layer: the order in which `new_slots` should be
// laid out so that every expert also in `old_slots` keeps its old position;
// arriving experts fill the freed positions in their order in `new_slots`.
std::vector<std::size_t> kept_order(std::span<const int> old_slots,
                                    std::span<const int> new_slots) {
  std::vector<std::size_t> arriving(new_slots.size());
  std::iota(arriving.begin(), arriving.end(), std::size_t{0});
  constexpr auto kFree = static_cast<std::size_t>(-1);
  std::vector<std::size_t> order(new_slots.size(), kFree);
  for (std::size_t i = 0; i < old_slots.size(); ++i) {
    const auto stays = std::find_if(arriving.begin(), arriving.end(),
                                    [&](std::size_t j) { return new_slots[j] == old_slots[i]; });
    if (stays == arriving.end()) continue;
    order[i] = *stays;
    arriving.erase(stays);
  }
  auto next = arriving.begin();
  for (auto& j : order)
    if (j == kFree) j = *next++;
  return order;
}

template <typename T>
void apply_order(std::span<T> values, const std::vector<std::size_t>& order) {
  std::vector<T> copy(values.begin(), values.end());
  for (std::size_t i = 0; i < order.size(); ++i) values[i] = copy[order[i]];
}

}  // namespace

Placement keep_slots_in_place(const Placement& before, Placement after) {
  const auto per_gpu = static_cast<std::size_t>(after.slots_per_gpu);
  for (std::size_t l = 0; l < after.physical_to_logical.size(); ++l) {
    const std::span<const int> old_layer(before.physical_to_logical[l]);
    const std::span<int> new_layer(after.physical_to_logical[l]);
    for (std::size_t first = 0; first < new_layer.size(); first += per_gpu) {
      const auto order =
          kept_order(old_layer.subspan(first, per_gpu), new_layer.subspan(first, per_gpu));
      apply_order(new_layer.subspan(first, per_gpu), order);
      if (after.has_replica_shares())
        apply_order(std::span<double>(after.replica_share[l]).subspan(first, per_gpu), order);
    }
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
