// The continuous-batching scheduler, step by step with exact token counts.
#include <doctest/doctest.h>

#include <vector>

#include "sim/batch_scheduler.h"

using namespace vibesim;

namespace {

ServingSpec spec_with(std::int64_t budget, bool chunked, int max_running = 256) {
  ServingSpec s;
  s.max_batched_tokens = budget;
  s.chunked_prefill = chunked;
  s.max_running = max_running;
  return s;
}

Request request(std::int64_t id, std::int64_t in, std::int64_t out) {
  return {id, SimTime{}, in, out};
}

// Chunk sizes of each prefill in the batch, in order.
std::vector<std::int64_t> chunks(const IterationBatch& b) {
  std::vector<std::int64_t> out;
  for (const auto& [q, c] : b.prefill) out.push_back(c);
  return out;
}

}  // namespace

TEST_CASE("chunked prefill splits a long prompt over iterations at the token budget") {
  const auto spec = spec_with(40, true);
  BatchScheduler s(spec, 1'000'000);
  const auto r = request(0, 100, 2);
  s.arrive(r);
  std::vector<std::int64_t> finished;
  const auto done = [&](const Sequence& q, SimTime) { finished.push_back(q.request->id); };
  auto b = s.next_batch();
  CHECK(chunks(b) == std::vector<std::int64_t>{40});
  s.complete(b, SimTime::from_ns(1), done);
  b = s.next_batch();
  CHECK(chunks(b) == std::vector<std::int64_t>{40});
  s.complete(b, SimTime::from_ns(2), done);
  b = s.next_batch();
  CHECK(chunks(b) == std::vector<std::int64_t>{20});
  s.complete(b, SimTime::from_ns(3), done);  // first token
  b = s.next_batch();
  CHECK(b.decode.size() == 1);
  CHECK(b.tokens() == 1);
  s.complete(b, SimTime::from_ns(4), done);  // second token: done
  CHECK(finished == std::vector<std::int64_t>{0});
}

TEST_CASE("without chunking a prompt over the budget runs whole, but only alone") {
  const auto spec = spec_with(40, false);
  BatchScheduler s(spec, 1'000'000);
  const auto a = request(0, 100, 1), b = request(1, 10, 1);
  s.arrive(a);
  s.arrive(b);
  const auto batch = s.next_batch();
  CHECK(chunks(batch) == std::vector<std::int64_t>{100});  // alone, over budget
  CHECK(batch.tokens() == 100);
}

TEST_CASE("max_running caps the sequences admitted") {
  const auto spec = spec_with(1000, true, 1);
  BatchScheduler s(spec, 1'000'000);
  const auto a = request(0, 10, 5), b = request(1, 10, 5);
  s.arrive(a);
  s.arrive(b);
  CHECK(chunks(s.next_batch()) == std::vector<std::int64_t>{10});
}

TEST_CASE("a request waits until the KV cache has room for its prompt and output") {
  const auto spec = spec_with(1000, true);
  BatchScheduler s(spec, 150);  // each request needs 100 tokens of KV cache
  const auto a = request(0, 90, 10), b = request(1, 90, 10);
  s.arrive(a);
  s.arrive(b);
  const auto done = [](const Sequence&, SimTime) {};
  auto batch = s.next_batch();
  CHECK(chunks(batch) == std::vector<std::int64_t>{90});  // only the first fits
  for (int i = 0; i < 10; ++i) {
    s.complete(batch, SimTime::from_ns(i + 1), done);
    batch = s.next_batch();
  }
  CHECK(chunks(batch) == std::vector<std::int64_t>{90});  // the first finished: room now
}

TEST_CASE("decode-only sequences arrive prefilled and their first token is a decode step") {
  auto spec = spec_with(1000, true);
  spec.mode = ServingMode::kDecodeOnly;
  BatchScheduler s(spec, 1'000'000);
  const auto a = request(0, 500, 3);
  s.arrive(a);
  auto batch = s.next_batch();
  CHECK(batch.tokens() == 0);  // admitted, nothing to prefill
  CHECK(s.any_decodable());
  batch = s.next_batch();
  CHECK(batch.decode.size() == 1);
  CHECK(batch.shape.kv_read_tokens == 500);
}

TEST_CASE("the KV capacity is 90 % of the HBM left after the weights, or as configured") {
  ServingSpec spec;
  MoeModel m;
  m.num_layers = 1;
  m.hidden_size = 1;
  m.attention = {"gqa", 1, 1, 1};  // 4 bytes of KV cache per token (bf16 key + value)
  GpuSku sku;
  sku.hbm_capacity_bytes = 1000;
  REQUIRE(m.total_weight_bytes() == 8);  // the attention projections of this tiny model
  CHECK(kv_capacity_tokens(spec, m, sku, 2) == 448);  // 0.9 x (2000 - 8) / 4, rounded down
  spec.kv_cache_tokens = 7;
  CHECK(kv_capacity_tokens(spec, m, sku, 2) == 7);
}
