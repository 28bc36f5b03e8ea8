#include "sim/serving_metrics.h"

#include <algorithm>
#include <limits>

#include "base/statistics.h"

namespace vibesim {

namespace {

Percentiles percentiles(std::vector<double> values) {
  if (values.empty()) return {};
  std::sort(values.begin(), values.end());
  return {quantile_sorted(values, 0.5), quantile_sorted(values, 0.9),
          quantile_sorted(values, 0.99)};
}

}  // namespace

ServingMetrics::ServingMetrics(const ServingSpec& spec, std::string policy, const RequestSink& sink)
    : spec_(spec), policy_(std::move(policy)), sink_(sink) {}

void ServingMetrics::finished(const Sequence& q, SimTime end) {
  // A request asking for no output still runs its prefill; it generated nothing.
  const std::int64_t generated = q.request->output_tokens == 0 ? 0 : q.generated;
  RequestRecord rec{q.request, q.first_token, end, generated, false};
  rec.slo_met = rec.ttft_ms() <= spec_.slo_ttft_ms && rec.tpot_ms() <= spec_.slo_tpot_ms;
  ttft_ms_.push_back(rec.ttft_ms());
  arrival_ms_.push_back(static_cast<double>(q.request->arrival.ns()) * 1e-6);
  tpot_ms_.push_back(rec.tpot_ms());
  e2e_ms_.push_back(rec.e2e_ms());
  output_tokens_ += generated;
  met_ += rec.slo_met ? 1 : 0;
  met_ttft_ += rec.ttft_ms() <= spec_.slo_ttft_ms ? 1 : 0;
  met_tpot_ += rec.tpot_ms() <= spec_.slo_tpot_ms ? 1 : 0;
  if (sink_) sink_(policy_, rec);
}

std::vector<TtftAroundEvent> ServingMetrics::ttft_p90_around(
    const std::vector<RecalibrationEvent>& events) const {
  std::vector<TtftAroundEvent> out;
  for (const auto& e : events) {
    std::vector<double> before, after;
    for (std::size_t i = 0; i < ttft_ms_.size(); ++i) {
      const double dt = arrival_ms_[i] - e.at_ms;
      if (dt >= -kRecalibrationWindowMs && dt < 0) before.push_back(ttft_ms_[i]);
      if (dt >= 0 && dt < kRecalibrationWindowMs) after.push_back(ttft_ms_[i]);
    }
    const auto p90 = [](std::vector<double>& v) {
      return v.empty() ? std::numeric_limits<double>::quiet_NaN() : quantile(v, 0.9);
    };
    out.push_back({p90(before), p90(after), static_cast<std::int64_t>(before.size()),
                   static_cast<std::int64_t>(after.size())});
  }
  return out;
}

ServingSummary ServingMetrics::summary(SimTime start, SimTime end) const {
  ServingSummary s;
  s.policy = policy_;
  s.requests = static_cast<std::int64_t>(ttft_ms_.size());
  s.ttft_ms = percentiles(ttft_ms_);
  s.tpot_ms = percentiles(tpot_ms_);
  s.e2e_ms = percentiles(e2e_ms_);
  s.duration_s = (end - start).seconds();
  const auto fraction = [&](std::int64_t met) {
    return s.requests > 0 ? static_cast<double>(met) / static_cast<double>(s.requests) : 0.0;
  };
  s.slo_attainment = fraction(met_);
  s.ttft_attainment = fraction(met_ttft_);
  s.tpot_attainment = fraction(met_tpot_);
  if (s.duration_s > 0) {
    s.goodput_rps = static_cast<double>(met_) / s.duration_s;
    s.throughput_tokens_per_s = static_cast<double>(output_tokens_) / s.duration_s;
    s.requests_per_s = static_cast<double>(s.requests) / s.duration_s;
  }
  return s;
}

}  // namespace vibesim
