#include <doctest/doctest.h>

#include <algorithm>

#include "io/config_error.h"
#include "models/placement.h"
#include "policies/policy_registry.h"

using namespace vibesim;

namespace {
PlacementContext context(int experts, int gpus, int layers) {
  PlacementContext c;
  c.num_experts = experts;
  c.num_gpus = gpus;
  c.max_slots_per_gpu = experts / gpus;
  c.expert_loads.assign(static_cast<std::size_t>(layers),
                        std::vector<double>(static_cast<std::size_t>(experts), 1.0));
  return c;
}
}  // namespace

TEST_CASE("static puts expert e on GPU floor(e*G/E) in every layer") {
  const auto p = PolicyRegistry::builtin().make("static")->place(context(16, 4, 3));
  CHECK(placement_problem(p, 3, 16).empty());
  CHECK(p.slots_per_gpu == 4);
  for (const auto& layer : p.physical_to_logical)
    for (int s = 0; s < 16; ++s)
      CHECK(p.gpu_of_slot(s) == layer[static_cast<std::size_t>(s)] * 4 / 16);
}

TEST_CASE("round_robin puts expert e on GPU e mod G") {
  const auto p = PolicyRegistry::builtin().make("round_robin")->place(context(16, 4, 2));
  CHECK(placement_problem(p, 2, 16).empty());
  for (int s = 0; s < 16; ++s)
    CHECK(p.gpu_of_slot(s) == p.physical_to_logical[0][static_cast<std::size_t>(s)] % 4);
}

TEST_CASE("the registry describes every policy and lists the valid names for an unknown one") {
  const auto registry = PolicyRegistry::builtin();
  for (const auto& e : registry.entries()) CHECK_FALSE(e.description.empty());
  CHECK_THROWS_WITH_AS(registry.make("nope"),
                       "unknown policy 'nope'; valid values are: static, round_robin, eplb, vibe, "
                       "latency_lpt, latency_lpt_counts, latency_lpt_shares, flashlb, optimal",
                       InputError);
}

TEST_CASE("placement_problem names a missing expert and an out-of-range id") {
  Placement p{2, 2, {{0, 1, 2, 2}}};
  CHECK(placement_problem(p, 1, 4) == "layer 0: expert 3 has no slot");
  p.physical_to_logical[0][3] = 7;
  CHECK(placement_problem(p, 1, 4) == "layer 0: expert id 7 out of range");
}

TEST_CASE("placement_problem checks token shares: shape, sign and a sum of 1 per expert") {
  Placement p{2, 2, {{0, 2, 1, 2}}};
  p.replica_share = {{1, 0.25, 1, 0.75}};
  CHECK(placement_problem(p, 1, 3).empty());
  CHECK(gpu_tokens(p, 0, std::vector<double>{10, 20, 400}) == std::vector<double>{110, 320});
  p.replica_share[0][3] = 0.5;
  CHECK(placement_problem(p, 1, 3) == "layer 0: expert 2: token shares sum to 0.75, expected 1");
  p.replica_share[0] = {1, 1.25, 1, -0.25};
  CHECK(placement_problem(p, 1, 3) ==
        "layer 0: slot 3: token share -0.25 (expected finite and >= 0)");
  p.replica_share[0] = {1, 1, 1};
  CHECK(placement_problem(p, 1, 3) == "layer 0: 3 token shares, expected 4");
}

TEST_CASE("keep_slots_in_place moves token shares with their slots") {
  Placement before{2, 2, {{0, 1, 2, 3}}};
  // After: GPU 0 holds {1, 3} (1 stays in slot 1), GPU 1 holds {3, 2} (both stay).
  Placement after{2, 2, {{1, 3, 3, 2}}};
  after.replica_share = {{1, 0.25, 0.75, 1}};
  const auto kept = keep_slots_in_place(before, after);
  CHECK(kept.physical_to_logical[0] == std::vector<int>{3, 1, 2, 3});
  CHECK(kept.replica_share[0] == std::vector<double>{0.25, 1, 1, 0.75});
}

TEST_CASE("keep_slots_in_place leaves staying experts in their slots and counts the rest") {
  Placement before{2, 3, {{0, 1, 2, 3, 4, 5}}};
  // After: GPU 0 holds {2, 6, 0} (0 and 2 stay), GPU 1 holds {3, 1, 4} (3 and 4 stay).
  Placement after{2, 3, {{2, 6, 0, 3, 1, 4}}};
  const auto kept = keep_slots_in_place(before, after);
  CHECK(kept.physical_to_logical[0] == std::vector<int>{0, 6, 2, 3, 4, 1});
  CHECK(slots_changed(before, kept) == 2);
  CHECK(slots_changed(before, after) == 5);  // only slot 3 (expert 3) matched by chance
  // The same experts on the same GPUs: only positions changed.
  for (int g = 0; g < 2; ++g) {
    auto a = std::vector<int>(after.physical_to_logical[0].begin() + g * 3,
                              after.physical_to_logical[0].begin() + g * 3 + 3);
    auto k = std::vector<int>(kept.physical_to_logical[0].begin() + g * 3,
                              kept.physical_to_logical[0].begin() + g * 3 + 3);
    std::sort(a.begin(), a.end());
    std::sort(k.begin(), k.end());
    CHECK(a == k);
  }
}
