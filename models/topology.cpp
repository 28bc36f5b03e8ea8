#include "models/topology.h"

#include <cassert>
#include <stdexcept>

#include <fmt/format.h>
#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/dijkstra_shortest_paths.hpp>
#include <boost/property_map/transform_value_property_map.hpp>

namespace vibesim {

namespace {

struct LinkProperties {
  double bandwidth_bytes_per_ns = 0;
  double latency_ns = 0;
  int index = 0;
};
using LinkGraph = boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS,
                                        boost::no_property, LinkProperties>;

}  // namespace

Topology::Topology(int num_gpus, int gpus_per_node, const InterconnectSpec& spec)
    : num_gpus_(num_gpus), gpus_per_node_(gpus_per_node) {
  if (num_gpus < 1 || gpus_per_node < 1 || num_gpus % gpus_per_node != 0)
    throw std::invalid_argument(
        fmt::format("Topology: {} GPUs do not split into nodes of {}", num_gpus, gpus_per_node));
  const int nodes = num_gpus / gpus_per_node;
  // Vertices: GPUs 0..G-1, then one switch per node, then the network switch.
  const int node_switch0 = num_gpus;
  const int network = num_gpus + nodes;
  LinkGraph graph(static_cast<std::size_t>(network + 1));
  auto add_duplex = [&](int a, int b, double bytes_per_s, double latency_us) {
    for (auto [from, to] : {std::pair{a, b}, std::pair{b, a}}) {
      const int index = static_cast<int>(link_bandwidth_bytes_per_ns_.size());
      link_bandwidth_bytes_per_ns_.push_back(bytes_per_s * 1e-9);
      // The switch hop's latency is split across its two edges.
      boost::add_edge(static_cast<std::size_t>(from), static_cast<std::size_t>(to),
                      LinkProperties{bytes_per_s * 1e-9, latency_us * 1e3, index}, graph);
    }
  };
  for (int n = 0; n < nodes; ++n) {
    const int first = n * gpus_per_node;
    for (int a = first; a < first + gpus_per_node; ++a) {
      if (spec.intra_node == "switch") {
        add_duplex(a, node_switch0 + n, spec.link_bandwidth_bytes_per_s, spec.link_latency_us / 2);
      } else {
        for (int b = a + 1; b < first + gpus_per_node; ++b)
          add_duplex(a, b, spec.link_bandwidth_bytes_per_s, spec.link_latency_us);
      }
      if (nodes > 1)
        add_duplex(a, network, spec.nic_bandwidth_bytes_per_s, spec.nic_latency_us / 2);
    }
  }

  // Lowest-latency route between every GPU pair (ties: the graph's first found, deterministic).
  const auto g = static_cast<std::size_t>(num_gpus);
  route_offsets_.assign(g * g + 1, 0);
  route_latency_ns_.assign(g * g, 0.0);
  std::vector<std::vector<int>> routes(g * g);
  const auto vertex_count = boost::num_vertices(graph);
  for (std::size_t src = 0; src < g; ++src) {
    std::vector<double> distance(vertex_count);
    std::vector<LinkGraph::vertex_descriptor> parent(vertex_count);
    // A tiny per-hop weight prefers fewer hops among equal latencies.
    auto weight = boost::make_transform_value_property_map(
        [](const LinkProperties& p) { return p.latency_ns + 1e-6; },
        boost::get(boost::edge_bundle, graph));
    boost::dijkstra_shortest_paths(
        graph, src,
        boost::weight_map(weight).distance_map(distance.data()).predecessor_map(parent.data()));
    for (std::size_t dst = 0; dst < g; ++dst) {
      if (dst == src) continue;
      auto& route = routes[src * g + dst];
      double latency = 0;
      for (auto v = dst; v != src; v = parent[v]) {
        const auto [edge, found] = boost::edge(parent[v], v, graph);
        assert(found);
        route.insert(route.begin(), graph[edge].index);
        latency += graph[edge].latency_ns;
      }
      route_latency_ns_[src * g + dst] = latency;
    }
  }
  for (std::size_t pair = 0; pair < g * g; ++pair) {
    route_offsets_[pair + 1] = route_offsets_[pair] + routes[pair].size();
    route_links_.insert(route_links_.end(), routes[pair].begin(), routes[pair].end());
  }
}

std::span<const int> Topology::route(int src, int dst) const {
  const auto pair = static_cast<std::size_t>(src * num_gpus_ + dst);
  return {route_links_.data() + route_offsets_[pair],
          route_offsets_[pair + 1] - route_offsets_[pair]};
}

AllToAllModel::AllToAllModel(const Topology& topology)
    : topology_(&topology), link_bytes_(topology.num_links(), 0.0) {}

void AllToAllModel::flow_times(std::span<const double> tokens_to_gpu, double bytes_per_token,
                               bool reverse, std::span<double> flow_ns) {
  const int g = topology_->num_gpus();
  assert(tokens_to_gpu.size() == static_cast<std::size_t>(g));
  assert(flow_ns.size() == static_cast<std::size_t>(g * g));
  std::fill(link_bytes_.begin(), link_bytes_.end(), 0.0);
  const double share = bytes_per_token / g;
  for (int j = 0; j < g; ++j) {  // j: the GPU hosting the experts
    const double bytes = tokens_to_gpu[static_cast<std::size_t>(j)] * share;
    for (int i = 0; i < g; ++i) {
      if (i == j) continue;
      for (int link : reverse ? topology_->route(j, i) : topology_->route(i, j))
        link_bytes_[static_cast<std::size_t>(link)] += bytes;
    }
  }
  for (int j = 0; j < g; ++j) {
    for (int i = 0; i < g; ++i) {
      const int src = reverse ? j : i, dst = reverse ? i : j;
      double drain_ns = 0;
      if (i != j && tokens_to_gpu[static_cast<std::size_t>(j)] > 0) {
        for (int link : topology_->route(src, dst))
          drain_ns = std::max(drain_ns, link_bytes_[static_cast<std::size_t>(link)] /
                                            topology_->link_bandwidth_bytes_per_ns(link));
        drain_ns += topology_->route_latency_ns(src, dst);
      }
      flow_ns[static_cast<std::size_t>(src * g + dst)] = drain_ns;
    }
  }
}

}  // namespace vibesim
