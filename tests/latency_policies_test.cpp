#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <random>
#include <stdexcept>

#include "base/random_engine.h"
#include "io/config_error.h"
#include "policies/latency_bound.h"
#include "policies/latency_packing.h"
#include "policies/policy_registry.h"

using namespace vibesim;

namespace {

PlacementContext two_speed_context(std::vector<double> loads, std::vector<double> tokens_per_ns) {
  PlacementContext c;
  c.num_experts = static_cast<int>(loads.size());
  c.num_gpus = static_cast<int>(tokens_per_ns.size());
  c.max_slots_per_gpu = c.num_experts / c.num_gpus;
  c.expert_loads = {std::move(loads)};
  for (double s : tokens_per_ns) c.gpu_latency.push_back(LatencyCurve::proportional(s));
  return c;
}

double makespan(const Placement& p, const PlacementContext& c) {
  std::vector<double> tokens(static_cast<std::size_t>(p.num_gpus), 0.0);
  std::vector<int> replicas(c.expert_loads[0].size(), 0);
  for (int e : p.physical_to_logical[0]) ++replicas[static_cast<std::size_t>(e)];
  for (std::size_t s = 0; s < p.physical_to_logical[0].size(); ++s) {
    const auto e = static_cast<std::size_t>(p.physical_to_logical[0][s]);
    tokens[static_cast<std::size_t>(p.gpu_of_slot(static_cast<int>(s)))] +=
        c.expert_loads[0][e] / replicas[e];
  }
  double worst = 0;
  for (std::size_t g = 0; g < tokens.size(); ++g)
    worst = std::max(worst, c.gpu_latency[g].latency_ns(tokens[g]));
  return worst;
}

// Exhaustive minimum over all ways to put 8 experts on 2 GPUs, 4 each.
double brute_force_optimum(const PlacementContext& c) {
  double best = 1e300;
  for (int mask = 0; mask < 256; ++mask) {
    if (__builtin_popcount(static_cast<unsigned>(mask)) != 4) continue;
    double n0 = 0, n1 = 0;
    for (int e = 0; e < 8; ++e)
      (mask >> e & 1 ? n0 : n1) += c.expert_loads[0][static_cast<std::size_t>(e)];
    best =
        std::min(best, std::max(c.gpu_latency[0].latency_ns(n0), c.gpu_latency[1].latency_ns(n1)));
  }
  return best;
}

}  // namespace

TEST_CASE(
    "vibe (Algorithm 1) fills speed-proportional token targets greedily with ties to the lower "
    "GPU") {
  // GPU 0 twice as fast: targets 14 and 7 tokens of 21.
  const auto c = two_speed_context({6, 5, 4, 3, 2, 1}, {2.0, 1.0});
  const auto p = PolicyRegistry::builtin().make("vibe")->place(c);
  CHECK(p.physical_to_logical[0] == std::vector<int>{0, 1, 3, 2, 4, 5});
}

TEST_CASE(
    "vibe with a placement in force refines it by Algorithm 2 swaps between the slowest and "
    "fastest GPU") {
  auto c = two_speed_context({6, 5, 4, 3, 2, 1}, {2.0, 1.0});
  const Placement current{
      2, 3, {{0, 1, 2, 3, 4, 5}}};  // 15 tokens on GPU 0 (7.5 ns) and 6 on GPU 1 (6 ns)
  c.current = &current;
  const auto p = PolicyRegistry::builtin().make("vibe")->place(c);
  CHECK(p.physical_to_logical[0] ==
        std::vector<int>{0, 1, 3, 2, 4, 5});  // one swap: experts 2 and 3
  CHECK(makespan(p, c) == doctest::Approx(7.0));
}

TEST_CASE(
    "latency_lpt comes within 1 % of the exhaustive optimum on average over small instances") {
  RandomEngine rng(3);
  std::uniform_real_distribution<double> load(1, 100), speed(0.8, 1.2);
  double worst_ratio = 1, ratio_sum = 0;
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<double> loads(8);
    for (auto& w : loads) w = load(rng);
    const auto c = two_speed_context(loads, {speed(rng), speed(rng)});
    const auto p = PolicyRegistry::builtin().make("latency_lpt")->place(c);
    REQUIRE(placement_problem(p, 1, 8).empty());
    const double optimum = brute_force_optimum(c);
    CHECK(makespan(p, c) >= optimum * (1 - 1e-12));
    CHECK(latency_lower_bound_ns(c.expert_loads[0], c.gpu_latency, 1) <= optimum * (1 + 1e-9));
    CHECK(packing_lower_bound_ns(c.expert_loads[0], c.gpu_latency, 4) <= optimum * (1 + 1e-9));
    worst_ratio = std::max(worst_ratio, makespan(p, c) / optimum);
    ratio_sum += makespan(p, c) / optimum;
  }
  MESSAGE("latency_lpt / optimum over 200 instances: mean ", ratio_sum / 200, ", worst ",
          worst_ratio);
  // Measured: mean 1.0009, worst 1.021 (the 1 % target holds on average, not in the worst
  // case).
  CHECK(ratio_sum / 200 <= 1.01);
  CHECK(worst_ratio <= 1.025);
}

TEST_CASE("latency_lpt beats vibe and eplb on predicted latency for skewed loads on unequal GPUs") {
  std::vector<double> loads;
  for (int e = 1; e <= 64; ++e) loads.push_back(1000.0 / std::sqrt(e));
  const auto c = two_speed_context(loads, {1.0, 1.05, 0.97, 1.02, 0.95, 1.0, 1.03, 0.99});
  const auto registry = PolicyRegistry::builtin();
  const double ours = makespan(registry.make("latency_lpt")->place(c), c);
  CHECK(ours < makespan(registry.make("vibe")->place(c), c));
  CHECK(ours < makespan(registry.make("eplb")->place(c), c));
}

TEST_CASE("latency_lpt fills redundant slots with replicas on distinct GPUs") {
  auto c = two_speed_context({100, 10, 10, 10}, {1.0, 1.0});
  c.max_slots_per_gpu = 3;  // 2 redundant slots
  const auto p = PolicyRegistry::builtin().make("latency_lpt")->place(c);
  REQUIRE(placement_problem(p, 1, 4).empty());
  const auto& slots = p.physical_to_logical[0];
  CHECK(std::count(slots.begin(), slots.end(), 0) == 2);        // the hot expert is replicated...
  CHECK(std::count(slots.begin(), slots.begin() + 3, 0) == 1);  // ...once on each GPU
}

#ifdef VIBESIM_HAVE_CBC
TEST_CASE(
    "optimal matches the exhaustive optimum within its 0.1 % gap on linear and non-convex curves") {
  RandomEngine rng(11);
  std::uniform_real_distribution<double> load(1, 100), speed(0.8, 1.2);
  const auto optimal = PolicyRegistry::builtin().make("optimal");
  for (int trial = 0; trial < 20; ++trial) {
    std::vector<double> loads(8);
    for (auto& w : loads) w = load(rng);
    auto c = two_speed_context(loads, {speed(rng), speed(rng)});
    if (trial % 2 == 1)  // a tile-like step: flat, then a jump, then steep
      c.gpu_latency[1] = LatencyCurve({0, 120, 121, 400}, {50, 60, 200, 500});
    std::vector<LayerProof> proofs;
    c.proofs = &proofs;
    const auto p = optimal->place(c);
    REQUIRE(placement_problem(p, 1, 8).empty());
    CHECK(makespan(p, c) >= brute_force_optimum(c) * (1 - 1e-9));
    CHECK(makespan(p, c) <= brute_force_optimum(c) * (1 + 1e-3));
    REQUIRE(proofs.size() == 1);
    CHECK(proofs[0].predicted_ns == doctest::Approx(makespan(p, c)));
    CHECK(proofs[0].lower_bound_ns <= brute_force_optimum(c) * (1 + 1e-9));
    CHECK_FALSE(proofs[0].stopped_at_limit);
    CHECK(proofs[0].proven_gap() <= 1e-3 + 1e-12);
    CHECK(packing_lower_bound_ns(c.expert_loads[0], c.gpu_latency, 4) <=
          brute_force_optimum(c) * (1 + 1e-9));
  }
}

TEST_CASE("the fluid bound looks past a dip in a profiled curve to its last crossing") {
  // GPU 0 dips: f = n up to 10 tokens (10 ns), then down to 5 ns at 20. GPU 1
  // is f = n. Below 5 ns the two take t tokens each, under the total of 20;
  // at 5 ns GPU 0 can take all 20 (its last point at or below 5 ns). A bound
  // that stopped at GPU 0's first crossing would say 10 ns.
  const std::vector<LatencyCurve> f{LatencyCurve({0, 10, 20, 30}, {0, 10, 5, 30}),
                                    LatencyCurve::proportional(1.0)};
  const std::vector<double> w(20, 1.0);
  CHECK(latency_lower_bound_ns(w, f, 1) == doctest::Approx(5.0));
  // 30 tokens in all: past 5 ns GPU 0 takes 20 + (t - 5) / 2.5 (on 20-30,
  // f = 5 + 2.5 (n - 20)) and GPU 1 t, which sum to 30 at t = 60 / 7.
  const std::vector<double> w30(30, 1.0);
  CHECK(latency_lower_bound_ns(w30, f, 1) == doctest::Approx(60.0 / 7.0));
}

TEST_CASE("the packing bound counts the items every GPU must hold, not only tokens") {
  // GPU 0 twice as fast, 4 unit items, 2 slots each. The fluid bound gives
  // GPU 0 8/3 tokens and GPU 1 4/3 (4/3 ns), but GPU 0 holds 2 items, so GPU 1
  // holds 2 tokens: 2 ns, the optimum.
  const auto c = two_speed_context({1, 1, 1, 1}, {2.0, 1.0});
  const auto& w = c.expert_loads[0];
  CHECK(latency_lower_bound_ns(w, c.gpu_latency, 1) == doctest::Approx(4.0 / 3.0));
  CHECK(packing_lower_bound_ns(w, c.gpu_latency, 2) == doctest::Approx(2.0));
  // Where the slots do not bind it is the fluid bound: speeds 1.1 and 1, items
  // 1, 1, 1, 1, 2, 2, 2, 2 (12 tokens, 4 slots): the fluid split 6.29 / 5.71
  // fits 4 items a GPU.
  const auto loose = two_speed_context({1, 1, 1, 1, 2, 2, 2, 2}, {1.1, 1.0});
  CHECK(packing_lower_bound_ns(loose.expert_loads[0], loose.gpu_latency, 4) ==
        doctest::Approx(12.0 / 2.1));
  // Never above the optimum: a GPU's items may be the heaviest ones.
  const auto mixed = two_speed_context({5, 1, 1, 1}, {2.0, 1.0});  // optimum 3: {5, 1} | {1, 1}
  CHECK(packing_lower_bound_ns(mixed.expert_loads[0], mixed.gpu_latency, 2) <= 3.0 + 1e-9);
}

TEST_CASE("the packing bound counts the items the heaviest one's GPU must also hold") {
  // 2 equal GPUs x 4 slots: the fluid bound is 31 / 2 = 15.5 and the
  // heaviest item alone 20, but expert 0's GPU also holds 3 others, at least
  // 1 + 1 + 1: 23, which is the optimum.
  const auto c = two_speed_context({20, 1, 1, 1, 2, 2, 2, 2}, {1.0, 1.0});
  const auto& w = c.expert_loads[0];
  CHECK(latency_lower_bound_ns(w, c.gpu_latency, 1) == doctest::Approx(20.0));
  CHECK(packing_lower_bound_ns(w, c.gpu_latency, 4) == doctest::Approx(23.0));
  CHECK(packing_lower_bound_ns(w, c.gpu_latency, 1) == doctest::Approx(20.0));
#ifdef VIBESIM_HAVE_CBC
  CHECK(makespan(PolicyRegistry::builtin().make("optimal")->place(c), c) == doctest::Approx(23.0));
#endif
}

TEST_CASE("optimal calls the context's checkpoint before each layer and stops when it throws") {
  auto c = two_speed_context({5, 4, 3, 2, 1, 1, 2, 3}, {1.0, 1.1});
  c.expert_loads = {c.expert_loads[0], c.expert_loads[0], c.expert_loads[0]};
  int calls = 0;
  c.checkpoint = [&calls] {
    if (++calls == 2) throw std::runtime_error("stop");
  };
  CHECK_THROWS_WITH(PolicyRegistry::builtin().make("optimal")->place(c), "stop");
  CHECK(calls == 2);  // stopped at the second poll
  // A checkpoint that never throws: one call per layer, besides those of the
  // latency_lpt placement optimal starts from (which polls it too).
  int quiet_calls = 0, warm_start_calls = 0;
  c.checkpoint = [&warm_start_calls] { ++warm_start_calls; };
  (void)PolicyRegistry::builtin().make("latency_lpt")->place(c);
  CHECK(warm_start_calls >= 3);
  c.checkpoint = [&quiet_calls] { ++quiet_calls; };
  CHECK(PolicyRegistry::builtin().make("optimal")->place(c).physical_to_logical.size() == 3);
  CHECK(quiet_calls == warm_start_calls + 3);
}

TEST_CASE("the slow policies report each layer placed, once, for place's progress lines") {
  auto c = two_speed_context({5, 4, 3, 2, 1, 1, 2, 3}, {1.0, 1.1});
  c.expert_loads = {c.expert_loads[0], c.expert_loads[0], c.expert_loads[0], c.expert_loads[0]};
  std::vector<std::string> policies{"latency_lpt", "vibe", "flashlb", "latency_lpt_shares"};
#ifdef VIBESIM_HAVE_CBC
  policies.push_back("optimal");  // not counting the layers of latency_lpt's start
#endif
  for (const auto& policy : policies) {
    int placed = 0;
    c.layer_placed = [&placed] { ++placed; };
    INFO(policy);
    CHECK(PolicyRegistry::builtin().make(policy)->place(c).physical_to_logical.size() == 4);
    CHECK(placed == 3);  // told before each layer after the first
  }
}

TEST_CASE("optimal stopped by its time limit reports a valid bound and a wider proven gap") {
  // 12 experts x 3 GPUs, 4 each: exhaustive over the 3^12 assignments.
  const auto exhaustive = [](const PlacementContext& c) {
    const auto& w = c.expert_loads[0];
    double best = 1e300;
    for (int code = 0; code < 531441; ++code) {
      std::array<double, 3> tokens{};
      std::array<int, 3> count{};
      for (int e = 0, rest = code; e < 12; ++e, rest /= 3) {
        tokens[static_cast<std::size_t>(rest % 3)] += w[static_cast<std::size_t>(e)];
        ++count[static_cast<std::size_t>(rest % 3)];
      }
      if (count != std::array<int, 3>{4, 4, 4}) continue;
      double worst = 0;
      for (std::size_t g = 0; g < 3; ++g)
        worst = std::max(worst, c.gpu_latency[g].latency_ns(tokens[g]));
      best = std::min(best, worst);
    }
    return best;
  };
  RandomEngine rng(23);
  std::uniform_int_distribution<int> load(1, 1000);
  std::uniform_real_distribution<double> speed(0.9, 1.1);
  const auto optimal = PolicyRegistry::builtin().make("optimal");
  int stopped = 0;
  for (int trial = 0; trial < 8; ++trial) {
    std::vector<double> loads;
    for (int e = 0; e < 12; ++e) loads.push_back(load(rng));
    auto c = two_speed_context(loads, {speed(rng), speed(rng), speed(rng)});
    std::vector<LayerProof> proofs;
    c.proofs = &proofs;
    c.search_seconds_per_layer = 1e-9;  // any solve stops at its first check of the clock
    const auto p = optimal->place(c);
    REQUIRE(proofs.size() == 1);
    const double best = exhaustive(c);
    CHECK(proofs[0].predicted_ns == doctest::Approx(makespan(p, c)));
    CHECK(proofs[0].lower_bound_ns <= best * (1 + 1e-9));
    CHECK(proofs[0].predicted_ns >= best * (1 - 1e-9));
    if (proofs[0].stopped_at_limit) {
      ++stopped;
    } else {
      CHECK(proofs[0].proven_gap() <= 1e-3 + 1e-12);
    }
  }
  MESSAGE(stopped, " of 8 layers stopped at the limit");
  // Some of these layers need a solve, which the limit stops.
  CHECK(stopped > 0);
}

TEST_CASE("latency_lpt stays within 1 % of optimal on 12 experts x 3 GPUs") {
  RandomEngine rng(5);
  std::uniform_real_distribution<double> speed(0.9, 1.1);
  const auto registry = PolicyRegistry::builtin();
  double ratio_sum = 0, worst = 1;
  constexpr int kTrials = 20;
  for (int trial = 0; trial < kTrials; ++trial) {
    std::vector<double> loads;
    std::lognormal_distribution<double> load(4.0, 1.0);
    for (int e = 0; e < 12; ++e) loads.push_back(load(rng));
    const auto c = two_speed_context(loads, {speed(rng), speed(rng), speed(rng)});
    const double best = makespan(registry.make("optimal")->place(c), c);
    const double ours = makespan(registry.make("latency_lpt")->place(c), c);
    CHECK(best <= ours * (1 + 1e-9));
    ratio_sum += ours / best;
    worst = std::max(worst, ours / best);
  }
  MESSAGE("latency_lpt / optimal on 12x3: mean ", ratio_sum / kTrials, ", worst ", worst);
  CHECK(ratio_sum / kTrials <= 1.01);
}
#else
TEST_CASE("optimal reports itself unavailable without CBC") {
  CHECK_THROWS_AS(PolicyRegistry::builtin().make("optimal"), InputError);
}
#endif

TEST_CASE("latency_lpt given a placement in force refines it with few moves and never worsens it") {
  std::vector<double> before, after;
  for (int e = 1; e <= 64; ++e) {
    before.push_back(1000.0 / std::sqrt(e));
    after.push_back(1000.0 / std::sqrt(65 - e));  // the hot set moves to the other end
  }
  auto c = two_speed_context(before, {1.0, 1.05, 0.97, 1.02, 0.95, 1.0, 1.03, 0.99});
  const auto policy = PolicyRegistry::builtin().make("latency_lpt");
  const Placement current = policy->place(c);
  c.expert_loads = {after};
  const double stale = makespan(current, c);
  c.current = &current;
  const Placement refined = policy->place(c);
  REQUIRE(placement_problem(refined, 1, 64).empty());
  const auto changed = [&](const Placement& p) {
    int n = 0;
    for (std::size_t s = 0; s < 64; ++s)
      n += p.physical_to_logical[0][s] != current.physical_to_logical[0][s];
    return n;
  };
  c.current = nullptr;
  const Placement full = policy->place(c);
  MESSAGE("stale ", stale, "; refined ", makespan(refined, c), " changing ", changed(refined),
          " slots; full re-solve ", makespan(full, c), " changing ", changed(full));
  CHECK(makespan(refined, c) < stale);
  CHECK(changed(refined) > 0);
  CHECK(changed(refined) * 2 < changed(full));
}

namespace {

// Zipf-1.5 loads (20,000 / rank^1.5, shuffled) on 32 GPUs of speeds 0.97-1.03
// with 9 slots each: EPLB's replica counts leave heavy replicas that no three
// of a GPU's slots sum to its share.
PlacementContext strongly_skewed_context(std::uint64_t seed) {
  PlacementContext c;
  c.num_experts = 256;
  c.num_gpus = 32;
  c.max_slots_per_gpu = 9;
  RandomEngine rng(seed);
  for (int l = 0; l < 2; ++l) {
    std::vector<double> w;
    for (int e = 0; e < c.num_experts; ++e) w.push_back(std::round(20'000 / std::pow(e + 1, 1.5)));
    std::shuffle(w.begin(), w.end(), rng);
    c.expert_loads.push_back(std::move(w));
  }
  for (int g = 0; g < c.num_gpus; ++g)
    c.gpu_latency.push_back(LatencyCurve::proportional(1 + 0.03 * ((g * 7) % 11 - 5) / 5));
  return c;
}

}  // namespace

TEST_CASE(
    "latency_lpt_counts re-counts replicas to within 0.5 % of the fluid bound under strong "
    "skew, where latency_lpt stays above it") {
  const auto& registry = PolicyRegistry::builtin();
  const auto c = strongly_skewed_context(3);
  const auto lpt = registry.make("latency_lpt")->place(c);
  const auto counts = registry.make("latency_lpt_counts")->place(c);
  for (int l = 0; l < c.num_layers(); ++l) {
    CAPTURE(l);
    const auto& w = c.expert_loads[static_cast<std::size_t>(l)];
    const double bound = latency_lower_bound_ns(w, c.gpu_latency, c.num_gpus);
    const double before = predicted_layer_latency_ns(lpt, l, c, c.gpu_latency);
    const double after = predicted_layer_latency_ns(counts, l, c, c.gpu_latency);
    CHECK(before > 1.05 * bound);  // the case the search is for
    CHECK(after < 1.005 * bound);
    // Still a valid layout: every expert placed, at most one replica per GPU.
    CHECK(placement_problem(counts, c.num_layers(), c.num_experts).empty());
    const auto& slots = counts.physical_to_logical[static_cast<std::size_t>(l)];
    std::vector<int> replicas(w.size(), 0);
    for (int e : slots) ++replicas[static_cast<std::size_t>(e)];
    CHECK(std::count(replicas.begin(), replicas.end(), 0) == 0);
    const int per_gpu = c.max_slots_per_gpu;
    for (int g = 0; g < c.num_gpus; ++g) {
      std::vector<int> on_gpu(slots.begin() + g * per_gpu, slots.begin() + (g + 1) * per_gpu);
      std::sort(on_gpu.begin(), on_gpu.end());
      CHECK(std::adjacent_find(on_gpu.begin(), on_gpu.end()) == on_gpu.end());
    }
  }
}

TEST_CASE(
    "latency_lpt_counts never predicts a layer slower than latency_lpt, and without "
    "redundant slots it is latency_lpt") {
  const auto& registry = PolicyRegistry::builtin();
  RandomEngine rng(11);
  std::uniform_real_distribution<double> load(0, 1000), speed(0.9, 1.1);
  for (int instance = 0; instance < 12; ++instance) {
    CAPTURE(instance);
    PlacementContext c;
    c.num_experts = 24;
    c.num_gpus = 4;
    c.max_slots_per_gpu = 6 + instance % 3;  // 0, 1 or 2 redundant slots per GPU
    std::vector<double> w;
    for (int e = 0; e < c.num_experts; ++e) w.push_back(std::round(load(rng) * load(rng) / 1000));
    c.expert_loads = {w};
    for (int g = 0; g < c.num_gpus; ++g)
      c.gpu_latency.push_back(LatencyCurve::proportional(speed(rng)));
    const auto lpt = registry.make("latency_lpt")->place(c);
    const auto counts = registry.make("latency_lpt_counts")->place(c);
    CHECK(predicted_layer_latency_ns(counts, 0, c, c.gpu_latency) <=
          predicted_layer_latency_ns(lpt, 0, c, c.gpu_latency));
    if (c.max_slots_per_gpu == 6) CHECK(counts.physical_to_logical == lpt.physical_to_logical);
  }
}
