#include "models/expert_migration.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <vector>

namespace vibesim {

std::vector<std::int64_t> expert_copies_per_layer(const Placement& before, const Placement& after) {
  const auto per_gpu = static_cast<std::size_t>(after.slots_per_gpu);
  std::vector<std::int64_t> copies;
  for (std::size_t l = 0; l < after.physical_to_logical.size(); ++l) {
    std::int64_t layer = 0;
    for (std::size_t first = 0; first < after.physical_to_logical[l].size(); first += per_gpu) {
      const auto old_begin = before.physical_to_logical[l].begin() + static_cast<long>(first);
      std::vector<int> old_gpu(old_begin, old_begin + static_cast<long>(per_gpu));
      std::vector<int> new_gpu(
          after.physical_to_logical[l].begin() + static_cast<long>(first),
          after.physical_to_logical[l].begin() + static_cast<long>(first + per_gpu));
      std::sort(old_gpu.begin(), old_gpu.end());
      std::sort(new_gpu.begin(), new_gpu.end());
      new_gpu.erase(std::unique(new_gpu.begin(), new_gpu.end()), new_gpu.end());
      for (int e : new_gpu) layer += std::binary_search(old_gpu.begin(), old_gpu.end(), e) ? 0 : 1;
    }
    copies.push_back(layer);
  }
  return copies;
}

MigrationCost migration_cost(const Placement& before, const Placement& after,
                             const Topology& topology, double expert_weight_bytes) {
  assert(before.num_gpus == after.num_gpus && before.num_gpus == topology.num_gpus());
  assert(before.physical_to_logical.size() == after.physical_to_logical.size());
  MigrationCost cost;
  std::vector<double> link_bytes(topology.num_links(), 0.0);
  double longest_route_ns = 0;
  const auto gpus = static_cast<std::size_t>(after.num_gpus);
  for (std::size_t l = 0; l < after.physical_to_logical.size(); ++l) {
    const auto& old_slots = before.physical_to_logical[l];
    int experts = 0;
    for (int e : old_slots) experts = std::max(experts, e + 1);
    for (int e : after.physical_to_logical[l]) experts = std::max(experts, e + 1);
    // held[e][g]: GPU g holds expert e before.
    std::vector<std::vector<bool>> held(static_cast<std::size_t>(experts),
                                        std::vector<bool>(gpus, false));
    for (std::size_t s = 0; s < old_slots.size(); ++s)
      held[static_cast<std::size_t>(old_slots[s])]
          [static_cast<std::size_t>(before.gpu_of_slot(static_cast<int>(s)))] = true;
    std::vector<std::vector<bool>> fetched(static_cast<std::size_t>(experts),
                                           std::vector<bool>(gpus, false));
    const auto& new_slots = after.physical_to_logical[l];
    for (std::size_t s = 0; s < new_slots.size(); ++s) {
      const auto e = static_cast<std::size_t>(new_slots[s]);
      const int dst = after.gpu_of_slot(static_cast<int>(s));
      const auto d = static_cast<std::size_t>(dst);
      if (held[e][d] || fetched[e][d]) continue;
      fetched[e][d] = true;
      int src = -1;
      for (int g = 0; g < after.num_gpus; ++g)
        if (held[e][static_cast<std::size_t>(g)] &&
            (src < 0 || topology.route_latency_ns(g, dst) < topology.route_latency_ns(src, dst)))
          src = g;
      assert(src >= 0);  // every expert has a slot before
      ++cost.experts_moved;
      cost.bytes += expert_weight_bytes;
      for (int link : topology.route(src, dst))
        link_bytes[static_cast<std::size_t>(link)] += expert_weight_bytes;
      longest_route_ns = std::max(longest_route_ns, topology.route_latency_ns(src, dst));
    }
  }
  double drain_ns = 0;
  for (std::size_t link = 0; link < link_bytes.size(); ++link)
    drain_ns = std::max(
        drain_ns, link_bytes[link] / topology.link_bandwidth_bytes_per_ns(static_cast<int>(link)));
  if (cost.experts_moved > 0)
    cost.stall =
        SimDuration::from_ns(static_cast<std::int64_t>(std::ceil(drain_ns + longest_route_ns)));
  return cost;
}

}  // namespace vibesim
