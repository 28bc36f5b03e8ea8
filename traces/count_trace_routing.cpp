#include "traces/count_trace_routing.h"

#include <algorithm>
#include <numeric>

#include <fmt/format.h>

#include "io/config_error.h"
#include "traces/trace_format.h"

namespace vibesim {

CountTraceRouting::CountTraceRouting(const std::filesystem::path& path, int num_moe_layers,
                                     int num_experts, int top_k, TraceMapping mapping)
    : CountTraceRouting(read_count_trace(path, num_experts), path.string(), num_moe_layers,
                        num_experts, top_k, mapping) {}

CountTraceRouting::CountTraceRouting(CountTrace trace, const std::string& source,
                                     int num_moe_layers, int num_experts, int top_k,
                                     TraceMapping mapping)
    : num_experts_(num_experts), top_k_(top_k) {
  if (trace.top_k != 0 && trace.top_k != top_k)
    throw InputError(fmt::format("{}: the trace was recorded with top-{}, the model routes to {}",
                                 source, trace.top_k, top_k));
  check_trace_experts(trace.num_experts, num_experts, mapping.experts, source);
  steps_ = trace.steps;
  trace_layers_ = trace.layer_ids.size();
  if (steps_ == 0 || trace_layers_ == 0)
    throw InputError(fmt::format("{}: the trace is empty", source));
  trace_layer_of_ = trace_layer_of_moe_layer(trace_layers_, num_moe_layers, mapping.layers, source);
  pad_experts(trace, num_experts, source);  // expert_mapping pad: the others get no tokens
  counts_ = std::move(trace.counts);
  const auto e = static_cast<std::size_t>(num_experts);
  for (std::size_t i = 0; i < steps_ * trace_layers_; ++i)
    totals_.push_back(std::accumulate(counts_.begin() + static_cast<std::ptrdiff_t>(i * e),
                                      counts_.begin() + static_cast<std::ptrdiff_t>((i + 1) * e),
                                      std::int64_t{0}));
  cursor_.assign(static_cast<std::size_t>(num_moe_layers), 0);
  scratch_.resize(e);
}

std::span<const std::int32_t> CountTraceRouting::next_counts(const RoutingRequest& request) {
  auto& step = cursor_[static_cast<std::size_t>(request.moe_layer)];
  const auto layer = trace_layer_of_[static_cast<std::size_t>(request.moe_layer)];
  const auto e = static_cast<std::size_t>(num_experts_);
  const std::size_t index = step * trace_layers_ + layer;
  const std::int32_t* recorded = counts_.data() + index * e;
  const std::int64_t recorded_total = totals_[index];
  step = (step + 1) % steps_;
  const std::int64_t target = request.tokens * top_k_;
  if (recorded_total == target || recorded_total == 0) return {recorded, e};
  std::copy(recorded, recorded + e, scratch_.begin());
  rescale_counts(scratch_, target, request.tokens);
  return scratch_;
}

void CountTraceRouting::rewind() {
  std::fill(cursor_.begin(), cursor_.end(), 0);
}

}  // namespace vibesim
