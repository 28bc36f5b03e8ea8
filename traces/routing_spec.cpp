#include "traces/routing_spec.h"

#include "io/config_object.h"
#include "traces/count_trace_routing.h"

namespace vibesim {

RoutingSpec RoutingSpec::parse(ConfigObject& routing) {
  RoutingSpec s;
  s.source = routing.choice("source", kRoutingSources);
  switch (s.source) {
    case RoutingSourceKind::kSynthetic:
      s.synthetic = SyntheticRoutingSpec::parse_keys(routing);
      break;
    case RoutingSourceKind::kCountTrace:
      s.count_trace = routing.file("path");
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
      out["path"] = count_trace.to_json();
      break;
  }
  return out;
}

std::string RoutingSpec::label() const {
  return source == RoutingSourceKind::kSynthetic
             ? name_of(kPopularityDistributions, synthetic.distribution)
             : count_trace.resolved.filename().string();
}

std::unique_ptr<RoutingSource> make_routing_source(const RoutingSpec& spec,
                                                   const RoutingShape& shape,
                                                   std::uint64_t popularity_seed,
                                                   std::uint64_t draw_seed) {
  switch (spec.source) {
    case RoutingSourceKind::kCountTrace:
      return std::make_unique<CountTraceRouting>(spec.count_trace.resolved, shape.num_moe_layers,
                                                 shape.num_experts, shape.top_k);
    case RoutingSourceKind::kSynthetic:
      break;
  }
  return std::make_unique<SyntheticRouting>(shape.num_moe_layers, shape.num_experts, shape.top_k,
                                            spec.synthetic, popularity_seed, draw_seed);
}

}  // namespace vibesim
