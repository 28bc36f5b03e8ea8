#pragma once
// The cost of switching placements: every expert a GPU holds after but not
// before must be copied there (its weights, `expert_weight_bytes`) from a GPU
// that held it before — the nearest one (lowest route latency, then lowest
// id). All copies of all layers start together; the switch takes as long as
// the busiest link needs to carry its bytes, plus the longest route latency.
// Serving stalls for that long (no overlap with compute is modelled).
#include <cstdint>
#include <vector>

#include "base/sim_time.h"
#include "models/placement.h"
#include "models/topology.h"

namespace vibesim {

struct MigrationCost {
  std::int64_t experts_moved = 0;  // (layer, GPU, expert) copies, summed over layers
  double bytes = 0;
  SimDuration stall;
};

// Per layer: the (GPU, expert) copies switching from `before` to `after` needs
// (what migration_cost counts in experts_moved).
std::vector<std::int64_t> expert_copies_per_layer(const Placement& before, const Placement& after);

MigrationCost migration_cost(const Placement& before, const Placement& after,
                             const Topology& topology, double expert_weight_bytes);

}  // namespace vibesim
