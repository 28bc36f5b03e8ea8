#include "traces/token_trace_routing.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <string>

#include <fmt/format.h>

#include "io/config_error.h"
#include "io/csv_columns.h"

namespace vibesim {

namespace {

std::int64_t parse_id(const std::string& text, const std::string& where, const std::string& column,
                      std::int64_t limit) {
  std::int64_t v = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size() || v < 0 || v >= limit)
    throw InputError(
        fmt::format("{}: column '{}' is not an id in [0, {}): '{}'", where, column, limit, text));
  return v;
}

// k: how many columns e1, e2, ... the header has.
int expert_columns_in_header(const std::filesystem::path& csv) {
  const auto header = CsvLines(csv).header_fields();
  int k = 0;
  while (std::find(header.begin(), header.end(), fmt::format("e{}", k + 1)) != header.end()) ++k;
  if (k == 0) throw InputError(fmt::format("{}:1: no expert columns e1, e2, ...", csv.string()));
  return k;
}

}  // namespace

TokenTrace read_token_trace(const std::filesystem::path& csv, int expert_limit) {
  TokenTrace trace;
  trace.top_k = expert_columns_in_header(csv);
  std::vector<std::string> names{"layer"};
  for (int r = 1; r <= trace.top_k; ++r) names.push_back(fmt::format("e{}", r));
  const auto table = read_csv_columns(csv, names);
  const int top_k = trace.top_k, num_experts = expert_limit;
  std::map<std::int64_t, std::vector<std::int32_t>> by_layer;
  for (std::size_t r = 0; r < table.values.size(); ++r) {
    const auto& row = table.values[r];
    const auto where = fmt::format("{}:{}", csv.string(), table.line_numbers[r]);
    auto& tokens = by_layer[parse_id(row[0], where, "layer", 100'000)];
    const auto first = tokens.size();
    for (int k = 1; k <= top_k; ++k) {
      const auto e = static_cast<std::int32_t>(
          parse_id(row[static_cast<std::size_t>(k)], where, fmt::format("e{}", k), num_experts));
      if (std::find(tokens.begin() + static_cast<std::ptrdiff_t>(first), tokens.end(), e) !=
          tokens.end())
        throw InputError(fmt::format("{}: expert {} appears twice for one token", where, e));
      tokens.push_back(e);
      trace.experts_seen = std::max(trace.experts_seen, e + 1);
    }
  }
  if (by_layer.empty()) throw InputError(fmt::format("{}: no data rows", csv.string()));
  for (auto& [layer, tokens] : by_layer) {
    trace.layer_ids.push_back(layer);
    trace.experts.push_back(std::move(tokens));
  }
  return trace;
}

TokenTraceRouting::TokenTraceRouting(const std::filesystem::path& csv, int num_moe_layers,
                                     int num_experts, int top_k, LayerMapping mapping)
    : num_experts_(num_experts), top_k_(top_k) {
  auto trace = read_token_trace(csv, num_experts);
  if (trace.top_k != top_k)
    throw InputError(fmt::format(
        "{}:1: the trace routes each token to {} experts (columns e1..e{}), the model to {} "
        "(top_k)",
        csv.string(), trace.top_k, trace.top_k, top_k));
  experts_ = std::move(trace.experts);
  const auto trace_layers = experts_.size();
  if (mapping == LayerMapping::kExact && trace_layers != static_cast<std::size_t>(num_moe_layers))
    throw InputError(fmt::format(
        "{}: the trace has {} layers and the model {} MoE layers; map them with "
        "workload.routing.layer_mapping = \"cycle\" (trace layer i serves MoE layers i, i + {}, "
        "...) or use a trace of the model",
        csv.string(), trace_layers, num_moe_layers, trace_layers));
  for (int l = 0; l < num_moe_layers; ++l)
    trace_layer_of_.push_back(static_cast<std::size_t>(l) % trace_layers);
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
