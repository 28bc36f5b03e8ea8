#include "policies/migration_budget.h"

#include <algorithm>
#include <vector>

#include "models/expert_migration.h"
#include "policies/latency_packing.h"

namespace vibesim {

Placement within_migration_limits(const Placement& before, const Placement& after,
                                  const PlacementContext& now, const MigrationLimits& limits) {
  const auto copies = expert_copies_per_layer(before, after);
  const auto f = with_all_to_all(now.gpu_latency, now.all_to_all_ns_per_token);
  const auto layers = after.physical_to_logical.size();
  std::vector<double> gain(layers);
  for (std::size_t l = 0; l < layers; ++l)
    gain[l] = predicted_layer_latency_ns(before, static_cast<int>(l), now, f) -
              predicted_layer_latency_ns(after, static_cast<int>(l), now, f);
  // Layers that need no copy change freely; those whose copies pay their
  // price compete for the budget by gain per copy (ties: lower layer first).
  std::vector<bool> adopt(layers, false);
  std::vector<std::size_t> candidates;
  for (std::size_t l = 0; l < layers; ++l) {
    if (copies[l] == 0) adopt[l] = true;
    // The price is >= 0, so a layer that pays it also gains.
    if (copies[l] > 0 && gain[l] > limits.price_ns_per_copy * static_cast<double>(copies[l]))
      candidates.push_back(l);
  }
  const auto per_copy = [&](std::size_t l) { return gain[l] / static_cast<double>(copies[l]); };
  std::stable_sort(candidates.begin(), candidates.end(),
                   [&](std::size_t a, std::size_t b) { return per_copy(a) > per_copy(b); });
  std::int64_t used = 0;
  for (const auto l : candidates) {
    if (used + copies[l] > limits.max_copies) continue;
    used += copies[l];
    adopt[l] = true;
  }
  Placement out = after;
  const bool shares = before.has_replica_shares() || after.has_replica_shares();
  out.replica_share.assign(shares ? layers : 0, {});
  for (std::size_t l = 0; l < layers; ++l) {
    const auto& from = adopt[l] ? after : before;
    out.physical_to_logical[l] = from.physical_to_logical[l];
    if (shares) out.replica_share[l] = replica_shares(from, static_cast<int>(l));
  }
  return out;
}

}  // namespace vibesim
