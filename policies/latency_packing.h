#pragma once
// Placement of weighted items (experts or expert replicas) onto GPUs with a
// fixed number of slots each, judged by predicted latency f_g(tokens on g):
// the building blocks of the hardware-aware policies (vibe, latency_lpt).
#include <functional>
#include <span>
#include <vector>

#include "models/latency_curve.h"
#include "models/placement.h"
#include "policies/placement_policy.h"

namespace vibesim {

struct GpuBins {
  std::vector<std::vector<int>> items;  // per GPU: item indices, in slot order
  std::vector<double> tokens;           // per GPU: summed item weight
};

// Swap local search: while it helps, take the GPU with the highest predicted
// latency and apply the single swap of one of its items with one item of
// another GPU (`any_partner`) or of the fastest-finishing GPU only (the
// paper's Algorithm 2) that lowers that pair's larger latency the most. Stops
// when max <= (1 + epsilon) * mean, no swap helps, or after max_swaps.
// `forbidden(item, gpu)` can forbid moves (e.g. two replicas of one expert on
// one GPU). When no single swap helps and both GPUs hold at most
// `pair_swap_items` items, two-for-two swaps are tried too. Returns the number
// of swaps made. Partners are searched coldest first. Where both curves never
// decrease over the tokens an exchange can move, a partner's search looks only
// at the exchanges whose token shift lies in the window where both GPUs would
// end below the best pair latency so far (from the curves' inverses, the hot
// GPU's once per bound; it narrows with each better exchange), so most
// partners cost one inversion of their curve; among exact ties it may pick
// another exchange than a full scan would.
// `checkpoint`, if given, is called every 16 rounds (it throws to stop: a
// stop signal; a round on thousands of GPUs takes milliseconds).
using ForbiddenMove = std::function<bool(int item, int gpu)>;
int improve_by_swaps(GpuBins& bins, std::span<const double> weight, std::span<const LatencyCurve> f,
                     double epsilon, bool any_partner, int max_swaps, int pair_swap_items,
                     const ForbiddenMove& forbidden, const std::function<void()>& checkpoint = {});

// Weights of the items of a slot layout: item i holds expert item_expert[i]
// and carries its load split evenly over the items holding that expert.
std::vector<double> replica_weights(std::span<const int> item_expert,
                                    std::span<const double> expert_loads);

// Forbids moving an item onto a GPU of `bins` that already holds its expert.
ForbiddenMove no_two_replicas_per_gpu(const GpuBins& bins, std::span<const int> item_expert);

// f_g(n) + ns_per_token * n: kernel plus the all-to-all time that grows with a GPU's tokens.
std::vector<LatencyCurve> with_all_to_all(std::span<const LatencyCurve> f, double ns_per_token);

// max_g f_g(tokens on g) of layer `layer` of `placement` under the context's
// recorded loads (replicas sharing evenly or by the placement's token shares).
[[nodiscard]] double predicted_layer_latency_ns(const Placement& placement, int layer,
                                                const PlacementContext& context,
                                                std::span<const LatencyCurve> f);

// Concatenates per-GPU item lists and maps items to experts: a slot layout.
std::vector<int> slots_of(const GpuBins& bins, std::span<const int> item_expert);

}  // namespace vibesim
