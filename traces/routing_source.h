#pragma once
// Where per-layer expert token counts come from: synthetic popularity, or
// recorded traces. The simulator asks once per MoE layer per iteration.
#include <cstdint>
#include <span>

namespace vibesim {

struct RoutingRequest {
  int moe_layer = 0;        // index among the model's MoE layers (0-based)
  std::int64_t tokens = 0;  // tokens in the batch; counts sum to tokens * top_k
};

class RoutingSource {
 public:
  virtual ~RoutingSource() = default;
  // Per-expert token counts for the next batch at `request.moe_layer`;
  // successive calls advance the source. The span stays valid until the next call.
  virtual std::span<const std::int32_t> next_counts(const RoutingRequest& request) = 0;
  // Restarts the source from its beginning, so several policies
  // can be compared on the same routing (common random numbers).
  virtual void rewind() = 0;
  [[nodiscard]] virtual int num_experts() const = 0;
};

// Rescales `counts` (summing to anything > 0) to sum exactly to `target`, in
// proportion, no expert above `cap`: cumulative rounding (expert e gets
// round(S_e t/T) - round(S_(e-1) t/T), S the running sum), each within one
// of its exact share; if that breaks a cap, largest-remainder rounding with
// caps. Deterministic, O(E).
void rescale_counts(std::span<std::int32_t> counts, std::int64_t target, std::int64_t cap);

}  // namespace vibesim
