#include "policies/latency_packing.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <numeric>

namespace vibesim {

namespace {

// The best exchange of `k` items (k = 1 or 2) of GPU `hot` with `k` items of
// GPU `other` that brings the pair's larger latency below `bound`.
struct Exchange {
  std::size_t other = 0;
  int k = 0;  // items exchanged each way: slots [0, k) of the arrays below
  std::array<std::size_t, 2> hot_slots{}, other_slots{};
  double pair_max = 0;
};

// k items of one GPU, by position in its item list, and their summed weight.
struct ItemSet {
  double weight = 0;
  std::array<std::size_t, 2> slots{};
};

// The sets of k items (k = 1 or 2) of `items`, by position.
void fill_item_sets(const std::vector<int>& items, std::span<const double> weight, int k,
                    std::vector<ItemSet>& sets) {
  sets.clear();
  const auto n = items.size();
  sets.reserve(k == 1 ? n : n * (n - 1) / 2);  // once per GPU and size, not by doubling
  const auto w = [&](std::size_t i) { return weight[static_cast<std::size_t>(items[i])]; };
  if (k == 1) {
    for (std::size_t i = 0; i < n; ++i) sets.push_back({w(i), {i, 0}});
    return;
  }
  for (std::size_t i1 = 0; i1 < n; ++i1)
    for (std::size_t i2 = i1 + 1; i2 < n; ++i2) sets.push_back({w(i1) + w(i2), {i1, i2}});
}

// Every GPU's item sets of each size, sorted by weight (then position); a
// GPU's are rebuilt only after a swap changed its items.
class SortedItemSets {
 public:
  SortedItemSets(const GpuBins& bins, std::span<const double> weight)
      : bins_(bins), weight_(weight) {
    for (int k = 0; k < 2; ++k) {
      sets_[k].resize(bins.items.size());
      stale_[k].assign(bins.items.size(), 1);
    }
  }

  const std::vector<ItemSet>& of(std::size_t gpu, int k) {
    auto& sets = sets_[k - 1][gpu];
    if (stale_[k - 1][gpu]) {
      fill_item_sets(bins_.items[gpu], weight_, k, sets);
      std::sort(sets.begin(), sets.end(), [](const ItemSet& x, const ItemSet& y) {
        return x.weight < y.weight || (x.weight == y.weight && x.slots < y.slots);
      });
      stale_[k - 1][gpu] = 0;
    }
    return sets;
  }

  void changed(std::size_t gpu) { stale_[0][gpu] = stale_[1][gpu] = 1; }

 private:
  const GpuBins& bins_;
  std::span<const double> weight_;
  std::array<std::vector<std::vector<ItemSet>>, 2> sets_;
  std::array<std::vector<char>, 2> stale_;  // char, not bool: read per partner per round
};

// What the searches of one round share: the hot GPU, the size of the item
// sets exchanged, and the best exchange so far.
struct SwapRound {
  SwapRound(const GpuBins& bins_in, std::span<const LatencyCurve> f_in,
            const ForbiddenMove& forbidden_in, std::size_t hot_gpu)
      : bins(bins_in), f(f_in), forbidden(forbidden_in), hot(hot_gpu) {}

  const GpuBins& bins;
  std::span<const LatencyCurve> f;
  const ForbiddenMove& forbidden;
  std::size_t hot = 0;
  int k = 1;
  Exchange best;
  bool found = false;
  // The hot curve's segment of the last candidate's tokens, where the next
  // one most likely falls (LatencyCurve::latency_ns).
  std::size_t hot_segment = 0;

  // f_hot.tokens_within(from, bound) for 0 <= from <= tokens on the hot GPU;
  // on a curve that never decreases, from one inversion per bound, since
  // then the answer does not depend on `from` until `from` passes it.
  double hot_tokens_within(double from, double bound) {
    const auto& curve = f[hot];
    if (!curve.non_decreasing()) return curve.tokens_within(from, bound);
    if (bound != inverted_bound_) {
      inverted_bound_ = bound;
      inverted_tokens_ = curve.tokens_within(0, bound);
    }
    return from > inverted_tokens_ ? -std::numeric_limits<double>::infinity() : inverted_tokens_;
  }

 private:
  double inverted_bound_ = std::numeric_limits<double>::quiet_NaN(), inverted_tokens_ = 0;
};

// The best exchange of the round's hot GPU with one partner.
class ExchangeSearch {
 public:
  // `other_now`: the partner's tokens on its curve, which the round keeps.
  ExchangeSearch(SwapRound& round, std::size_t other, const CurvePoint& other_now)
      : round_(round),
        bins_(round.bins),
        f_(round.f),
        hot_(round.hot),
        other_(other),
        k_(round.k),
        best_(round.best),
        other_now_(other_now),
        other_segment_(other_now.segment) {}

  // The hot GPU's and the partner's sets of k items, each sorted by weight.
  // Where both curves never decrease over the tokens an exchange can move,
  // only the exchanges that shift a number of tokens inside the window that
  // could still beat the best exchange so far (scan_window); elsewhere every
  // one.
  void search(const std::vector<ItemSet>& hot_sets, const std::vector<ItemSet>& other_sets) {
    if (hot_sets.empty() || other_sets.empty()) return;
    const double t_hot = bins_.tokens[hot_], t_other = bins_.tokens[other_];
    // The partner is already at the bound and can only rise: nothing helps.
    if (other_now_.latency_ns >= best_.pair_max - 1e-9 &&
        f_[other_].non_decreasing_over(t_other, t_other + hot_sets.back().weight))
      return;
    const double max_delta = std::max(0.0, hot_sets.back().weight - other_sets.front().weight);
    if (f_[other_].non_decreasing_over(t_other, t_other + max_delta) &&
        f_[hot_].non_decreasing_over(t_hot - max_delta, t_hot)) {
      scan_window(hot_sets, other_sets, max_delta);
      return;
    }
    update_skip();
    for (const auto& hs : hot_sets)
      for (const auto& os : other_sets)
        if (consider(hs, os)) update_skip();
  }

 private:
  // Both sides by ascending weight, as a merge: a hot set's partner sets in
  // the window lie between a lower end that only moves up (heavier hot sets,
  // narrower window) and the window's other edge. Within them, outwards from
  // the window's middle, near where the two GPUs' latencies cross, so that
  // the first exchanges tried narrow the window most.
  void scan_window(const std::vector<ItemSet>& hot_sets, const std::vector<ItemSet>& other_sets,
                   double max_delta) {
    auto window = improving_shifts(max_delta);
    const auto weight_below = [](const ItemSet& x, double w) { return x.weight < w; };
    auto lowest = other_sets.begin();  // lighter partner sets shift more than the window allows
    // Lighter hot sets cannot shed enough even for the lightest partner set
    // (most of them, on a hot GPU just above the mean): start past them.
    const auto too_light = [&](const ItemSet& hs) {
      return hs.weight - other_sets.front().weight < window.least;
    };
    for (auto hs_it = std::partition_point(hot_sets.begin(), hot_sets.end(), too_light);
         hs_it != hot_sets.end(); ++hs_it) {
      const auto& hs = *hs_it;
      if (window.least > window.most) return;
      // Heavier hot sets shed more than the heaviest partner set allows.
      if (hs.weight - other_sets.back().weight > window.most) return;
      // delta = hs.weight - os.weight: ascending partner weight, descending delta.
      while (lowest != other_sets.end() && hs.weight - lowest->weight > window.most) ++lowest;
      auto past = lowest;
      while (past != other_sets.end() && hs.weight - past->weight >= window.least) ++past;
      const auto middle = std::lower_bound(
          lowest, past, hs.weight - (window.least + window.most) / 2, weight_below);
      for (auto j = middle; j != past && hs.weight - j->weight >= window.least; ++j)
        if (consider(hs, *j)) window = improving_shifts(max_delta);
      for (auto j = middle; j != lowest && hs.weight - (j - 1)->weight <= window.most;)
        if (consider(hs, *--j)) window = improving_shifts(max_delta);
    }
  }

  // The partner's side usually fails (it gains work), so it is checked first:
  // without evaluating its curve where `delta` is surely past the bound (for
  // the full scan; the window of improving shifts rules out more).
  void update_skip() {
    const double t = bins_.tokens[other_];
    const double x = f_[other_].tokens_surely_reaching(t, best_.pair_max - 1e-9);
    const double d = x - t;                      // +inf when nothing can be skipped
    skip_above_ = d + 1e-6 * (1 + std::abs(d));  // past x even after rounding t + delta
  }

  // The token shifts delta in [least, most] that might bring both GPUs below
  // the best pair latency so far, on curves that never decrease over the
  // shifts up to max_delta: the hot GPU must shed at least t_hot -
  // f_hot^-1(bound), the partner can take at most f_other^-1(bound) - t_other.
  // With a margin for rounding, so that it only rules out what consider()
  // would reject. Empty (least > most) when none can.
  struct ShiftWindow {
    double least = 0, most = 0;
  };
  ShiftWindow improving_shifts(double max_delta) const {
    const double bound = best_.pair_max - 1e-9;
    const double t_hot = bins_.tokens[hot_], t_other = bins_.tokens[other_];
    const double must_shed =
        t_hot - round_.hot_tokens_within(std::max(0.0, t_hot - max_delta), bound);
    const double can_take = f_[other_].tokens_within(other_now_, bound) - t_other;
    const double margin = 1e-9 * (1 + t_hot + t_other);
    return {must_shed - margin, std::min(can_take, max_delta) + margin};
  }

  bool allowed(const ItemSet& hs, const ItemSet& os) const {
    const auto& forbidden = round_.forbidden;
    if (!forbidden) return true;
    const auto& h = bins_.items[hot_];
    const auto& o = bins_.items[other_];
    for (int i = 0; i < k_; ++i) {
      const auto a = h[hs.slots[static_cast<std::size_t>(i)]];
      const auto b = o[os.slots[static_cast<std::size_t>(i)]];
      if (forbidden(a, static_cast<int>(other_)) || forbidden(b, static_cast<int>(hot_)))
        return false;
    }
    return true;
  }

  // Records the exchange if it is allowed and beats the best so far (by more
  // than 1e-9 ns); whether it is allowed is asked last, since that costs most.
  bool consider(const ItemSet& hs, const ItemSet& os) {
    const double delta = hs.weight - os.weight;
    if (delta <= 0 || delta > skip_above_) return false;
    const double bound = best_.pair_max - 1e-9;
    const double other_latency =
        f_[other_].latency_ns(bins_.tokens[other_] + delta, other_segment_);
    if (other_latency >= bound) return false;
    const double pair_max = std::max(
        f_[hot_].latency_ns(bins_.tokens[hot_] - delta, round_.hot_segment), other_latency);
    if (pair_max >= bound || !allowed(hs, os)) return false;
    best_ = {other_, k_, hs.slots, os.slots, pair_max};
    round_.found = true;
    return true;
  }

  SwapRound& round_;
  const GpuBins& bins_;
  std::span<const LatencyCurve> f_;
  std::size_t hot_, other_;
  int k_;
  Exchange& best_;
  const CurvePoint& other_now_;
  double skip_above_ = std::numeric_limits<double>::infinity();  // see update_skip
  // The partner's curve segment of the last candidate's tokens, like the
  // round's hot_segment.
  std::size_t other_segment_;
};

// Every GPU's predicted latency (and its tokens' point on its curve) and the
// GPUs in ascending order of latency (ties by index), kept current as swaps
// change two GPUs at a time.
class LatencyOrder {
 public:
  LatencyOrder(const GpuBins& bins, std::span<const LatencyCurve> f)
      : bins_(bins), f_(f), latency_(bins.tokens.size()), order_(bins.tokens.size()) {
    for (std::size_t g = 0; g < latency_.size(); ++g) {
      points_.push_back(f[g].at(bins.tokens[g]));
      latency_[g] = points_[g].latency_ns;
    }
    std::iota(order_.begin(), order_.end(), std::size_t{0});
    std::sort(order_.begin(), order_.end(), [&](auto a, auto b) { return before(a, b); });
  }

  [[nodiscard]] const std::vector<double>& latency_ns() const { return latency_; }
  [[nodiscard]] const CurvePoint& point(std::size_t g) const { return points_[g]; }
  [[nodiscard]] const std::vector<std::size_t>& coldest_first() const { return order_; }

  // GPU g's tokens changed.
  void update(std::size_t g) {
    order_.erase(std::find(order_.begin(), order_.end(), g));
    points_[g] = f_[g].at(bins_.tokens[g]);
    latency_[g] = points_[g].latency_ns;
    order_.insert(std::lower_bound(order_.begin(), order_.end(), g,
                                   [&](auto a, auto b) { return before(a, b); }),
                  g);
  }

 private:
  [[nodiscard]] bool before(std::size_t a, std::size_t b) const {
    return latency_[a] < latency_[b] || (latency_[a] == latency_[b] && a < b);
  }

  const GpuBins& bins_;
  std::span<const LatencyCurve> f_;
  std::vector<double> latency_;  // points_' latencies, contiguous for the max and the mean
  std::vector<CurvePoint> points_;
  std::vector<std::size_t> order_;
};

void apply(const Exchange& exchange, std::size_t hot, GpuBins& bins,
           std::span<const double> weight) {
  for (std::size_t i = 0; i < static_cast<std::size_t>(exchange.k); ++i) {
    auto& a = bins.items[hot][exchange.hot_slots[i]];
    auto& b = bins.items[exchange.other][exchange.other_slots[i]];
    const double delta = weight[static_cast<std::size_t>(a)] - weight[static_cast<std::size_t>(b)];
    bins.tokens[hot] -= delta;
    bins.tokens[exchange.other] += delta;
    std::swap(a, b);
  }
}

}  // namespace

int improve_by_swaps(GpuBins& bins, std::span<const double> weight, std::span<const LatencyCurve> f,
                     double epsilon, bool any_partner, int max_swaps, int pair_swap_items,
                     const ForbiddenMove& forbidden, const std::function<void()>& checkpoint) {
  const auto g_count = bins.tokens.size();
  LatencyOrder order(bins, f);
  const auto& latency = order.latency_ns();
  SortedItemSets sorted(bins, weight);
  int swaps = 0;
  while (swaps < max_swaps) {
    if (checkpoint && swaps % 16 == 0) checkpoint();
    const auto hot = static_cast<std::size_t>(std::max_element(latency.begin(), latency.end()) -
                                              latency.begin());
    const double mean =
        std::accumulate(latency.begin(), latency.end(), 0.0) / static_cast<double>(g_count);
    if (latency[hot] <= (1 + epsilon) * mean) break;
    const auto cold = order.coldest_first().front();
    SwapRound round(bins, f, forbidden, hot);
    round.best.pair_max = latency[hot];
    round.hot_segment = order.point(hot).segment;
    // Partners coldest first: a good exchange found early lets the searches of
    // the others stop at once.
    for (int k = 1; k <= 2 && !round.found; ++k) {
      if (k == 2 && static_cast<int>(bins.items[hot].size()) > pair_swap_items) break;
      round.k = k;
      const auto& hot_sets = sorted.of(hot, k);
      for (const std::size_t other : order.coldest_first()) {
        if (other == hot || (!any_partner && other != cold)) continue;
        if (k == 2 && static_cast<int>(bins.items[other].size()) > pair_swap_items) continue;
        ExchangeSearch(round, other, order.point(other)).search(hot_sets, sorted.of(other, k));
      }
    }
    if (!round.found) break;
    const auto& best = round.best;
    apply(best, hot, bins, weight);
    for (const auto g : {hot, best.other}) {
      order.update(g);
      sorted.changed(g);
    }
    ++swaps;
  }
  return swaps;
}

double predicted_layer_latency_ns(const Placement& placement, int layer,
                                  const PlacementContext& context,
                                  std::span<const LatencyCurve> f) {
  const auto tokens =
      gpu_tokens(placement, layer, context.expert_loads[static_cast<std::size_t>(layer)]);
  double worst = 0;
  for (std::size_t g = 0; g < tokens.size(); ++g)
    worst = std::max(worst, f[g].latency_ns(tokens[g]));
  return worst;
}

std::vector<LatencyCurve> with_all_to_all(std::span<const LatencyCurve> f, double ns_per_token) {
  std::vector<LatencyCurve> out;
  for (const auto& fg : f) {
    auto latency = fg.latency_points_ns();
    for (std::size_t i = 0; i < latency.size(); ++i) latency[i] += ns_per_token * fg.tokens()[i];
    out.emplace_back(fg.tokens(), std::move(latency));
  }
  return out;
}

std::vector<double> replica_weights(std::span<const int> item_expert,
                                    std::span<const double> expert_loads) {
  std::vector<int> count(expert_loads.size(), 0);
  for (int e : item_expert) ++count[static_cast<std::size_t>(e)];
  std::vector<double> weight;
  weight.reserve(item_expert.size());
  for (int e : item_expert)
    weight.push_back(expert_loads[static_cast<std::size_t>(e)] /
                     count[static_cast<std::size_t>(e)]);
  return weight;
}

ForbiddenMove no_two_replicas_per_gpu(const GpuBins& bins, std::span<const int> item_expert) {
  // An expert with one replica cannot meet another: most need no scan.
  const auto experts =
      item_expert.empty() ? 0 : *std::max_element(item_expert.begin(), item_expert.end()) + 1;
  std::vector<int> replicas(static_cast<std::size_t>(experts), 0);
  for (const int expert : item_expert) ++replicas[static_cast<std::size_t>(expert)];
  return [&bins, item_expert, replicas = std::move(replicas)](int item, int gpu) {
    const int expert = item_expert[static_cast<std::size_t>(item)];
    if (replicas[static_cast<std::size_t>(expert)] == 1) return false;
    for (int other : bins.items[static_cast<std::size_t>(gpu)])
      if (item_expert[static_cast<std::size_t>(other)] == expert) return true;
    return false;
  };
}

std::vector<int> slots_of(const GpuBins& bins, std::span<const int> item_expert) {
  std::vector<int> slots;
  slots.reserve(item_expert.size());
  for (const auto& gpu : bins.items)
    for (int item : gpu) slots.push_back(item_expert[static_cast<std::size_t>(item)]);
  return slots;
}

}  // namespace vibesim
