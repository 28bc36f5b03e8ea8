#pragma once
// How a recorded trace maps onto a model whose shape differs from it: chosen
// in the config (workload.routing.layer_mapping / expert_mapping), never
// silently. Trace layers are taken in ascending id order.
#include <cstddef>
#include <string>
#include <vector>

#include "io/choice_table.h"

namespace vibesim {

enum class LayerMapping { kExact, kCycle };
inline constexpr ChoiceTable<LayerMapping, 2> kLayerMappings{{
    {"exact", LayerMapping::kExact,
     "the trace's layers are the model's MoE layers, in order (their numbers must match)"},
    {"cycle", LayerMapping::kCycle,
     "trace layer i serves MoE layers i, i + L, i + 2L, ... (L trace layers)"},
}};

enum class ExpertMapping { kExact, kPad };
inline constexpr ChoiceTable<ExpertMapping, 2> kExpertMappings{{
    {"exact", ExpertMapping::kExact,
     "the trace has the model's experts (for CSV traces: its largest expert id + 1 equals the "
     "model's expert count)"},
    {"pad", ExpertMapping::kPad,
     "the trace may have fewer experts than the model; the model's other experts get no tokens"},
}};

struct TraceMapping {
  LayerMapping layers = LayerMapping::kExact;
  ExpertMapping experts = ExpertMapping::kExact;
};

// The trace layer each MoE layer replays. InputError naming `source` when
// the mapping cannot reconcile the counts (exact with different counts, or
// more trace layers than MoE layers).
std::vector<std::size_t> trace_layer_of_moe_layer(std::size_t trace_layers, int num_moe_layers,
                                                  LayerMapping mapping, const std::string& source);

// InputError naming `source` if a trace with `trace_experts` experts cannot
// serve a model with `model_experts` under `mapping`.
void check_trace_experts(int trace_experts, int model_experts, ExpertMapping mapping,
                         const std::string& source);

}  // namespace vibesim
