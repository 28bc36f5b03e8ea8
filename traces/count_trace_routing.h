#pragma once
// Replays a per-step expert-count trace: a CSV with the header
// `step,layer,expert,count` (one row per step, layer and expert; missing rows
// count 0). The trace's distinct layer ids, sorted, map in order onto the
// model's MoE layers, cycling when the trace has fewer layers; steps replay in
// order and wrap. Counts are rescaled to the requested batch size when it
// differs from the recorded one (see rescale_counts).
#include <cstdint>
#include <filesystem>
#include <map>
#include <vector>

#include "traces/routing_source.h"

namespace vibesim {

// The rows of a count trace as read: step -> layer id -> counts per expert
// (each as long as its largest expert id + 1), the distinct layer ids in
// order, and the largest expert id + 1. Throws InputError naming the line for
// a bad header or field, an expert id >= expert_limit, or a count overflow.
struct CountTraceRows {
  std::map<std::int64_t, std::map<std::int64_t, std::vector<std::int32_t>>> by_step;
  std::vector<std::int64_t> layer_ids;
  int experts_seen = 0;
};
CountTraceRows read_count_trace_rows(const std::filesystem::path& csv, int expert_limit);

class CountTraceRouting final : public RoutingSource {
 public:
  // Throws InputError naming the file and line for a bad header, a
  // non-integer or negative field, or an expert id outside [0, num_experts).
  CountTraceRouting(const std::filesystem::path& csv, int num_moe_layers, int num_experts,
                    int top_k);
  // From counts already in memory: counts[step][trace_layer][expert].
  CountTraceRouting(std::vector<std::vector<std::vector<std::int32_t>>> counts, int num_moe_layers,
                    int top_k);

  std::span<const std::int32_t> next_counts(const RoutingRequest& request) override;
  void rewind() override;
  [[nodiscard]] int num_experts() const override { return num_experts_; }
  [[nodiscard]] std::size_t num_steps() const { return steps_; }
  [[nodiscard]] std::size_t num_trace_layers() const { return trace_layers_; }

 private:
  void validate_shape();
  int num_experts_ = 0;
  int top_k_ = 1;
  std::size_t steps_ = 0, trace_layers_ = 0;
  std::vector<std::int32_t> counts_;  // [step][trace_layer][expert], flattened
  std::vector<std::int64_t> totals_;  // [step][trace_layer]: sum over experts
  std::vector<std::size_t> cursor_;   // next step, per MoE layer
  std::vector<std::int32_t> scratch_;
};

}  // namespace vibesim
