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
#include <algorithm>
#include <limits>
#include <memory>
#include <numeric>

#include "policies/eplb.h"
#include "policies/latency_packing.h"
#include "policies/placement_policy.h"

namespace vibesim {
namespace {

// Two-for-two swaps escape local optima where no single swap helps; they cost
// (items per GPU)^4 per GPU pair, so only on GPUs with this many items or fewer.
constexpr int kPairSwapItems = 12;

class LatencyLptPlacement final : public PlacementPolicy {
 public:
  Placement place(const PlacementContext& c) const override {
    const int slots = c.max_slots_per_gpu;
    const auto g_count = static_cast<std::size_t>(c.num_gpus);
    Placement p{c.num_gpus, slots, {}};
    const auto f = with_all_to_all(c.gpu_latency, c.all_to_all_ns_per_token);
    for (const auto& w : c.expert_loads) {
      const auto replicas = eplb::replicate_experts(w, slots * c.num_gpus, c.num_gpus);
      std::vector<double> item_weight;
      for (int e : replicas.phy_to_log)
        item_weight.push_back(w[static_cast<std::size_t>(e)] /
                              replicas.log_count[static_cast<std::size_t>(e)]);
      std::vector<int> order(item_weight.size());
      std::iota(order.begin(), order.end(), 0);
      std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
        return item_weight[static_cast<std::size_t>(a)] > item_weight[static_cast<std::size_t>(b)];
      });
      GpuBins bins{std::vector<std::vector<int>>(g_count), std::vector<double>(g_count, 0.0)};
      std::vector<std::vector<bool>> holds(g_count, std::vector<bool>(w.size(), false));
      for (int item : order) {
        const auto expert =
            static_cast<std::size_t>(replicas.phy_to_log[static_cast<std::size_t>(item)]);
        const double wi = item_weight[static_cast<std::size_t>(item)];
        std::size_t best = g_count;
        double best_latency = std::numeric_limits<double>::infinity();
        bool best_duplicates = true;
        for (std::size_t g = 0; g < g_count; ++g) {
          if (static_cast<int>(bins.items[g].size()) >= slots) continue;
          const double latency = f[g].latency_ns(bins.tokens[g] + wi);
          const bool duplicates = holds[g][expert];
          // A GPU that already hosts this expert only if no other has room.
          if ((best_duplicates && !duplicates) ||
              (duplicates == best_duplicates && latency < best_latency)) {
            best = g, best_latency = latency, best_duplicates = duplicates;
          }
        }
        bins.items[best].push_back(item);
        bins.tokens[best] += wi;
        holds[best][expert] = true;
      }
      const auto expert_of = [&](int item) {
        return replicas.phy_to_log[static_cast<std::size_t>(item)];
      };
      improve_by_swaps(bins, item_weight, f, 0.0, /*any_partner=*/true, 100'000, kPairSwapItems,
                       [&](int item, int gpu) {
                         for (int other : bins.items[static_cast<std::size_t>(gpu)])
                           if (expert_of(other) == expert_of(item)) return true;
                         return false;
                       });
      p.physical_to_logical.push_back(slots_of(bins, replicas.phy_to_log));
    }
    return p;
  }
};

}  // namespace

std::unique_ptr<PlacementPolicy> make_latency_lpt_policy() {
  return std::make_unique<LatencyLptPlacement>();
}

}  // namespace vibesim
