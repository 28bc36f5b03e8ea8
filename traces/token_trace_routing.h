#pragma once
// Replays a per-token routing trace: a CSV with a header holding `layer` and
// the expert ids each token was routed to, best first, in columns `e1` ..
// `ek` (k the model's top-k; other columns, such as token and sequence ids or
// router scores `s1` .. `sk`, are ignored) — the FLAME-MoE trace format.
// Each MoE layer's batch of n tokens is the next n tokens of its trace layer,
// in file order, wrapping at the end.
//
// Trace layers (their distinct ids, sorted) map onto the model's MoE layers:
//  - kExact: one to one, in order; the counts must match;
//  - kCycle: trace layer i serves MoE layers i, i + L, i + 2L, ... (L trace
//    layers), for a model with more MoE layers than the trace.
#include <cstdint>
#include <filesystem>
#include <vector>

#include "io/choice_table.h"
#include "traces/routing_source.h"

namespace vibesim {

enum class LayerMapping { kExact, kCycle };
inline constexpr ChoiceTable<LayerMapping, 2> kLayerMappings{{
    {"exact", LayerMapping::kExact,
     "the trace's layers are the model's MoE layers, in order (their numbers must match)"},
    {"cycle", LayerMapping::kCycle,
     "trace layer i serves MoE layers i, i + L, i + 2L, ... (L trace layers)"},
}};

// A per-token trace as read: k from the header's e1..ek columns, each layer
// id's tokens' expert ids in file order, and the largest expert id + 1.
// Throws InputError naming the line for a bad field, an expert id >=
// expert_limit, or an expert repeated within a token.
struct TokenTrace {
  int top_k = 0;
  std::vector<std::int64_t> layer_ids;             // sorted
  std::vector<std::vector<std::int32_t>> experts;  // [layer][token * top_k + rank]
  int experts_seen = 0;
};
TokenTrace read_token_trace(const std::filesystem::path& csv, int expert_limit);

class TokenTraceRouting final : public RoutingSource {
 public:
  // Throws InputError naming the file (and line) for a missing column, an
  // expert id outside [0, num_experts), a repeated expert within a token, a
  // top-k other than `top_k`, or layer counts the mapping cannot reconcile.
  TokenTraceRouting(const std::filesystem::path& csv, int num_moe_layers, int num_experts,
                    int top_k, LayerMapping mapping);

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
