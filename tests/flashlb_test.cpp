// `flashlb` (policies/impl/flashlb_placement.cpp) on hand-checked cases.
#include <doctest/doctest.h>

#include <random>

#include "base/random_engine.h"
#include "models/placement.h"
#include "policies/policy_registry.h"

using namespace vibesim;

namespace {

using Windows = std::vector<std::vector<std::vector<double>>>;

PlacementContext context(int experts, int gpus, int slots, Windows windows) {
  PlacementContext c;
  c.num_experts = experts;
  c.num_gpus = gpus;
  c.max_slots_per_gpu = slots;
  for (const auto& layer : windows) {
    std::vector<double> mean(static_cast<std::size_t>(experts), 0);
    for (const auto& w : layer)
      for (std::size_t e = 0; e < mean.size(); ++e)
        mean[e] += w[e] / static_cast<double>(layer.size());
    c.expert_loads.push_back(mean);
  }
  c.load_windows = std::make_shared<const Windows>(std::move(windows));
  return c;
}

Placement flashlb(const PlacementContext& c) {
  return PolicyRegistry::builtin().make("flashlb")->place(c);
}

}  // namespace

TEST_CASE("flashlb without redundant slots: LPT by load onto the least risky GPU with room") {
  // One window (no variance): e0 (10) -> GPU 0 (tie, lowest), e3 (8) -> GPU 1, e1 (1) -> GPU 1
  // (9 < 11), e2 (1) -> GPU 0, GPU 1 being full.
  const auto p = flashlb(context(4, 2, 2, {{{10, 1, 1, 8}}}));
  CHECK(p.physical_to_logical[0] == std::vector<int>{0, 2, 3, 1});
}

TEST_CASE("flashlb's tree search gives the hot expert the replica that balances the windows") {
  // 2 redundant slots. Node 0 (expert 0): the proportional start gives it 1 extra replica;
  // with it the LPT deployment balances 18/18 (score 1.0), without it 32/4 (1.78), and 2 extra
  // exceed the 2 GPUs. Node 1 (expert 1) keeps the start, 1 extra (a tie at 1.0 keeps the
  // first candidate), which uses up the budget. LPT: e0's replicas on GPUs 0 and 1 (15 each),
  // e2 -> GPU 0, e3 -> GPU 1, e1's replicas on GPUs 0 and 1.
  const auto p = flashlb(context(4, 2, 3, {{{30, 2, 2, 2}}}));
  CHECK(p.physical_to_logical[0] == std::vector<int>{0, 2, 1, 0, 3, 1});
}

TEST_CASE("flashlb pairs anti-correlated experts: covariance enters each GPU's risk") {
  // Equal means (5); experts 0 and 1 are hot together, then 2 and 3. Sample variances 50,
  // covariances +50 within a pair and -50 across. e1 avoids e0's GPU (risk 19.5 against 9.8);
  // e2 then ties at risk 10 on both and goes to GPU 0; e3 fills GPU 1.
  const auto p = flashlb(context(4, 2, 2, {{{10, 10, 0, 0}, {0, 0, 10, 10}}}));
  CHECK(p.physical_to_logical[0] == std::vector<int>{0, 2, 1, 3});
}

TEST_CASE("flashlb re-placing relabels GPUs to keep experts where they were") {
  auto c = context(4, 2, 2, {{{10, 10, 0, 0}, {0, 0, 10, 10}}});
  const Placement current{2, 2, {{1, 3, 0, 2}}};
  c.current = &current;
  // The fresh deployment {0, 2} | {1, 3} goes onto the GPUs that hold those experts now.
  CHECK(flashlb(c).physical_to_logical[0] == std::vector<int>{1, 3, 0, 2});
}

TEST_CASE("flashlb on the DeepSeek-V3 shape: a valid placement, replicas on distinct GPUs") {
  RandomEngine rng(7);
  std::gamma_distribution<double> popularity(0.5, 1.0);
  Windows windows(2);
  for (auto& layer : windows) {
    std::vector<double> base(256);
    for (auto& b : base) b = popularity(rng) * 100;
    for (int t = 0; t < 8; ++t) {
      std::vector<double> w(256);
      std::poisson_distribution<int> noise(1.0);
      for (std::size_t e = 0; e < w.size(); ++e) w[e] = base[e] + 10 * noise(rng);
      layer.push_back(w);
    }
  }
  const auto c = context(256, 32, 9, windows);
  const auto p = flashlb(c);
  CHECK(placement_problem(p, 2, 256).empty());
  for (const auto& layer : p.physical_to_logical)
    for (int g = 0; g < 32; ++g) {
      std::vector<int> on_gpu(layer.begin() + g * 9, layer.begin() + (g + 1) * 9);
      std::sort(on_gpu.begin(), on_gpu.end());
      CHECK(std::adjacent_find(on_gpu.begin(), on_gpu.end()) == on_gpu.end());
    }
}
