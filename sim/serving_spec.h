#pragma once
// The serving loop's settings (experiment key `serving`; see sim/serving_loop.h).
#include <cstdint>

#include <nlohmann/json.hpp>

#include "io/choice_table.h"
#include "models/deployment.h"
#include "traces/request_stream.h"

namespace vibesim {

class ConfigObject;

enum class ServingMode { kMixed, kPrefillOnly, kDecodeOnly };
inline constexpr ChoiceTable<ServingMode, 3> kServingModes{{
    {"mixed", ServingMode::kMixed, "prefill and decode in the same iterations (vLLM default)"},
    {"prefill_only", ServingMode::kPrefillOnly, "every request ends with its first token"},
    {"decode_only", ServingMode::kDecodeOnly,
     "prompts are already in the KV cache; the first token is the first decode step"},
}};

struct ServingSpec {
  ServingMode mode = ServingMode::kMixed;
  DeploymentKind deployment = DeploymentKind::kTpAttention;
  std::int64_t max_batched_tokens = 8192;
  int max_running = 256;
  bool chunked_prefill = true;
  std::int64_t kv_cache_tokens = 0;  // 0: what HBM holds after the weights (90 %)
  // CPU time per iteration in which no GPU kernel runs (scheduling, sampling,
  // input preparation); 0 = none, the old behaviour.
  double host_overhead_us_per_iteration = 0;
  double slo_ttft_ms = 0, slo_tpot_ms = 0;
  RequestStreamSpec requests;
  double frontier_target = 0.9;
  double frontier_min_rate_per_gpu = 0.01, frontier_max_rate_per_gpu = 50;
  int frontier_steps = 10;

  static ServingSpec parse(ConfigObject& serving);
  [[nodiscard]] nlohmann::ordered_json to_json() const;
};

}  // namespace vibesim
