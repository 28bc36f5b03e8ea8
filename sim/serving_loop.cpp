#include "sim/serving_loop.h"

#include <algorithm>
#include <cmath>
#include <deque>

#include <fmt/format.h>

#include "base/derived_seed.h"
#include "base/statistics.h"
#include "policies/policy_registry.h"
#include "sim/cluster_setup.h"
#include "sim/event_engine.h"
#include "sim/gpu_conditions.h"
#include "sim/live_placement.h"
#include "sim/moe_layer_step.h"

namespace vibesim {

namespace {

// Routing pools are drawn per (layer, batch size); serving batch sizes vary
// from 1 to max_batched_tokens, so counts are drawn at the nearest of these
// sizes (powers of two) and rescaled exactly to the batch: drawing a pool
// costs E binomials per entry, rescaling O(E) per step.
std::int64_t routing_bucket(std::int64_t tokens) {
  if (tokens <= 2) return tokens;
  return std::int64_t{1} << static_cast<int>(std::lround(std::log2(static_cast<double>(tokens))));
}

Percentiles percentiles(std::vector<double> values) {
  if (values.empty()) return {};
  std::sort(values.begin(), values.end());
  return {quantile_sorted(values, 0.5), quantile_sorted(values, 0.9),
          quantile_sorted(values, 0.99)};
}

struct Sequence {
  const Request* request;
  std::int64_t output_tokens;  // to generate (>= 1)
  std::int64_t prefilled = 0;  // prompt tokens in the KV cache
  std::int64_t generated = 0;
  SimTime first_token;
};

// One iteration's work: which sequences run and how many tokens each.
struct IterationBatch {
  std::vector<std::pair<Sequence*, std::int64_t>> prefill;  // sequence, chunk tokens
  std::vector<Sequence*> decode;
  std::int64_t tokens = 0;
  double context_tokens = 0;  // sum over query tokens of the context each attends to
  double kv_read_tokens = 0;  // KV-cache tokens read
};

// Time of the layers other than the MoE step, per iteration, for a batch.
class DenseLayerCost {
 public:
  DenseLayerCost(const Experiment& x, const ClusterSetup& setup)
      : x_(x), gpus_(setup.gpus), g_(static_cast<double>(x.cluster.num_gpus)) {
    const auto& ic = x.cluster.sku.interconnect;
    link_bytes_per_ns_ = ic.link_bandwidth_bytes_per_s * 1e-9;
    link_latency_ns_ = ic.link_latency_us * 1e3;
    mesh_ = ic.intra_node == "mesh";
  }

  struct Times {
    double attention_ns = 0, ffn_ns = 0, all_reduce_ns = 0;
  };

  // One attention block (+ the dense FFN for a dense layer, or the shared
  // experts for a MoE layer); slowest GPU under `multiplier`.
  Times layer(const IterationBatch& b, bool moe_layer, std::span<const double> multiplier) const {
    const auto& m = x_.model;
    const double tokens = static_cast<double>(b.tokens);
    const double bpe = bytes_per_element(m.dtype);
    const bool tp = x_.serving.deployment == Deployment::kTpAttention;
    const double attn_weight_bytes = static_cast<double>(m.attention_weight_params()) * bpe;
    const double attn_flops = 2.0 * static_cast<double>(m.attention_weight_params()) * tokens +
                              m.attention_flops_per_context_token() * b.context_tokens;
    const double attn_bytes = attn_weight_bytes * (tp ? 1.0 / g_ : 1.0) +
                              m.kv_cache_bytes_per_token() * b.kv_read_tokens / g_;
    double ffn_flops = 0, ffn_bytes = 0;
    if (moe_layer) {  // shared experts: every GPU runs them on its 1/G of the tokens
      ffn_flops = m.shared_expert_flops_per_token() * tokens / g_;
      ffn_bytes = static_cast<double>(m.shared_experts) * m.expert_weight_bytes();
    } else {  // dense FFN, split like attention
      ffn_flops = m.dense_ffn_flops_per_token() * tokens / g_;
      ffn_bytes = 3.0 * static_cast<double>(m.hidden_size) *
                  static_cast<double>(m.dense_intermediate_size) * bpe / (tp ? g_ : 1.0);
    }
    Times t;
    for (std::size_t g = 0; g < gpus_.size(); ++g) {
      const double k = multiplier.empty() ? 1.0 : multiplier[g];
      t.attention_ns =
          std::max(t.attention_ns, gpus_[g].dense_kernel_ns(attn_flops / g_, attn_bytes) * k);
      t.ffn_ns = std::max(t.ffn_ns, gpus_[g].dense_kernel_ns(ffn_flops, ffn_bytes) * k);
    }
    // Tensor parallelism: an all-reduce of the hidden states (bf16) after
    // attention and after a dense FFN. On a full mesh, reduce-scatter then
    // all-gather, each GPU exchanging a 1/G shard with every peer over its
    // own link at once: 2 x (bytes / G / link bandwidth + link latency). On a
    // switch, a ring: 2 (G-1)/G x bytes / port bandwidth + 2 (G-1) latencies.
    if (tp && g_ > 1) {
      const double bytes = tokens * static_cast<double>(m.hidden_size) * 2.0;
      const double all_reduce_ns = mesh_
                                       ? 2.0 * (bytes / g_ / link_bytes_per_ns_ + link_latency_ns_)
                                       : 2.0 * (g_ - 1) / g_ * bytes / link_bytes_per_ns_ +
                                             2.0 * (g_ - 1) * link_latency_ns_;
      t.all_reduce_ns = all_reduce_ns * (moe_layer ? 1.0 : 2.0);
    }
    return t;
  }

 private:
  const Experiment& x_;
  const std::vector<GpuKernelModel>& gpus_;
  double g_;
  double link_bytes_per_ns_ = 1, link_latency_ns_ = 0;
  bool mesh_ = true;
};

std::int64_t kv_capacity_tokens(const Experiment& x) {
  if (x.serving.kv_cache_tokens > 0) return x.serving.kv_cache_tokens;
  const double hbm = x.cluster.sku.hbm_capacity_bytes * x.cluster.num_gpus;
  const double free_bytes = 0.9 * std::max(0.0, hbm - x.model.total_weight_bytes());
  const double per_token =
      x.model.kv_cache_bytes_per_token() * static_cast<double>(x.model.num_layers);
  return std::max<std::int64_t>(1, static_cast<std::int64_t>(free_bytes / per_token));
}

ServingSummary serve_one_policy(const Experiment& x, const ClusterSetup& setup,
                                RoutingSource& routing, const std::string& name,
                                const PlacementPolicy& policy, const std::vector<Request>& requests,
                                const RequestSink& sink) {
  const auto& spec = x.serving;
  const auto top_k = x.model.top_k;
  const std::int64_t kv_capacity = kv_capacity_tokens(x);
  std::vector<bool> is_moe(static_cast<std::size_t>(x.model.num_layers), false);
  for (auto l : x.model.moe_layers) is_moe[static_cast<std::size_t>(l)] = true;

  LivePlacement live(x, setup, name, policy);
  MoeLayerStepper stepper(x.model, setup.gpus, setup.topology, live.placement(),
                          x.cluster.profile.kernel_jitter_cv,
                          derive_seed(x.seed, RandomStream::kKernelJitter));
  routing.rewind();  // every policy sees the same routing (common random numbers)
  GpuConditions conditions(x.cluster.num_gpus, x.cluster.profile.thermal_drift, x.gpu_events,
                           derive_seed(x.seed, RandomStream::kThermalDrift));
  const DenseLayerCost dense(x, setup);

  ServingSummary s;
  s.policy = name;
  std::vector<double> ttft, tpot, e2e;
  std::int64_t met = 0, output_tokens = 0;
  double idle_sum = 0;
  const double g_count = static_cast<double>(x.cluster.num_gpus);

  std::deque<Sequence> waiting;  // arrived, not admitted
  std::vector<std::unique_ptr<Sequence>> running;
  std::int64_t kv_used = 0;
  std::size_t next_arrival = 0;
  std::vector<std::int32_t> counts(static_cast<std::size_t>(x.model.routed_experts));

  EventEngine engine;
  std::function<void()> iterate;
  const auto admit_arrivals = [&] {
    while (next_arrival < requests.size() && requests[next_arrival].arrival <= engine.now()) {
      const Request& r = requests[next_arrival++];
      Sequence seq{&r, spec.mode == ServingMode::kPrefillOnly ? 1 : std::max<std::int64_t>(1, r.output_tokens),
                   0, 0, SimTime{}};
      if (spec.mode == ServingMode::kDecodeOnly) seq.prefilled = r.input_tokens;
      waiting.push_back(seq);
    }
  };
  const auto finish = [&](Sequence& q, SimTime now) {
    RequestRecord rec{q.request, q.first_token, now, q.generated, false};
    rec.slo_met = rec.ttft_ms() <= spec.slo_ttft_ms && rec.tpot_ms() <= spec.slo_tpot_ms;
    ttft.push_back(rec.ttft_ms());
    tpot.push_back(rec.tpot_ms());
    e2e.push_back(rec.e2e_ms());
    output_tokens += q.generated;
    met += rec.slo_met ? 1 : 0;
    if (sink) sink(name, rec);
    kv_used -= q.request->input_tokens + q.output_tokens;
  };

  iterate = [&] {
    admit_arrivals();
    // Form the batch.
    IterationBatch b;
    std::int64_t budget = spec.max_batched_tokens;
    for (auto& q : running)
      if (q->prefilled == q->request->input_tokens && budget > 0) {
        b.decode.push_back(q.get());
        b.context_tokens += static_cast<double>(q->prefilled + q->generated);
        b.kv_read_tokens += static_cast<double>(q->prefilled + q->generated);
        --budget;
      }
    const auto add_prefill = [&](Sequence* q) {
      const std::int64_t rest = q->request->input_tokens - q->prefilled;
      const std::int64_t chunk = spec.chunked_prefill ? std::min(rest, budget) : rest;
      // Without chunking a prompt must fit the budget, unless it is alone in
      // the batch (then it runs whole, longer than the budget, rather than never).
      if (chunk <= 0 || (chunk > budget && budget < spec.max_batched_tokens)) return false;
      b.prefill.emplace_back(q, chunk);
      const double p = static_cast<double>(q->prefilled), c = static_cast<double>(chunk);
      b.context_tokens += c * (p + (c + 1) / 2);
      b.kv_read_tokens += p + c;
      budget -= chunk;
      return true;
    };
    for (auto& q : running)
      if (q->prefilled < q->request->input_tokens && budget > 0) add_prefill(q.get());
    while (!waiting.empty() && budget > 0 && static_cast<int>(running.size()) < spec.max_running) {
      const Sequence& next = waiting.front();
      const std::int64_t need = next.request->input_tokens + next.output_tokens;
      if (kv_used + need > kv_capacity && !running.empty()) break;  // wait for room
      running.push_back(std::make_unique<Sequence>(next));
      waiting.pop_front();
      kv_used += need;
      Sequence* q = running.back().get();
      // Decode-only sequences arrive prefilled and join the decode set next iteration.
      if (q->prefilled < q->request->input_tokens && !add_prefill(q)) break;
    }
    b.tokens = static_cast<std::int64_t>(b.decode.size());
    for (const auto& [q, chunk] : b.prefill) b.tokens += chunk;

    if (b.tokens == 0) {  // idle: wait for the next arrival (or decode-only admission)
      bool any_decodable = false;
      for (auto& q : running)
        if (q->prefilled == q->request->input_tokens) any_decodable = true;
      if (any_decodable) {  // decode-only sequences admitted this round run next
        engine.schedule_after(SimDuration{}, iterate);
      } else if (next_arrival < requests.size()) {
        engine.schedule(requests[next_arrival].arrival, iterate);
      }
      return;
    }

    // Run every layer.
    const auto& multiplier = conditions.at(engine.now());
    stepper.set_kernel_time_multipliers(multiplier);
    const std::int64_t bucket = routing_bucket(b.tokens);
    double iteration_ns = 0;
    int moe_index = 0;
    // Every layer of a kind costs the same for this batch: compute each once.
    const DenseLayerCost::Times around_moe = dense.layer(b, true, multiplier);
    const DenseLayerCost::Times dense_layer = dense.layer(b, false, multiplier);
    for (std::size_t l = 0; l < is_moe.size(); ++l) {
      const auto& t = is_moe[l] ? around_moe : dense_layer;
      iteration_ns += t.attention_ns + t.ffn_ns + t.all_reduce_ns;
      s.attention_s += t.attention_ns * 1e-9;
      s.all_reduce_s += t.all_reduce_ns * 1e-9;
      s.other_s += t.ffn_ns * 1e-9;
      if (!is_moe[l]) continue;
      const auto drawn = routing.next_counts({moe_index, bucket});
      std::copy(drawn.begin(), drawn.end(), counts.begin());
      if (bucket != b.tokens) rescale_counts(counts, b.tokens * top_k, b.tokens);
      live.record(moe_index, counts);
      const auto step = stepper.step(moe_index, counts);
      iteration_ns += static_cast<double>(step.layer.ns());
      idle_sum += step.barrier_idle_fraction();
      ++s.moe_layer_steps;
      double kernel = 0, a2a = 0;
      for (const auto& g : step.gpus) {
        kernel += g.compute_ns;
        a2a += g.dispatch_ns + g.combine_ns;
      }
      s.moe_kernel_s += kernel / g_count * 1e-9;
      s.all_to_all_s += a2a / g_count * 1e-9;
      ++moe_index;
    }
    ++s.iterations;
    // Recalibration between iterations: a pass is one iteration.
    const SimDuration stall = live.end_pass(multiplier, stepper);
    const SimTime end =
        engine.now() + SimDuration::from_ns(static_cast<std::int64_t>(std::ceil(iteration_ns)));
    // Tokens come out at the end of the iteration.
    for (const auto& [q, chunk] : b.prefill) {
      q->prefilled += chunk;
      if (q->prefilled == q->request->input_tokens) {
        q->first_token = end;
        q->generated = 1;
      }
    }
    for (auto* q : b.decode) {
      if (q->generated == 0) q->first_token = end;  // decode-only: first decode step
      ++q->generated;
    }
    for (auto& q : running)
      if (q->generated >= q->output_tokens) {
        finish(*q, end);
        q.reset();
      }
    running.erase(std::remove(running.begin(), running.end(), nullptr), running.end());
    engine.schedule(end + stall, iterate);
  };

  if (!requests.empty()) engine.schedule(requests.front().arrival, iterate);
  engine.run();

  s.requests = static_cast<std::int64_t>(ttft.size());
  s.ttft_ms = percentiles(ttft);
  s.tpot_ms = percentiles(tpot);
  s.e2e_ms = percentiles(e2e);
  s.duration_s = requests.empty() ? 0.0 : (engine.now() - requests.front().arrival).seconds();
  s.slo_attainment =
      s.requests > 0 ? static_cast<double>(met) / static_cast<double>(s.requests) : 0;
  if (s.duration_s > 0) {
    s.goodput_rps = static_cast<double>(met) / s.duration_s;
    s.throughput_tokens_per_s = static_cast<double>(output_tokens) / s.duration_s;
    s.requests_per_s = static_cast<double>(s.requests) / s.duration_s;
  }
  s.recalibration = live.totals();
  s.barrier_idle_fraction =
      s.moe_layer_steps > 0 ? idle_sum / static_cast<double>(s.moe_layer_steps) : 0.0;
  return s;
}

}  // namespace

std::vector<Request> experiment_requests(const Experiment& x, double rate_per_s) {
  const auto& spec = x.serving.requests;
  if (spec.source == RequestSource::kTrace) {
    auto requests = read_request_trace(spec.trace.resolved);
    if (spec.count > 0 && static_cast<std::size_t>(spec.count) < requests.size())
      requests.resize(static_cast<std::size_t>(spec.count));
    return requests;
  }
  if (rate_per_s <= 0) rate_per_s = spec.rate_per_gpu * x.cluster.num_gpus;
  std::vector<Request> lengths;
  if (spec.lengths.kind == LengthDistribution::kTrace)
    lengths = read_request_trace(spec.lengths.trace.resolved);
  return generate_requests(spec, rate_per_s, derive_seed(x.seed, RandomStream::kRequests),
                           lengths);
}

std::vector<ServingSummary> run_serving(const Experiment& x, const PolicyRegistry& registry,
                                        const std::vector<Request>& requests,
                                        const RequestSink& sink) {
  const ClusterSetup setup = prepare_cluster(x);
  const auto routing = make_routing(x, RandomStream::kRoutingBatches);
  std::vector<ServingSummary> out;
  for (const auto& name : x.policies)
    out.push_back(serve_one_policy(x, setup, *routing, name, *registry.make(name), requests, sink));
  return out;
}

std::vector<FrontierPoint> slo_frontier(const Experiment& x, const PolicyRegistry& registry) {
  const ClusterSetup setup = prepare_cluster(x);
  const auto routing = make_routing(x, RandomStream::kRoutingBatches);
  std::vector<FrontierPoint> out;
  const double g = static_cast<double>(x.cluster.num_gpus);
  for (const auto& name : x.policies) {
    const auto policy = registry.make(name);
    FrontierPoint point{name, 0, 0, 0};
    const auto attainment = [&](double rate_per_gpu) {
      ++point.runs;
      const auto requests = experiment_requests(x, rate_per_gpu * g);
      return serve_one_policy(x, setup, *routing, name, *policy, requests, nullptr).slo_attainment;
    };
    // Bisection in log space between a rate that meets the target and one that does not.
    double lo = x.serving.frontier_min_rate_per_gpu, hi = x.serving.frontier_max_rate_per_gpu;
    double at_lo = attainment(lo);
    if (at_lo >= x.serving.frontier_target) {
      const double at_hi = attainment(hi);
      if (at_hi >= x.serving.frontier_target) {
        lo = hi, at_lo = at_hi;
      } else {
        for (int i = 0; i < x.serving.frontier_steps; ++i) {
          const double mid = std::sqrt(lo * hi);
          const double a = attainment(mid);
          if (a >= x.serving.frontier_target) {
            lo = mid, at_lo = a;
          } else {
            hi = mid;
          }
        }
      }
      point.max_rate_per_gpu = lo;
      point.attainment_at_max = at_lo;
    }
    out.push_back(point);
  }
  return out;
}

}  // namespace vibesim
