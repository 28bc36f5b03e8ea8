#include "traces/token_trace_routing.h"

#include <algorithm>

#include <fmt/format.h>

#include "io/config_error.h"
#include "traces/trace_format.h"

namespace vibesim {

TokenTraceRouting::TokenTraceRouting(const std::filesystem::path& path, int num_moe_layers,
                                     int num_experts, int top_k, TraceMapping mapping)
    : TokenTraceRouting(read_token_trace(path, num_experts), path.string(), num_moe_layers,
                        num_experts, top_k, mapping) {}

TokenTraceRouting::TokenTraceRouting(TokenTrace trace, const std::string& source,
                                     int num_moe_layers, int num_experts, int top_k,
                                     TraceMapping mapping)
    : num_experts_(num_experts), top_k_(top_k) {
  if (trace.top_k != top_k)
    throw InputError(
        fmt::format("{}: the trace routes each token to {} experts, the model to {} (top_k)",
                    source, trace.top_k, top_k));
  int largest = -1;
  for (const auto& layer : trace.experts)
    for (const auto e : layer) largest = std::max(largest, e);
  check_trace_experts(std::max(trace.num_experts, largest + 1), num_experts, mapping.experts,
                      source);
  for (std::size_t l = 0; l < trace.experts.size(); ++l)
    if (trace.experts[l].empty())
      throw InputError(fmt::format("{}: layer id {} has no tokens", source, trace.layer_ids[l]));
  experts_ = std::move(trace.experts);
  trace_layer_of_ =
      trace_layer_of_moe_layer(experts_.size(), num_moe_layers, mapping.layers, source);
  cursor_.assign(static_cast<std::size_t>(num_moe_layers), 0);
  counts_.assign(static_cast<std::size_t>(num_experts), 0);
}

std::span<const std::int32_t> TokenTraceRouting::next_counts(const RoutingRequest& request) {
  const auto layer = static_cast<std::size_t>(request.moe_layer);
  const auto& experts = experts_[trace_layer_of_[layer]];
  const auto k = static_cast<std::size_t>(top_k_);
  const std::size_t tokens = experts.size() / k;
  std::fill(counts_.begin(), counts_.end(), 0);
  std::size_t& cursor = cursor_[layer];
  for (std::int64_t t = 0; t < request.tokens; ++t) {
    for (std::size_t r = 0; r < k; ++r)
      ++counts_[static_cast<std::size_t>(experts[cursor * k + r])];
    cursor = cursor + 1 == tokens ? 0 : cursor + 1;
  }
  return counts_;
}

void TokenTraceRouting::rewind() {
  std::fill(cursor_.begin(), cursor_.end(), 0);
}

}  // namespace vibesim
