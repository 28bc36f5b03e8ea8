// `latency_lpt_shares`: ours, `latency_lpt` with speed-aware token shares.
// The layout is latency_lpt's (replica counts by EPLB's rule, packing and
// swaps on the profiled curves, each replica weighed at an even share); then,
// with that layout fixed, every replicated expert's tokens are split over its
// replicas to minimise the largest predicted latency (balanced_token_shares),
// so a replica on a fast GPU takes more than one on a slow GPU. The placement
// carries the shares; an engine needs a weighted dispatch table to honour them.
#include <memory>

#include "policies/latency_packing.h"
#include "policies/placement_policy.h"
#include "policies/token_shares.h"

namespace vibesim {

std::unique_ptr<PlacementPolicy> make_latency_lpt_policy();

namespace {

class LatencyLptSharesPlacement final : public PlacementPolicy {
 public:
  Placement place(const PlacementContext& c) const override {
    Placement p = layout_->place(c);
    const auto f = with_all_to_all(c.gpu_latency, c.all_to_all_ns_per_token);
    p.replica_share.clear();
    for (std::size_t l = 0; l < p.physical_to_logical.size(); ++l) {
      if (c.checkpoint) c.checkpoint();
      p.replica_share.push_back(
          balanced_token_shares(p.physical_to_logical[l], p.slots_per_gpu, c.expert_loads[l], f));
    }
    return p;
  }

 private:
  std::unique_ptr<PlacementPolicy> layout_ = make_latency_lpt_policy();
};

}  // namespace

std::unique_ptr<PlacementPolicy> make_latency_lpt_shares_policy() {
  return std::make_unique<LatencyLptSharesPlacement>();
}

}  // namespace vibesim
