#pragma once
// The continuous-batching scheduler of the serving loop, in the style of vLLM.
// Per iteration, with a budget of `max_batched_tokens`:
//  1. every running request past its prefill decodes one token;
//  2. running requests still prefilling get the next chunk of their prompt
//     (the whole rest when chunked prefill is off, if it fits);
//  3. waiting requests are admitted in arrival order while fewer than
//     `max_running` run and the KV cache can hold their prompt and output.
// A request's first token comes at the end of the iteration that finishes its
// prefill; each later iteration adds one token. In `prefill_only` mode every
// request ends with its first token; in `decode_only` mode prompts arrive in
// the KV cache and the first token is the first decode step.
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "base/sim_time.h"
#include "models/dense_layer_cost.h"
#include "sim/serving_spec.h"
#include "traces/request_trace.h"

namespace vibesim {

struct Sequence {
  const Request* request;
  std::int64_t output_tokens;  // to generate (>= 1)
  std::int64_t prefilled = 0;  // prompt tokens in the KV cache
  std::int64_t generated = 0;
  SimTime first_token;
  [[nodiscard]] bool prefill_done() const { return prefilled == request->input_tokens; }
};

// One iteration's work: which sequences run and how many tokens each.
struct IterationBatch {
  std::vector<std::pair<Sequence*, std::int64_t>> prefill;  // sequence, chunk tokens
  std::vector<Sequence*> decode;
  BatchShape shape;
  [[nodiscard]] std::int64_t tokens() const { return static_cast<std::int64_t>(shape.tokens); }
};

class BatchScheduler {
 public:
  // Keeps a reference to `spec`.
  BatchScheduler(const ServingSpec& spec, std::int64_t kv_capacity_tokens);

  // `request` (which must outlive the scheduler) has arrived.
  void arrive(const Request& request);
  // Forms the next iteration's batch; an empty batch admits nothing more now.
  IterationBatch next_batch();
  // A running sequence is past its prefill (it can decode without new arrivals).
  [[nodiscard]] bool any_decodable() const;
  // The batch's tokens came out at `end`: advances its sequences and calls
  // `finished` for each that is done, freeing its KV cache.
  void complete(const IterationBatch& batch, SimTime end,
                const std::function<void(const Sequence&, SimTime)>& finished);

 private:
  bool add_prefill(IterationBatch& b, Sequence* q, std::int64_t& budget) const;

  const ServingSpec& spec_;
  std::int64_t kv_capacity_;
  std::int64_t kv_used_ = 0;
  std::deque<Sequence> waiting_;  // arrived, not admitted
  std::vector<std::unique_ptr<Sequence>> running_;
};

// The KV cache of the group in tokens: serving.kv_cache_tokens, or 90 % of
// the HBM left after the weights.
std::int64_t kv_capacity_tokens(const ServingSpec& spec, const MoeModel& model, const GpuSku& sku,
                                int num_gpus);

}  // namespace vibesim
