#pragma once
// A re-placement under a migration budget: copying expert weights over the
// links stalls serving, so an operator may cap the copies one re-placement
// makes. Works for every policy's output, incremental or not.
#include <cstdint>

#include "models/placement.h"
#include "policies/placement_policy.h"

namespace vibesim {

// `after` where it fits: layers are adopted from `after` in descending order
// of predicted gain per expert copy (max_g f_g(n_g) + a*n_g under `now`'s
// loads and curves, `before` minus `after`), while the copies stay within
// `max_copies`; the other layers keep `before`. Layers that need no copy are
// always adopted; layers that gain nothing are never. A greedy knapsack, not
// an optimal one. Both placements must have the same shape.
[[nodiscard]] Placement within_migration_budget(const Placement& before, const Placement& after,
                                                const PlacementContext& now,
                                                std::int64_t max_copies);

}  // namespace vibesim
