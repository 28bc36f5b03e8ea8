// `static`: vLLM's contiguous placement — expert e on GPU floor(e*G/E), the
// same for every layer, no replicas, blind to loads and GPU speeds.
#include <memory>

#include "policies/placement_policy.h"

namespace vibesim {
namespace {

class StaticPlacement final : public PlacementPolicy {
 public:
  Placement place(const PlacementContext& c) const override {
    Placement p{c.num_gpus, c.base_slots_per_gpu(), {}};
    std::vector<int> slots(static_cast<std::size_t>(c.num_experts));
    // With E divisible by G, floor(e*G/E) = e / (E/G): slot order is expert order.
    for (int e = 0; e < c.num_experts; ++e) slots[static_cast<std::size_t>(e)] = e;
    p.physical_to_logical.assign(static_cast<std::size_t>(c.num_layers()), slots);
    return p;
  }
};

}  // namespace

std::unique_ptr<PlacementPolicy> make_static_policy() {
  return std::make_unique<StaticPlacement>();
}

}  // namespace vibesim
