#pragma once
// Per-request metrics of a serving run as requests finish: TTFT, TPOT and
// end-to-end latency, SLO attainment, goodput and throughput.
#include <cstdint>
#include <string>
#include <vector>

#include "base/sim_time.h"
#include "sim/batch_scheduler.h"
#include "sim/serving_loop.h"

namespace vibesim {

class ServingMetrics {
 public:
  // `sink` (may be empty) sees each request as it finishes.
  ServingMetrics(const ServingSpec& spec, std::string policy, const RequestSink& sink);

  void finished(const Sequence& sequence, SimTime end);
  // The summary of a run from `start` (first arrival) to `end`; the time
  // breakdown and recalibration totals come from the caller.
  [[nodiscard]] ServingSummary summary(SimTime start, SimTime end) const;
  // TTFT P90 of the requests arriving within kRecalibrationWindowMs before
  // and after each event.
  [[nodiscard]] std::vector<TtftAroundEvent> ttft_p90_around(
      const std::vector<RecalibrationEvent>& events) const;

 private:
  const ServingSpec& spec_;
  std::string policy_;
  const RequestSink& sink_;
  std::vector<double> ttft_ms_, tpot_ms_, e2e_ms_;
  std::vector<double> arrival_ms_;  // parallel to ttft_ms_
  std::int64_t met_ = 0, met_ttft_ = 0, met_tpot_ = 0, output_tokens_ = 0;
};

}  // namespace vibesim
