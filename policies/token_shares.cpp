#include "policies/token_shares.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

// GCC 12 reports a false maybe-uninitialized inside Boost's edge iterator
// (a boost::optional it reads only once set); Boost's code, not ours.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/push_relabel_max_flow.hpp>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

namespace vibesim {
namespace {

// Flow units per token: fine enough that rounding is far below the bisection's
// tolerance, coarse enough that a layer's tokens fit in 2^50 units.
double flow_units_per_token(std::span<const double> loads) {
  double total = 0;
  for (double w : loads) total += w;
  return std::min(double(1 << 20), std::ldexp(1.0, 50) / std::max(1.0, total));
}
constexpr double kRelativeTolerance = 1e-7;
constexpr int kMaxBisections = 100;

// A layer's experts as the share problem sees them.
struct ShareProblem {
  std::vector<int> replicas;           // per expert: its slots
  std::vector<double> fixed_tokens;    // per GPU: tokens of experts without a choice
  std::vector<int> flexible;           // experts with replicas on >= 2 GPUs
  std::vector<std::vector<int>> gpus;  // per flexible expert: its distinct GPUs
};

ShareProblem share_problem(std::span<const int> slot_expert, int slots_per_gpu,
                           std::span<const double> loads, std::size_t num_gpus) {
  ShareProblem p{std::vector<int>(loads.size(), 0), std::vector<double>(num_gpus, 0.0), {}, {}};
  std::vector<std::vector<int>> gpus_of(loads.size());
  for (std::size_t s = 0; s < slot_expert.size(); ++s) {
    const auto e = static_cast<std::size_t>(slot_expert[s]);
    ++p.replicas[e];
    const int g = static_cast<int>(s) / slots_per_gpu;
    if (std::find(gpus_of[e].begin(), gpus_of[e].end(), g) == gpus_of[e].end())
      gpus_of[e].push_back(g);
  }
  for (std::size_t e = 0; e < loads.size(); ++e) {
    if (gpus_of[e].size() >= 2) {
      p.flexible.push_back(static_cast<int>(e));
      p.gpus.push_back(gpus_of[e]);
    } else if (!gpus_of[e].empty()) {
      p.fixed_tokens[static_cast<std::size_t>(gpus_of[e][0])] += loads[e];
    }
  }
  return p;
}

// source -> flexible expert (its tokens) -> each GPU holding it -> sink (the
// GPU's capacity). A bound is feasible when the flow saturates the sources.
class FeasibilityFlow {
 public:
  FeasibilityFlow(const ShareProblem& p, std::span<const double> loads)
      : units_per_token_(flow_units_per_token(loads)), experts_(p.flexible.size()) {
    graph_ = Graph(2 + experts_ + p.fixed_tokens.size());
    for (std::size_t i = 0; i < experts_; ++i) {
      const auto units = static_cast<std::int64_t>(
          std::llround(loads[static_cast<std::size_t>(p.flexible[i])] * units_per_token_));
      expert_units_.push_back(units);
      total_units_ += units;
      add_arc(kSource, 2 + i, units);
      auto& arcs = expert_arcs_.emplace_back();
      for (int g : p.gpus[i])
        arcs.push_back(add_arc(2 + i, gpu_vertex(static_cast<std::size_t>(g)), 0));
    }
    for (std::size_t g = 0; g < p.fixed_tokens.size(); ++g)
      gpu_arcs_.push_back(add_arc(gpu_vertex(g), kSink, 0));
    const auto capacity = boost::get(boost::edge_capacity, graph_);
    for (const auto& arcs : expert_arcs_)
      for (const auto arc : arcs) capacity[arc] = total_units_;
  }

  [[nodiscard]] std::int64_t total_units() const { return total_units_; }
  [[nodiscard]] double units_per_token() const { return units_per_token_; }

  // Whether the tokens fit when GPU g takes at most gpu_units[g] of them.
  bool feasible(std::span<const std::int64_t> gpu_units) {
    const auto capacity = boost::get(boost::edge_capacity, graph_);
    for (std::size_t g = 0; g < gpu_arcs_.size(); ++g) capacity[gpu_arcs_[g]] = gpu_units[g];
    return boost::push_relabel_max_flow(graph_, kSource, kSink) == total_units_;
  }

  // After feasible(): the fraction of flexible expert i's tokens sent to its
  // j-th GPU (even when it has none).
  [[nodiscard]] double share(std::size_t i, std::size_t j) const {
    const auto& arcs = expert_arcs_[i];
    if (expert_units_[i] == 0) return 1.0 / static_cast<double>(arcs.size());
    const auto capacity = boost::get(boost::edge_capacity, graph_);
    const auto residual = boost::get(boost::edge_residual_capacity, graph_);
    const auto flow = capacity[arcs[j]] - residual[arcs[j]];
    return static_cast<double>(flow) / static_cast<double>(expert_units_[i]);
  }

 private:
  using Traits = boost::adjacency_list_traits<boost::vecS, boost::vecS, boost::directedS>;
  using Arc = Traits::edge_descriptor;
  using Graph = boost::adjacency_list<
      boost::vecS, boost::vecS, boost::directedS, boost::no_property,
      boost::property<boost::edge_capacity_t, std::int64_t,
                      boost::property<boost::edge_residual_capacity_t, std::int64_t,
                                      boost::property<boost::edge_reverse_t, Arc>>>>;
  static constexpr std::size_t kSource = 0, kSink = 1;

  [[nodiscard]] std::size_t gpu_vertex(std::size_t g) const { return 2 + experts_ + g; }

  Arc add_arc(std::size_t from, std::size_t to, std::int64_t units) {
    const auto forward = boost::add_edge(from, to, graph_).first;
    const auto backward = boost::add_edge(to, from, graph_).first;
    boost::get(boost::edge_capacity, graph_)[forward] = units;
    boost::get(boost::edge_capacity, graph_)[backward] = 0;
    boost::get(boost::edge_reverse, graph_)[forward] = backward;
    boost::get(boost::edge_reverse, graph_)[backward] = forward;
    return forward;
  }

  double units_per_token_;
  std::size_t experts_;  // flexible experts: vertices 2 .. 2 + experts_ - 1; GPUs follow
  Graph graph_;
  std::vector<std::int64_t> expert_units_;
  std::int64_t total_units_ = 0;
  std::vector<std::vector<Arc>> expert_arcs_;  // per flexible expert: to each of its GPUs
  std::vector<Arc> gpu_arcs_;                  // per GPU: to the sink
};

// Each GPU's capacity at bound T in flow units (two units of slack absorb the
// rounding of token counts to units); false if some GPU's fixed tokens alone
// exceed T.
bool capacities_at(double bound_ns, const ShareProblem& p, std::span<const LatencyCurve> f,
                   const FeasibilityFlow& flow, std::vector<std::int64_t>& units) {
  const auto total_units = flow.total_units();
  for (std::size_t g = 0; g < p.fixed_tokens.size(); ++g) {
    const double within = f[g].tokens_within(p.fixed_tokens[g], bound_ns);
    if (within == -std::numeric_limits<double>::infinity()) return false;
    const double spare = (within - p.fixed_tokens[g]) * flow.units_per_token();
    units[g] = spare >= static_cast<double>(total_units)
                   ? total_units
                   : static_cast<std::int64_t>(std::floor(spare)) + 2;
  }
  return true;
}

std::vector<double> even_shares(std::span<const int> slot_expert, const ShareProblem& p) {
  std::vector<double> shares;
  shares.reserve(slot_expert.size());
  for (int e : slot_expert) shares.push_back(1.0 / p.replicas[static_cast<std::size_t>(e)]);
  return shares;
}

}  // namespace

std::vector<double> balanced_token_shares(std::span<const int> slot_expert, int slots_per_gpu,
                                          std::span<const double> expert_loads,
                                          std::span<const LatencyCurve> f) {
  const auto p = share_problem(slot_expert, slots_per_gpu, expert_loads, f.size());
  auto shares = even_shares(slot_expert, p);
  if (p.flexible.empty()) return shares;

  // Bounds: every GPU computes at least its fixed tokens; even shares are feasible.
  std::vector<double> even_tokens(f.size(), 0.0);
  for (std::size_t s = 0; s < slot_expert.size(); ++s)
    even_tokens[s / static_cast<std::size_t>(slots_per_gpu)] +=
        expert_loads[static_cast<std::size_t>(slot_expert[s])] * shares[s];
  double lo = 0, hi = 0;
  for (std::size_t g = 0; g < f.size(); ++g) {
    lo = std::max(lo, f[g].latency_ns(p.fixed_tokens[g]));
    hi = std::max(hi, f[g].latency_ns(even_tokens[g]));
  }
  FeasibilityFlow flow(p, expert_loads);
  std::vector<std::int64_t> units(f.size());
  const auto feasible = [&](double bound) {
    return capacities_at(bound, p, f, flow, units) && flow.feasible(units);
  };
  for (int i = 0; i < kMaxBisections && hi - lo > kRelativeTolerance * hi; ++i) {
    const double mid = lo + (hi - lo) / 2;
    (feasible(mid) ? hi : lo) = mid;
  }
  if (!feasible(hi)) return shares;  // only by rounding: keep the even split

  // A flexible expert's share on a GPU is split evenly over its slots there.
  std::vector<int> slots_on_gpu(f.size());
  for (std::size_t i = 0; i < p.flexible.size(); ++i) {
    const int e = p.flexible[i];
    std::fill(slots_on_gpu.begin(), slots_on_gpu.end(), 0);
    for (std::size_t s = 0; s < slot_expert.size(); ++s)
      if (slot_expert[s] == e) ++slots_on_gpu[s / static_cast<std::size_t>(slots_per_gpu)];
    for (std::size_t s = 0; s < slot_expert.size(); ++s) {
      if (slot_expert[s] != e) continue;
      const int g = static_cast<int>(s) / slots_per_gpu;
      const auto j = static_cast<std::size_t>(std::find(p.gpus[i].begin(), p.gpus[i].end(), g) -
                                              p.gpus[i].begin());
      shares[s] = flow.share(i, j) / slots_on_gpu[static_cast<std::size_t>(g)];
    }
  }
  return shares;
}

}  // namespace vibesim
