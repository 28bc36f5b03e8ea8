#include "policies/eplb.h"

#include <algorithm>
#include <cassert>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>

#include "policies/heaviest_first.h"

namespace vibesim::eplb {

namespace {

std::vector<int> inverse(const std::vector<int>& permutation) {
  std::vector<int> inv(permutation.size());
  for (std::size_t i = 0; i < permutation.size(); ++i)
    inv[static_cast<std::size_t>(permutation[i])] = static_cast<int>(i);
  return inv;
}

}  // namespace

Packing balanced_packing(std::span<const double> weight, int num_packs) {
  const auto n = weight.size();
  const auto per_pack = static_cast<int>(n) / num_packs;
  Packing out{std::vector<int>(n), std::vector<int>(n, 0)};
  if (per_pack == 1) {
    std::iota(out.pack.begin(), out.pack.end(), 0);
    return out;
  }
  // A full pack's weight reads +inf, so the argmin (first index on ties)
  // never picks it.
  constexpr double kFull = std::numeric_limits<double>::infinity();
  std::vector<double> pack_weight(static_cast<std::size_t>(num_packs), 0.0);
  std::vector<int> pack_items(static_cast<std::size_t>(num_packs), 0);
  for (const int item : heaviest_first(weight)) {
    std::size_t best = 0;
    for (std::size_t p = 1; p < pack_weight.size(); ++p)
      if (pack_weight[p] < pack_weight[best]) best = p;
    const auto ui = static_cast<std::size_t>(item);
    out.pack[ui] = static_cast<int>(best);
    out.rank_in_pack[ui] = pack_items[best]++;
    pack_weight[best] = pack_items[best] == per_pack ? kFull : pack_weight[best] + weight[ui];
  }
  return out;
}

Replication replicate_experts(std::span<const double> weight, int num_physical, int max_replicas) {
  const auto num_logical = static_cast<int>(weight.size());
  assert(num_physical >= num_logical);
  Replication r{std::vector<int>(static_cast<std::size_t>(num_physical)),
                std::vector<int>(static_cast<std::size_t>(num_physical), 0),
                std::vector<int>(weight.size(), 1)};
  std::iota(r.phy_to_log.begin(), r.phy_to_log.begin() + num_logical, 0);
  // Load per replica, kept per expert (the scan below compares, never
  // divides); an expert at max_replicas drops out with -1 (loads are >= 0).
  std::vector<double> per_replica(weight.begin(), weight.end());
  if (max_replicas <= 1) std::fill(per_replica.begin(), per_replica.end(), -1.0);
  for (int slot = num_logical; slot < num_physical; ++slot) {
    std::size_t best = weight.size();
    double best_value = -1.0;
    for (std::size_t e = 0; e < weight.size(); ++e)
      if (per_replica[e] > best_value) {
        best_value = per_replica[e];
        best = e;
      }
    // Callers validate slot counts where they enter (config, CLI); reaching
    // here with too many slots is a bug, never an out-of-bounds write.
    if (best == weight.size())
      throw std::logic_error(
          fmt::format("replicate_experts: {} slots exceed {} experts x {} replicas each",
                      num_physical, num_logical, max_replicas));
    r.phy_to_log[static_cast<std::size_t>(slot)] = static_cast<int>(best);
    r.replica_rank[static_cast<std::size_t>(slot)] = r.log_count[best]++;
    per_replica[best] = r.log_count[best] < max_replicas ? weight[best] / r.log_count[best] : -1.0;
  }
  return r;
}

LayerPlacement rebalance_layer(std::span<const double> weight, int num_replicas, int num_groups,
                               int num_nodes, int num_gpus) {
  if (num_groups % num_nodes != 0) num_groups = num_nodes = 1;  // the global policy
  const int experts = static_cast<int>(weight.size());
  const int group_size = experts / num_groups;
  const int groups_per_node = num_groups / num_nodes;
  const int experts_per_node = experts / num_nodes;
  const int slots_per_node = num_replicas / num_nodes;
  const int gpus_per_node = num_gpus / num_nodes;
  const int slots_per_gpu = num_replicas / num_gpus;
  assert(experts % num_groups == 0 && num_replicas % num_gpus == 0 && num_gpus % num_nodes == 0);

  // Step 1: pack expert groups onto nodes; renumber experts node by node ("mlog").
  std::vector<double> group_tokens(static_cast<std::size_t>(num_groups), 0.0);
  for (int e = 0; e < experts; ++e)
    group_tokens[static_cast<std::size_t>(e / group_size)] += weight[static_cast<std::size_t>(e)];
  const auto groups = balanced_packing(group_tokens, num_nodes);
  std::vector<int> log_to_mlog(static_cast<std::size_t>(experts));
  for (int e = 0; e < experts; ++e) {
    const auto g = static_cast<std::size_t>(e / group_size);
    log_to_mlog[static_cast<std::size_t>(e)] =
        (groups.pack[g] * groups_per_node + groups.rank_in_pack[g]) * group_size + e % group_size;
  }
  const auto mlog_to_log = inverse(log_to_mlog);

  LayerPlacement out;
  out.phy_to_log.resize(static_cast<std::size_t>(num_replicas));
  auto& replica_rank = out.replica_rank;
  replica_rank.resize(static_cast<std::size_t>(num_replicas));
  std::vector<int> mlog_count(static_cast<std::size_t>(experts));
  for (int node = 0; node < num_nodes; ++node) {
    // Step 2: replicate the node's experts into its slots.
    std::vector<double> node_tokens(static_cast<std::size_t>(experts_per_node));
    for (int i = 0; i < experts_per_node; ++i)
      node_tokens[static_cast<std::size_t>(i)] = weight[static_cast<std::size_t>(
          mlog_to_log[static_cast<std::size_t>(node * experts_per_node + i)])];
    const auto rep = replicate_experts(node_tokens, slots_per_node);
    // Step 3: pack the replicas (each weighing load / count) onto the node's GPUs.
    std::vector<double> replica_tokens(static_cast<std::size_t>(slots_per_node));
    for (int s = 0; s < slots_per_node; ++s) {
      const auto m = static_cast<std::size_t>(rep.phy_to_log[static_cast<std::size_t>(s)]);
      replica_tokens[static_cast<std::size_t>(s)] = node_tokens[m] / rep.log_count[m];
    }
    const auto packs = balanced_packing(replica_tokens, gpus_per_node);
    std::vector<int> phy_to_pphy(static_cast<std::size_t>(slots_per_node));
    for (int s = 0; s < slots_per_node; ++s)
      phy_to_pphy[static_cast<std::size_t>(s)] =
          packs.pack[static_cast<std::size_t>(s)] * slots_per_gpu +
          packs.rank_in_pack[static_cast<std::size_t>(s)];
    const auto pphy_to_phy = inverse(phy_to_pphy);
    for (int j = 0; j < slots_per_node; ++j) {
      const auto phy = static_cast<std::size_t>(pphy_to_phy[static_cast<std::size_t>(j)]);
      const int mlog = rep.phy_to_log[phy] + node * experts_per_node;
      const auto slot = static_cast<std::size_t>(node * slots_per_node + j);
      out.phy_to_log[slot] = mlog_to_log[static_cast<std::size_t>(mlog)];
      replica_rank[slot] = rep.replica_rank[phy];
    }
    for (int i = 0; i < experts_per_node; ++i)
      mlog_count[static_cast<std::size_t>(node * experts_per_node + i)] =
          rep.log_count[static_cast<std::size_t>(i)];
  }
  out.log_count.resize(static_cast<std::size_t>(experts));
  for (int e = 0; e < experts; ++e)
    out.log_count[static_cast<std::size_t>(e)] =
        mlog_count[static_cast<std::size_t>(log_to_mlog[static_cast<std::size_t>(e)])];
  return out;
}

std::vector<std::vector<int>> logical_to_physical(const LayerPlacement& layer) {
  const int max_count = *std::max_element(layer.log_count.begin(), layer.log_count.end());
  std::vector<std::vector<int>> out(layer.log_count.size(),
                                    std::vector<int>(static_cast<std::size_t>(max_count), -1));
  for (std::size_t s = 0; s < layer.phy_to_log.size(); ++s)
    out[static_cast<std::size_t>(layer.phy_to_log[s])]
       [static_cast<std::size_t>(layer.replica_rank[s])] = static_cast<int>(s);
  return out;
}

}  // namespace vibesim::eplb
