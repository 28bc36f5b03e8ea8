#pragma once
// Synthetic routing: each MoE layer has its own expert popularity (Zipf over
// a layer-specific random order of experts, a Dirichlet draw, or fitted to a
// recorded trace), and each batch's counts are a multinomial draw of
// tokens*top_k assignments from it — or, with batch dispersion, from expert
// shares that themselves vary from batch to batch (a Dirichlet-multinomial,
// traces/routing_fit.h), as real batches whose tokens share topics do.
//
// Cost: drawing a multinomial costs O(E) binomials, far too slow to do per
// layer step. Instead each (layer, batch size) gets a pool of `pool_size`
// draws, made once from a stream seeded by (seed, layer, tokens); each
// step picks one pool entry at random. A step then costs O(1), independent of
// tokens; the pool's mean matches the popularity (tested for bias).
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/random_engine.h"
#include "io/choice_table.h"
#include "io/config_path.h"
#include "traces/routing_fit.h"
#include "traces/routing_source.h"
#include "traces/trace_mapping.h"

namespace vibesim {

class ConfigObject;

enum class PopularityDistribution { kZipf, kDirichlet, kUniform, kFitted };
inline constexpr ChoiceTable<PopularityDistribution, 4> kPopularityDistributions{{
    {"zipf", PopularityDistribution::kZipf,
     "popularity 1/rank^zipf_exponent over a random order of experts per layer"},
    {"dirichlet", PopularityDistribution::kDirichlet,
     "popularity drawn per layer from a symmetric Dirichlet(dirichlet_alpha)"},
    {"uniform", PopularityDistribution::kUniform, "every expert equally popular"},
    {"fitted", PopularityDistribution::kFitted,
     "per-layer popularity and batch dispersion fitted to a trace (key `fit`: the JSON "
     "`vibesim trace fit` writes; layer_mapping and expert_mapping as for traces)"},
}};

enum class DriftKind { kNewHotSet, kRotate };
inline constexpr ChoiceTable<DriftKind, 2> kDriftKinds{{
    {"new_hot_set", DriftKind::kNewHotSet,
     "at each drift point every layer gets a fresh hot set (a new Zipf order, Dirichlet draw, "
     "or a random permutation of a fit)"},
    {"rotate", DriftKind::kRotate,
     "gradual rotation: at the k-th drift point the expert at popularity rank r takes the "
     "popularity of rank r - k * rotate_ranks (the hottest become the coldest)"},
}};

struct SyntheticRoutingSpec {
  PopularityDistribution distribution = PopularityDistribution::kZipf;
  double zipf_exponent = 1.0;
  double dirichlet_alpha = 1.0;
  int pool_size = 32;
  // How much batches deviate from the popularity (all layers; a fit has its
  // own per layer). Config keys dispersion_coefficient, dispersion_exponent.
  BatchDispersion dispersion;
  ConfigPath fit_path;  // fitted: the fit file, read at parse time into `fit`
  std::shared_ptr<const RoutingFit> fit;
  TraceMapping fit_mapping;
  // Workload drift: at each of these batch indices (per layer, counted from
  // the start or the last rewind, ascending) every layer gets a fresh hot set
  // (a new Zipf order, a new Dirichlet draw).
  std::vector<std::int64_t> drift_at_batches;
  DriftKind drift_kind = DriftKind::kNewHotSet;
  int rotate_ranks = 1;  // rotate: ranks moved per drift point

  // Reads its keys of a routing object (config key `drift_at_iterations` for
  // drift_at_batches); the caller finishes the object.
  static SyntheticRoutingSpec parse_keys(ConfigObject& routing);
  // Writes those keys into `routing`.
  void write_keys(nlohmann::ordered_json& routing) const;
};

class SyntheticRouting final : public RoutingSource {
 public:
  // `popularity_seed` fixes each layer's hot set; `draw_seed` the batches.
  // With `draw_jobs` above 1, the first request for a batch size draws that
  // size's pools for every layer at once, on that many threads (the counts
  // are the same for any number). InputError if a fit does not match the
  // model (top-k, or a shape its mapping cannot reconcile).
  SyntheticRouting(int num_moe_layers, int num_experts, int top_k, const SyntheticRoutingSpec& spec,
                   std::uint64_t popularity_seed, std::uint64_t draw_seed, int draw_jobs = 1);

  std::span<const std::int32_t> next_counts(const RoutingRequest& request) override;
  void rewind() override;
  [[nodiscard]] int num_experts() const override { return num_experts_; }
  // Per-layer probability that one assignment goes to each expert (sums to 1,
  // each at most 1/top_k because a token picks top_k distinct experts), before
  // any drift (`epoch` 0) or after the epoch-th drift point.
  [[nodiscard]] const std::vector<std::vector<double>>& popularity(std::size_t epoch = 0) const {
    return popularity_[epoch];
  }

 private:
  const std::vector<std::int32_t>& pool(int layer, std::size_t epoch, std::int64_t tokens);
  // A pool's pool_size x E counts: a function of (layer, epoch, tokens) alone.
  [[nodiscard]] std::vector<std::int32_t> draw_pool(int layer, std::size_t epoch,
                                                    std::int64_t tokens) const;
  std::vector<double> layer_popularity(RandomEngine& rng) const;
  // Each MoE layer's popularity from spec_.fit (mapped, padded, capped); also
  // sets dispersion_ to each layer's fitted dispersion.
  std::vector<std::vector<double>> fitted_popularity(int num_moe_layers);
  // One batch's expert shares: Dirichlet(alpha * popularity), capped at 1/top_k.
  std::vector<double> batch_shares(const std::vector<double>& popularity, double alpha,
                                   RandomEngine& rng) const;

  int num_experts_;
  int top_k_;
  SyntheticRoutingSpec spec_;
  std::uint64_t draw_seed_;
  int draw_jobs_;
  std::vector<std::vector<std::vector<double>>> popularity_;  // [epoch][layer][expert]
  std::vector<BatchDispersion> dispersion_;                   // per layer
  // (layer, epoch, tokens) -> pool_size x E counts
  std::map<std::tuple<int, std::size_t, std::int64_t>, std::vector<std::int32_t>> pools_;
  std::vector<std::int64_t> batches_;  // per layer: batches drawn since the last rewind
  RandomEngine pick_rng_;
};

// Draws counts of `assignments` over experts with probabilities `p`, no expert
// above `cap`: conditional binomials (normal approximation at variance >= 50;
// excess beyond a cap is re-spread), or with fewer assignments than experts
// one inverse-CDF draw per assignment, redrawn when it lands on a capped expert.
// What the draws cannot place (the experts with room have no probability left)
// goes to the experts with room in order of `p`. Needs `p` finite and >= 0 and
// assignments <= cap * p.size(); always ends.
std::vector<std::int32_t> draw_multinomial(std::int64_t assignments, const std::vector<double>& p,
                                           std::int64_t cap, RandomEngine& rng);

}  // namespace vibesim
