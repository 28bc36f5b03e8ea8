#pragma once
// What a routing trace looks like, per layer: how skewed expert popularity is,
// how unevenly contiguous placement on G GPUs would load them, and how much
// each expert's count moves from step to step. `vibesim trace stats`.
#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

#include "traces/routing_trace.h"

namespace vibesim {

struct LayerTraceStats {
  std::int64_t layer_id = 0;
  std::int64_t steps = 0, assignments = 0;
  double max_over_mean = 0;  // expert counts over the whole trace
  double cv = 0;             // population sd / mean of those counts
  int top_expert = 0;
  double top_expert_share = 0;       // of all assignments
  double busiest_gpu_over_mean = 0;  // contiguous placement on G GPUs
  double lightest_gpu_over_mean = 0;
  double step_cv = 0;  // mean over experts (with traffic) of their count's CV across steps
};

// Throws InputError if `gpus` does not divide the experts.
std::vector<LayerTraceStats> trace_stats(const CountTrace& trace, int gpus);
nlohmann::ordered_json trace_stats_json(const CountTrace& trace, int gpus,
                                        const std::vector<LayerTraceStats>& stats);

}  // namespace vibesim
