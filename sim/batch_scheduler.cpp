#include "sim/batch_scheduler.h"

#include <algorithm>

namespace vibesim {

BatchScheduler::BatchScheduler(const ServingSpec& spec, std::int64_t kv_capacity_tokens)
    : spec_(spec), kv_capacity_(kv_capacity_tokens) {}

void BatchScheduler::arrive(const Request& r) {
  Sequence seq{
      &r, spec_.mode == ServingMode::kPrefillOnly ? 1 : std::max<std::int64_t>(1, r.output_tokens),
      0, 0, SimTime{}};
  if (spec_.mode == ServingMode::kDecodeOnly) seq.prefilled = r.input_tokens;
  waiting_.push_back(seq);
}

bool BatchScheduler::add_prefill(IterationBatch& b, Sequence* q, std::int64_t& budget) const {
  const std::int64_t rest = q->request->input_tokens - q->prefilled;
  const std::int64_t chunk = spec_.chunked_prefill ? std::min(rest, budget) : rest;
  // Without chunking a prompt must fit the budget, unless it is alone in
  // the batch (then it runs whole, longer than the budget, rather than never).
  if (chunk <= 0 || (chunk > budget && budget < spec_.max_batched_tokens)) return false;
  b.prefill.emplace_back(q, chunk);
  const double p = static_cast<double>(q->prefilled), c = static_cast<double>(chunk);
  b.shape.context_tokens += c * (p + (c + 1) / 2);
  b.shape.kv_read_tokens += p + c;
  budget -= chunk;
  return true;
}

IterationBatch BatchScheduler::next_batch() {
  IterationBatch b;
  std::int64_t budget = spec_.max_batched_tokens;
  for (auto& q : running_)
    if (q->prefill_done() && budget > 0) {
      b.decode.push_back(q.get());
      b.shape.context_tokens += static_cast<double>(q->prefilled + q->generated);
      b.shape.kv_read_tokens += static_cast<double>(q->prefilled + q->generated);
      --budget;
    }
  for (auto& q : running_)
    if (!q->prefill_done() && budget > 0) add_prefill(b, q.get(), budget);
  while (!waiting_.empty() && budget > 0 && static_cast<int>(running_.size()) < spec_.max_running) {
    const Sequence& next = waiting_.front();
    const std::int64_t need = next.request->input_tokens + next.output_tokens;
    if (kv_used_ + need > kv_capacity_ && !running_.empty()) break;  // wait for room
    running_.push_back(std::make_unique<Sequence>(next));
    waiting_.pop_front();
    kv_used_ += need;
    Sequence* q = running_.back().get();
    // Decode-only sequences arrive prefilled and join the decode set next iteration.
    if (!q->prefill_done() && !add_prefill(b, q, budget)) break;
  }
  std::int64_t tokens = static_cast<std::int64_t>(b.decode.size());
  for (const auto& [q, chunk] : b.prefill) tokens += chunk;
  b.shape.tokens = static_cast<double>(tokens);
  return b;
}

bool BatchScheduler::any_decodable() const {
  return std::any_of(running_.begin(), running_.end(),
                     [](const auto& q) { return q->prefill_done(); });
}

void BatchScheduler::complete(const IterationBatch& b, SimTime end,
                              const std::function<void(const Sequence&, SimTime)>& finished) {
  for (const auto& [q, chunk] : b.prefill) {
    q->prefilled += chunk;
    if (q->prefill_done()) {
      q->first_token = end;
      q->generated = 1;
    }
  }
  for (auto* q : b.decode) {
    if (q->generated == 0) q->first_token = end;  // decode-only: first decode step
    ++q->generated;
  }
  for (auto& q : running_)
    if (q->generated >= q->output_tokens) {
      finished(*q, end);
      kv_used_ -= q->request->input_tokens + q->output_tokens;
      q.reset();
    }
  running_.erase(std::remove(running_.begin(), running_.end(), nullptr), running_.end());
}

std::int64_t kv_capacity_tokens(const ServingSpec& spec, const MoeModel& model, const GpuSku& sku,
                                int num_gpus) {
  if (spec.kv_cache_tokens > 0) return spec.kv_cache_tokens;
  const double hbm = sku.hbm_capacity_bytes * num_gpus;
  const double free_bytes = 0.9 * std::max(0.0, hbm - model.total_weight_bytes());
  const double per_token = model.kv_cache_bytes_per_token() * static_cast<double>(model.num_layers);
  return std::max<std::int64_t>(1, static_cast<std::int64_t>(free_bytes / per_token));
}

}  // namespace vibesim
