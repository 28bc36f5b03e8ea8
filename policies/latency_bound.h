#pragma once
// A lower bound on max_g f_g(n_g) for one layer, valid for any placement with
// at most `max_replicas` replicas per expert split evenly:
//  - fluid: the smallest T with sum_g f_g^-1(T) >= total load (work may split anywhere);
//  - hottest expert: its load / max_replicas on the fastest GPU at that load.
// Needs f_g non-decreasing; profiled curves are, up to jitter.
#include <span>

#include "models/latency_curve.h"

namespace vibesim {

double latency_lower_bound_ns(std::span<const double> expert_loads, std::span<const LatencyCurve> f,
                              int max_replicas);

}  // namespace vibesim
