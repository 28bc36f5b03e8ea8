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
// Experts and GPUs settled in an earlier round are retired: their arcs carry
// nothing.
class FeasibilityFlow {
  using Traits = boost::adjacency_list_traits<boost::vecS, boost::vecS, boost::directedS>;
  using Arc = Traits::edge_descriptor;
  using Graph = boost::adjacency_list<
      boost::vecS, boost::vecS, boost::directedS, boost::no_property,
      boost::property<boost::edge_capacity_t, std::int64_t,
                      boost::property<boost::edge_residual_capacity_t, std::int64_t,
                                      boost::property<boost::edge_reverse_t, Arc>>>>;
  static constexpr std::size_t kSource = 0, kSink = 1;

  auto capacity() { return boost::get(boost::edge_capacity, graph_); }

 public:
  FeasibilityFlow(const ShareProblem& p, std::span<const double> loads)
      : units_per_token_(flow_units_per_token(loads)), experts_(p.flexible.size()) {
    graph_ = Graph(2 + experts_ + p.fixed_tokens.size());
    for (std::size_t i = 0; i < experts_; ++i) {
      const auto units = static_cast<std::int64_t>(
          std::llround(loads[static_cast<std::size_t>(p.flexible[i])] * units_per_token_));
      expert_units_.push_back(units);
      active_units_ += units;
      source_arcs_.push_back(add_arc(kSource, 2 + i, units));
      auto& arcs = expert_arcs_.emplace_back();
      for (int g : p.gpus[i])
        arcs.push_back(add_arc(2 + i, gpu_vertex(static_cast<std::size_t>(g)), 0));
    }
    for (std::size_t g = 0; g < p.fixed_tokens.size(); ++g)
      gpu_arcs_.push_back(add_arc(gpu_vertex(g), kSink, 0));
    for (const auto& arcs : expert_arcs_)
      for (const auto arc : arcs) capacity()[arc] = active_units_;
  }

  [[nodiscard]] std::int64_t active_units() const { return active_units_; }
  [[nodiscard]] std::int64_t expert_units(std::size_t i) const { return expert_units_[i]; }
  [[nodiscard]] double units_per_token() const { return units_per_token_; }

  // Whether the active experts' tokens fit when GPU g takes at most gpu_units[g].
  bool feasible(std::span<const std::int64_t> gpu_units) {
    for (std::size_t g = 0; g < gpu_arcs_.size(); ++g) capacity()[gpu_arcs_[g]] = gpu_units[g];
    return boost::push_relabel_max_flow(graph_, kSource, kSink) == active_units_;
  }

  // After an infeasible feasible(): what the residual graph reaches from the
  // source — the experts that cannot be placed, and the GPUs they fill.
  [[nodiscard]] std::vector<bool> reached_from_source() const {
    std::vector<bool> reached(boost::num_vertices(graph_), false);
    std::vector<std::size_t> stack{kSource};
    reached[kSource] = true;
    const auto residual = boost::get(boost::edge_residual_capacity, graph_);
    while (!stack.empty()) {
      const auto v = stack.back();
      stack.pop_back();
      for (const auto arc : boost::make_iterator_range(boost::out_edges(v, graph_))) {
        const auto w = boost::target(arc, graph_);
        if (residual[arc] > 0 && !reached[w]) reached[w] = true, stack.push_back(w);
      }
    }
    return reached;
  }
  [[nodiscard]] std::size_t expert_vertex(std::size_t i) const { return 2 + i; }
  [[nodiscard]] std::size_t gpu_vertex(std::size_t g) const { return 2 + experts_ + g; }

  // After feasible(): the fraction of flexible expert i's tokens sent to its
  // j-th GPU (even when it has none).
  [[nodiscard]] double share(std::size_t i, std::size_t j) const {
    const auto& arcs = expert_arcs_[i];
    if (expert_units_[i] == 0) return 1.0 / static_cast<double>(arcs.size());
    const auto residual = boost::get(boost::edge_residual_capacity, graph_);
    const auto flow = boost::get(boost::edge_capacity, graph_)[arcs[j]] - residual[arcs[j]];
    return static_cast<double>(flow) / static_cast<double>(expert_units_[i]);
  }

  void retire_expert(std::size_t i) {
    active_units_ -= capacity()[source_arcs_[i]];
    capacity()[source_arcs_[i]] = 0;
  }
  // Closes every arc into GPU g: from now on it takes nothing.
  void retire_gpu(std::size_t g) {
    for (std::size_t i = 0; i < experts_; ++i)
      for (const auto arc : expert_arcs_[i])
        if (boost::target(arc, graph_) == gpu_vertex(g)) capacity()[arc] = 0;
  }
  // Whether active expert i still has an open arc to a GPU.
  [[nodiscard]] bool has_open_arc(std::size_t i) const {
    const auto cap = boost::get(boost::edge_capacity, graph_);
    return std::any_of(expert_arcs_[i].begin(), expert_arcs_[i].end(),
                       [&](auto arc) { return cap[arc] > 0; });
  }

 private:
  Arc add_arc(std::size_t from, std::size_t to, std::int64_t units) {
    const auto forward = boost::add_edge(from, to, graph_).first;
    const auto backward = boost::add_edge(to, from, graph_).first;
    capacity()[forward] = units;
    capacity()[backward] = 0;
    boost::get(boost::edge_reverse, graph_)[forward] = backward;
    boost::get(boost::edge_reverse, graph_)[backward] = forward;
    return forward;
  }

  double units_per_token_;
  std::size_t experts_;  // flexible experts: vertices 2 .. 2 + experts_ - 1; GPUs follow
  Graph graph_;
  std::vector<std::int64_t> expert_units_;
  std::int64_t active_units_ = 0;              // tokens of the experts not yet retired
  std::vector<Arc> source_arcs_;               // per flexible expert
  std::vector<std::vector<Arc>> expert_arcs_;  // per flexible expert: to each of its GPUs
  std::vector<Arc> gpu_arcs_;                  // per GPU: to the sink
};

// One layer's lexicographic min-max: each round finds the smallest bound the
// remaining experts fit under, settles the experts and GPUs that bound is
// tight for (the source side of the minimum cut just below it), and repeats
// on the rest. Besides the largest latency this lowers the next ones: fewer
// GPUs end exactly at the maximum, where per-batch noise would otherwise land
// on several of them at once.
class ShareRounds {
 public:
  ShareRounds(const ShareProblem& p, std::span<const double> loads, std::span<const LatencyCurve> f)
      : p_(p),
        loads_(loads),
        f_(f),
        flow_(p, loads),
        units_(f.size(), 0),
        gpu_retired_(f.size(), false),
        expert_retired_(p.flexible.size(), false),
        share_(p.flexible.size()) {
    // An expert no round settles (too few tokens to count in flow units, or
    // a bound lost to rounding) keeps an even split over its GPUs.
    for (std::size_t i = 0; i < p.flexible.size(); ++i)
      share_[i].assign(p.gpus[i].size(), 1.0 / static_cast<double>(p.gpus[i].size()));
  }

  // Per flexible expert, per its GPU: the share of its tokens.
  std::vector<std::vector<double>> solve() {
    record_and_retire([&](std::size_t i) { return flow_.expert_units(i) == 0; });
    while (flow_.active_units() > 0) {
      auto [lo, hi] = bounds();
      while (hi - lo > kRelativeTolerance * hi) {
        const double mid = lo + (hi - lo) / 2;
        (feasible(mid) ? hi : lo) = mid;
      }
      if (feasible(lo)) {
        settle_fixed_bottleneck(lo);
      } else if (!settle_cut(hi)) {
        break;  // only by rounding: the rest keep even splits
      }
    }
    return share_;
  }

 private:
  bool active_gpu(std::size_t g) const { return !gpu_retired_[g]; }

  // A lower bound (the active GPUs' fixed tokens alone) and a feasible bound
  // (each active GPU taking all the flexible tokens that could reach it).
  std::pair<double, double> bounds() const {
    std::vector<double> reachable(f_.size(), 0.0);
    for (std::size_t i = 0; i < p_.flexible.size(); ++i)
      if (!expert_retired_[i])
        for (int g : p_.gpus[i])
          reachable[static_cast<std::size_t>(g)] +=
              loads_[static_cast<std::size_t>(p_.flexible[i])];
    double lo = 0, hi = 0;
    for (std::size_t g = 0; g < f_.size(); ++g) {
      if (!active_gpu(g) || reachable[g] == 0) continue;
      lo = std::max(lo, f_[g].latency_ns(p_.fixed_tokens[g]));
      hi = std::max(hi, f_[g].latency_ns(p_.fixed_tokens[g] + reachable[g]));
    }
    return {lo, hi};
  }

  // Each active GPU's capacity at the bound in flow units (two units of slack
  // absorb rounding token counts to units; retired GPUs take none).
  bool feasible(double bound_ns) {
    const auto total = flow_.active_units();
    for (std::size_t g = 0; g < f_.size(); ++g) {
      units_[g] = 0;
      if (!active_gpu(g)) continue;
      const double within = f_[g].tokens_within(p_.fixed_tokens[g], bound_ns);
      if (within == -std::numeric_limits<double>::infinity()) continue;
      const double spare = (within - p_.fixed_tokens[g]) * flow_.units_per_token();
      units_[g] = spare >= static_cast<double>(total)
                      ? total
                      : static_cast<std::int64_t>(std::floor(spare)) + 2;
    }
    return flow_.feasible(units_);
  }

  // The bound is some GPU's fixed tokens alone: that GPU takes no flexible
  // tokens. Experts left with nowhere else to go keep the flow found at it.
  void settle_fixed_bottleneck(double bound_ns) {
    for (std::size_t g = 0; g < f_.size(); ++g)
      if (active_gpu(g) && f_[g].latency_ns(p_.fixed_tokens[g]) >= bound_ns) retire_gpu(g);
    record_and_retire([&](std::size_t i) { return !flow_.has_open_arc(i); });
  }

  // The experts on the source side of the cut just below the optimum fill the
  // GPUs there exactly: they take the feasible flow at `hi`, and both retire.
  bool settle_cut(double hi) {
    const auto reached = flow_.reached_from_source();
    if (!feasible(hi)) return false;
    record_and_retire([&](std::size_t i) { return reached[flow_.expert_vertex(i)]; });
    for (std::size_t g = 0; g < f_.size(); ++g)
      if (active_gpu(g) && reached[flow_.gpu_vertex(g)]) retire_gpu(g);
    record_and_retire([&](std::size_t i) { return !flow_.has_open_arc(i); });
    return true;
  }

  void retire_gpu(std::size_t g) {
    gpu_retired_[g] = true;
    flow_.retire_gpu(g);
  }

  // Active experts for which `settled(i)`: their shares from the current flow.
  template <typename Settled>
  void record_and_retire(Settled settled) {
    for (std::size_t i = 0; i < p_.flexible.size(); ++i) {
      if (expert_retired_[i] || !settled(i)) continue;
      for (std::size_t j = 0; j < share_[i].size(); ++j) share_[i][j] = flow_.share(i, j);
      expert_retired_[i] = true;
      flow_.retire_expert(i);
    }
  }

  const ShareProblem& p_;
  std::span<const double> loads_;
  std::span<const LatencyCurve> f_;
  FeasibilityFlow flow_;
  std::vector<std::int64_t> units_;
  std::vector<bool> gpu_retired_, expert_retired_;
  std::vector<std::vector<double>> share_;
};

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
  const auto expert_gpu_share = ShareRounds(p, expert_loads, f).solve();

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
      shares[s] = expert_gpu_share[i][j] / slots_on_gpu[static_cast<std::size_t>(g)];
    }
  }
  return shares;
}

}  // namespace vibesim
