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

// Where moving delta tokens from `hot` to `other` stops helping: with
// A(d) = f_hot(T_hot - d) and B(d) = f_other(T_other + d), B <= A on
// [0, below] and B > A on [above, max_delta]. The pair's larger latency is
// A (non-increasing) left of the crossing and B (non-decreasing) right of it,
// so on non-decreasing curves the best exchange is the last one at or below
// `below`, the first at or above `above`, or one in between.
struct Crossing {
  double below = 0, above = 0;
};

Crossing find_crossing(const LatencyCurve& f_hot, double t_hot, const LatencyCurve& f_other,
                       double t_other, double max_delta) {
  const auto h = [&](double d) {
    return f_other.latency_ns(t_other + d) - f_hot.latency_ns(t_hot - d);
  };
  double a = 0, b = max_delta, ha = h(a), hb = h(b);
  // Every move overloads the partner: no exchange lies left of the crossing.
  if (ha > 0) return {-std::numeric_limits<double>::infinity(), 0};
  if (hb <= 0) return {b, std::numeric_limits<double>::infinity()};
  // Illinois regula falsi: exact within a few steps on piecewise-linear curves.
  const double tolerance = 1e-12 * std::max(1.0, max_delta);
  int side = 0;
  for (int i = 0; i < 100 && b - a > tolerance; ++i) {
    double d = (a * hb - b * ha) / (hb - ha);
    if (!(d > a && d < b)) d = a + (b - a) / 2;
    const double hd = h(d);
    if (hd <= 0) {
      a = d, ha = hd;
      if (side == -1) hb /= 2;
      side = -1;
    } else {
      b = d, hb = hd;
      if (side == 1) ha /= 2;
      side = 1;
    }
    if (hd == 0) return {d, d};
  }
  return {a, b};
}

// The sets of k items (k = 1 or 2) of `items`, in scan order.
void fill_item_sets(const std::vector<int>& items, std::span<const double> weight, int k,
                    std::vector<ItemSet>& sets) {
  sets.clear();
  const auto w = [&](std::size_t i) { return weight[static_cast<std::size_t>(items[i])]; };
  if (k == 1) {
    for (std::size_t i = 0; i < items.size(); ++i) sets.push_back({w(i), {i, 0}});
    return;
  }
  for (std::size_t i1 = 0; i1 < items.size(); ++i1)
    for (std::size_t i2 = i1 + 1; i2 < items.size(); ++i2)
      sets.push_back({w(i1) + w(i2), {i1, i2}});
}

// Every GPU's item sets of each size, sorted by weight (then position); a
// GPU's are rebuilt only after a swap changed its items.
class SortedItemSets {
 public:
  SortedItemSets(const GpuBins& bins, std::span<const double> weight)
      : bins_(bins), weight_(weight) {
    for (int k = 0; k < 2; ++k) {
      sets_[k].resize(bins.items.size());
      stale_[k].assign(bins.items.size(), true);
    }
  }

  const std::vector<ItemSet>& of(std::size_t gpu, int k) {
    auto& sets = sets_[k - 1][gpu];
    if (stale_[k - 1][gpu]) {
      fill_item_sets(bins_.items[gpu], weight_, k, sets);
      std::sort(sets.begin(), sets.end(), [](const ItemSet& x, const ItemSet& y) {
        return x.weight < y.weight || (x.weight == y.weight && x.slots < y.slots);
      });
      stale_[k - 1][gpu] = false;
    }
    return sets;
  }

  void changed(std::size_t gpu) { stale_[0][gpu] = stale_[1][gpu] = true; }

 private:
  const GpuBins& bins_;
  std::span<const double> weight_;
  std::array<std::vector<std::vector<ItemSet>>, 2> sets_;
  std::array<std::vector<bool>, 2> stale_;
};

// The smallest positive hs.weight - os.weight over two weight-sorted lists.
double smallest_positive_delta(const std::vector<ItemSet>& hot_sorted,
                               const std::vector<ItemSet>& other_sorted) {
  double smallest = std::numeric_limits<double>::infinity();
  std::size_t j = 0;
  for (const auto& hs : hot_sorted) {
    while (j < other_sorted.size() && other_sorted[j].weight < hs.weight) ++j;
    if (j > 0) smallest = std::min(smallest, hs.weight - other_sorted[j - 1].weight);
  }
  return smallest;
}

class ExchangeSearch {
 public:
  ExchangeSearch(const GpuBins& bins, std::span<const double> weight,
                 std::span<const LatencyCurve> f, std::size_t hot, std::size_t other, int k,
                 const ForbiddenMove& forbidden, Exchange& best, bool& found)
      : bins_(bins),
        weight_(weight),
        f_(f),
        hot_(hot),
        other_(other),
        k_(k),
        forbidden_(forbidden),
        best_(best),
        found_(found) {}

  // Per set of hot items (`hot_sets` in scan order, `hot_sorted` by weight;
  // this search's k), only the partner sets next to the crossing, found by
  // binary search over the partner's sets sorted by weight (`other_sets`).
  // Where either curve may decrease over the tokens an exchange can move,
  // every candidate.
  void around_crossing(const std::vector<ItemSet>& hot_sets, const std::vector<ItemSet>& hot_sorted,
                       const std::vector<ItemSet>& other_sets, double other_latency_ns) {
    if (hot_sets.empty() || other_sets.empty()) return;
    const double t_hot = bins_.tokens[hot_], t_other = bins_.tokens[other_];
    const double bound = best_.pair_max - 1e-9;
    // The partner is already at the bound and can only rise: nothing helps.
    if (other_latency_ns >= bound &&
        f_[other_].non_decreasing_over(t_other, t_other + hot_sorted.back().weight))
      return;
    const double max_delta = std::max(0.0, hot_sorted.back().weight - other_sets.front().weight);
    if (found_ && !window_open(bound, max_delta)) return;
    const double min_delta = smallest_positive_delta(hot_sorted, other_sets);
    if (min_delta == std::numeric_limits<double>::infinity()) return;  // no move helps the hot GPU
    const bool other_rises = f_[other_].non_decreasing_over(t_other, t_other + max_delta);
    // Even the smallest move overloads a rising partner: nothing here helps.
    if (other_rises && f_[other_].latency_ns(t_other + min_delta) >= bound) return;
    update_skip();
    if (!other_rises || !f_[hot_].non_decreasing_over(t_hot - max_delta, t_hot)) {
      for (const auto& hs : hot_sets)
        for (const auto& os : other_sets) consider(hs, os);
      return;
    }
    const auto c = find_crossing(f_[hot_], t_hot, f_[other_], t_other, max_delta);
    // No exchange beats f_hot(t_hot - above): left of `above` the hot GPU
    // keeps at least that, right of it the partner exceeds it.
    if (std::isfinite(c.above) && f_[hot_].latency_ns(t_hot - c.above) >= best_.pair_max - 1e-9)
      return;
    const auto weight_below = [](const ItemSet& x, double w) { return x.weight < w; };
    for (const auto& hs : hot_sets) {
      // delta = hs.weight - os.weight: ascending partner weight, descending delta.
      const auto first_left =
          static_cast<std::size_t>(std::lower_bound(other_sets.begin(), other_sets.end(),
                                                    hs.weight - c.below, weight_below) -
                                   other_sets.begin());
      // Left of the crossing (delta <= below), where the pair's latency falls
      // as delta grows: the largest allowed delta > 0 that helps.
      for (auto j = first_left; j < other_sets.size(); ++j)
        if (hs.weight - other_sets[j].weight <= 0 || consider(hs, other_sets[j]) != kForbidden)
          break;
      // Between the bounds every one; right of them, where the pair's latency
      // rises with delta, the smallest allowed delta that helps.
      for (auto j = first_left; j-- > 0;)
        if (consider(hs, other_sets[j]) != kForbidden &&
            hs.weight - other_sets[j].weight >= c.above)
          break;
    }
  }

 private:
  enum Outcome { kForbidden, kNoBetter, kBetter };

  // The partner's side usually fails (it gains work), so it is checked first:
  // without evaluating its curve where `delta` is surely past the bound.
  void update_skip() {
    const double t = bins_.tokens[other_];
    const double x = f_[other_].tokens_surely_reaching(t, best_.pair_max - 1e-9);
    const double d = x - t;                      // +inf when nothing can be skipped
    skip_above_ = d + 1e-6 * (1 + std::abs(d));  // past x even after rounding t + delta
  }

  // On curves that never decrease, whether some delta in (0, max_delta] might
  // bring both GPUs below `bound`: the hot GPU must shed more than
  // t_hot - f_hot^-1(bound), the partner can take at most f_other^-1(bound) -
  // t_other. With a margin for rounding, so that it only rules out what
  // consider() would reject.
  bool window_open(double bound, double max_delta) const {
    if (!f_[hot_].non_decreasing() || !f_[other_].non_decreasing()) return true;
    const double t_hot = bins_.tokens[hot_], t_other = bins_.tokens[other_];
    const double must_shed = t_hot - f_[hot_].tokens_within(0, bound);
    const double can_take = f_[other_].tokens_within(t_other, bound) - t_other;
    const double margin = 1e-9 * (1 + t_hot + t_other);
    return must_shed - margin < std::min(can_take, max_delta) + margin;
  }

  bool allowed(const ItemSet& hs, const ItemSet& os) const {
    if (!forbidden_) return true;
    const auto& h = bins_.items[hot_];
    const auto& o = bins_.items[other_];
    for (int i = 0; i < k_; ++i) {
      const auto a = h[hs.slots[static_cast<std::size_t>(i)]];
      const auto b = o[os.slots[static_cast<std::size_t>(i)]];
      if (forbidden_(a, static_cast<int>(other_)) || forbidden_(b, static_cast<int>(hot_)))
        return false;
    }
    return true;
  }

  // Records the exchange if it beats the best so far. Whether it is allowed is
  // asked only then, since that costs most.
  Outcome consider(const ItemSet& hs, const ItemSet& os) {
    const double delta = hs.weight - os.weight;
    if (delta <= 0 || delta > skip_above_) return kNoBetter;
    const double bound = best_.pair_max - 1e-9;
    const double other_latency = f_[other_].latency_ns(bins_.tokens[other_] + delta);
    if (other_latency >= bound) return kNoBetter;
    const double pair_max =
        std::max(f_[hot_].latency_ns(bins_.tokens[hot_] - delta), other_latency);
    if (pair_max >= bound) return kNoBetter;
    if (!allowed(hs, os)) return kForbidden;
    best_ = {other_, k_, hs.slots, os.slots, pair_max};
    found_ = true;
    update_skip();
    return kBetter;
  }

  const GpuBins& bins_;
  std::span<const double> weight_;
  std::span<const LatencyCurve> f_;
  std::size_t hot_, other_;
  int k_;
  const ForbiddenMove& forbidden_;
  Exchange& best_;
  bool& found_;
  double skip_above_ = 0;
};

}  // namespace

int improve_by_swaps(GpuBins& bins, std::span<const double> weight, std::span<const LatencyCurve> f,
                     double epsilon, bool any_partner, int max_swaps, int pair_swap_items,
                     const ForbiddenMove& forbidden, const std::function<void()>& checkpoint) {
  const auto g_count = bins.tokens.size();
  std::vector<double> latency(g_count);
  SortedItemSets sorted(bins, weight);
  std::vector<ItemSet> hot_sets;  // in scan order
  std::vector<std::size_t> by_latency(g_count);
  int swaps = 0;
  while (swaps < max_swaps) {
    if (checkpoint && swaps % 16 == 0) checkpoint();
    for (std::size_t g = 0; g < g_count; ++g) latency[g] = f[g].latency_ns(bins.tokens[g]);
    const auto hot = static_cast<std::size_t>(std::max_element(latency.begin(), latency.end()) -
                                              latency.begin());
    const double mean =
        std::accumulate(latency.begin(), latency.end(), 0.0) / static_cast<double>(g_count);
    if (latency[hot] <= (1 + epsilon) * mean) break;
    const auto cold = static_cast<std::size_t>(std::min_element(latency.begin(), latency.end()) -
                                               latency.begin());
    Exchange best;
    best.pair_max = latency[hot];
    bool found = false;
    // Partners coldest first: a good exchange found early lets the searches of
    // the others stop at once.
    std::iota(by_latency.begin(), by_latency.end(), std::size_t{0});
    std::sort(by_latency.begin(), by_latency.end(), [&](std::size_t a, std::size_t b) {
      return latency[a] < latency[b] || (latency[a] == latency[b] && a < b);
    });
    for (int k = 1; k <= 2 && !found; ++k) {
      bool hot_sets_filled = false;
      for (const std::size_t other : by_latency) {
        if (other == hot || (!any_partner && other != cold)) continue;
        if (k == 2 && (static_cast<int>(bins.items[hot].size()) > pair_swap_items ||
                       static_cast<int>(bins.items[other].size()) > pair_swap_items))
          continue;
        if (!hot_sets_filled) fill_item_sets(bins.items[hot], weight, k, hot_sets);
        hot_sets_filled = true;
        ExchangeSearch(bins, weight, f, hot, other, k, forbidden, best, found)
            .around_crossing(hot_sets, sorted.of(hot, k), sorted.of(other, k), latency[other]);
      }
    }
    if (!found) break;
    for (std::size_t i = 0; i < static_cast<std::size_t>(best.k); ++i) {
      auto& a = bins.items[hot][best.hot_slots[i]];
      auto& b = bins.items[best.other][best.other_slots[i]];
      const double delta =
          weight[static_cast<std::size_t>(a)] - weight[static_cast<std::size_t>(b)];
      bins.tokens[hot] -= delta;
      bins.tokens[best.other] += delta;
      std::swap(a, b);
    }
    sorted.changed(hot);
    sorted.changed(best.other);
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
  return [&bins, item_expert](int item, int gpu) {
    const int expert = item_expert[static_cast<std::size_t>(item)];
    for (int other : bins.items[static_cast<std::size_t>(gpu)])
      if (item_expert[static_cast<std::size_t>(other)] == expert) return true;
    return false;
  };
}

std::vector<int> slots_of(const GpuBins& bins, std::span<const int> item_expert) {
  std::vector<int> slots;
  for (const auto& gpu : bins.items)
    for (int item : gpu) slots.push_back(item_expert[static_cast<std::size_t>(item)]);
  return slots;
}

}  // namespace vibesim
