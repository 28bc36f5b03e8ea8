#pragma once
// Replays per-token routing (a TokenTrace: token_csv, the FLAME-MoE format,
// or a binary trace; traces/trace_format.h). Each MoE layer's batch of n
// tokens is the next n tokens of its trace layer, in recorded order, wrapping
// at the end. Trace layers and experts map onto the model's by TraceMapping.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "traces/routing_source.h"
#include "traces/routing_trace.h"
#include "traces/trace_mapping.h"

namespace vibesim {

class TokenTraceRouting final : public RoutingSource {
 public:
  // Reads `path` (traces/trace_format.h); throws InputError naming the file
  // (and line or record) for anything malformed, an expert id outside
  // [0, num_experts), a top-k other than `top_k`, or a shape the mapping
  // cannot reconcile.
  TokenTraceRouting(const std::filesystem::path& path, int num_moe_layers, int num_experts,
                    int top_k, TraceMapping mapping = {});
  // From a trace in memory; `source` names it in errors.
  TokenTraceRouting(TokenTrace trace, const std::string& source, int num_moe_layers,
                    int num_experts, int top_k, TraceMapping mapping = {});

  std::span<const std::int32_t> next_counts(const RoutingRequest& request) override;
  void rewind() override;
  [[nodiscard]] int num_experts() const override { return num_experts_; }
  [[nodiscard]] std::size_t num_trace_layers() const { return experts_.size(); }
  [[nodiscard]] std::size_t tokens_in_layer(std::size_t trace_layer) const {
    return experts_[trace_layer].size() / static_cast<std::size_t>(top_k_);
  }

 private:
  int num_experts_, top_k_;
  std::vector<std::vector<std::int32_t>> experts_;  // [trace layer][token * top_k + rank]
  std::vector<std::size_t> trace_layer_of_;         // per MoE layer
  std::vector<std::size_t> cursor_;                 // next token, per MoE layer
  std::vector<std::int32_t> counts_;
};

}  // namespace vibesim
