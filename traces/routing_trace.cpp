#include "traces/routing_trace.h"

#include <algorithm>

#include <fmt/format.h>

#include "io/config_error.h"

namespace vibesim {

CountTrace count_tokens(const TokenTrace& trace, std::int64_t batch_tokens) {
  CountTrace out;
  out.top_k = trace.top_k;
  out.num_experts = trace.num_experts;
  out.layer_ids = trace.layer_ids;
  const auto batch = static_cast<std::size_t>(batch_tokens);
  for (std::size_t l = 0; l < trace.layer_ids.size(); ++l)
    out.steps = std::max(out.steps, (trace.tokens_in_layer(l) + batch - 1) / batch);
  out.counts.assign(out.steps * out.layer_ids.size() * static_cast<std::size_t>(out.num_experts),
                    0);
  const auto k = static_cast<std::size_t>(trace.top_k);
  for (std::size_t l = 0; l < trace.layer_ids.size(); ++l) {
    const auto& experts = trace.experts[l];
    for (std::size_t i = 0; i < experts.size(); ++i)
      ++out.at(i / (k * batch), l)[static_cast<std::size_t>(experts[i])];
  }
  return out;
}

void check_count_cells(double steps, double layers, double experts, const std::string& source) {
  if (steps * layers * experts > static_cast<double>(kTraceCountCellLimit))
    throw InputError(fmt::format(
        "{}: {} steps x {} layers x {} experts is more than the {} counts a trace may hold", source,
        steps, layers, experts, kTraceCountCellLimit));
}

void pad_experts(CountTrace& trace, int num_experts, const std::string& source) {
  if (num_experts <= trace.num_experts) return;
  check_count_cells(static_cast<double>(trace.steps), static_cast<double>(trace.layer_ids.size()),
                    num_experts, source);
  CountTrace wide = trace;
  wide.num_experts = num_experts;
  wide.counts.assign(trace.steps * trace.layer_ids.size() * static_cast<std::size_t>(num_experts),
                     0);
  for (std::size_t s = 0; s < trace.steps; ++s)
    for (std::size_t l = 0; l < trace.layer_ids.size(); ++l) {
      const auto from = trace.at(s, l);
      std::copy(from.begin(), from.end(), wide.at(s, l).begin());
    }
  trace = std::move(wide);
}

}  // namespace vibesim
