#pragma once
// DeepSeek's EPLB (github.com/deepseek-ai/EPLB, eplb.py), reproduced exactly,
// as reusable pieces: other policies start from its replication step.
// Determinism where the reference leaves it to torch: sorts are stable (lower
// index first on equal weights) and ties in every argmin/argmax go to the
// lowest index.
#include <limits>
#include <span>
#include <vector>

namespace vibesim::eplb {

struct Packing {
  std::vector<int> pack;          // per item
  std::vector<int> rank_in_pack;  // per item
};
// Packs n weighted items into `num_packs` packs of exactly n/num_packs items:
// heaviest first, each into the lightest pack that still has room.
Packing balanced_packing(std::span<const double> weight, int num_packs);

struct Replication {
  std::vector<int> phy_to_log;    // per physical slot
  std::vector<int> replica_rank;  // per physical slot
  std::vector<int> log_count;     // per logical expert
};
// One replica per expert, then each extra replica to the expert with the
// largest load / replica count (among those below `max_replicas`; EPLB itself
// has no cap).
Replication replicate_experts(std::span<const double> weight, int num_physical,
                              int max_replicas = std::numeric_limits<int>::max());

struct LayerPlacement {
  std::vector<int> phy_to_log;    // per physical slot; slot s on GPU s / (R / num_gpus)
  std::vector<int> replica_rank;  // per physical slot: which replica of its expert
  std::vector<int> log_count;     // per logical expert
};
// EPLB for one layer: hierarchical (groups -> nodes, replicate within a node,
// pack replicas onto the node's GPUs) when num_groups % num_nodes == 0, else
// the same with one group and one node. Preconditions are the reference's:
// experts divisible by groups, replicas by GPUs, GPUs by nodes.
LayerPlacement rebalance_layer(std::span<const double> weight, int num_replicas, int num_groups,
                               int num_nodes, int num_gpus);

// The reference's log2phy: per logical expert, its slots by replica rank,
// padded with -1 to the largest count.
std::vector<std::vector<int>> logical_to_physical(const LayerPlacement& layer);

}  // namespace vibesim::eplb
