// `round_robin`: expert e on GPU e mod G, the same for every layer. Spreads
// experts that are neighbours in id (often co-activated) across GPUs.
#include <memory>

#include "policies/placement_policy.h"

namespace vibesim {
namespace {

class RoundRobinPlacement final : public PlacementPolicy {
 public:
  Placement place(const PlacementContext& c) const override {
    const int per_gpu = c.base_slots_per_gpu();
    Placement p{c.num_gpus, per_gpu, {}};
    std::vector<int> slots(static_cast<std::size_t>(c.num_experts));
    for (int e = 0; e < c.num_experts; ++e) {
      const int gpu = e % c.num_gpus, rank = e / c.num_gpus;
      slots[static_cast<std::size_t>(gpu * per_gpu + rank)] = e;
    }
    p.physical_to_logical.assign(static_cast<std::size_t>(c.num_layers()), slots);
    return p;
  }
};

}  // namespace

std::unique_ptr<PlacementPolicy> make_round_robin_policy() {
  return std::make_unique<RoundRobinPlacement>();
}

}  // namespace vibesim
