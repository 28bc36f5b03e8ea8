#pragma once
// The cluster's links as a directed graph (Boost.Graph): GPUs, per-node
// switches and the inter-node network are vertices, each direction of a link
// is an edge with a bandwidth and latency. Flows follow lowest-latency routes.
#include <cstdint>
#include <span>
#include <vector>

#include "models/gpu_sku.h"

namespace vibesim {

class Topology {
 public:
  // `num_gpus` GPUs, `gpus_per_node` per node (must divide num_gpus). Within a
  // node: a link per GPU pair ("mesh") or a port per GPU to a switch ("switch");
  // between nodes: each GPU's NIC to one network switch.
  Topology(int num_gpus, int gpus_per_node, const InterconnectSpec& spec);

  [[nodiscard]] int num_gpus() const { return num_gpus_; }
  [[nodiscard]] int num_nodes() const { return num_gpus_ / gpus_per_node_; }
  [[nodiscard]] int gpus_per_node() const { return gpus_per_node_; }
  [[nodiscard]] int node_of(int gpu) const { return gpu / gpus_per_node_; }
  [[nodiscard]] std::size_t num_links() const { return link_bandwidth_bytes_per_ns_.size(); }
  // Edges (link directions) on the route from `src` to `dst` GPU.
  [[nodiscard]] std::span<const int> route(int src, int dst) const;
  [[nodiscard]] double route_latency_ns(int src, int dst) const {
    return route_latency_ns_[static_cast<std::size_t>(src * num_gpus_ + dst)];
  }
  [[nodiscard]] double link_bandwidth_bytes_per_ns(int link) const {
    return link_bandwidth_bytes_per_ns_[static_cast<std::size_t>(link)];
  }

 private:
  int num_gpus_;
  int gpus_per_node_;
  std::vector<double> link_bandwidth_bytes_per_ns_;
  std::vector<std::size_t> route_offsets_;  // (num_gpus^2 + 1) offsets into route_links_
  std::vector<int> route_links_;
  std::vector<double> route_latency_ns_;
};

// Times of the expert-parallel all-to-all. Tokens start spread evenly over the
// GPUs (each holds 1/G of the batch), so GPU i sends tokens_to_gpu[j]/G tokens
// to every j != i in dispatch, and the results come back the same way in combine.
// All flows start together; a flow finishes when the busiest link on its route
// has drained (bytes on link / bandwidth) plus the route's latency.
//
// Cost: a flow per GPU pair is O(G^2) per call. When every inter-node route is
// the source's NIC uplink then the destination's downlink with one latency
// (as Topology builds them), inter-node flows are summed per node instead:
// O(G x GPUs per node + G) per call. When each flow has a link of its own and
// one flow of each GPU dominates the others (an even mesh), the per-pair
// flows cost O(G) per call. `exploit_structure` false keeps every flow and
// link (the reference the fast paths are tested against).
class AllToAllModel {
 public:
  explicit AllToAllModel(const Topology& topology, bool exploit_structure = true);

  // For every GPU j, the duration of the longest flow carrying j's tokens:
  // in dispatch (`combine` false) the flows i -> j bringing tokens_to_gpu[j]/G
  // tokens from each other GPU i; in combine the flows j -> i taking the
  // results back. Each token is `bytes_per_token`. 0 for a GPU without tokens.
  void longest_flow_ns(std::span<const double> tokens_to_gpu, double bytes_per_token, bool combine,
                       std::span<double> longest_ns);

  // Dispatch + combine time per token routed to a GPU under an even load,
  // route latency excluded: the linear part of the all-to-all cost.
  [[nodiscard]] double ns_per_routed_token(double dispatch_bytes_per_token,
                                           double combine_bytes_per_token);

 private:
  struct Flow {
    int src, dst;
    std::size_t first_link, end_link;  // into links_
    double latency_ns;
  };
  // Each GPU's bytes per flow (scratch).
  std::span<const double> carried_bytes(std::span<const double> tokens_to_gpu,
                                        double bytes_per_carried_token);
  void add_inter_node_flows(std::span<const double> carried_bytes, bool combine,
                            std::span<double> longest_ns);

  // The flows of one carrier when a single one of them is always the longest:
  // each flow has a link of its own and one flow has both the carrier's
  // highest ns per byte and its highest latency (an even mesh). Its time is
  // then the carrier's, with no per-link sums.
  struct DominantFlow {
    double ns_per_byte = 0, latency_ns = 0;
  };
  void find_dominant_flows();

  int num_gpus_;
  int gpus_per_node_;
  std::vector<Flow>
      flows_;  // every ordered GPU pair, src != dst (intra-node only on the fast path)
  // Fast path: per GPU its NIC uplink and downlink; the inter-node latency.
  bool inter_node_by_node_ = false;
  std::vector<int> uplink_, downlink_;
  double inter_node_latency_ns_ = 0;
  std::vector<double> node_max_;         // scratch, per node
  std::vector<double> carried_scratch_;  // scratch, per GPU
  std::vector<int> links_;
  std::vector<double> ns_per_byte_;  // per link
  std::vector<double> link_bytes_;   // scratch
  std::vector<double> drain_ns_;     // scratch
  // [combine][carrier GPU]; both empty unless every carrier has one.
  std::vector<DominantFlow> dominant_[2];
};

}  // namespace vibesim
