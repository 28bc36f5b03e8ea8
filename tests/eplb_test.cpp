#include <doctest/doctest.h>

#include <vector>

#include "policies/eplb.h"

using namespace vibesim;

TEST_CASE(
    "EPLB reproduces the known answer of its README (16 replicas and 4 groups on 2 nodes of 4 "
    "GPUs)") {
  const std::vector<std::vector<double>> weight = {
      {90, 132, 40, 61, 104, 165, 39, 4, 73, 56, 183, 86},
      {20, 107, 104, 64, 19, 197, 187, 157, 172, 86, 16, 27}};
  const std::vector<std::vector<int>> expected = {
      {5, 6, 5, 7, 8, 4, 3, 4, 10, 9, 10, 2, 0, 1, 11, 1},
      {7, 10, 6, 8, 6, 11, 8, 9, 2, 4, 5, 1, 5, 0, 3, 1}};
  for (std::size_t l = 0; l < 2; ++l) {
    const auto r = eplb::rebalance_layer(weight[l], 16, 4, 2, 8);
    CHECK(r.phy_to_log == expected[l]);
    const auto log_to_phy = eplb::logical_to_physical(r);
    int slots = 0;
    for (std::size_t e = 0; e < 12; ++e) {
      slots += r.log_count[e];
      for (int rank = 0; rank < r.log_count[e]; ++rank)
        CHECK(
            r.phy_to_log[static_cast<std::size_t>(log_to_phy[e][static_cast<std::size_t>(rank)])] ==
            static_cast<int>(e));
    }
    CHECK(slots == 16);
  }
}

TEST_CASE(
    "balanced packing: heaviest first into the lightest pack with room and ties to the lower "
    "index") {
  const std::vector<double> w{5, 5, 3, 3, 1, 1};
  const auto p = eplb::balanced_packing(w, 2);
  CHECK(p.pack == std::vector<int>{0, 1, 0, 1, 0, 1});
  CHECK(p.rank_in_pack == std::vector<int>{0, 0, 1, 1, 2, 2});
  const auto identity = eplb::balanced_packing(w, 6);
  CHECK(identity.pack == std::vector<int>{0, 1, 2, 3, 4, 5});
}

TEST_CASE(
    "replication gives each extra replica to the largest load per replica with ties to the lower "
    "index") {
  const std::vector<double> w{10, 30, 30};
  const auto r = eplb::replicate_experts(w, 6);
  CHECK(r.phy_to_log == std::vector<int>{0, 1, 2, 1, 2, 1});
  CHECK(r.log_count == std::vector<int>{1, 3, 2});
  CHECK(r.replica_rank == std::vector<int>{0, 0, 0, 1, 1, 2});
}

TEST_CASE("EPLB falls back to the global policy when groups do not divide among nodes") {
  const std::vector<double> w{8, 1, 1, 1, 1, 1};
  const auto r = eplb::rebalance_layer(w, 6, 3, 2, 2);  // 3 groups, 2 nodes: global
  CHECK(r.log_count == std::vector<int>{1, 1, 1, 1, 1, 1});
  // Global packing of 6 items onto 2 GPUs of 3 slots: the hot expert shares with the two lightest.
  CHECK(r.phy_to_log[0] == 0);
}
