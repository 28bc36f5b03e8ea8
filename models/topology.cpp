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
    : num_gpus_(topology.num_gpus()),
      link_bytes_(topology.num_links(), 0.0),
      drain_ns_(topology.num_links(), 0.0) {
  for (std::size_t l = 0; l < topology.num_links(); ++l)
    ns_per_byte_.push_back(1.0 / topology.link_bandwidth_bytes_per_ns(static_cast<int>(l)));
  for (int src = 0; src < num_gpus_; ++src) {
    for (int dst = 0; dst < num_gpus_; ++dst) {
      if (src == dst) continue;
      const auto route = topology.route(src, dst);
      flows_.push_back({src, dst, links_.size(), links_.size() + route.size(),
                        topology.route_latency_ns(src, dst)});
      links_.insert(links_.end(), route.begin(), route.end());
    }
  }
}

void AllToAllModel::longest_flow_ns(std::span<const double> tokens_to_gpu, double bytes_per_token,
                                    bool combine, std::span<double> longest_ns) {
  assert(tokens_to_gpu.size() == static_cast<std::size_t>(num_gpus_));
  assert(longest_ns.size() == static_cast<std::size_t>(num_gpus_));
  // The expert-hosting end of a flow carries its tokens: dst in dispatch, src in combine.
  const auto carrier = [combine](const Flow& f) {
    return static_cast<std::size_t>(combine ? f.src : f.dst);
  };
  const double bytes_per_carried_token = bytes_per_token / num_gpus_;
  std::fill(link_bytes_.begin(), link_bytes_.end(), 0.0);
  for (const auto& f : flows_) {
    const double bytes = tokens_to_gpu[carrier(f)] * bytes_per_carried_token;
    for (auto l = f.first_link; l < f.end_link; ++l)
      link_bytes_[static_cast<std::size_t>(links_[l])] += bytes;
  }
  for (std::size_t l = 0; l < link_bytes_.size(); ++l)
    drain_ns_[l] = link_bytes_[l] * ns_per_byte_[l];
  std::fill(longest_ns.begin(), longest_ns.end(), 0.0);
  for (const auto& f : flows_) {
    double drain = 0;
    for (auto l = f.first_link; l < f.end_link; ++l)
      drain = std::max(drain, drain_ns_[static_cast<std::size_t>(links_[l])]);
    auto& longest = longest_ns[carrier(f)];
    longest = std::max(longest, drain + f.latency_ns);
  }
  for (std::size_t g = 0; g < longest_ns.size(); ++g)
    if (tokens_to_gpu[g] <= 0) longest_ns[g] = 0.0;
}

double AllToAllModel::ns_per_routed_token(double dispatch_bytes_per_token,
                                          double combine_bytes_per_token) {
  if (num_gpus_ < 2) return 0.0;
  const double probe_tokens = 1e6;
  const std::vector<double> even(static_cast<std::size_t>(num_gpus_), probe_tokens);
  std::vector<double> dispatch(even.size()), combine(even.size());
  longest_flow_ns(even, dispatch_bytes_per_token, false, dispatch);
  longest_flow_ns(even, combine_bytes_per_token, true, combine);
  // Latency does not grow with tokens: take it off (the longest route's, as in the flows above).
  double latency = 0;
  for (const auto& f : flows_) latency = std::max(latency, f.latency_ns);
  return std::max(0.0, (dispatch[0] + combine[0] - 2 * latency) / probe_tokens);
}

}  // namespace vibesim
