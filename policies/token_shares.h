#pragma once
// Speed-aware token shares: with the slot layout of a layer fixed, how should
// each replicated expert's tokens be split over its replicas so that the
// slowest GPU finishes first? A hot expert with a replica on a fast GPU and
// one on a slow GPU should send the fast one more.
#include <span>
#include <vector>

#include "models/latency_curve.h"

namespace vibesim {

// Per-slot token shares for one layer (slot s on GPU s / slots_per_gpu holds
// expert slot_expert[s]) that minimise max_g f_g(tokens on g), within a
// relative 1e-7 of the optimum for non-decreasing curves. Experts with one
// replica, or several on the same GPU, have no choice and keep even shares.
//
// Method: bisection on the bound T. A bound is feasible when the replicated
// experts' tokens fit under every GPU's capacity at T — the tokens it can take
// beyond its fixed experts before f_g reaches T — which is a transportation
// problem, decided exactly by a max-flow (source -> expert -> GPU -> sink)
// on token counts in units of 2^-20 tokens (coarser for huge loads).
[[nodiscard]] std::vector<double> balanced_token_shares(std::span<const int> slot_expert,
                                                        int slots_per_gpu,
                                                        std::span<const double> expert_loads,
                                                        std::span<const LatencyCurve> f);

}  // namespace vibesim
