#include "traces/trace_mapping.h"

#include <fmt/format.h>

#include "io/config_error.h"

namespace vibesim {

std::vector<std::size_t> trace_layer_of_moe_layer(std::size_t trace_layers, int num_moe_layers,
                                                  LayerMapping mapping, const std::string& source) {
  const auto moe_layers = static_cast<std::size_t>(num_moe_layers);
  if (mapping == LayerMapping::kExact && trace_layers != moe_layers)
    throw InputError(fmt::format(
        "{}: the trace has {} layers and the model {} MoE layers; map them with "
        "workload.routing.layer_mapping = \"cycle\" (trace layer i serves MoE layers i, i + {}, "
        "...) or use a trace of the model",
        source, trace_layers, num_moe_layers, trace_layers));
  if (trace_layers > moe_layers)
    throw InputError(fmt::format("{}: the trace has {} layers, more than the model's {} MoE layers",
                                 source, trace_layers, num_moe_layers));
  std::vector<std::size_t> out;
  for (std::size_t l = 0; l < moe_layers; ++l) out.push_back(l % trace_layers);
  return out;
}

void check_trace_experts(int trace_experts, int model_experts, ExpertMapping mapping,
                         const std::string& source) {
  if (trace_experts > model_experts)
    throw InputError(fmt::format("{}: the trace has {} experts, the model only {}", source,
                                 trace_experts, model_experts));
  if (mapping == ExpertMapping::kExact && trace_experts != model_experts)
    throw InputError(fmt::format(
        "{}: the trace has {} experts (for a CSV: its largest expert id + 1) and the model {}; "
        "set workload.routing.expert_mapping = \"pad\" to give the model's other experts no "
        "tokens, or use a trace of the model",
        source, trace_experts, model_experts));
}

}  // namespace vibesim
