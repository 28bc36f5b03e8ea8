#include <doctest/doctest.h>

#include <random>
#include <string>
#include <vector>

#include "base/random_engine.h"
#include "fixtures.h"
#include "models/topology.h"

using namespace vibesim;

TEST_CASE("one mesh node gives every GPU pair its own one-hop link") {
  const Topology t(8, 8, testing::toy_sku().interconnect);
  CHECK(t.num_nodes() == 1);
  CHECK(t.num_links() == 8 * 7);
  for (int a = 0; a < 8; ++a)
    for (int b = 0; b < 8; ++b)
      if (a != b) CHECK(t.route(a, b).size() == 1);
  CHECK(t.route_latency_ns(0, 5) == doctest::Approx(1000.0));
}

TEST_CASE("two nodes: cross-node flows go GPU -> NIC -> network -> NIC -> GPU") {
  auto spec = testing::toy_sku().interconnect;
  const Topology t(4, 2, spec);
  CHECK(t.num_nodes() == 2);
  CHECK(t.route(0, 1).size() == 1);  // same node: the mesh link
  CHECK(t.route(0, 3).size() == 2);  // up to the network switch and down
  CHECK(t.route_latency_ns(0, 3) == doctest::Approx(5000.0));
}

TEST_CASE("switch nodes: intra-node flows cross the GPU's port and the peer's port") {
  auto spec = testing::toy_sku().interconnect;
  spec.intra_node = "switch";
  const Topology t(4, 4, spec);
  CHECK(t.route(0, 2).size() == 2);
  CHECK(t.route_latency_ns(0, 2) == doctest::Approx(1000.0));
}

TEST_CASE("all-to-all on a mesh: each GPU's flows take bytes / link bandwidth + latency") {
  const Topology t(4, 4, testing::toy_sku().interconnect);  // 100 B/ns links, 1000 ns
  AllToAllModel a2a(t);
  const std::vector<double> tokens{400, 800, 0, 400};
  std::vector<double> longest(4);
  a2a.longest_flow_ns(tokens, 1000.0, false, longest);
  // GPU 1 receives 800/4 = 200 tokens x 1000 B from each peer over its own link.
  CHECK(longest[1] == doctest::Approx(200'000.0 / 100 + 1000));
  CHECK(longest[0] == doctest::Approx(100'000.0 / 100 + 1000));
  CHECK(longest[2] == 0.0);
}

TEST_CASE("all-to-all across nodes: a GPU's NIC is shared by its flows to the other node") {
  const Topology t(4, 2, testing::toy_sku().interconnect);  // NIC 25 B/ns, 5 us across
  AllToAllModel a2a(t);
  const std::vector<double> tokens{0, 0, 400, 0};  // only GPU 2 hosts experts
  std::vector<double> longest(4);
  a2a.longest_flow_ns(tokens, 100.0, false, longest);
  // GPU 2's downlink from the network carries the flows of GPUs 0 and 1: 2 x 100 tokens x 100 B.
  CHECK(longest[2] == doctest::Approx(20'000.0 / 25 + 5000));
}

TEST_CASE("the all-to-all fast paths match walking every flow") {
  RandomEngine rng(4);
  std::uniform_real_distribution<double> tokens(0, 5000);
  struct Shape {
    int gpus, per_node;
  };
  for (const auto shape : {Shape{24, 4}, Shape{8, 8}}) {
    for (const std::string intra : {"mesh", "switch"}) {
      CAPTURE(shape.gpus);
      CAPTURE(intra);
      auto spec = testing::toy_sku().interconnect;
      spec.intra_node = intra;
      const Topology t(shape.gpus, shape.per_node, spec);
      const auto g_count = static_cast<std::size_t>(shape.gpus);
      AllToAllModel fast(t), reference(t, /*exploit_structure=*/false);
      for (int trial = 0; trial < 20; ++trial) {
        std::vector<double> n(g_count);
        for (auto& x : n) x = trial % 5 == 0 && &x == &n[3] ? 0.0 : tokens(rng);
        for (const bool combine : {false, true}) {
          std::vector<double> a(g_count), b(g_count);
          fast.longest_flow_ns(n, 7168, combine, a);
          reference.longest_flow_ns(n, 7168, combine, b);
          for (std::size_t g = 0; g < g_count; ++g) {
            // Within a node the fast paths do the reference's arithmetic exactly;
            // across nodes they sum per node, in another order.
            if (shape.gpus == shape.per_node)
              CHECK(a[g] == b[g]);
            else
              CHECK(a[g] == doctest::Approx(b[g]).epsilon(1e-12));
          }
        }
      }
      CHECK(fast.ns_per_routed_token(7168, 14336) ==
            doctest::Approx(reference.ns_per_routed_token(7168, 14336)).epsilon(1e-12));
    }
  }
}
