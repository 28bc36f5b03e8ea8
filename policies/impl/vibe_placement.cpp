// `vibe`: the paper's Algorithm 1 (ViBE, arXiv 2606.00735). Per layer, with
// N = total load: s_g = 1 / f_g(N/E) is GPU g's speed at the mean per-expert
// load, tau_g = N * s_g / sum(s) its token target; experts in descending load
// (stable) each go to the GPU with a free slot and the largest tau_g - n_g
// (lowest GPU index on ties). E/G experts per GPU, no replicas.
//
// Units: our f_g takes the tokens on the whole GPU, its E/G experts loaded
// evenly, so "f_g at a per-expert load of N/E" is f_g((N/E) * (E/G)) = f_g(N/G).
// When a current placement exists, the paper's Algorithm 2 (incremental swaps
// between the slowest and fastest GPU, epsilon = 0.03) refines it instead of
// placing from scratch: that is how the drift-triggered recalibration uses it.
#include <algorithm>
#include <memory>
#include <numeric>
#include <queue>
#include <utility>

#include "policies/heaviest_first.h"
#include "policies/latency_packing.h"
#include "policies/placement_policy.h"

namespace vibesim {
namespace {

constexpr double kEpsilon = 0.03;

GpuBins greedy_targets(std::span<const double> w, std::span<const LatencyCurve> f,
                       int slots_per_gpu) {
  const auto g_count = f.size();
  const double total = std::accumulate(w.begin(), w.end(), 0.0);
  std::vector<double> speed(g_count);
  for (std::size_t g = 0; g < g_count; ++g)
    speed[g] = 1.0 / f[g].latency_ns(total / static_cast<double>(g_count));
  const double speed_sum = std::accumulate(speed.begin(), speed.end(), 0.0);
  GpuBins bins{std::vector<std::vector<int>>(g_count), std::vector<double>(g_count, 0.0)};
  for (auto& items : bins.items)
    items.reserve(static_cast<std::size_t>(std::max(slots_per_gpu, 0)));
  // GPUs with a free slot by remaining gap tau_g - n_g, largest first, lowest
  // index among equal gaps: a heap instead of a scan per expert.
  using Entry = std::pair<double, std::size_t>;  // gap, GPU
  const auto lower = [](const Entry& a, const Entry& b) {
    return a.first < b.first || (a.first == b.first && a.second > b.second);
  };
  std::priority_queue<Entry, std::vector<Entry>, decltype(lower)> open(lower);
  for (std::size_t g = 0; g < g_count; ++g)
    if (slots_per_gpu > 0) open.emplace(total * speed[g] / speed_sum, g);
  for (const int e : heaviest_first(w)) {
    auto [gap, best] = open.top();
    open.pop();
    bins.items[best].push_back(e);
    bins.tokens[best] += w[static_cast<std::size_t>(e)];
    if (static_cast<int>(bins.items[best].size()) < slots_per_gpu)
      open.emplace(total * speed[best] / speed_sum - bins.tokens[best], best);
  }
  return bins;
}

class VibePlacement final : public PlacementPolicy {
 public:
  Placement place(const PlacementContext& c) const override {
    const int slots = c.base_slots_per_gpu();
    Placement p{c.num_gpus, slots, {}};
    std::vector<int> identity(static_cast<std::size_t>(c.num_experts));
    std::iota(identity.begin(), identity.end(), 0);
    for (int l = 0; l < c.num_layers(); ++l) {
      c.between_layers(l);
      const auto& w = c.expert_loads[static_cast<std::size_t>(l)];
      GpuBins bins;
      if (c.current &&
          c.current->slots_per_gpu == slots) {  // Algorithm 2 from the placement in force
        bins = {std::vector<std::vector<int>>(static_cast<std::size_t>(c.num_gpus)),
                std::vector<double>(static_cast<std::size_t>(c.num_gpus), 0.0)};
        const auto& current = c.current->physical_to_logical[static_cast<std::size_t>(l)];
        for (std::size_t s = 0; s < current.size(); ++s) {
          const auto g = s / static_cast<std::size_t>(slots);
          bins.items[g].push_back(current[s]);
          bins.tokens[g] += w[static_cast<std::size_t>(current[s])];
        }
        improve_by_swaps(bins, w, c.gpu_latency, kEpsilon, /*any_partner=*/false, 1000,
                         /*pair_swap_items=*/0, nullptr, c.checkpoint);
      } else {
        bins = greedy_targets(w, c.gpu_latency, slots);
      }
      p.physical_to_logical.push_back(slots_of(bins, identity));
    }
    return p;
  }
};

}  // namespace

std::unique_ptr<PlacementPolicy> make_vibe_policy() {
  return std::make_unique<VibePlacement>();
}

}  // namespace vibesim
