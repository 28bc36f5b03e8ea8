#pragma once
// A lower bound on max_g f_g(n_g) for one layer, valid for any placement with
// at most `max_replicas` replicas per expert split evenly:
//  - fluid: the smallest T with sum_g f_g^-1(T) >= total load (work may split anywhere);
//  - hottest expert: its load / max_replicas on the fastest GPU at that load.
// Valid for any piecewise-linear f_g: the fluid capacity at T is the largest
// load with f_g <= T, wherever profiled curves dip. Both functions need at
// least one load (item) and one curve.
#include <span>

#include "models/latency_curve.h"

namespace vibesim {

// How close to its lower bound a layer's predicted latency counts as optimal:
// `optimal` proves to this relative gap, and `latency_lpt_counts` stops
// searching replica counts there.
inline constexpr double kOptimalityGap = 1e-3;

double latency_lower_bound_ns(std::span<const double> expert_loads, std::span<const LatencyCurve> f,
                              int max_replicas);

// The same for packings of unsplittable items (weights) with exactly `slots`
// items per GPU, also at least
//  - the heaviest item plus the slots - 1 lightest others on the fastest GPU
//    for that load: whichever GPU hosts the heaviest item hosts slots - 1 more;
//  - the fluid bound with slots counted: any k GPUs hold at most the
//    k * slots heaviest items (so a fast GPU cannot take more than its slots'
//    worth, and the others must take the rest).
double packing_lower_bound_ns(std::span<const double> item_weights, std::span<const LatencyCurve> f,
                              int slots);

}  // namespace vibesim
