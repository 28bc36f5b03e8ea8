#pragma once
// Recorded routing in memory, in the two granularities traces come in:
//  - TokenTrace: per token, the top_k experts it was routed to (best first),
//    per layer, in recorded order;
//  - CountTrace: per step and layer, how many assignments each expert got.
// Files in every supported format (traces/trace_format.h) read into one of
// these and write from them. Layer ids are the trace's own (for example the
// model's layer numbers); sources map them onto MoE layers in order.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <variant>
#include <vector>

namespace vibesim {

// Limits every reader enforces before allocating, so that a small hostile
// file cannot ask for gigabytes (docs/bad-input.md).
inline constexpr int kTraceExpertLimit = 65'536;                           // expert ids < this
inline constexpr std::int64_t kTraceLayerIdLimit = 100'000;                // layer ids < this
inline constexpr std::size_t kTraceCountCellLimit = std::size_t{1} << 28;  // steps*layers*experts

struct TokenTrace {
  int top_k = 0;
  int num_experts = 0;                             // the largest id seen + 1, or the model's
  std::vector<std::int64_t> layer_ids;             // ascending
  std::vector<std::vector<std::int32_t>> experts;  // [layer][token * top_k + rank]

  [[nodiscard]] std::size_t tokens_in_layer(std::size_t layer) const {
    return experts[layer].size() / static_cast<std::size_t>(top_k);
  }
};

struct CountTrace {
  int top_k = 0;  // 0 when the source format does not record it
  int num_experts = 0;
  std::vector<std::int64_t> layer_ids;  // ascending
  std::size_t steps = 0;
  std::vector<std::int32_t> counts;  // [step][layer][expert], dense

  [[nodiscard]] std::span<const std::int32_t> at(std::size_t step, std::size_t layer) const {
    const auto e = static_cast<std::size_t>(num_experts);
    return {counts.data() + (step * layer_ids.size() + layer) * e, e};
  }
  [[nodiscard]] std::span<std::int32_t> at(std::size_t step, std::size_t layer) {
    const auto e = static_cast<std::size_t>(num_experts);
    return {counts.data() + (step * layer_ids.size() + layer) * e, e};
  }
};

using RoutingTrace = std::variant<TokenTrace, CountTrace>;

// Cuts each layer's tokens into steps of `batch_tokens` (the last step of a
// layer may be shorter; layers with fewer steps get empty ones) and counts them.
CountTrace count_tokens(const TokenTrace& trace, std::int64_t batch_tokens);

// InputError "<source>: S steps x L layers x E experts is more than the N
// counts a trace may hold" when a dense count trace of that shape would
// exceed kTraceCountCellLimit; called before allocating one.
void check_count_cells(double steps, double layers, double experts, const std::string& source);

// Widens `trace` to `num_experts` (>= its own), the new experts at 0;
// InputError (naming `source`) beyond kTraceCountCellLimit.
void pad_experts(CountTrace& trace, int num_experts, const std::string& source = "trace");

}  // namespace vibesim
