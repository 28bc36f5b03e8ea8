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

AllToAllModel::AllToAllModel(const Topology& topology, bool exploit_structure)
    : num_gpus_(topology.num_gpus()),
      gpus_per_node_(topology.gpus_per_node()),
      link_bytes_(topology.num_links(), 0.0),
      drain_ns_(topology.num_links(), 0.0) {
  for (std::size_t l = 0; l < topology.num_links(); ++l)
    ns_per_byte_.push_back(1.0 / topology.link_bandwidth_bytes_per_ns(static_cast<int>(l)));
  const auto g = static_cast<std::size_t>(num_gpus_);
  // Does every inter-node route decompose into uplink(src) + downlink(dst)?
  inter_node_by_node_ = exploit_structure && topology.num_nodes() > 1;
  uplink_.assign(g, -1);
  downlink_.assign(g, -1);
  for (int src = 0; src < num_gpus_ && inter_node_by_node_; ++src) {
    for (int dst = 0; dst < num_gpus_ && inter_node_by_node_; ++dst) {
      if (topology.node_of(src) == topology.node_of(dst)) continue;
      const auto route = topology.route(src, dst);
      auto& up = uplink_[static_cast<std::size_t>(src)];
      auto& down = downlink_[static_cast<std::size_t>(dst)];
      if (up < 0) up = route.empty() ? -1 : route.front();
      if (down < 0) down = route.size() < 2 ? -1 : route.back();
      if (inter_node_latency_ns_ == 0) inter_node_latency_ns_ = topology.route_latency_ns(src, dst);
      inter_node_by_node_ = route.size() == 2 && route.front() == up && route.back() == down &&
                            topology.route_latency_ns(src, dst) == inter_node_latency_ns_;
    }
  }
  node_max_.assign(static_cast<std::size_t>(topology.num_nodes()), 0.0);
  for (int src = 0; src < num_gpus_; ++src) {
    for (int dst = 0; dst < num_gpus_; ++dst) {
      if (src == dst) continue;
      if (inter_node_by_node_ && topology.node_of(src) != topology.node_of(dst)) continue;
      const auto route = topology.route(src, dst);
      flows_.push_back({src, dst, links_.size(), links_.size() + route.size(),
                        topology.route_latency_ns(src, dst)});
      links_.insert(links_.end(), route.begin(), route.end());
    }
  }
  if (exploit_structure) find_dominant_flows();
}

void AllToAllModel::find_dominant_flows() {
  std::vector<int> flows_on_link(ns_per_byte_.size(), 0);
  for (const auto& f : flows_) {
    if (f.end_link != f.first_link + 1) return;
    if (++flows_on_link[static_cast<std::size_t>(links_[f.first_link])] > 1) return;
  }
  for (const bool combine : {false, true}) {
    std::vector<DominantFlow> highest(static_cast<std::size_t>(num_gpus_));
    for (const auto& f : flows_) {
      auto& h = highest[static_cast<std::size_t>(combine ? f.src : f.dst)];
      h.ns_per_byte =
          std::max(h.ns_per_byte, ns_per_byte_[static_cast<std::size_t>(links_[f.first_link])]);
      h.latency_ns = std::max(h.latency_ns, f.latency_ns);
    }
    std::vector<bool> dominated(highest.size(), false);
    for (const auto& f : flows_) {
      const auto c = static_cast<std::size_t>(combine ? f.src : f.dst);
      dominated[c] =
          dominated[c] ||
          (ns_per_byte_[static_cast<std::size_t>(links_[f.first_link])] == highest[c].ns_per_byte &&
           f.latency_ns == highest[c].latency_ns);
    }
    // A GPU with no flows (one per node) keeps {0, 0}, which adds nothing.
    for (std::size_t c = 0; c < highest.size(); ++c)
      if (!dominated[c] && (highest[c].ns_per_byte > 0 || highest[c].latency_ns > 0)) {
        dominant_[0].clear();
        dominant_[1].clear();
        return;
      }
    dominant_[combine ? 1 : 0] = std::move(highest);
  }
}

void AllToAllModel::add_inter_node_flows(std::span<const double> carried_bytes, bool combine,
                                         std::span<double> longest_ns) {
  // Dispatch: flow i -> j carries j's bytes. Uplink(i) carries the bytes of
  // every GPU outside i's node; downlink(j) carries j's bytes once per GPU
  // outside j's node. Combine mirrors it (flow i -> j carries i's bytes).
  const auto g = carried_bytes.size();
  const auto per_node = static_cast<std::size_t>(gpus_per_node_);
  const auto nodes = node_max_.size();
  double total = 0;
  std::vector<double>& node_total = node_max_;  // reused: per-node sums first
  std::fill(node_total.begin(), node_total.end(), 0.0);
  for (std::size_t i = 0; i < g; ++i) {
    node_total[i / per_node] += carried_bytes[i];
    total += carried_bytes[i];
  }
  const double others = static_cast<double>(g - per_node);
  for (std::size_t i = 0; i < g; ++i)  // NIC links carry no intra-node flow
    link_bytes_[static_cast<std::size_t>(uplink_[i])] =
        link_bytes_[static_cast<std::size_t>(downlink_[i])] = 0.0;
  for (std::size_t i = 0; i < g; ++i) {
    const double outside = total - node_total[i / per_node];
    const auto up = static_cast<std::size_t>(uplink_[i]);
    const auto down = static_cast<std::size_t>(downlink_[i]);
    link_bytes_[up] += combine ? others * carried_bytes[i] : outside;
    link_bytes_[down] += combine ? outside : others * carried_bytes[i];
  }
  for (std::size_t i = 0; i < g; ++i) {
    for (auto link : {uplink_[i], downlink_[i]}) {
      const auto l = static_cast<std::size_t>(link);
      drain_ns_[l] = link_bytes_[l] * ns_per_byte_[l];
    }
  }
  // The far end of a carrier's flows: uplinks of other nodes' GPUs (dispatch)
  // or their downlinks (combine). Per node its maximum, then the best two.
  std::fill(node_max_.begin(), node_max_.end(), 0.0);
  for (std::size_t i = 0; i < g; ++i) {
    const auto far = static_cast<std::size_t>(combine ? downlink_[i] : uplink_[i]);
    node_max_[i / per_node] = std::max(node_max_[i / per_node], drain_ns_[far]);
  }
  std::size_t best = 0;
  for (std::size_t n = 1; n < nodes; ++n)
    if (node_max_[n] > node_max_[best]) best = n;
  double second = 0;
  for (std::size_t n = 0; n < nodes; ++n)
    if (n != best) second = std::max(second, node_max_[n]);
  for (std::size_t c = 0; c < g; ++c) {
    const auto near = static_cast<std::size_t>(combine ? uplink_[c] : downlink_[c]);
    const double far = c / per_node == best ? second : node_max_[best];
    longest_ns[c] =
        std::max(longest_ns[c], std::max(far, drain_ns_[near]) + inter_node_latency_ns_);
  }
}

std::span<const double> AllToAllModel::carried_bytes(std::span<const double> tokens_to_gpu,
                                                     double bytes_per_carried_token) {
  carried_scratch_.resize(tokens_to_gpu.size());
  for (std::size_t i = 0; i < tokens_to_gpu.size(); ++i)
    carried_scratch_[i] = tokens_to_gpu[i] * bytes_per_carried_token;
  return carried_scratch_;
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
  if (!dominant_[1].empty()) {
    // Each link carries one flow: its drain is the flow's bytes times the
    // link's ns per byte, computed in the order the general path does.
    const auto& dominant = dominant_[combine ? 1 : 0];
    std::fill(longest_ns.begin(), longest_ns.end(), 0.0);
    if (inter_node_by_node_)
      add_inter_node_flows(carried_bytes(tokens_to_gpu, bytes_per_carried_token), combine,
                           longest_ns);
    for (std::size_t c = 0; c < longest_ns.size(); ++c) {
      const double drain = tokens_to_gpu[c] * bytes_per_carried_token * dominant[c].ns_per_byte;
      longest_ns[c] =
          tokens_to_gpu[c] <= 0 ? 0.0 : std::max(longest_ns[c], drain + dominant[c].latency_ns);
    }
    return;
  }
  std::fill(link_bytes_.begin(), link_bytes_.end(), 0.0);
  for (const auto& f : flows_) {
    const double bytes = tokens_to_gpu[carrier(f)] * bytes_per_carried_token;
    for (auto l = f.first_link; l < f.end_link; ++l)
      link_bytes_[static_cast<std::size_t>(links_[l])] += bytes;
  }
  for (std::size_t l = 0; l < link_bytes_.size(); ++l)
    drain_ns_[l] = link_bytes_[l] * ns_per_byte_[l];
  std::fill(longest_ns.begin(), longest_ns.end(), 0.0);
  if (inter_node_by_node_)  // NIC links carry no intra-node flow: add them separately
    add_inter_node_flows(carried_bytes(tokens_to_gpu, bytes_per_carried_token), combine,
                         longest_ns);
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
  double latency = inter_node_by_node_ ? inter_node_latency_ns_ : 0.0;
  for (const auto& f : flows_) latency = std::max(latency, f.latency_ns);
  return std::max(0.0, (dispatch[0] + combine[0] - 2 * latency) / probe_tokens);
}

}  // namespace vibesim
