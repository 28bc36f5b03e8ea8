// `flashlb`: FlashLB, the second EPLB policy vLLM ships, written from its
// description. Per layer, from the recorded load windows (T windows × N
// experts): each expert's mean μ, variance and covariance (Eigen); its risk
// weight μ + z·σ (z = 0.674, the 75th percentile); replica counts chosen by a
// tree search over groups of experts in order of weight (depth 4, ±8
// neighbours around a proportional start), each candidate scored by the mean
// over windows of max-GPU load × G / total load of its LPT deployment; LPT
// deployment of the replicas, heaviest μ/r first, each onto the GPU with a
// free slot, not yet hosting the expert, whose risk μ_g + z·σ_g (variances
// and covariances of the replicas it hosts) grows least. Re-placing, GPUs are
// relabelled to keep the most experts where they were, then staying experts
// keep their slots. Balances token counts: blind to GPU speed, like EPLB.
#include <algorithm>
#include <cmath>
#include <memory>
#include <numeric>
#include <optional>
#include <span>

#include <Eigen/Dense>

#include "policies/heaviest_first.h"
#include "policies/placement_policy.h"

namespace vibesim {
namespace {

constexpr double kZScore = 0.674;  // Φ⁻¹(0.75)
constexpr int kTreeDepth = 4;
constexpr int kSearchWidth = 8;

struct LoadStatistics {
  Eigen::MatrixXd windows;  // T × N
  Eigen::VectorXd mean, variance;
  Eigen::MatrixXd covariance;  // N × N; zero with one window
};

LoadStatistics statistics(const PlacementContext& c, int layer) {
  const auto n = static_cast<Eigen::Index>(c.num_experts);
  LoadStatistics s;
  if (c.load_windows) {
    const auto& w = (*c.load_windows)[static_cast<std::size_t>(layer)];
    s.windows.resize(static_cast<Eigen::Index>(w.size()), n);
    for (std::size_t t = 0; t < w.size(); ++t)
      for (Eigen::Index e = 0; e < n; ++e)
        s.windows(static_cast<Eigen::Index>(t), e) = w[t][static_cast<std::size_t>(e)];
  } else {
    const auto& m = c.expert_loads[static_cast<std::size_t>(layer)];
    s.windows = Eigen::Map<const Eigen::RowVectorXd>(m.data(), n);
  }
  s.mean = s.windows.colwise().mean().transpose();
  const auto t = s.windows.rows();
  if (t > 1) {
    const Eigen::MatrixXd centred = s.windows.rowwise() - s.mean.transpose();
    s.covariance = centred.transpose() * centred / static_cast<double>(t - 1);
  } else {
    s.covariance = Eigen::MatrixXd::Zero(n, n);
  }
  s.variance = s.covariance.diagonal();
  return s;
}

// One replica each, plus `extra` shared in proportion to `weight` (largest
// remainders first, lowest index on ties), at most `cap` each; empty when the
// experts cannot absorb `extra`.
std::vector<int> proportional_replicas(const std::vector<double>& weight, int extra, int cap) {
  const auto n = weight.size();
  std::vector<int> count(n, 1);
  if (static_cast<long>(n) * (cap - 1) < extra) return {};
  std::vector<bool> capped(n, false);
  while (extra > 0) {
    double total = 0;
    std::size_t open = 0;
    for (std::size_t i = 0; i < n; ++i)
      if (!capped[i]) total += weight[i], ++open;
    std::vector<double> quota(n, 0);
    for (std::size_t i = 0; i < n; ++i)
      if (!capped[i])
        quota[i] = total > 0 ? weight[i] / total * extra : static_cast<double>(extra) / open;
    int given = 0;
    std::vector<std::size_t> by_fraction;
    for (std::size_t i = 0; i < n; ++i) {
      if (capped[i]) continue;
      const int add = std::min(static_cast<int>(std::floor(quota[i])), cap - count[i]);
      count[i] += add;
      given += add;
      by_fraction.push_back(i);
    }
    std::stable_sort(by_fraction.begin(), by_fraction.end(), [&](std::size_t a, std::size_t b) {
      return quota[a] - std::floor(quota[a]) > quota[b] - std::floor(quota[b]);
    });
    for (const auto i : by_fraction)
      if (given < extra && count[i] < cap) ++count[i], ++given;
    for (std::size_t i = 0; i < n; ++i) capped[i] = count[i] >= cap;
    extra -= given;
  }
  return count;
}

// The deployment of `replicas` (per expert) onto G GPUs of K slots: [gpu][slot].
// Per GPU it keeps, for every expert, the variance that expert's next replica
// would add there (its own term, then each hosted replica's covariance terms
// in hosting order, the same sums in the same order as recomputing them), and
// how many replicas of each expert it hosts: O(G + N) per replica placed.
std::vector<std::vector<int>> lpt_deployment(const LoadStatistics& s,
                                             const std::vector<int>& replicas, int gpus,
                                             int slots) {
  const auto n = replicas.size();
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  const auto per_replica = [&](std::size_t e) {
    return s.mean(static_cast<Eigen::Index>(e)) / replicas[e];
  };
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return per_replica(a) > per_replica(b); });
  const auto covariance_term = [&](std::size_t i, std::size_t j) {
    return 2 * s.covariance(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) /
           (static_cast<double>(replicas[i]) * replicas[j]);
  };
  std::vector<std::vector<int>> hosted(static_cast<std::size_t>(gpus));
  std::vector<double> gpu_mean(hosted.size(), 0), gpu_var(hosted.size(), 0);
  std::vector<std::vector<double>> added_variance(hosted.size(), std::vector<double>(n));
  for (auto& per_expert : added_variance)
    for (std::size_t e = 0; e < n; ++e)
      per_expert[e] = s.variance(static_cast<Eigen::Index>(e)) /
                      (static_cast<double>(replicas[e]) * replicas[e]);
  std::vector<std::vector<int>> copies(hosted.size(), std::vector<int>(n, 0));
  for (const auto e : order) {
    for (int r = 0; r < replicas[e]; ++r) {
      int best = -1;
      double best_risk = 0, best_var = 0;
      for (int pass = 0; pass < 2 && best < 0; ++pass) {  // pass 1: a GPU already hosting it
        for (std::size_t g = 0; g < hosted.size(); ++g) {
          if (static_cast<int>(hosted[g].size()) >= slots) continue;
          if (copies[g][e] > 0 && pass == 0) continue;
          const double var = gpu_var[g] + added_variance[g][e];
          const double risk =
              gpu_mean[g] + per_replica(e) + kZScore * std::sqrt(std::max(0.0, var));
          if (best < 0 || risk < best_risk)
            best = static_cast<int>(g), best_risk = risk, best_var = var;
        }
      }
      const auto g = static_cast<std::size_t>(best);
      gpu_mean[g] += per_replica(e);
      gpu_var[g] = best_var;
      hosted[g].push_back(static_cast<int>(e));
      ++copies[g][e];
      for (std::size_t i = 0; i < n; ++i) added_variance[g][i] += covariance_term(i, e);
    }
  }
  return hosted;
}

// Mean over windows of (max GPU load × G) / total load: 1 is perfect balance.
double balance_score(const LoadStatistics& s, const std::vector<int>& replicas,
                     const std::vector<std::vector<int>>& deployment) {
  double sum = 0;
  for (Eigen::Index t = 0; t < s.windows.rows(); ++t) {
    double max_load = 0, total = 0;
    for (const auto& gpu : deployment) {
      double load = 0;
      for (const int e : gpu) load += s.windows(t, e) / replicas[static_cast<std::size_t>(e)];
      max_load = std::max(max_load, load);
      total += load;
    }
    sum += total > 0 ? max_load * static_cast<double>(deployment.size()) / total : 1.0;
  }
  return sum / static_cast<double>(s.windows.rows());
}

// FlashLB's tree search over replica counts for one layer. The experts, in
// order of risk weight, are cut into kTreeDepth groups; group by group it
// tries, around the proportional split of the replicas still free, up to
// kSearchWidth more or fewer for the group (the rest shared in proportion by
// the groups after it) and keeps the count whose LPT deployment balances best.
class ReplicaCountSearch {
 public:
  ReplicaCountSearch(const LoadStatistics& s, int gpus, int slots)
      : s_(s), gpus_(gpus), slots_(slots) {
    const auto n = static_cast<std::size_t>(s.mean.size());
    weight_.resize(n);
    for (std::size_t e = 0; e < n; ++e) {
      const auto i = static_cast<Eigen::Index>(e);
      weight_[e] = s.mean(i) + kZScore * std::sqrt(std::max(0.0, s.variance(i)));
    }
    by_weight_ = heaviest_first(weight_);
    replicas_.assign(n, 1);
  }

  // Replicas per expert.
  std::vector<int> run() {
    const int n = static_cast<int>(by_weight_.size());
    int available = gpus_ * slots_ - n;
    std::size_t fixed = 0;  // experts (in weight order) whose replica count is decided
    const int group = (n + kTreeDepth - 1) / kTreeDepth;
    const std::span<const int> all(by_weight_);
    for (int node = 0; node + 1 < kTreeDepth && available > 0; ++node) {
      const auto current =
          all.subspan(static_cast<std::size_t>(std::min(n, node * group)),
                      static_cast<std::size_t>(std::clamp(n - node * group, 0, group)));
      const auto rest = all.subspan(static_cast<std::size_t>(std::min(n, (node + 1) * group)));
      const auto extra = best_extra(current, rest, available);
      if (!extra) break;  // nothing feasible: keep the proportional split below
      assign(current, allocate(current, *extra));
      available -= *extra;
      fixed += current.size();
      if (node + 2 == kTreeDepth || available == 0) {
        if (!rest.empty()) assign(rest, allocate(rest, available));
        available = 0;
        fixed = by_weight_.size();
      }
    }
    if (available > 0) {  // the search stopped early: the unfixed experts in proportion
      const auto unfixed = all.subspan(fixed);
      assign(unfixed, allocate(unfixed, available));
    }
    return replicas_;
  }

 private:
  // Replica counts for `experts` (ids) with `extra` replicas beyond one each;
  // empty if infeasible.
  std::vector<int> allocate(std::span<const int> experts, int extra) const {
    std::vector<double> w;
    for (const int e : experts) w.push_back(weight_[static_cast<std::size_t>(e)]);
    return proportional_replicas(w, extra, gpus_);
  }

  void assign(std::span<const int> experts, const std::vector<int>& counts) {
    for (std::size_t i = 0; i < experts.size(); ++i)
      replicas_[static_cast<std::size_t>(experts[i])] = counts[i];
  }

  // The extra replicas for `current` (the rest of `available` going to
  // `rest`) whose deployment scores best, trying the proportional start, then
  // one fewer, one more, two fewer, ...; none if no split is feasible.
  std::optional<int> best_extra(std::span<const int> current, std::span<const int> rest,
                                int available) const {
    const std::size_t first =
        static_cast<std::size_t>(by_weight_.size() - current.size() - rest.size());
    const auto together = allocate(std::span<const int>(by_weight_).subspan(first), available);
    int start = 0;
    for (std::size_t i = 0; i < current.size() && !together.empty(); ++i) start += together[i] - 1;
    std::optional<int> best;
    double best_score = 0;
    for (int step = 0; step <= 2 * kSearchWidth; ++step) {
      const int extra = start + (step % 2 == 0 ? step / 2 : -(step + 1) / 2);
      if (extra < 0 || extra > available) continue;
      const auto mine = allocate(current, extra), theirs = allocate(rest, available - extra);
      if (mine.empty() || (theirs.empty() && !rest.empty()) || (rest.empty() && extra != available))
        continue;
      auto trial = replicas_;
      for (std::size_t i = 0; i < current.size(); ++i)
        trial[static_cast<std::size_t>(current[i])] = mine[i];
      for (std::size_t i = 0; i < rest.size(); ++i)
        trial[static_cast<std::size_t>(rest[i])] = theirs[i];
      const double score = balance_score(s_, trial, lpt_deployment(s_, trial, gpus_, slots_));
      if (!best || score < best_score) best = extra, best_score = score;
    }
    return best;
  }

  const LoadStatistics& s_;
  int gpus_, slots_;
  std::vector<double> weight_;  // risk weight μ + z·σ per expert
  std::vector<int> by_weight_;  // expert ids, heaviest weight first (heaviest_first)
  std::vector<int> replicas_;   // per expert, as decided so far (1 = undecided)
};

class FlashLbPlacement final : public PlacementPolicy {
 public:
  Placement place(const PlacementContext& c) const override;

 private:
  static std::vector<std::vector<int>> place_layer(const PlacementContext& c, int layer);
};

// The tree search over replica counts, then the LPT deployment: [gpu][slot].
std::vector<std::vector<int>> FlashLbPlacement::place_layer(const PlacementContext& c, int layer) {
  const auto s = statistics(c, layer);
  const auto replicas = ReplicaCountSearch(s, c.num_gpus, c.max_slots_per_gpu).run();
  return lpt_deployment(s, replicas, c.num_gpus, c.max_slots_per_gpu);
}

// Old GPU g' → new GPU: greedily by most experts shared, so that re-placing
// moves as few experts as FlashLB's relabelling allows (GPUs are alike to it).
std::vector<std::vector<int>> relabel_gpus(const std::vector<std::vector<int>>& deployment,
                                           std::span<const int> old_slots, int slots, int experts) {
  const auto gpus = deployment.size();
  std::vector<std::vector<int>> shared(gpus, std::vector<int>(gpus, 0));
  std::vector<int> old_copies(static_cast<std::size_t>(experts));  // per expert, on GPU `to`
  for (std::size_t to = 0; to < gpus; ++to) {
    std::fill(old_copies.begin(), old_copies.end(), 0);
    for (auto k = to * static_cast<std::size_t>(slots); k < (to + 1) * slots; ++k)
      if (old_slots[k] >= 0 && old_slots[k] < experts)
        ++old_copies[static_cast<std::size_t>(old_slots[k])];
    for (std::size_t from = 0; from < gpus; ++from)
      for (const int e : deployment[from])
        shared[to][from] += old_copies[static_cast<std::size_t>(e)];
  }
  std::vector<std::vector<int>> out(gpus);
  std::vector<bool> taken_to(gpus, false), taken_from(gpus, false);
  for (std::size_t k = 0; k < gpus; ++k) {
    std::size_t best_to = 0, best_from = 0;
    int best = -1;
    for (std::size_t to = 0; to < gpus; ++to)
      for (std::size_t from = 0; from < gpus; ++from)
        if (!taken_to[to] && !taken_from[from] && shared[to][from] > best)
          best = shared[to][from], best_to = to, best_from = from;
    taken_to[best_to] = taken_from[best_from] = true;
    out[best_to] = deployment[best_from];
  }
  return out;
}

Placement FlashLbPlacement::place(const PlacementContext& c) const {
  Placement p{c.num_gpus, c.max_slots_per_gpu, {}};
  const bool relabel = c.current != nullptr && c.current->slots_per_gpu == c.max_slots_per_gpu;
  for (int l = 0; l < c.num_layers(); ++l) {
    c.between_layers(l);
    auto deployment = place_layer(c, l);
    if (relabel)
      deployment =
          relabel_gpus(deployment, c.current->physical_to_logical[static_cast<std::size_t>(l)],
                       c.max_slots_per_gpu, c.num_experts);
    std::vector<int> layer;
    for (const auto& gpu : deployment) layer.insert(layer.end(), gpu.begin(), gpu.end());
    p.physical_to_logical.push_back(std::move(layer));
  }
  // keep_slots_in_place (applied after every re-placement) keeps staying experts in their slots.
  return p;
}

}  // namespace

std::unique_ptr<PlacementPolicy> make_flashlb_policy() {
  return std::make_unique<FlashLbPlacement>();
}

}  // namespace vibesim
