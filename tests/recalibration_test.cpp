// Recalibration controllers and the cost of moving experts.
#include <doctest/doctest.h>

#include <vector>

#include <nlohmann/json.hpp>

#include "fixtures.h"
#include "models/expert_migration.h"
#include "policies/migration_budget.h"
#include "policies/recalibration.h"

using namespace vibesim;

namespace {

using Pass = std::vector<std::vector<std::int32_t>>;  // [layer][expert]

RecalibrationSpec spec_for(RecalibrationKind controller) {
  RecalibrationSpec s;
  s.controller = controller;
  s.every_k_steps = 5;
  s.window = 4;
  s.check_every = 2;
  s.threshold = 0.05;
  s.cooldown = 4;
  return s;
}

}  // namespace

TEST_CASE("never keeps the placement and every_k_steps re-solves every k passes") {
  const std::vector<std::vector<double>> reference{{10, 10}};
  RecalibrationController never(spec_for(RecalibrationKind::kNever), reference);
  RecalibrationController every(spec_for(RecalibrationKind::kEveryKSteps), reference);
  const Pass pass{{30, 1}};
  for (int i = 1; i <= 10; ++i) {
    CHECK(never.observe_pass(pass) == Replacement::kNone);
    CHECK(every.observe_pass(pass) ==
          (i % 5 == 0 ? Replacement::kFullResolve : Replacement::kNone));
  }
  CHECK(every.window_loads() == std::vector<std::vector<double>>{{30, 1}});
}

TEST_CASE(
    "drift re-places incrementally only after the cosine distance passes delta, then cools down") {
  RecalibrationController drift(spec_for(RecalibrationKind::kDrift), {{10, 10, 0}, {5, 5, 5}});
  const Pass same{{10, 10, 0}, {5, 5, 5}}, shifted{{0, 10, 10}, {5, 5, 5}};
  CHECK(drift.observe_pass(same) == Replacement::kNone);
  CHECK(drift.observe_pass(same) == Replacement::kNone);  // check at pass 2: distance 0
  CHECK(drift.max_cosine_distance() == doctest::Approx(0.0));
  CHECK(drift.observe_pass(shifted) == Replacement::kNone);  // pass 3: no check
  // Pass 4: window {same, same, shifted, shifted} -> layer 0 mean (5, 10, 5); distance
  // 1 - 150 / (sqrt(150) sqrt(200)) = 0.134 > 0.05.
  CHECK(drift.observe_pass(shifted) == Replacement::kIncremental);
  CHECK(drift.max_cosine_distance() == doctest::Approx(1 - 150 / std::sqrt(150.0 * 200.0)));
  drift.placed(drift.window_loads());
  CHECK(drift.observe_pass(shifted) == Replacement::kNone);
  CHECK(drift.observe_pass(shifted) == Replacement::kNone);  // pass 6: in cooldown (2 < 4)
  CHECK(drift.observe_pass(shifted) == Replacement::kNone);
  // Pass 8: window all shifted, reference (5, 10, 5): distance 0.134 again, cooldown over.
  CHECK(drift.observe_pass(shifted) == Replacement::kIncremental);
}

TEST_CASE("moving experts costs their bytes over the busiest link plus the route latency") {
  // Toy mesh: 100 GB/s = 100 bytes/ns per link, 1 us latency.
  const Topology topology(2, 2, testing::toy_sku().interconnect);
  const Placement before{2, 2, {{0, 1, 2, 3}}};
  SUBCASE("nothing moves") {
    const auto cost = migration_cost(before, before, topology, 1e6);
    CHECK(cost.experts_moved == 0);
    CHECK(cost.stall.ns() == 0);
  }
  SUBCASE("a swap sends one expert each way, on separate link directions") {
    const Placement after{2, 2, {{0, 2, 1, 3}}};
    const auto cost = migration_cost(before, after, topology, 1e6);
    CHECK(cost.experts_moved == 2);
    CHECK(cost.bytes == doctest::Approx(2e6));
    CHECK(cost.stall.ns() == 10'000 + 1'000);  // 1e6 B / 100 B/ns + 1 us
  }
  SUBCASE("two experts into one GPU share its incoming link") {
    const auto cost = migration_cost(before, Placement{2, 2, {{2, 3, 0, 1}}}, topology, 1e6);
    CHECK(cost.experts_moved == 4);
    CHECK(cost.stall.ns() == 20'000 + 1'000);
  }
  SUBCASE("an expert a GPU already holds is not copied again") {
    // GPU 0: 0, 1, 2 (2 is new); GPU 1: 3, 0, 2 (0 is new, 2 was there).
    const auto cost = migration_cost(before, Placement{2, 3, {{0, 1, 2, 3, 0, 2}}}, topology, 1e6);
    CHECK(cost.experts_moved == 2);
  }
}

TEST_CASE("a run lists each re-placement with its time, experts moved and stall") {
  testing::TempDir dir("recalibration-events");
  const auto r =
      testing::cli({"run", "--quiet", "--out", (dir.path / "run").string(),
                    (testing::config_dir() / "experiments" / "drift.json").string(), "--set",
                    "workload.iterations=40", "--set", "workload.routing.drift_at_iterations=[10]",
                    "--set", "recalibration.controller=\"every_k_steps\"", "--set",
                    "recalibration.every_k_steps=15", "--set", "recalibration.window=10", "--set",
                    "workload.calibration_batches=5", "--set", R"(policies=["eplb"])"});
  INFO(r.err);
  REQUIRE(r.status == 0);
  const auto summary = nlohmann::json::parse(testing::read_file(dir.path / "run" / "summary.json"));
  const auto& p = summary["policies"][0];
  const auto& events = p["recalibration_events"];
  REQUIRE(events.size() == 2);  // passes 15 and 30
  CHECK(p["recalibrations"] == 2);
  std::int64_t moved = 0;
  double stall = 0, previous_ms = 0;
  for (const auto& e : events) {
    CHECK(e["at_ms"].get<double>() > previous_ms);
    previous_ms = e["at_ms"].get<double>();
    moved += e["experts_moved"].get<std::int64_t>();
    stall += e["migration_stall_ms"].get<double>();
  }
  CHECK(moved == p["experts_moved"].get<std::int64_t>());
  CHECK(stall == doctest::Approx(p["migration_stall_ms"].get<double>()));
  CHECK(events[0]["experts_moved"].get<std::int64_t>() > 0);  // the drift moved the hot set
}

TEST_CASE("migration limits adopt the layers that gain most per expert copy, above the price") {
  // 2 GPUs x 2 slots, equal speeds. Layers 0 and 1 swap experts 1 and 2 (2
  // copies each): layer 0 goes from max(200, 20) to max(110, 110), a gain of
  // 90; layer 1 from max(150, 20) to max(110, 60), 40. Layer 2 does not move.
  const Placement before{2, 2, {{0, 1, 2, 3}, {0, 1, 2, 3}, {0, 1, 2, 3}}};
  const Placement after{2, 2, {{0, 2, 1, 3}, {0, 2, 1, 3}, {0, 1, 2, 3}}};
  PlacementContext now;
  now.num_experts = 4;
  now.num_gpus = 2;
  now.max_slots_per_gpu = 2;
  now.expert_loads = {{100, 100, 10, 10}, {100, 50, 10, 10}, {1, 1, 1, 1}};
  now.gpu_latency = {LatencyCurve::proportional(1), LatencyCurve::proportional(1)};
  CHECK(expert_copies_per_layer(before, after) == std::vector<std::int64_t>{2, 2, 0});
  const auto layers_of = [&](std::int64_t budget, double price_ns_per_copy = 0) {
    return within_migration_limits(before, after, now, {budget, price_ns_per_copy})
        .physical_to_logical;
  };
  const std::vector<std::vector<int>> only_layer_0{{0, 2, 1, 3}, {0, 1, 2, 3}, {0, 1, 2, 3}};
  CHECK(layers_of(4) == after.physical_to_logical);
  CHECK(layers_of(3) == only_layer_0);
  CHECK(layers_of(1) == before.physical_to_logical);
  // Per copy, layer 0 gains 45 and layer 1 gains 20; a layer must gain more than its price.
  constexpr std::int64_t kAny = 1000;
  CHECK(layers_of(kAny, 19) == after.physical_to_logical);
  CHECK(layers_of(kAny, 20) == only_layer_0);
  CHECK(layers_of(kAny, 44) == only_layer_0);
  CHECK(layers_of(kAny, 45) == before.physical_to_logical);
  CHECK(layers_of(1, 19) == before.physical_to_logical);  // both limits hold
}

TEST_CASE("recalibration.migration_budget_gb and migration_price_us_per_gb limit re-placements") {
  testing::TempDir dir("migration-budget");
  const auto moved_per_event = [&](const std::string& key, const std::string& value) {
    const auto out = dir.path / ("run-" + key + value);
    const auto r = testing::cli({"run",
                                 "--quiet",
                                 "--out",
                                 out.string(),
                                 (testing::config_dir() / "experiments" / "drift.json").string(),
                                 "--set",
                                 "workload.iterations=40",
                                 "--set",
                                 "workload.routing.drift_at_iterations=[10]",
                                 "--set",
                                 "recalibration.controller=\"every_k_steps\"",
                                 "--set",
                                 "recalibration.every_k_steps=15",
                                 "--set",
                                 "recalibration.window=10",
                                 "--set",
                                 "workload.calibration_batches=5",
                                 "--set",
                                 R"(policies=["eplb"])",
                                 "--set",
                                 "recalibration." + key + "=" + value});
    INFO(r.err);
    REQUIRE(r.status == 0);
    const auto summary = nlohmann::json::parse(testing::read_file(out / "summary.json"));
    std::vector<std::int64_t> moved;
    for (const auto& e : summary["policies"][0]["recalibration_events"])
      moved.push_back(e["experts_moved"].get<std::int64_t>());
    return moved;
  };
  const auto free = moved_per_event("migration_budget_gb", "0");
  // DeepSeek-V3's FP8 expert: 3 x 7168 x 2048 bytes = 44,040,192; 20 GB buys
  // 454 copies, about two of the ~220-copy layers an EPLB re-solve rewrites.
  const auto capped = moved_per_event("migration_budget_gb", "20");
  REQUIRE(free.size() == 2);
  REQUIRE(capped.size() == 2);
  CHECK(free[0] > 454);
  CHECK(capped[0] > 0);
  for (auto m : capped) CHECK(m <= 454);
  // Less than one layer's copies: nothing moves.
  for (auto m : moved_per_event("migration_budget_gb", "0.5")) CHECK(m == 0);
  // A price no layer's gain can pay: nothing moves either.
  const auto priced = moved_per_event("migration_price_us_per_gb", "1e6");
  REQUIRE(priced.size() == 2);
  for (auto m : priced) CHECK(m == 0);
}
