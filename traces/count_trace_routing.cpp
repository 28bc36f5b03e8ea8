#include "traces/count_trace_routing.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <numeric>
#include <string>

#include <fmt/format.h>

#include "io/config_error.h"
#include "io/csv_columns.h"

namespace vibesim {

namespace {

std::int64_t parse_field(std::string_view text, const std::string& where, const char* column) {
  std::int64_t value = 0;
  const auto* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end)
    throw InputError(fmt::format("{}: column '{}' is not an integer: '{}'", where, column, text));
  if (value < 0)
    throw InputError(fmt::format("{}: column '{}' is negative: {}", where, column, value));
  return value;
}

}  // namespace

CountTraceRows read_count_trace_rows(const std::filesystem::path& csv, int expert_limit) {
  CsvLines lines(csv);
  lines.require_header("step,layer,expert,count");
  CountTraceRows rows;
  auto& by_step = rows.by_step;
  auto& layer_ids = rows.layer_ids;
  while (lines.next()) {
    const auto where = lines.where();
    const auto text = lines.fields(4);
    std::int64_t fields[4];
    const char* names[4] = {"step", "layer", "expert", "count"};
    for (std::size_t f = 0; f < 4; ++f) fields[f] = parse_field(text[f], where, names[f]);
    if (fields[2] >= expert_limit)
      throw InputError(
          fmt::format("{}: expert id {} is out of range [0, {})", where, fields[2], expert_limit));
    if (fields[3] > std::numeric_limits<std::int32_t>::max())
      throw InputError(fmt::format("{}: count {} is too large", where, fields[3]));
    auto& counts = by_step[fields[0]][fields[1]];
    if (counts.size() <= static_cast<std::size_t>(fields[2]))
      counts.resize(static_cast<std::size_t>(fields[2]) + 1, 0);
    rows.experts_seen = std::max(rows.experts_seen, static_cast<int>(fields[2]) + 1);
    auto& cell = counts[static_cast<std::size_t>(fields[2])];
    if (cell + fields[3] > std::numeric_limits<std::int32_t>::max())  // repeated cells add up
      throw InputError(fmt::format("{}: the count of step {}, layer {}, expert {} exceeds {}",
                                   where, fields[0], fields[1], fields[2],
                                   std::numeric_limits<std::int32_t>::max()));
    cell += static_cast<std::int32_t>(fields[3]);
    layer_ids.push_back(fields[1]);
  }
  if (by_step.empty()) throw InputError(fmt::format("{}: no data rows", csv.string()));
  std::sort(layer_ids.begin(), layer_ids.end());
  layer_ids.erase(std::unique(layer_ids.begin(), layer_ids.end()), layer_ids.end());
  return rows;
}

CountTraceRouting::CountTraceRouting(const std::filesystem::path& csv, int num_moe_layers,
                                     int num_experts, int top_k)
    : num_experts_(num_experts), top_k_(top_k) {
  auto rows = read_count_trace_rows(csv, num_experts);
  const auto& by_step = rows.by_step;
  const auto& layer_ids = rows.layer_ids;
  steps_ = by_step.size();
  trace_layers_ = layer_ids.size();
  // Steps x layers x experts dense: sparse, scattered ids would make it
  // quadratic in the rows; refuse before allocating.
  constexpr std::size_t kMaxCells = std::size_t{1} << 28;
  if (static_cast<double>(steps_) * static_cast<double>(trace_layers_) * num_experts >
      static_cast<double>(kMaxCells))
    throw InputError(fmt::format(
        "{}: {} steps x {} layers x {} experts is more than the {} counts a trace may hold "
        "(are the step and layer ids dense?)",
        csv.string(), steps_, trace_layers_, num_experts, kMaxCells));
  counts_.assign(steps_ * trace_layers_ * static_cast<std::size_t>(num_experts), 0);
  std::size_t s = 0;
  for (const auto& [step, layers] : by_step) {
    for (const auto& [layer, counts] : layers) {
      const auto l = static_cast<std::size_t>(
          std::lower_bound(layer_ids.begin(), layer_ids.end(), layer) - layer_ids.begin());
      std::copy(
          counts.begin(), counts.end(),
          counts_.begin() + static_cast<std::ptrdiff_t>((s * trace_layers_ + l) *
                                                        static_cast<std::size_t>(num_experts)));
    }
    ++s;
  }
  cursor_.assign(static_cast<std::size_t>(num_moe_layers), 0);
  validate_shape();
}

CountTraceRouting::CountTraceRouting(std::vector<std::vector<std::vector<std::int32_t>>> counts,
                                     int num_moe_layers, int top_k)
    : top_k_(top_k) {
  steps_ = counts.size();
  trace_layers_ = steps_ ? counts[0].size() : 0;
  num_experts_ = trace_layers_ ? static_cast<int>(counts[0][0].size()) : 0;
  for (const auto& step : counts)
    for (const auto& layer : step) counts_.insert(counts_.end(), layer.begin(), layer.end());
  if (counts_.size() != steps_ * trace_layers_ * static_cast<std::size_t>(num_experts_))
    throw std::invalid_argument("CountTraceRouting: ragged counts");
  cursor_.assign(static_cast<std::size_t>(num_moe_layers), 0);
  validate_shape();
}

void CountTraceRouting::validate_shape() {
  if (steps_ == 0 || trace_layers_ == 0 || num_experts_ == 0)
    throw std::invalid_argument("CountTraceRouting: empty trace");
  scratch_.resize(static_cast<std::size_t>(num_experts_));
  const auto e = static_cast<std::size_t>(num_experts_);
  for (std::size_t i = 0; i < steps_ * trace_layers_; ++i)
    totals_.push_back(std::accumulate(counts_.begin() + static_cast<std::ptrdiff_t>(i * e),
                                      counts_.begin() + static_cast<std::ptrdiff_t>((i + 1) * e),
                                      std::int64_t{0}));
}

std::span<const std::int32_t> CountTraceRouting::next_counts(const RoutingRequest& request) {
  auto& step = cursor_[static_cast<std::size_t>(request.moe_layer)];
  const auto layer = static_cast<std::size_t>(request.moe_layer) % trace_layers_;
  const auto e = static_cast<std::size_t>(num_experts_);
  const std::size_t index = step * trace_layers_ + layer;
  const std::int32_t* recorded = counts_.data() + index * e;
  const std::int64_t recorded_total = totals_[index];
  step = (step + 1) % steps_;
  const std::int64_t target = request.tokens * top_k_;
  if (recorded_total == target || recorded_total == 0) return {recorded, e};
  std::copy(recorded, recorded + e, scratch_.begin());
  rescale_counts(scratch_, target, request.tokens);
  return scratch_;
}

void CountTraceRouting::rewind() {
  std::fill(cursor_.begin(), cursor_.end(), 0);
}

}  // namespace vibesim
