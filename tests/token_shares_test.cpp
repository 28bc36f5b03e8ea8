// Speed-aware token shares (policies/token_shares) and `latency_lpt_shares`
// on hand-computed cases.
#include <doctest/doctest.h>

#include <algorithm>
#include <vector>

#include "models/placement.h"
#include "policies/policy_registry.h"
#include "policies/token_shares.h"

using namespace vibesim;

namespace {

std::vector<LatencyCurve> speeds(std::vector<double> tokens_per_ns) {
  std::vector<LatencyCurve> f;
  for (double s : tokens_per_ns) f.push_back(LatencyCurve::proportional(s));
  return f;
}

double max_latency(const Placement& p, const std::vector<double>& loads,
                   const std::vector<LatencyCurve>& f) {
  const auto tokens = gpu_tokens(p, 0, loads);
  double worst = 0;
  for (std::size_t g = 0; g < tokens.size(); ++g)
    worst = std::max(worst, f[g].latency_ns(tokens[g]));
  return worst;
}

}  // namespace

TEST_CASE("a replica on a GPU twice as fast takes twice the tokens") {
  // GPU 0 = {0, 1}, GPU 1 = {0, 2}; expert 0 (300 tokens) on both; GPU 1 runs 2 tokens/ns.
  const std::vector<int> slots{0, 1, 0, 2};
  const auto f = speeds({1, 2});
  auto shares = balanced_token_shares(slots, 2, std::vector<double>{300, 0, 0}, f);
  // x / 1 = (300 - x) / 2: x = 100, both finish at 100 ns.
  CHECK(shares[0] == doctest::Approx(1.0 / 3).epsilon(1e-6));
  CHECK(shares[2] == doctest::Approx(2.0 / 3).epsilon(1e-6));
  CHECK(shares[1] == 1.0);
  CHECK(shares[3] == 1.0);
  // With 60 fixed tokens of expert 1 on GPU 0: x + 60 = (300 - x) / 2, x = 60, 120 ns.
  shares = balanced_token_shares(slots, 2, std::vector<double>{300, 60, 0}, f);
  CHECK(shares[0] == doctest::Approx(0.2).epsilon(1e-6));
  CHECK(shares[2] == doctest::Approx(0.8).epsilon(1e-6));
}

TEST_CASE("token shares leave a replica idle when its GPU is already the slowest to finish") {
  // GPU 0 holds expert 1 (500 tokens) and a replica of expert 0 (100 tokens);
  // equal speeds: GPU 1 takes all of expert 0 and still finishes first.
  const std::vector<int> slots{1, 0, 0, 2};
  const auto shares =
      balanced_token_shares(slots, 2, std::vector<double>{100, 500, 0}, speeds({1, 1}));
  CHECK(shares[1] == doctest::Approx(0.0).epsilon(1e-6));
  CHECK(shares[2] == doctest::Approx(1.0).epsilon(1e-6));
}

TEST_CASE("below the largest latency, the next ones are balanced too (lexicographic min-max)") {
  // GPU 0 = {1, 3}: expert 1 alone sets the maximum (1,000 ns). Expert 0 (300
  // tokens) on GPUs 1 and 2; expert 2 (100) on GPU 1: any split keeps the
  // maximum, but only 100 + x = 300 - x, x = 100, also balances GPUs 1 and 2.
  const std::vector<int> slots{1, 3, 0, 2, 0, 4};
  const auto shares =
      balanced_token_shares(slots, 2, std::vector<double>{300, 1000, 100, 0, 0}, speeds({1, 1, 1}));
  CHECK(shares[2] == doctest::Approx(1.0 / 3).epsilon(1e-6));
  CHECK(shares[4] == doctest::Approx(2.0 / 3).epsilon(1e-6));
}

TEST_CASE("tokens too few to count in flow units still get shares that sum to 1") {
  // Expert 1 (1e-7 tokens, under one 2^-20 unit) has replicas on both GPUs.
  const std::vector<int> slots{0, 1, 1, 2};
  const auto shares =
      balanced_token_shares(slots, 2, std::vector<double>{1e-7, 1e-7, 1e-7}, speeds({1, 3}));
  CHECK(shares[1] + shares[2] == doctest::Approx(1.0));
  CHECK(shares[1] == doctest::Approx(0.5));
}

TEST_CASE("experts without a choice keep even shares, including two replicas on one GPU") {
  const std::vector<int> slots{0, 0, 1, 2};
  const auto shares =
      balanced_token_shares(slots, 2, std::vector<double>{100, 50, 50}, speeds({1, 3}));
  CHECK(shares == std::vector<double>{0.5, 0.5, 1, 1});
}

TEST_CASE("latency_lpt_shares predicts no worse than latency_lpt and carries valid shares") {
  // 8 experts, Zipf-like loads, 4 GPUs of unequal speed, one redundant slot each.
  PlacementContext c;
  c.num_experts = 8;
  c.num_gpus = 4;
  c.max_slots_per_gpu = 3;
  const std::vector<double> loads{800, 400, 260, 200, 160, 130, 110, 100};
  c.expert_loads = {loads};
  c.gpu_latency = speeds({1.0, 1.2, 0.8, 1.1});
  const auto registry = PolicyRegistry::builtin();
  const auto lpt = registry.make("latency_lpt")->place(c);
  const auto shared = registry.make("latency_lpt_shares")->place(c);
  CHECK(placement_problem(shared, 1, 8) == "");
  CHECK(shared.physical_to_logical == lpt.physical_to_logical);
  REQUIRE(shared.has_replica_shares());
  const double even = max_latency(lpt, loads, c.gpu_latency);
  const double weighted = max_latency(shared, loads, c.gpu_latency);
  CHECK(weighted < even);  // here the shares strictly help
  // The fluid bound: all 2,160 tokens spread over 4.1 tokens/ns.
  CHECK(weighted >= 2160 / 4.1 * (1 - 1e-6));
  MESSAGE("latency_lpt ", even, " ns, latency_lpt_shares ", weighted, " ns");
}
