// `latency_lpt`: ours. Uses what ViBE leaves on the table:
//  1. redundant slots: replicas go to the experts with the largest load per
//     replica (EPLB's rule, but at most one replica per GPU), each carrying an
//     even share of its load;
//  2. packing on the profiled curves themselves: replicas in descending load,
//     each to the GPU (with a free slot, not already holding that expert)
//     whose predicted latency after taking it, f_g(n_g + w), is lowest —
//     longest-processing-time on unrelated machines rather than token targets;
//  3. swap local search: repeatedly the best single swap between the GPU with
//     the highest predicted latency and any other GPU, until none helps;
//  4. all of it on f_g(n) + a*n, where a is the all-to-all time per token a
//     GPU receives: a GPU given more tokens also waits longer on its links.
// Given a placement in force (drift recalibration), it refines that one by
// swaps instead, moving few experts.
#include <algorithm>
#include <limits>
#include <memory>
#include <numeric>
#include <optional>
#include <span>
#include <vector>

#include "policies/eplb.h"
#include "policies/heaviest_first.h"
#include "policies/latency_bound.h"
#include "policies/latency_packing.h"
#include "policies/placement_policy.h"

namespace vibesim {
namespace {

// Two-for-two swaps escape local optima where no single swap helps; they cost
// (items per GPU)^4 per GPU pair, so only on GPUs with this many items or fewer.
constexpr int kPairSwapItems = 12;

// Incremental mode (a placement in force, as drift recalibration passes it):
// keep every expert's replica count and refine the layout by swap search on
// the new loads, stopping within this much of the mean GPU latency, so a
// re-placement moves a few experts rather than re-packing all of them.
constexpr double kIncrementalEpsilon = 0.01;
constexpr int kIncrementalMaxSwaps = 64;

// Step 2: items (replicas) in descending weight, each to the GPU with a free
// slot whose predicted latency after taking it is lowest, a GPU that already
// hosts the item's expert only if no other has room.
GpuBins pack_heaviest_first(std::span<const double> item_weight, std::span<const int> item_expert,
                            std::size_t experts, std::span<const LatencyCurve> f, int slots,
                            const std::function<void()>& checkpoint) {
  const auto g_count = f.size();
  const auto order = heaviest_first(item_weight);
  GpuBins bins{std::vector<std::vector<int>>(g_count), std::vector<double>(g_count, 0.0)};
  std::vector<std::vector<bool>> holds(g_count, std::vector<bool>(experts, false));
  for (std::size_t placed = 0; const int item : order) {
    // The packing is items x GPUs: a million of each on the largest shapes.
    if (checkpoint && ++placed % 256 == 0) checkpoint();
    const auto expert = static_cast<std::size_t>(item_expert[static_cast<std::size_t>(item)]);
    const double wi = item_weight[static_cast<std::size_t>(item)];
    std::size_t best = g_count;
    double best_latency = std::numeric_limits<double>::infinity();
    bool best_duplicates = true;
    for (std::size_t g = 0; g < g_count; ++g) {
      if (static_cast<int>(bins.items[g].size()) >= slots) continue;
      const double latency = f[g].latency_ns(bins.tokens[g] + wi);
      const bool duplicates = holds[g][expert];
      if ((best_duplicates && !duplicates) ||
          (duplicates == best_duplicates && latency < best_latency)) {
        best = g, best_latency = latency, best_duplicates = duplicates;
      }
    }
    bins.items[best].push_back(item);
    bins.tokens[best] += wi;
    holds[best][expert] = true;
  }
  return bins;
}

// One layer's packing: the GPUs' items (item i holds expert item_expert[i],
// an even share of its load), its predicted latency, and the GPU that sets it.
struct PackedLayer {
  GpuBins bins;
  std::vector<int> item_expert;
  double predicted_ns = 0;
  std::size_t hot_gpu = 0;  // the lowest-index GPU at predicted_ns
};

// Steps 3 and on: the swap search on `layer`'s bins, then its prediction.
void improve_and_predict(PackedLayer& layer, std::span<const double> item_weight,
                         std::span<const LatencyCurve> f, const std::function<void()>& checkpoint) {
  improve_by_swaps(layer.bins, item_weight, f, 0.0, /*any_partner=*/true, 100'000, kPairSwapItems,
                   no_two_replicas_per_gpu(layer.bins, layer.item_expert), checkpoint);
  layer.predicted_ns = 0;
  for (std::size_t g = 0; g < f.size(); ++g)
    if (const double l = f[g].latency_ns(layer.bins.tokens[g]); l > layer.predicted_ns)
      layer.predicted_ns = l, layer.hot_gpu = g;
}

// One layer packed from scratch with the given replicas: steps 2 and 3.
PackedLayer pack_layer(std::vector<int> item_expert, std::span<const double> w,
                       std::span<const LatencyCurve> f, int slots,
                       const std::function<void()>& checkpoint) {
  const auto item_weight = replica_weights(item_expert, w);
  PackedLayer out{pack_heaviest_first(item_weight, item_expert, w.size(), f, slots, checkpoint),
                  std::move(item_expert)};
  improve_and_predict(out, item_weight, f, checkpoint);
  return out;
}

// `layer` with one replica of `donor` turned into one of `receiver`, in the
// same slot, then improved by swaps: the replica on the coldest GPU that does
// not already hold `receiver` (no such GPU: nullopt). Every replica of the two
// experts changes weight, the rest of the layout stays, so this costs a swap
// search from a balanced layout rather than a packing from scratch.
std::optional<PackedLayer> move_replica(const PackedLayer& layer, int donor, int receiver,
                                        std::span<const double> w, std::span<const LatencyCurve> f,
                                        const std::function<void()>& checkpoint) {
  const auto holds = [&](std::size_t g, int expert) {
    return std::any_of(layer.bins.items[g].begin(), layer.bins.items[g].end(), [&](int i) {
      return layer.item_expert[static_cast<std::size_t>(i)] == expert;
    });
  };
  std::optional<std::size_t> gpu;
  double coldest_ns = std::numeric_limits<double>::infinity();
  for (std::size_t g = 0; g < f.size(); ++g) {
    if (!holds(g, donor) || holds(g, receiver)) continue;
    if (const double l = f[g].latency_ns(layer.bins.tokens[g]); l < coldest_ns)
      gpu = g, coldest_ns = l;
  }
  if (!gpu) return std::nullopt;
  PackedLayer out = layer;
  for (const int i : out.bins.items[*gpu])
    if (auto& e = out.item_expert[static_cast<std::size_t>(i)]; e == donor) {
      e = receiver;
      break;
    }
  const auto item_weight = replica_weights(out.item_expert, w);
  for (std::size_t g = 0; g < f.size(); ++g) {
    out.bins.tokens[g] = 0;
    for (const int i : out.bins.items[g])
      out.bins.tokens[g] += item_weight[static_cast<std::size_t>(i)];
  }
  improve_and_predict(out, item_weight, f, checkpoint);
  return out;
}

// `latency_lpt_counts`' search: replica counts other than EPLB's rule gives.
// From latency_lpt's layer, repeatedly: for each expert on the GPU that sets
// the predicted latency (heaviest replica first), turn one replica of an
// expert with two or more (lightest replicas first) into one of it
// (move_replica), and keep the first change that lowers the predicted latency
// (by more than 1e-9 ns); stop when none does, or once within kOptimalityGap
// of the layer's lower bound (what `optimal` would call proven). EPLB's rule
// evens the replicas' loads, but a GPU holds whole replicas: under strong
// skew its counts leave replica loads that no set of them sums to a GPU's
// share.
PackedLayer search_replica_counts(PackedLayer best, std::span<const double> w,
                                  std::span<const LatencyCurve> f,
                                  const std::function<void()>& checkpoint) {
  const auto g_count = static_cast<int>(f.size());
  const double good_enough_ns =
      (1 + kOptimalityGap) * latency_lower_bound_ns(w, f, /*max_replicas=*/g_count);
  std::vector<int> count(w.size());
  const auto per_replica = [&](int e) {
    return w[static_cast<std::size_t>(e)] / count[static_cast<std::size_t>(e)];
  };
  for (bool moved = true; moved && best.predicted_ns > good_enough_ns;) {
    moved = false;
    std::fill(count.begin(), count.end(), 0);  // the replicas of `best`
    for (const int e : best.item_expert) ++count[static_cast<std::size_t>(e)];
    std::vector<int> receivers, donors;
    for (const int i : best.bins.items[best.hot_gpu])
      receivers.push_back(best.item_expert[static_cast<std::size_t>(i)]);
    std::erase_if(receivers, [&](int e) { return count[static_cast<std::size_t>(e)] >= g_count; });
    std::sort(receivers.begin(), receivers.end());
    receivers.erase(std::unique(receivers.begin(), receivers.end()), receivers.end());
    std::stable_sort(receivers.begin(), receivers.end(),
                     [&](int a, int b) { return per_replica(a) > per_replica(b); });
    for (std::size_t e = 0; e < count.size(); ++e)
      if (count[e] >= 2) donors.push_back(static_cast<int>(e));
    std::stable_sort(donors.begin(), donors.end(),
                     [&](int a, int b) { return per_replica(a) < per_replica(b); });
    for (std::size_t r = 0; r < receivers.size() && !moved; ++r)
      for (std::size_t d = 0; d < donors.size() && !moved; ++d) {
        if (donors[d] == receivers[r]) continue;
        auto trial = move_replica(best, donors[d], receivers[r], w, f, checkpoint);
        if (trial && trial->predicted_ns < best.predicted_ns - 1e-9) {
          best = std::move(*trial);
          moved = true;
        }
      }
  }
  return best;
}

class LatencyLptPlacement final : public PlacementPolicy {
 public:
  explicit LatencyLptPlacement(bool search_counts) : search_counts_(search_counts) {}

  static std::vector<int> refine(const std::vector<int>& current, std::span<const double> w,
                                 std::span<const LatencyCurve> f, int slots,
                                 const std::function<void()>& checkpoint) {
    const auto g_count = f.size();
    const auto item_weight = replica_weights(current, w);
    GpuBins bins{std::vector<std::vector<int>>(g_count), std::vector<double>(g_count, 0.0)};
    for (auto& items : bins.items) items.reserve(static_cast<std::size_t>(slots));
    for (std::size_t s = 0; s < current.size(); ++s) {
      const auto g = s / static_cast<std::size_t>(slots);
      bins.items[g].push_back(static_cast<int>(s));
      bins.tokens[g] += item_weight[s];
    }
    improve_by_swaps(bins, item_weight, f, kIncrementalEpsilon, /*any_partner=*/true,
                     kIncrementalMaxSwaps, /*pair_swap_items=*/0,
                     no_two_replicas_per_gpu(bins, current), checkpoint);
    return slots_of(bins, current);
  }

  Placement place(const PlacementContext& c) const override {
    const int slots = c.max_slots_per_gpu;
    Placement p{c.num_gpus, slots, {}};
    const auto f = with_all_to_all(c.gpu_latency, c.all_to_all_ns_per_token);
    for (std::size_t l = 0; l < c.expert_loads.size(); ++l) {
      c.between_layers(static_cast<int>(l));
      const auto& w = c.expert_loads[l];
      if (c.current != nullptr && c.current->slots_per_gpu == slots) {
        p.physical_to_logical.push_back(
            refine(c.current->physical_to_logical[l], w, f, slots, c.checkpoint));
        continue;
      }
      const auto replicas = eplb::replicate_experts(w, slots * c.num_gpus, c.num_gpus);
      auto packed = pack_layer(replicas.phy_to_log, w, f, slots, c.checkpoint);
      if (search_counts_) packed = search_replica_counts(std::move(packed), w, f, c.checkpoint);
      p.physical_to_logical.push_back(slots_of(packed.bins, packed.item_expert));
    }
    return p;
  }

 private:
  bool search_counts_;
};

}  // namespace

std::unique_ptr<PlacementPolicy> make_latency_lpt_policy() {
  return std::make_unique<LatencyLptPlacement>(/*search_counts=*/false);
}

std::unique_ptr<PlacementPolicy> make_latency_lpt_counts_policy() {
  return std::make_unique<LatencyLptPlacement>(/*search_counts=*/true);
}

}  // namespace vibesim
