// `eplb`: DeepSeek's EPLB over the context's slot budget (redundant slots
// become replicas of the hottest experts), using the model's expert groups and
// the cluster's nodes. Balances token counts; blind to GPU speed.
#include <memory>

#include "policies/eplb.h"
#include "policies/placement_policy.h"

namespace vibesim {
namespace {

class EplbPlacement final : public PlacementPolicy {
 public:
  Placement place(const PlacementContext& c) const override {
    Placement p{c.num_gpus, c.max_slots_per_gpu, {}};
    for (const auto& loads : c.expert_loads)
      p.physical_to_logical.push_back(eplb::rebalance_layer(loads, c.max_slots_per_gpu * c.num_gpus,
                                                            c.expert_groups, c.num_nodes,
                                                            c.num_gpus)
                                          .phy_to_log);
    return p;
  }
};

}  // namespace

std::unique_ptr<PlacementPolicy> make_eplb_policy() {
  return std::make_unique<EplbPlacement>();
}

}  // namespace vibesim
