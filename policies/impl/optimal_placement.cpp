// `optimal`: the yardstick. Per layer, the minimum (proven within 0.1 %) of
// max_g [f_g(n_g) + a*n_g] over assignments of items to GPUs with exactly
// `max_slots_per_gpu` items each, solved as a MILP by COIN-OR CBC:
//   x[i][g] binary (item i on GPU g), sum_g x = 1, sum_i x = slots,
//   n_g = sum_i w_i x[i][g], minimise T with T >= f_g(n_g).
// f_g is piecewise linear between its profiled points. When it is convex,
// T >= each segment's line suffices; otherwise each GPU picks one segment
// through binaries (a multiple-choice model), which is exact for any shape.
// Items are the experts, or with redundant slots the replicas chosen by
// EPLB's replication rule (at most one per GPU, as latency_lpt makes them):
// the optimum is over packings of those replicas, not over replication counts.
// `latency_lpt`'s placement is the MIP start, so a solve stopped by the time
// limit still returns a placement at least that good (no longer proven optimal).
// A layer whose start is within 0.1 % of a lower bound (the fluid bound, or
// the heaviest item with the lightest others; policies/latency_bound) is
// proven without a solve. With `proofs`, each layer reports its bound and
// whether the search stopped at the time limit (then the gap is wider).
#include <memory>

#include "policies/placement_policy.h"

#ifdef VIBESIM_HAVE_CBC
#include <coin/Cbc_C_Interface.h>

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>
#include <numeric>
#include <optional>

#include "policies/eplb.h"
#include "policies/latency_bound.h"
#include "policies/latency_packing.h"
#endif

namespace vibesim {

std::unique_ptr<PlacementPolicy> make_latency_lpt_policy();

#ifdef VIBESIM_HAVE_CBC
namespace {

// The LP relaxation's bound is the fluid bound, which branching closes only
// slowly: proving the last 0.1 % can take minutes on 16 experts x 4 GPUs. So
// the solve stops once its incumbent is proven within kOptimalityGap
// (policies/latency_bound.h) of the true minimum, or at the time limit (per
// layer).

// f on [0, max_tokens] as segments between consecutive breakpoints.
struct Segments {
  std::vector<double> lo, hi, intercept, slope;  // f(n) = intercept + slope * n on [lo, hi]
  bool convex = true;
};

Segments segments_of(const LatencyCurve& f, double max_tokens) {
  std::vector<double> points{0.0};
  for (double t : f.tokens())
    if (t > 0 && t < max_tokens) points.push_back(t);
  points.push_back(std::max(max_tokens, points.back() + 1.0));
  Segments s;
  for (std::size_t k = 0; k + 1 < points.size(); ++k) {
    const double slope =
        (f.latency_ns(points[k + 1]) - f.latency_ns(points[k])) / (points[k + 1] - points[k]);
    if (!s.slope.empty() && slope < s.slope.back() - 1e-12) s.convex = false;
    s.lo.push_back(points[k]);
    s.hi.push_back(points[k + 1]);
    s.slope.push_back(slope);
    s.intercept.push_back(f.latency_ns(points[k]) - slope * points[k]);
  }
  return s;
}

// The MILP as it is built: columns, then rows as (column, coefficient)
// lists, handed to CBC in one call. Adding rows to CBC one at a time re-packs
// its matrix each time: quadratic, and most of a 128-GPU layer's time.
class MilpBuilder {
 public:
  int add_column(double lower, double upper, double objective, bool integer) {
    const int column = num_columns();
    column_lower_.push_back(lower);
    column_upper_.push_back(upper);
    objective_.push_back(objective);
    if (integer) integers_.push_back(column);
    return column;
  }
  // sense: 'G' (>= rhs), 'L' (<= rhs) or 'E' (= rhs); each column at most once.
  void add_row(const std::vector<int>& columns, const std::vector<double>& coefficients, char sense,
               double rhs) {
    assert(columns.size() == coefficients.size() && each_column_once(columns));
    const int row = static_cast<int>(row_lower_.size());
    for (std::size_t k = 0; k < columns.size(); ++k)
      entries_.push_back({columns[k], row, coefficients[k]});
    row_lower_.push_back(sense == 'L' ? -kInfinity : rhs);
    row_upper_.push_back(sense == 'G' ? kInfinity : rhs);
  }
  [[nodiscard]] int num_columns() const { return static_cast<int>(objective_.size()); }

  // Loads the problem into `model`, column by column, and marks the integers.
  void load_into(Cbc_Model* model) const {
    std::vector<CoinBigIndex> start(objective_.size() + 1, 0);
    for (const auto& e : entries_) ++start[static_cast<std::size_t>(e.column) + 1];
    std::partial_sum(start.begin(), start.end(), start.begin());
    std::vector<CoinBigIndex> next(start.begin(), start.end() - 1);
    std::vector<int> index(entries_.size());
    std::vector<double> value(entries_.size());
    for (const auto& e : entries_) {  // rows stay ascending within each column
      const auto at = static_cast<std::size_t>(next[static_cast<std::size_t>(e.column)]++);
      index[at] = e.row;
      value[at] = e.value;
    }
    Cbc_loadProblem(model, num_columns(), static_cast<int>(row_lower_.size()), start.data(),
                    index.data(), value.data(), column_lower_.data(), column_upper_.data(),
                    objective_.data(), row_lower_.data(), row_upper_.data());
    for (int column : integers_) Cbc_setInteger(model, column);
  }

 private:
  static constexpr double kInfinity = std::numeric_limits<double>::max();  // COIN_DBL_MAX
  // A column twice in one row would reach CBC as two entries for one matrix
  // element: a malformed packed matrix. Checked in debug builds (sorts a copy).
  [[nodiscard]] bool each_column_once(std::vector<int> columns) const {
    std::sort(columns.begin(), columns.end());
    return std::adjacent_find(columns.begin(), columns.end()) == columns.end() &&
           (columns.empty() || (columns.front() >= 0 && columns.back() < num_columns()));
  }
  struct Entry {
    int column, row;
    double value;
  };
  std::vector<double> column_lower_, column_upper_, objective_, row_lower_, row_upper_;
  std::vector<int> integers_;
  std::vector<Entry> entries_;
};

class CbcModel {
 public:
  explicit CbcModel(const MilpBuilder& problem) : model_(Cbc_newModel()) {
    problem.load_into(model_);
  }
  ~CbcModel() { Cbc_deleteModel(model_); }
  CbcModel(const CbcModel&) = delete;
  CbcModel& operator=(const CbcModel&) = delete;
  Cbc_Model* get() { return model_; }

 private:
  Cbc_Model* model_;
};

double makespan_ns(const GpuBins& bins, std::span<const LatencyCurve> f) {
  double worst = 0;
  for (std::size_t g = 0; g < f.size(); ++g)
    worst = std::max(worst, f[g].latency_ns(bins.tokens[g]));
  return worst;
}

struct SolvedLayer {
  GpuBins bins;
  LayerProof proof;
};

// The better of the solver's incumbent and the start, with its proof: the
// larger of the packing bound and the solver's best possible objective.
SolvedLayer finish_layer(GpuBins solved, const GpuBins& start, std::span<const LatencyCurve> f,
                         double lower_bound_ns, bool stopped_at_limit) {
  if (makespan_ns(solved, f) > makespan_ns(start, f)) solved = start;
  const double predicted = makespan_ns(solved, f);
  return {std::move(solved),
          LayerProof{std::min(lower_bound_ns, predicted), predicted, stopped_at_limit}};
}

// The layer's MILP, built in a fixed order (CBC's search depends on it): T
// and the x columns; each GPU's latency rows; each item's assignment rows;
// each GPU's slot row; the replica rows. `start` is the MIP start.
class LayerMilp {
 public:
  LayerMilp(std::span<const double> weight, std::span<const LatencyCurve> f, double bound_ns,
            const GpuBins& start)
      : weight_(weight), f_(f), x_(weight.size(), std::vector<int>(f.size())) {
    t_col_ = milp_.add_column(bound_ns, std::numeric_limits<double>::max(), 1.0, false);
    for (auto& row : x_)
      for (auto& col : row) col = milp_.add_column(0, 1, 0, true);
    for (std::size_t g = 0; g < f.size(); ++g)
      for (int i : start.items[g]) start_at(x_[static_cast<std::size_t>(i)][g], 1.0);
  }

  // T >= f_g(n_g) for every GPU, n_g its items' tokens; `start_tokens` the
  // start's n_g (a segment choice needs its start too).
  void add_latency_rows(std::span<const double> start_tokens) {
    const double total = std::accumulate(weight_.begin(), weight_.end(), 0.0);
    for (std::size_t g = 0; g < f_.size(); ++g) {
      const Segments s = segments_of(f_[g], total);
      if (s.convex)
        add_convex_rows(g, s);
      else
        add_segment_choice_rows(g, s, start_tokens[g]);
    }
  }

  // Each item on one GPU, and T >= f_g(w_i) wherever item i goes (f_g
  // non-decreasing): tightens the relaxation.
  void add_assignment_rows() {
    for (std::size_t i = 0; i < weight_.size(); ++i) {
      milp_.add_row(x_[i], std::vector<double>(f_.size(), 1.0), 'E', 1);
      std::vector<int> cols{t_col_};
      std::vector<double> coef{1.0};
      for (std::size_t g = 0; g < f_.size(); ++g) {
        cols.push_back(x_[i][g]);
        coef.push_back(-f_[g].latency_ns(weight_[i]));
      }
      milp_.add_row(cols, coef, 'G', 0);
    }
  }

  void add_slot_rows(int slots) {
    for (std::size_t g = 0; g < f_.size(); ++g)
      milp_.add_row(items_on(g), std::vector<double>(weight_.size(), 1.0), 'E', slots);
  }

  // Two replicas of one expert never share a GPU.
  void add_replica_rows(std::span<const int> item_expert) {
    const int experts =
        item_expert.empty() ? 0 : *std::max_element(item_expert.begin(), item_expert.end()) + 1;
    std::vector<std::vector<std::size_t>> replicas(static_cast<std::size_t>(experts));
    for (std::size_t i = 0; i < item_expert.size(); ++i)
      replicas[static_cast<std::size_t>(item_expert[i])].push_back(i);
    for (const auto& r : replicas) {
      if (r.size() < 2) continue;
      for (std::size_t g = 0; g < f_.size(); ++g) {
        std::vector<int> cols;
        for (std::size_t i : r) cols.push_back(x_[i][g]);
        milp_.add_row(cols, std::vector<double>(cols.size(), 1.0), 'L', 1);
      }
    }
  }

  // Solves within `seconds_limit`, from the start with its empty x at 0.
  void solve(CbcModel& cbc, double seconds_limit) {
    std::vector<bool> in_start(static_cast<std::size_t>(milp_.num_columns()), false);
    for (int col : start_columns_) in_start[static_cast<std::size_t>(col)] = true;
    for (const auto& row : x_)
      for (int col : row)
        if (!in_start[static_cast<std::size_t>(col)]) start_at(col, 0.0);
    Cbc_setMIPStartI(cbc.get(), static_cast<int>(start_columns_.size()), start_columns_.data(),
                     start_values_.data());
    Cbc_setLogLevel(cbc.get(), 0);
    Cbc_setMaximumSeconds(cbc.get(), seconds_limit);
    Cbc_setAllowableFractionGap(cbc.get(), kOptimalityGap);
    Cbc_setParameter(cbc.get(), "threads", "1");
    Cbc_solve(cbc.get());
  }

  // The packing a solution gives; nullopt unless every GPU has `slots` items.
  std::optional<GpuBins> bins_of(const double* solution, int slots) const {
    GpuBins bins{std::vector<std::vector<int>>(f_.size()), std::vector<double>(f_.size(), 0.0)};
    for (std::size_t i = 0; i < weight_.size(); ++i)
      for (std::size_t g = 0; g < f_.size(); ++g)
        if (solution[x_[i][g]] > 0.5) {
          bins.items[g].push_back(static_cast<int>(i));
          bins.tokens[g] += weight_[i];
        }
    for (const auto& items : bins.items)
      if (static_cast<int>(items.size()) != slots) return std::nullopt;
    return bins;
  }

  [[nodiscard]] const MilpBuilder& milp() const { return milp_; }

 private:
  void start_at(int column, double value) {
    start_columns_.push_back(column);
    start_values_.push_back(value);
  }
  std::vector<int> items_on(std::size_t g) const {
    std::vector<int> cols;
    for (const auto& row : x_) cols.push_back(row[g]);
    return cols;
  }

  // Convex f_g: T - slope_k * n_g >= intercept_k for every segment k.
  void add_convex_rows(std::size_t g, const Segments& s) {
    for (std::size_t k = 0; k < s.slope.size(); ++k) {
      std::vector<int> cols{t_col_};
      std::vector<double> coef{1.0};
      for (std::size_t i = 0; i < weight_.size(); ++i) {
        cols.push_back(x_[i][g]);
        coef.push_back(-s.slope[k] * weight_[i]);
      }
      milp_.add_row(cols, coef, 'G', s.intercept[k]);
    }
  }

  // Any f_g: binary z_k picks the segment, u_k = n_g on it (0 elsewhere).
  void add_segment_choice_rows(std::size_t g, const Segments& s, double start_tokens) {
    std::vector<int> z, u;
    for (std::size_t k = 0; k < s.slope.size(); ++k) {
      z.push_back(milp_.add_column(0, 1, 0, true));
      u.push_back(milp_.add_column(0, std::numeric_limits<double>::max(), 0, false));
      milp_.add_row({u[k], z[k]}, {1.0, -s.lo[k]}, 'G', 0);
      milp_.add_row({u[k], z[k]}, {1.0, -s.hi[k]}, 'L', 0);
    }
    milp_.add_row(z, std::vector<double>(z.size(), 1.0), 'E', 1);
    std::vector<int> cols(u);
    std::vector<double> coef(u.size(), -1.0);
    for (std::size_t i = 0; i < weight_.size(); ++i) {
      cols.push_back(x_[i][g]);
      coef.push_back(weight_[i]);
    }
    milp_.add_row(cols, coef, 'E', 0);  // n_g = sum_k u_k
    cols = {t_col_};
    coef = {1.0};
    for (std::size_t k = 0; k < z.size(); ++k) {
      cols.push_back(z[k]);
      coef.push_back(-s.intercept[k]);
      cols.push_back(u[k]);
      coef.push_back(-s.slope[k]);
    }
    milp_.add_row(cols, coef, 'G', 0);
    // The start's segment, so the MIP start is complete in the integers.
    std::size_t chosen = s.slope.size() - 1;
    for (std::size_t k = 0; k < s.slope.size(); ++k)
      if (start_tokens <= s.hi[k]) {
        chosen = k;
        break;
      }
    for (std::size_t k = 0; k < z.size(); ++k) start_at(z[k], k == chosen ? 1.0 : 0.0);
  }

  std::span<const double> weight_;
  std::span<const LatencyCurve> f_;
  MilpBuilder milp_;
  int t_col_ = 0;
  std::vector<std::vector<int>> x_;  // x_[i][g]: item i on GPU g
  std::vector<int> start_columns_;   // the MIP start
  std::vector<double> start_values_;
};

SolvedLayer solve_layer(std::span<const double> weight, std::span<const int> item_expert,
                        std::span<const LatencyCurve> f, int slots, const GpuBins& start,
                        double seconds_limit) {
  // No packing beats the lower bound: a start within kOptimalityGap of it is
  // proven without a solve, and the bound tightens the relaxation of the rest.
  const double bound = packing_lower_bound_ns(weight, f, slots);
  if (makespan_ns(start, f) <= bound * (1 + kOptimalityGap))
    return finish_layer(start, start, f, bound, false);
  LayerMilp milp(weight, f, bound, start);
  milp.add_latency_rows(start.tokens);
  milp.add_assignment_rows();
  milp.add_slot_rows(slots);
  milp.add_replica_rows(item_expert);
  CbcModel cbc(milp.milp());
  milp.solve(cbc, seconds_limit);
  // Secondary status 4: stopped on time. The best possible objective is a
  // valid bound wherever the search stopped, unless it abandoned (status 2).
  const bool at_limit = Cbc_secondaryStatus(cbc.get()) == 4;
  const double best_possible = Cbc_getBestPossibleObjValue(cbc.get());
  const double lower = Cbc_status(cbc.get()) != 2 && std::isfinite(best_possible)
                           ? std::max(bound, best_possible)
                           : bound;
  const double* solution = Cbc_bestSolution(cbc.get());  // the incumbent, not the last LP
  const auto bins = solution ? milp.bins_of(solution, slots) : std::nullopt;
  if (!bins) return finish_layer(start, start, f, lower, at_limit);  // no usable incumbent
  return finish_layer(*bins, start, f, lower, at_limit);
}

// latency_lpt's placement, the search's starting point; its layers are not
// this policy's progress.
Placement latency_lpt_start(const PlacementContext& c) {
  PlacementContext start = c;
  start.layer_placed = {};
  return make_latency_lpt_policy()->place(start);
}

class OptimalPlacement final : public PlacementPolicy {
 public:
  Placement place(const PlacementContext& c) const override {
    const int slots = c.max_slots_per_gpu;
    const auto f = with_all_to_all(c.gpu_latency, c.all_to_all_ns_per_token);
    const Placement start = latency_lpt_start(c);
    Placement p{c.num_gpus, slots, {}};
    if (c.proofs != nullptr) c.proofs->clear();
    for (int l = 0; l < c.num_layers(); ++l) {
      c.between_layers(l);
      const auto& w = c.expert_loads[static_cast<std::size_t>(l)];
      const auto replicas = eplb::replicate_experts(w, slots * c.num_gpus, c.num_gpus);
      const auto item_weight = replica_weights(replicas.phy_to_log, w);
      // latency_lpt's slots, mapped back to items (k-th replica of e -> its k-th item).
      std::vector<std::vector<int>> items_of(w.size());
      for (std::size_t i = replicas.phy_to_log.size(); i-- > 0;)
        items_of[static_cast<std::size_t>(replicas.phy_to_log[i])].push_back(static_cast<int>(i));
      GpuBins start_bins{std::vector<std::vector<int>>(static_cast<std::size_t>(c.num_gpus)),
                         std::vector<double>(static_cast<std::size_t>(c.num_gpus), 0.0)};
      const auto& start_slots = start.physical_to_logical[static_cast<std::size_t>(l)];
      for (std::size_t s = 0; s < start_slots.size(); ++s) {
        auto& pool = items_of[static_cast<std::size_t>(start_slots[s])];
        const int item = pool.back();
        pool.pop_back();
        const auto g = static_cast<std::size_t>(start.gpu_of_slot(static_cast<int>(s)));
        start_bins.items[g].push_back(item);
        start_bins.tokens[g] += item_weight[static_cast<std::size_t>(item)];
      }
      const auto solved = solve_layer(item_weight, replicas.phy_to_log, f, slots, start_bins,
                                      c.search_seconds_per_layer);
      p.physical_to_logical.push_back(slots_of(solved.bins, replicas.phy_to_log));
      if (c.proofs != nullptr) c.proofs->push_back(solved.proof);
    }
    return p;
  }
};

}  // namespace

std::unique_ptr<PlacementPolicy> make_optimal_policy() {
  return std::make_unique<OptimalPlacement>();
}

#else

std::unique_ptr<PlacementPolicy> make_optimal_policy() {
  return nullptr;
}

#endif

}  // namespace vibesim
