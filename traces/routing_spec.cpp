#include "traces/routing_spec.h"

#include <algorithm>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "io/config_error.h"
#include "io/config_object.h"
#include "io/csv_columns.h"
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
      s.trace = routing.file("path");
      break;
    case RoutingSourceKind::kTokenTrace:
      s.trace = routing.file("path");
      s.layer_mapping = routing.choice_or("layer_mapping", s.layer_mapping, kLayerMappings);
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
      out["path"] = trace.to_json();
      break;
    case RoutingSourceKind::kTokenTrace:
      out["path"] = trace.to_json();
      out["layer_mapping"] = name_of(kLayerMappings, layer_mapping);
      break;
  }
  return out;
}

RoutingSourceKind routing_source_of_file(const std::filesystem::path& path) {
  const auto header = CsvLines(path).header_fields();
  const auto has = [&](const char* column) {
    return std::find(header.begin(), header.end(), column) != header.end();
  };
  if (header == std::vector<std::string>{"step", "layer", "expert", "count"})
    return RoutingSourceKind::kCountTrace;
  if (has("layer") && has("e1")) return RoutingSourceKind::kTokenTrace;
  throw InputError(fmt::format(
      "{}:1: not a routing trace: expected the header step,layer,expert,count (per-step counts) "
      "or one with layer and e1..ek (per-token expert ids)",
      path.string()));
}

std::string RoutingSpec::label() const {
  return source == RoutingSourceKind::kSynthetic
             ? name_of(kPopularityDistributions, synthetic.distribution)
             : trace.resolved.filename().string();
}

std::unique_ptr<RoutingSource> make_routing_source(const RoutingSpec& spec,
                                                   const RoutingShape& shape,
                                                   std::uint64_t popularity_seed,
                                                   std::uint64_t draw_seed) {
  switch (spec.source) {
    case RoutingSourceKind::kCountTrace:
      return std::make_unique<CountTraceRouting>(spec.trace.resolved, shape.num_moe_layers,
                                                 shape.num_experts, shape.top_k);
    case RoutingSourceKind::kTokenTrace:
      return std::make_unique<TokenTraceRouting>(spec.trace.resolved, shape.num_moe_layers,
                                                 shape.num_experts, shape.top_k,
                                                 spec.layer_mapping);
    case RoutingSourceKind::kSynthetic:
      break;
  }
  return std::make_unique<SyntheticRouting>(shape.num_moe_layers, shape.num_experts, shape.top_k,
                                            spec.synthetic, popularity_seed, draw_seed);
}

}  // namespace vibesim
