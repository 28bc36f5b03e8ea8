#pragma once
// A re-placement under a migration budget and price: copying expert weights
// over the links stalls serving, so an operator may cap the copies one
// re-placement makes, and may require each copy to buy a minimum predicted
// gain. Works for every policy's output, incremental or not.
#include <cstdint>

#include "models/placement.h"
#include "policies/placement_policy.h"

namespace vibesim {

struct MigrationLimits {
  std::int64_t max_copies = 0;   // expert copies one re-placement may make
  double price_ns_per_copy = 0;  // predicted layer-latency gain each copy must buy
};

// `after` where it pays and fits. A layer's gain is its predicted latency
// (max_g f_g(n_g) + a*n_g under `now`'s loads and curves) under `before`
// minus under `after`. Layers that need no copy are always adopted. Layers
// whose gain does not exceed price x copies are never. The rest are adopted
// in descending order of gain per copy while the copies stay within
// `max_copies`, and the other layers keep `before`: a greedy knapsack, not an
// optimal one. Both placements must have the same shape.
[[nodiscard]] Placement within_migration_limits(const Placement& before, const Placement& after,
                                                const PlacementContext& now,
                                                const MigrationLimits& limits);

}  // namespace vibesim
