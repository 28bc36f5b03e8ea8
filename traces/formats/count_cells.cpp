#include "traces/formats/count_cells.h"

#include <algorithm>
#include <charconv>
#include <limits>
#include <set>

#include <fmt/format.h>

#include "io/config_error.h"

namespace vibesim {

std::int64_t parse_count_field(std::string_view text, const std::string& where,
                               const char* column) {
  std::int64_t value = 0;
  const auto* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end)
    throw InputError(fmt::format("{}: column '{}' is not an integer: '{}'", where, column, text));
  if (value < 0)
    throw InputError(fmt::format("{}: column '{}' is negative: {}", where, column, value));
  return value;
}

void CountCells::add(std::int64_t step, std::int64_t layer, std::int64_t expert, std::int64_t count,
                     const std::string& where) {
  if (layer < 0 || layer >= kTraceLayerIdLimit)
    throw InputError(
        fmt::format("{}: layer id {} is out of range [0, {})", where, layer, kTraceLayerIdLimit));
  if (expert < 0 || expert >= expert_limit_)
    throw InputError(
        fmt::format("{}: expert id {} is out of range [0, {})", where, expert, expert_limit_));
  if (step < 0 || count < 0)
    throw InputError(fmt::format("{}: negative {}", where, step < 0 ? "step" : "count"));
  auto& counts = by_step_[step][layer];
  if (counts.size() <= static_cast<std::size_t>(expert))
    counts.resize(static_cast<std::size_t>(expert) + 1, 0);
  experts_seen_ = std::max(experts_seen_, static_cast<int>(expert) + 1);
  auto& cell = counts[static_cast<std::size_t>(expert)];
  if (count > std::numeric_limits<std::int32_t>::max() - cell)  // repeated cells add up
    throw InputError(fmt::format("{}: the count of step {}, layer {}, expert {} exceeds {}", where,
                                 step, layer, expert, std::numeric_limits<std::int32_t>::max()));
  cell += static_cast<std::int32_t>(count);
}

CountTrace CountCells::to_trace(const std::filesystem::path& path) const {
  if (by_step_.empty()) throw InputError(fmt::format("{}: no data rows", path.string()));
  std::set<std::int64_t> layers;
  for (const auto& [step, by_layer] : by_step_)
    for (const auto& [layer, counts] : by_layer) layers.insert(layer);
  CountTrace trace;
  trace.num_experts = experts_seen_;
  trace.layer_ids.assign(layers.begin(), layers.end());
  trace.steps = by_step_.size();
  // Dense steps x layers x experts: scattered ids would make it quadratic in
  // the rows; refuse before allocating.
  check_count_cells(static_cast<double>(trace.steps), static_cast<double>(trace.layer_ids.size()),
                    trace.num_experts, path.string());
  trace.counts.assign(
      trace.steps * trace.layer_ids.size() * static_cast<std::size_t>(trace.num_experts), 0);
  std::size_t s = 0;
  for (const auto& [step, by_layer] : by_step_) {
    for (const auto& [layer, counts] : by_layer) {
      const auto l = static_cast<std::size_t>(
          std::lower_bound(trace.layer_ids.begin(), trace.layer_ids.end(), layer) -
          trace.layer_ids.begin());
      std::copy(counts.begin(), counts.end(), trace.at(s, l).begin());
    }
    ++s;
  }
  return trace;
}

}  // namespace vibesim
