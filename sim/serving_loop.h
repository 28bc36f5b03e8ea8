#pragma once
// Serving: requests arrive, a continuous-batching scheduler forms iterations
// (sim/batch_scheduler.h), an iteration runner runs every layer of each
// (sim/iteration_runner.h: attention and dense parts on the GPUs' own speeds,
// MoE layers through the synchronized layer step with routing drawn for the
// iteration's tokens), and ServingMetrics (sim/serving_metrics.h) collects
// per-request latency and SLO attainment. Each policy's run is set up like the
// layer study's (sim/policy_run.h).
//
// Deployments (models/deployment.h, kDeployments) decide what the non-expert
// parts cost and how MoE tokens are exchanged.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "base/sim_time.h"
#include "sim/experiment.h"
#include "sim/live_placement.h"
#include "sim/time_breakdown.h"
#include "traces/request_trace.h"

namespace vibesim {

class PolicyRegistry;

struct RequestRecord {
  const Request* request = nullptr;
  SimTime first_token, finish;
  std::int64_t output_tokens = 0;  // as generated (1 in prefill-only mode; 0 if none asked for)
  bool slo_met = false;            // both the TTFT and the TPOT SLO
  [[nodiscard]] double ttft_ms() const { return (first_token - request->arrival).ms(); }
  [[nodiscard]] double e2e_ms() const { return (finish - request->arrival).ms(); }
  // Mean time per output token after the first; 0 for a one-token output.
  [[nodiscard]] double tpot_ms() const {
    return output_tokens > 1 ? (finish - first_token).ms() / static_cast<double>(output_tokens - 1)
                             : 0.0;
  }
};

struct Percentiles {
  double p50 = 0, p90 = 0, p99 = 0;
};

// How long before and after a re-placement TTFT is compared.
inline constexpr double kRecalibrationWindowMs = 5000;
struct TtftAroundEvent {
  double p90_before_ms = 0, p90_after_ms = 0;
  std::int64_t requests_before = 0, requests_after = 0;
};

struct ServingSummary {
  std::string policy;
  std::int64_t requests = 0;
  Percentiles ttft_ms, tpot_ms, e2e_ms;
  double slo_attainment = 0;  // fraction meeting both the TTFT and the TPOT SLO
  double ttft_attainment = 0, tpot_attainment = 0;  // fraction meeting each SLO alone
  double goodput_rps = 0;              // requests meeting both SLOs per second of the run
  double throughput_tokens_per_s = 0;  // output tokens
  double requests_per_s = 0;
  double duration_s = 0;  // first arrival to last finish
  std::int64_t iterations = 0, moe_layer_steps = 0;
  double barrier_idle_fraction = 0;  // mean over MoE layer steps
  RecalibrationTotals recalibration;
  // Per re-placement (recalibration.events): TTFT P90 of the requests arriving
  // in the kRecalibrationWindowMs before it and after it (NaN when none did).
  std::vector<TtftAroundEvent> ttft_around_recalibrations;
  TimeBreakdown time;  // where the run's time went
  // A proving policy's proofs of its first placement, one per MoE layer
  // (PlacementContext::proofs); empty for every other policy.
  std::vector<LayerProof> proofs;
};

using RequestSink = std::function<void(const std::string& policy, const RequestRecord&)>;

// One serving iteration as it ran: its span and its batch.
struct IterationRecord {
  const std::string& policy;
  std::int64_t index = 0;  // 0, 1, ... per policy
  SimTime start, end;      // end: the batch's tokens are out (a migration stall follows it)
  std::int64_t prefill_tokens = 0;  // decode sequences add one token each
  std::int64_t prefill_sequences = 0, decode_sequences = 0;
};
using IterationSink = std::function<void(const IterationRecord&)>;

// What a serving run reports as it goes; each may be empty.
struct ServingObservers {
  RequestSink request_finished;
  IterationSink iteration_ended;
  LayerRowSink layer_step;  // every MoE layer step, with its start time
  // Called between the layers a policy places (PlacementContext::checkpoint).
  std::function<void()> checkpoint;

  // Observers that only poll `checkpoint` (may be empty): at every finished
  // request and between the layers a policy places.
  static ServingObservers polling(std::function<void()> checkpoint);
};

// Runs every policy of `experiment` on `requests` (sorted by arrival), common
// random numbers across policies, telling `observe` as it goes. Synthetic
// routing's pools are drawn on `jobs` threads; the results are the same for
// any number.
std::vector<ServingSummary> run_serving(const Experiment& experiment,
                                        const PolicyRegistry& registry,
                                        const std::vector<Request>& requests,
                                        const ServingObservers& observe = {}, int jobs = 1);

// The requests an experiment's `serving.requests` asks for (trace or generator),
// generated at `rate_per_s` when given (> 0) instead of the configured rate.
std::vector<Request> experiment_requests(const Experiment& experiment, double rate_per_s = 0);

struct FrontierPoint {
  std::string policy;
  double max_rate_per_gpu = 0;  // requests/s per GPU at which attainment >= target
  double attainment_at_max = 0;
  int runs = 0;
  // At the lowest rate tried that missed the target (0 when none did): the
  // fraction meeting each SLO alone; the lower one is the SLO that binds.
  double ttft_attainment_above = 0, tpot_attainment_above = 0;
  [[nodiscard]] const char* binding_slo() const {
    if (ttft_attainment_above == 0 && tpot_attainment_above == 0) return "none (search bound)";
    return ttft_attainment_above <= tpot_attainment_above ? "ttft" : "tpot";
  }
};

// The frontier varies the request rate, which a replayed trace does not have:
// InputError for a trace (slo_frontier checks it; callers may check early).
void check_frontier_possible(const Experiment& experiment);

// Bisection on the generator's rate: the highest rate per GPU at which at
// least `serving.frontier.target` of requests meet both SLOs, per policy.
// `observe` sees every trial run (its checkpoint also reaches the policies);
// `jobs` as for run_serving.
std::vector<FrontierPoint> slo_frontier(const Experiment& experiment,
                                        const PolicyRegistry& registry,
                                        const ServingObservers& observe = {}, int jobs = 1);

}  // namespace vibesim
