#pragma once
// A synthetic routing model fitted to a recorded trace (`vibesim trace fit`):
// per layer, each expert's share of assignments (popularity) and how much
// batches deviate from it (dispersion). The synthetic source's "fitted"
// distribution draws from it (traces/synthetic_routing.h).
//
// Dispersion: a batch of m assignments drawn independently per token
// (multinomial) has per-expert count variance m p (1 - p). Real batches
// deviate more, because a batch's tokens share topics. The ratio of the
// observed variance to the multinomial's, phi(m) = sum_e var_e / sum_e
// m p_e (1 - p_e), is modelled as phi(m) = 1 + coefficient * m^exponent and
// realised by drawing each batch's expert shares from Dirichlet(alpha p) with
// alpha = (m - phi) / (phi - 1), the Dirichlet-multinomial with that phi.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "traces/routing_trace.h"

namespace vibesim {

struct BatchDispersion {
  double coefficient = 0;  // 0: batches are multinomial draws around the popularity
  double exponent = 1;

  // phi(m) for m assignments (>= 1).
  [[nodiscard]] double variance_ratio(double assignments) const;
  // The Dirichlet concentration alpha giving phi(m); +infinity when phi <= 1.
  [[nodiscard]] double dirichlet_concentration(double assignments) const;
};

struct LayerRoutingFit {
  std::int64_t layer_id = 0;
  std::vector<double> popularity;  // sums to 1
  BatchDispersion dispersion;
  // The measurements the dispersion was fitted to: (assignments per batch, phi).
  std::vector<std::pair<double, double>> measured;
};

struct RoutingFit {
  std::string description;  // where it came from
  int top_k = 0, num_experts = 0;
  std::vector<LayerRoutingFit> layers;

  // InputError naming the file and key for anything malformed.
  static RoutingFit load(const std::filesystem::path& path);
  [[nodiscard]] nlohmann::ordered_json to_json() const;
};

// Per-token traces: phi measured at batch sizes 8, 16, 32, ... tokens (each
// cut into at least 4 batches) and fitted by least squares on log(phi - 1).
RoutingFit fit_routing(const TokenTrace& trace);
// Per-step counts: phi measured at the recorded steps (their mean size), the
// exponent fixed at 1 (a Dirichlet-multinomial with one concentration).
// `top_k` 0: the trace's.
RoutingFit fit_routing(const CountTrace& trace, int top_k);

// phi of one layer of `trace` (steps of roughly equal size): the observed
// variance of each expert's count over steps (unbiased) summed, over the
// multinomial's at the steps' mean size around the trace's mean shares.
double measured_variance_ratio(const CountTrace& trace, std::size_t layer);

}  // namespace vibesim
