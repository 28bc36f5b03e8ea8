#include "traces/synthetic_routing.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

#include "base/derived_seed.h"
#include "base/parallel_for.h"
#include "io/config_error.h"
#include "io/config_object.h"

namespace vibesim {

namespace {

// Binomials with at least this variance are drawn from the normal approximation.
constexpr double kNormalApproximationVariance = 50.0;

// Caps every probability at `cap`, re-spreading the excess over the others in
// proportion (water-filling), so the result still sums to 1.
void cap_probabilities(std::vector<double>& p, double cap) {
  for (int round = 0; round < 64; ++round) {
    double excess = 0, free_mass = 0;
    for (double& x : p) {
      if (x > cap) {
        excess += x - cap;
        x = cap;
      } else if (x < cap) {
        free_mass += x;
      }
    }
    if (excess <= 1e-15 || free_mass <= 0) return;
    for (double& x : p)
      if (x < cap) x += excess * x / free_mass;
  }
}

// `p` with each expert at popularity rank r (descending, ties by index)
// given the popularity of rank r - shift (mod E).
std::vector<double> rotated(const std::vector<double>& p, std::int64_t shift) {
  const auto n = static_cast<std::int64_t>(p.size());
  std::vector<std::size_t> order(p.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) { return p[a] > p[b]; });
  std::vector<double> out(p.size());
  for (std::int64_t r = 0; r < n; ++r)
    out[order[static_cast<std::size_t>(r)]] =
        p[order[static_cast<std::size_t>(((r - shift) % n + n) % n)]];
  return out;
}

}  // namespace

std::vector<double> SyntheticRouting::batch_shares(const std::vector<double>& popularity,
                                                   double alpha, RandomEngine& rng) const {
  std::vector<double> p(popularity.size(), 0.0);
  double sum = 0;
  for (std::size_t e = 0; e < p.size(); ++e) {
    if (popularity[e] <= 0) continue;
    p[e] = std::gamma_distribution<double>(alpha * popularity[e], 1.0)(rng);
    sum += p[e];
  }
  if (sum <= 0) return popularity;  // every draw underflowed: fall back to the mean
  for (auto& x : p) x /= sum;
  cap_probabilities(p, 1.0 / top_k_);
  return p;
}

namespace {

// Few assignments: one inverse-CDF draw (binary search) per assignment,
// redrawn when it lands on a capped expert — O(assignments log E), not E
// binomials. Stops early, leaving the rest to give_leftover(), once the
// experts below their cap hold no mass to draw from (a popularity with fewer
// experts than top-k, or all-zero, would otherwise redraw for ever). Returns
// the assignments not drawn.
std::int64_t draw_each_assignment(std::int64_t assignments, const std::vector<double>& p,
                                  std::int64_t cap, RandomEngine& rng,
                                  std::vector<std::int32_t>& counts) {
  const std::size_t n = p.size();
  std::vector<double> cumulative(n);
  std::partial_sum(p.begin(), p.end(), cumulative.begin());
  const double total = cumulative.back();
  double open_mass = total;  // of the experts below their cap
  std::uniform_real_distribution<double> uniform(0.0, total);
  std::int64_t a = 0;
  while (a < assignments && open_mass > 1e-9 * total) {
    const auto e = static_cast<std::size_t>(
        std::upper_bound(cumulative.begin(), cumulative.end(), uniform(rng)) - cumulative.begin());
    if (e >= n || counts[e] >= cap) continue;
    ++a;
    if (++counts[e] == cap) open_mass -= p[e];
  }
  return assignments - a;
}

// Many assignments: conditional binomials, expert by expert. Returns the
// assignments the caps left over.
std::int64_t draw_conditional_binomials(std::int64_t assignments, const std::vector<double>& p,
                                        std::int64_t cap, RandomEngine& rng,
                                        std::vector<std::int32_t>& counts) {
  const std::size_t n = p.size();
  std::normal_distribution<double> normal(0.0, 1.0);
  std::int64_t remaining = assignments;
  double remaining_mass = 1.0;
  for (std::size_t e = 0; e < n && remaining > 0; ++e) {
    std::int64_t c = remaining;
    if (e + 1 < n) {
      const double q = std::clamp(p[e] / std::max(remaining_mass, 1e-300), 0.0, 1.0);
      const double variance = static_cast<double>(remaining) * q * (1 - q);
      if (variance >= kNormalApproximationVariance) {
        // Normal approximation (continuity-corrected by rounding): one draw
        // instead of a rejection loop; at this variance its error is far below
        // the sampling noise (a test checks the pool means for bias).
        const double draw = static_cast<double>(remaining) * q + std::sqrt(variance) * normal(rng);
        c = std::clamp<std::int64_t>(std::llround(draw), 0, remaining);
      } else {
        c = std::binomial_distribution<std::int64_t>(remaining, q)(rng);
      }
    }
    c = std::min(c, cap);
    counts[e] = static_cast<std::int32_t>(c);
    remaining -= c;
    remaining_mass -= p[e];
  }
  return remaining;
}

// Rare: assignments the draws could not place; give them to the experts with
// room, in order of popularity (ties: lower index), one at a time.
void give_leftover(std::int64_t remaining, const std::vector<double>& p, std::int64_t cap,
                   std::vector<std::int32_t>& counts) {
  if (remaining <= 0) return;
  const std::size_t n = p.size();
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) { return p[a] > p[b]; });
  for (std::size_t i = 0; remaining > 0; i = (i + 1) % n) {
    if (counts[order[i]] < cap) {
      ++counts[order[i]];
      --remaining;
    }
  }
}

}  // namespace

std::vector<std::int32_t> draw_multinomial(std::int64_t assignments, const std::vector<double>& p,
                                           std::int64_t cap, RandomEngine& rng) {
  assert(assignments <= cap * static_cast<std::int64_t>(p.size()));  // else no room for all
  std::vector<std::int32_t> counts(p.size(), 0);
  const std::int64_t remaining = assignments < static_cast<std::int64_t>(p.size())
                                     ? draw_each_assignment(assignments, p, cap, rng, counts)
                                     : draw_conditional_binomials(assignments, p, cap, rng, counts);
  give_leftover(remaining, p, cap, counts);
  return counts;
}

SyntheticRouting::SyntheticRouting(int num_moe_layers, int num_experts, int top_k,
                                   const SyntheticRoutingSpec& spec, std::uint64_t popularity_seed,
                                   std::uint64_t draw_seed, int draw_jobs)
    : num_experts_(num_experts),
      top_k_(top_k),
      spec_(spec),
      draw_seed_(draw_seed),
      draw_jobs_(draw_jobs),
      pick_rng_(draw_seed) {
  assert(num_experts >= top_k && top_k >= 1 && spec.pool_size >= 1);
  assert(std::is_sorted(spec.drift_at_batches.begin(), spec.drift_at_batches.end()));
  dispersion_.assign(static_cast<std::size_t>(num_moe_layers), spec.dispersion);
  const auto fitted = spec.distribution == PopularityDistribution::kFitted
                          ? fitted_popularity(num_moe_layers)
                          : std::vector<std::vector<double>>{};
  // Epoch 0 from `popularity_seed` itself, epoch k from a seed derived from it.
  // A fit's epoch 0 is the fit; a drift gives each layer a random permutation of it.
  for (std::size_t epoch = 0; epoch <= spec.drift_at_batches.size(); ++epoch) {
    RandomEngine rng(epoch == 0 ? popularity_seed : derive_seed(popularity_seed, {epoch}));
    std::vector<std::vector<double>> layers;
    for (int l = 0; l < num_moe_layers; ++l) {
      if (epoch > 0 && spec.drift_kind == DriftKind::kRotate) {
        layers.push_back(rotated(popularity_[0][static_cast<std::size_t>(l)],
                                 static_cast<std::int64_t>(epoch) * spec.rotate_ranks));
        continue;
      }
      if (fitted.empty()) {
        layers.push_back(layer_popularity(rng));
        continue;
      }
      auto p = fitted[static_cast<std::size_t>(l)];
      if (epoch > 0) std::shuffle(p.begin(), p.end(), rng);
      layers.push_back(std::move(p));
    }
    popularity_.push_back(std::move(layers));
  }
  batches_.assign(static_cast<std::size_t>(num_moe_layers), 0);
}

std::vector<std::vector<double>> SyntheticRouting::fitted_popularity(int num_moe_layers) {
  const auto& fit = *spec_.fit;
  const auto source = spec_.fit_path.resolved.string();
  if (fit.top_k != top_k_)
    throw InputError(fmt::format("{}: fitted to top-{} routing, the model routes to {}", source,
                                 fit.top_k, top_k_));
  check_trace_experts(fit.num_experts, num_experts_, spec_.fit_mapping.experts, source);
  const auto layer_of =
      trace_layer_of_moe_layer(fit.layers.size(), num_moe_layers, spec_.fit_mapping.layers, source);
  std::vector<std::vector<double>> out;
  for (std::size_t l = 0; l < layer_of.size(); ++l) {
    const auto& layer = fit.layers[layer_of[l]];
    auto p = layer.popularity;
    p.resize(static_cast<std::size_t>(num_experts_), 0.0);  // pad: the others get nothing
    cap_probabilities(p, 1.0 / top_k_);
    out.push_back(std::move(p));
    dispersion_[l] = layer.dispersion;
  }
  return out;
}

std::vector<double> SyntheticRouting::layer_popularity(RandomEngine& rng) const {
  const auto e_count = static_cast<std::size_t>(num_experts_);
  std::vector<double> p(e_count);
  if (spec_.distribution == PopularityDistribution::kZipf) {
    std::vector<std::size_t> order(e_count);
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), rng);  // this layer's hot set
    for (std::size_t rank = 0; rank < e_count; ++rank)
      p[order[rank]] = 1.0 / std::pow(static_cast<double>(rank + 1), spec_.zipf_exponent);
  } else if (spec_.distribution == PopularityDistribution::kDirichlet) {
    std::gamma_distribution<double> gamma(spec_.dirichlet_alpha, 1.0);
    for (auto& x : p) x = std::max(gamma(rng), 1e-12);
  } else {
    std::fill(p.begin(), p.end(), 1.0);
  }
  const double sum = std::accumulate(p.begin(), p.end(), 0.0);
  for (auto& x : p) x /= sum;
  cap_probabilities(p, 1.0 / top_k_);
  return p;
}

std::vector<std::int32_t> SyntheticRouting::draw_pool(int layer, std::size_t epoch,
                                                      std::int64_t tokens) const {
  // Seeded by (seed, layer, tokens[, epoch]), not by call order: pools are the
  // same whichever order layers and batch sizes are first asked for.
  const auto l = static_cast<std::uint64_t>(layer);
  const auto t = static_cast<std::uint64_t>(tokens);
  RandomEngine rng(epoch == 0 ? derive_seed(draw_seed_, {l, t})
                              : derive_seed(draw_seed_, {l, t, epoch}));
  std::vector<std::int32_t> entries;
  entries.reserve(static_cast<std::size_t>(spec_.pool_size * num_experts_));
  const auto& popularity = popularity_[epoch][static_cast<std::size_t>(layer)];
  const double alpha = dispersion_[static_cast<std::size_t>(layer)].dirichlet_concentration(
      static_cast<double>(tokens * top_k_));
  for (int i = 0; i < spec_.pool_size; ++i) {
    const auto counts =
        std::isfinite(alpha)
            ? draw_multinomial(tokens * top_k_, batch_shares(popularity, alpha, rng), tokens, rng)
            : draw_multinomial(tokens * top_k_, popularity, tokens, rng);
    entries.insert(entries.end(), counts.begin(), counts.end());
  }
  return entries;
}

const std::vector<std::int32_t>& SyntheticRouting::pool(int layer, std::size_t epoch,
                                                        std::int64_t tokens) {
  const auto key = std::tuple{layer, epoch, tokens};
  if (const auto it = pools_.find(key); it != pools_.end()) return it->second;
  if (draw_jobs_ <= 1) return pools_.emplace(key, draw_pool(layer, epoch, tokens)).first->second;
  // Every layer's pool for this size, on draw_jobs_ threads: a serving batch
  // asks each layer in turn, and the draws were most of a serving run.
  std::vector<int> missing;
  for (int l = 0; l < static_cast<int>(popularity_[epoch].size()); ++l)
    if (!pools_.contains({l, epoch, tokens})) missing.push_back(l);
  std::vector<std::vector<std::int32_t>> drawn(missing.size());
  parallel_for(static_cast<int>(missing.size()), draw_jobs_, [&](int i) {
    const auto m = static_cast<std::size_t>(i);
    drawn[m] = draw_pool(missing[m], epoch, tokens);
  });
  for (std::size_t m = 0; m < missing.size(); ++m)
    pools_.emplace(std::tuple{missing[m], epoch, tokens}, std::move(drawn[m]));
  return pools_.at(key);
}

std::span<const std::int32_t> SyntheticRouting::next_counts(const RoutingRequest& request) {
  assert(request.moe_layer >= 0 && request.moe_layer < static_cast<int>(batches_.size()));
  const auto batch = batches_[static_cast<std::size_t>(request.moe_layer)]++;
  const auto& drift = spec_.drift_at_batches;
  const auto epoch =
      static_cast<std::size_t>(std::upper_bound(drift.begin(), drift.end(), batch) - drift.begin());
  const auto& entries = pool(request.moe_layer, epoch, request.tokens);
  const auto pick =
      static_cast<std::size_t>(pick_rng_() % static_cast<std::uint64_t>(spec_.pool_size));
  return {entries.data() + pick * static_cast<std::size_t>(num_experts_),
          static_cast<std::size_t>(num_experts_)};
}

void SyntheticRouting::rewind() {
  pick_rng_.seed(draw_seed_);
  std::fill(batches_.begin(), batches_.end(), 0);
}

SyntheticRoutingSpec SyntheticRoutingSpec::parse_keys(ConfigObject& routing) {
  SyntheticRoutingSpec s;
  s.distribution =
      routing.choice_or("distribution", PopularityDistribution::kZipf, kPopularityDistributions);
  if (s.distribution == PopularityDistribution::kZipf)
    s.zipf_exponent = routing.number_or("zipf_exponent", s.zipf_exponent, 0.0, 10.0);
  if (s.distribution == PopularityDistribution::kDirichlet)
    s.dirichlet_alpha = routing.number_or("dirichlet_alpha", s.dirichlet_alpha, 1e-3, 1e6);
  if (s.distribution == PopularityDistribution::kFitted) {
    s.fit_path = routing.file("fit");
    s.fit = std::make_shared<const RoutingFit>(RoutingFit::load(s.fit_path.resolved));
    s.fit_mapping.layers = routing.choice_or("layer_mapping", s.fit_mapping.layers, kLayerMappings);
    s.fit_mapping.experts =
        routing.choice_or("expert_mapping", s.fit_mapping.experts, kExpertMappings);
  } else {
    s.dispersion.coefficient =
        routing.number_or("dispersion_coefficient", s.dispersion.coefficient, 0.0, 1e9);
    s.dispersion.exponent =
        routing.number_or("dispersion_exponent", s.dispersion.exponent, -4.0, 4.0);
  }
  s.pool_size = static_cast<int>(routing.integer_or("pool_size", s.pool_size, 1, 100'000));
  if (routing.has("drift_at_iterations")) {
    s.drift_at_batches = routing.integer_list("drift_at_iterations", 1, 1'000'000'000);
    if (!std::is_sorted(s.drift_at_batches.begin(), s.drift_at_batches.end()))
      throw routing.error("drift_at_iterations", "must be in ascending order");
    s.drift_kind = routing.choice_or("drift_kind", s.drift_kind, kDriftKinds);
    if (s.drift_kind == DriftKind::kRotate)
      s.rotate_ranks =
          static_cast<int>(routing.integer_or("rotate_ranks", s.rotate_ranks, 1, 65'535));
  }
  return s;
}

void SyntheticRoutingSpec::write_keys(nlohmann::ordered_json& routing) const {
  routing["distribution"] = name_of(kPopularityDistributions, distribution);
  if (distribution == PopularityDistribution::kZipf) routing["zipf_exponent"] = zipf_exponent;
  if (distribution == PopularityDistribution::kDirichlet)
    routing["dirichlet_alpha"] = dirichlet_alpha;
  if (distribution == PopularityDistribution::kFitted) {
    routing["fit"] = fit_path.to_json();
    routing["layer_mapping"] = name_of(kLayerMappings, fit_mapping.layers);
    routing["expert_mapping"] = name_of(kExpertMappings, fit_mapping.experts);
  } else {
    routing["dispersion_coefficient"] = dispersion.coefficient;
    routing["dispersion_exponent"] = dispersion.exponent;
  }
  routing["pool_size"] = pool_size;
  routing["drift_at_iterations"] = drift_at_batches;
  if (!drift_at_batches.empty()) {
    routing["drift_kind"] = name_of(kDriftKinds, drift_kind);
    if (drift_kind == DriftKind::kRotate) routing["rotate_ranks"] = rotate_ranks;
  }
}

}  // namespace vibesim
