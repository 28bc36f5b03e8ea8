#include "sim/serving_loop.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "base/derived_seed.h"
#include "io/config_error.h"
#include "policies/policy_registry.h"
#include "sim/batch_scheduler.h"
#include "sim/cluster_setup.h"
#include "sim/iteration_runner.h"
#include "sim/policy_run.h"
#include "sim/serving_metrics.h"

namespace vibesim {

namespace {

IterationRecord iteration_record(const std::string& policy, std::int64_t index,
                                 const IterationBatch& batch, SimTime start, SimTime end) {
  IterationRecord r{policy, index, start, end};
  for (const auto& [sequence, chunk] : batch.prefill) r.prefill_tokens += chunk;
  r.prefill_sequences = static_cast<std::int64_t>(batch.prefill.size());
  r.decode_sequences = static_cast<std::int64_t>(batch.decode.size());
  return r;
}

// One policy serving `requests`: arrivals feed the scheduler, each iteration
// runs its batch through every layer and schedules the next at its end (plus
// any migration stall of a recalibration between iterations).
ServingSummary serve_one_policy(const Experiment& x, const ClusterSetup& setup,
                                RoutingSource& routing, const std::string& name,
                                const PlacementPolicy& policy, const std::vector<Request>& requests,
                                const ServingObservers& observe) {
  PolicyRun run(x, setup, name, policy);
  // Named references, not a structured binding: lambdas below capture them
  // (clang 14, which builds the fuzzers, cannot capture bindings).
  auto& live = run.live;
  auto& stepper = run.stepper;
  auto& conditions = run.conditions;
  auto& engine = run.engine;
  routing.rewind();  // every policy sees the same routing (common random numbers)
  BatchScheduler scheduler(
      x.serving, kv_capacity_tokens(x.serving, x.model, x.cluster.sku, x.cluster.num_gpus));
  IterationRunner runner(x, setup, routing, live, stepper, name);
  ServingMetrics metrics(x.serving, name, observe.request_finished);
  const auto finished = [&](const Sequence& q, SimTime end) { metrics.finished(q, end); };

  std::size_t next_arrival = 0;
  std::function<void()> iterate = [&] {
    while (next_arrival < requests.size() && requests[next_arrival].arrival <= engine.now())
      scheduler.arrive(requests[next_arrival++]);
    const IterationBatch batch = scheduler.next_batch();
    if (batch.tokens() == 0) {  // idle: wait for the next arrival (or decode-only admission)
      if (scheduler.any_decodable()) {  // decode-only sequences admitted this round run next
        engine.schedule_after(SimDuration{}, iterate);
      } else if (next_arrival < requests.size()) {
        engine.schedule(requests[next_arrival].arrival, iterate);
      }
      return;
    }
    const auto& multiplier = conditions.at(engine.now());
    const double iteration_ns = runner.run(batch, multiplier, engine.now(), observe.layer_step);
    // Recalibration between iterations: a pass is one iteration.
    const SimTime end =
        engine.now() + SimDuration::from_ns(static_cast<std::int64_t>(std::ceil(iteration_ns)));
    conditions.ran(engine.now(), end - engine.now(), runner.busy_ns());
    const SimDuration stall = live.end_pass(end, multiplier, stepper);
    if (observe.iteration_ended)
      observe.iteration_ended(
          iteration_record(name, runner.totals().iterations - 1, batch, engine.now(), end));
    scheduler.complete(batch, end, finished);
    engine.schedule(end + stall, iterate);
  };
  if (!requests.empty()) engine.schedule(requests.front().arrival, iterate);
  engine.run();

  const SimTime start = requests.empty() ? engine.now() : requests.front().arrival;
  ServingSummary s = metrics.summary(start, engine.now());
  const auto& t = runner.totals();
  s.iterations = t.iterations;
  s.moe_layer_steps = t.moe_layer_steps;
  s.time = t.time;
  s.barrier_idle_fraction =
      t.moe_layer_steps > 0 ? t.barrier_idle_sum / static_cast<double>(t.moe_layer_steps) : 0.0;
  s.recalibration = live.totals();
  s.proofs = live.first_proofs();
  s.ttft_around_recalibrations = metrics.ttft_p90_around(s.recalibration.events);
  return s;
}

// A request whose prompt and output cannot fit the KV cache even alone would
// be admitted by no real engine: refused before anything runs.
void check_requests_fit_kv_cache(const Experiment& x, const std::vector<Request>& requests) {
  const auto capacity = kv_capacity_tokens(x.serving, x.model, x.cluster.sku, x.cluster.num_gpus);
  for (const auto& r : requests) {
    const std::int64_t output = x.serving.mode == ServingMode::kPrefillOnly ? 1 : r.output_tokens;
    if (r.input_tokens + output > capacity)
      throw InputError(fmt::format(
          "{}: request {} needs {} KV-cache tokens (prompt + output), more than the cache holds "
          "({}; key 'serving.kv_cache_tokens', or more GPUs)",
          x.source, r.id, r.input_tokens + output, capacity));
  }
}

}  // namespace

ServingObservers ServingObservers::polling(std::function<void()> checkpoint) {
  ServingObservers out;
  if (checkpoint)
    out.request_finished = [checkpoint](const std::string&, const RequestRecord&) { checkpoint(); };
  out.checkpoint = std::move(checkpoint);
  return out;
}

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
  return generate_requests(spec, rate_per_s, derive_seed(x.seed, RandomStream::kRequests), lengths);
}

std::vector<ServingSummary> run_serving(const Experiment& x, const PolicyRegistry& registry,
                                        const std::vector<Request>& requests,
                                        const ServingObservers& observe, int jobs) {
  check_requests_fit_kv_cache(x, requests);
  ClusterSetup setup = prepare_cluster(x, jobs);
  setup.context.checkpoint = observe.checkpoint;
  const auto routing = make_routing(x, RandomStream::kRoutingBatches, jobs);
  std::vector<ServingSummary> out;
  for (const auto& name : x.policies)
    out.push_back(
        serve_one_policy(x, setup, *routing, name, *registry.make(name), requests, observe));
  return out;
}

void check_frontier_possible(const Experiment& x) {
  if (x.serving.requests.source == RequestSource::kTrace)
    throw InputError(fmt::format(
        "{}: --frontier varies the request rate, so it needs generated requests "
        "(serving.requests.source poisson or gamma); a replayed trace has its own arrival times",
        x.source));
}

std::vector<FrontierPoint> slo_frontier(const Experiment& x, const PolicyRegistry& registry,
                                        const ServingObservers& observe, int jobs) {
  check_frontier_possible(x);
  ClusterSetup setup = prepare_cluster(x, jobs);
  setup.context.checkpoint = observe.checkpoint;
  const auto routing = make_routing(x, RandomStream::kRoutingBatches, jobs);
  std::vector<FrontierPoint> out;
  const double g = static_cast<double>(x.cluster.num_gpus);
  for (const auto& name : x.policies) {
    const auto policy = registry.make(name);
    FrontierPoint point{name, 0, 0, 0};
    double lowest_miss = std::numeric_limits<double>::infinity();
    const auto attainment = [&](double rate_per_gpu) {
      ++point.runs;
      const auto requests = experiment_requests(x, rate_per_gpu * g);
      check_requests_fit_kv_cache(x, requests);
      const auto s = serve_one_policy(x, setup, *routing, name, *policy, requests, observe);
      if (s.slo_attainment < x.serving.frontier_target && rate_per_gpu < lowest_miss) {
        lowest_miss = rate_per_gpu;
        point.ttft_attainment_above = s.ttft_attainment;
        point.tpot_attainment_above = s.tpot_attainment;
      }
      return s.slo_attainment;
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
