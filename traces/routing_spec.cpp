#include "traces/routing_spec.h"

#include <string>

#include <fmt/format.h>

#include "io/config_error.h"
#include "io/config_object.h"
#include "traces/count_trace_routing.h"
#include "traces/token_trace_routing.h"
#include "traces/trace_format.h"

namespace vibesim {

RoutingSpec RoutingSpec::parse(ConfigObject& routing) {
  RoutingSpec s;
  s.source = routing.choice("source", kRoutingSources);
  switch (s.source) {
    case RoutingSourceKind::kSynthetic:
      s.synthetic = SyntheticRoutingSpec::parse_keys(routing);
      break;
    case RoutingSourceKind::kCountTrace:
    case RoutingSourceKind::kTokenTrace:
      s.trace = routing.file("path");
      s.mapping.layers = routing.choice_or("layer_mapping", s.mapping.layers, kLayerMappings);
      s.mapping.experts = routing.choice_or("expert_mapping", s.mapping.experts, kExpertMappings);
      break;
  }
  routing.finish();
  return s;
}

nlohmann::ordered_json RoutingSpec::to_json() const {
  nlohmann::ordered_json out = {{"source", name_of(kRoutingSources, source)}};
  switch (source) {
    case RoutingSourceKind::kSynthetic:
      synthetic.write_keys(out);
      break;
    case RoutingSourceKind::kCountTrace:
    case RoutingSourceKind::kTokenTrace:
      out["path"] = trace.to_json();
      out["layer_mapping"] = name_of(kLayerMappings, mapping.layers);
      out["expert_mapping"] = name_of(kExpertMappings, mapping.experts);
      break;
  }
  return out;
}

RoutingSourceKind routing_source_of_file(const std::filesystem::path& path) {
  return trace_file_holds_tokens(path) ? RoutingSourceKind::kTokenTrace
                                       : RoutingSourceKind::kCountTrace;
}

std::string RoutingSpec::label() const {
  return source == RoutingSourceKind::kSynthetic
             ? name_of(kPopularityDistributions, synthetic.distribution)
             : trace.resolved.filename().string();
}

std::unique_ptr<RoutingSource> make_routing_source(const RoutingSpec& spec,
                                                   const RoutingShape& shape,
                                                   std::uint64_t popularity_seed,
                                                   std::uint64_t draw_seed, int draw_jobs) {
  switch (spec.source) {
    case RoutingSourceKind::kCountTrace:
      return std::make_unique<CountTraceRouting>(spec.trace.resolved, shape.num_moe_layers,
                                                 shape.num_experts, shape.top_k, spec.mapping);
    case RoutingSourceKind::kTokenTrace:
      return std::make_unique<TokenTraceRouting>(spec.trace.resolved, shape.num_moe_layers,
                                                 shape.num_experts, shape.top_k, spec.mapping);
    case RoutingSourceKind::kSynthetic:
      break;
  }
  return std::make_unique<SyntheticRouting>(shape.num_moe_layers, shape.num_experts, shape.top_k,
                                            spec.synthetic, popularity_seed, draw_seed, draw_jobs);
}

}  // namespace vibesim
