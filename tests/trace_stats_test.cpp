// `vibesim trace stats`: skew, GPU imbalance and step-to-step variation, on
// traces small enough to compute by hand.
#include <doctest/doctest.h>

#include <cmath>

#include <nlohmann/json.hpp>

#include "fixtures.h"
#include "traces/trace_format.h"
#include "traces/trace_stats.h"

using namespace vibesim;

TEST_CASE("trace stats of a per-token trace, by hand") {
  testing::TempDir dir("trace-stats");
  // Layer 0: experts 0, 0, 0, 1 (top-1); 4 experts; steps of 2 tokens.
  const auto csv = dir.write("t.csv",
                             "layer,token_idx,e1\n0,0,0\n0,1,0\n0,2,0\n0,3,1\n"
                             "1,0,3\n1,1,2\n1,2,3\n1,3,2\n");
  auto trace = count_tokens(read_token_trace(csv), 2);
  pad_experts(trace, 4);
  CHECK(trace.top_k == 1);
  const auto s = trace_stats(trace, 2);
  REQUIRE(s.size() == 2);
  CHECK(s[0].steps == 2);
  CHECK(s[0].assignments == 4);
  CHECK(s[0].max_over_mean == doctest::Approx(3.0));  // counts 3, 1, 0, 0: mean 1
  CHECK(s[0].cv == doctest::Approx(std::sqrt(1.5)));  // population sd sqrt(6/4)
  CHECK(s[0].top_expert == 0);
  CHECK(s[0].top_expert_share == doctest::Approx(0.75));
  CHECK(s[0].busiest_gpu_over_mean == doctest::Approx(2.0));  // GPU 0 holds experts 0 and 1
  CHECK(s[0].lightest_gpu_over_mean == doctest::Approx(0.0));
  // Expert 0: 2 then 1 (cv 1/3); expert 1: 0 then 1 (cv 1).
  CHECK(s[0].step_cv == doctest::Approx((1.0 / 3 + 1.0) / 2));
  CHECK(s[1].busiest_gpu_over_mean == doctest::Approx(2.0));  // all on GPU 1
  CHECK(s[1].step_cv == doctest::Approx(0.0));                // 1 and 1 each step
}

TEST_CASE("trace stats of a per-step count trace, and its errors") {
  testing::TempDir dir("trace-stats-counts");
  const auto csv =
      dir.write("c.csv", "step,layer,expert,count\n0,5,0,6\n0,5,1,2\n1,5,0,2\n1,5,1,6\n");
  const auto r = testing::cli({"trace", "stats", csv.string(), "--gpus", "2", "--json"});
  INFO(r.err);
  REQUIRE(r.status == 0);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j["format"] == "count_csv");
  CHECK(j["experts"] == 2);
  CHECK(j["layers"][0]["layer"] == 5);
  CHECK(j["layers"][0]["max_over_mean"].get<double>() == doctest::Approx(1.0));
  CHECK(j["layers"][0]["step_cv"].get<double>() == doctest::Approx(0.5));  // 6, 2: sd 2, mean 4
  const auto bad = testing::cli({"trace", "stats", csv.string(), "--gpus", "3"});
  CHECK(bad.status == 2);
  CHECK(bad.err.find("--gpus: 3 does not divide the trace's 2 experts") != std::string::npos);
}

TEST_CASE("trace stats reads the shipped FLAME-MoE trace") {
  const auto csv = testing::data_dir() / "routing" / "flame-moe-290m" /
                   "flame-moe-290m_iter5473_layers2-9_32seqx64tok_top6.csv";
  const auto trace = count_tokens(read_token_trace(csv), 512);
  CHECK(trace.top_k == 6);
  CHECK(trace.num_experts == 64);
  const auto s = trace_stats(trace, 8);
  REQUIRE(s.size() == 8);
  CHECK(s[0].layer_id == 2);
  CHECK(s[0].steps == 4);
  CHECK(s[0].assignments == 2048 * 6);
}
