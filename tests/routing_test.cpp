#include <doctest/doctest.h>

#include <algorithm>
#include <numeric>
#include <random>
#include <vector>

#include "base/random_engine.h"
#include "fixtures.h"
#include "io/config_error.h"
#include "traces/count_trace_routing.h"
#include "traces/synthetic_routing.h"
#include "traces/token_trace_routing.h"

using namespace vibesim;

namespace {
std::int64_t sum(std::span<const std::int32_t> c) {
  return std::accumulate(c.begin(), c.end(), std::int64_t{0});
}
SyntheticRoutingSpec zipf_spec(double exponent, int pool_size) {
  SyntheticRoutingSpec spec;
  spec.zipf_exponent = exponent;
  spec.pool_size = pool_size;
  return spec;
}

}  // namespace

TEST_CASE(
    "synthetic routing assigns exactly tokens x top_k per batch with no expert above the token "
    "count") {
  SyntheticRouting r(3, 64, 8, zipf_spec(1.2, 16), 11, 12);
  for (int i = 0; i < 40; ++i) {
    const auto c = r.next_counts({i % 3, 512});
    CHECK(sum(c) == 512 * 8);
    CHECK(*std::max_element(c.begin(), c.end()) <= 512);
  }
}

TEST_CASE("synthetic routing draws the same counts on any number of threads") {
  // Batch sizes first asked for by different layers, a drift in between, a
  // dispersed spec (Dirichlet shares) and one without; every pick compared.
  for (const double dispersion : {0.0, 0.5}) {
    auto spec = zipf_spec(1.1, 8);
    spec.dispersion.coefficient = dispersion;
    spec.drift_at_batches = {5};
    SyntheticRouting one(5, 48, 4, spec, 21, 22, 1);
    SyntheticRouting three(5, 48, 4, spec, 21, 22, 3);
    for (int i = 0; i < 60; ++i) {
      const RoutingRequest request{(i * 3) % 5, std::int64_t{1} << (i % 7)};
      const auto a = one.next_counts(request);
      const auto b = three.next_counts(request);
      REQUIRE(std::equal(a.begin(), a.end(), b.begin(), b.end()));
    }
  }
}

TEST_CASE("synthetic routing gives each layer its own hot set and caps popularity at 1/top_k") {
  SyntheticRouting r(4, 64, 8, zipf_spec(2.0, 4), 5, 6);
  std::vector<std::size_t> hottest;
  for (const auto& p : r.popularity()) {
    CHECK(std::accumulate(p.begin(), p.end(), 0.0) == doctest::Approx(1.0));
    CHECK(*std::max_element(p.begin(), p.end()) <= 1.0 / 8 + 1e-12);
    hottest.push_back(static_cast<std::size_t>(std::max_element(p.begin(), p.end()) - p.begin()));
  }
  std::sort(hottest.begin(), hottest.end());
  CHECK(std::unique(hottest.begin(), hottest.end()) - hottest.begin() > 1);
}

TEST_CASE(
    "synthetic routing is unbiased: mean counts over the pool match tokens x top_k x popularity") {
  const std::int64_t tokens = 4096;
  SyntheticRouting r(1, 32, 4, zipf_spec(0.8, 2000), 1, 2);
  std::vector<double> mean(32, 0.0);
  const int draws = 4000;
  for (int i = 0; i < draws; ++i) {
    const auto c = r.next_counts({0, tokens});
    for (std::size_t e = 0; e < 32; ++e) mean[e] += c[e] / static_cast<double>(draws);
  }
  const auto& p = r.popularity()[0];
  for (std::size_t e = 0; e < 32; ++e) {
    const double expected = static_cast<double>(tokens * 4) * p[e];
    // Standard error of the mean of ~2000 distinct pool draws: sqrt(np(1-p)/2000) < 1.2 tokens
    // here.
    CHECK(mean[e] == doctest::Approx(expected).epsilon(0.02));
  }
}

TEST_CASE(
    "synthetic routing: rewind replays the same batches and a different seed gives different "
    "ones") {
  SyntheticRouting a(2, 16, 2, SyntheticRoutingSpec{}, 1, 2),
      b(2, 16, 2, SyntheticRoutingSpec{}, 1, 3);
  std::vector<std::vector<std::int32_t>> first;
  for (int i = 0; i < 10; ++i) {
    const auto c = a.next_counts({i % 2, 100});
    first.emplace_back(c.begin(), c.end());
  }
  a.rewind();
  int different = 0;
  for (int i = 0; i < 10; ++i) {
    const auto c = a.next_counts({i % 2, 100});
    CHECK(std::vector<std::int32_t>(c.begin(), c.end()) == first[static_cast<std::size_t>(i)]);
    const auto d = b.next_counts({i % 2, 100});
    different +=
        std::vector<std::int32_t>(d.begin(), d.end()) != first[static_cast<std::size_t>(i)];
  }
  CHECK(different > 5);
}

TEST_CASE("rescale_counts keeps proportions and hits the target exactly within the cap") {
  std::vector<std::int32_t> c{10, 30, 60};
  rescale_counts(c, 50, 100);
  CHECK(c == std::vector<std::int32_t>{5, 15, 30});
  std::vector<std::int32_t> d{1, 1, 1};
  rescale_counts(d, 4, 10);
  // Running sums 1, 2, 3 scaled by 4/3 round to 1, 3, 4.
  CHECK(d == std::vector<std::int32_t>{1, 2, 1});
  std::vector<std::int32_t> e{100, 1, 1};
  rescale_counts(e, 30, 20);
  CHECK(e == std::vector<std::int32_t>{20, 5, 5});  // capped: largest remainder, re-spread
}

TEST_CASE("count trace layers map in order and steps wrap and counts rescale to the batch") {
  testing::TempDir dir("count-trace");
  const auto path = dir.write("t.csv",
                              "step,layer,expert,count\n"
                              "0,5,0,6\n0,5,1,2\n0,7,2,8\n"
                              "1,5,3,8\n1,7,0,4\n1,7,1,4\n");
  CountTraceRouting r(path, 2, 4, 2);
  CHECK(r.num_steps() == 2);
  CHECK(r.num_trace_layers() == 2);
  auto c = r.next_counts({0, 4});  // step 0, trace layer 5
  CHECK(std::vector<std::int32_t>(c.begin(), c.end()) == std::vector<std::int32_t>{6, 2, 0, 0});
  c = r.next_counts({1, 4});  // step 0, trace layer 7
  CHECK(std::vector<std::int32_t>(c.begin(), c.end()) == std::vector<std::int32_t>{0, 0, 8, 0});
  c = r.next_counts({1, 2});  // step 1 of layer 7, rescaled from 8 to 2 x 2 assignments
  CHECK(std::vector<std::int32_t>(c.begin(), c.end()) == std::vector<std::int32_t>{2, 2, 0, 0});
  c = r.next_counts({0, 4});  // step 1 of layer 5
  CHECK(std::vector<std::int32_t>(c.begin(), c.end()) == std::vector<std::int32_t>{0, 0, 0, 8});
  c = r.next_counts({0, 4});  // wrapped to step 0
  CHECK(c[0] == 6);
}

TEST_CASE("count trace: an expert id out of range is an error naming the file and line") {
  testing::TempDir dir("count-trace-bad");
  const auto path = dir.write("bad.csv", "step,layer,expert,count\n0,0,1,5\n0,0,9,5\n");
  CHECK_THROWS_WITH_AS(CountTraceRouting(path, 1, 4, 2),
                       doctest::Contains("bad.csv:3: expert id 9 is out of range [0, 4)"),
                       InputError);
}

TEST_CASE("count trace header and field errors name the line") {
  testing::TempDir dir("count-trace-fields");
  CHECK_THROWS_WITH_AS(CountTraceRouting(dir.write("h.csv", "step,layer,count\n"), 1, 4, 2),
                       doctest::Contains("h.csv:1: not a routing trace"), InputError);
  CHECK_THROWS_WITH_AS(
      CountTraceRouting(dir.write("f.csv", "step,layer,expert,count\n0,0,1,x\n"), 1, 4, 2),
      doctest::Contains("f.csv:2: column 'count' is not an integer"), InputError);
  CHECK_THROWS_WITH_AS(
      CountTraceRouting(dir.write("n.csv", "step,layer,expert,count\n0,0,1,-3\n"), 1, 4, 2),
      doctest::Contains("n.csv:2: column 'count' is negative"), InputError);
  CHECK_THROWS_WITH_AS(CountTraceRouting(dir.write("e.csv", "step,layer,expert,count\n"), 1, 4, 2),
                       doctest::Contains("e.csv: no data rows"), InputError);
}

TEST_CASE(
    "synthetic routing drifts to a new hot set at the given batch and rewinds to the old one") {
  SyntheticRoutingSpec spec;
  spec.zipf_exponent = 1.5;
  spec.drift_at_batches = {3};
  SyntheticRouting r(1, 32, 2, spec, 1, 2);
  const auto hottest = [](std::span<const double> p) {
    return std::max_element(p.begin(), p.end()) - p.begin();
  };
  REQUIRE(hottest(r.popularity(0)[0]) != hottest(r.popularity(1)[0]));
  const auto hottest_count = [&] {
    const auto c = r.next_counts({0, 4096});
    return std::max_element(c.begin(), c.end()) - c.begin();
  };
  for (int batch = 0; batch < 3; ++batch) CHECK(hottest_count() == hottest(r.popularity(0)[0]));
  for (int batch = 3; batch < 6; ++batch) CHECK(hottest_count() == hottest(r.popularity(1)[0]));
  r.rewind();
  CHECK(hottest_count() == hottest(r.popularity(0)[0]));
}

TEST_CASE("the multinomial sampler: few assignments are drawn one by one and respect the cap") {
  RandomEngine rng(3);
  const std::vector<double> p(16, 1.0 / 16);
  for (int trial = 0; trial < 200; ++trial) {
    const auto c = draw_multinomial(5, p, 1, rng);  // 5 tokens of top-1... capped at 1 each
    CHECK(std::accumulate(c.begin(), c.end(), 0) == 5);
    CHECK(*std::max_element(c.begin(), c.end()) <= 1);
  }
  // Unbiased when the cap does not bind: frequencies follow p.
  const std::vector<double> skewed = {0.5, 0.25, 0.125, 0.125};
  std::vector<double> total(4, 0.0);
  for (int trial = 0; trial < 20000; ++trial) {
    const auto c = draw_multinomial(3, skewed, 3, rng);
    for (std::size_t e = 0; e < 4; ++e) total[e] += c[e];
  }
  for (std::size_t e = 0; e < 4; ++e)
    CHECK(total[e] / (3.0 * 20000) == doctest::Approx(skewed[e]).epsilon(0.03));
}

TEST_CASE("the multinomial sampler ends when the experts with room have no probability left") {
  // One expert holds all the mass (a fitted popularity from a tiny trace):
  // 5 tokens of top-8 over 64 experts. Drawn one by one, every draw after the
  // fifth landed on the capped expert and the sampler used to redraw for ever.
  RandomEngine rng(11);
  std::vector<double> one_hot(64, 0.0);
  one_hot[3] = 1.0;
  const auto c = draw_multinomial(40, one_hot, 5, rng);
  CHECK(c[3] == 5);
  CHECK(std::accumulate(c.begin(), c.end(), 0) == 40);
  CHECK(*std::max_element(c.begin(), c.end()) <= 5);
  // The rest go to the experts with room in order of popularity (ties: lower id).
  CHECK(c[0] == 1);
  CHECK(c[35] == 1);
  CHECK(c[36] == 0);
  const auto none = draw_multinomial(40, std::vector<double>(64, 0.0), 5, rng);  // no mass at all
  CHECK(std::accumulate(none.begin(), none.end(), 0) == 40);
}

TEST_CASE("the multinomial sampler: a cap that binds re-spreads the excess, most popular first") {
  RandomEngine rng(5);
  std::vector<double> p(10, 0.01);
  p[0] = 0.91;
  const auto c = draw_multinomial(100, p, 15, rng);
  CHECK(std::accumulate(c.begin(), c.end(), 0) == 100);
  CHECK(c[0] == 15);
  CHECK(*std::max_element(c.begin(), c.end()) <= 15);
}

TEST_CASE("count trace: repeated cells that overflow and scattered ids are refused up front") {
  testing::TempDir dir("count-trace-limits");
  CHECK_THROWS_WITH_AS(
      CountTraceRouting(dir.write("o.csv",
                                  "step,layer,expert,count\n0,0,1,2000000000\n"
                                  "0,0,1,2000000000\n"),
                        1, 4, 2),
      doctest::Contains("o.csv:3: the count of step 0, layer 0, expert 1 exceeds 2147483647"),
      InputError);
  // 2,000 rows on distinct steps and layers: 4 million dense (step, layer) cells x 256 experts.
  std::string scattered = "step,layer,expert,count\n";
  for (int i = 0; i < 2000; ++i)
    scattered += std::to_string(i) + "," + std::to_string(i) + ",0,1\n";
  const TraceMapping pad{LayerMapping::kCycle, ExpertMapping::kPad};
  CHECK_THROWS_WITH_AS(CountTraceRouting(dir.write("s.csv", scattered), 2000, 256, 2, pad),
                       doctest::Contains("s.csv: 2000 steps x 2000 layers x 256 experts"),
                       InputError);
}

TEST_CASE("token trace: the next n tokens of each layer, counted, wrapping at the end") {
  testing::TempDir dir("token-trace");
  const auto csv = dir.write("t.csv",
                             "layer,token_idx,e1,e2,s1,s2\n"
                             "2,0,0,1,0.5,0.4\n2,1,1,2,0.5,0.4\n2,2,3,0,0.5,0.4\n"
                             "5,0,2,3,0.5,0.4\n5,1,2,1,0.5,0.4\n");
  TokenTraceRouting r(csv, 2, 4, 2);
  CHECK(r.num_trace_layers() == 2);
  const auto v = [](std::span<const std::int32_t> c) {
    return std::vector<std::int32_t>(c.begin(), c.end());
  };
  CHECK(v(r.next_counts({0, 2})) == std::vector<std::int32_t>{1, 2, 1, 0});  // tokens 0, 1
  CHECK(v(r.next_counts({0, 2})) == std::vector<std::int32_t>{2, 1, 0, 1});  // tokens 2, 0 (wrap)
  CHECK(v(r.next_counts({1, 1})) == std::vector<std::int32_t>{0, 0, 1, 1});  // layer id 5
  r.rewind();
  CHECK(v(r.next_counts({0, 1})) == std::vector<std::int32_t>{1, 1, 0, 0});
  // Cycle: 2 trace layers serve 4 MoE layers; MoE layer 3 replays trace layer 1 (id 5).
  TokenTraceRouting cycled(csv, 4, 4, 2, {LayerMapping::kCycle});
  CHECK(v(cycled.next_counts({3, 2})) == std::vector<std::int32_t>{0, 1, 2, 1});
}

TEST_CASE("token trace errors name the file and the line") {
  testing::TempDir dir("token-trace-bad");
  const auto header = std::string("layer,e1,e2\n");
  CHECK_THROWS_WITH_AS(
      TokenTraceRouting(dir.write("m.csv", header + "0,0,1\n"), 3, 2, 2),
      doctest::Contains("m.csv: the trace has 1 layers and the model 3 MoE layers"), InputError);
  CHECK_THROWS_WITH_AS(
      TokenTraceRouting(dir.write("k.csv", header + "0,0,1\n"), 1, 4, 3),
      doctest::Contains("k.csv: the trace routes each token to 2 experts, the model to 3"),
      InputError);
  CHECK_THROWS_WITH_AS(TokenTraceRouting(dir.write("e.csv", header + "0,0,9\n"), 1, 4, 2),
                       doctest::Contains("e.csv:2: column 'e2' is not an id in [0, 4): '9'"),
                       InputError);
  CHECK_THROWS_WITH_AS(TokenTraceRouting(dir.write("d.csv", header + "0,1,1\n"), 1, 4, 2),
                       doctest::Contains("d.csv:2: expert 1 appears twice for one token"),
                       InputError);
}

TEST_CASE("the shipped FLAME-MoE trace reads whole: 8 layers of 2,048 tokens, top-6 of 64") {
  const auto csv = testing::data_dir() / "routing" / "flame-moe-290m" /
                   "flame-moe-290m_iter5473_layers2-9_32seqx64tok_top6.csv";
  REQUIRE_MESSAGE(std::filesystem::exists(csv), csv.string(), " is missing: data/ ships it");
  TokenTraceRouting r(csv, 8, 64, 6);
  CHECK(r.num_trace_layers() == 8);
  for (std::size_t l = 0; l < 8; ++l) CHECK(r.tokens_in_layer(l) == 2048);
  const auto c = r.next_counts({0, 2048});
  CHECK(std::accumulate(c.begin(), c.end(), 0) == 2048 * 6);
}

TEST_CASE("rotating drift moves each expert up the popularity order; the hottest becomes coldest") {
  SyntheticRoutingSpec spec = zipf_spec(1.0, 4);
  spec.drift_at_batches = {2, 4};
  spec.drift_kind = DriftKind::kRotate;
  spec.rotate_ranks = 1;
  SyntheticRouting r(1, 16, 2, spec, 3, 4);
  const auto& p0 = r.popularity(0)[0];
  std::vector<std::size_t> order(16);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) { return p0[a] > p0[b]; });
  for (std::size_t epoch = 1; epoch <= 2; ++epoch) {
    const auto& p = r.popularity(epoch)[0];
    for (std::size_t rank = 0; rank < 16; ++rank)
      CHECK(p[order[rank]] == p0[order[(rank + 16 - epoch) % 16]]);
  }
  CHECK(r.popularity(1)[0][order[0]] == *std::min_element(p0.begin(), p0.end()));
  CHECK(r.popularity(1)[0][order[1]] == *std::max_element(p0.begin(), p0.end()));
}
