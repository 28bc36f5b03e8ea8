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
#include "traces/trace_mapping.h"

namespace vibesim {

class ConfigObject;

enum class RoutingSourceKind { kSynthetic, kCountTrace, kTokenTrace };
inline constexpr ChoiceTable<RoutingSourceKind, 3> kRoutingSources{{
    {"synthetic", RoutingSourceKind::kSynthetic,
     "per-layer expert popularity (zipf, dirichlet, uniform), multinomial batches, optional "
     "drift (traces/synthetic_routing.h)"},
    {"count_trace", RoutingSourceKind::kCountTrace,
     "replays per-step expert counts (count_csv, long_csv, sglang_json or binary; "
     "traces/trace_format.h), rescaled to each batch (traces/count_trace_routing.h)"},
    {"token_trace", RoutingSourceKind::kTokenTrace,
     "replays per-token routing (token_csv, the FLAME-MoE format, or binary), the next n tokens "
     "per batch (traces/token_trace_routing.h)"},
}};

struct RoutingSpec {
  RoutingSourceKind source = RoutingSourceKind::kSynthetic;
  SyntheticRoutingSpec synthetic;  // synthetic
  ConfigPath trace;                // count_trace, token_trace: key `path`
  TraceMapping mapping;            // count_trace, token_trace

  static RoutingSpec parse(ConfigObject& routing);
  [[nodiscard]] nlohmann::ordered_json to_json() const;
  // "zipf" etc. for synthetic routing, the trace's file name for a trace.
  [[nodiscard]] std::string label() const;
};

// The trace source a routing file is for: token_trace for per-token routing,
// count_trace for per-step counts; InputError if it is no trace format.
RoutingSourceKind routing_source_of_file(const std::filesystem::path& path);

struct RoutingShape {
  int num_moe_layers = 0, num_experts = 0, top_k = 0;
};

// `popularity_seed` fixes synthetic hot sets, `draw_seed` the batches;
// synthetic routing draws its pools on `draw_jobs` threads (the same counts
// for any number).
std::unique_ptr<RoutingSource> make_routing_source(const RoutingSpec& spec,
                                                   const RoutingShape& shape,
                                                   std::uint64_t popularity_seed,
                                                   std::uint64_t draw_seed, int draw_jobs = 1);

}  // namespace vibesim
