#pragma once
// Replays per-step expert counts (a CountTrace: count_csv, long_csv,
// sglang_json or a binary trace; traces/trace_format.h). Each MoE layer
// replays its trace layer's steps in order, wrapping at the end; counts are
// rescaled to the requested batch when it differs from the recorded one (see
// rescale_counts). Trace layers and experts map onto the model's by
// TraceMapping.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "traces/routing_source.h"
#include "traces/routing_trace.h"
#include "traces/trace_mapping.h"

namespace vibesim {

class CountTraceRouting final : public RoutingSource {
 public:
  // Reads `path`; throws InputError naming the file and line or record for
  // anything malformed, an expert id outside [0, num_experts), or a shape the
  // mapping cannot reconcile.
  CountTraceRouting(const std::filesystem::path& path, int num_moe_layers, int num_experts,
                    int top_k, TraceMapping mapping = {});
  // From a trace in memory; `source` names it in errors.
  CountTraceRouting(CountTrace trace, const std::string& source, int num_moe_layers,
                    int num_experts, int top_k, TraceMapping mapping = {});

  std::span<const std::int32_t> next_counts(const RoutingRequest& request) override;
  void rewind() override;
  [[nodiscard]] int num_experts() const override { return num_experts_; }
  [[nodiscard]] std::size_t num_steps() const { return steps_; }
  [[nodiscard]] std::size_t num_trace_layers() const { return trace_layers_; }

 private:
  int num_experts_ = 0;
  int top_k_ = 1;
  std::size_t steps_ = 0, trace_layers_ = 0;
  std::vector<std::int32_t> counts_;         // [step][trace_layer][model expert], flattened
  std::vector<std::int64_t> totals_;         // [step][trace_layer]: sum over experts
  std::vector<std::size_t> trace_layer_of_;  // per MoE layer
  std::vector<std::size_t> cursor_;          // next step, per MoE layer
  std::vector<std::int32_t> scratch_;
};

}  // namespace vibesim
