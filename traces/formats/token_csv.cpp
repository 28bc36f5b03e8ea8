// token_csv: per token, layer and e1..ek (the FLAME-MoE routing trace format).
#include <algorithm>
#include <charconv>
#include <map>
#include <string>

#include <fmt/format.h>

#include "io/config_error.h"
#include "io/csv_columns.h"
#include "traces/formats/trace_formats.h"

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

TokenTrace read_token_csv(const std::filesystem::path& path, int expert_limit) {
  TokenTrace trace;
  trace.top_k = expert_columns_in_header(path);
  std::vector<std::string> names{"layer"};
  for (int r = 1; r <= trace.top_k; ++r) names.push_back(fmt::format("e{}", r));
  const auto table = read_csv_columns(path, names);
  std::map<std::int64_t, std::vector<std::int32_t>> by_layer;
  for (std::size_t r = 0; r < table.values.size(); ++r) {
    const auto& row = table.values[r];
    const auto where = fmt::format("{}:{}", path.string(), table.line_numbers[r]);
    auto& tokens = by_layer[parse_id(row[0], where, "layer", kTraceLayerIdLimit)];
    const auto first = tokens.size();
    for (int k = 1; k <= trace.top_k; ++k) {
      const auto e = static_cast<std::int32_t>(
          parse_id(row[static_cast<std::size_t>(k)], where, fmt::format("e{}", k), expert_limit));
      if (std::find(tokens.begin() + static_cast<std::ptrdiff_t>(first), tokens.end(), e) !=
          tokens.end())
        throw InputError(fmt::format("{}: expert {} appears twice for one token", where, e));
      tokens.push_back(e);
      trace.num_experts = std::max(trace.num_experts, e + 1);
    }
  }
  if (by_layer.empty()) throw InputError(fmt::format("{}: no data rows", path.string()));
  for (auto& [layer, tokens] : by_layer) {
    trace.layer_ids.push_back(layer);
    trace.experts.push_back(std::move(tokens));
  }
  return trace;
}

std::string write_token_csv(const TokenTrace& trace) {
  std::string out = "layer,token_idx";
  for (int r = 1; r <= trace.top_k; ++r) fmt::format_to(std::back_inserter(out), ",e{}", r);
  out += '\n';
  const auto k = static_cast<std::size_t>(trace.top_k);
  for (std::size_t l = 0; l < trace.layer_ids.size(); ++l)
    for (std::size_t t = 0; t < trace.tokens_in_layer(l); ++t) {
      fmt::format_to(std::back_inserter(out), "{},{}", trace.layer_ids[l], t);
      for (std::size_t r = 0; r < k; ++r)
        fmt::format_to(std::back_inserter(out), ",{}", trace.experts[l][t * k + r]);
      out += '\n';
    }
  return out;
}

}  // namespace vibesim
