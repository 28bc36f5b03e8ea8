#pragma once
// The workload's routing source (experiment key `workload.routing`): which
// RoutingSource implementation, with its settings. The registry below lists
// every source with a description; make_routing_source builds one.
#include <cstdint>
#include <filesystem>
#include <memory>

#include <nlohmann/json.hpp>

#include "io/choice_table.h"
#include "io/config_path.h"
#include "traces/routing_source.h"
#include "traces/synthetic_routing.h"
#include "traces/token_trace_routing.h"

namespace vibesim {

class ConfigObject;

enum class RoutingSourceKind { kSynthetic, kCountTrace, kTokenTrace };
inline constexpr ChoiceTable<RoutingSourceKind, 3> kRoutingSources{{
    {"synthetic", RoutingSourceKind::kSynthetic,
     "per-layer expert popularity (zipf, dirichlet, uniform), multinomial batches, optional "
     "drift (traces/synthetic_routing.h)"},
    {"count_trace", RoutingSourceKind::kCountTrace,
     "replays a per-step count CSV step,layer,expert,count, rescaled to each batch "
     "(traces/count_trace_routing.h)"},
    {"token_trace", RoutingSourceKind::kTokenTrace,
     "replays a per-token trace (layer, e1..ek expert ids per token; the FLAME-MoE format), the "
     "next n tokens per batch (traces/token_trace_routing.h)"},
}};

struct RoutingSpec {
  RoutingSourceKind source = RoutingSourceKind::kSynthetic;
  SyntheticRoutingSpec synthetic;                     // synthetic
  ConfigPath trace;                                   // count_trace, token_trace: key `path`
  LayerMapping layer_mapping = LayerMapping::kExact;  // token_trace

  static RoutingSpec parse(ConfigObject& routing);
  [[nodiscard]] nlohmann::ordered_json to_json() const;
  // "zipf" etc. for synthetic routing, the trace's file name for a trace.
  [[nodiscard]] std::string label() const;
};

// The trace source a routing file is for, from its header: count_trace
// (step,layer,expert,count) or token_trace (layer, e1, ...); InputError else.
RoutingSourceKind routing_source_of_file(const std::filesystem::path& path);

struct RoutingShape {
  int num_moe_layers = 0, num_experts = 0, top_k = 0;
};

// `popularity_seed` fixes synthetic hot sets, `draw_seed` the batches.
std::unique_ptr<RoutingSource> make_routing_source(const RoutingSpec& spec,
                                                   const RoutingShape& shape,
                                                   std::uint64_t popularity_seed,
                                                   std::uint64_t draw_seed);

}  // namespace vibesim
