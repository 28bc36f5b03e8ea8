// Attention, dense FFN and all-reduce costs: exact values on round numbers.
#include <doctest/doctest.h>

#include "fixtures.h"
#include "models/dense_layer_cost.h"

using namespace vibesim;

TEST_CASE("tensor-parallel attention splits its weights; DP attention reads them whole") {
  const auto m = testing::toy_model();  // gqa 8 heads x 125, d = 1000, bf16
  const BatchShape batch{100, 0, 0};
  const auto tp = dense_layer_work(m, batch, true, true, 4);
  const auto dp = dense_layer_work(m, batch, true, false, 4);
  const double weight_bytes = static_cast<double>(m.attention_weight_params()) * 2.0;
  CHECK(tp.attention_bytes == doctest::Approx(weight_bytes / 4));
  CHECK(dp.attention_bytes == doctest::Approx(weight_bytes));
  CHECK(tp.attention_flops == dp.attention_flops);  // each GPU attends for 1/G of the work
  CHECK(tp.ffn_flops == 0);                         // no shared experts
}

TEST_CASE("all-reduce: a mesh exchanges shards over every link at once, a switch rings") {
  InterconnectSpec mesh{"mesh", 1e9, 1.0, 0, 0};  // 1 byte/ns, 1 us
  CHECK(all_reduce_ns(mesh, 8000, 8) == doctest::Approx(2 * (1000 + 1000)));
  InterconnectSpec sw{"switch", 1e9, 1.0, 0, 0};
  CHECK(all_reduce_ns(sw, 8000, 8) == doctest::Approx(2.0 * 7 / 8 * 8000 + 2 * 7 * 1000));
  CHECK(all_reduce_ns(mesh, 8000, 1) == 0);
}

TEST_CASE("all-reduce at a fraction of link bandwidth, never under the latency floor") {
  InterconnectSpec mesh{"mesh", 1e9, 1.0, 0, 0};
  mesh.collective_bandwidth_efficiency = 0.5;  // 0.5 byte/ns: each shard of 1000 B takes 2000 ns
  CHECK(all_reduce_ns(mesh, 8000, 8) == doctest::Approx(2 * (2000 + 1000)));
  mesh.collective_latency_floor_us = 10;  // above the 6000 ns the transfer takes
  CHECK(all_reduce_ns(mesh, 8000, 8) == doctest::Approx(10'000));
  CHECK(all_reduce_ns(mesh, 8e6, 8) == doctest::Approx(2 * (2e6 + 1000)));  // above the floor
}
