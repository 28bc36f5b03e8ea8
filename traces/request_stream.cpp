#include "traces/request_stream.h"

#include <cmath>
#include <random>

#include <fmt/format.h>

#include "base/random_engine.h"
#include "io/config_error.h"
#include "io/config_object.h"
#include "traces/arrival_process.h"
#include "traces/length_sampler.h"

namespace vibesim {

std::vector<Request> generate_requests(const RequestStreamSpec& spec, double rate_per_s,
                                       std::uint64_t seed,
                                       const std::vector<Request>& trace_lengths) {
  RandomEngine rng(seed);
  const auto arrivals = make_arrival_process(spec.source, rate_per_s, spec.burstiness_cv);
  const auto lengths = make_length_sampler(spec.lengths, trace_lengths);
  std::vector<Request> out;
  out.reserve(static_cast<std::size_t>(spec.count));
  double t_s = 0;
  for (std::int64_t i = 0; i < spec.count; ++i) {
    if (t_s * 1e3 > kMaxArrivalSpanMs)
      throw InputError(
          fmt::format("serving.requests: {} requests at {} per s would arrive over more than {} ms",
                      spec.count, rate_per_s, kMaxArrivalSpanMs));
    Request r;
    r.id = i;
    r.arrival = SimTime::from_ns(static_cast<std::int64_t>(std::llround(t_s * 1e9)));
    t_s += arrivals->next_gap_s(rng);
    const auto l = lengths->next(rng);
    r.input_tokens = l.input_tokens;
    r.output_tokens = l.output_tokens;
    out.push_back(r);
  }
  return out;
}

RequestLengthSpec RequestLengthSpec::parse(ConfigObject& c) {
  RequestLengthSpec s;
  s.kind = c.choice("kind", kLengthDistributions);
  if (s.kind == LengthDistribution::kFixed) {
    s.input_tokens = c.integer_or("input_tokens", s.input_tokens, 1, kMaxRequestTokens);
    s.output_tokens = c.integer_or("output_tokens", s.output_tokens, 1, kMaxRequestTokens);
  } else if (s.kind == LengthDistribution::kTrace) {
    s.trace = c.file("path");
  }
  c.finish();
  return s;
}

nlohmann::ordered_json RequestLengthSpec::to_json() const {
  nlohmann::ordered_json out = {{"kind", name_of(kLengthDistributions, kind)}};
  if (kind == LengthDistribution::kFixed) {
    out["input_tokens"] = input_tokens;
    out["output_tokens"] = output_tokens;
  } else if (kind == LengthDistribution::kTrace) {
    out["path"] = trace.to_json();
  }
  return out;
}

RequestStreamSpec RequestStreamSpec::parse(ConfigObject& c) {
  RequestStreamSpec s;
  s.source = c.choice("source", kRequestSources);
  if (s.source == RequestSource::kTrace) {
    s.trace = c.file("path");
    s.count = c.integer_or("count", 0, 0, 10'000'000);
  } else {
    s.rate_per_gpu = c.number("rate_per_gpu", 1e-6, 1e6);
    s.count = c.integer_or("count", s.count, 1, 10'000'000);
    if (s.source == RequestSource::kGamma)
      s.burstiness_cv = c.number_or("burstiness_cv", s.burstiness_cv, 0.05, 100);
    auto lengths = c.object("lengths");
    s.lengths = RequestLengthSpec::parse(lengths);
  }
  c.finish();
  return s;
}

nlohmann::ordered_json RequestStreamSpec::to_json() const {
  nlohmann::ordered_json out = {{"source", name_of(kRequestSources, source)}};
  if (source == RequestSource::kTrace) {
    out["path"] = trace.to_json();
    if (count > 0) out["count"] = count;
    return out;
  }
  out["rate_per_gpu"] = rate_per_gpu;
  out["count"] = count;
  if (source == RequestSource::kGamma) out["burstiness_cv"] = burstiness_cv;
  out["lengths"] = lengths.to_json();
  return out;
}

}  // namespace vibesim
